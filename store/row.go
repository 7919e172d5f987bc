package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// row is a record as the store keeps it: every field with the stamp and author
// of the edit that set it. It is the store's own encoding, converted to and
// from domain records here and nowhere else.
// Its encoding is in rowcodec.go.
type row struct {
	Fields  map[string]cell
	Updated int64 // wall ms of the latest change
}

type cell struct {
	V json.RawMessage // the value
	S domain.Stamp    // the stamp of the edit that set it
	A uuid.UUID       // that edit's author
}

// fields returns the row's field values.
func (r *row) fields() domain.Fields {
	f := make(domain.Fields, len(r.Fields))
	for k, c := range r.Fields {
		f[k] = c.V
	}
	return f
}

// state returns the merge state of one field.
func (r *row) state(name string) (domain.FieldState, bool) {
	c, ok := r.Fields[name]
	if !ok {
		return domain.FieldState{}, false
	}
	return domain.FieldState{Value: c.V, Stamp: c.S, Author: c.A}, true
}

func (r *row) set(name string, st domain.FieldState) {
	r.Fields[name] = cell{V: st.Value, S: st.Stamp, A: st.Author}
	if st.Stamp.Wall > r.Updated {
		r.Updated = st.Stamp.Wall
	}
}

// record decodes the row into a domain record.
func (r *row) record(kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	return r.recordOf(kind, id, r.fields())
}

// recordOf is record for a caller that has the row's field values in f.
func (r *row) recordOf(kind domain.Kind, id uuid.UUID, f domain.Fields) (domain.Record, error) {
	rec, err := domain.Decode(kind, id, f)
	if err != nil {
		return nil, err
	}
	rec.Metadata().Updated = time.UnixMilli(r.Updated).UTC()
	return rec, nil
}

// uuid returns the value of a UUID field as decoding the row would set it,
// uuid.Nil when the field is missing or holds no UUID.
func (r *row) uuid(name string) uuid.UUID {
	var id uuid.UUID
	if c, ok := r.Fields[name]; ok {
		if v := c.V; len(v) == 38 && v[0] == '"' && v[37] == '"' {
			id, _ = uuid.ParseBytes(v[1:37])
		} else {
			_ = json.Unmarshal(v, &id)
		}
	}
	return id
}

func (r *row) deleted() bool {
	c, ok := r.Fields["deleted"]
	return ok && string(c.V) == "true"
}

// kindBucket returns the bucket of a kind's rows, creating it in a writable tx.
func kindBucket(tx *bolt.Tx, kind domain.Kind) *bolt.Bucket {
	recs := tx.Bucket(bucketRec)
	if b := recs.Bucket([]byte(kind)); b != nil || !tx.Writable() {
		return b
	}
	b, err := recs.CreateBucket([]byte(kind))
	if err != nil {
		panic(fmt.Sprintf("store: create bucket %s: %v", kind, err)) // only fails on a bad name
	}
	return b
}

// getRow returns the stored row of a record, or nil.
func getRow(tx *bolt.Tx, kind domain.Kind, id uuid.UUID) (*row, error) {
	b := kindBucket(tx, kind)
	if b == nil {
		return nil, nil
	}
	v := b.Get(id[:])
	if v == nil {
		return nil, nil
	}
	return openRow(tx, kind, id[:], v)
}

func putRow(tx *bolt.Tx, kind domain.Kind, id uuid.UUID, r *row) error {
	v, err := sealRow(tx, kind, id[:], r)
	if err != nil {
		return err
	}
	return kindBucket(tx, kind).Put(id[:], v)
}

// putEncodedRow stores a row encoded already (encodeFresh), sealed when the
// store is.
func putEncodedRow(tx *bolt.Tx, kind domain.Kind, id uuid.UUID, b []byte) error {
	v, err := vaultOf(tx).sealValue(b, rowAD(kind, id[:]), true)
	if err != nil {
		return err
	}
	return kindBucket(tx, kind).Put(id[:], v)
}

// load returns a live (not deleted) record, or domain.ErrNotFound.
func load(tx *bolt.Tx, kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	r, err := getRow(tx, kind, id)
	if err != nil {
		return nil, err
	}
	if r == nil || r.deleted() {
		return nil, notFound(kind, id)
	}
	return r.record(kind, id)
}

func notFound(kind domain.Kind, id uuid.UUID) error {
	zh, en := domain.KindName(kind)
	return &domain.Error{Code: domain.ENOTFOUND, Field: string(kind),
		Zh: fmt.Sprintf("%s不存在（%s）", zh, short(id)),
		En: fmt.Sprintf("%s not found (%s)", en, short(id))}
}

func short(id uuid.UUID) string { return id.String()[:8] }

// Get returns the live record of kind with id, or an error matching
// domain.ErrNotFound if it does not exist or is deleted.
func (db *DB) Get(kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	var rec domain.Record
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = load(tx, kind, id)
		return err
	})
	return rec, err
}

// FieldStates returns every field of a record with the stamp and author of the
// edit that set it, deleted records included. It is what a conflict screen and
// the sync tests compare.
func (db *DB) FieldStates(kind domain.Kind, id uuid.UUID) (map[string]domain.FieldState, error) {
	out := map[string]domain.FieldState{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		r, err := getRow(tx, kind, id)
		if err != nil {
			return err
		}
		if r == nil {
			return notFound(kind, id)
		}
		for name := range r.Fields {
			st, _ := r.state(name)
			st.Value = clone(st.Value)
			out[name] = st
		}
		return nil
	})
	return out, err
}

// Each calls fn for every live record of kind, in ID order, until fn returns
// an error. The records are decoded copies.
func (db *DB) Each(kind domain.Kind, fn func(domain.Record) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error { return each(tx, kind, fn) })
}

func each(tx *bolt.Tx, kind domain.Kind, fn func(domain.Record) error) error {
	b := kindBucket(tx, kind)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		r, err := openRow(tx, kind, k, v)
		if err != nil {
			return err
		}
		if r.deleted() {
			return nil
		}
		rec, err := r.record(kind, uuid.UUID(k))
		if err != nil {
			return err
		}
		return fn(rec)
	})
}

// eachStored is each with the deleted records too.
func eachStored(tx *bolt.Tx, kind domain.Kind, fn func(domain.Record) error) error {
	b := kindBucket(tx, kind)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		r, err := openRow(tx, kind, k, v)
		if err != nil {
			return err
		}
		rec, err := r.record(kind, uuid.UUID(k))
		if err != nil {
			return err
		}
		return fn(rec)
	})
}

// Count returns the number of live records of kind.
func (db *DB) Count(kind domain.Kind) (int, error) {
	n := 0
	err := db.Each(kind, func(domain.Record) error { n++; return nil })
	return n, err
}
