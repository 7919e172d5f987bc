package store

import (
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Tx is a read transaction over the replica: records by ID or kind, the
// secondary indexes (index.go), and the rules in force. It is what the
// screens' queries (package query) are written on. Records it returns are
// decoded copies; a key passed to a Scan callback is valid only during the
// call; a Tx is valid only within the function given to View.
type Tx struct {
	tx       *bolt.Tx
	cache    *recordCache
	settings Settings
	ruleOf   map[uuid.UUID]domain.Rules // by village, see Rules
	indexes  map[string]*bolt.Bucket
}

// View runs fn in a read transaction.
func (db *DB) View(fn func(*Tx) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		t, err := db.newTx(tx)
		if err != nil {
			return err
		}
		return fn(t)
	})
}

func (db *DB) newTx(tx *bolt.Tx) (*Tx, error) {
	s, err := readSettings(tx)
	if err != nil {
		return nil, err
	}
	return &Tx{tx: tx, cache: &db.cache, settings: s, ruleOf: map[uuid.UUID]domain.Rules{},
		indexes: map[string]*bolt.Bucket{}}, nil
}

// Get returns the live record of kind with id, or an error matching
// domain.ErrNotFound if there is none or it is deleted. Places, cadres and
// households are decoded once and kept while their stored bytes stay the
// same (cache.go).
func (t *Tx) Get(kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	if cacheable(kind) {
		return t.cache.load(t.tx, kind, id)
	}
	return load(t.tx, kind, id)
}

// Each calls fn for every live record of kind, in ID order, until fn returns
// an error.
func (t *Tx) Each(kind domain.Kind, fn func(domain.Record) error) error {
	return each(t.tx, kind, fn)
}

// State returns the merge state of one field of a stored record, deleted
// records included; false if the record or the field is not stored.
func (t *Tx) State(kind domain.Kind, id uuid.UUID, field string) (domain.FieldState, bool, error) {
	r, err := getRow(t.tx, kind, id)
	if err != nil || r == nil {
		return domain.FieldState{}, false, err
	}
	st, ok := r.state(field)
	st.Value = clone(st.Value)
	return st, ok, nil
}

// Scan calls fn with every key of index name that starts with prefix and the
// record ID its last 16 bytes hold, in key order, until fn returns false.
// The index buckets are opened once per transaction: a list of thousands of
// households seeks visit_hh thousands of times.
func (t *Tx) Scan(name string, prefix []byte, fn func(key []byte, id uuid.UUID) bool) {
	b, ok := t.indexes[name]
	if !ok {
		b = t.tx.Bucket(bucketIdx).Bucket([]byte(name))
		t.indexes[name] = b
	}
	if b == nil {
		return
	}
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) < 16 {
			continue
		}
		if !fn(k, uuid.UUID(k[len(k)-16:])) {
			return
		}
	}
}

// Rules returns the rules that hold in a village (see DB.Rules), worked out
// once per transaction.
func (t *Tx) Rules(village uuid.UUID) domain.Rules {
	if x, ok := t.ruleOf[village]; ok {
		return x
	}
	fallback := domain.Rules{County: t.settings.Quotas.County, Section: t.settings.Quotas.Section,
		Other: t.settings.Quotas.Other, Statuses: t.settings.Quotas.Statuses, Stationed: t.settings.Quotas.Stationed,
		OverdueDays: t.settings.OverdueDays, Approvers: domain.DefaultApprovers()}
	var v, town *domain.Place
	if village != uuid.Nil {
		if v = t.place(village); v != nil {
			town = t.place(v.Parent)
		}
	}
	x := domain.Effective(v, town, fallback)
	t.ruleOf[village] = x
	return x
}

// place returns a live place, or nil.
func (t *Tx) place(id uuid.UUID) *domain.Place {
	if id == uuid.Nil {
		return nil
	}
	if rec, err := t.Get(domain.KindPlace, id); err == nil {
		return rec.(*domain.Place)
	}
	return nil
}

// ids returns the record IDs under prefix in index name, in key order.
func (t *Tx) ids(name string, prefix []byte) []uuid.UUID {
	var out []uuid.UUID
	t.Scan(name, prefix, func(_ []byte, id uuid.UUID) bool {
		out = append(out, id)
		return true
	})
	return out
}

// NotFound returns the error, matching domain.ErrNotFound, that names a
// record of kind with id the replica does not hold (or holds deleted).
func NotFound(kind domain.Kind, id uuid.UUID) error { return notFound(kind, id) }
