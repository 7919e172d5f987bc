package store

import (
	"bytes"
	"encoding/json"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/google/uuid"
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
	sorted := make([]string, 0, len(set))
	size := 0
	for k := range set {
		sorted = append(sorted, k)
		size += len(k)
	}
	slices.Sort(sorted)
	// One buffer in key order: a search walks every key, and keys spread
	// over the heap cost a cache miss each (twice the time of bbolt's pages).
	buf := make([]byte, 0, size)
	keys := make([][]byte, len(sorted))
	for i, k := range sorted {
		buf = append(buf, k...)
		keys[i] = buf[len(buf)-len(k) : len(buf) : len(buf)]
	}
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

// partial returns a record of kind with only the fields the in-memory
// indexes' keys read (see index.go), read from the row's bytes without
// decoding the rest, or nil for a deleted record. Decoding whole rows and
// records was most of an unlock's time. TestSealedSearch compares a sealed
// store's search with a clear one's.
func partial(kind domain.Kind, id uuid.UUID, b []byte) domain.Record {
	f, ok := peekRow(b)
	if !ok || string(f["deleted"]) == "true" {
		return nil
	}
	switch kind {
	case domain.KindHousehold:
		h := &domain.Household{}
		h.ID = id
		h.HeadName = jsonString(f["head_name"])
		h.Phone = jsonString(f["phone"])
		h.IDNumber = jsonString(f["id_number"])
		h.Group = jsonID(f["group"])
		h.Exit = domain.Exit(jsonString(f["exit"]))
		return h
	case domain.KindMember:
		m := &domain.Member{}
		m.ID = id
		m.Household = jsonID(f["household"])
		m.Name = jsonString(f["name"])
		return m
	}
	return nil
}

// peekRow returns the values of the fields partial reads from a binary row
// (rowcodec.go), without copying them.
func peekRow(b []byte) (map[string][]byte, bool) {
	if len(b) == 0 || b[0] != rowBinary {
		r, err := decodeRow(b)
		if err != nil {
			return nil, false
		}
		f := map[string][]byte{}
		for k, c := range r.Fields {
			f[k] = c.V
		}
		return f, true
	}
	d := &rowReader{b: b[1:]}
	d.uvarint() // updated
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		d.uvarint()
		d.uvarint()
		d.bytes(32)
	}
	f := make(map[string][]byte, 8)
	for n := d.uvarint(); n > 0 && d.err == nil; n-- {
		name := d.bytes(d.uvarint())
		d.uvarint()
		v := d.bytes(d.uvarint())
		switch string(name) {
		case "head_name", "phone", "id_number", "group", "exit", "household", "name", "deleted":
			f[string(name)] = v
		}
	}
	return f, d.err == nil
}

// jsonString returns a JSON string's value, "" if v is not one.
func jsonString(v []byte) string {
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var s string
	json.Unmarshal(v, &s)
	return s
}

// jsonID returns a JSON string's UUID, uuid.Nil if v is not one.
func jsonID(v []byte) uuid.UUID {
	id, _ := uuid.Parse(jsonString(v))
	return id
}

// build fills the in-memory indexes from the rows of tx (at unlock), on
// every core: rows are opened and decoded in parallel.
func (v *vault) build(tx *bolt.Tx) error {
	type job struct {
		kind domain.Kind
		ixs  []index
		k, v []byte
	}
	var jobs []job
	sets := map[string]map[string]struct{}{}
	for kind, ixs := range indexes {
		var mine []index
		for _, ix := range ixs {
			if memIndexNames[ix.name] {
				mine = append(mine, ix)
				sets[ix.name] = map[string]struct{}{}
			}
		}
		b := kindBucket(tx, kind)
		if len(mine) == 0 || b == nil {
			continue
		}
		b.ForEach(func(k, val []byte) error {
			jobs = append(jobs, job{kind, mine, k, val}) // valid while tx is open
			return nil
		})
	}
	workers := min(runtime.GOMAXPROCS(0), 8, len(jobs)/256+1)
	type found struct{ name, key string }
	outs := make([][]found, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out []found
			for i := w; i < len(jobs); i += workers {
				j := jobs[i]
				// A row that does not open (damaged, or moved under another
				// ID) is left out: reading it fails with its own error, and
				// the rest of the store stays usable.
				plain, err := v.openValue(j.v, rowAD(j.kind, j.k), true)
				if err != nil {
					continue
				}
				rec := partial(j.kind, uuid.UUID(j.k), plain)
				if rec == nil {
					continue
				}
				for _, ix := range j.ixs {
					for _, key := range ix.keys(rec) {
						out = append(out, found{ix.name, string(key)})
					}
				}
			}
			outs[w] = out
		}()
	}
	wg.Wait()
	for _, out := range outs {
		for _, f := range out {
			sets[f.name][f.key] = struct{}{}
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
