package store

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// keyEpoch in the meta bucket is the replica's epoch: zero until the file is
// restored from a backup, then a new random number at each restore.
var keyEpoch = []byte("epoch")

// Backup writes a consistent copy of the whole database file to w, from one
// read transaction, while the replica keeps serving: writers are not held
// up. The copy opens with Open like the original.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// Epoch returns the replica's epoch: 0 for a file never restored, else the
// number NewEpoch gave it. A server tags the sync cursors it hands out with
// it, so that after a restore a device's cursor — a position in a log the
// server no longer has — is recognised as stale instead of being resumed
// from a position that now means something else.
func (db *DB) Epoch() (uint64, error) {
	var e uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyEpoch); len(v) == 8 {
			e = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return e, err
}

// NewEpoch gives the replica a new random epoch and returns it. It is called
// once on a file restored from a backup, before it serves anyone: the log
// it holds is a past state of the one devices have synced against, so every
// device must pull it again from the start and push again what it made
// (change IDs make the repeats harmless).
func (db *DB) NewEpoch() (uint64, error) {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("store: new epoch: %w", err)
		}
		if binary.BigEndian.Uint64(b[:]) != 0 {
			break
		}
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyEpoch, b[:])
	})
	if err != nil {
		return 0, fmt.Errorf("store: new epoch: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}
