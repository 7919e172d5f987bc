package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Restamp fits this replica's unsent changes to an upstream's clock: a device
// calls it when the server has refused a push because some stamps were more
// than domain.MaxSkew ahead of serverNow (the device's clock ran fast). In one
// transaction it gives every change made here (From is uuid.Nil) after
// sequence after whose stamp is beyond serverNow+MaxSkew a new stamp, rewrites
// the record fields that still carry an old stamp and the bases of later edits
// that saw one, corrects the clock's offset by the measured difference, and
// sets the clock back to the last new stamp. Nobody else has seen those
// stamps, so this is safe. It returns the number of changes restamped.
//
// A new stamp is the old one moved by the measured difference (so edits keep
// the real-time order they were made in, as far as the skew was constant),
// but no later than serverNow and always after every stamp the replica holds
// that is not being restamped, and after the previous new stamp: an edit keeps
// beating every value it beat before, and edits keep their order. A conflict
// record made here for a value that lost to a restamped edit is rewritten as
// the upstream will make it on receiving the restamped edit (its creating
// change is derived from the winner's stamp), so the two are the same record.
func (db *DB) Restamp(after uint64, serverNow time.Time) (int, error) {
	limit := serverNow.Add(domain.MaxSkew).UnixMilli()
	var n int
	oldLast, oldOffset := db.clock.Last(), db.clock.Offset()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		shift := serverNow.Sub(db.clock.Wall())
		log := tx.Bucket(bucketLog)

		// The highest stamp that stays, and the entries to restamp.
		var floor domain.Stamp
		var todo []Entry
		c := log.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			e, err := openEntry(vaultOf(tx), binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if e.Seq > after && e.From == uuid.Nil && e.Change.Stamp.Wall > limit {
				todo = append(todo, e)
				continue
			}
			if e.Change.Stamp.Wall <= limit && e.Change.Stamp.After(floor) {
				floor = e.Change.Stamp
			}
		}
		if len(todo) == 0 {
			return nil
		}

		// New stamps, in log order.
		remap := map[domain.Stamp]domain.Stamp{}
		prev := floor
		for _, e := range todo {
			old := e.Change.Stamp
			if _, ok := remap[old]; ok {
				continue // a conflict made here shares its winner's stamp
			}
			wall := min(time.UnixMilli(old.Wall).Add(shift).UnixMilli(), serverNow.UnixMilli())
			next := domain.Stamp{Wall: wall, Device: db.device}
			if !next.After(prev) {
				next = domain.Stamp{Wall: prev.Wall, Logical: prev.Logical + 1, Device: db.device}
			}
			remap[old] = next
			prev = next
		}

		// Rewrite the log entries made here after `after`, their records and
		// the seen index. The log is written after the walk, which a write
		// would upset.
		type put struct{ k, v []byte }
		var puts []put
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			e, err := openEntry(vaultOf(tx), binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			if e.From != uuid.Nil {
				continue
			}
			changed := false
			for name, b := range e.Change.Base {
				if nb, ok := remap[b]; ok {
					e.Change.Base[name] = nb
					changed = true
				}
			}
			next, restamp := remap[e.Change.Stamp]
			if restamp {
				oldID := e.Change.ID
				if err := restampChange(tx, &e.Change, next, remap); err != nil {
					return err
				}
				if e.Change.ID != oldID {
					seen := tx.Bucket(bucketSeen)
					if err := seen.Delete(oldID[:]); err != nil {
						return err
					}
					if err := seen.Put(e.Change.ID[:], u64(e.Seq)); err != nil {
						return err
					}
				}
				changed = true
				n++
			}
			if !changed {
				continue
			}
			v, err := sealEntry(vaultOf(tx), &e)
			if err != nil {
				return err
			}
			puts = append(puts, put{clone(k), v})
		}
		for _, p := range puts {
			if err := log.Put(p.k, p.v); err != nil {
				return err
			}
		}

		db.clock.SetOffset(db.clock.Offset() + shift)
		db.clock.Reset(prev)
		return db.saveClock(tx)
	})
	if err != nil {
		db.clock.SetOffset(oldOffset)
		db.clock.Reset(oldLast)
		return 0, fmt.Errorf("store: restamp: %w", err)
	}
	return n, nil
}

// restampChange gives ch the stamp next and rewrites the fields of its record
// that still carry the old stamp. A change that creates a conflict record
// (stamped with the winner's stamp) is rebuilt as domain.ConflictChange makes
// it for the new winner stamp, so it gets the ID and fields that any replica
// detecting the same loss makes.
func restampChange(tx *bolt.Tx, ch *domain.Change, next domain.Stamp, remap map[domain.Stamp]domain.Stamp) error {
	old := ch.Stamp
	if ch.Kind == domain.KindConflict && string(ch.Fields["winner_stamp"]) == `"`+old.String()+`"` {
		rec, err := domain.Decode(domain.KindConflict, ch.Record, ch.Fields)
		if err != nil {
			return err
		}
		cf := rec.(*domain.Conflict)
		cf.WinnerStamp = next.String()
		cf.Created = next.Time()
		if ls, err := domain.ParseStamp(cf.LoserStamp); err == nil {
			if nl, ok := remap[ls]; ok {
				cf.LoserStamp = nl.String() // cannot happen in practice: see Restamp
			}
		}
		cc, err := domain.ConflictChange(cf, next)
		if err != nil {
			return err
		}
		cc.Base = ch.Base
		*ch = cc
	} else {
		ch.Stamp = next
	}
	r, err := getRow(tx, ch.Kind, ch.Record)
	if err != nil || r == nil {
		return err
	}
	before, err := r.record(ch.Kind, ch.Record)
	if err != nil {
		return err
	}
	r.Updated = 0
	for name, c := range r.Fields {
		if c.S == old {
			if _, ok := ch.Fields[name]; ok {
				c.S = next
				c.V = json.RawMessage(clone(ch.Fields[name]))
				r.Fields[name] = c
			}
		}
		if c.S.Wall > r.Updated {
			r.Updated = c.S.Wall
		}
	}
	if err := putRow(tx, ch.Kind, ch.Record, r); err != nil {
		return err
	}
	after, err := r.record(ch.Kind, ch.Record)
	if err != nil {
		return err
	}
	return reindex(tx, ch.Kind, before, after) // a conflict's Created may have moved
}
