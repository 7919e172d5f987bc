package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// migrate brings a file of an older schema up to SchemaVersion, in the
// transaction that opens it, so a crash leaves it at the old version.
//
// Version 1 had no secondary indexes: version 2 builds them from the records.
// Version 3 added hh_search (search by name, pinyin, phone and ID tail) and
// problem_open_hh (open problems by household): rebuilding makes them too.
// Version 4 stores rows and log entries in a compact binary form instead of
// JSON (see rowcodec.go and log.go): every row and entry is rewritten.
// Version 5 added member_name (search by a member's name): rebuilt too.
// Version 6 added the local state (local.go): the sync client's account,
// kept until then under the cursor sync.account, moves there.
// Version 7 added step_problem (a problem's history): rebuilt too.
// Version 8 added the partition indexes part_group, part_hh and part_place
// (partition.go), which keep deleted records: built from every row.
func migrate(tx *bolt.Tx, from uint32) error {
	if from < 6 {
		if err := moveLocal(tx); err != nil {
			return err
		}
	}
	if from < 7 {
		if err := rebuildIndexes(tx); err != nil {
			return err
		}
	}
	if from < 4 {
		if err := rewriteRows(tx); err != nil {
			return err
		}
		if err := rewriteLog(tx); err != nil {
			return err
		}
	}
	if from < 8 {
		if err := buildPartitions(tx); err != nil {
			return fmt.Errorf("partition indexes: %w", err)
		}
	}
	return nil
}

// rewriteRows re-encodes every row in the current form.
func rewriteRows(tx *bolt.Tx) error {
	for _, kind := range domain.Kinds {
		b := tx.Bucket(bucketRec).Bucket([]byte(kind))
		if b == nil {
			continue
		}
		if err := rewrite(b, func(k, v []byte) ([]byte, error) {
			r, err := openRow(tx, kind, k, v)
			if err != nil {
				return nil, err
			}
			return sealRow(tx, kind, k, r)
		}); err != nil {
			return fmt.Errorf("rows of %s: %w", kind, err)
		}
	}
	return nil
}

// rewriteLog re-encodes every log entry in the current form.
func rewriteLog(tx *bolt.Tx) error {
	return rewrite(tx.Bucket(bucketLog), func(k, v []byte) ([]byte, error) {
		e, err := openEntry(vaultOf(tx), binary.BigEndian.Uint64(k), v)
		if err != nil {
			return nil, err
		}
		return sealEntry(vaultOf(tx), &e)
	})
}

// rewrite replaces every value of b by conv of it. The new values are put
// after the walk, as bbolt forbids writing to a bucket while iterating it.
func rewrite(b *bolt.Bucket, conv func(k, v []byte) ([]byte, error)) error {
	type kv struct{ k, v []byte }
	var out []kv
	if err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket
		}
		nv, err := conv(k, v)
		if err != nil {
			return err
		}
		out = append(out, kv{clone(k), nv})
		return nil
	}); err != nil {
		return err
	}
	for _, p := range out {
		if err := b.Put(p.k, p.v); err != nil {
			return err
		}
	}
	return nil
}

// rebuildIndexes drops every index and rebuilds it from the records.
func rebuildIndexes(tx *bolt.Tx) error {
	if tx.Bucket(bucketIdx) != nil {
		if err := tx.DeleteBucket(bucketIdx); err != nil {
			return err
		}
	}
	if _, err := tx.CreateBucket(bucketIdx); err != nil {
		return err
	}
	for kind := range indexes {
		if err := each(tx, kind, func(rec domain.Record) error { return reindex(tx, kind, nil, rec) }); err != nil {
			return err
		}
	}
	return nil
}
