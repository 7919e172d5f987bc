package store

import (
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

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
