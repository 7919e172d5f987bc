package e2e_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestDemoVillage: on the demo village (王坪村: 252 households, 1,140 people,
// six months of visits), the team leader's first sync brings the whole
// village and the demo group cadre's exactly the households the generator
// gave them; a visit recorded on the phone reaches the tablet.
func TestDemoVillage(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo village takes a few seconds")
	}
	dir := t.TempDir()
	now := time.Now()
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{}, nil)
	d := demo.Village(1, now)
	start := time.Now()
	if err := srv.DB.Put(d.TeamLeader.ID, d.Records()...); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo village written in %s: %d records", time.Since(start).Round(time.Millisecond), len(d.Records()))

	// What the group cadre should hold, from the generator's own data.
	groups := map[uuid.UUID]bool{}
	mine := map[uuid.UUID]bool{}
	for _, a := range d.Assignments {
		if a.Cadre != d.GroupCadre.ID {
			continue
		}
		if a.Role == domain.GroupCadre {
			groups[a.Target] = true
		} else if a.Role.IsPairing() {
			mine[a.Target] = true
		}
	}
	for _, h := range d.Households {
		if groups[h.Group] {
			mine[h.ID] = true
		}
	}
	visitsOf := func(hs map[uuid.UUID]bool) int {
		n := 0
		for _, v := range d.Visits {
			if hs == nil || hs[v.Household] {
				n++
			}
		}
		return n
	}

	start = time.Now()
	tablet := synctest.NewDevice(t, dir, "tablet", srv, d.TeamLeader.ID, client.Options{}, nil)
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	t.Logf("the team leader's first sync took %s", time.Since(start).Round(time.Millisecond))
	phone := synctest.NewDevice(t, dir, "phone", srv, d.GroupCadre.ID, client.Options{}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	count := func(db *store.DB, kind domain.Kind) int {
		n, err := db.Count(kind)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(tablet.DB, domain.KindHousehold); n != demo.WangpingHouseholds {
		t.Fatalf("the tablet holds %d households, want %d", n, demo.WangpingHouseholds)
	}
	if n := count(tablet.DB, domain.KindMember); n != demo.WangpingPeople {
		t.Fatalf("the tablet holds %d people, want %d", n, demo.WangpingPeople)
	}
	if n := count(tablet.DB, domain.KindVisit); n != visitsOf(nil) {
		t.Fatalf("the tablet holds %d visits, want %d", n, visitsOf(nil))
	}
	held := map[uuid.UUID]bool{}
	phone.DB.Each(domain.KindHousehold, func(r domain.Record) error { held[r.Metadata().ID] = true; return nil })
	if len(held) != len(mine) || len(mine) == 0 {
		t.Fatalf("the group cadre holds %d households, the generator gave them %d", len(held), len(mine))
	}
	for id := range mine {
		if !held[id] {
			t.Fatalf("the group cadre lacks household %s", id)
		}
	}
	if n := count(phone.DB, domain.KindVisit); n != visitsOf(mine) {
		t.Fatalf("the group cadre holds %d visits, want %d", n, visitsOf(mine))
	}

	var h uuid.UUID
	for id := range mine {
		h = id
		break
	}
	v := &domain.Visit{Household: h, Cadre: d.GroupCadre.ID, At: phone.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "演示：入户走访"}
	if err := phone.DB.Put(d.GroupCadre.ID, v); err != nil {
		t.Fatal(err)
	}
	for _, dev := range []*synctest.Device{phone, tablet} {
		if err := dev.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tablet.DB.Get(domain.KindVisit, v.ID); err != nil {
		t.Fatalf("the phone's visit did not reach the tablet: %v", err)
	}
	t.Logf("group cadre: %d households, %d visits; team leader: %d households, %d visits",
		len(mine), visitsOf(mine), demo.WangpingHouseholds, visitsOf(nil))
}
