package store

import (
	"encoding/binary"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// A mirror is a replica whose log is a copy of another's, entry for entry at
// the same sequences: a server that keeps its log in a shared database
// (sync/server/pgstore) holds one per instance, to work out scopes and
// states from rows and indexes. Two operations keep it a copy: Install
// copies entries written elsewhere, and ApplyGuardedThen hands the entries a
// push logged to the caller inside the transaction that writes them, so that
// the shared log takes them first, or the push is not written here either.

// ErrNotMirror is returned by Install for entries that do not continue the
// replica's log: the mirror must be rebuilt from the shared log.
var ErrNotMirror = &domain.Error{Code: domain.EINTERNAL,
	Zh: "本地副本与共享日志不一致，需要重建", En: "the local copy does not continue the shared log; it must be rebuilt"}

// Install merges entries of another replica's log, in order, logging each
// at its own sequence, which must follow the last of this replica's log.
// Nothing is worked out again: the entries say where their records belong,
// and the conflict records the original merges made are entries of their
// own. Merging is deterministic, so rows and indexes end as the original's.
func (db *DB) Install(entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		log := tx.Bucket(bucketLog)
		for i := range entries {
			e := entries[i]
			if e.Seq != log.Sequence()+1 {
				return fmt.Errorf("entry %d after %d: %w", e.Seq, log.Sequence(), ErrNotMirror)
			}
			if tx.Bucket(bucketSeen).Get(e.Change.ID[:]) != nil {
				return fmt.Errorf("entry %d: change %s logged twice: %w", e.Seq, e.Change.ID, ErrNotMirror)
			}
			if _, err := db.mergeEntry(tx, &e, false); err != nil {
				return err
			}
			db.clock.Observe(e.Change.Stamp)
		}
		return db.saveClock(tx)
	})
	if err != nil {
		return fmt.Errorf("store: install %d entries: %w", len(entries), err)
	}
	return nil
}

// ApplyGuardedThen is ApplyGuarded that calls then, inside the transaction,
// with the entries the push logged (none for a push seen before); an error
// from then writes nothing. then is not called when the guard refuses the
// push.
func (db *DB) ApplyGuardedThen(from uuid.UUID, changes []domain.Change, guard Guard, then func(added []Entry) error) (rejected []error, err error) {
	return db.apply(from, changes, guard, func(tx *bolt.Tx, start uint64) error {
		added, err := loggedAfter(tx, start)
		if err != nil {
			return err
		}
		return then(added)
	})
}

// EntryID returns the ID of the change logged at seq, false if none is.
func (db *DB) EntryID(seq uint64) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLog).Get(u64(seq))
		if v == nil {
			return nil
		}
		e, _, err := decodeHeader(seq, v)
		id, ok = e.Change.ID, err == nil
		return err
	})
	return id, ok, err
}

// PutThen is Put that hands then the entries the put logged, inside its
// transaction, before it commits; an error from then writes nothing. A
// server whose log is kept elsewhere (sync/server/pgstore) writes them
// there first, as ApplyGuardedThen does for a push.
func (db *DB) PutThen(author uuid.UUID, then func(added []Entry) error, recs ...domain.Record) error {
	now := db.Now()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		start := tx.Bucket(bucketLog).Sequence()
		for _, rec := range recs {
			if err := db.put(tx, author, rec, now); err != nil {
				return err
			}
		}
		if err := db.saveClock(tx); err != nil {
			return err
		}
		added, err := loggedAfter(tx, start)
		if err != nil {
			return err
		}
		return then(added)
	})
	if err != nil {
		return fmt.Errorf("store: put: %w", err)
	}
	return nil
}

// loggedAfter returns the log entries after sequence start: what the
// transaction tx logged since it read start.
func loggedAfter(tx *bolt.Tx, start uint64) ([]Entry, error) {
	var added []Entry
	c := tx.Bucket(bucketLog).Cursor()
	for k, v := c.Seek(u64(start + 1)); k != nil; k, v = c.Next() {
		e, err := decodeEntry(binary.BigEndian.Uint64(k), v)
		if err != nil {
			return nil, err
		}
		added = append(added, e)
	}
	return added, nil
}
