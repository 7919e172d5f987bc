package store_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// pulled returns the changes of upstream's log, as a device would pull them.
func pulled(t *testing.T, upstream *store.DB) []domain.Change {
	t.Helper()
	out, err := upstream.Outbox(uuid.Nil, 0, 0)
	devMust(t, err)
	var changes []domain.Change
	for _, e := range out {
		changes = append(changes, e.Change)
	}
	return changes
}

// TestApplyPull: a pulled page and the cursors written with it are stored
// in one transaction: together, or, when the store fails, neither.
func TestApplyPull(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	up := devOpen(t, "server.db", clockAt(now))
	r := buildDevRoster(t, up)
	page := pulled(t, up)
	phone := devOpen(t, "phone.db", clockAt(now))

	// A store failure (a cursor without a name cannot be stored) leaves
	// neither the page nor the other cursors.
	if _, err := phone.ApplyPull(up.Device(), page, map[string]string{"sync.pull": "9@x", "": "bad"}); err == nil {
		t.Fatal("a cursor without a name was stored")
	}
	if seq, _ := phone.LastSeq(); seq != 0 {
		t.Fatalf("a failed pull wrote %d log entries", seq)
	}
	if c, _ := phone.Cursor("sync.pull"); c != "" {
		t.Fatalf("a failed pull stored the cursor %q", c)
	}
	if _, err := phone.Get(domain.KindHousehold, r.h1.ID); err == nil {
		t.Fatal("a failed pull stored a record")
	}

	// A change that cannot be merged is rejected alone; the rest and the
	// cursors are stored.
	bad := page[len(page)-1]
	bad.ID, bad.Kind, bad.Record = uuid.New(), domain.KindPlace, r.g1.ID
	bad.Fields = domain.Fields{"name": json.RawMessage(`42`)}
	page = append(page, bad)
	rej, err := phone.ApplyPull(up.Device(), page, map[string]string{"sync.pull": "9@x", "sync.push": "3"})
	devMust(t, err)
	for i, e := range rej {
		if (e != nil) != (i == len(page)-1) {
			t.Fatalf("change %d (%s): rejected %v", i, page[i].Kind, e)
		}
	}
	if e, ok := rej[len(page)-1].(*domain.Error); !ok || e.Field != "fields" || e.Zh == "" || e.En == "" {
		t.Fatalf("rejection %#v", rej[len(page)-1])
	}
	if _, err := phone.Get(domain.KindHousehold, r.h1.ID); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"sync.pull": "9@x", "sync.push": "3"} {
		if c, _ := phone.Cursor(name); c != want {
			t.Fatalf("cursor %s = %q, want %q", name, c, want)
		}
	}
	seq, _ := phone.LastSeq()
	if seq != uint64(len(page)-1) {
		t.Fatalf("%d log entries for %d good changes", seq, len(page)-1)
	}
	n := 0
	devMust(t, phone.Log(0, func(e store.Entry) (bool, error) {
		if e.From != up.Device() {
			t.Errorf("entry %d recorded from %s", e.Seq, e.From)
		}
		n++
		return true, nil
	}))
	if n != len(page)-1 {
		t.Fatalf("%d log entries walked", n)
	}

	// Again (a crash before the answer was used): nothing new, the cursor
	// moves; with no changes, only the cursors.
	_, err = phone.ApplyPull(up.Device(), page, map[string]string{"sync.pull": "10@x"})
	devMust(t, err)
	_, err = phone.ApplyPull(up.Device(), nil, map[string]string{"sync.push": "4"})
	devMust(t, err)
	if again, _ := phone.LastSeq(); again != seq {
		t.Fatalf("pulling the page again wrote %d entries", again-seq)
	}
	if c, _ := phone.Cursor("sync.pull"); c != "10@x" {
		t.Fatalf("pull cursor %q", c)
	}
	if c, _ := phone.Cursor("sync.push"); c != "4" {
		t.Fatalf("push cursor %q", c)
	}
}

// TestSetCursors: several cursors are stored together, or none.
func TestSetCursors(t *testing.T) {
	db := mustOpen(t)
	devMust(t, db.SetCursors(map[string]string{"a": "1", "b": "2"}))
	if err := db.SetCursors(map[string]string{"a": "9", "": "x"}); err == nil {
		t.Fatal("a cursor without a name was stored")
	}
	for name, want := range map[string]string{"a": "1", "b": "2"} {
		if c, _ := db.Cursor(name); c != want {
			t.Fatalf("cursor %s = %q, want %q", name, c, want)
		}
	}
}

// TestClockOffsetPersists: a phone whose clock runs three hours fast, once
// corrected, reads and stamps true time after it is opened again, before
// any sync; so it does after a restamp, which corrects the offset itself.
func TestClockOffsetPersists(t *testing.T) {
	truth := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	fast := clockAt(truth.Add(3 * time.Hour))
	path := filepath.Join(t.TempDir(), "phone.db")
	open := func() *store.DB {
		t.Helper()
		db, err := store.Open(path, &store.Options{Now: fast})
		devMust(t, err)
		return db
	}
	db := open()
	if got := db.Now(); !got.Equal(truth.Add(3 * time.Hour)) {
		t.Fatalf("a new store reads %s", got)
	}
	devMust(t, db.SetClockOffset(-3*time.Hour))
	if got := db.Now(); !got.Equal(truth) {
		t.Fatalf("after SetClockOffset: %s", got)
	}
	devMust(t, db.Close())

	db = open()
	if got := db.Now(); !got.Equal(truth) {
		t.Fatalf("reopened, the store reads %s, want %s", got, truth)
	}
	cadre := uuid.New()
	p := &domain.Place{Level: domain.City, Name: "临夏市"}
	mustPut(t, db, cadre, p)
	if st, err := db.FieldStates(domain.KindPlace, p.ID); err != nil || st["name"].Stamp.Time() != truth {
		t.Fatalf("reopened, an edit is stamped %s (%v), want %s", st["name"].Stamp.Time(), err, truth)
	}

	// Forget the correction, edit (stamped three hours ahead), then let a
	// restamp to the upstream's time correct it: that correction, too,
	// survives a reopen.
	devMust(t, db.SetClockOffset(0))
	mustPut(t, db, cadre, &domain.Place{Level: domain.City, Name: "临夏州"})
	n, err := db.Restamp(0, truth)
	devMust(t, err)
	if n == 0 {
		t.Fatal("nothing restamped")
	}
	off := db.Clock().Offset()
	if (off + 3*time.Hour).Abs() > time.Second {
		t.Fatalf("offset after the restamp %s, want about -3h", off)
	}
	devMust(t, db.Close())
	db = open()
	defer db.Close()
	if got := db.Clock().Offset(); got != off {
		t.Fatalf("reopened after a restamp, offset %s, want %s", got, off)
	}
}

// TestDraftKeys: the drafts under a prefix, in key order, in one read.
func TestDraftKeys(t *testing.T) {
	db := mustOpen(t)
	for _, k := range []string{"visit/b", "plan/x", "visit/a"} {
		must(t, db.SaveDraft(k, []byte("{}")))
	}
	keys, err := db.DraftKeys("visit/")
	must(t, err)
	if len(keys) != 2 || keys[0] != "visit/a" || keys[1] != "visit/b" {
		t.Errorf("DraftKeys(visit/) = %v", keys)
	}
}
