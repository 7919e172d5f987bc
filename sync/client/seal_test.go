package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"bangfu/domain"
	"bangfu/seal"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/synctest"
)

// TestSealedDeviceSyncs: a device whose store has a PIN syncs while
// unlocked; locked, Sync refuses with store.ErrNeedPIN and sends nothing;
// its file holds neither the visit's notes nor the device's sync token.
func TestSealedDeviceSyncs(t *testing.T) {
	srv, w := setup(t)
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{},
		&store.Options{PINParams: &seal.Params{Time: 1, Memory: 64, Threads: 1}})
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := d.DB.Seal("402719"); err != nil {
		t.Fatal(err)
	}
	h := w.Group(w.G1)[0]
	v1 := visit(t, d, h, "王家大儿子在兰州打工，月收入三千")
	if err := d.Sync(); err != nil {
		t.Fatalf("sync while unlocked: %v", err)
	}
	if _, err := srv.DB.Get(domain.KindVisit, v1.ID); err != nil {
		t.Fatalf("the server has not the visit: %v", err)
	}
	acct, err := d.DB.Local(store.KeyAccount)
	if err != nil {
		t.Fatal(err)
	}
	var a struct{ Token string }
	if err := json.Unmarshal([]byte(acct), &a); err != nil || len(a.Token) < 16 {
		t.Fatalf("sync account %q: %v", acct, err)
	}

	v2 := visit(t, d, h, "第二次走访")
	d.DB.Lock()
	if err := d.Sync(); !errors.Is(err, store.ErrNeedPIN) {
		t.Fatalf("sync while locked: %v, want ErrNeedPIN", err)
	}
	if _, err := srv.DB.Get(domain.KindVisit, v2.ID); err == nil {
		t.Fatal("a locked device sent a visit")
	}
	raw, err := os.ReadFile(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{a.Token, "兰州打工", h.HeadName, h.Phone} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("the sealed file holds %q", s)
		}
	}
	if err := d.DB.Unlock("402719", d.DB.Now()); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatalf("sync after unlock: %v", err)
	}
	if _, err := srv.DB.Get(domain.KindVisit, v2.ID); err != nil {
		t.Fatalf("after unlock the server has not the second visit: %v", err)
	}
}
