package store

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// An index maps a record to the keys it is found under in the bucket
// idx/<name>. Keys carry everything a query needs to walk them in order; the
// values are empty. A deleted record has no keys, nor has a household that
// is history (moved out, merged or gone): every query that walks the
// household indexes sees only what is current. Ended assignments keep theirs
// (the queries filter them). The partition indexes (keptIndexNames) are the
// exception: they hold deleted records and households that are history too,
// as the walk of a scope's current state sends those (StateIn). Indexes are
// updated in the same transaction as the record, by diffing the keys of the
// old and the new version.
type index struct {
	name string
	keys func(domain.Record) [][]byte
}

// keysOf returns the keys of rec (nil: none): none for a deleted record,
// unless the index keeps them.
func (ix index) keysOf(rec domain.Record) [][]byte {
	if rec == nil || (rec.Metadata().Deleted && !keptIndexNames[ix.name]) {
		return nil
	}
	return ix.keys(rec)
}

// The indexes, by the kind of record they index.
var indexes = map[domain.Kind][]index{
	domain.KindPlace: {
		{"place_parent", func(r domain.Record) [][]byte { p := r.(*domain.Place); return one(p.Parent[:], p.ID[:]) }},
	},
	domain.KindHousehold: {
		{"hh_group", func(r domain.Record) [][]byte {
			h := r.(*domain.Household)
			if !h.Current() {
				return nil
			}
			return one(h.Group[:], h.ID[:])
		}},
		// hh_search: the normalized search text (see SearchKey), a zero byte,
		// the group and the household. Search walks it without decoding rows.
		// SearchKey is part of the layout: a change to it (or to the pinyin
		// module's readings) needs a new SchemaVersion, so that migrate
		// rebuilds the keys; reindex could not find the old ones otherwise.
		{"hh_search", func(r domain.Record) [][]byte {
			h := r.(*domain.Household)
			if !h.Current() {
				return nil
			}
			return one([]byte(SearchKey(h.HeadName, h.Phone, h.IDNumber)), []byte{0}, h.Group[:], h.ID[:])
		}},
	},
	domain.KindMember: {
		{"member_hh", func(r domain.Record) [][]byte { m := r.(*domain.Member); return one(m.Household[:], m.ID[:]) }},
		// member_name: the household, the member's normalized name, a zero
		// byte and the member. Search finds households by a member's name,
		// and the list rows' search keys read the names, without decoding
		// members. Normalize is part of the layout, as for hh_search.
		{"member_name", func(r domain.Record) [][]byte {
			m := r.(*domain.Member)
			return one(m.Household[:], []byte(Normalize(m.Name)), []byte{0}, m.ID[:])
		}},
	},
	domain.KindAssignment: {
		// Ended assignments keep their keys: the history of a cadre or a
		// target is read through them (assignmentsOf filters).
		{"assign_target", func(r domain.Record) [][]byte { a := r.(*domain.Assignment); return one(a.Target[:], a.ID[:]) }},
		{"assign_cadre", func(r domain.Record) [][]byte { a := r.(*domain.Assignment); return one(a.Cadre[:], a.ID[:]) }},
	},
	domain.KindVisit: {
		{"visit_hh", func(r domain.Record) [][]byte {
			v := r.(*domain.Visit)
			return one(v.Household[:], newest(v.At), v.ID[:])
		}},
		{"visit_cadre", func(r domain.Record) [][]byte { v := r.(*domain.Visit); return one(v.Cadre[:], newest(v.At), v.ID[:]) }},
	},
	domain.KindProblem: {
		{"problem_hh", func(r domain.Record) [][]byte {
			p := r.(*domain.Problem)
			return one(p.Household[:], newest(p.Created), p.ID[:])
		}},
		{"problem_open", func(r domain.Record) [][]byte {
			p := r.(*domain.Problem)
			if !p.IsOpen() {
				return nil
			}
			return one(oldest(p.Created), p.ID[:])
		}},
		{"problem_open_hh", func(r domain.Record) [][]byte {
			p := r.(*domain.Problem)
			if !p.IsOpen() {
				return nil
			}
			return one(p.Household[:], oldest(p.Created), p.ID[:])
		}},
	},
	domain.KindStep: {
		// step_problem: a problem's history, oldest step first.
		{"step_problem", func(r domain.Record) [][]byte {
			s := r.(*domain.Step)
			return one(s.Problem[:], oldest(s.At), s.ID[:])
		}},
	},
	domain.KindPlan: {
		{"plan_hh", func(r domain.Record) [][]byte { p := r.(*domain.Plan); return one(p.Household[:], p.ID[:]) }},
		{"plan_submitted", func(r domain.Record) [][]byte {
			p := r.(*domain.Plan)
			if p.Status != domain.PlanSubmitted {
				return nil
			}
			return one(p.ID[:])
		}},
	},
	domain.KindMeasure: {
		{"measure_plan", func(r domain.Record) [][]byte { m := r.(*domain.Measure); return one(m.Plan[:], m.ID[:]) }},
	},
	domain.KindReview: {
		{"review_plan", func(r domain.Record) [][]byte { v := r.(*domain.Review); return one(v.Plan[:], newest(v.At), v.ID[:]) }},
	},
	domain.KindPhoto: {
		// photo_of: the photos of a visit, problem or measure, in the order
		// they were added. photo_hash: the photos that name a blob (blob.go):
		// the blob is kept while one does.
		{"photo_of", func(r domain.Record) [][]byte {
			p := r.(*domain.Photo)
			return one(p.Of[:], oldest(p.Created), p.ID[:])
		}},
		{"photo_hash", func(r domain.Record) [][]byte {
			p := r.(*domain.Photo)
			if !domain.ValidHash(p.Hash) {
				return nil
			}
			return one(HashKey(p.Hash), p.ID[:])
		}},
	},
	domain.KindConflict: {
		{"conflict_open", func(r domain.Record) [][]byte {
			c := r.(*domain.Conflict)
			if c.Resolved {
				return nil
			}
			return one(oldest(c.Created), c.ID[:])
		}},
	},
}

// one returns a single key made of parts.
func one(parts ...[]byte) [][]byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return [][]byte{k}
}

// newest encodes t so that later times sort first.
func newest(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, math.MaxUint64-uint64(t.UnixMilli()))
}

// oldest encodes t so that earlier times sort first.
func oldest(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixMilli())) }

// reindex replaces the index keys of old (nil if new) by those of rec.
func reindex(tx *bolt.Tx, kind domain.Kind, old, rec domain.Record) error {
	v := vaultOf(tx)
	idx := tx.Bucket(bucketIdx)
	for _, ix := range indexes[kind] {
		oldKeys, newKeys := ix.keysOf(old), ix.keysOf(rec)
		if v.sealed.Load() && memIndexNames[ix.name] {
			v.stage(tx, ix.name, oldKeys, newKeys) // never in the file (memindex.go)
			continue
		}
		b := idx.Bucket([]byte(ix.name))
		if b == nil {
			var err error
			if b, err = idx.CreateBucket([]byte(ix.name)); err != nil {
				return err
			}
		}
		for _, k := range oldKeys {
			if !slices.ContainsFunc(newKeys, func(n []byte) bool { return bytes.Equal(n, k) }) {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		for _, k := range newKeys {
			if err := b.Put(k, nil); err != nil {
				return err
			}
		}
	}
	if p, ok := old.(*domain.Photo); ok && !p.Deleted && domain.ValidHash(p.Hash) {
		// The photo's record went, or names other bytes: its blob goes
		// with the last record naming it.
		return dropUnused(tx, HashKey(p.Hash))
	}
	return nil
}

// scan calls fn with the last 16 bytes (the record ID) of every key of index
// name that starts with prefix, in key order, until fn returns false.
func scan(tx *bolt.Tx, name string, prefix []byte, fn func(key []byte, id uuid.UUID) bool) {
	b := indexOf(tx, name)
	if b == nil {
		return
	}
	c := b.cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) < 16 {
			continue
		}
		if !fn(k, uuid.UUID(k[len(k)-16:])) {
			return
		}
	}
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}
