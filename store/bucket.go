package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Local state other packages keep in the store: buckets that are never
// logged, never replicated and never sent anywhere (the sync server's device
// registry, say), read and written in the same transaction as the replica is
// read. A local bucket is a bucket at the top of the file under a name the
// replica does not use (ownBuckets); its values are stored as given, and a
// sealed store does not encrypt them: keep nothing in one that a lost phone
// must keep secret.

// ErrOwnBucket is returned when a local bucket is asked for under the name
// of one of the replica's own buckets.
var ErrOwnBucket = errors.New("store: the name of one of the replica's own buckets")

// ownBuckets are the buckets of the replica: no local bucket may take their
// names. TestOwnBuckets checks that a used store holds no other.
var ownBuckets = map[string]bool{}

func init() {
	for _, b := range [][]byte{bucketMeta, bucketLog, bucketSeen, bucketCursor, bucketRec, bucketIdx, bucketDraft,
		bucketLocal, bucketBlob, bucketThumb, bucketBlobSent, bucketBlobDraft, bucketHeld, bucketLeaving, bucketScopes,
		bucketAudit} {
		ownBuckets[string(b)] = true
	}
}

// Update runs fn in a read-write transaction. fn reads the replica as in
// View, and writes only local state: the buckets of Tx.Bucket and
// Tx.CreateBucket, and the audit log (Tx.Audit). The replica itself changes
// only through Put and Apply, which log what they change. If fn returns an
// error, nothing it wrote is kept.
func (db *DB) Update(fn func(*Tx) error) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		t, err := db.newTx(tx)
		if err != nil {
			return err
		}
		return fn(t)
	})
}

// Bucket returns the local bucket name, or nil if there is none (or name is
// one of the replica's own). In a View it is read-only.
func (t *Tx) Bucket(name string) *Bucket {
	if ownBuckets[name] {
		return nil
	}
	if b := t.tx.Bucket([]byte(name)); b != nil {
		return &Bucket{b: b}
	}
	return nil
}

// CreateBucket returns the local bucket name, made if there is none. It
// fails in a View, and with ErrOwnBucket for the name of one of the
// replica's own buckets.
func (t *Tx) CreateBucket(name string) (*Bucket, error) {
	if ownBuckets[name] || name == "" {
		return nil, fmt.Errorf("store: local bucket %q: %w", name, ErrOwnBucket)
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("store: local bucket %q: %w", name, err)
	}
	return &Bucket{b: b}, nil
}

// Audit appends e to the audit log, with what else the transaction writes.
func (t *Tx) Audit(e AuditEntry) error { return auditTx(t.tx, e) }

// Bucket is a bucket of local state: keys in byte order, each a value or a
// nested bucket. Values it returns are copies; keys and values passed to a
// ForEach callback or returned by a Cursor are valid only until the next
// call. A Bucket is valid only within its transaction.
type Bucket struct{ b *bolt.Bucket }

// Get returns a copy of the value of key, nil if there is none (or key
// names a nested bucket).
func (b *Bucket) Get(key []byte) []byte {
	if v := b.b.Get(key); v != nil {
		return clone(v)
	}
	return nil
}

// Put sets the value of key.
func (b *Bucket) Put(key, value []byte) error { return b.b.Put(key, value) }

// Delete removes key; a missing key is not an error.
func (b *Bucket) Delete(key []byte) error { return b.b.Delete(key) }

// ForEach calls fn for every value in key order (nested buckets left out)
// until fn returns an error. fn must not change the bucket.
func (b *Bucket) ForEach(fn func(k, v []byte) error) error {
	return b.b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil
		}
		return fn(k, v)
	})
}

// NextSequence returns the next number of the bucket's own counter, 1 first.
func (b *Bucket) NextSequence() (uint64, error) { return b.b.NextSequence() }

// Bucket returns the nested bucket name, nil if there is none.
func (b *Bucket) Bucket(name []byte) *Bucket {
	if n := b.b.Bucket(name); n != nil {
		return &Bucket{b: n}
	}
	return nil
}

// CreateBucket returns the nested bucket name, made if there is none.
func (b *Bucket) CreateBucket(name []byte) (*Bucket, error) {
	n, err := b.b.CreateBucketIfNotExists(name)
	if err != nil {
		return nil, err
	}
	return &Bucket{b: n}, nil
}

// DeleteBucket removes the nested bucket name and all it holds.
func (b *Bucket) DeleteBucket(name []byte) error { return b.b.DeleteBucket(name) }

// Cursor returns a cursor over the bucket's values (nested buckets are
// skipped), in key order.
func (b *Bucket) Cursor() *Cursor { return &Cursor{c: b.b.Cursor()} }

// Cursor walks a Bucket's values in key order. Each method returns a key
// and its value, or nil, nil past either end; they are valid until the
// cursor moves.
type Cursor struct{ c *bolt.Cursor }

// First moves to the first value.
func (c *Cursor) First() (k, v []byte) { return c.skip(c.c.First, c.c.Next) }

// Last moves to the last value.
func (c *Cursor) Last() (k, v []byte) { return c.skip(c.c.Last, c.c.Prev) }

// Seek moves to the first value whose key is at or after key.
func (c *Cursor) Seek(key []byte) (k, v []byte) {
	return c.skip(func() ([]byte, []byte) { return c.c.Seek(key) }, c.c.Next)
}

// Next moves to the next value.
func (c *Cursor) Next() (k, v []byte) { return c.skip(c.c.Next, c.c.Next) }

// Prev moves to the previous value.
func (c *Cursor) Prev() (k, v []byte) { return c.skip(c.c.Prev, c.c.Prev) }

// Delete removes the value the cursor is at.
func (c *Cursor) Delete() error { return c.c.Delete() }

// skip makes the move first, then moves on with then past nested buckets.
func (c *Cursor) skip(first, then func() ([]byte, []byte)) (k, v []byte) {
	for k, v = first(); k != nil && v == nil; k, v = then() {
	}
	return k, v
}
