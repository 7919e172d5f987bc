package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/replica"
)

// The audit log: what the office console's accounts did on the server, and
// on a device what it has not yet told the server (the reveals of whole ID
// numbers). It never syncs and no log entry is written for it.
//
//	office_audit      sequence (big-endian uint64) -> AuditEntry (JSON)
var bucketAudit = []byte("office_audit")

// AuditEntry is one administrative action in the console's audit log
// (replica.AuditEntry).
type AuditEntry = replica.AuditEntry

// Audit appends e to the audit log.
func (db *DB) Audit(e AuditEntry) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error { return auditTx(tx, e) })
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// auditTx appends e to the audit log in tx.
func auditTx(tx *bolt.Tx, e AuditEntry) error {
	b, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// AuditLog returns up to limit entries of the audit log that keep accepts,
// newest first.
func (db *DB) AuditLog(limit int, keep func(AuditEntry) bool) ([]AuditEntry, error) {
	var out []AuditEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry: %w", err)
			}
			e.Seq = binary.BigEndian.Uint64(k)
			if keep == nil || keep(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// Within reports whether place is scope or lies under it (a village of a
// town, a group of that village): whether an account of scope may see it.
// An unknown place is within nothing.
func (db *DB) Within(place, scope uuid.UUID) bool {
	in := false
	db.bolt.View(func(tx *bolt.Tx) error {
		id := place
		for range 8 {
			if id == scope {
				in = true
				return nil
			}
			p, err := loadPlace(tx, id)
			if err != nil || p.Parent == uuid.Nil {
				return nil
			}
			id = p.Parent
		}
		return nil
	})
	return in
}
