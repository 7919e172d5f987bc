package store_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// devRoster is a small roster: a city, a town, two villages, a group in each
// (two in the first), households, and cadres with assignments.
type devRoster struct {
	city, town, vil1, vil2 *domain.Place
	g1, g2, g3             *domain.Place // g1, g2 in vil1; g3 in vil2
	h1, h2, h3             *domain.Household
	groupCadre, leader     *domain.Cadre
	office                 *domain.Cadre
}

func devOpen(t *testing.T, name string, now func() time.Time) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), name), &store.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func devMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func buildDevRoster(t *testing.T, db *store.DB) *devRoster {
	t.Helper()
	admin := uuid.New()
	r := &devRoster{}
	r.city = &domain.Place{Level: domain.City, Name: "临夏市"}
	devMust(t, db.Put(admin, r.city))
	r.town = &domain.Place{Level: domain.Town, Name: "枹罕镇", Parent: r.city.ID}
	devMust(t, db.Put(admin, r.town))
	r.vil1 = &domain.Place{Level: domain.Village, Name: "王坪村", Parent: r.town.ID}
	r.vil2 = &domain.Place{Level: domain.Village, Name: "石头村", Parent: r.town.ID}
	devMust(t, db.Put(admin, r.vil1, r.vil2))
	r.g1 = &domain.Place{Level: domain.Group, Name: "一社", Parent: r.vil1.ID}
	r.g2 = &domain.Place{Level: domain.Group, Name: "二社", Parent: r.vil1.ID}
	r.g3 = &domain.Place{Level: domain.Group, Name: "一社", Parent: r.vil2.ID}
	devMust(t, db.Put(admin, r.g1, r.g2, r.g3))
	r.h1 = &domain.Household{HeadName: "王兴文", Group: r.g1.ID, Status: domain.Registered, Size: 4}
	r.h2 = &domain.Household{HeadName: "马进福", Group: r.g2.ID, Status: domain.Lifted, Size: 3}
	r.h3 = &domain.Household{HeadName: "李春花", Group: r.g3.ID, Status: domain.Monitored, Size: 2}
	devMust(t, db.Put(admin, r.h1, r.h2, r.h3))
	r.groupCadre = &domain.Cadre{Name: "马兴文", Rank: domain.RankOther}
	r.leader = &domain.Cadre{Name: "王队长", Rank: domain.RankSection}
	r.office = &domain.Cadre{Name: "赵主任", Rank: domain.RankSection}
	devMust(t, db.Put(admin, r.groupCadre, r.leader, r.office))
	devMust(t, db.Put(admin,
		&domain.Assignment{Cadre: r.groupCadre.ID, Role: domain.GroupCadre, Target: r.g1.ID},
		&domain.Assignment{Cadre: r.groupCadre.ID, Role: domain.Helper, Target: r.h3.ID},
		&domain.Assignment{Cadre: r.leader.ID, Role: domain.TeamLeader, Target: r.vil1.ID},
		&domain.Assignment{Cadre: r.office.ID, Role: domain.Office, Target: r.city.ID},
	))
	return r
}

func TestReach(t *testing.T) {
	db := devOpen(t, "server.db", nil)
	r := buildDevRoster(t, db)

	got, err := db.Reach(r.groupCadre.ID)
	devMust(t, err)
	if len(got) != 2 {
		t.Fatalf("group cadre reaches %+v", got)
	}
	for _, a := range got {
		switch a.Role {
		case domain.GroupCadre:
			want := store.Location{Group: r.g1.ID, Village: r.vil1.ID, Town: r.town.ID}
			if a.Target != r.g1.ID || a.Level != domain.Group || a.Location != want ||
				len(a.Households) != 1 || a.Households[0] != r.h1.ID {
				t.Fatalf("group assignment %+v", a)
			}
		case domain.Helper:
			want := store.Location{Household: r.h3.ID, Group: r.g3.ID, Village: r.vil2.ID, Town: r.town.ID}
			if a.Target != r.h3.ID || a.Level != "" || a.Location != want {
				t.Fatalf("pairing %+v", a)
			}
		default:
			t.Fatalf("unexpected %+v", a)
		}
	}
	got, err = db.Reach(r.office.ID)
	devMust(t, err)
	if len(got) != 1 || got[0].Level != domain.City || got[0].Location != (store.Location{}) {
		t.Fatalf("office reaches %+v", got)
	}
	// A deleted assignment reaches nothing.
	var leaderAssignment uuid.UUID
	devMust(t, db.Each(domain.KindAssignment, func(rec domain.Record) error {
		if a := rec.(*domain.Assignment); a.Cadre == r.leader.ID {
			leaderAssignment = a.ID
		}
		return nil
	}))
	devMust(t, db.Delete(uuid.New(), domain.KindAssignment, leaderAssignment))
	if got, err := db.Reach(r.leader.ID); err != nil || len(got) != 0 {
		t.Fatalf("leader after deletion reaches %+v %v", got, err)
	}
}

func TestApplyChecked(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	server := devOpen(t, "server.db", func() time.Time { return now })
	r := buildDevRoster(t, server)
	phone := devOpen(t, "phone.db", func() time.Time { return now })
	ship(t, server, phone)

	cadre := r.groupCadre.ID
	ownHousehold := &domain.Visit{Household: r.h1.ID, Cadre: cadre, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "在家"}
	otherVillage := &domain.Visit{Household: r.h3.ID, Cadre: cadre, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "在家"}
	newHousehold := &domain.Household{HeadName: "新户", Group: r.g1.ID, Status: domain.Ordinary, Size: 1}
	devMust(t, phone.Put(cadre, ownHousehold))
	devMust(t, phone.Put(cadre, newHousehold))
	visitNew := &domain.Visit{Household: newHousehold.ID, Cadre: cadre, At: now.Add(-time.Minute), Type: domain.VisitRoutine, Notes: "新户走访"}
	devMust(t, phone.Put(cadre, visitNew))
	devMust(t, phone.Put(cadre, otherVillage))

	out, err := phone.Outbox(server.Device(), 0, 0)
	devMust(t, err)
	var changes []domain.Change
	for _, e := range out {
		changes = append(changes, e.Change)
	}
	forbidden := &domain.Error{Code: domain.EFORBIDDEN, Zh: "不在范围内", En: "out of scope"}
	type seen struct {
		kind           domain.Kind
		before, after  store.Location
		existed        bool
		householdKnown bool
	}
	var checked []seen
	onlyGroup1 := func(ch domain.Change, before store.Location, existed bool, after store.Location) error {
		checked = append(checked, seen{ch.Kind, before, after, existed, after.Village != uuid.Nil})
		if after.Group != r.g1.ID || (existed && before.Group != r.g1.ID) {
			return forbidden
		}
		return nil
	}
	last, err := server.LastSeq()
	devMust(t, err)
	_, err = server.ApplyChecked(phone.Device(), changes, onlyGroup1)
	if !errors.Is(err, forbidden) {
		t.Fatalf("push with a visit to another village: %v, want forbidden", err)
	}
	var refused *store.Refused
	if !errors.As(err, &refused) || !slices.Equal(refused.Indexes, []int{3}) {
		t.Fatalf("refusal names %+v, want exactly change 3", refused)
	}
	if now, _ := server.LastSeq(); now != last {
		t.Fatalf("a refused push wrote %d log entries", now-last)
	}
	for _, ch := range changes {
		if ok, _ := server.Seen(ch.ID); ok {
			t.Fatalf("a refused push applied %s %s", ch.Kind, ch.ID)
		}
	}
	// The visit to the household created earlier in the same push was
	// located through that household: the check sees the batch's own state.
	if len(checked) != 4 || checked[2].kind != domain.KindVisit || checked[2].after.Group != r.g1.ID || checked[2].after.Village != r.vil1.ID {
		t.Fatalf("checks: %+v", checked)
	}
	if checked[3].after.Village != r.vil2.ID || checked[3].after.Household != r.h3.ID {
		t.Fatalf("the out-of-scope visit was located at %+v", checked[3].after)
	}

	// Without the stray visit the push goes through, and again changes nothing.
	for range 2 {
		checked = nil
		rej, err := server.ApplyChecked(phone.Device(), changes[:3], onlyGroup1)
		devMust(t, err)
		for i, e := range rej {
			if e != nil {
				t.Fatalf("change %d rejected: %v", i, e)
			}
		}
	}
	if len(checked) != 0 {
		t.Fatalf("seen changes were checked again: %+v", checked)
	}
	if _, err := server.Get(domain.KindVisit, visitNew.ID); err != nil {
		t.Fatal(err)
	}

	// Moving a household out of the group is refused by where it was before.
	checked = nil
	h := *newHousehold
	h.Group = r.g3.ID
	devMust(t, phone.Put(cadre, &h))
	seq, _ := phone.LastSeq()
	out, _ = phone.Outbox(server.Device(), seq-1, 0)
	if _, err := server.ApplyChecked(phone.Device(), []domain.Change{out[0].Change}, func(ch domain.Change, before store.Location, existed bool, after store.Location) error {
		if !existed || before.Group != r.g1.ID || after.Group != r.g3.ID || after.Village != r.vil2.ID {
			t.Errorf("move located %+v -> %+v (existed %v)", before, after, existed)
		}
		return forbidden
	}); !errors.Is(err, forbidden) {
		t.Fatal(err)
	}
}

// ship applies every change of from to to, as received from from.
func ship(t *testing.T, from, to *store.DB) {
	t.Helper()
	out, err := from.Outbox(to.Device(), 0, 0)
	devMust(t, err)
	var changes []domain.Change
	for _, e := range out {
		changes = append(changes, e.Change)
	}
	rej, err := to.Apply(from.Device(), changes)
	devMust(t, err)
	for i, e := range rej {
		if e != nil {
			t.Fatalf("ship: change %d (%s) rejected: %v", i, changes[i].Kind, e)
		}
	}
}

// TestVisitOfACadreNotHeld: a device reads only the cadres it needs, so it
// may hold a visit whose cadre it does not (the visit's author was since
// transferred, or the household came from another village). Editing that
// visit is allowed; a new visit still needs its cadre.
func TestVisitOfACadreNotHeld(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	db := devOpen(t, "phone.db", func() time.Time { return now })
	r := buildDevRoster(t, db)
	v := &domain.Visit{Household: r.h1.ID, Cadre: r.leader.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "家中无人"}
	devMust(t, db.Put(r.leader.ID, v))
	devMust(t, db.Delete(r.leader.ID, domain.KindCadre, r.leader.ID))
	v.Notes = "补记：户主外出务工"
	if err := db.Put(r.groupCadre.ID, v); err != nil {
		t.Fatalf("editing the visit of a cadre not held: %v", err)
	}
	w := &domain.Visit{Household: r.h1.ID, Cadre: r.leader.ID, At: now.Add(-time.Minute), Type: domain.VisitRoutine, Notes: "x"}
	if err := db.Put(r.groupCadre.ID, w); err == nil {
		t.Fatal("a new visit by a cadre not held was saved")
	}
}
