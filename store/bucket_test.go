package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/storetest"
)

func TestUpdateLocalBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bangfu.db")
	db := storetest.MustOpenAt(t, path, storetest.Now)
	v := storetest.BuildVillage(t, db, storetest.Now)

	// Written with a read of the replica, kept across a reopen.
	err := db.Update(func(tx *store.Tx) error {
		rec, err := tx.Get(domain.KindCadre, v.Ma.ID)
		if err != nil {
			return err
		}
		b, err := tx.CreateBucket("things")
		if err != nil {
			return err
		}
		if err := b.Put([]byte("b"), []byte(rec.(*domain.Cadre).Name)); err != nil {
			return err
		}
		if err := b.Put([]byte("a"), []byte("1")); err != nil {
			return err
		}
		n, err := b.CreateBucket([]byte("ab"))
		if err != nil {
			return err
		}
		return n.Put([]byte("x"), []byte("nested"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = storetest.MustOpenAt(t, path, storetest.Now)

	var got []string
	var held []byte
	err = db.View(func(tx *store.Tx) error {
		b := tx.Bucket("things")
		if b == nil {
			return errors.New("no bucket after a reopen")
		}
		held = b.Get([]byte("a"))
		if err := b.ForEach(func(k, v []byte) error {
			got = append(got, string(k)+"="+string(v))
			return nil
		}); err != nil {
			return err
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			got = append(got, "<"+string(k)+"="+string(v))
		}
		if k, v := c.Seek([]byte("aa")); string(k) != "b" || v == nil {
			got = append(got, fmt.Sprintf("seek aa: %q %q", k, v))
		}
		if n := b.Bucket([]byte("ab")); n == nil || string(n.Get([]byte("x"))) != "nested" {
			got = append(got, "nested bucket lost")
		}
		if b.Get([]byte("ab")) != nil {
			got = append(got, "a nested bucket read as a value")
		}
		// A read transaction writes nothing.
		if err := b.Put([]byte("c"), []byte("3")); err == nil {
			got = append(got, "put in a View")
		}
		if _, err := tx.CreateBucket("more"); err == nil {
			got = append(got, "bucket made in a View")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a=1", "b=" + v.Ma.Name, "<b=" + v.Ma.Name, "<a=1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read %q, want %q", got, want)
	}
	if string(held) != "1" {
		t.Errorf("value after its transaction: %q", held)
	}
}

// An error from fn keeps nothing of what it wrote: neither the bucket's
// values nor the audit entry written with them.
func TestUpdateAllOrNothing(t *testing.T) {
	db := storetest.MustOpen(t)
	boom := errors.New("boom")
	err := db.Update(func(tx *store.Tx) error {
		b, err := tx.CreateBucket("things")
		if err != nil {
			return err
		}
		if err := b.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		if err := tx.Audit(store.AuditEntry{At: storetest.Now, Action: "test"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: %v", err)
	}
	if err := db.View(func(tx *store.Tx) error {
		if tx.Bucket("things") != nil {
			return errors.New("the bucket of a failed update is there")
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if log, err := db.AuditLog(10, nil); err != nil || len(log) != 0 {
		t.Errorf("audit log after a failed update: %v, %v", log, err)
	}

	// The same, returning nil: both are kept.
	if err := db.Update(func(tx *store.Tx) error {
		b, err := tx.CreateBucket("things")
		if err != nil {
			return err
		}
		if err := b.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		return tx.Audit(store.AuditEntry{At: storetest.Now, Action: "test"})
	}); err != nil {
		t.Fatal(err)
	}
	if log, err := db.AuditLog(10, nil); err != nil || len(log) != 1 || log[0].Action != "test" {
		t.Errorf("audit log: %v, %v", log, err)
	}
}

// The replica's own buckets are not local state: they can be neither made
// nor read through Tx.Bucket, and writing local state logs nothing.
func TestLocalBucketNotReplica(t *testing.T) {
	db := storetest.MustOpen(t)
	storetest.BuildVillage(t, db, storetest.Now)
	last, err := db.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rec", "log", "meta", "local", "cursor", "idx", ""} {
		err := db.Update(func(tx *store.Tx) error {
			if name != "" && tx.Bucket(name) != nil {
				t.Errorf("Bucket(%q) gave the replica's own bucket", name)
			}
			_, err := tx.CreateBucket(name)
			return err
		})
		if !errors.Is(err, store.ErrOwnBucket) {
			t.Errorf("CreateBucket(%q): %v, want ErrOwnBucket", name, err)
		}
	}
	if err := db.Update(func(tx *store.Tx) error {
		b, err := tx.CreateBucket("things")
		if err != nil {
			return err
		}
		return b.Put(bytes.Repeat([]byte{1}, 16), []byte("v"))
	}); err != nil {
		t.Fatal(err)
	}
	if now, err := db.LastSeq(); err != nil || now != last {
		t.Errorf("log at %d after a local write, was %d (%v)", now, last, err)
	}
}
