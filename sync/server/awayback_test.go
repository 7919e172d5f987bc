package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestAwayAndBack: a household that leaves a device's scope and comes back
// between two of its syncs — moved to another village by mistake and moved
// back — leaves the scope's fingerprint as it was, yet what was written
// about it while it was away (its log entries name the other village) never
// reached the device. The next sync sends the household's records as they
// are now: the device ends with exactly the server's records, values,
// stamps and authors, with no change arriving before the edit it was made
// on.
func TestAwayAndBack(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", e.srv, w.Cadre1.ID, client.Options{}, nil)
	sync := func() {
		t.Helper()
		syncs(t, tablet, 2)
		syncs(t, phone, 2)
	}
	exact := func(step string) {
		t.Helper()
		for _, d := range []struct {
			dev *synctest.Device
			who uuid.UUID
		}{{tablet, w.Leader.ID}, {phone, w.Cadre1.ID}} {
			if exactScope(t, db, d.dev, d.who, nil, step) == 0 {
				t.Fatalf("%s, %s: no record compared", step, d.dev.Name)
			}
		}
	}
	sync()
	exact("first sync")

	h := w.Group(w.G1)[0]
	get := func() *domain.Household {
		t.Helper()
		r, err := db.Get(domain.KindHousehold, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r.(*domain.Household)
	}
	put := func(recs ...domain.Record) {
		t.Helper()
		if err := db.Put(w.Admin, recs...); err != nil {
			t.Fatal(err)
		}
	}
	away := get()
	away.Group = w.G3.ID // 石头村
	put(away)
	there := get()
	there.Phone, there.Notes = "13912345678", "在石头村期间核实：新建蔬菜大棚一座"
	member := &domain.Member{Household: h.ID, Name: "王小丽", Relation: "女", Gender: "女", BirthYear: 2012}
	put(there, member)
	back := get()
	back.Group = w.G1.ID
	back.Income = "务工、种植"
	put(back)
	time.Sleep(2 * time.Millisecond)
	sync()
	exact("moved away and back between two syncs")
	r, err := tablet.DB.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.(*domain.Household); got.Phone != there.Phone || got.Notes != there.Notes || got.Income != back.Income {
		t.Errorf("the tablet's household after it came back: phone %q, notes %q, income %q", got.Phone, got.Notes, got.Income)
	}
	if _, err := tablet.DB.Get(domain.KindMember, member.ID); err != nil {
		t.Errorf("the member added while the household was away is not on the tablet: %v", err)
	}
}

// TestLeftThenTail: a visit recorded on a household that then moves to
// another village before the village's tablet syncs. The tablet's catch-up
// names the household and the visit as left; the log's tail after the
// tablet's cursor still holds the visit, whose header names the tablet's
// village (where it was written), and must not bring it back; a household
// of the village removed meanwhile is removed from the tablet. The tablet
// ends with exactly the records it may read now.
func TestLeftThenTail(t *testing.T) {
	// Small pages: the names of what left and the tail come in answers of
	// their own, as they do for a household with a long history.
	e := newEnv(t, server.Options{PageBytes: 256}, nil)
	w, db := e.w, e.srv.DB
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", e.srv, w.Cadre1.ID, client.Options{}, nil)
	syncs(t, tablet, 1)
	syncs(t, phone, 1)
	h := w.Group(w.G1)[0]
	v := &domain.Visit{Household: h.ID, Cadre: w.Cadre1.ID, At: phone.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "家中有人，散养鸡长势良好"}
	if err := phone.DB.Put(w.Cadre1.ID, v); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	moveHousehold(t, db, w.Admin, h.ID, w.G3.ID) // 石头村
	// And a household of the village removed meanwhile: the tablet learns
	// it from the same window, where it is now.
	removed := w.Group(w.G2)[0]
	if err := db.Delete(w.Admin, domain.KindHousehold, removed.ID); err != nil {
		t.Fatal(err)
	}
	syncs(t, tablet, 2)
	if exactScope(t, db, tablet, w.Leader.ID, nil, "after the move") == 0 {
		t.Fatal("no record compared")
	}
	if _, err := tablet.DB.Get(domain.KindVisit, v.ID); err == nil {
		t.Error("the visit of the household that moved away is back on the tablet")
	}
	if _, err := tablet.DB.Get(domain.KindHousehold, removed.ID); err == nil {
		t.Error("the household removed is still on the tablet")
	}
}

// TestAwayAndBackInCatchUp: a household the tablet holds moves to another
// village and back, and is edited there, between two pages of a catch-up
// (three households entering the village). The fingerprint is the same at
// both pages, and what was written meanwhile lies within the catch-up's
// window, which the catch-up's state does not cover for a household the
// tablet held before: the tablet must still end with the household as it
// is, the edit made away included.
func TestAwayAndBackInCatchUp(t *testing.T) {
	e := newEnv(t, server.Options{PageBytes: 512}, nil)
	w, db := e.w, e.srv.DB
	tr := &synctest.OnePage{}
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	syncs(t, tablet, 2)
	get := func(id uuid.UUID) *domain.Household {
		t.Helper()
		r, err := db.Get(domain.KindHousehold, id)
		if err != nil {
			t.Fatal(err)
		}
		return r.(*domain.Household)
	}
	put := func(recs ...domain.Record) {
		t.Helper()
		if err := db.Put(w.Admin, recs...); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range w.Group(w.G3) {
		moveHousehold(t, db, w.Admin, h.ID, w.G2.ID)
	}
	tr.Arm()
	if err := tablet.Sync(); err == nil {
		t.Fatal("the catch-up took one page: nothing can happen between two")
	}
	h := w.Group(w.G1)[0]
	away := get(h.ID)
	away.Group = w.G3.ID
	put(away)
	there := get(h.ID)
	there.Phone, there.Notes = "13912345678", "在石头村期间核实：新建蔬菜大棚一座"
	put(there)
	back := get(h.ID)
	back.Group = w.G1.ID
	put(back)
	for i := 0; ; i++ {
		if i == 500 {
			t.Fatal("the catch-up does not end")
		}
		tr.Arm()
		if err := tablet.Sync(); err == nil {
			break
		}
	}
	tr.Disarm()
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	exactScope(t, db, tablet, w.Leader.ID, nil, "after the catch-up")
	r, err := tablet.DB.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.(*domain.Household); got.Phone != there.Phone || got.Notes != there.Notes {
		t.Errorf("the tablet's household after it came back: phone %q, notes %q", got.Phone, got.Notes)
	}
}

// TestInAndOut: a household of another village moves into the tablet's
// village, is edited there, and moves back, all between two of the
// tablet's syncs (an office correcting a wrong move). The fingerprint is
// the same at both syncs, and the entries written while the household was
// in the village read as the village's from their headers: sent, they
// would give the tablet a household made of a few edits, with no head,
// which it can neither show nor edit. The same for the phone of the group
// it passed through.
func TestInAndOut(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{}, nil)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", e.srv, w.Cadre1.ID, client.Options{}, nil)
	syncs(t, tablet, 1)
	syncs(t, phone, 1)
	h := w.Group(w.G3)[0] // 石头村
	moveHousehold(t, db, w.Admin, h.ID, w.G1.ID)
	r, err := db.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	here := r.(*domain.Household)
	here.Phone, here.Notes = "13912345678", "迁入后核实：户主外出务工"
	if err := db.Put(w.Admin, here, &domain.Member{Household: h.ID, Name: "王小军", Relation: "子", Gender: "男", BirthYear: 2008}); err != nil {
		t.Fatal(err)
	}
	moveHousehold(t, db, w.Admin, h.ID, w.G3.ID) // a wrong move, undone
	for _, d := range []*synctest.Device{tablet, phone} {
		syncs(t, d, 2)
		if _, err := d.DB.Get(domain.KindHousehold, h.ID); err == nil {
			t.Errorf("%s holds the household that came and went before it synced", d.Name)
		}
	}
	if exactScope(t, db, tablet, w.Leader.ID, nil, "after in and out") == 0 {
		t.Fatal("no record compared")
	}
	exactScope(t, db, phone, w.Cadre1.ID, nil, "after in and out")
}
