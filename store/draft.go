package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// SaveDraft keeps data under key as local scratch: a visit being typed, say,
// so that it survives the app being closed. Drafts are not records: they are
// not logged and never synced.
func (db *DB) SaveDraft(key string, data []byte) error {
	if key == "" {
		return domain.Errorf(domain.EINVALID, "key", "草稿缺少名称", "the draft has no key")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return putDraft(tx, key, data)
	})
	if err != nil {
		return fmt.Errorf("store: save draft %q: %w", key, err)
	}
	return nil
}

// Draft returns the draft saved under key, or nil and no error if there is none.
func (db *DB) Draft(key string) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = getDraft(tx, key)
		return err
	})
	return out, err
}

// DeleteDraft removes the draft saved under key; removing none is no error.
func (db *DB) DeleteDraft(key string) error {
	if key == "" {
		return nil
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error { return dropDraft(tx, key) })
	if err != nil {
		return fmt.Errorf("store: delete draft %q: %w", key, err)
	}
	return nil
}

// DraftKeys returns the keys of the drafts whose key starts with prefix, in
// key order: a list flags the households with a visit draft waiting in one
// read.
func (db *DB) DraftKeys(prefix string) ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDraft).Cursor()
		p := []byte(prefix)
		for k, _ := c.Seek(p); k != nil && hasPrefix(k, p); k, _ = c.Next() {
			out = append(out, string(k))
		}
		return nil
	})
	return out, err
}
