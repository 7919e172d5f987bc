package client_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/synctest"
)

// TestAccountInLocalState: the device token and account are kept in the
// store's local state, not among the cursors; a store of an older client
// (schema 5, the account under the cursor sync.account) opens with it moved
// there, still enrolled, and syncs a change made after the upgrade.
func TestAccountInLocalState(t *testing.T) {
	srv, w := setup(t)
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Client.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.DB.Cursor(store.KeyAccount); v != "" {
		t.Fatalf("the account is among the cursors: %q", v)
	}
	acct, err := d.DB.Local(store.KeyAccount)
	if err != nil || acct == "" {
		t.Fatalf("no account in the local state: %q, %v", acct, err)
	}

	// Make the file what an older client left: schema 5, the account a cursor.
	if err := d.DB.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := bolt.Open(d.Path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("local")); err != nil {
			return err
		}
		if err := tx.Bucket([]byte("cursor")).Put([]byte("sync.account"), []byte(acct)); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint32(nil, 5))
	})
	if cerr := raw.Close(); err != nil || cerr != nil {
		t.Fatal(err)
	}

	db, err := store.Open(d.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Local(store.KeyAccount); v != acct {
		t.Fatalf("after the migration the local account is %q, want %q", v, acct)
	}
	if v, _ := db.Cursor(store.KeyAccount); v != "" {
		t.Fatalf("after the migration the cursor still holds the account: %q", v)
	}
	c, err := client.New(db, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); !st.Enrolled || st.Cadre != w.Cadre1.ID {
		t.Fatalf("after the upgrade: %+v", st)
	}
	rec, err := db.Get(domain.KindHousehold, w.Group(w.G1)[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	h := rec.(*domain.Household)
	h.Phone = "13900000000"
	if err := db.Put(w.Cadre1.ID, h); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatalf("sync after the upgrade: %v", err)
	}
	got, err := srv.DB.Get(domain.KindHousehold, w.Group(w.G1)[0].ID)
	if err != nil || got.(*domain.Household).Phone != "13900000000" {
		t.Fatalf("the server has %+v, %v", got, err)
	}
}
