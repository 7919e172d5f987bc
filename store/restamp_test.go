package store_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// TestRestamp follows a phone whose clock runs five hours fast: its edits,
// stamped far ahead, are restamped to the upstream's clock; they keep their
// order and the values they beat, and the phone and the upstream then
// converge on the same records and the same conflict records.
func TestRestamp(t *testing.T) {
	T := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	uNow, dNow := T, T.Add(5*time.Hour)
	up := devOpen(t, "upstream.db", func() time.Time { return uNow })
	dev := devOpen(t, "phone.db", func() time.Time { return dNow })
	r := buildDevRoster(t, up)
	ship(t, up, dev)
	cadre := r.groupCadre.ID

	if n, err := dev.Restamp(0, T); err != nil || n != 0 {
		t.Fatalf("restamp with nothing ahead: %d, %v", n, err)
	}

	get := func(db *store.DB) *domain.Household {
		rec, err := db.Get(domain.KindHousehold, r.h1.ID)
		devMust(t, err)
		return rec.(*domain.Household)
	}
	// Real time T+1m: the upstream changes the phone number.
	uNow = T.Add(time.Minute)
	h := get(up)
	h.Phone = "13800000001"
	devMust(t, up.Put(r.office.ID, h))
	upSeq, _ := up.LastSeq()

	// Real time T+2m..T+2m30s on the phone, whose clock says five hours later.
	dNow = T.Add(5*time.Hour + 2*time.Minute)
	h = get(dev)
	h.Notes = "第一次"
	devMust(t, dev.Put(cadre, h))
	h.Notes = "第二次"
	devMust(t, dev.Put(cadre, h))
	h.Phone = "13900000002"
	devMust(t, dev.Put(cadre, h))
	visit := &domain.Visit{Household: r.h1.ID, Cadre: cadre, At: T.Add(2 * time.Minute), Type: domain.VisitRoutine, Notes: "在家"}
	devMust(t, dev.Put(cadre, visit))
	dNow = T.Add(5*time.Hour + 2*time.Minute + 30*time.Second)
	h.Address = "王坪村一社 12 号"
	devMust(t, dev.Put(cadre, h))

	// The upstream's phone edit reaches the phone before it syncs: the
	// phone's far-ahead edit wins there, and the loss is kept as a conflict.
	out, _ := up.Outbox(dev.Device(), upSeq-1, 0)
	if _, err := dev.Apply(up.Device(), []domain.Change{out[0].Change}); err != nil {
		t.Fatal(err)
	}
	// Real time T+3m: the upstream changes the address, after the phone did.
	uNow = T.Add(3 * time.Minute)
	hu := get(up)
	hu.Address = "王坪村一社 12 号院"
	devMust(t, up.Put(r.office.ID, hu))

	var received domain.Stamp
	devMust(t, dev.Log(0, func(e store.Entry) (bool, error) {
		if e.From != uuid.Nil && e.Change.Stamp.After(received) {
			received = e.Change.Stamp
		}
		return true, nil
	}))

	// The phone syncs at real time T+4m and is told the server's time.
	uNow = T.Add(4 * time.Minute)
	dNow = T.Add(5*time.Hour + 4*time.Minute)
	n, err := dev.Restamp(0, uNow)
	devMust(t, err)
	if n != 6 { // two notes, phone, visit, address, and the conflict
		t.Fatalf("restamped %d changes, want 6", n)
	}
	limit := uNow.Add(domain.MaxSkew).UnixMilli()
	var local []store.Entry
	devMust(t, dev.Log(0, func(e store.Entry) (bool, error) {
		if e.Change.Stamp.Wall > limit {
			t.Errorf("entry %d (%s) still stamped %s ahead", e.Seq, e.Change.Kind, e.Change.Stamp.Time().Sub(uNow))
		}
		if e.From == uuid.Nil && e.Change.Kind != domain.KindConflict && e.Change.Stamp.Device == dev.Device() {
			local = append(local, e)
		}
		return true, nil
	}))
	if len(local) != 5 {
		t.Fatalf("%d local edits", len(local))
	}
	for i := 1; i < len(local); i++ {
		if !local[i].Change.Stamp.After(local[i-1].Change.Stamp) {
			t.Fatalf("edit %d is not after edit %d: %s, %s", i, i-1, local[i].Change.Stamp, local[i-1].Change.Stamp)
		}
	}
	for i, want := range []time.Duration{2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 150 * time.Second} {
		if got := local[i].Change.Stamp.Time().Sub(T); got != want {
			t.Errorf("edit %d restamped at T+%s, want T+%s (its real time)", i, got, want)
		}
	}
	if !local[0].Change.Stamp.After(received) {
		t.Fatalf("a restamped edit (%s) fell behind a value it had beaten (%s)", local[0].Change.Stamp, received)
	}
	if got := local[1].Change.Base["notes"]; got != local[0].Change.Stamp {
		t.Fatalf("the second notes edit saw %s, want the first's new stamp %s", got, local[0].Change.Stamp)
	}
	states, err := dev.FieldStates(domain.KindHousehold, r.h1.ID)
	devMust(t, err)
	if states["notes"].Stamp != local[1].Change.Stamp || states["phone"].Stamp != local[2].Change.Stamp || states["address"].Stamp != local[4].Change.Stamp {
		t.Fatalf("record fields keep old stamps: notes %s phone %s address %s", states["notes"].Stamp, states["phone"].Stamp, states["address"].Stamp)
	}
	if states["head_name"].Stamp.Wall > T.UnixMilli() {
		t.Fatalf("a field the phone did not set was restamped: %s", states["head_name"].Stamp)
	}

	// The clock now runs on the server's time, after the new stamps.
	if off := dev.Clock().Offset(); off != -5*time.Hour {
		t.Fatalf("offset %s, want -5h", off)
	}
	h = get(dev)
	h.Income = "务工"
	devMust(t, dev.Put(cadre, h))
	seq, _ := dev.LastSeq()
	next, _ := dev.Outbox(up.Device(), seq-1, 0)
	if s := next[0].Change.Stamp; !s.After(local[4].Change.Stamp) || s.Time().Sub(uNow).Abs() > time.Second {
		t.Fatalf("next edit stamped %s (T+%s)", s, s.Time().Sub(T))
	}

	// Exchange both ways: the same records and the same conflicts everywhere.
	ship(t, dev, up)
	ship(t, up, dev)
	if a, b := fieldStates(t, dev, domain.KindHousehold, r.h1.ID), fieldStates(t, up, domain.KindHousehold, r.h1.ID); !reflect.DeepEqual(a, b) {
		t.Fatalf("household differs:\nphone    %s\nupstream %s", showStates(a), showStates(b))
	}
	hd := get(dev)
	if hd.Phone != "13900000002" || hd.Address != "王坪村一社 12 号院" {
		t.Fatalf("phone %q (the phone's later edit should win), address %q (the upstream's later edit should win)", hd.Phone, hd.Address)
	}
	cd, cu := conflicts(t, dev), conflicts(t, up)
	if len(cd) != 2 || !reflect.DeepEqual(cd, cu) {
		t.Errorf("conflicts differ or are missing: %d on the phone, %d upstream", len(cd), len(cu))
		for id, st := range cd {
			t.Errorf("phone    %s: %s", id, showStates(st))
		}
		for id, st := range cu {
			t.Errorf("upstream %s: %s", id, showStates(st))
		}
		t.FailNow()
	}
	for _, c := range cd {
		var loser string
		json.Unmarshal(c["loser"].Value, &loser)
		var field string
		json.Unmarshal(c["field"].Value, &field)
		if (field == "phone" && loser != "13800000001") || (field == "address" && loser != "王坪村一社 12 号") {
			t.Fatalf("conflict on %s kept %q", field, loser)
		}
	}

	// The clock survives a reopen.
	last := dev.Clock().Last()
	path := dev.Path()
	devMust(t, dev.Close())
	dev2, err := store.Open(path, &store.Options{Now: func() time.Time { return dNow }})
	devMust(t, err)
	defer dev2.Close()
	if got := dev2.Clock().Last(); got != last {
		t.Fatalf("clock after reopen %s, want %s", got, last)
	}
}

func fieldStates(t *testing.T, db *store.DB, kind domain.Kind, id uuid.UUID) map[string]domain.FieldState {
	t.Helper()
	st, err := db.FieldStates(kind, id)
	devMust(t, err)
	return st
}

// conflicts returns the field states of every conflict record, by ID.
func conflicts(t *testing.T, db *store.DB) map[uuid.UUID]map[string]domain.FieldState {
	t.Helper()
	out := map[uuid.UUID]map[string]domain.FieldState{}
	devMust(t, db.Each(domain.KindConflict, func(rec domain.Record) error {
		out[rec.Metadata().ID] = maps.Clone(fieldStates(t, db, domain.KindConflict, rec.Metadata().ID))
		return nil
	}))
	return out
}

// showStates formats field states one field a line, in name order.
func showStates(st map[string]domain.FieldState) string {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(st)) {
		fmt.Fprintf(&b, "\n\t%s = %s @ %s", name, st[name].Value, st[name].Stamp)
	}
	return b.String()
}
