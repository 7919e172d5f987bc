package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

// loadData is a small prefecture (two towns of two villages) with a
// deleted visit, a deleted member and a household that moved out among its
// records, so that indexes skip some.
func loadData() *demo.Data {
	d := demo.Prefecture(5, demoNow, 2, 2, 60)
	d.Visits[3].Deleted = true
	d.Members[7].Deleted = true
	d.Households[11].Exit, d.Households[11].ExitOn = domain.MovedOut, demoNow.AddDate(0, -1, 0)
	return d
}

// putByAuthor writes recs through Put, each run of records of one author in
// one transaction, as that author's edit.
func putByAuthor(tb testing.TB, db *store.DB, recs []domain.Record) {
	tb.Helper()
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && j-i < 500 && recs[j].Metadata().Author == recs[i].Metadata().Author {
			j++
		}
		if err := db.Put(recs[i].Metadata().Author, recs[i:j]...); err != nil {
			tb.Fatalf("put records %d..%d: %v", i, j, err)
		}
		i = j
	}
}

// TestLoadIsPut: a store built by Load holds what one built by Put holds,
// read through the public reads — the log entry for entry (but the
// changes' random IDs, each found again through EntryOf), every record's
// fields with their stamps and authors, every index key (the partition
// indexes with their deleted records too), the scope fingerprints and
// first-sync states (ScopePrintIn, StateIn) of a village and a town and of
// everything (ScopePrint, State),
// the clock — and goes on as one: the next Put logs the same entries after
// the loaded ones.
func TestLoadIsPut(t *testing.T) {
	device := uuid.New()
	open := func(name string) *store.DB {
		db, err := store.Open(filepath.Join(t.TempDir(), name), &store.Options{Device: device, Now: clockAt(demoNow), NoSync: true})
		must(t, err)
		return db
	}
	dp, dl := loadData(), loadData()
	put := open("put.db")
	defer put.Close()
	putByAuthor(t, put, dp.Records())

	path := filepath.Join(t.TempDir(), "load.db")
	db, err := store.Open(path, &store.Options{Device: device, Now: clockAt(demoNow), NoSync: true})
	must(t, err)
	n, err := db.Load(dl.Records())
	must(t, err)
	if want := len(dl.Records()); n != want {
		t.Fatalf("Load logged %d entries, want %d", n, want)
	}
	must(t, db.Close())
	loaded, err := store.Open(path, &store.Options{Now: clockAt(demoNow), NoSync: true})
	must(t, err)
	defer loaded.Close()

	same := func(what string) {
		t.Helper()
		logOf := func(db *store.DB) []store.Entry {
			var out []store.Entry
			must(t, db.Log(0, func(e store.Entry) (bool, error) {
				got, ok, err := db.EntryOf(e.Change.ID)
				if err != nil || !ok || got.Seq != e.Seq {
					t.Fatalf("%s: change %s of entry %d: EntryOf gives %d, %v, %v", what, e.Change.ID, e.Seq, got.Seq, ok, err)
				}
				e.Change.ID = uuid.Nil
				out = append(out, e)
				return true, nil
			}))
			return out
		}
		a, b := logOf(put), logOf(loaded)
		if len(a) != len(b) {
			t.Fatalf("%s: %d log entries from Put, %d from Load", what, len(a), len(b))
		}
		for i := range a {
			if !reflect.DeepEqual(a[i], b[i]) {
				t.Fatalf("%s: log entry %d:\nPut  %+v\nLoad %+v", what, a[i].Seq, a[i], b[i])
			}
		}
		for _, rec := range dp.Records() {
			m := rec.Metadata()
			x, err := put.FieldStates(rec.Kind(), m.ID)
			must(t, err)
			y, err := loaded.FieldStates(rec.Kind(), m.ID)
			must(t, err)
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("%s: %s %s: fields from Put %v, from Load %v", what, rec.Kind(), m.ID, x, y)
			}
		}
		for _, name := range store.IndexNames() {
			keysOf := func(db *store.DB) []string {
				var out []string
				must(t, db.View(func(tx *store.Tx) error {
					tx.Scan(name, nil, func(k []byte, _ uuid.UUID) bool {
						out = append(out, string(k))
						return true
					})
					return nil
				}))
				return out
			}
			x, y := keysOf(put), keysOf(loaded)
			if !reflect.DeepEqual(x, y) {
				t.Fatalf("%s: index %s: %d keys from Put, %d from Load", what, name, len(x), len(y))
			}
			if len(x) == 0 && name != "conflict_open" && name != "photo_of" && name != "photo_hash" && name != "step_problem" {
				t.Errorf("%s: index %s is empty: the data does not test it", what, name)
			}
		}
		scopes := map[string]struct {
			readable func(*store.Entry) bool
			in       *store.Within // nil: the whole walk
		}{
			"everything": {func(*store.Entry) bool { return true }, nil},
			"王坪村": {func(e *store.Entry) bool { return e.Village == dp.Village.ID },
				&store.Within{Villages: map[uuid.UUID]bool{dp.Village.ID: true}}},
			"the town": {func(e *store.Entry) bool { return e.Town == dp.Town.ID },
				&store.Within{Towns: map[uuid.UUID]bool{dp.Town.ID: true}}},
		}
		for scope, sc := range scopes {
			print := func(db *store.DB) (string, uint64, error) {
				if sc.in != nil {
					return db.ScopePrintIn(*sc.in, sc.readable)
				}
				return db.ScopePrint(sc.readable)
			}
			p1, s1, err := print(put)
			must(t, err)
			p2, s2, err := print(loaded)
			must(t, err)
			if p1 != p2 || s1 != s2 {
				t.Errorf("%s: scope %s: fingerprint %s at %d from Put, %s at %d from Load", what, scope, p1, s1, p2, s2)
			}
			stateOf := func(db *store.DB) []domain.Change {
				var out []domain.Change
				fn := func(_ store.StatePos, chs []domain.Change) (bool, error) {
					out = append(out, chs...)
					return true, nil
				}
				var err error
				if sc.in != nil {
					_, err = db.StateIn(*sc.in, store.StatePos{}, sc.readable, fn)
				} else {
					_, err = db.State(store.StatePos{}, sc.readable, fn)
				}
				must(t, err)
				return out
			}
			if x, y := stateOf(put), stateOf(loaded); len(x) == 0 || !reflect.DeepEqual(x, y) {
				t.Errorf("%s: scope %s: State gives %d changes from Put, %d from Load, or they differ", what, scope, len(x), len(y))
			}
		}
		if a, b := put.Clock().Last(), loaded.Clock().Last(); a != b {
			t.Errorf("%s: clock at %v after Put, %v after Load", what, a, b)
		}
	}
	same("loaded")

	// The next edits log the same entries after the loaded ones.
	for i, db := range []*store.DB{put, loaded} {
		d := []*demo.Data{dp, dl}[i]
		h := *d.Households[0]
		h.Phone = "13900001111"
		v := &domain.Visit{Meta: domain.Meta{ID: uuid.MustParse("0a000000-0000-4000-8000-000000000001"), Created: demoNow},
			Household: h.ID, Cadre: d.GroupCadre.ID, At: demoNow.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "入户走访"}
		must(t, db.Put(d.GroupCadre.ID, &h, v))
	}
	same("after a put")
}

// TestLoadRefuses: Load writes nothing into a store that holds anything,
// nor when any record is refused, and says which record and why.
func TestLoadRefuses(t *testing.T) {
	fresh := func() *store.DB {
		db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), &store.Options{Now: clockAt(demoNow), NoSync: true})
		must(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	empty := func(db *store.DB) {
		t.Helper()
		if seq, err := db.LastSeq(); err != nil || seq != 0 {
			t.Fatalf("log at %d, %v after a refused load", seq, err)
		}
		for _, k := range domain.Kinds {
			if n, err := db.Count(k); err != nil || n != 0 {
				t.Fatalf("%d %s records, %v after a refused load", n, k, err)
			}
		}
	}

	t.Run("used store", func(t *testing.T) {
		d := loadData()
		db := fresh()
		must(t, db.Put(d.Cadres[0].ID, d.City))
		_, err := db.Load(loadData().Records()[1:])
		if domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("Load into a store holding a place: %v", err)
		}
		if seq, _ := db.LastSeq(); seq != 1 {
			t.Fatalf("log at %d after the refused load, want 1", seq)
		}
		// And into a store loaded before.
		db = fresh()
		recs := loadData().Records()
		if _, err := db.Load(recs[:40]); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Load(recs[40:]); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("a second Load: %v", err)
		}
		if seq, _ := db.LastSeq(); seq != 40 {
			t.Fatalf("log at %d after the refused second load, want 40", seq)
		}
	})

	cases := []struct {
		name   string
		edit   func(d *demo.Data) []domain.Record
		code   string
		record int // the index Load names
	}{
		{"a visit to a household not loaded", func(d *demo.Data) []domain.Record {
			recs := d.Records()
			v := *d.Visits[0]
			v.ID, v.Household = uuid.New(), uuid.New()
			return append(recs, &v)
		}, domain.ENOTFOUND, -1},
		{"a visit before its household", func(d *demo.Data) []domain.Record {
			return append([]domain.Record{d.Visits[0]}, d.Records()...)
		}, domain.ENOTFOUND, 0},
		{"an invalid household", func(d *demo.Data) []domain.Record {
			recs := d.Records()
			h := *d.Households[0]
			h.ID, h.HeadName = uuid.New(), ""
			return append(recs, &h)
		}, domain.EINVALID, -1},
		{"a record twice", func(d *demo.Data) []domain.Record {
			return append(d.Records(), d.Visits[5])
		}, domain.EINVALID, -1},
		{"a record without author", func(d *demo.Data) []domain.Record {
			recs := d.Records()
			v := *d.Visits[0]
			v.ID, v.Author = uuid.New(), uuid.Nil
			return append(recs, &v)
		}, domain.EINVALID, -1},
		{"a second plan for a household", func(d *demo.Data) []domain.Record {
			recs := d.Records()
			p := *d.Plans[0]
			p.ID = uuid.New()
			return append(recs, &p)
		}, domain.ECONFLICT, -1},
		{"a photo", func(d *demo.Data) []domain.Record {
			recs := d.Records()
			v := d.Visits[0]
			p := &domain.Photo{Meta: domain.Meta{Author: v.Cadre, Created: demoNow}, Of: v.ID, Household: v.Household}
			return append(recs, p)
		}, domain.EINVALID, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := fresh()
			recs := c.edit(loadData())
			at := c.record
			if at < 0 {
				at = len(recs) - 1
			}
			_, err := db.Load(recs)
			if domain.ErrorCode(err) != c.code {
				t.Fatalf("Load: %v, want an error of code %s", err, c.code)
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Zh == "" || de.En == "" {
				t.Errorf("Load: %v: not an error in both languages", err)
			}
			if want := fmt.Sprintf("record %d (", at); !strings.Contains(err.Error(), want) {
				t.Errorf("Load: %v: does not name %q", err, want)
			}
			empty(db)
		})
	}
}
