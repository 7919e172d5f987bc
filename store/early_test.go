package store_test

import (
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/store/query"
)

// TestEarlyArrival: on phone a 李建国 corrects 王's phone number (edit A)
// and corrects it again (edit B, made on A). Replica c receives A then B,
// in causal order: nothing reported, no conflict. Replica d receives B
// first — as a relay, or a change set aside and offered again later, can
// deliver it — then A. d reports B's field once (Options.Early), naming
// the stamp B saw, the older one d held and the conflict the merge made for
// it, and merges as always: d ends with B's number, as c does, and with the
// two conflicts domain.MergeField describes (the number A replaced lost to
// B, and A lost to B), which c does not have.
func TestEarlyArrival(t *testing.T) {
	dir := t.TempDir()
	a := mustOpenAt(t, filepath.Join(dir, "a.db"), fixtureNow)
	c := mustOpenAt(t, filepath.Join(dir, "c.db"), fixtureNow)
	var early []replica.Early
	d, err := store.Open(filepath.Join(dir, "d.db"), &store.Options{Now: clockAt(fixtureNow),
		Early: func(e replica.Early) { early = append(early, e) }})
	must(t, err)
	defer d.Close()
	v := buildVillage(t, a, fixtureNow)
	sent := shipLog(t, a, c, 0)
	shipLog(t, a, d, 0)
	if len(early) != 0 {
		t.Fatalf("the village, shipped in order, was reported early: %v", early)
	}

	held, err := a.FieldStates(domain.KindHousehold, v.Wang.ID)
	must(t, err)
	c0 := held["phone"]
	for _, phone := range []string{"13800000011", "13800000012"} {
		h, err := a.Get(domain.KindHousehold, v.Wang.ID)
		must(t, err)
		h.(*domain.Household).Phone = phone
		mustPut(t, a, v.Li.ID, h)
	}
	out, err := a.Outbox(uuid.Nil, sent, 0)
	must(t, err)
	if len(out) != 2 {
		t.Fatalf("%d changes in the outbox, want 2", len(out))
	}
	A, B := out[0].Change, out[1].Change
	if B.Base["phone"] != A.Stamp || A.Base["phone"] != c0.Stamp {
		t.Fatalf("bases: A saw %s (want %s), B saw %s (want A's %s)", A.Base["phone"], c0.Stamp, B.Base["phone"], A.Stamp)
	}

	apply := func(db *store.DB, chs ...domain.Change) {
		t.Helper()
		rej, err := db.Apply(a.Device(), chs)
		must(t, err)
		for _, r := range rej {
			if r != nil {
				t.Fatalf("rejected: %v", r)
			}
		}
	}
	apply(c, A, B)
	apply(d, B)
	if len(early) != 1 {
		t.Fatalf("d reported %d early fields, want B's phone: %v", len(early), early)
	}
	want := replica.Early{From: a.Device(), Change: B.ID, Device: a.Device(), Kind: domain.KindHousehold, Record: v.Wang.ID,
		Field: "phone", Base: A.Stamp, Held: c0.Stamp, Conflict: domain.ConflictID(v.Wang.ID, "phone", c0.Stamp)}
	if early[0] != want {
		t.Errorf("reported %+v\nwant     %+v", early[0], want)
	}
	apply(d, A)
	apply(d, B) // again: seen, nothing merged, nothing reported
	if len(early) != 1 {
		t.Errorf("A, and B again, were reported too: %v", early)
	}

	for name, db := range map[string]*store.DB{"c": c, "d": d} {
		h, err := db.Get(domain.KindHousehold, v.Wang.ID)
		must(t, err)
		if got := h.(*domain.Household).Phone; got != "13800000012" {
			t.Errorf("%s: phone %s, want B's 13800000012", name, got)
		}
	}
	if rows, err := query.Conflicts(c, v.Vil.ID, true); err != nil || len(rows) != 0 {
		t.Errorf("c, in causal order, has conflicts %v (%v)", rows, err)
	}
	rows, err := query.Conflicts(d, v.Vil.ID, true)
	must(t, err)
	lost := map[string]uuid.UUID{}
	for _, r := range rows {
		lost[string(r.Conflict.Loser)] = r.Conflict.ID
	}
	if len(rows) != 2 || lost[string(c0.Value)] != want.Conflict || lost[`"13800000011"`] == uuid.Nil {
		t.Errorf("d's conflicts lose %v, want %s (the one reported, %s) and A's \"13800000011\"", lost, c0.Value, want.Conflict)
	}
}
