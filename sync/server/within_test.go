package server

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

// TestWithinMatchesWholeWalk: for every cadre of a generated roster — a
// town, and a small prefecture of two towns — the fingerprint and units
// worked out by walking only where the cadre's scope reaches
// (store.DB.ScopeUnitsIn with scope.within) are those of the walk of every
// unit (store.DB.ScopeUnits), so no device sees a spurious catch-up when a
// server switches from one to the other. Then again after the roster
// changes in the ways an index does not follow: a group deleted with its
// households still in it, a household moved to another town's village, one
// moved out, a pairing in another town added and one deleted, a cadre
// deleted.
func TestWithinMatchesWholeWalk(t *testing.T) {
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		d    *demo.Data
	}{
		{"town", demo.Town(5, now, 700)},
		{"prefecture", demo.Prefecture(7, now, 2, 3, 60)},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// The kinds the fingerprint reads: places, cadres, households,
			// assignments.
			var recs []domain.Record
			for _, r := range d.Records() {
				switch r.Kind() {
				case domain.KindPlace, domain.KindCadre, domain.KindHousehold, domain.KindAssignment:
					recs = append(recs, r)
				}
			}
			admin := d.Cadres[0].ID
			if err := db.Put(admin, recs...); err != nil {
				t.Fatal(err)
			}
			seen := compareWalks(t, db, d.Cadres)
			// What the comparison went through: scopes that reach
			// households by ID and whole villages.
			if seen.byID == 0 || seen.villages == 0 {
				t.Fatalf("the roster does not exercise every kind of unit: %+v", seen)
			}

			// Changes no index follows.
			var group *domain.Place // a group of the first village, with households
			for _, p := range d.Places {
				if p.Level == domain.Group && slices.ContainsFunc(d.Households, func(h *domain.Household) bool { return h.Group == p.ID }) {
					group = p
					break
				}
			}
			other := d.Households[len(d.Households)-1] // the last village's
			var paired *domain.Household               // one of the first group's, paired
			for _, a := range d.Assignments {
				if a.Role.IsPairing() {
					if h := household(d, a.Target); h != nil && h.Group == group.ID {
						paired = h
						break
					}
				}
			}
			if group == nil || paired == nil {
				t.Fatal("no group with a paired household")
			}
			if other.Group == group.ID {
				t.Fatal("the last household is in the first group")
			}
			dead := *group
			dead.Deleted = true
			var first []*domain.Household // the first households but the paired one
			for _, h := range d.Households[:3] {
				if h.ID != paired.ID {
					first = append(first, h)
				}
			}
			moved := *first[0]
			moved.Group = other.Group
			out := *first[1]
			out.Exit, out.ExitOn = domain.MovedOut, now.AddDate(0, 0, -3)
			// A cadre of the first village paired in the last village: a
			// pairing the first village's team leader reads without its
			// household; and one deleted.
			var villager uuid.UUID
			for _, a := range d.Assignments {
				if a.Role == domain.GroupCadre && a.Target == group.ID {
					villager = a.Cadre
				}
			}
			cross := &domain.Assignment{Cadre: villager, Role: domain.Helper, Target: other.ID, Since: now.AddDate(0, -1, 0)}
			gone := &domain.Assignment{Cadre: villager, Role: domain.PairSection, Target: d.Households[len(d.Households)-2].ID, Since: now.AddDate(0, -2, 0)}
			if err := db.Put(admin, &moved, &out, cross, gone); err != nil {
				t.Fatal(err)
			}
			gone.Deleted = true
			quit := *d.Cadres[len(d.Cadres)-1]
			quit.Deleted = true
			if err := db.Put(admin, gone, &quit, &dead); err != nil {
				t.Fatal(err)
			}
			if seen = compareWalks(t, db, d.Cadres); seen.cross == 0 {
				t.Fatalf("no scope holds a pairing without its household: %+v", seen)
			}
		})
	}
}

func household(d *demo.Data, id uuid.UUID) *domain.Household {
	for _, h := range d.Households {
		if h.ID == id {
			return h
		}
	}
	return nil
}

type walkCounts struct{ byID, villages, cross, all int }

// compareWalks checks, for each cadre's scope as a sync works it out, that
// both walks agree, and counts what the scopes held.
func compareWalks(t *testing.T, db *store.DB, cadres []*domain.Cadre) walkCounts {
	t.Helper()
	var n walkCounts
	for _, c := range cadres {
		reach, err := db.Reach(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		sc := newScope(c.ID, uuid.Nil, reach, nil)
		sc.loadStaff = db.Staff
		sc.loadStaffNow()
		if sc.staffErr != nil {
			t.Fatal(sc.staffErr)
		}
		in, narrow := sc.within()
		if !narrow {
			n.all++
			continue
		}
		if len(sc.households) > 0 {
			n.byID++
		}
		if len(sc.villages) > 0 {
			n.villages++
		}
		print, last, units, err := db.ScopeUnits(sc.readable)
		if err != nil {
			t.Fatal(err)
		}
		fprint, flast, funits, err := db.ScopeUnitsIn(in, sc.readable)
		if err != nil {
			t.Fatal(err)
		}
		if fprint != print || flast != last || !slices.Equal(funits, units) {
			t.Fatalf("%s: the walk within the scope gives %s (%d units, last %d), the whole walk %s (%d units, last %d)",
				c.Name, fprint, len(funits), flast, print, len(units), last)
		}
		pprint, plast, err := db.ScopePrintIn(in, sc.readable)
		if err != nil {
			t.Fatal(err)
		}
		if pprint != print || plast != last {
			t.Fatalf("%s: ScopePrintIn gives %s, ScopeUnits %s", c.Name, pprint, print)
		}
		for _, u := range units {
			if sc.pairings[u] {
				n.cross++
				break
			}
		}
	}
	return n
}

// BenchmarkScopeUnits is the fingerprint every sync works out, for a group
// cadre and for a village's team leader of a generated town of 5,000
// households (the kinds the fingerprint reads): walking every unit
// (store.DB.ScopeUnits) and only where the scope reaches (ScopeUnitsIn, what
// the server does).
func BenchmarkScopeUnits(b *testing.B) {
	d := demo.Town(3, time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), 5000)
	db, err := store.Open(filepath.Join(b.TempDir(), "server.db"), &store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var recs []domain.Record
	for _, r := range d.Records() {
		switch r.Kind() {
		case domain.KindPlace, domain.KindCadre, domain.KindHousehold, domain.KindAssignment:
			recs = append(recs, r)
		}
	}
	if err := db.Put(d.Cadres[0].ID, recs...); err != nil {
		b.Fatal(err)
	}
	for _, who := range []struct {
		name  string
		cadre uuid.UUID
	}{{"group-cadre", d.GroupCadre.ID}, {"team-leader", d.TeamLeader.ID}} {
		reach, err := db.Reach(who.cadre)
		if err != nil {
			b.Fatal(err)
		}
		sc := newScope(who.cadre, uuid.Nil, reach, nil)
		sc.loadStaff = db.Staff
		sc.loadStaffNow()
		in, _ := sc.within()
		for _, walk := range []struct {
			name string
			fn   func() ([]uuid.UUID, error)
		}{
			{"whole", func() ([]uuid.UUID, error) { _, _, us, err := db.ScopeUnits(sc.readable); return us, err }},
			{"within", func() ([]uuid.UUID, error) { _, _, us, err := db.ScopeUnitsIn(in, sc.readable); return us, err }},
		} {
			b.Run(who.name+"/"+walk.name, func(b *testing.B) {
				units := 0
				for b.Loop() {
					us, err := walk.fn()
					if err != nil {
						b.Fatal(err)
					}
					units = len(us)
				}
				b.ReportMetric(float64(units), "units")
			})
		}
	}
}
