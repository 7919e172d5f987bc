package pgstore

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestSweepMirrors: the temporary mirrors of dead instances go, those a live
// instance holds (its bbolt lock), those just made, and whatever is not a
// mirror directory stay.
func TestSweepMirrors(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	old := now.Add(-time.Hour)
	mk := func(name string, mirror bool, mtime time.Time, extra ...string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if mirror {
			db, err := bolt.Open(filepath.Join(p, "mirror.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
		}
		for _, f := range extra {
			if err := os.WriteFile(filepath.Join(p, f), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := mk(mirrorPrefix+"dead", true, old)
	empty := mk(mirrorPrefix+"empty", false, old)
	live := mk(mirrorPrefix+"live", true, old)
	young := mk(mirrorPrefix+"young", true, now)
	foreign := mk(mirrorPrefix+"foreign", true, old, "notes.txt")
	other := mk("bangfu-demo-1", false, old)
	if err := os.WriteFile(filepath.Join(dir, mirrorPrefix+"file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A live instance holds its mirror open, locked.
	db, err := bolt.Open(filepath.Join(live, "mirror.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := os.Chtimes(live, old, old); err != nil {
		t.Fatal(err)
	}

	got := sweepMirrors(dir, mirrorGrace, now)
	slices.Sort(got)
	if want := []string{dead, empty}; !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	for _, p := range []string{dead, empty} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
	for _, p := range []string{live, young, foreign, other, filepath.Join(dir, mirrorPrefix+"file")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// The live instance's mirror still works.
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Errorf("the live mirror after the sweep: %v", err)
	}
	// Once its instance has gone, the next sweep takes it.
	db.Close()
	if got := sweepMirrors(dir, mirrorGrace, now); !slices.Equal(got, []string{live}) {
		t.Errorf("after the live instance closed, removed %v, want %v", got, []string{live})
	}
}
