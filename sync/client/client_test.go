package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// counter is a transport that counts requests by path.
type counter struct {
	mu   sync.Mutex
	n    map[string]int
	next http.RoundTripper
}

func newCounter() *counter {
	return &counter{n: map[string]int{}, next: http.DefaultTransport.(*http.Transport).Clone()}
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *counter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

func setup(t *testing.T) (*synctest.Server, *synctest.World) {
	t.Helper()
	srv := synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), server.Options{}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return srv, w
}

func visit(t *testing.T, d *synctest.Device, h *domain.Household, notes string) *domain.Visit {
	t.Helper()
	v := &domain.Visit{Household: h.ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: notes}
	if err := d.DB.Put(d.Cadre, v); err != nil {
		t.Fatal(err)
	}
	return v
}

// waitFor reads statuses until ok accepts one, or fails after 10 s.
func waitFor(t *testing.T, ch <-chan client.Status, what string, ok func(client.Status) bool) client.Status {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case st := <-ch:
			if ok(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestRunComesBack: with the server down, Run backs off and probes; when
// the server comes back it syncs on its own, without being asked.
func TestRunComesBack(t *testing.T) {
	srv, w := setup(t)
	tr := newCounter()
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{
		HTTP: &http.Client{Transport: tr}, MinBackoff: 20 * time.Millisecond, MaxBackoff: 160 * time.Millisecond, Interval: -1, Seed: 1,
	}, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	v := visit(t, d, w.Group(w.G1)[0], "离线记录")

	ch, stop := d.Client.Subscribe()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Client.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	st := waitFor(t, ch, "an unreachable status", func(s client.Status) bool { return !s.Reachable && s.Err != nil })
	if domain.ErrorCode(st.Err) != domain.EUNAVAILABLE || !strings.Contains(st.Message("zh"), "无法连接") || st.Pending != 1 {
		t.Fatalf("down: %+v (%s)", st, st.Message("zh"))
	}
	down := time.Now()
	time.Sleep(time.Second)
	probes := tr.count(protocol.PathHealth) + tr.count(protocol.PathSync)
	// Backoff from 20 ms doubling to 160 ms, jittered to half or more: in
	// one second at least 5 attempts and at most 1s/10ms.
	if probes < 5 || probes > 100 {
		t.Fatalf("%d attempts in a second of downtime", probes)
	}
	srv.Restart(t)
	st = waitFor(t, ch, "a sync after the server came back", func(s client.Status) bool { return s.LastSync.After(down) && !s.Syncing })
	if st.Err != nil || !st.Reachable || st.Pending != 0 {
		t.Fatalf("back: %+v", st)
	}
	if _, err := srv.DB.Get(domain.KindVisit, v.ID); err != nil {
		t.Fatalf("the visit did not reach the server: %v", err)
	}
	t.Logf("%d attempts while down for a second", probes)
}

// TestRunStopsOnPermanentError: a revoked device is told so and not retried
// until the user asks.
func TestRunStopsOnPermanentError(t *testing.T) {
	srv, w := setup(t)
	tr := newCounter()
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{
		HTTP: &http.Client{Transport: tr}, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Interval: 10 * time.Millisecond,
	}, nil)
	if err := srv.DB.Revoke(d.DB.Device(), time.Now()); err != nil {
		t.Fatal(err)
	}
	ch, stop := d.Client.Subscribe()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Client.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	st := waitFor(t, ch, "the refusal", func(s client.Status) bool { return s.Err != nil && !s.Syncing })
	if domain.ErrorCode(st.Err) != domain.EUNAUTHORIZED || !strings.Contains(st.Message("zh"), "停用") || !strings.Contains(st.Message("en"), "revoked") || !st.Reachable {
		t.Fatalf("status %+v: %s / %s", st, st.Message("zh"), st.Message("en"))
	}
	time.Sleep(300 * time.Millisecond)
	if n := tr.count(protocol.PathSync); n != 1 {
		t.Fatalf("%d sync requests after a permanent error, want 1", n)
	}
	d.Client.Trigger()
	waitFor(t, ch, "a second attempt", func(s client.Status) bool { return s.Syncing })
	waitFor(t, ch, "its refusal", func(s client.Status) bool { return !s.Syncing })
	if n := tr.count(protocol.PathSync); n != 2 {
		t.Fatalf("%d sync requests after Trigger, want 2", n)
	}
}

// TestRejected: a change the server cannot apply (valid on the phone, not
// once merged with the tablet's concurrent edit) is acknowledged, shown to
// the user, kept across a restart, and not sent again.
func TestRejected(t *testing.T) {
	srv, w := setup(t)
	dir := t.TempDir()
	tr := newCounter()
	phone := synctest.NewDevice(t, dir, "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	tablet := synctest.NewDevice(t, dir, "tablet", srv, w.Leader.ID, client.Options{}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	v := &domain.Visit{Household: w.Group(w.G1)[0].ID, Cadre: w.Cadre1.ID, At: phone.DB.Now().Add(-time.Hour),
		Type: domain.VisitPolicy, Notes: "宣传医保政策", Policies: true}
	if err := phone.DB.Put(w.Cadre1.ID, v); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*synctest.Device{phone, tablet} {
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	// The tablet makes it a routine visit (needs notes); the phone, not
	// knowing, clears the notes (fine for a policy visit).
	r, _ := tablet.DB.Get(domain.KindVisit, v.ID)
	r.(*domain.Visit).Type = domain.VisitRoutine
	if err := tablet.DB.Put(w.Leader.ID, r); err != nil {
		t.Fatal(err)
	}
	if err := tablet.Sync(); err != nil {
		t.Fatal(err)
	}
	v.Notes = ""
	if err := phone.DB.Put(w.Cadre1.ID, v); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	st := phone.Client.Status()
	if len(st.Rejected) != 1 || st.Rejected[0].Kind != domain.KindVisit || st.Rejected[0].Record != v.ID ||
		st.Rejected[0].Err.Field != "notes" || st.Rejected[0].Err.Zh == "" || st.Pending != 0 {
		t.Fatalf("status %+v", st)
	}
	phone.Restart(t)
	if st := phone.Client.Status(); len(st.Rejected) != 1 || st.Rejected[0].Record != v.ID {
		t.Fatalf("after a restart: %+v", st.Rejected)
	}
	before := tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := phone.Client.Status(); len(st.Rejected) != 1 {
		t.Fatalf("the rejected change was sent again: %+v", st.Rejected)
	}
	if tr.count(protocol.PathSync) != before+1 {
		t.Fatalf("a no-op sync took %d requests", tr.count(protocol.PathSync)-before)
	}
	if err := phone.Client.ClearRejected(); err != nil {
		t.Fatal(err)
	}
	phone.Restart(t)
	if st := phone.Client.Status(); len(st.Rejected) != 0 {
		t.Fatalf("cleared rejections came back: %+v", st.Rejected)
	}
}

// TestCursorFromAnotherServer: a pull cursor the server does not know (a
// restored backup) is dropped and the device pulls from the start.
func TestCursorFromAnotherServer(t *testing.T) {
	srv, w := setup(t)
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := d.DB.SetCursor("sync.pull", "99999@deadbeef"); err != nil {
		t.Fatal(err)
	}
	visit(t, d, w.Group(w.G1)[1], "游标失效后的走访")
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if c, _ := d.DB.Cursor("sync.pull"); !strings.HasSuffix(c, "@"+srv.DB.Device().String()[:8]) {
		t.Fatalf("pull cursor %q", c)
	}
	if st := d.Client.Status(); st.Pending != 0 || st.Err != nil {
		t.Fatalf("status %+v", st)
	}
}

func TestEnrollErrors(t *testing.T) {
	srv, w := setup(t)
	db, err := store.Open(filepath.Join(t.TempDir(), "phone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := client.New(db, client.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Sync(ctx); !errors.Is(err, client.ErrNotEnrolled) {
		t.Fatalf("sync before enrolment: %v", err)
	}
	for _, tc := range []struct {
		url, code, name string
		want            string
		words           string
	}{
		{srv.URL, "ABCD-EFGH", "手机", domain.EUNAUTHORIZED, "注册码不正确"},
		{"http://127.0.0.1:1", "ABCD-EFGH", "手机", domain.EUNAVAILABLE, "无法连接服务器"},
		{"sync.example.cn", "ABCD-EFGH", "手机", domain.EINVALID, "服务器地址无效"},
		{srv.URL, "", "手机", domain.EINVALID, "请输入注册码"},
		{srv.URL, srv.Code(t, w.Cadre1.ID), "", domain.EINVALID, "设备名称"},
	} {
		err := c.Enroll(ctx, tc.url, tc.code, tc.name)
		if domain.ErrorCode(err) != tc.want || !strings.Contains(domain.Message(err, "zh"), tc.words) {
			t.Errorf("enrol %q %q %q: %v, want %s %q", tc.url, tc.code, tc.name, err, tc.want, tc.words)
		}
	}
	if c.Status().Enrolled {
		t.Fatal("enrolled after failures")
	}
	if err := c.Enroll(ctx, srv.URL+"/", strings.ToLower(srv.Code(t, w.Cadre1.ID)), "马兴文的手机"); err != nil {
		t.Fatal(err)
	}
	if st := c.Status(); !st.Enrolled || st.Cadre != w.Cadre1.ID || st.Server != srv.URL || c.Upstream() != srv.DB.Device() {
		t.Fatalf("status %+v upstream %s", st, c.Upstream())
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSignOut: signing out is refused while changes wait; afterwards the
// device can enrol again with the same server and carries on.
func TestSignOut(t *testing.T) {
	srv, w := setup(t)
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	v := visit(t, d, w.Group(w.G1)[0], "退出前的走访")
	if err := d.Client.SignOut(); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("sign out with a change waiting: %v", err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := d.Client.SignOut(); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); !errors.Is(err, client.ErrNotEnrolled) {
		t.Fatalf("sync after sign-out: %v", err)
	}
	d.Restart(t)
	if st := d.Client.Status(); st.Enrolled || st.Server != srv.URL {
		t.Fatalf("after sign-out and restart: %+v", st)
	}
	last, _ := srv.DB.LastSeq()
	if err := d.Client.Enroll(context.Background(), srv.URL, srv.Code(t, w.Cadre1.ID), "马兴文的手机"); err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if now, _ := srv.DB.LastSeq(); now != last {
		t.Fatalf("enrolling again re-sent %d changes", now-last)
	}
	if _, err := d.DB.Get(domain.KindVisit, v.ID); err != nil {
		t.Fatal(err)
	}
}
