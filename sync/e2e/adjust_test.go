package e2e_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store/query"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestYearlyAdjustments replays three yearly rounds of adjusting the helpers
// (帮扶力量调整) on the demo village, across the demo group cadre's phone and
// the team leader's tablet. Each round the office ends a third of the
// village's pairings and pairs those households with other cadres, and
// swaps the phone's group with another group cadre's; the cadre records
// visits meanwhile. In the second round the phone is offline: its visits to
// the group it lost are set aside, the others reach the server. After every
// round each device holds exactly the records of its current scope with the
// server's values, and every visit the cadre recorded is on the server or
// kept on the phone.
func TestYearlyAdjustments(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo village takes a few seconds")
	}
	dir := t.TempDir()
	now := time.Now()
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{}, nil)
	d := demo.Village(1, now)
	if err := srv.DB.Put(d.TeamLeader.ID, d.Records()...); err != nil {
		t.Fatal(err)
	}
	tablet := synctest.NewDevice(t, dir, "tablet", srv, d.TeamLeader.ID, client.Options{}, nil)
	phone := synctest.NewDevice(t, dir, "phone", srv, d.GroupCadre.ID, client.Options{}, nil)
	devs := []*synctest.Device{tablet, phone}
	sync := func(ds ...*synctest.Device) {
		t.Helper()
		for _, dv := range ds {
			if err := dv.Sync(); err != nil {
				t.Fatalf("%s: %v", dv.Name, err)
			}
		}
	}
	sync(tablet, phone)
	checkScopes(t, srv.DB, devs)

	groupOf := func(cadre uuid.UUID) *domain.Assignment {
		as, err := query.Assignments(srv.DB, cadre)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Role == domain.GroupCadre {
				return a
			}
		}
		return nil
	}
	var others []uuid.UUID // the village's other group cadres
	for _, a := range d.Assignments {
		if a.Role == domain.GroupCadre && a.Cadre != d.GroupCadre.ID && !slices.Contains(others, a.Cadre) {
			others = append(others, a.Cadre)
		}
	}
	var visits []*domain.Visit // recorded on the phone
	for year := 1; year <= 3; year++ {
		offline := year == 2
		// The cadre's year of work: a visit to every household the phone
		// holds, half before the adjustment reaches it.
		var hs []*domain.Household
		phone.DB.Each(domain.KindHousehold, func(r domain.Record) error {
			hs = append(hs, r.(*domain.Household))
			return nil
		})
		if len(hs) == 0 {
			t.Fatalf("year %d: the phone holds no household", year)
		}
		for i, h := range hs {
			if i%2 == 1 {
				continue
			}
			v := &domain.Visit{Household: h.ID, Cadre: phone.Cadre, At: phone.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine,
				Notes: fmt.Sprintf("第%d年走访%s", year, h.HeadName)}
			if err := phone.DB.Put(phone.Cadre, v); err != nil {
				t.Fatal(err)
			}
			visits = append(visits, v)
		}
		if !offline {
			sync(phone)
		}

		// The office's adjustment: a third of the pairings end, the
		// households get new helpers; the phone's group goes to another
		// group cadre, whose group the phone's cadre takes.
		var pairings []*domain.Assignment
		srv.DB.Each(domain.KindAssignment, func(r domain.Record) error {
			if a := r.(*domain.Assignment); a.Role.IsPairing() {
				pairings = append(pairings, a)
			}
			return nil
		})
		slices.SortFunc(pairings, func(a, b *domain.Assignment) int { return slices.Compare(a.ID[:], b.ID[:]) })
		for i, a := range pairings {
			if i%3 != year%3 {
				continue
			}
			if err := srv.DB.Delete(d.TeamLeader.ID, domain.KindAssignment, a.ID); err != nil {
				t.Fatal(err)
			}
			next := others[(i+year)%len(others)]
			if next == a.Cadre {
				next = d.GroupCadre.ID
			}
			na := &domain.Assignment{Cadre: next, Role: a.Role, Target: a.Target, Since: now.AddDate(year, 0, 0)}
			if err := srv.DB.Put(d.TeamLeader.ID, na); err != nil {
				t.Fatal(err)
			}
		}
		mine, theirs := groupOf(d.GroupCadre.ID), groupOf(others[year%len(others)])
		mine.Cadre, theirs.Cadre = theirs.Cadre, mine.Cadre
		if err := srv.DB.Put(d.TeamLeader.ID, mine, theirs); err != nil {
			t.Fatal(err)
		}
		sync(tablet)
		if offline {
			// A year offline: more visits to the group it no longer has.
			for _, h := range hs[:3] {
				v := &domain.Visit{Household: h.ID, Cadre: phone.Cadre, At: phone.DB.Now().Add(-time.Minute), Type: domain.VisitRoutine,
					Notes: fmt.Sprintf("第%d年离线走访%s", year, h.HeadName)}
				if err := phone.DB.Put(phone.Cadre, v); err != nil {
					t.Fatal(err)
				}
				visits = append(visits, v)
			}
		}
		sync(phone, tablet, phone)
		checkScopes(t, srv.DB, devs)

		n := 0
		for _, h := range d.Households {
			if h.Group == theirs.Target {
				n++
				if _, err := phone.DB.Get(domain.KindHousehold, h.ID); err != nil {
					t.Fatalf("year %d: household %s of the new group: %v", year, h.HeadName, err)
				}
			}
		}
		st := phone.Client.Status()
		t.Logf("year %d: %d pairings, the phone's new group has %d households; the phone holds %d changes set aside", year, len(pairings), n, len(st.Rejected))
	}

	// Every visit recorded is on the server, or kept on the phone with the
	// reason it was refused.
	aside := map[uuid.UUID]bool{}
	for _, r := range phone.Client.Status().Rejected {
		aside[r.Record] = true
	}
	n := 0
	for _, v := range visits {
		if _, err := srv.DB.Get(domain.KindVisit, v.ID); err == nil {
			continue
		}
		n++
		if !aside[v.ID] {
			t.Errorf("visit %q is neither on the server nor set aside on the phone", v.Notes)
		} else if _, err := phone.DB.Get(domain.KindVisit, v.ID); err != nil {
			t.Errorf("visit %q set aside is not on the phone: %v", v.Notes, err)
		}
	}
	if n == 0 {
		t.Error("no visit of the offline year was set aside: the test did not test it")
	}
	t.Logf("%d visits recorded on the phone, %d set aside", len(visits), n)
}
