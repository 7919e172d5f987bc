package store

import (
	"bytes"
	"slices"
	"sort"
	"sync"

	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// memIndexNames are the indexes whose keys hold people's names, phones and
// ID tails. A sealed store never writes them to its file: they live in
// memory from unlock to lock (memIndexes), and search reads them there.
var memIndexNames = map[string]bool{"hh_search": true, "member_name": true}

// memIndexes are a sealed, unlocked store's in-memory indexes.
type memIndexes struct {
	mu    sync.Mutex
	sets  map[string]map[string]struct{} // index name -> keys
	snaps map[string]*memSnap            // sorted copies for readers; dropped by a change
}

// memSnap is a sorted, immutable copy of an index's keys.
type memSnap struct{ keys [][]byte }

// reset empties the indexes (lock) or starts them empty (unlock, then build).
func (m *memIndexes) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sets = map[string]map[string]struct{}{}
	m.snaps = map[string]*memSnap{}
}

// change removes del and adds add to index name.
func (m *memIndexes) change(name string, del, add [][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sets == nil {
		return // locked: the next unlock builds them from the rows
	}
	set := m.sets[name]
	if set == nil {
		set = map[string]struct{}{}
		m.sets[name] = set
	}
	for _, k := range del {
		delete(set, string(k))
	}
	for _, k := range add {
		set[string(k)] = struct{}{}
	}
	delete(m.snaps, name)
}

// snap returns the sorted keys of index name, nil if the index is not held.
func (m *memIndexes) snap(name string) *memSnap {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sets == nil {
		return nil
	}
	if s := m.snaps[name]; s != nil {
		return s
	}
	set := m.sets[name]
	keys := make([][]byte, 0, len(set))
	for k := range set {
		keys = append(keys, []byte(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	s := &memSnap{keys: keys}
	m.snaps[name] = s
	return s
}

// stage records, in a write transaction, index changes that reach memory
// when the transaction commits (and never if it rolls back).
func (v *vault) stage(tx *bolt.Tx, name string, del, add [][]byte) {
	if len(del) == 0 && len(add) == 0 {
		return
	}
	tx.OnCommit(func() { v.mem.change(name, del, add) })
}

// build fills the in-memory indexes from the rows of tx (at unlock).
func (v *vault) build(tx *bolt.Tx) error {
	sets := map[string]map[string]struct{}{}
	for kind, ixs := range indexes {
		var mine []index
		for _, ix := range ixs {
			if memIndexNames[ix.name] {
				mine = append(mine, ix)
				sets[ix.name] = map[string]struct{}{}
			}
		}
		if len(mine) == 0 {
			continue
		}
		err := each(tx, kind, func(rec domain.Record) error {
			for _, ix := range mine {
				for _, k := range ix.keys(rec) {
					sets[ix.name][string(k)] = struct{}{}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	v.mem.mu.Lock()
	v.mem.sets = sets
	v.mem.snaps = map[string]*memSnap{}
	v.mem.mu.Unlock()
	return nil
}

// indexCursor walks an index's keys in order, as a *bolt.Cursor does.
type indexCursor interface {
	First() ([]byte, []byte)
	Next() ([]byte, []byte)
	Seek([]byte) ([]byte, []byte)
}

// indexBucket is an index: a bbolt bucket, or an in-memory one.
type indexBucket interface{ cursor() indexCursor }

type boltIndex struct{ b *bolt.Bucket }

func (i boltIndex) cursor() indexCursor { return i.b.Cursor() }

func (s *memSnap) cursor() indexCursor { return &memCursor{keys: s.keys, i: -1} }

type memCursor struct {
	keys [][]byte
	i    int
}

func (c *memCursor) at() ([]byte, []byte) {
	if c.i < 0 || c.i >= len(c.keys) {
		return nil, nil
	}
	return c.keys[c.i], []byte{}
}

func (c *memCursor) First() ([]byte, []byte) { c.i = 0; return c.at() }
func (c *memCursor) Next() ([]byte, []byte)  { c.i++; return c.at() }
func (c *memCursor) Seek(k []byte) ([]byte, []byte) {
	c.i = sort.Search(len(c.keys), func(i int) bool { return bytes.Compare(c.keys[i], k) >= 0 })
	return c.at()
}

// indexOf returns index name as tx's store holds it, or nil if it has none:
// in memory for the indexes of memIndexNames in a sealed store, else the
// bucket idx/<name>.
func indexOf(tx *bolt.Tx, name string) indexBucket {
	if v := vaultOf(tx); v.sealed.Load() && memIndexNames[name] {
		if s := v.mem.snap(name); s != nil {
			return s
		}
		return nil
	}
	if b := tx.Bucket(bucketIdx).Bucket([]byte(name)); b != nil {
		return boltIndex{b}
	}
	return nil
}
