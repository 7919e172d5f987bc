package store

import (
	"fmt"
	"sort"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
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
func (db *DB) Conflicts(village uuid.UUID, open bool) ([]ConflictRow, error) {
	var out []ConflictRow
	now := db.Now() // for the household rows' days since the last visit
	err := db.view(func(r *reader) error {
		var cs []*domain.Conflict
		if open {
			scanRecords(r, "conflict_open", nil, domain.KindConflict, 0, func(rec domain.Record) {
				cs = append(cs, rec.(*domain.Conflict))
			})
		} else {
			if err := each(r.tx, domain.KindConflict, func(rec domain.Record) error {
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

// ResolveConflict settles a conflict as author. If keepLoser, the lost value
// is written back to the record's field as a normal edit (validated, stamped,
// logged); otherwise the record keeps the winner's value. Either way the
// conflict is marked resolved, in the same transaction. Resolving a resolved
// conflict is an ECONFLICT error.
func (db *DB) ResolveConflict(author, conflict uuid.UUID, keepLoser bool) error {
	now := db.Now()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := load(tx, domain.KindConflict, conflict)
		if err != nil {
			return err
		}
		c := rec.(*domain.Conflict)
		if c.Resolved {
			return domain.Errorf(domain.ECONFLICT, "resolved", "该冲突已经处理过了", "the conflict has already been resolved")
		}
		if keepLoser {
			r, err := getRow(tx, c.RecordKind, c.Record)
			if err != nil {
				return err
			}
			if r == nil || (r.deleted() && c.Field != "deleted") {
				return notFound(c.RecordKind, c.Record) // nothing left to edit
			}
			f := r.fields()
			f[c.Field] = clone(c.Loser)
			target, err := domain.Decode(c.RecordKind, c.Record, f)
			if err != nil {
				return err
			}
			if err := db.put(tx, author, target, now); err != nil {
				return err
			}
		}
		c.Resolved = true
		c.ResolvedBy = author
		c.ResolvedAt = now
		if err := db.put(tx, author, c, now); err != nil {
			return err
		}
		return db.saveClock(tx)
	})
	if err != nil {
		return fmt.Errorf("store: resolve conflict %s: %w", short(conflict), err)
	}
	return nil
}
