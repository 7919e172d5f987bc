package store_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

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
