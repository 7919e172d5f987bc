package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// TestLeavingWithHousehold: what waits to leave a device stays or goes
// with its household. A device holds a household, its plan and a visit,
// pulled from upstream. Then:
//
//   - the plan and the visit alone are named as left: the household stays,
//     so they are back with it, and nothing waits;
//   - the household is named as left with them, and kept while the user has
//     a refusal about it to see; the refusal gone (its change taken
//     upstream), the household is no more in scope than before and all
//     three go;
//   - pulled again and named as left again, kept, and then its own state
//     comes back (its household moved back in) while the plan's has not
//     yet: the plan and the visit stay, with no plan missing from the
//     household the device shows;
//   - named as left once more after the device recorded a visit of its own
//     there, which the upstream took: the visit, never named, goes with
//     its household.
func TestLeavingWithHousehold(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	up := devOpen(t, "up.db", clockAt(now))
	r := buildDevRoster(t, up)
	plan := &domain.Plan{Household: r.h1.ID, Start: now.AddDate(0, -1, 0), Status: domain.PlanDraft, Goal: "发展养殖，年增收三千元"}
	visit := &domain.Visit{Household: r.h1.ID, Cadre: r.groupCadre.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine,
		Notes: "入户核实家庭收入，讲解养殖补贴。", Water: domain.WaterSafe}
	devMust(t, up.Put(r.groupCadre.ID, plan, visit))
	stateOf := func(ids ...uuid.UUID) []domain.Change {
		t.Helper()
		var out []domain.Change
		devMust(t, up.Log(0, func(e store.Entry) (bool, error) {
			for _, id := range ids {
				if e.Change.Record == id {
					out = append(out, e.Change)
				}
			}
			return true, nil
		}))
		return out
	}
	var all []domain.Change
	devMust(t, up.Log(0, func(e store.Entry) (bool, error) {
		all = append(all, e.Change)
		return true, nil
	}))

	dev := devOpen(t, "dev.db", clockAt(now))
	apply := func(p store.Page) {
		t.Helper()
		_, _, err := dev.ApplyPage(up.Device(), p)
		devMust(t, err)
	}
	holds := func(step string, want bool, recs ...domain.Record) {
		t.Helper()
		for _, rec := range recs {
			_, err := dev.Get(rec.Kind(), rec.Metadata().ID)
			if got := err == nil; got != want {
				t.Errorf("%s: the device holds the %s: %v, want %v (%v)", step, rec.Kind(), got, want, err)
			}
		}
	}
	waiting := func(step string, want int) {
		t.Helper()
		n, err := dev.Leaving()
		devMust(t, err)
		if n != want {
			t.Errorf("%s: %d records wait to leave, want %d", step, n, want)
		}
	}
	h1 := r.h1
	left := func(recs ...domain.Record) []store.Ref {
		var out []store.Ref
		for _, rec := range recs {
			out = append(out, store.Ref{Kind: rec.Kind(), ID: rec.Metadata().ID})
		}
		return out
	}
	apply(store.Page{Reset: true, Settled: true, State: all})
	holds("pulled", true, h1, plan, visit)

	apply(store.Page{Left: left(plan, visit)})
	holds("plan and visit named as left, their household not", true, h1, plan, visit)
	waiting("plan and visit named as left, their household not", 0)

	apply(store.Page{Left: left(h1, plan, visit), Keep: []uuid.UUID{h1.ID}})
	holds("the household named as left, kept", true, h1, plan, visit)
	waiting("the household named as left, kept", 3)
	apply(store.Page{})
	holds("the household's change taken upstream", false, h1, plan, visit)
	waiting("the household's change taken upstream", 0)

	apply(store.Page{State: all})
	apply(store.Page{Left: left(h1, plan, visit), Keep: []uuid.UUID{h1.ID}})
	waiting("named as left again, kept", 3)
	apply(store.Page{State: stateOf(h1.ID), Continues: true})
	apply(store.Page{})
	holds("the household back, its plan not yet", true, h1, plan, visit)
	waiting("the household back, its plan not yet", 0)

	// A visit of the device's own, taken upstream: the upstream names
	// what leaves as it knew the device to hold it, not this visit; it
	// goes with its household all the same.
	own := &domain.Visit{Household: h1.ID, Cadre: r.groupCadre.ID, At: now.Add(-2 * time.Hour), Type: domain.VisitRoutine,
		Notes: "再次入户，了解务工收入。", Water: domain.WaterSafe}
	devMust(t, dev.Put(r.groupCadre.ID, own))
	sent, err := dev.LastSeq()
	devMust(t, err)
	apply(store.Page{Left: left(h1, plan, visit), Unsent: sent})
	holds("the household named as left, the device's own visit not", false, h1, plan, visit, own)
	waiting("the household named as left, the device's own visit not", 0)
}

// TestSettleWhatTheDeviceWrote: a catch-up with a reset, and the device
// writes meanwhile. The walk of the state may have passed what it wrote
// before the upstream took it, so a record it wrote about stays at the
// end when its household is held (in scope): its new visit of a household
// the state brought. One whose household the state did not bring left the
// scope with it: it waits to leave while the write is unsent, and goes
// once it is sent (taken or refused, the upstream answers for it: Keep
// keeps what the user has to see). It stayed for good when every record
// the device wrote about since the catch-up began was spared.
func TestSettleWhatTheDeviceWrote(t *testing.T) {
	now, r, dev, apply, rest, sent := settleCase(t, func(r *devRoster) uuid.UUID { return r.h1.ID })
	var err error

	// h1 left the scope; the catch-up begins, and the device writes a
	// visit of h1 (which it still shows) and one of h2 (in scope).
	apply(store.Page{Reset: true, Unsent: sent, State: rest[:len(rest)/2]})
	away := &domain.Visit{Household: r.h1.ID, Cadre: r.groupCadre.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine,
		Notes: "入户了解务工收入。", Water: domain.WaterSafe}
	here := &domain.Visit{Household: r.h2.ID, Cadre: r.groupCadre.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine,
		Notes: "讲解养殖补贴政策。", Water: domain.WaterSafe}
	devMust(t, dev.Put(r.groupCadre.ID, away, here))
	apply(store.Page{Settled: true, Unsent: sent, State: rest[len(rest)/2:]})
	for _, rec := range []domain.Record{r.h1, away, here} {
		if _, err := dev.Get(rec.Kind(), rec.Metadata().ID); err != nil {
			t.Errorf("settled, the writes unsent: the %s is gone: %v", rec.Kind(), err)
		}
	}
	if n, err := dev.Leaving(); err != nil || n != 2 {
		t.Errorf("settled, the writes unsent: %d records wait to leave (%v), want 2: h1 and its visit", n, err)
	}

	sent, err = dev.LastSeq()
	devMust(t, err)
	apply(store.Page{Unsent: sent})
	for _, rec := range []domain.Record{r.h1, away} {
		if _, err := dev.Get(rec.Kind(), rec.Metadata().ID); err == nil {
			t.Errorf("the writes sent: the %s of the household that left is still there", rec.Kind())
		}
	}
	if _, err := dev.Get(domain.KindVisit, here.ID); err != nil {
		t.Errorf("the writes sent: the visit of a household in scope is gone: %v", err)
	}
	if n, err := dev.Leaving(); err != nil || n != 0 {
		t.Errorf("the writes sent: %d records wait to leave (%v)", n, err)
	}
}

// TestSettleAcknowledged: the same catch-up, but the visit of the household
// that left is acknowledged by the page that ends it (the upstream had it
// already: it took it while the household was back for a moment, and does
// not judge it again). Nothing keeps the household: it goes with the
// catch-up's end, not at some later sync, which may be hours away.
func TestSettleAcknowledged(t *testing.T) {
	now, r, dev, apply, rest, sent := settleCase(t, func(r *devRoster) uuid.UUID { return r.h1.ID })
	var err error
	apply(store.Page{Reset: true, Unsent: sent, State: rest[:len(rest)/2]})
	away := &domain.Visit{Household: r.h1.ID, Cadre: r.groupCadre.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine,
		Notes: "入户了解务工收入。", Water: domain.WaterSafe}
	devMust(t, dev.Put(r.groupCadre.ID, away))
	sent, err = dev.LastSeq()
	devMust(t, err)
	apply(store.Page{Settled: true, Unsent: sent, State: rest[len(rest)/2:]})
	for _, rec := range []domain.Record{r.h1, away} {
		if _, err := dev.Get(rec.Kind(), rec.Metadata().ID); err == nil {
			t.Errorf("the %s of the household that left is still there at the catch-up's end", rec.Kind())
		}
	}
	if n, err := dev.Leaving(); err != nil || n != 0 {
		t.Errorf("%d records wait to leave (%v), though nothing keeps them", n, err)
	}
}

// TestSettleWithTail: the page that ends a catch-up with a reset carries
// the log's tail after the state, and a record the tail creates (written
// upstream after the walk of the state read its kind) is in scope like the
// state's: it stays, whether it belongs to a household (a visit) or not (a
// new group, a cadre's duty there).
func TestSettleWithTail(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	up := devOpen(t, "up.db", clockAt(now))
	r := buildDevRoster(t, up)
	var all []domain.Change
	devMust(t, up.Log(0, func(e store.Entry) (bool, error) {
		all = append(all, e.Change)
		return true, nil
	}))
	last, err := up.LastSeq()
	devMust(t, err)
	visit := &domain.Visit{Household: r.h1.ID, Cadre: r.groupCadre.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine,
		Notes: "入户核实家庭收入。", Water: domain.WaterSafe}
	devMust(t, up.Put(r.groupCadre.ID, visit))
	group := &domain.Place{Level: domain.Group, Name: "三社", Parent: r.vil1.ID}
	admin := uuid.New()
	devMust(t, up.Put(admin, group))
	duty := &domain.Assignment{Cadre: r.groupCadre.ID, Role: domain.GroupCadre, Target: group.ID}
	devMust(t, up.Put(admin, duty))
	var tail []domain.Change
	devMust(t, up.Log(last, func(e store.Entry) (bool, error) {
		tail = append(tail, e.Change)
		return true, nil
	}))
	dev := devOpen(t, "dev.db", clockAt(now))
	if _, _, err := dev.ApplyPage(up.Device(), store.Page{Reset: true, Settled: true, State: all, Changes: tail}); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []domain.Record{visit, group, duty} {
		if _, err := dev.Get(rec.Kind(), rec.Metadata().ID); err != nil {
			t.Errorf("the %s the tail brought is gone: %v", rec.Kind(), err)
		}
	}
}

// TestSettleWhatTheDeviceWroteOnTheRoster: the same for the roster, whose
// unit is the village. During a catch-up with a reset, a team leader's
// device edits the rules of a village that left its scope, and adds a group
// to one it still leads. The new group stays (its village is held); the
// village that left waits while the edit is unsent, then goes.
func TestSettleWhatTheDeviceWroteOnTheRoster(t *testing.T) {
	_, r, dev, apply, rest, sent := settleCase(t, func(r *devRoster) uuid.UUID { return r.vil2.ID })

	apply(store.Page{Reset: true, Unsent: sent, State: rest[:len(rest)/2]})
	got, err := dev.Get(domain.KindPlace, r.vil2.ID)
	devMust(t, err)
	vil2 := got.(*domain.Place)
	rules := domain.DefaultRules()
	rules.OverdueDays = 45
	vil2.Rules = &rules
	group := &domain.Place{Level: domain.Group, Name: "三社", Parent: r.vil1.ID}
	devMust(t, dev.Put(r.leader.ID, vil2, group))
	apply(store.Page{Settled: true, Unsent: sent, State: rest[len(rest)/2:]})
	for _, rec := range []domain.Record{vil2, group} {
		if _, err := dev.Get(rec.Kind(), rec.Metadata().ID); err != nil {
			t.Errorf("settled, the writes unsent: the place %s is gone: %v", rec.(*domain.Place).Name, err)
		}
	}
	if n, err := dev.Leaving(); err != nil || n != 1 {
		t.Errorf("settled, the writes unsent: %d records wait to leave (%v), want 1: the village", n, err)
	}

	sent, err = dev.LastSeq()
	devMust(t, err)
	apply(store.Page{Unsent: sent})
	if _, err := dev.Get(domain.KindPlace, vil2.ID); err == nil {
		t.Error("the writes sent: the village that left is still there")
	}
	if _, err := dev.Get(domain.KindPlace, group.ID); err != nil {
		t.Errorf("the writes sent: the group added to a village in scope is gone: %v", err)
	}
}

// settleCase sets up the catch-ups of the TestSettle tests: a device that
// holds the whole of an upstream's roster (pulled, settled), and the state
// of that roster but the record left names, which left the scope. It
// returns the upstream's time, its roster, the device, how it applies a
// page, that state and the device's last log sequence (nothing unsent).
func settleCase(t *testing.T, left func(*devRoster) uuid.UUID) (time.Time, *devRoster, *store.DB, func(store.Page), []domain.Change, uint64) {
	t.Helper()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	up := devOpen(t, "up.db", clockAt(now))
	r := buildDevRoster(t, up)
	gone := left(r)
	var all, rest []domain.Change
	devMust(t, up.Log(0, func(e store.Entry) (bool, error) {
		all = append(all, e.Change)
		if e.Change.Record != gone {
			rest = append(rest, e.Change)
		}
		return true, nil
	}))
	dev := devOpen(t, "dev.db", clockAt(now))
	apply := func(p store.Page) {
		t.Helper()
		_, _, err := dev.ApplyPage(up.Device(), p)
		devMust(t, err)
	}
	apply(store.Page{Reset: true, Settled: true, State: all})
	sent, err := dev.LastSeq()
	devMust(t, err)
	return now, r, dev, apply, rest, sent
}
