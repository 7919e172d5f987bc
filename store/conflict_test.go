package store_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// shipLog applies to dst every change of src's log after seq, as sync would,
// and returns src's last sequence.
func shipLog(tb testing.TB, src, dst *store.DB, after uint64) uint64 {
	tb.Helper()
	out, err := src.Outbox(uuid.Nil, after, 0)
	must(tb, err)
	var chs []domain.Change
	for _, e := range out {
		chs = append(chs, e.Change)
	}
	rej, err := dst.Apply(src.Device(), chs)
	must(tb, err)
	for i, r := range rej {
		if r != nil {
			tb.Fatalf("change %d rejected: %v", i, r)
		}
	}
	seq, err := src.LastSeq()
	must(tb, err)
	return seq
}

// twoReplicas returns the fixture on a and a copy on b, and the sequences
// each has sent the other.
func twoReplicas(t *testing.T) (a, b *store.DB, v *village, sentA, sentB uint64) {
	dir := t.TempDir()
	a = mustOpenAt(t, filepath.Join(dir, "a.db"), fixtureNow)
	b = mustOpenAt(t, filepath.Join(dir, "b.db"), fixtureNow)
	v = buildVillage(t, a, fixtureNow)
	sentA = shipLog(t, a, b, 0)
	sentB, _ = b.LastSeq() // what b received needs no sending back
	return a, b, v, sentA, sentB
}

func TestResolveConflictKeepingTheLoser(t *testing.T) {
	a, b, v, sentA, sentB := twoReplicas(t)

	// 李建国 on phone a and 何秀英 on phone b change the same phone number
	// without seeing each other's edit.
	ha, _ := a.Get(domain.KindHousehold, v.Wang.ID)
	hb, _ := b.Get(domain.KindHousehold, v.Wang.ID)
	ha.(*domain.Household).Phone = "13800000011"
	hb.(*domain.Household).Phone = "13900000022"
	mustPut(t, a, v.Li.ID, ha)
	mustPut(t, b, v.He.ID, hb)
	sentA = shipLog(t, a, b, sentA)
	sentB = shipLog(t, b, a, sentB)

	ga, _ := a.Get(domain.KindHousehold, v.Wang.ID)
	gb, _ := b.Get(domain.KindHousehold, v.Wang.ID)
	winner := ga.(*domain.Household).Phone
	if winner != gb.(*domain.Household).Phone {
		t.Fatalf("replicas diverged: %s / %s", winner, gb.(*domain.Household).Phone)
	}
	loser := map[string]string{"13800000011": "13900000022", "13900000022": "13800000011"}[winner]
	winnerAuthor, loserAuthor := v.Li, v.He
	if winner == "13900000022" {
		winnerAuthor, loserAuthor = v.He, v.Li
	}

	for _, db := range []*store.DB{a, b} {
		rows, err := query.Conflicts(db, v.Vil.ID, true)
		must(t, err)
		if len(rows) != 1 {
			t.Fatalf("%d open conflicts, want 1", len(rows))
		}
		r := rows[0]
		if r.Conflict.Field != "phone" || r.Conflict.Record != v.Wang.ID || r.Household == nil || r.Household.ID != v.Wang.ID ||
			string(r.Conflict.Loser) != `"`+loser+`"` || string(r.Conflict.Winner) != `"`+winner+`"` {
			t.Errorf("conflict row = %+v / %+v", r.Conflict, r.Household)
		}
		if r.Winner == nil || r.Winner.ID != winnerAuthor.ID || r.Loser == nil || r.Loser.ID != loserAuthor.ID {
			t.Errorf("conflict authors = %v / %v, want %s / %s", r.Winner, r.Loser, winnerAuthor.Name, loserAuthor.Name)
		}
	}
	rows, _ := query.Conflicts(a, v.Vil.ID, true)
	id := rows[0].Conflict.ID
	if other, _ := query.Conflicts(a, uuid.New(), true); len(other) != 0 {
		t.Errorf("another village sees the conflict")
	}

	// The team leader keeps the loser's number.
	seq, _ := a.LastSeq()
	must(t, a.ResolveConflict(v.Zhao.ID, id, true))
	if got, _ := a.LastSeq(); got != seq+2 {
		t.Errorf("resolving logged %d entries, want 2 (the record and the conflict)", got-seq)
	}
	h, _ := a.Get(domain.KindHousehold, v.Wang.ID)
	if h.(*domain.Household).Phone != loser {
		t.Errorf("phone = %s, want the loser's %s", h.(*domain.Household).Phone, loser)
	}
	fs, _ := a.FieldStates(domain.KindHousehold, v.Wang.ID)
	if fs["phone"].Author != v.Zhao.ID {
		t.Errorf("phone set by %s, want the team leader", fs["phone"].Author)
	}
	if open, _ := query.Conflicts(a, v.Vil.ID, true); len(open) != 0 {
		t.Errorf("still open: %+v", open)
	}
	all, _ := query.Conflicts(a, v.Vil.ID, false)
	if len(all) != 1 || !all[0].Conflict.Resolved || all[0].Conflict.ResolvedBy != v.Zhao.ID || all[0].Conflict.ResolvedAt.IsZero() {
		t.Errorf("resolved conflict = %+v", all)
	}
	err := a.ResolveConflict(v.Zhao.ID, id, false)
	var e *domain.Error
	if !errors.As(err, &e) || e.Code != domain.ECONFLICT {
		t.Errorf("resolving twice: %v, want ECONFLICT", err)
	}
	if err := a.ResolveConflict(v.Zhao.ID, uuid.New(), true); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("resolving nothing: %v", err)
	}

	// The other replica learns both the value and the resolution.
	shipLog(t, a, b, sentA)
	h, _ = b.Get(domain.KindHousehold, v.Wang.ID)
	if h.(*domain.Household).Phone != loser {
		t.Errorf("b's phone = %s, want %s", h.(*domain.Household).Phone, loser)
	}
	if open, _ := query.Conflicts(b, uuid.Nil, true); len(open) != 0 {
		t.Errorf("b still has open conflicts: %+v", open)
	}
}

func TestResolveConflictKeepingTheWinner(t *testing.T) {
	a, b, v, sentA, sentB := twoReplicas(t)
	// A roster record: the cadre's phone.
	ca, _ := a.Get(domain.KindCadre, v.Li.ID)
	cb, _ := b.Get(domain.KindCadre, v.Li.ID)
	ca.(*domain.Cadre).Phone = "13909301111"
	cb.(*domain.Cadre).Phone = "13909302222"
	mustPut(t, a, v.Office, ca)
	mustPut(t, b, v.Office, cb)
	shipLog(t, a, b, sentA)
	shipLog(t, b, a, sentB)

	rows, err := query.Conflicts(a, v.Vil.ID, true)
	must(t, err)
	if len(rows) != 1 || rows[0].Household != nil || rows[0].Conflict.RecordKind != domain.KindCadre {
		t.Fatalf("roster conflict rows = %+v", rows)
	}
	before, _ := a.Get(domain.KindCadre, v.Li.ID)
	seq, _ := a.LastSeq()
	must(t, a.ResolveConflict(v.Zhao.ID, rows[0].Conflict.ID, false))
	after, _ := a.Get(domain.KindCadre, v.Li.ID)
	if before.(*domain.Cadre).Phone != after.(*domain.Cadre).Phone {
		t.Errorf("keeping the winner changed the phone %s -> %s", before.(*domain.Cadre).Phone, after.(*domain.Cadre).Phone)
	}
	if got, _ := a.LastSeq(); got != seq+1 {
		t.Errorf("keeping the winner logged %d entries, want 1 (the conflict)", got-seq)
	}
	if open, _ := query.Conflicts(a, uuid.Nil, true); len(open) != 0 {
		t.Errorf("still open: %+v", open)
	}
}
