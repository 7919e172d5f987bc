package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Entry is one change in a replica's log, with where it came from and the
// places it belongs to, so that a server can decide who may pull it without
// reading the record.
type Entry struct {
	Seq       uint64        // the replica's own sequence, from 1
	From      uuid.UUID     // the replica it was received from; uuid.Nil if made here
	Household uuid.UUID     // the household the record belongs to, if any
	Village   uuid.UUID     // the village it belongs to, if any
	Town      uuid.UUID     // the town it belongs to, if any
	Change    domain.Change // the change itself
}

// entry is the log's stored form.
type entry struct {
	From      uuid.UUID         `json:"from"`
	Household uuid.UUID         `json:"hh"`
	Village   uuid.UUID         `json:"vil"`
	Town      uuid.UUID         `json:"town"`
	ID        uuid.UUID         `json:"id"`
	Kind      domain.Kind       `json:"k"`
	Record    uuid.UUID         `json:"r"`
	Author    uuid.UUID         `json:"a"`
	Stamp     string            `json:"s"`
	Fields    domain.Fields     `json:"f"`
	Base      map[string]string `json:"b,omitempty"`
}

func encodeEntry(e *Entry) ([]byte, error) {
	s := entry{From: e.From, Household: e.Household, Village: e.Village, Town: e.Town,
		ID: e.Change.ID, Kind: e.Change.Kind, Record: e.Change.Record, Author: e.Change.Author,
		Stamp: e.Change.Stamp.String(), Fields: e.Change.Fields}
	if len(e.Change.Base) > 0 {
		s.Base = make(map[string]string, len(e.Change.Base))
		for k, v := range e.Change.Base {
			s.Base[k] = v.String()
		}
	}
	return json.Marshal(&s)
}

func decodeEntry(seq uint64, b []byte) (Entry, error) {
	var s entry
	if err := json.Unmarshal(b, &s); err != nil {
		return Entry{}, fmt.Errorf("decode log entry %d: %w", seq, err)
	}
	stamp, err := domain.ParseStamp(s.Stamp)
	if err != nil {
		return Entry{}, fmt.Errorf("decode log entry %d: %w", seq, err)
	}
	e := Entry{Seq: seq, From: s.From, Household: s.Household, Village: s.Village, Town: s.Town,
		Change: domain.Change{ID: s.ID, Kind: s.Kind, Record: s.Record, Author: s.Author, Stamp: stamp, Fields: s.Fields}}
	if len(s.Base) > 0 {
		e.Change.Base = make(map[string]domain.Stamp, len(s.Base))
		for k, v := range s.Base {
			if e.Change.Base[k], err = domain.ParseStamp(v); err != nil {
				return Entry{}, fmt.Errorf("decode log entry %d: %w", seq, err)
			}
		}
	}
	return e, nil
}

// appendLog adds e to the log under the next sequence number and marks its
// change as seen.
func appendLog(tx *bolt.Tx, e *Entry) error {
	log := tx.Bucket(bucketLog)
	seq, err := log.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	v, err := encodeEntry(e)
	if err != nil {
		return err
	}
	if err := log.Put(u64(seq), v); err != nil {
		return err
	}
	return tx.Bucket(bucketSeen).Put(e.Change.ID[:], u64(seq))
}

// Log calls fn for every log entry after sequence after, in order, until fn
// returns false or an error.
func (db *DB) Log(after uint64, fn func(Entry) (bool, error)) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil; k, v = c.Next() {
			e, err := decodeEntry(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			more, err := fn(e)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}

// LastSeq returns the sequence of the newest log entry, 0 if the log is empty.
func (db *DB) LastSeq() (uint64, error) {
	var seq uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketLog).Cursor().Last(); k != nil {
			seq = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return seq, err
}

// Seen reports whether the replica has applied the change with this ID.
func (db *DB) Seen(id uuid.UUID) (bool, error) {
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketSeen).Get(id[:]) != nil
		return nil
	})
	return ok, err
}

// Outbox returns up to max log entries after sequence after that were not
// received from upstream: what this replica owes upstream. max <= 0 means all.
func (db *DB) Outbox(upstream uuid.UUID, after uint64, max int) ([]Entry, error) {
	var out []Entry
	err := db.Log(after, func(e Entry) (bool, error) {
		if e.From != upstream || upstream == uuid.Nil {
			out = append(out, e)
		}
		return max <= 0 || len(out) < max, nil
	})
	return out, err
}

// Pending counts the log entries after sequence after not received from
// upstream: the changes waiting to be sent.
func (db *DB) Pending(upstream uuid.UUID, after uint64) (int, error) {
	n := 0
	err := db.Log(after, func(e Entry) (bool, error) {
		if e.From != upstream {
			n++
		}
		return true, nil
	})
	return n, err
}

// Cursor returns the value stored under name, "" if none.
func (db *DB) Cursor(name string) (string, error) {
	var v string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketCursor).Get([]byte(name)))
		return nil
	})
	return v, err
}

// SetCursor stores value under name.
func (db *DB) SetCursor(name, value string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursor).Put([]byte(name), []byte(value))
	})
}
