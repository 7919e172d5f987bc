package query

import (
	"sort"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Adjustment is one assignment in the history of a village's helpers
// (帮扶力量调整记录): who was responsible for what, since when, and when and
// why it ended (Assignment.Until, EndReason; zero while it holds).
type Adjustment struct {
	Assignment *domain.Assignment
	Cadre      *domain.Cadre     // nil if the replica does not hold the cadre
	Household  *domain.Household // the target of a pairing; nil for a place
	Place      *domain.Place     // the target of a place assignment; nil for a pairing
}

// TargetName returns the name of the adjustment's target: a head of
// household or a place.
func (a Adjustment) TargetName() string {
	switch {
	case a.Household != nil:
		return a.Household.HeadName
	case a.Place != nil:
		return a.Place.Name
	}
	return ""
}

// RosterHistory is the roster's history in a village: every assignment there,
// current and ended, and the households and cadres that left.
type RosterHistory struct {
	Adjustments []Adjustment        // by target name, then start, then creation
	Households  []*domain.Household // households that moved out, merged or are gone, by exit date
	Cadres      []*domain.Cadre     // cadres of those assignments who retired or were transferred, by name
}

// History returns the history of the roster of a village (uuid.Nil:
// everything the replica holds). Nothing in it is deleted; ended records are,
// which no other query returns.
func History(db *store.DB, village uuid.UUID) (*RosterHistory, error) {
	h := &RosterHistory{}
	err := view(db, func(r *reader) error {
		in := func(target uuid.UUID) (hh *domain.Household, p *domain.Place, ok bool) {
			if rec := r.get(domain.KindHousehold, target); rec != nil {
				hh = rec.(*domain.Household)
				return hh, nil, village == uuid.Nil || r.villageOf(hh.Group) == village
			}
			if p = r.place(target); p == nil {
				return nil, nil, false
			}
			return nil, p, village == uuid.Nil || p.ID == village || p.Parent == village
		}
		left := map[uuid.UUID]bool{}
		err := r.tx.Each(domain.KindAssignment, func(rec domain.Record) error {
			a := rec.(*domain.Assignment)
			hh, p, ok := in(a.Target)
			if !ok {
				return nil
			}
			adj := Adjustment{Assignment: a, Cadre: r.cadre(a.Cadre), Household: hh, Place: p}
			if adj.Cadre != nil && !adj.Cadre.Current() && !left[adj.Cadre.ID] {
				left[adj.Cadre.ID] = true
				h.Cadres = append(h.Cadres, adj.Cadre)
			}
			h.Adjustments = append(h.Adjustments, adj)
			return nil
		})
		if err != nil {
			return err
		}
		err = r.tx.Each(domain.KindHousehold, func(rec domain.Record) error {
			if hh := rec.(*domain.Household); !hh.Current() && (village == uuid.Nil || r.villageOf(hh.Group) == village) {
				h.Households = append(h.Households, hh)
			}
			return nil
		})
		sort.SliceStable(h.Adjustments, func(i, j int) bool {
			a, b := h.Adjustments[i], h.Adjustments[j]
			if c := compareNames(a.TargetName(), b.TargetName()); c != 0 {
				return c < 0
			}
			if !a.Assignment.Since.Equal(b.Assignment.Since) {
				return a.Assignment.Since.Before(b.Assignment.Since)
			}
			return a.Assignment.Created.Before(b.Assignment.Created)
		})
		sort.SliceStable(h.Households, func(i, j int) bool { return h.Households[i].ExitOn.Before(h.Households[j].ExitOn) })
		sortCadres(h.Cadres)
		return err
	})
	return h, err
}

// Coverage checks the seed's coverage rules (domain.CheckCoverage) for a
// village — its groups, the village itself and its town's lead — or, for
// uuid.Nil, every group, village and town the replica holds, with the share
// of each town's cadres stationed in its villages. A village's replica holds
// only part of its town's cadres, so the share is a town's figure: it is left
// out of a village's coverage.
func Coverage(db *store.DB, village uuid.UUID) (domain.Coverage, error) {
	var c domain.Coverage
	err := view(db, func(r *reader) error {
		ro, err := r.everything()
		if err != nil {
			return err
		}
		var places []*domain.Place
		q := r.tx.Rules(village).Quotas()
		if village == uuid.Nil {
			err = r.tx.Each(domain.KindPlace, func(rec domain.Record) error {
				places = append(places, rec.(*domain.Place))
				return nil
			})
		} else if v := r.place(village); v != nil {
			places = append(places, v)
			places = append(places, r.groupsOf(village)...)
			if t := r.place(v.Parent); t != nil {
				places = append(places, t)
			}
			q.Stationed = 0
		}
		c = domain.CheckCoverage(places, ro, q)
		return err
	})
	return c, err
}

// StatusRequests returns the households of a village (uuid.Nil: every one
// the replica holds) with a pending status request (domain.StatusRequest),
// oldest request first.
func StatusRequests(db *store.DB, village uuid.UUID) ([]*domain.Household, error) {
	var out []*domain.Household
	err := view(db, func(r *reader) error {
		return r.tx.Each(domain.KindHousehold, func(rec domain.Record) error {
			h := rec.(*domain.Household)
			if h.Request != nil && h.Current() && (village == uuid.Nil || r.villageOf(h.Group) == village) {
				out = append(out, h)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Request.At.Before(out[j].Request.At) })
	return out, err
}
