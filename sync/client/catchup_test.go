package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// inScope checks that the device holds exactly the records of its cadre's
// current scope, with the server's values, stamps and authors.
func inScope(t *testing.T, when string, srv *synctest.Server, d *synctest.Device) int {
	t.Helper()
	readable, err := server.Readable(srv.DB, d.Cadre)
	if err != nil {
		t.Fatal(err)
	}
	keep := map[uuid.UUID]bool{}
	for _, r := range d.Client.Status().Rejected {
		keep[r.Record] = true
	}
	n, diffs, err := synctest.CheckScope(srv.DB, d.DB, readable, keep)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range diffs {
		if i == 10 {
			t.Errorf("%s: … %d more", when, len(diffs)-10)
			break
		}
		t.Errorf("%s: %s", when, s)
	}
	return n
}

// TestScopeCatchUp: the office gives a second group to a cadre whose phone
// already synced; the next sync brings every record of the group as the
// server holds it — households edited since, members, visits, plans — with
// their stamps and authors. Taking the first group away removes its records
// from the phone; a household moved into the cadre's group from another
// village arrives whole; and a visit the cadre recorded offline to a
// household that left the phone's scope keeps that household on the phone
// until the user has seen the refusal.
func TestScopeCatchUp(t *testing.T) {
	srv, w := setup(t)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "first sync", srv, phone)

	// Work in 二社 the phone does not see: a member, a visit, a correction.
	g2 := w.Group(w.G2)
	now := time.Now()
	m := &domain.Member{Household: g2[1].ID, Name: "冶小明", Relation: "子", Gender: "男", BirthYear: 2010, Work: "在校生"}
	v := &domain.Visit{Household: g2[2].ID, Cadre: w.Cadre2.ID, At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "了解春耕准备"}
	h := *g2[3]
	h.Phone = "13800000000"
	if err := srv.DB.Put(w.Cadre2.ID, m, v, &h); err != nil {
		t.Fatal(err)
	}

	// 二社 joins the cadre's groups: one sync brings it all.
	reassign(t, srv, w.Admin, w.Cadre2.ID, w.Cadre1.ID, w.G2.ID)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	n := inScope(t, "after 二社 was given", srv, phone)
	for _, id := range []uuid.UUID{m.ID, v.ID, g2[3].ID} {
		if _, err := phone.DB.Get(map[uuid.UUID]domain.Kind{m.ID: domain.KindMember, v.ID: domain.KindVisit, g2[3].ID: domain.KindHousehold}[id], id); err != nil {
			t.Errorf("record %s of 二社: %v", id, err)
		}
	}
	t.Logf("%d records in scope after 二社 was given", n)

	// 一社 goes to another cadre: its records leave the phone.
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G1.ID)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "after 一社 was taken", srv, phone)
	for _, h := range w.Group(w.G1) {
		if _, err := phone.DB.FieldStates(domain.KindHousehold, h.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("household %s of 一社 still on the phone: %v", h.HeadName, err)
		}
	}

	// A household of 石头村 moves into 二社.
	moved := *w.Group(w.G3)[0]
	moved.Group = w.G2.ID
	if err := srv.DB.Put(w.Admin, &moved); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "after a household moved in", srv, phone)
	if got, err := phone.DB.Get(domain.KindHousehold, moved.ID); err != nil || got.(*domain.Household).HeadName != moved.HeadName {
		t.Fatalf("the household moved in: %+v %v", got, err)
	}

	// Offline, a visit to a household of 二社; meanwhile 二社 goes back.
	offline := visit(t, phone, g2[2], "离线走访")
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G2.ID)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "after 二社 was taken back", srv, phone)
	if _, err := phone.DB.Get(domain.KindVisit, offline.ID); err != nil {
		t.Fatalf("the visit set aside left the phone: %v", err)
	}
	if _, err := phone.DB.Get(domain.KindHousehold, g2[2].ID); err != nil {
		t.Fatalf("the household of the visit set aside left the phone: %v", err)
	}
	if _, err := phone.DB.Get(domain.KindHousehold, g2[1].ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("another household of 二社 stayed: %v", err)
	}
	if n, _ := phone.DB.Leaving(); n == 0 {
		t.Fatal("nothing waits to leave")
	}
	// Once the user has seen the refusal, the next sync removes them.
	if err := phone.Client.ClearRejected(); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "after the refusal was seen", srv, phone)
	if _, err := phone.DB.FieldStates(domain.KindVisit, offline.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the visit set aside stayed after the refusal was seen: %v", err)
	}
	if n, _ := phone.DB.Leaving(); n != 0 {
		t.Fatalf("%d records still wait to leave", n)
	}
}
