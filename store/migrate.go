package store

import (
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// migrate brings a file of an older schema up to SchemaVersion, in the
// transaction that opens it, so a crash leaves it at the old version.
//
// Version 1 had no secondary indexes: version 2 builds them from the records.
// Version 3 added hh_search (search by name, pinyin, phone and ID tail) and
// problem_open_hh (open problems by household): rebuilding makes them too.
func migrate(tx *bolt.Tx, from uint32) error {
	if from < 3 {
		if err := rebuildIndexes(tx); err != nil {
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
