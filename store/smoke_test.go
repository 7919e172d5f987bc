package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	a, err := store.Open(dir+"/a.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(dir+"/b.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(dir+"/a.db", &store.Options{Timeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("second open succeeded")
	} else {
		t.Log(err)
	}
	author := uuid.New()
	city := &domain.Place{Level: domain.City, Name: "临夏市"}
	town := &domain.Place{Level: domain.Town, Name: "枹罕镇"}
	if err := a.Put(author, city); err != nil {
		t.Fatal(err)
	}
	town.Parent = city.ID
	vil := &domain.Place{Level: domain.Village, Name: "王坪村"}
	grp := &domain.Place{Level: domain.Group, Name: "一社"}
	if err := a.Put(author, town); err != nil {
		t.Fatal(err)
	}
	vil.Parent = town.ID
	if err := a.Put(author, vil); err != nil {
		t.Fatal(err)
	}
	grp.Parent = vil.ID
	h := &domain.Household{HeadName: "王兴文", Status: domain.Registered, Size: 4, Farmland: 6.2}
	if err := a.Put(author, grp); err != nil {
		t.Fatal(err)
	}
	h.Group = grp.ID
	if err := a.Put(author, h); err != nil {
		t.Fatal(err)
	}
	// ship a's log to b
	out, _ := a.Outbox(uuid.Nil, 0, 0)
	var chs []domain.Change
	for _, e := range out {
		chs = append(chs, e.Change)
	}
	rej, err := b.Apply(a.Device(), chs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rej {
		if r != nil {
			t.Fatal(r)
		}
	}
	// concurrent edits
	ha, _ := a.Get(domain.KindHousehold, h.ID)
	hb, _ := b.Get(domain.KindHousehold, h.ID)
	ha.(*domain.Household).Phone = "13800000001"
	hb.(*domain.Household).Phone = "13900000002"
	if err := a.Put(author, ha); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(author, hb); err != nil {
		t.Fatal(err)
	}
	seqA, _ := a.LastSeq()
	seqB, _ := b.LastSeq()
	oa, _ := a.Outbox(uuid.Nil, seqA-1, 0)
	ob, _ := b.Outbox(uuid.Nil, seqB-1, 0)
	b.Apply(a.Device(), []domain.Change{oa[0].Change})
	a.Apply(b.Device(), []domain.Change{ob[0].Change})
	fa, _ := a.Get(domain.KindHousehold, h.ID)
	fb, _ := b.Get(domain.KindHousehold, h.ID)
	if fa.(*domain.Household).Phone != fb.(*domain.Household).Phone {
		t.Fatalf("diverged %s %s", fa.(*domain.Household).Phone, fb.(*domain.Household).Phone)
	}
	var ca, cb []string
	a.Each(domain.KindConflict, func(r domain.Record) error { ca = append(ca, r.Metadata().ID.String()+string(r.(*domain.Conflict).Loser)); return nil })
	b.Each(domain.KindConflict, func(r domain.Record) error { cb = append(cb, r.Metadata().ID.String()+string(r.(*domain.Conflict).Loser)); return nil })
	t.Log(ca, cb)
	if len(ca) != 1 || len(cb) != 1 || ca[0] != cb[0] {
		t.Fatalf("conflicts %v %v", ca, cb)
	}
	v := &domain.Visit{Household: uuid.New(), Cadre: author, At: time.Now(), Type: domain.VisitRoutine, Notes: "x"}
	if err := a.Put(author, v); err == nil {
		t.Fatal("visit to unknown household accepted")
	} else {
		t.Log(err)
	}
}
