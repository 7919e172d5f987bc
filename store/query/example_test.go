package query_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// List a group cadre's households, overdue first.
func ExampleMyHouseholds() {
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

	rows, err := query.MyHouseholds(db, cadre.ID, now)
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
