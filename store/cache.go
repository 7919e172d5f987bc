package store

import (
	"bytes"
	"sync"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// recordCache keeps the places, cadres and households a transaction (Tx) decoded, with
// the stored bytes they were decoded from. A later query reuses a decoded
// record only if the bytes it reads in its own transaction are the same, so
// the cache can never be stale and needs no invalidation; a record that
// changed is simply decoded again. Decoding a row is most of what a list or a
// search costs, and these records rarely change: a search box queries on
// every keystroke. Callers always get copies.
type recordCache struct {
	mu sync.Mutex
	m  map[cacheKey]cacheEntry
}

type cacheKey struct {
	kind domain.Kind
	id   uuid.UUID
}

type cacheEntry struct {
	raw []byte
	rec domain.Record // nil for a deleted record
}

// maxCached bounds the cache; when full it starts again.
const maxCached = 50000

// cacheable reports whether records of kind are cached; their types must be
// flat structs (no slices, maps or pointers), so that a struct copy is a deep
// copy.
func cacheable(kind domain.Kind) bool {
	return kind == domain.KindPlace || kind == domain.KindCadre || kind == domain.KindHousehold
}

// load returns a copy of the live record of kind with id as tx holds it, or
// an error matching domain.ErrNotFound if there is none or it is deleted.
func (c *recordCache) load(tx *bolt.Tx, kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	var raw []byte
	if b := kindBucket(tx, kind); b != nil {
		raw = b.Get(id[:])
	}
	if raw == nil {
		return nil, notFound(kind, id)
	}
	k := cacheKey{kind, id}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || !bytes.Equal(e.raw, raw) {
		r, err := openRow(tx, kind, id[:], raw)
		if err != nil {
			return nil, err
		}
		e = cacheEntry{raw: clone(raw)}
		if !r.deleted() {
			if e.rec, err = r.record(kind, id); err != nil {
				return nil, err
			}
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxCached {
			c.m = map[cacheKey]cacheEntry{}
		}
		c.m[k] = e
		c.mu.Unlock()
	}
	if e.rec == nil {
		return nil, notFound(kind, id)
	}
	return copyRecord(e.rec), nil
}

// copyRecord returns a copy of a cached record.
func copyRecord(rec domain.Record) domain.Record {
	switch r := rec.(type) {
	case *domain.Place:
		c := *r
		return &c
	case *domain.Cadre:
		c := *r
		return &c
	case *domain.Household:
		c := *r
		return &c
	}
	return nil
}

// placeCache keeps every place the fingerprint of a scope decoded
// (ScopePrint walks them all at every sync), deleted ones included, with
// the stored bytes they were decoded from: as for recordCache, a place is
// reused only if the bytes its walk reads are the same. The places handed
// out are shared: read only.
type placeCache struct {
	mu sync.Mutex
	m  map[uuid.UUID]cachedPlace
}

type cachedPlace struct {
	raw []byte
	p   *domain.Place
}

// get returns the place with id whose stored bytes are raw.
func (c *placeCache) get(tx *bolt.Tx, id uuid.UUID, raw []byte) (*domain.Place, error) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) {
		return e.p, nil
	}
	r, err := openRow(tx, domain.KindPlace, id[:], raw)
	if err != nil {
		return nil, err
	}
	rec, err := r.record(domain.KindPlace, id)
	if err != nil {
		return nil, err
	}
	e = cachedPlace{raw: clone(raw), p: rec.(*domain.Place)}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCached {
		c.m = map[uuid.UUID]cachedPlace{}
	}
	c.m[id] = e
	c.mu.Unlock()
	return e.p, nil
}

// load is loadPlace through the cache.
func (c *placeCache) load(tx *bolt.Tx, id uuid.UUID) (*domain.Place, error) {
	var raw []byte
	if b := kindBucket(tx, domain.KindPlace); b != nil {
		raw = b.Get(id[:])
	}
	if raw == nil {
		return nil, notFound(domain.KindPlace, id)
	}
	return c.get(tx, id, raw)
}
