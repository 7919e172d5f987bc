package query

import (
	"sort"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// ConflictRow is a value lost to a concurrent edit, with what a team leader
// needs to choose.
type ConflictRow struct {
	Conflict      *domain.Conflict
	Household     *HouseholdRow // nil for roster records
	Winner, Loser *domain.Cadre // the authors, nil if unknown
}

// Conflicts returns the conflicts of a village (uuid.Nil: everywhere), only
// the unresolved ones if open, else all of them, oldest first. Conflicts on
// roster records (places, cadres, assignments: no household) are listed for
// every village, since a team leader is the one to settle them.
func Conflicts(db *store.DB, village uuid.UUID, open bool) ([]ConflictRow, error) {
	var out []ConflictRow
	now := db.Now() // for the household rows' days since the last visit
	err := view(db, func(r *reader) error {
		var cs []*domain.Conflict
		if open {
			scanRecords(r, "conflict_open", nil, domain.KindConflict, 0, func(rec domain.Record) {
				cs = append(cs, rec.(*domain.Conflict))
			})
		} else {
			if err := r.tx.Each(domain.KindConflict, func(rec domain.Record) error {
				cs = append(cs, rec.(*domain.Conflict))
				return nil
			}); err != nil {
				return err
			}
			sort.SliceStable(cs, func(i, j int) bool {
				if !cs[i].Created.Equal(cs[j].Created) {
					return cs[i].Created.Before(cs[j].Created)
				}
				return string(cs[i].ID[:]) < string(cs[j].ID[:])
			})
		}
		for _, c := range cs {
			cr := ConflictRow{Conflict: c, Winner: r.cadre(c.WinnerAuthor), Loser: r.cadre(c.LoserAuthor)}
			if c.Household != uuid.Nil {
				h := r.household(c.Household)
				if h == nil {
					continue // the household is gone: nothing left to decide
				}
				if village != uuid.Nil && r.villageOf(h.Group) != village {
					continue
				}
				row := r.row(h, now)
				cr.Household = &row
			}
			out = append(out, cr)
		}
		return nil
	})
	return out, err
}
