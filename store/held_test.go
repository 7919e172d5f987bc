package store_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/store"
)

// heldPage is a pulled page's changes as a device receives them: the log
// of an upstream with a roster, 600 visits and later edits of some of them
// (a second change of a record, moving it to another household), in parts
// of 50 as the client's pager cuts them. The first fresh parts create
// records and nothing else.
func heldPage(t *testing.T) (parts [][]domain.Change, fresh int, r *devRoster) {
	t.Helper()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	up := devOpen(t, "up.db", clockAt(now))
	r = buildDevRoster(t, up)
	var visits []*domain.Visit
	for i := range 600 {
		h := []*domain.Household{r.h1, r.h2, r.h3}[i%3]
		v := &domain.Visit{Household: h.ID, Cadre: r.groupCadre.ID, At: now.Add(-time.Duration(i*37%600) * time.Hour),
			Type: domain.VisitRoutine, Notes: fmt.Sprintf("第 %d 次入户，核实收入和饮水情况。", i), Water: domain.WaterSafe}
		visits = append(visits, v)
	}
	for i := 0; i < len(visits); i += 100 {
		devMust(t, up.Put(r.groupCadre.ID, anyRecords(visits[i:i+100])...))
	}
	created, _ := up.LastSeq()
	for i := 0; i < len(visits); i += 7 {
		visits[i].Household = r.h2.ID
		visits[i].FollowUp = "下周复访"
		devMust(t, up.Put(r.groupCadre.ID, visits[i]))
	}
	var all []domain.Change
	devMust(t, up.Log(0, func(e store.Entry) (bool, error) {
		all = append(all, e.Change)
		return true, nil
	}))
	for i := 0; i < len(all); i += 50 {
		parts = append(parts, all[i:min(i+50, len(all))])
	}
	return parts, int(created) / 50, r
}

func anyRecords(vs []*domain.Visit) []domain.Record {
	out := make([]domain.Record, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// fileKeys returns every index key and seen mark of the store file at path
// (closed), by index name ("seen": the marks, with their sequence), and
// whether it is marked as lacking held keys.
func fileKeys(t *testing.T, path string) (map[string][]string, bool) {
	t.Helper()
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	devMust(t, err)
	defer raw.Close()
	out := map[string][]string{}
	marked := false
	devMust(t, raw.View(func(tx *bolt.Tx) error {
		marked = tx.Bucket([]byte("meta")).Get([]byte("held_since")) != nil
		if err := tx.Bucket([]byte("seen")).ForEach(func(k, v []byte) error {
			out["seen"] = append(out["seen"], hex.EncodeToString(k)+"="+hex.EncodeToString(v))
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket([]byte("idx")).ForEachBucket(func(name []byte) error {
			return tx.Bucket([]byte("idx")).Bucket(name).ForEach(func(k, _ []byte) error {
				out[string(name)] = append(out[string(name)], hex.EncodeToString(k))
				return nil
			})
		})
	}))
	return out, marked
}

// sameKeys fails t unless got and want hold the same keys.
func sameKeys(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for name := range want {
		if !slices.Equal(got[name], want[name]) {
			t.Errorf("%s: index %s has %d keys, the reference %d", what, name, len(got[name]), len(want[name]))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && len(got[name]) > 0 {
			t.Errorf("%s: index %s has %d keys, the reference none", what, name, len(got[name]))
		}
	}
}

// applyAll merges changes into a new store at path change by change (Apply,
// which holds nothing), closes it and returns its keys.
func applyAll(t *testing.T, path string, from uuid.UUID, changes []domain.Change, also func(*store.DB)) map[string][]string {
	t.Helper()
	db, err := store.Open(path, &store.Options{Now: clockAt(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))})
	devMust(t, err)
	rej, err := db.Apply(from, changes)
	devMust(t, err)
	for i, e := range rej {
		if e != nil {
			t.Fatalf("reference: change %d rejected: %v", i, e)
		}
	}
	if also != nil {
		also(db)
	}
	devMust(t, db.Close())
	keys, _ := fileKeys(t, path)
	return keys
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	devMust(t, err)
	defer src.Close()
	dst, err := os.Create(to)
	devMust(t, err)
	_, err = io.Copy(dst, src)
	devMust(t, err)
	devMust(t, dst.Close())
}

// TestHeldKeys: a page merged in parts of state (ApplyPart) holds its new
// records' seen marks and index keys across the parts (held.go); whatever
// ends the holding, the file ends with exactly the keys a change-by-change
// merge of the same changes writes:
//   - the store closed;
//   - the process gone with keys held (the file copied as it was: marked,
//     and without them), opened again;
//   - another write in between that changes a record whose keys are held;
//   - a part that fails (a sealed store locked), then unlocked.
func TestHeldKeys(t *testing.T) {
	parts, fresh, r := heldPage(t)
	from := uuid.New()
	var all []domain.Change
	for _, p := range parts {
		all = append(all, p...)
	}
	dir := t.TempDir()
	at := clockAt(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	applyParts := func(db *store.DB, parts [][]domain.Change) {
		t.Helper()
		for _, p := range parts {
			rej, err := db.ApplyPart(from, p, nil)
			devMust(t, err)
			for i, e := range rej {
				if e != nil {
					t.Fatalf("change %d of a part rejected: %v", i, e)
				}
			}
		}
	}

	t.Run("closed", func(t *testing.T) {
		path := filepath.Join(dir, "closed.db")
		db, err := store.Open(path, &store.Options{Now: at})
		devMust(t, err)
		applyParts(db, parts)
		devMust(t, db.Close())
		got, marked := fileKeys(t, path)
		if marked {
			t.Error("the file is still marked after Close")
		}
		sameKeys(t, "closed", got, applyAll(t, filepath.Join(dir, "closed-ref.db"), from, all, nil))
	})

	t.Run("killed", func(t *testing.T) {
		path := filepath.Join(dir, "killed.db")
		db, err := store.Open(path, &store.Options{Now: at})
		devMust(t, err)
		half := len(parts) / 2
		applyParts(db, parts[:half])
		crashed := filepath.Join(dir, "crashed.db")
		copyFile(t, path, crashed) // what a SIGKILL leaves: every part committed
		devMust(t, db.Close())
		var done []domain.Change
		for _, p := range parts[:half] {
			done = append(done, p...)
		}
		want := applyAll(t, filepath.Join(dir, "killed-ref.db"), from, done, nil)
		lacking, marked := fileKeys(t, crashed)
		if !marked || len(lacking["visit_hh"]) >= len(want["visit_hh"]) || len(lacking["seen"]) >= len(want["seen"]) {
			t.Fatalf("the parts held no keys (marked %v; visit_hh %d of %d, seen %d of %d): this test tests nothing",
				marked, len(lacking["visit_hh"]), len(want["visit_hh"]), len(lacking["seen"]), len(want["seen"]))
		}
		again, err := store.Open(crashed, &store.Options{Now: at})
		devMust(t, err)
		// The page is pulled again: nothing merged twice, nothing logged twice.
		last, _ := again.LastSeq()
		applyParts(again, parts[:half])
		if n, _ := again.LastSeq(); n != last {
			t.Errorf("the parts merged again logged %d more entries", n-last)
		}
		devMust(t, again.Close())
		got, marked := fileKeys(t, crashed)
		if marked {
			t.Error("the file is still marked after it was opened again")
		}
		sameKeys(t, "killed", got, want)
	})

	t.Run("written between", func(t *testing.T) {
		// The cadre corrects a visit merged by a part that holds its keys,
		// while later parts arrive: the correction's transaction writes the
		// held keys first, so it replaces the keys the visit had.
		moved := func(db *store.DB) {
			t.Helper()
			var id uuid.UUID
			for _, ch := range parts[fresh-1] {
				if ch.Kind == domain.KindVisit {
					id = ch.Record
				}
			}
			rec, err := db.Get(domain.KindVisit, id)
			devMust(t, err)
			v := rec.(*domain.Visit)
			v.Household, v.At = r.h3.ID, v.At.Add(-time.Hour)
			devMust(t, db.Put(r.groupCadre.ID, v))
		}
		path := filepath.Join(dir, "between.db")
		db, err := store.Open(path, &store.Options{Now: at})
		devMust(t, err)
		applyParts(db, parts[:fresh])
		copyFile(t, path, filepath.Join(dir, "between-held.db"))
		if _, marked := fileKeys(t, filepath.Join(dir, "between-held.db")); !marked {
			t.Fatal("the parts held no keys: this test tests nothing")
		}
		moved(db)
		applyParts(db, parts[fresh:])
		devMust(t, db.Close())
		got, _ := fileKeys(t, path)
		want := applyAll(t, filepath.Join(dir, "between-ref.db"), from, all[:fresh*50], func(db *store.DB) {
			moved(db)
			var rest []domain.Change
			for _, p := range parts[fresh:] {
				rest = append(rest, p...)
			}
			rej, err := db.Apply(from, rest)
			devMust(t, err)
			for i, e := range rej {
				if e != nil {
					t.Fatalf("reference: change %d rejected: %v", i, e)
				}
			}
		})
		delete(got, "seen") // the correction's change is another in each
		delete(want, "seen")
		sameKeys(t, "written between", got, want)
	})

	t.Run("failed part", func(t *testing.T) {
		path := filepath.Join(dir, "failed.db")
		db, err := store.Open(path, &store.Options{Now: at, PINParams: cheap})
		devMust(t, err)
		const pin = "402719"
		devMust(t, db.Seal(pin))
		half := len(parts) / 2
		applyParts(db, parts[:half])
		db.Lock()
		if _, err := db.ApplyPart(from, parts[half], nil); err == nil {
			t.Fatal("a part merged into a locked store")
		}
		devMust(t, db.Unlock(pin, time.Now()))
		applyParts(db, parts[half:])
		devMust(t, db.Close())
		got, marked := fileKeys(t, path)
		if marked {
			t.Error("the file is still marked")
		}
		want := applyAll(t, filepath.Join(dir, "failed-ref.db"), from, all, nil)
		for _, name := range []string{"hh_search", "member_name"} { // in memory only, sealed
			delete(want, name)
		}
		sameKeys(t, "failed part", got, want)
	})
}
