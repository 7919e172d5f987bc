package store

import (
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
)

// Location is where a record belongs in the hierarchy (replica.Location).
type Location = replica.Location

// locate returns where rec belongs, reading the places and households it
// points at from tx but taking rec itself as given (it may not be stored yet).
func locate(tx *bolt.Tx, rec domain.Record) Location {
	switch r := rec.(type) {
	case *domain.Household:
		l := groupLocation(tx, r.Group)
		l.Household = r.ID
		return l
	case *domain.Place:
		var l Location
		l.Village, l.Town = placeScope(tx, r)
		if r.Level == domain.Group {
			l.Group = r.ID
		}
		return l
	case *domain.Assignment:
		if r.Role.IsPairing() {
			return householdLocation(tx, r.Target)
		}
		p, err := loadPlace(tx, r.Target)
		if err != nil {
			return Location{}
		}
		return locate(tx, p)
	case *domain.Cadre:
		return Location{}
	}
	if h := domain.HouseholdOf(rec); h != uuid.Nil {
		return householdLocation(tx, h)
	}
	return Location{}
}

// householdLocation returns the location of the stored household id; only the
// household is known when it is not stored.
func householdLocation(tx *bolt.Tx, id uuid.UUID) Location {
	if r, err := getRow(tx, domain.KindHousehold, id); err == nil && r != nil {
		if rec, err := r.record(domain.KindHousehold, id); err == nil {
			l := groupLocation(tx, rec.(*domain.Household).Group)
			l.Household = id
			return l
		}
	}
	return Location{Household: id}
}

// Locate returns where each of households is now: its group, village and
// town, deleted households included (a deleted household stays where it
// was). A household not stored is placed nowhere but itself.
func (db *DB) Locate(households []uuid.UUID) (map[uuid.UUID]Location, error) {
	out := make(map[uuid.UUID]Location, len(households))
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for _, id := range households {
			out[id] = householdLocation(tx, id)
		}
		return nil
	})
	return out, err
}

func groupLocation(tx *bolt.Tx, group uuid.UUID) Location {
	g, err := loadPlace(tx, group)
	if err != nil {
		return Location{Group: group}
	}
	return locate(tx, g)
}

// Assigned is one of a cadre's assignments, resolved against the roster
// (replica.Assigned).
type Assigned = replica.Assigned

// Reach returns the current assignments of cadre (an ended one gives no
// scope), each with where its target is and, for a group, the group's
// current households, for a village or a town the pairings and duties of
// its cadres outside it (pairingsOfPlace): what a server needs to work out
// a cadre's scope. Assignments whose target is
// missing are left out.
func (db *DB) Reach(cadre uuid.UUID) ([]Assigned, error) {
	var out []Assigned
	err := db.bolt.View(func(tx *bolt.Tx) error {
		t, err := db.newTx(tx)
		if err != nil {
			return err
		}
		pairings := map[uuid.UUID][]uuid.UUID{} // by place: a leader often holds two roles there
		var ids []uuid.UUID
		scan(tx, "assign_cadre", cadre[:], func(_ []byte, id uuid.UUID) bool {
			ids = append(ids, id)
			return true
		})
		for _, id := range ids {
			rec, err := load(tx, domain.KindAssignment, id)
			if err != nil {
				continue
			}
			a := rec.(*domain.Assignment)
			if a.Cadre != cadre || !a.Current() {
				continue
			}
			x := Assigned{Role: a.Role, Target: a.Target}
			if a.Role.IsPairing() {
				if _, err := load(tx, domain.KindHousehold, a.Target); err != nil {
					continue
				}
				x.Location = householdLocation(tx, a.Target)
			} else {
				p, err := loadPlace(tx, a.Target)
				if err != nil || p.Deleted {
					continue
				}
				x.Level, x.Location = p.Level, locate(tx, p)
				if p.Level == domain.Village || p.Level == domain.Town {
					if pairings[p.ID] == nil {
						pairings[p.ID] = t.pairingsOfPlace(p.ID, p.Level)
					}
					x.Pairings = pairings[p.ID]
				}
				if p.Level == domain.Group {
					scan(tx, "hh_group", p.ID[:], func(_ []byte, h uuid.UUID) bool {
						x.Households = append(x.Households, h)
						return true
					})
				}
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reach of cadre %s: %w", cadre, err)
	}
	return out, nil
}
