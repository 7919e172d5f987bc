package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Keys held across the parts of a pulled page.
//
// A first pull merges its page in parts, a transaction each (ApplyPart). The
// rows and the log are written in key order, but the seen marks (by change
// ID) and the visits' index keys (by household or cadre, then time) land all
// over their buckets: written part by part, every part rewrote nearly every
// page of those buckets, and the last parts of 10,000 visits wrote twice
// the pages their rows needed. So a part that merges only state keeps the
// seen marks and index keys of the records it creates in memory (DB.held),
// and a later transaction writes them all at once, in key order: the page's
// last part, any other write, or a part once heldMax keys or heldFor have
// gone by.
//
// Until then the file lacks them. Two things keep that from showing:
//   - Every other write transaction writes the held keys first (handle's
//     before, settleHeld), so no write reads an index without them or
//     changes a record whose keys are held. Reads may miss records merged in
//     the last heldFor; on a slow link each part takes longer than that and
//     writes its own.
//   - The transaction that first holds keys marks the file (keyHeldSince:
//     the log's sequence before it), and the one that writes them removes
//     the mark. A store marked when it opens, or whose held keys were lost
//     with a failed transaction, rebuilds the keys of the records the log
//     names after the mark and the seen marks of its entries (repairHeld):
//     a crash in the middle of a page costs a repair, not an index.
type heldKeys struct {
	marks seenBatch
	keys  indexBatch
	since time.Time // when the first key now held was

	any    atomic.Bool // keys are held: read outside transactions
	repair atomic.Bool // the file may be marked with keys it lacks
}

const (
	heldMax = 60_000      // keys and marks held at most (a few MB)
	heldFor = time.Second // the longest reads may miss a merged record
)

var keyHeldSince = []byte("held_since")

func newHeldKeys() *heldKeys { return &heldKeys{marks: seenBatch{}, keys: indexBatch{}} }

// count returns the keys and marks held.
func (h *heldKeys) count() int {
	n := len(h.marks)
	for _, ks := range h.keys {
		n += len(ks)
	}
	return n
}

// full reports whether the keys held must be written now: too many, or
// held by an earlier transaction for too long.
func (h *heldKeys) full(now time.Time) bool {
	return h.count() >= heldMax || h.any.Load() && now.Sub(h.since) >= heldFor
}

// drop forgets the keys held: their transaction failed, or wrote some of
// them and did not commit. The file's mark, if any, is repaired by the next
// write.
func (h *heldKeys) drop() {
	clear(h.marks)
	clear(h.keys)
	h.any.Store(false)
	h.repair.Store(true)
}

// settle writes the keys held, if any, in a transaction of its own: for a
// read that must see every merged change (Seen, EntryOf), and Close.
func (db *DB) settle() error {
	if !db.held.any.Load() && !db.held.repair.Load() {
		return nil
	}
	return db.bolt.Update(func(*bolt.Tx) error { return nil })
}

// settleHeld runs at the start of every write transaction but ApplyPart's:
// it writes the keys held, or repairs the file if they were lost, and
// unmarks it.
func (db *DB) settleHeld(tx *bolt.Tx) error {
	h := db.held
	switch {
	case h.repair.Load():
		h.drop() // what is held now the repair writes too
		if err := repairHeld(tx); err != nil {
			return err
		}
		tx.OnCommit(func() { h.repair.Store(false) })
		return nil
	case !h.any.Load():
		return nil
	}
	// Should this transaction not commit, the keys are in neither the file
	// nor memory: the mark stays, and the next write repairs.
	h.repair.Store(true)
	h.any.Store(false)
	if err := h.marks.flush(tx); err != nil {
		return err
	}
	if err := h.keys.flush(tx); err != nil {
		return err
	}
	if err := tx.Bucket(bucketMeta).Delete(keyHeldSince); err != nil {
		return err
	}
	tx.OnCommit(func() { h.repair.Store(false) })
	return nil
}

// markHeld records in tx, at the end of a part's transaction, whether keys
// are held: the log's sequence before the part (log) the first time they
// are, no mark once none is.
func (db *DB) markHeld(tx *bolt.Tx, log uint64, held bool) error {
	h := db.held
	meta := tx.Bucket(bucketMeta)
	if !held {
		h.any.Store(false)
		return meta.Delete(keyHeldSince)
	}
	if h.any.Load() {
		return nil // marked by an earlier part, from before its entries
	}
	h.any.Store(true)
	h.since = db.now()
	return meta.Put(keyHeldSince, u64(log))
}

// repairHeld rebuilds what keys held may have left out of the file: the
// seen mark of every log entry after the mark, and the index keys of every
// record they name, as the record is now. Keys that are there already are
// put again, unchanged: no record changed after its keys were held without
// them being written first (settleHeld).
func repairHeld(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keyHeldSince)
	if len(v) != 8 {
		return nil
	}
	type ref struct {
		kind domain.Kind
		id   uuid.UUID
	}
	marks := seenBatch{}
	named := map[ref]bool{}
	c := tx.Bucket(bucketLog).Cursor()
	for k, v := c.Seek(u64(binary.BigEndian.Uint64(v) + 1)); k != nil; k, v = c.Next() {
		e, _, err := decodeHeader(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return err
		}
		marks[e.Change.ID] = slices.Clone(k)
		named[ref{e.Change.Kind, e.Change.Record}] = true
	}
	if err := marks.flush(tx); err != nil {
		return err
	}
	refs := make([]ref, 0, len(named))
	for r := range named {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b ref) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), bytes.Compare(a.id[:], b.id[:]))
	})
	keys := indexBatch{}
	for _, r := range refs {
		row, err := getRow(tx, r.kind, r.id)
		if err != nil {
			return err
		}
		if row == nil {
			continue
		}
		rec, err := row.record(r.kind, r.id)
		if err != nil {
			return err
		}
		if err := reindexInto(tx, r.kind, nil, rec, keys); err != nil {
			return err
		}
	}
	if err := keys.flush(tx); err != nil {
		return err
	}
	return meta.Delete(keyHeldSince)
}
