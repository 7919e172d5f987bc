package client_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
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
	if err := srv.Reg.Revoke(d.DB.Device(), replica.Lost, time.Now()); err != nil {
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
	// The subscription holds only the latest status, so the attempt's
	// "syncing" may be skipped; the transport counts it instead.
	deadline := time.Now().Add(10 * time.Second)
	for tr.count(protocol.PathSync) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for a second attempt")
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, ch, "its refusal", func(s client.Status) bool { return !s.Syncing && s.Err != nil })
	time.Sleep(300 * time.Millisecond)
	if n := tr.count(protocol.PathSync); n != 2 {
		t.Fatalf("%d sync requests after Trigger, want 2", n)
	}
}

// garbler is a transport that plays a buggy or outdated app: in the pushes
// it carries, it rewrites the change with ID target so that one field's value
// has the wrong JSON type (a number where the record holds text), keeping
// the body's gzip. It records the IDs of every change pushed.
type garbler struct {
	next   http.RoundTripper
	mu     sync.Mutex
	target uuid.UUID
	field  string
	hits   int               // changes rewritten
	pushed map[uuid.UUID]int // change ID -> times pushed
}

func (g *garbler) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != protocol.PathSync || r.Body == nil {
		return g.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	gzipped := r.Header.Get("Content-Encoding") == "gzip"
	js := body
	if gzipped {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if js, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var req protocol.SyncRequest
	if err := json.Unmarshal(js, &req); err != nil {
		return nil, err
	}
	g.mu.Lock()
	for _, c := range req.Changes {
		id := uuid.MustParse(c.ID)
		g.pushed[id]++
		if id == g.target {
			c.Fields[g.field] = json.RawMessage(`42`)
			g.hits++
		}
	}
	g.mu.Unlock()
	if js, err = json.Marshal(&req); err != nil {
		return nil, err
	}
	body = js
	if gzipped {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(js)
		zw.Close()
		body = b.Bytes()
	}
	out := r.Clone(r.Context())
	out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return g.next.RoundTrip(out)
}

func (g *garbler) times(id uuid.UUID) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pushed[id]
}

// lastChange returns the ID of the newest change in db's log.
func lastChange(t *testing.T, db *store.DB) uuid.UUID {
	t.Helper()
	seq, err := db.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	var id uuid.UUID
	db.Log(seq-1, func(e store.Entry) (bool, error) { id = e.Change.ID; return false, nil })
	return id
}

// TestRejected: a pushed change the server cannot merge (here a value of
// the wrong type, as a buggy or older app would send) is refused alone: the
// rest of the push is applied, the refused change is acknowledged, shown to
// the user in Chinese and English, kept across a restart, and not sent
// again; ClearRejected forgets it for good.
func TestRejected(t *testing.T) {
	srv, w := setup(t)
	tr := newCounter()
	g := &garbler{next: tr, field: "notes", pushed: map[uuid.UUID]int{}}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: g}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	v := visit(t, phone, w.Group(w.G1)[0], "宣传医保政策")
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	// An edit of the notes, garbled on its way, between two good changes
	// in the same push.
	before := visit(t, phone, w.Group(w.G1)[1], "同一次同步的前一条走访")
	v.Notes = "宣传医保政策，已讲解报销流程"
	if err := phone.DB.Put(w.Cadre1.ID, v); err != nil {
		t.Fatal(err)
	}
	bad := lastChange(t, phone.DB)
	g.mu.Lock()
	g.target = bad
	g.mu.Unlock()
	after := visit(t, phone, w.Group(w.G1)[2], "同一次同步的后一条走访")
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	hits := g.hits
	g.mu.Unlock()
	if hits != 1 {
		t.Fatalf("the transport garbled %d changes, want 1", hits)
	}
	for _, r := range []*domain.Visit{before, after} {
		if _, err := srv.DB.Get(domain.KindVisit, r.ID); err != nil {
			t.Fatalf("a good change of the same push did not reach the server: %v", err)
		}
	}
	if ok, _ := srv.DB.Seen(bad); ok {
		t.Fatal("the server applied the garbled change")
	}
	if r, err := srv.DB.Get(domain.KindVisit, v.ID); err != nil || r.(*domain.Visit).Notes != "宣传医保政策" {
		t.Fatalf("the visit on the server: %+v %v", r, err)
	}
	st := phone.Client.Status()
	if len(st.Rejected) != 1 || st.Rejected[0].Change != bad || st.Rejected[0].Kind != domain.KindVisit || st.Rejected[0].Record != v.ID ||
		st.Rejected[0].Err == nil || st.Rejected[0].Err.Field != "fields" || st.Pending != 0 {
		t.Fatalf("status %+v", st)
	}
	if e := st.Rejected[0].Err; !strings.Contains(e.Zh, "notes") || !strings.Contains(e.Zh, "类型不符") || !strings.Contains(e.En, "wrong type") {
		t.Fatalf("the reason in words: %q / %q", e.Zh, e.En)
	}
	phone.Restart(t)
	if st := phone.Client.Status(); len(st.Rejected) != 1 || st.Rejected[0].Change != bad || st.Rejected[0].Err == nil || st.Rejected[0].Err.Zh == "" {
		t.Fatalf("after a restart: %+v", st.Rejected)
	}
	sent := tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := g.times(bad); n != 1 {
		t.Fatalf("the rejected change was pushed %d times", n)
	}
	if st := phone.Client.Status(); len(st.Rejected) != 1 || st.Pending != 0 {
		t.Fatalf("after another sync: %+v", st)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 1 {
		t.Fatalf("a no-op sync took %d requests", n)
	}
	if err := phone.Client.ClearRejected(); err != nil {
		t.Fatal(err)
	}
	if st := phone.Client.Status(); len(st.Rejected) != 0 {
		t.Fatalf("after ClearRejected: %+v", st.Rejected)
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
	if c, _ := d.DB.Cursor("sync.pull"); !strings.Contains(c, "@"+srv.DB.Device().String()[:8]+"~") {
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

// TestOffsetKept: the clock offset measured at a sync is kept by the store,
// so a phone whose clock runs three hours fast reads true time as soon as
// its store opens again, before any sync or client; an offset stored by an
// older client moves into the store.
func TestOffsetKept(t *testing.T) {
	srv, w := setup(t)
	fast := func() time.Time { return time.Now().Add(3 * time.Hour) }
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, &store.Options{Now: fast})
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if skew := d.DB.Now().Sub(time.Now()); skew.Abs() > 2*time.Second {
		t.Fatalf("after a sync the phone is %s off", skew)
	}
	if err := d.DB.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(d.Path, &store.Options{Now: fast})
	if err != nil {
		t.Fatal(err)
	}
	if skew := db.Now().Sub(time.Now()); skew.Abs() > 2*time.Second {
		t.Fatalf("reopened, the phone is %s off", skew)
	}

	// An older client kept the offset in its cursors.
	if err := db.SetClockOffset(0); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCursor("sync.offset", "-10800000"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(db, client.Options{}); err != nil {
		t.Fatal(err)
	}
	if off := db.Clock().Offset(); off != -3*time.Hour {
		t.Fatalf("offset %s after the older client's was moved", off)
	}
	if v, _ := db.Cursor("sync.offset"); v != "" {
		t.Fatalf("the older client's offset is still in the cursors: %q", v)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(d.Path, &store.Options{Now: fast})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if off := db.Clock().Offset(); off != -3*time.Hour {
		t.Fatalf("reopened, offset %s", off)
	}
}

// TestSignOutUnreadableCount: when the count of changes waiting cannot be
// read, sign-out is refused and the status says why, instead of reporting
// "0 waiting" and forgetting the account with changes still unsent. The
// failure is real: a push cursor in the bbolt file that does not parse.
func TestSignOutUnreadableCount(t *testing.T) {
	srv, w := setup(t)
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	visit(t, d, w.Group(w.G1)[0], "计数读不出时的走访")
	if err := d.DB.SetCursor("sync.push", "not a number"); err != nil {
		t.Fatal(err)
	}
	if st := d.Client.Status(); st.PendingErr == nil {
		t.Fatalf("status with an unreadable push cursor: %d waiting, no error", st.Pending)
	}
	if err := d.Client.SignOut(); domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("sign out with an unreadable count: %v", err)
	}
	if st := d.Client.Status(); !st.Enrolled {
		t.Fatal("signed out although the count of changes waiting could not be read")
	}
}

// TestStatusClosedFile: a store that can no longer be read (its bbolt file
// closed under the client) shows in the status as an error, not as nothing
// waiting, and sign-out is refused.
func TestStatusClosedFile(t *testing.T) {
	srv, w := setup(t)
	d := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	visit(t, d, w.Group(w.G1)[0], "关闭前的走访")
	if err := d.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if st := d.Client.Status(); st.PendingErr == nil {
		t.Fatalf("status on a closed store: %d waiting, no error", st.Pending)
	}
	if err := d.Client.SignOut(); domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("sign out on a closed store: %v", err)
	}
}
