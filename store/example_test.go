package store_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Open a store, save a village's places and a household in one transaction,
// and read the household back.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "bangfu-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := store.Open(filepath.Join(dir, "bangfu.db"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	office := uuid.New() // the cadre entering the roster
	city := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.City, Name: "临夏市"}
	town := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.Town, Name: "枹罕镇", Parent: city.ID}
	village := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.Village, Name: "王坪村", Parent: town.ID}
	group := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.Group, Name: "一社", Parent: village.ID}
	h := &domain.Household{HeadName: "王兴文", Group: group.ID, Status: domain.Registered, Size: 4, Farmland: 6.2}
	// Parents first: each record is checked against those before it.
	if err := db.Put(office, city, town, village, group, h); err != nil {
		log.Fatal(err)
	}

	rec, err := db.Get(domain.KindHousehold, h.ID) // Put gave h its ID
	if err != nil {
		log.Fatal(err)
	}
	got := rec.(*domain.Household)
	fmt.Println(got.HeadName, got.Size, "人", got.Farmland, "亩")

	// A bad record gets a message a cadre can read, and nothing is written.
	err = db.Put(office, &domain.Household{Group: group.ID, Status: domain.Registered, Size: 1})
	fmt.Println(domain.Message(err, "zh"))
	fmt.Println(domain.Message(err, "en"))
	// Output:
	// 王兴文 4 人 6.2 亩
	// 户主姓名不能为空
	// head of household must not be empty
}

// List a group cadre's households, overdue first.
func ExampleDB_MyHouseholds() {
	dir, err := os.MkdirTemp("", "bangfu-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	now := time.Date(2024, 6, 15, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	db, err := store.Open(filepath.Join(dir, "bangfu.db"), &store.Options{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	office := uuid.New()
	city := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.City, Name: "临夏市"}
	town := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.Town, Name: "枹罕镇", Parent: city.ID}
	village := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.Village, Name: "王坪村", Parent: town.ID}
	group := &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: domain.Group, Name: "一社", Parent: village.ID}
	cadre := &domain.Cadre{Meta: domain.Meta{ID: uuid.New()}, Name: "李建国", Rank: domain.RankOther}
	recs := []domain.Record{city, town, village, group, cadre,
		&domain.Assignment{Cadre: cadre.ID, Role: domain.GroupCadre, Target: group.ID}}
	visited := map[string]int{"王兴文": 3, "马玉兰": 35, "张海军": -1} // days ago; -1: never
	var households []*domain.Household
	for _, name := range []string{"王兴文", "马玉兰", "张海军"} {
		h := &domain.Household{Meta: domain.Meta{ID: uuid.New()}, HeadName: name, Group: group.ID, Status: domain.Registered, Size: 3}
		households = append(households, h)
		recs = append(recs, h)
		if d := visited[name]; d >= 0 {
			recs = append(recs, &domain.Visit{Household: h.ID, Cadre: cadre.ID, At: now.AddDate(0, 0, -d),
				Type: domain.VisitRoutine, Notes: "入户走访"})
		}
	}
	if err := db.Put(office, recs...); err != nil {
		log.Fatal(err)
	}

	rows, err := db.MyHouseholds(cadre.ID, now)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Printf("%s %s days=%d overdue=%v\n", r.HeadName, r.GroupName, r.DaysSince, r.Overdue)
	}
	// Output:
	// 张海军 一社 days=-1 overdue=true
	// 马玉兰 一社 days=35 overdue=true
	// 王兴文 一社 days=3 overdue=false
}
