package server_test

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
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
		for _, d := range []*synctest.Device{tablet, phone} {
			for range 2 {
				if err := d.Sync(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	exact := func(step string) {
		t.Helper()
		for _, d := range []struct {
			name string
			dev  *synctest.Device
			who  domain.Record
		}{{"tablet", tablet, w.Leader}, {"phone", phone, w.Cadre1}} {
			readable, err := server.Readable(db, d.who.Metadata().ID)
			if err != nil {
				t.Fatal(err)
			}
			n, diffs, err := synctest.CheckScope(db, d.dev.DB, readable, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, diff := range diffs {
				t.Errorf("%s, %s: %s", step, d.name, diff)
			}
			if n == 0 {
				t.Fatalf("%s, %s: no record compared", step, d.name)
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
	for _, d := range []*synctest.Device{tablet, phone} {
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	h := w.Group(w.G1)[0]
	v := &domain.Visit{Household: h.ID, Cadre: w.Cadre1.ID, At: phone.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "家中有人，散养鸡长势良好"}
	if err := phone.DB.Put(w.Cadre1.ID, v); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	r, err := db.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved := r.(*domain.Household)
	moved.Group = w.G3.ID // 石头村
	if err := db.Put(w.Admin, moved); err != nil {
		t.Fatal(err)
	}
	// And a household of the village removed meanwhile: the tablet learns
	// it from the same window, where it is now.
	removed := w.Group(w.G2)[0]
	if err := db.Delete(w.Admin, domain.KindHousehold, removed.ID); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := tablet.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	readable, err := server.Readable(db, w.Leader.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, diffs, err := synctest.CheckScope(db, tablet.DB, readable, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, diff := range diffs {
		t.Errorf("tablet: %s", diff)
	}
	if n == 0 {
		t.Fatal("no record compared")
	}
	if _, err := tablet.DB.Get(domain.KindVisit, v.ID); err == nil {
		t.Error("the visit of the household that moved away is back on the tablet")
	}
	if _, err := tablet.DB.Get(domain.KindHousehold, removed.ID); err == nil {
		t.Error("the household removed is still on the tablet")
	}
}

// onePage lets through one answer to a sync request once armed with allow,
// and loses the next ones after the server committed them: each Sync
// applies one page and fails.
type onePage struct {
	next  http.RoundTripper
	allow atomic.Int32
}

func (o *onePage) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(r)
	if err != nil || r.URL.Path != protocol.PathSync || o.allow.Add(-1) >= 0 {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("onePage: the answer was lost")
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
	tr := &onePage{next: http.DefaultTransport}
	tr.allow.Store(1 << 20)
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", e.srv, w.Leader.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	for range 2 {
		if err := tablet.Sync(); err != nil {
			t.Fatal(err)
		}
	}
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
		in := get(h.ID)
		in.Group = w.G2.ID
		put(in)
	}
	tr.allow.Store(1)
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
		tr.allow.Store(1)
		if err := tablet.Sync(); err == nil {
			break
		}
	}
	tr.allow.Store(1 << 20)
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	readable, err := server.Readable(db, w.Leader.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, diffs, err := synctest.CheckScope(db, tablet.DB, readable, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("tablet: %s", d)
	}
	r, err := tablet.DB.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.(*domain.Household); got.Phone != there.Phone || got.Notes != there.Notes {
		t.Errorf("the tablet's household after it came back: phone %q, notes %q", got.Phone, got.Notes)
	}
}
