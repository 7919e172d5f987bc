package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/synctest"
)

// rosterStep makes one random change of the roster on the server, as the
// township office does (the roster is the office's): it gives a group to
// another group cadre (editing the assignment, or ending it and making a new
// one), moves a household to another group (in the village or the other
// one), ends a pairing or pairs a cadre with a household, has the other
// village's group cadre (who has no device) help a household of the village
// or stop, or ends his group there and makes it anew (the team leader's
// tablet reads that duty, without the other village, while he helps here),
// adds a member to a household or removes one, or revokes a device and
// enrols it again. It returns what it did.
func rosterStep(t *testing.T, rng *rand.Rand, srv *synctest.Server, w *synctest.World, devs []*synctest.Device) string {
	t.Helper()
	db := srv.DB
	put := func(recs ...domain.Record) {
		t.Helper()
		if err := db.Put(w.Admin, recs...); err != nil {
			t.Fatal(err)
		}
	}
	del := func(kind domain.Kind, id uuid.UUID) {
		t.Helper()
		if err := db.Delete(w.Admin, kind, id); err != nil {
			t.Fatal(err)
		}
	}
	var assignments []*domain.Assignment
	db.Each(domain.KindAssignment, func(r domain.Record) error {
		assignments = append(assignments, r.(*domain.Assignment))
		return nil
	})
	var households []*domain.Household
	db.Each(domain.KindHousehold, func(r domain.Record) error {
		households = append(households, r.(*domain.Household))
		return nil
	})
	cadres := []*domain.Cadre{w.Cadre1, w.Cadre2}
	switch p := rng.IntN(100); {
	case p < 25:
		g := []*domain.Place{w.G1, w.G2}[rng.IntN(2)]
		to := cadres[rng.IntN(2)].ID
		for _, a := range assignments {
			if a.Role != domain.GroupCadre || a.Target != g.ID {
				continue
			}
			if rng.IntN(2) == 0 {
				a.Cadre = to
				put(a)
				return "group reassigned"
			}
			del(domain.KindAssignment, a.ID)
			put(&domain.Assignment{Cadre: to, Role: domain.GroupCadre, Target: g.ID, Since: time.Now().Truncate(24 * time.Hour)})
			return "group assignment ended and made anew"
		}
		put(&domain.Assignment{Cadre: to, Role: domain.GroupCadre, Target: g.ID, Since: time.Now().Truncate(24 * time.Hour)})
		return "group assigned"
	case p < 45:
		h := households[rng.IntN(len(households))]
		h.Group = []*domain.Place{w.G1, w.G2, w.G2, w.G1, w.G3}[rng.IntN(5)].ID
		put(h)
		return "household moved"
	case p < 60:
		var pairings []*domain.Assignment
		for _, a := range assignments {
			if a.Role.IsPairing() {
				pairings = append(pairings, a)
			}
		}
		if len(pairings) > 0 && rng.IntN(2) == 0 {
			del(domain.KindAssignment, pairings[rng.IntN(len(pairings))].ID)
			return "pairing ended"
		}
		h := households[rng.IntN(len(households))]
		put(&domain.Assignment{Cadre: cadres[rng.IntN(2)].ID, Role: domain.Helper, Target: h.ID, Since: time.Now().Truncate(24 * time.Hour)})
		return "pairing added"
	case p < 78:
		var members []*domain.Member
		db.Each(domain.KindMember, func(r domain.Record) error {
			members = append(members, r.(*domain.Member))
			return nil
		})
		if len(members) > 0 && rng.IntN(3) == 0 {
			del(domain.KindMember, members[rng.IntN(len(members))].ID)
			return "member removed"
		}
		h := households[rng.IntN(len(households))]
		put(&domain.Member{Household: h.ID, Name: fmt.Sprintf("成员%d", rng.IntN(1000)), Relation: "子",
			Gender: "男", BirthYear: 1990 + rng.IntN(30), Work: "务农"})
		return "member added"
	case p < 85:
		today := time.Now().Truncate(24 * time.Hour)
		c3 := w.Cadre3.ID
		if rng.IntN(2) == 0 {
			for _, a := range assignments {
				if a.Cadre == c3 && a.Role == domain.GroupCadre && a.Target == w.G3.ID && a.Current() {
					a.End(today, "帮扶力量调整")
					put(a, &domain.Assignment{Cadre: c3, Role: domain.GroupCadre, Target: w.G3.ID, Since: today})
					return "other village's group ended and made anew"
				}
			}
		}
		for _, a := range assignments {
			if a.Cadre == c3 && a.Role.IsPairing() {
				del(domain.KindAssignment, a.ID)
				return "other village's group cadre stops helping"
			}
		}
		var here []*domain.Household
		for _, h := range households {
			if h.Group == w.G1.ID || h.Group == w.G2.ID {
				here = append(here, h)
			}
		}
		if len(here) == 0 {
			return "none"
		}
		put(&domain.Assignment{Cadre: c3, Role: domain.Helper, Target: here[rng.IntN(len(here))].ID, Since: today})
		return "other village's group cadre helps here"
	default:
		d := devs[rng.IntN(len(devs))]
		reenrol(t, srv, d)
		return "device enrolled again"
	}
}

// reenrol enrols d again with a new code for its cadre (a phone set up
// afresh by the office), retrying through the faults (a code is used up by
// an enrolment whose answer was lost); the new token replaces the old one.
// A revoked device ID never enrols again (see server.BoltRegistry.Enroll): revocation,
// and a lost device wiping itself, are tested in sync/server and app.
func reenrol(t *testing.T, srv *synctest.Server, d *synctest.Device) {
	t.Helper()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := d.Client.Enroll(ctx, srv.URL, srv.Code(t, d.Cadre), d.Name)
		cancel()
		if err == nil {
			return
		}
		if i == 30 {
			t.Fatalf("enrol %s again: %v", d.Name, err)
		}
	}
}

// heldHouseholds returns the live households a device holds: those its
// cadre edits, in scope or not any more (edits of the latter are refused).
func heldHouseholds(d *synctest.Device) []*domain.Household {
	var out []*domain.Household
	d.DB.Each(domain.KindHousehold, func(r domain.Record) error {
		// One whose group the device does not hold (moved to another
		// village) is in none of its lists.
		if _, err := d.DB.Get(domain.KindPlace, r.(*domain.Household).Group); err == nil {
			out = append(out, r.(*domain.Household))
		}
		return nil
	})
	return out
}

// rosterSees works out by hand, from the server's final roster, what the
// device of cadre should hold: the households of its groups and pairings, or
// of every group of the village it leads; and the places of the villages
// where it has any of those, with their town, and the city.
func rosterSees(t *testing.T, db *store.DB, w *synctest.World, cadre uuid.UUID) sees {
	t.Helper()
	groups := map[uuid.UUID]bool{}
	paired := map[uuid.UUID]bool{}
	villages := map[uuid.UUID]bool{}
	whole := map[uuid.UUID]bool{}   // villages it reads whole
	pairers := map[uuid.UUID]bool{} // cadres with a duty in those
	villageOf := map[uuid.UUID]uuid.UUID{w.G1.ID: w.Village.ID, w.G2.ID: w.Village.ID, w.G3.ID: w.Village2.ID}
	group := map[uuid.UUID]uuid.UUID{}
	db.Each(domain.KindHousehold, func(r domain.Record) error {
		group[r.Metadata().ID] = r.(*domain.Household).Group
		return nil
	})
	db.Each(domain.KindAssignment, func(r domain.Record) error {
		a := r.(*domain.Assignment)
		if a.Cadre != cadre {
			return nil
		}
		switch {
		case a.Role == domain.GroupCadre:
			groups[a.Target] = true
			villages[villageOf[a.Target]] = true
		case a.Role.IsPairing():
			paired[a.Target] = true
			villages[villageOf[group[a.Target]]] = true
		case a.Target == w.Village.ID:
			groups[w.G1.ID], groups[w.G2.ID] = true, true
			villages[w.Village.ID] = true
			whole[w.Village.ID] = true
		}
		return nil
	})
	s := sees{households: map[uuid.UUID]bool{}, places: map[uuid.UUID]bool{w.City.ID: true},
		cadres: map[uuid.UUID]bool{cadre: true}}
	for h, g := range group {
		if groups[g] || paired[h] {
			s.households[h] = true
		}
	}
	for g, v := range villageOf {
		if villages[v] {
			s.places[v], s.places[g], s.places[w.Town.ID] = true, true, true
		}
	}
	// The cadres it needs: those with a duty in its villages (at the
	// village, a group, a household of it) and in its town itself.
	db.Each(domain.KindAssignment, func(r domain.Record) error {
		a := r.(*domain.Assignment)
		v := a.Target
		if g, ok := group[v]; ok {
			v = g
		}
		if x, ok := villageOf[v]; ok {
			v = x
		}
		if villages[v] || (a.Target == w.Town.ID && len(villages) > 0) {
			s.cadres[a.Cadre] = true
		}
		if whole[v] {
			pairers[a.Cadre] = true
		}
		return nil
	})
	s.pairsOf = pairers
	return s
}

// checkScopes checks, with the server's own rules (server.Readable), that
// every device holds exactly the records of its current scope, each with the
// server's values, stamps and authors, besides those it keeps for changes
// its user has still to see refused.
func checkScopes(t *testing.T, srv *store.DB, devs []*synctest.Device) int {
	t.Helper()
	total := 0
	for _, d := range devs {
		readable, keep := scopeOf(t, srv, d)
		n, diffs, err := synctest.CheckScope(srv, d.DB, readable, keep)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		for i, s := range diffs {
			if i == 10 {
				t.Errorf("%s: … %d more", d.Name, len(diffs)-10)
				break
			}
			t.Errorf("%s: %s", d.Name, s)
		}
	}
	return total
}
