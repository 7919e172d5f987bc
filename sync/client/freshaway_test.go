package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestEditDuringCatchUpOutOfScope: a household leaves a cadre's group, and
// the phone, enrolled again, catches up with a reset over several syncs. In
// between, the cadre edits the household, which the phone still shows: the
// push is refused as out of scope, and the household stays on the phone
// while the refusal is shown. Then the household comes back and its edit
// is taken, but the answer is lost; it leaves again, and the edit offered
// once more is acknowledged (the server has it). Nothing keeps the
// household on the phone any more: it must go, as the server no longer
// counts it among what the phone holds. It stayed for good when the end of
// the catch-up spared every record the phone had written about since the
// catch-up began, whether its household was in scope or not.
func TestEditDuringCatchUpOutOfScope(t *testing.T) {
	srv := synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), server.Options{PageBytes: 4 << 10}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	link := &lossy{next: http.DefaultTransport}
	link.pass.Store(-1)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: link}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	h := w.Group(w.G1)[0]
	move := func(to uuid.UUID) { t.Helper(); moveHousehold(t, srv, w, h.ID, to) }
	move(w.G2.ID)
	// Enrolled again, the phone's cursor does not open under its new
	// token: it catches up with a reset, and the link drops after the
	// first page.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := phone.Client.Enroll(ctx, srv.URL, srv.Code(t, phone.Cadre), phone.Name); err != nil {
		t.Fatal(err)
	}
	link.pass.Store(1)
	if err := phone.Sync(); err == nil {
		t.Fatal("the catch-up took one page: make the pages smaller")
	}
	link.pass.Store(-1)
	r, err := phone.DB.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatalf("the household left before the catch-up ended: %v", err)
	}
	x := r.(*domain.Household)
	x.Phone = "13900000009"
	if err := phone.DB.Put(phone.Cadre, x); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if rs := phone.Client.Status().Rejected; len(rs) != 1 || rs[0].Record != h.ID {
		t.Fatalf("refusals %+v, want the edit of the household that left", rs)
	}
	if _, err := phone.DB.Get(domain.KindHousehold, h.ID); err != nil {
		t.Fatalf("the household left while its edit's refusal is shown: %v", err)
	}
	// Back: the edit offered again is taken, and the answer is lost.
	move(w.G1.ID)
	link.lose.Store(true)
	if err := phone.Sync(); err == nil {
		t.Fatal("the answer was not lost")
	}
	link.lose.Store(false)
	if _, err := srv.DB.Get(domain.KindHousehold, h.ID); err != nil {
		t.Fatal(err)
	}
	if r, _ := srv.DB.Get(domain.KindHousehold, h.ID); r.(*domain.Household).Phone != "13900000009" {
		t.Fatal("the server did not take the edit offered again")
	}
	// Away again, before the phone saw it back.
	move(w.G2.ID)
	for range 2 {
		if err := phone.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if rs := phone.Client.Status().Rejected; len(rs) != 0 {
		t.Errorf("refusals still shown after the server took the edit: %+v", rs)
	}
	readable, err := server.Readable(srv.DB, phone.Cadre)
	if err != nil {
		t.Fatal(err)
	}
	_, diffs, err := synctest.CheckScope(srv.DB, phone.DB, readable, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("phone: %s", d)
	}
	if _, err := phone.DB.Get(domain.KindHousehold, h.ID); err == nil {
		t.Error("the phone still holds the household that left its group")
	}
}

// moveHousehold has the office move household h to group to.
func moveHousehold(t *testing.T, srv *synctest.Server, w *synctest.World, h, to uuid.UUID) {
	t.Helper()
	r, err := srv.DB.Get(domain.KindHousehold, h)
	if err != nil {
		t.Fatal(err)
	}
	x := r.(*domain.Household)
	x.Group = to
	if err := srv.DB.Put(w.Admin, x); err != nil {
		t.Fatal(err)
	}
}

// lossy passes pass requests, then refuses the others (pass negative: all
// pass); with lose, it passes a request and loses its answer, as a link
// that drops once the server has committed.
type lossy struct {
	pass atomic.Int64
	lose atomic.Bool
	next http.RoundTripper
}

func (l *lossy) RoundTrip(r *http.Request) (*http.Response, error) {
	if l.pass.Load() >= 0 && l.pass.Add(-1) < 0 {
		l.pass.Store(0)
		return nil, errors.New("injected: no signal")
	}
	resp, err := l.next.RoundTrip(r)
	if err != nil || !l.lose.Load() {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("injected: the answer was lost")
}

// TestRulesEditAwayAndBack: what holds for a household holds for a record
// without one. A team leader loses the village, edits its rules on the
// tablet (which still shows them), and the push is refused: the village
// waits to leave while the refusal is shown. The leader is given the
// village again, the edit offered again is taken and the answer lost; the
// village is taken away again before the tablet saw it back, and the edit
// offered once more is acknowledged. The village's records must go: the
// server counts them nowhere among what the tablet holds. They stayed for
// good when a change taken upstream took its record off the leaving list.
func TestRulesEditAwayAndBack(t *testing.T) {
	srv, w := setup(t)
	link := &lossy{next: http.DefaultTransport}
	link.pass.Store(-1)
	tablet := synctest.NewDevice(t, t.TempDir(), "tablet", srv, w.Leader.ID, client.Options{HTTP: &http.Client{Transport: link}}, nil)
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	var lead *domain.Assignment
	srv.DB.Each(domain.KindAssignment, func(r domain.Record) error {
		if a := r.(*domain.Assignment); a.Cadre == w.Leader.ID && a.Role == domain.TeamLeader && a.Target == w.Village.ID {
			lead = a
		}
		return nil
	})
	if lead == nil {
		t.Fatal("no team leader assignment in the world")
	}
	end := func() {
		t.Helper()
		if err := srv.DB.Delete(w.Admin, domain.KindAssignment, lead.ID); err != nil {
			t.Fatal(err)
		}
	}
	end()
	r, err := tablet.DB.Get(domain.KindPlace, w.Village.ID)
	if err != nil {
		t.Fatal(err)
	}
	village := r.(*domain.Place)
	rules := domain.DefaultRules()
	rules.OverdueDays = 45
	village.Rules = &rules
	if err := tablet.DB.Put(tablet.Cadre, village); err != nil {
		t.Fatal(err)
	}
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	if rs := tablet.Client.Status().Rejected; len(rs) != 1 || rs[0].Record != w.Village.ID {
		t.Fatalf("refusals %+v, want the edit of the village's rules", rs)
	}
	if _, err := tablet.DB.Get(domain.KindPlace, w.Village.ID); err != nil {
		t.Fatalf("the village left while its edit's refusal is shown: %v", err)
	}
	// Given back: the edit offered again is taken, and the answer is lost.
	lead = &domain.Assignment{Cadre: w.Leader.ID, Role: domain.TeamLeader, Target: w.Village.ID, Since: time.Now().Truncate(24 * time.Hour)}
	if err := srv.DB.Put(w.Admin, lead); err != nil {
		t.Fatal(err)
	}
	link.lose.Store(true)
	if err := tablet.Sync(); err == nil {
		t.Fatal("the answer was not lost")
	}
	link.lose.Store(false)
	if r, _ := srv.DB.Get(domain.KindPlace, w.Village.ID); r.(*domain.Place).Rules == nil || r.(*domain.Place).Rules.OverdueDays != 45 {
		t.Fatal("the server did not take the edit offered again")
	}
	// Taken away again, before the tablet saw it back.
	end()
	for range 2 {
		if err := tablet.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if rs := tablet.Client.Status().Rejected; len(rs) != 0 {
		t.Errorf("refusals still shown after the server took the edit: %+v", rs)
	}
	readable, err := server.Readable(srv.DB, tablet.Cadre)
	if err != nil {
		t.Fatal(err)
	}
	_, diffs, err := synctest.CheckScope(srv.DB, tablet.DB, readable, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("tablet: %s", d)
	}
}
