package client_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// reassign gives the group cadre assignment of group from one cadre to
// another, as the office does on the server.
func reassign(t *testing.T, srv *synctest.Server, admin, from, to uuid.UUID, group uuid.UUID) {
	t.Helper()
	as, err := query.Assignments(srv.DB, from)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Role == domain.GroupCadre && a.Target == group {
			a.Cadre = to
			if err := srv.DB.Put(admin, a); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no group cadre assignment of %s for %s", from, group)
}

// serverHolds reports whether anything in the server's log touches record.
func serverHolds(t *testing.T, db *store.DB, record uuid.UUID) bool {
	t.Helper()
	found := false
	if err := db.Log(0, func(e store.Entry) (bool, error) {
		found = e.Change.Record == record
		return !found, nil
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// TestOutOfScopeSetAside: a cadre records visits to two households while
// offline; meanwhile the office gives the group of one of them to another
// cadre. At the next sync the server refuses the push, naming the visit now
// out of scope; the device sets it aside and pushes again at once, so the
// other visit reaches the server in that same Sync. The visit set aside is
// shown with the server's words, kept across a restart and after
// ClearRejected, never sent again, and kept on the device; the server holds
// nothing of it. Later work goes through as usual.
func TestOutOfScopeSetAside(t *testing.T) {
	srv, w := setup(t)
	tr := newCounter()
	// The garbler with no target only records what is pushed.
	rec := &garbler{next: tr, pushed: map[uuid.UUID]int{}}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: rec}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}

	// Offline: a visit to a household of the cadre's group, then one to the
	// household the cadre is paired with (三级帮扶), in another group.
	out := visit(t, phone, w.Group(w.G1)[0], "一社走访：宣传医保政策")
	outChange := lastChange(t, phone.DB)
	in := visit(t, phone, w.Paired, "结对户走访：了解务工情况")
	inChange := lastChange(t, phone.DB)
	if st := phone.Client.Status(); st.Pending != 2 {
		t.Fatalf("pending %d, want 2", st.Pending)
	}
	// The office gives 一社 to another cadre.
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G1.ID)

	sent := tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatalf("sync with a visit out of scope: %v", err)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 2 {
		t.Fatalf("%d requests, want 2: the refused push and the push without the visit out of scope", n)
	}
	if v, err := srv.DB.Get(domain.KindVisit, in.ID); err != nil || v.(*domain.Visit).Notes != in.Notes {
		t.Fatalf("the visit in scope did not reach the server in that sync: %+v %v", v, err)
	}
	if ok, _ := srv.DB.Seen(outChange); ok || serverHolds(t, srv.DB, out.ID) {
		t.Fatal("the server holds the visit out of scope")
	}
	if rec.times(inChange) != 2 || rec.times(outChange) != 1 {
		t.Fatalf("pushed: the visit in scope %d times, want 2; out of scope %d times, want 1", rec.times(inChange), rec.times(outChange))
	}
	check := func(when string) {
		t.Helper()
		st := phone.Client.Status()
		if st.Err != nil || st.Pending != 0 || len(st.Rejected) != 1 {
			t.Fatalf("%s: status %+v", when, st)
		}
		r := st.Rejected[0]
		if r.Change != outChange || r.Kind != domain.KindVisit || r.Record != out.ID || r.Err == nil ||
			r.Err.Code != domain.EFORBIDDEN || r.Err.Field != "scope" {
			t.Fatalf("%s: rejected %+v", when, r)
		}
		if !strings.HasPrefix(r.Err.Zh, "超出您的负责范围") || !strings.Contains(r.Err.Zh, out.ID.String()[:8]) ||
			!strings.HasPrefix(r.Err.En, "outside your responsibilities") {
			t.Fatalf("%s: the reason in words: %q / %q", when, r.Err.Zh, r.Err.En)
		}
	}
	check("after the sync")

	// Offered once more in the next sync (the scope might have come back
	// unseen: TestSetAsideBackUnseen), refused again, and pushed no more.
	sent = tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 2 || rec.times(outChange) != 2 {
		t.Fatalf("next sync: %d requests, the visit out of scope pushed %d times; want 2 and 2", n, rec.times(outChange))
	}
	check("after the next sync")
	sent = tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 1 || rec.times(outChange) != 2 {
		t.Fatalf("the sync after: %d requests, the visit out of scope pushed %d times; want 1 and 2", n, rec.times(outChange))
	}

	// Across a restart: still shown, still not sent.
	phone.Restart(t)
	check("after a restart")
	sent = tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 1 || rec.times(outChange) != 2 {
		t.Fatalf("sync after a restart: %d requests, the visit out of scope pushed %d times", n, rec.times(outChange))
	}
	check("after a restart and a sync")

	// Kept on the device, as recorded.
	if v, err := phone.DB.Get(domain.KindVisit, out.ID); err != nil || v.(*domain.Visit).Notes != out.Notes {
		t.Fatalf("the visit set aside on the device: %+v %v", v, err)
	}
	if ok, _ := phone.DB.Seen(outChange); !ok {
		t.Fatal("the change set aside left the device's log")
	}

	// Clearing the list the user has seen does not send it.
	if err := phone.Client.ClearRejected(); err != nil {
		t.Fatal(err)
	}
	later := visit(t, phone, w.Paired, "结对户回访")
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if rec.times(outChange) != 2 || serverHolds(t, srv.DB, out.ID) {
		t.Fatalf("after ClearRejected the visit out of scope was pushed %d times", rec.times(outChange))
	}
	if _, err := srv.DB.Get(domain.KindVisit, later.ID); err != nil {
		t.Fatalf("a later visit in scope: %v", err)
	}
	if st := phone.Client.Status(); len(st.Rejected) != 0 || st.Pending != 0 || st.Err != nil {
		t.Fatalf("after ClearRejected: %+v", st)
	}
	phone.Restart(t)
	sent = tr.count(protocol.PathSync)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 1 || rec.times(outChange) != 2 || serverHolds(t, srv.DB, out.ID) {
		t.Fatalf("after ClearRejected and a restart: %d requests, pushed %d times", n, rec.times(outChange))
	}
}

// olderServer is a transport that makes the server's refusals look like
// those of a server from before refusals named changes: it drops "changes"
// from error bodies.
type olderServer struct {
	next    http.RoundTripper
	dropped int // refusals whose list was dropped
}

func (o *olderServer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := o.next.RoundTrip(r)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
		resp.Header.Del("Content-Encoding")
	}
	var b protocol.ErrorBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, err
	}
	if len(b.Error.Changes) > 0 {
		b.Error.Changes = nil
		o.dropped++
	}
	if body, err = json.Marshal(b); err != nil {
		return nil, err
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestOutOfScopeOlderServer: a refusal that names no changes refuses the
// whole push, as before: a permanent error in words, nothing set aside,
// nothing lost — the changes wait to be sent.
func TestOutOfScopeOlderServer(t *testing.T) {
	srv, w := setup(t)
	tr := newCounter()
	older := &olderServer{next: tr}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: older}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	visit(t, phone, w.Group(w.G1)[0], "一社走访")
	in := visit(t, phone, w.Paired, "结对户走访")
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G1.ID)
	sent := tr.count(protocol.PathSync)
	err := phone.Sync()
	var ce *protocol.ChangesError
	if domain.ErrorCode(err) != domain.EFORBIDDEN || protocol.Transient(err) || errors.As(err, &ce) {
		t.Fatalf("sync: %v (%T)", err, err)
	}
	if n := tr.count(protocol.PathSync) - sent; n != 1 || older.dropped != 1 {
		t.Fatalf("%d requests, want 1; %d lists dropped, want 1", n, older.dropped)
	}
	st := phone.Client.Status()
	if len(st.Rejected) != 0 || st.Pending != 2 || !strings.Contains(st.Message("zh"), "超出您的负责范围") {
		t.Fatalf("status %+v (%s)", st, st.Message("zh"))
	}
	if _, err := srv.DB.Get(domain.KindVisit, in.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a refused push reached the server: %v", err)
	}
}

// TestRoleRefusalSetAside: a group cadre raises their own rank on their
// phone (the app lets them edit their record) and records a visit. The
// server refuses the rank (403, field "role": only the roster's owners
// change ranks) and takes the visit in the same sync; the rank edit is set
// aside with the server's reason, kept on the phone, never sent again.
func TestRoleRefusalSetAside(t *testing.T) {
	srv, w := setup(t)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	me, err := phone.DB.Get(domain.KindCadre, w.Cadre1.ID)
	if err != nil {
		t.Fatal(err)
	}
	me.(*domain.Cadre).Rank = domain.RankCounty
	if err := phone.DB.Put(w.Cadre1.ID, me); err != nil {
		t.Fatal(err)
	}
	rank := lastChange(t, phone.DB)
	v := visit(t, phone, w.Group(w.G1)[0], "入户走访：了解春耕")
	if err := phone.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if got, err := srv.DB.Get(domain.KindVisit, v.ID); err != nil || got.(*domain.Visit).Notes != v.Notes {
		t.Fatalf("the visit did not reach the server: %v", err)
	}
	if ok, _ := srv.DB.Seen(rank); ok {
		t.Fatal("the server took the rank edit")
	}
	st := phone.Client.Status()
	if st.Err != nil || st.Pending != 0 || len(st.Rejected) != 1 {
		t.Fatalf("status %+v", st)
	}
	if r := st.Rejected[0]; r.Change != rank || r.Err == nil || r.Err.Code != domain.EFORBIDDEN || r.Err.Field != "role" ||
		!strings.Contains(r.Err.Zh, "职级") || r.Err.En == "" {
		t.Fatalf("rejected %+v", r)
	}
	if c, _ := srv.DB.Get(domain.KindCadre, w.Cadre1.ID); c.(*domain.Cadre).Rank == domain.RankCounty {
		t.Fatal("the server's record has the raised rank")
	}
}

// dropper is a transport that, while armed, loses the answer to the sync
// request that follows a refused push (403): the server has answered it.
type dropper struct {
	next    http.RoundTripper
	armed   atomic.Bool
	refused bool
}

func (d *dropper) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err != nil || r.URL.Path != protocol.PathSync || !d.armed.Load() {
		return resp, err
	}
	if !d.refused {
		d.refused = resp.StatusCode == http.StatusForbidden
		return resp, err
	}
	d.armed.Store(false)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, errors.New("dropper: the answer was lost")
}

// TestSetAsideBackUnseen: a visit refused as out of scope (its group given
// to another cadre) is set aside, and the answer to the push without it —
// the pull that would show the device its smaller scope — is lost. The
// group comes back before the next sync: the scope the device holds is the
// one it had, so no catch-up comes to offer the visit again. The next sync
// offers it once all the same, and the server takes it.
func TestSetAsideBackUnseen(t *testing.T) {
	srv, w := setup(t)
	tr := &dropper{next: http.DefaultTransport}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	out := visit(t, phone, w.Group(w.G1)[0], "一社走访：宣传医保政策")
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G1.ID)
	// The first request is refused (403): its answer arrives. The second,
	// without the visit, is answered and the answer lost.
	tr.armed.Store(true)
	if err := phone.Sync(); err == nil {
		t.Fatal("a sync whose answer was lost succeeded")
	}
	if st := phone.Client.Status(); len(st.Rejected) != 1 || st.Rejected[0].Record != out.ID {
		t.Fatalf("the visit out of scope is not set aside: %+v", st.Rejected)
	}
	reassign(t, srv, w.Admin, w.Cadre2.ID, w.Cadre1.ID, w.G1.ID)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if !serverHolds(t, srv.DB, out.ID) {
		t.Fatal("the visit set aside never reached the server, though its group came back")
	}
	if st := phone.Client.Status(); len(st.Rejected) != 0 || st.Pending != 0 {
		t.Fatalf("after the group came back: %+v", st)
	}
}

// TestBackInPages: a household whose group went to another cadre leaves
// the phone but for the visit recorded on it meanwhile, set aside: it waits
// to leave with all its records. The group comes back: the next sync offers
// the visit again, the server takes it, and the catch-up of what entered
// sends the household's records again, kind by kind over many small pages,
// its plan after it. Each sync below applies one page and loses the next
// answer, as a phone on a poor link does: whatever page it stops at, a
// household the phone holds has its plan and measures with it.
func TestBackInPages(t *testing.T) {
	srv := synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), server.Options{PageBytes: 512}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr := &synctest.OnePage{}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	h := w.Group(w.G1)[0]
	// Every record of the household the phone holds.
	var own []synctest.Key
	recs, err := synctest.Records(phone.DB)
	if err != nil {
		t.Fatal(err)
	}
	for k, st := range recs {
		r, err := synctest.Decode(k, st)
		if err != nil {
			t.Fatal(err)
		}
		if domain.HouseholdOf(r) == h.ID && k.Kind != domain.KindAssignment {
			own = append(own, k)
		}
	}
	kinds := map[domain.Kind]bool{}
	for _, k := range own {
		kinds[k.Kind] = true
	}
	if !kinds[domain.KindPlan] || !kinds[domain.KindMeasure] {
		t.Fatalf("the household's records on the phone lack a plan or a measure: %v", kinds)
	}
	out := visit(t, phone, h, "一社走访：家中有人，讲解医保政策")
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G1.ID)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	if st := phone.Client.Status(); len(st.Rejected) != 1 || st.Rejected[0].Record != out.ID {
		t.Fatalf("the visit out of scope is not set aside: %+v", st.Rejected)
	}
	whole := func(step string) {
		t.Helper()
		if _, err := phone.DB.Get(domain.KindHousehold, h.ID); err != nil {
			return
		}
		for _, k := range own {
			if _, err := phone.DB.Get(k.Kind, k.ID); err != nil {
				t.Fatalf("%s: the phone holds the household but not its %s %s: %v", step, k.Kind, k.ID, err)
			}
		}
	}
	whole("group given to another cadre")

	reassign(t, srv, w.Admin, w.Cadre2.ID, w.Cadre1.ID, w.G1.ID)
	pages := 0
	for {
		pages++
		if pages > 200 {
			t.Fatal("the catch-up does not end")
		}
		tr.Arm()
		err := phone.Sync()
		whole(fmt.Sprintf("after page %d of the group's return", pages))
		if err == nil {
			break
		}
	}
	if pages < 3 {
		t.Fatalf("the return took %d pages: too few to stop between the household and its plan", pages)
	}
	if !serverHolds(t, srv.DB, out.ID) {
		t.Fatal("the visit set aside never reached the server, though its group came back")
	}
	readable, err := server.Readable(srv.DB, w.Cadre1.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, diffs, err := synctest.CheckScope(srv.DB, phone.DB, readable, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range diffs {
		t.Errorf("after the group came back: %s", d)
	}
}
