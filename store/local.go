package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketLocal holds this replica's local state: name -> value, read and
// written by the replica's own sync client (its account at the upstream, the
// device token), never logged, never replicated, never sent anywhere. The
// sync cursors stay in bucketCursor: they are positions in logs, this is who
// the device is.
var bucketLocal = []byte("local")

// KeyAccount names the sync client's account (server URL, device token,
// cadre, the upstream's ID) in the local state. Before schema 6 the client
// kept it under the cursor of the same name; migrate moves it.
const KeyAccount = "sync.account"

// Local returns the local state stored under name, "" if none.
func (db *DB) Local(name string) (string, error) {
	var v string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLocal).Get([]byte(name))
		if b == nil {
			return nil
		}
		out, err := vaultOf(tx).openValue(b, localAD([]byte(name)), false)
		if err != nil {
			return fmt.Errorf("local %s: %w", name, err)
		}
		v = string(out)
		return nil
	})
	return v, err
}

// SetLocal stores value under name in the local state, and the cursors
// (name -> value) in the same transaction: all or none of them are stored.
func (db *DB) SetLocal(name, value string, cursors map[string]string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		v, err := vaultOf(tx).sealValue([]byte(value), localAD([]byte(name)), false)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketLocal).Put([]byte(name), v); err != nil {
			return err
		}
		return putCursors(tx, cursors)
	})
}

// moveLocal moves the local state kept under cursor names by older clients
// into the local bucket (schema 6).
func moveLocal(tx *bolt.Tx) error {
	cur, local := tx.Bucket(bucketCursor), tx.Bucket(bucketLocal)
	for _, name := range []string{KeyAccount} {
		v := cur.Get([]byte(name))
		if v == nil {
			continue
		}
		if err := local.Put([]byte(name), append([]byte(nil), v...)); err != nil {
			return err
		}
		if err := cur.Delete([]byte(name)); err != nil {
			return err
		}
	}
	return nil
}

func localAD(name []byte) []byte { return append([]byte("local\x00"), name...) }
