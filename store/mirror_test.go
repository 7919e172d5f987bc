package store_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// TestMirror copies a server's log, conflicts included, into a mirror with
// Install and checks that the mirror holds the same log and the same rows;
// a push through ApplyGuardedThen hands over exactly the entries it logged,
// and an error from the hook writes nothing.
func TestMirror(t *testing.T) {
	src := mustOpen(t)
	v := buildVillage(t, src, fixtureNow)
	h := v.Households()[0]
	// Two concurrent edits of one field, received from two devices: the
	// merge keeps the loser as a conflict record, an entry of its own.
	base, err := src.FieldStates(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	var chs []domain.Change
	for i, phone := range []string{`"13900000001"`, `"13900000002"`} {
		chs = append(chs, domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: h.ID, Author: h.Author,
			Stamp:  domain.Stamp{Wall: fixtureNow.UnixMilli() + 3600e3 + int64(i), Device: uuid.New()},
			Fields: domain.Fields{"phone": []byte(phone)}, Base: map[string]domain.Stamp{"phone": base["phone"].Stamp}})
	}
	if _, err := src.Apply(chs[0].Stamp.Device, chs); err != nil {
		t.Fatal(err)
	}
	var log []store.Entry
	if err := src.Log(0, func(e store.Entry) (bool, error) { log = append(log, e); return true, nil }); err != nil {
		t.Fatal(err)
	}
	if log[len(log)-1].Change.Kind != domain.KindConflict {
		t.Fatalf("the last entry is a %s, want a conflict", log[len(log)-1].Change.Kind)
	}

	m, err := store.Open(filepath.Join(t.TempDir(), "mirror.db"), &store.Options{Device: src.Device()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Install(log[:3]); err != nil {
		t.Fatal(err)
	}
	if err := m.Install(log[4:]); !errors.Is(err, store.ErrNotMirror) {
		t.Fatalf("entries after a gap: %v, want ErrNotMirror", err)
	}
	if err := m.Install(log[3:]); err != nil {
		t.Fatal(err)
	}
	var got []store.Entry
	if err := m.Log(0, func(e store.Entry) (bool, error) { got = append(got, e); return true, nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, log) {
		t.Fatalf("the mirror's log differs from the source's (%d and %d entries)", len(got), len(log))
	}
	for _, e := range log {
		want, err := src.FieldStates(e.Change.Kind, e.Change.Record)
		if err != nil {
			t.Fatal(err)
		}
		have, err := m.FieldStates(e.Change.Kind, e.Change.Record)
		if err != nil || !reflect.DeepEqual(have, want) {
			t.Fatalf("%s %s differs in the mirror (%v)", e.Change.Kind, e.Change.Record, err)
		}
	}

	// A push through ApplyGuardedThen: the hook sees what it logged.
	edit := domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: h.ID, Author: h.Author,
		Stamp:  domain.Stamp{Wall: fixtureNow.UnixMilli() + 7200e3, Device: uuid.New()},
		Fields: domain.Fields{"phone": []byte(`"13900000003"`)}}
	boom := errors.New("the shared log refused")
	if _, err := m.ApplyGuardedThen(edit.Stamp.Device, []domain.Change{edit}, nil, func([]store.Entry) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("a failing hook: %v", err)
	}
	if seen, _ := m.Seen(edit.ID); seen {
		t.Fatal("a push whose hook failed was written")
	}
	var added []store.Entry
	if _, err := m.ApplyGuardedThen(edit.Stamp.Device, []domain.Change{edit}, nil, func(a []store.Entry) error { added = a; return nil }); err != nil {
		t.Fatal(err)
	}
	// The edit did not see the winner: it loses or wins, and either way a
	// conflict is logged after it.
	if len(added) != 2 || added[0].Change.ID != edit.ID || added[0].Seq != uint64(len(log)+1) || added[1].Change.Kind != domain.KindConflict {
		t.Fatalf("the hook saw %d entries, want the edit at %d and its conflict", len(added), len(log)+1)
	}
	added = nil
	if _, err := m.ApplyGuardedThen(edit.Stamp.Device, []domain.Change{edit}, nil, func(a []store.Entry) error { added = a; return nil }); err != nil || len(added) != 0 {
		t.Fatalf("a retried push logged %d entries (%v)", len(added), err)
	}
}

// TestPutThen checks that PutThen hands over exactly the entries the put
// logged, inside its transaction, and that an error from the hook writes
// nothing: neither the row nor the log.
func TestPutThen(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	h := v.Households()[0]
	before, err := db.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	h.Phone = "13900000009"
	refused := errors.New("the shared log refused")
	err = db.PutThen(uuid.Nil, func(added []store.Entry) error { return refused }, h)
	if !errors.Is(err, refused) {
		t.Fatalf("PutThen with a failing hook: %v", err)
	}
	if n, _ := db.LastSeq(); n != before {
		t.Errorf("a refused put logged %d entries", n-before)
	}
	if r, err := db.Get(domain.KindHousehold, h.ID); err != nil || r.(*domain.Household).Phone == "13900000009" {
		t.Errorf("a refused put wrote the row (%v)", err)
	}
	var got []store.Entry
	err = db.PutThen(uuid.Nil, func(added []store.Entry) error { got = added; return nil }, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Seq != before+1 || got[0].Change.Record != h.ID || string(got[0].Change.Fields["phone"]) != `"13900000009"` {
		t.Fatalf("the hook got %+v", got)
	}
	if r, err := db.Get(domain.KindHousehold, h.ID); err != nil || r.(*domain.Household).Phone != "13900000009" {
		t.Errorf("the put is not stored (%v)", err)
	}
}
