package store

import (
	"bytes"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Load writes recs into an empty store as Put would write them one by one,
// in the order given, each as an edit by its own author (Meta.Author): the
// same rows, indexes and log entries (one per record, stamped by the
// replica's clock, placed by the records before it), but bucket by bucket in
// key order, in large transactions. Put writes each record where its key
// falls, and a store of millions of log entries built through it runs at a
// few thousand records a second; Load is for building such stores from
// generated or exported records (benchmarks, bulk imports that can be
// redone), not for a server's or a device's edits.
//
// Every record is checked as Put checks it (Validate, and its references
// against the records before it in recs) before anything is written; a
// refused record writes nothing and the error names it. Each record may
// appear once; photos are refused (their bytes go with PutBlobs). Load
// refuses a store that holds any record or log entry, and a sealed one.
// Like Put it sets the IDs and Meta of the records it is given.
//
// Load writes in several transactions, and nothing else may write to db
// while it runs; if it fails after its checks (the disk), the store is
// partly written and must be removed. It returns the log entries written.
func (db *DB) Load(recs []domain.Record) (int, error) {
	n, err := db.load(recs)
	if err != nil {
		return 0, fmt.Errorf("store: load %d records: %w", len(recs), err)
	}
	return n, nil
}

// loadChunk is how many records Load encodes together and writes in one
// transaction.
const loadChunk = 1 << 15

// inParallel calls fn for every i from lo to hi on GOMAXPROCS goroutines,
// and returns one of the errors fn returned.
func inParallel(lo, hi int, fn func(i int) error) error {
	var next atomic.Int64
	next.Store(int64(lo))
	var first atomic.Pointer[error]
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= hi || first.Load() != nil {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return *err
	}
	return nil
}

func (db *DB) load(recs []domain.Record) (int, error) {
	if db.vault.sealed.Load() {
		return 0, domain.Errorf(domain.EINVALID, "db", "加密的数据库不能批量导入", "a sealed store cannot be bulk loaded")
	}
	if err := db.bolt.View(func(tx *bolt.Tx) error { return refuseUsed(tx) }); err != nil {
		return 0, err
	}
	now := db.Now()

	// The checks, in order, each record against those before it.
	refs := &loadRefs{byID: make(map[uuid.UUID]domain.Record, len(recs)), planOf: map[uuid.UUID][]uuid.UUID{}}
	for i, rec := range recs {
		if err := refs.check(rec, now, db.device); err != nil {
			m := rec.Metadata()
			zh, en := domain.KindName(rec.Kind())
			return 0, fmt.Errorf("record %d (%s %s, %s): %w", i, en, m.ID, zh, err)
		}
	}

	// The log, in order; what the rows, seen and the indexes need is kept
	// for writing them in key order after.
	type rowRef struct {
		id    uuid.UUID
		rec   int
		stamp domain.Stamp
	}
	type seenRef struct {
		change uuid.UUID
		seq    uint64
	}
	rows := map[domain.Kind][]rowRef{}
	seen := make([]seenRef, 0, len(recs))
	keys := map[string][][]byte{}
	places := map[uuid.UUID]*domain.Place{}
	groups := map[uuid.UUID]uuid.UUID{}
	place := func(id uuid.UUID) (*domain.Place, error) {
		if p, ok := places[id]; ok {
			return p, nil
		}
		return nil, notFound(domain.KindPlace, id)
	}
	group := func(h uuid.UUID) uuid.UUID { return groups[h] }
	v := db.vault
	for lo := 0; lo < len(recs); lo += loadChunk {
		hi := min(lo+loadChunk, len(recs))
		// Encoded on every core, stamped and placed in order, as Put
		// would one after the other.
		entries := make([]Entry, hi-lo)
		vals := make([][]byte, hi-lo)
		err := inParallel(lo, hi, func(i int) error {
			fields, err := domain.Encode(recs[i])
			entries[i-lo].Change.Fields = domain.Diff(nil, fields)
			return err
		})
		if err != nil {
			return 0, err
		}
		for i := lo; i < hi; i++ {
			rec, e := recs[i], &entries[i-lo]
			m := rec.Metadata()
			e.Seq = uint64(i + 1)
			e.Change = domain.Change{ID: uuid.New(), Kind: rec.Kind(), Record: m.ID, Author: m.Author, Stamp: db.clock.Now(),
				Fields: e.Change.Fields}
			switch r := rec.(type) {
			case *domain.Place:
				places[r.ID] = r
			case *domain.Household:
				groups[r.ID] = r.Group
			}
			e.Household, e.Village, e.Town = scopeWith(rec, place, group)
			seen = append(seen, seenRef{e.Change.ID, e.Seq})
			rows[e.Change.Kind] = append(rows[e.Change.Kind], rowRef{m.ID, i, e.Change.Stamp})
			for _, ix := range indexes[e.Change.Kind] {
				if _, ok := keys[ix.name]; !ok {
					keys[ix.name] = nil // reindex makes the bucket of a kind's every index
				}
				keys[ix.name] = append(keys[ix.name], ix.keysOf(rec)...)
			}
		}
		err = inParallel(lo, hi, func(i int) error {
			var err error
			vals[i-lo], err = sealEntry(v, &entries[i-lo])
			return err
		})
		if err != nil {
			return 0, err
		}
		err = db.bolt.Update(func(tx *bolt.Tx) error {
			log := tx.Bucket(bucketLog)
			log.FillPercent = 1
			for i, b := range vals {
				if err := log.Put(u64(entries[i].Seq), b); err != nil {
					return err
				}
			}
			if hi == len(recs) {
				if err := log.SetSequence(uint64(len(recs))); err != nil {
					return err
				}
			}
			return db.saveClock(tx)
		})
		if err != nil {
			return 0, err
		}
	}

	// The rows, kind by kind in ID order, encoded again (rather than kept)
	// on every core.
	for _, kind := range slices.Sorted(maps.Keys(rows)) {
		refs := rows[kind]
		slices.SortFunc(refs, func(a, b rowRef) int { return bytes.Compare(a.id[:], b.id[:]) })
		for lo := 0; lo < len(refs); lo += loadChunk {
			hi := min(lo+loadChunk, len(refs))
			vals := make([][]byte, hi-lo)
			err := inParallel(lo, hi, func(i int) error {
				ref := refs[i]
				rec := recs[ref.rec]
				fields, err := domain.Encode(rec)
				if err != nil {
					return err
				}
				r := &row{Fields: make(map[string]cell, len(fields))}
				author := rec.Metadata().Author
				for name, value := range domain.Diff(nil, fields) {
					st, _ := domain.MergeField(domain.FieldState{}, false,
						domain.FieldState{Value: clone(value), Stamp: ref.stamp, Author: author}, domain.Stamp{})
					r.set(name, st)
				}
				b, err := r.encode()
				if err != nil {
					return err
				}
				vals[i-lo], err = v.sealValue(b, rowAD(kind, ref.id[:]), true)
				return err
			})
			if err != nil {
				return 0, err
			}
			err = db.bolt.Update(func(tx *bolt.Tx) error {
				b := kindBucket(tx, kind)
				b.FillPercent = 1
				for i, val := range vals {
					if err := b.Put(refs[lo+i].id[:], val); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
		}
		rows[kind] = nil
	}

	// seen, by change ID.
	slices.SortFunc(seen, func(a, b seenRef) int { return bytes.Compare(a.change[:], b.change[:]) })
	for i := 0; i < len(seen); {
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketSeen)
			b.FillPercent = 1
			for end := min(len(seen), i+1<<20); i < end; i++ {
				if err := b.Put(seen[i].change[:], u64(seen[i].seq)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	seen = nil

	// The indexes, each in key order.
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		ks := keys[name]
		slices.SortFunc(ks, bytes.Compare)
		ks = slices.CompactFunc(ks, bytes.Equal)
		i := 0
		for first := true; first || i < len(ks); first = false {
			err := db.bolt.Update(func(tx *bolt.Tx) error {
				b, err := tx.Bucket(bucketIdx).CreateBucketIfNotExists([]byte(name))
				if err != nil {
					return err
				}
				b.FillPercent = 1
				for end := min(len(ks), i+1<<20); i < end; i++ {
					if err := b.Put(ks[i], nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return 0, err
			}
		}
		keys[name] = nil
	}
	return len(recs), nil
}

// refuseUsed returns an error unless the store holds no record, log entry,
// seen change nor index key.
func refuseUsed(tx *bolt.Tx) error {
	used := tx.Bucket(bucketLog).Sequence() > 0
	for _, name := range [][]byte{bucketLog, bucketSeen} {
		if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
			used = true
		}
	}
	for _, name := range [][]byte{bucketRec, bucketIdx} {
		parent := tx.Bucket(name)
		parent.ForEachBucket(func(k []byte) error {
			if k, _ := parent.Bucket(k).Cursor().First(); k != nil {
				used = true
			}
			return nil
		})
	}
	if used {
		return domain.Errorf(domain.EINVALID, "db", "数据库已有数据：只能批量导入到新的空数据库",
			"the store is in use: bulk load only into a new, empty one")
	}
	return nil
}

// loadRefs checks the records Load is given as Put would, each against the
// records before it: it is the refReader of those records.
type loadRefs struct {
	byID   map[uuid.UUID]domain.Record
	planOf map[uuid.UUID][]uuid.UUID // by household, the live plans
}

// check prepares rec's Meta as put does, checks it, and adds it.
func (l *loadRefs) check(rec domain.Record, now time.Time, device uuid.UUID) error {
	m := rec.Metadata()
	if m.ID == uuid.Nil {
		m.ID = uuid.New()
	}
	if _, ok := l.byID[m.ID]; ok {
		return domain.Errorf(domain.EINVALID, "id", "记录重复出现：每条记录只能导入一次",
			"the record appears twice: each record is loaded once")
	}
	if m.Author == uuid.Nil {
		return domain.Errorf(domain.EINVALID, "author", "记录没有作者：批量导入按记录的作者记入日志",
			"the record has no author: a bulk load logs each record as its author's edit")
	}
	if rec.Kind() == domain.KindPhoto {
		return domain.Errorf(domain.EINVALID, "kind", "照片不能批量导入", "photos cannot be bulk loaded")
	}
	if m.Created.IsZero() {
		m.Created = now
	}
	if m.Device == uuid.Nil {
		m.Device = device
	}
	if !m.Deleted {
		if err := rec.Validate(now); err != nil {
			return err
		}
		if err := checkRefsIn(l, rec); err != nil {
			return err
		}
	}
	l.byID[m.ID] = rec
	if p, ok := rec.(*domain.Plan); ok && !p.Deleted {
		l.planOf[p.Household] = append(l.planOf[p.Household], p.ID)
	}
	return nil
}

func (l *loadRefs) live(kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	if r, ok := l.byID[id]; ok && r.Kind() == kind && !r.Metadata().Deleted {
		return r, nil
	}
	return nil, notFound(kind, id)
}

func (l *loadRefs) plans(household uuid.UUID, fn func(uuid.UUID) bool) {
	ps := slices.Clone(l.planOf[household])
	slices.SortFunc(ps, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ps {
		if !fn(id) {
			return
		}
	}
}
