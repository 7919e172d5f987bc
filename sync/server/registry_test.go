package server_test

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/registrytest"
	"bangfu/sync/synctest"
)

// TestRegistryBolt runs the registry's conformance suite on bbolt.
func TestRegistryBolt(t *testing.T) {
	registrytest.Run(t, func(t *testing.T, clock *registrytest.Clock) (server.Registry, uuid.UUID, uuid.UUID) {
		db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{Now: clock.Now, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w, err := synctest.BuildWorld(db, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return server.NewBoltRegistry(db), w.Cadre1.ID, w.Cadre2.ID
	})
}

// TestBoltRegistryReadsOldFile opens a server's file written by store's
// registry before it moved to this package (testdata/README.md) and finds
// every device, token, code, lockout and deposited key in it.
func TestBoltRegistryReadsOldFile(t *testing.T) {
	var f struct {
		Now        time.Time
		Server     uuid.UUID
		Cadres     []uuid.UUID
		Devices    map[string]uuid.UUID
		Tokens     map[string]string
		UnusedCode string `json:"unused_code"`
		UnlockCode string `json:"unlock_code"`
	}
	b, err := os.ReadFile("testdata/registry-v7.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "server.db")
	gunzipFile(t, "testdata/registry-v7.db.gz", path)
	now := f.Now.Add(3 * time.Hour)
	db, err := store.Open(path, &store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Device() != f.Server {
		t.Fatalf("the server's ID is %s, want %s", db.Device(), f.Server)
	}
	reg := server.NewBoltRegistry(db)

	devs, err := reg.Devices()
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		key, name         string
		cadre             uuid.UUID
		lastSync, revoked time.Duration // after f.Now; -1 for zero
		reason            replica.Reason
		closed            time.Duration
	}
	wants := []want{
		{"live", "马福林的手机", f.Cadres[0], 30 * time.Minute, -1, "", -1},
		{"lost", "丢失的手机", f.Cadres[0], -1, time.Hour, replica.Lost, -1},
		{"replaced", "李的旧手机", f.Cadres[1], -1, time.Hour, replica.Replaced, -1},
		{"closed", "李的更旧手机", f.Cadres[1], -1, time.Hour, replica.Replaced, 2 * time.Hour},
		{"twice", "李的平板", f.Cadres[1], -1, -1, "", -1},
	}
	at := func(d time.Duration) time.Time {
		if d < 0 {
			return time.Time{}
		}
		return f.Now.Add(d)
	}
	if len(devs) != len(wants) {
		t.Fatalf("%d devices, want %d: %+v", len(devs), len(wants), devs)
	}
	for i, w := range wants {
		d := devs[i]
		if d.ID != f.Devices[w.key] || d.Name != w.name || d.Cadre != w.cadre || !d.LastSync.Equal(at(w.lastSync)) ||
			!d.Revoked.Equal(at(w.revoked)) || d.Reason != w.reason || !d.Closed.Equal(at(w.closed)) {
			t.Errorf("device %d: %+v, want %+v", i, d, w)
		}
	}

	// Every token as it was.
	for key, wantErr := range map[string]error{"live": nil, "lost": replica.ErrLost, "replaced": replica.ErrReplaced,
		"closed": replica.ErrRevoked} {
		d, err := reg.Authenticate(f.Tokens[key])
		if !errors.Is(err, wantErr) || (wantErr == nil && d.ID != f.Devices[key]) {
			t.Errorf("token of %s: %+v, %v; want %v", key, d, err, wantErr)
		}
	}
	// A device enrolled twice holds either token until one is used.
	if d, err := reg.Authenticate(f.Tokens["twice2"]); err != nil || d.ID != f.Devices["twice"] {
		t.Errorf("the second token of a device enrolled twice: %+v, %v", d, err)
	}
	if _, err := reg.Authenticate(f.Tokens["twice1"]); !errors.Is(err, replica.ErrTokenUnknown) {
		t.Errorf("the first token after the second was used: %v", err)
	}

	// The code issued and not used enrols, once.
	phone := uuid.New()
	if _, cadre, err := reg.Enroll(replica.NormalizeCode(f.UnusedCode), phone, "新手机", now); err != nil || cadre != f.Cadres[0] {
		t.Errorf("the unused code: %s, %v", cadre, err)
	}
	if _, _, err := reg.Enroll(f.UnusedCode, uuid.New(), "又一台", now); !errors.Is(err, replica.ErrCodeUsed) {
		t.Errorf("the code used again: %v", err)
	}

	// The lockouts, both still known; the later one alone ends after 75 minutes.
	ls, err := reg.Lockouts(f.Now)
	if err != nil || len(ls) != 2 || ls[0].Address != "192.0.2.7" || ls[0].Failures != 10 || ls[1].Address != "" ||
		ls[1].Failures != 100 || !ls[1].Until.Equal(f.Now.Add(80*time.Minute)) {
		t.Errorf("lockouts: %+v, %v", ls, err)
	}
	if ls, err := reg.Lockouts(f.Now.Add(75 * time.Minute)); err != nil || len(ls) != 1 {
		t.Errorf("lockouts after 75 minutes: %+v, %v", ls, err)
	}

	// The deposited key comes back with the unlock code issued for it, and
	// the release is audited.
	sealed, how, err := reg.Release(f.Devices["live"], f.Cadres[0], f.UnlockCode, now)
	if err != nil || string(sealed) != "sealed key of the live phone" || how != "unlock code" {
		t.Errorf("release: %q %q %v", sealed, how, err)
	}
	log, err := db.AuditLog(10, nil)
	if err != nil || len(log) != 1 || log[0].Action != "release-key" {
		t.Errorf("audit log: %+v, %v", log, err)
	}
}

func gunzipFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	z, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, z); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
