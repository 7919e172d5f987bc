package client_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/synctest"
)

// TestOwnConflictAwayAndBack: a phone records a conflict the server did
// not (it merged a leader's edit after its own two, the server between
// them), and the household leaves the phone's group before the phone can
// push that conflict record: the push is refused, as the record in
// conflict is no longer the phone's. When the household comes back, every
// replica must end with the same conflict record — the later winner's.
func TestOwnConflictAwayAndBack(t *testing.T) {
	srv, w := setup(t)
	link := &lossy{next: http.DefaultTransport}
	link.pass.Store(-1)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: link}}, nil)
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", srv, w.Leader.ID, client.Options{}, nil)
	sync := func(ds ...*synctest.Device) {
		t.Helper()
		for _, d := range ds {
			if err := d.Sync(); err != nil {
				t.Fatalf("%s: %v", d.Name, err)
			}
		}
	}
	sync(phone, tablet)
	h := w.Group(w.G1)[0]
	edit := func(d *synctest.Device, phoneNo string) {
		t.Helper()
		r, err := d.DB.Get(domain.KindHousehold, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		x := r.(*domain.Household)
		x.Phone = phoneNo
		if err := d.DB.Put(d.Cadre, x); err != nil {
			t.Fatal(err)
		}
	}
	edit(tablet, "13900000001")
	sync(tablet)
	time.Sleep(5 * time.Millisecond)
	edit(phone, "13900000002")
	time.Sleep(5 * time.Millisecond)
	edit(phone, "13900000003")
	// The phone pushes both and pulls the leader's: it records a conflict
	// with its second edit as the winner, and the link drops before it
	// can push that.
	link.pass.Store(1)
	if err := phone.Sync(); err == nil {
		t.Fatal("the sync went on after the link dropped")
	}
	link.pass.Store(-1)
	move := func(to uuid.UUID) { t.Helper(); moveHousehold(t, srv, w, h.ID, to) }
	move(w.G2.ID)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	// Refused as out of scope, which is what happened: the cadre never
	// edited a conflict record.
	if r := phone.Client.Status().Rejected; len(r) != 1 || r[0].Err == nil || r[0].Err.Field != "scope" {
		t.Fatalf("the conflict record pushed while the household was away: refusals %+v, want one, out of scope", r)
	}
	move(w.G1.ID)
	for range 3 {
		sync(phone, tablet)
	}
	conflicts := func(db *store.DB) map[uuid.UUID]*domain.Conflict {
		out := map[uuid.UUID]*domain.Conflict{}
		db.Each(domain.KindConflict, func(r domain.Record) error {
			c := r.(*domain.Conflict)
			if c.Record == h.ID {
				out[c.ID] = c
			}
			return nil
		})
		return out
	}
	want := conflicts(srv.DB)
	if len(want) == 0 {
		t.Fatal("no conflict on the server")
	}
	for _, d := range []*synctest.Device{phone, tablet} {
		got := conflicts(d.DB)
		for id, c := range want {
			if g, ok := got[id]; !ok || !reflect.DeepEqual(g, c) {
				t.Errorf("%s: conflict %s: %+v, server %+v", d.Name, id, g, c)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s holds %d conflicts on the household, the server %d", d.Name, len(got), len(want))
		}
	}
	for _, c := range want {
		if string(c.Winner) != `"13900000003"` || string(c.Loser) != `"13900000001"` {
			t.Errorf("the server keeps %s over %s; want the phone's later edit over the leader's", c.Winner, c.Loser)
		}
	}
	if r := phone.Client.Status().Rejected; len(r) != 0 {
		t.Errorf("refusals still shown once the household is back: %+v", r)
	}
}
