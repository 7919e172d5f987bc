package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
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

// env is a server with the small roster.
type env struct {
	srv *synctest.Server
	w   *synctest.World
	now func() time.Time
}

func newEnv(t testing.TB, opts server.Options, storeOpts *store.Options) *env {
	t.Helper()
	srv := synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), opts, storeOpts)
	now := time.Now
	if storeOpts != nil && storeOpts.Now != nil {
		now = storeOpts.Now
	}
	w, err := synctest.BuildWorld(srv.DB, now())
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, w: w, now: now}
}

// enroll enrols a device for cadre over HTTP and returns its ID and token.
func (e *env) enroll(t testing.TB, cadre uuid.UUID) (uuid.UUID, string) {
	t.Helper()
	dev := uuid.New()
	var resp protocol.EnrollResponse
	status, body := e.post(t, protocol.PathEnroll, "", protocol.EnrollRequest{V: 1, Code: e.srv.Code(t, cadre), Name: "测试设备", Device: dev})
	if status != http.StatusOK {
		t.Fatalf("enrol: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Device != dev || resp.Cadre != cadre || resp.Server != e.srv.DB.Device() {
		t.Fatalf("enrol answer %s: %v", body, err)
	}
	return dev, resp.Token
}

// post sends v (JSON, or raw bytes) to path and returns the status and the
// decoded body.
func (e *env) post(t testing.TB, path, token string, v any) (int, []byte) {
	t.Helper()
	var body []byte
	switch v := v.(type) {
	case []byte:
		body = v
	default:
		var err error
		if body, err = protocol.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// sync pushes changes (and pulls from the start) as device dev.
func (e *env) sync(t testing.TB, token string, through uint64, changes ...domain.Change) (int, protocol.SyncResponse, protocol.ErrorBody) {
	t.Helper()
	wire, err := protocol.EncodeChanges(changes)
	if err != nil {
		t.Fatal(err)
	}
	status, body := e.post(t, protocol.PathSync, token, protocol.SyncRequest{V: 1, Through: through, Changes: wire})
	var ok protocol.SyncResponse
	var bad protocol.ErrorBody
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &ok); err != nil {
			t.Fatal(err)
		}
	} else if err := json.Unmarshal(body, &bad); err != nil {
		t.Fatalf("status %d with body %s", status, body)
	}
	return status, ok, bad
}

// change returns the change that creates rec, stamped now by device.
func change(t testing.TB, dev, author uuid.UUID, rec domain.Record, at time.Time) domain.Change {
	t.Helper()
	if rec.Metadata().ID == uuid.Nil {
		rec.Metadata().ID = uuid.New()
	}
	m := rec.Metadata()
	if m.Created.IsZero() {
		m.Created = at
	}
	m.Author, m.Device = author, dev
	f, err := domain.Encode(rec)
	if err != nil {
		t.Fatal(err)
	}
	return domain.Change{ID: uuid.New(), Kind: rec.Kind(), Record: m.ID, Author: author,
		Stamp: domain.Stamp{Wall: at.UnixMilli(), Device: dev}, Fields: f}
}

func newVisit(h *domain.Household, cadre uuid.UUID, at time.Time) *domain.Visit {
	return &domain.Visit{Household: h.ID, Cadre: cadre, At: at.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "入户走访"}
}

func TestHealthAndRouting(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	resp, err := http.Get(e.srv.URL + protocol.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	var h protocol.Health
	if err := protocol.ReadResponse(resp, &h); err != nil || !h.OK || h.V != protocol.Version {
		t.Fatalf("health %+v %v", h, err)
	}
	if status, body := e.post(t, protocol.PathHealth, "", []byte(`{}`)); status != http.StatusMethodNotAllowed || !strings.Contains(string(body), `"code":"invalid"`) {
		t.Fatalf("POST /healthz: %d %s", status, body)
	}
	if status, body := e.post(t, "/v1/nothing", "", []byte(`{}`)); status != http.StatusNotFound || !strings.Contains(string(body), `"not_found"`) {
		t.Fatalf("unknown path: %d %s", status, body)
	}
	resp, err = http.Get(e.srv.URL + protocol.PathSync)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Fatalf("GET /v1/sync: %d allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestEnrolment(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	e := newEnv(t, server.Options{Now: now}, &store.Options{Now: now})

	code := e.srv.Code(t, e.w.Cadre1.ID)
	dev := uuid.New()
	status, body := e.post(t, protocol.PathEnroll, "", protocol.EnrollRequest{V: 1, Code: code, Name: "马兴文的手机", Device: dev})
	if status != http.StatusOK {
		t.Fatalf("enrol: %d %s", status, body)
	}
	// The code works once.
	status, body = e.post(t, protocol.PathEnroll, "", protocol.EnrollRequest{V: 1, Code: code, Name: "另一台", Device: uuid.New()})
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "已被使用") {
		t.Fatalf("second use: %d %s", status, body)
	}
	// An expired code.
	late, err := e.srv.Reg.CreateEnrolCode(e.w.Leader.ID, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	clock = clock.Add(2 * time.Minute)
	mu.Unlock()
	status, body = e.post(t, protocol.PathEnroll, "", protocol.EnrollRequest{V: 1, Code: late, Name: "平板", Device: uuid.New()})
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "过期") || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired code: %d %s", status, body)
	}
	// Without a device ID, with a wrong code, malformed.
	for _, c := range []struct {
		body   any
		status int
		want   string
	}{
		{protocol.EnrollRequest{V: 1, Code: e.srv.Code(t, e.w.Leader.ID), Name: "平板"}, 400, `"field":"device"`},
		{protocol.EnrollRequest{V: 1, Code: "ZZZZ-ZZZZ", Name: "平板", Device: uuid.New()}, 401, `"field":"code"`},
		{[]byte(`{"v":1,"code":"x","name":"y","device":"not-a-uuid"}`), 400, `"code":"invalid"`},
		{[]byte(`{"v":9,"code":"x","name":"y"}`), 400, `"field":"v"`},
	} {
		status, body := e.post(t, protocol.PathEnroll, "", c.body)
		if status != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("enrol %v: %d %s, want %d %s", c.body, status, body, c.status, c.want)
		}
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	dev, token := e.enroll(t, e.w.Cadre1.ID)
	if status, _, _ := e.sync(t, token, 0); status != http.StatusOK {
		t.Fatalf("sync with a good token: %d", status)
	}
	for name, tok := range map[string]string{"none": "", "unknown": "bft1." + uuid.NewString() + ".AAAA", "garbage": "hunter2",
		"tampered": token[:len(token)-2] + "xx"} {
		status, _, bad := e.sync(t, tok, 0)
		if status != http.StatusUnauthorized || bad.Error.Code != domain.EUNAUTHORIZED || bad.Error.Zh == "" || bad.Error.En == "" {
			t.Errorf("%s token: %d %+v", name, status, bad)
		}
	}
	if err := e.srv.Reg.Revoke(dev, replica.Lost, time.Now()); err != nil {
		t.Fatal(err)
	}
	status, _, bad := e.sync(t, token, 0)
	if status != http.StatusUnauthorized || !strings.Contains(bad.Error.Zh, "停用") || !strings.Contains(bad.Error.En, "revoked") {
		t.Fatalf("revoked: %d %+v", status, bad)
	}

	// The client reports it in words and does not retry it.
	d := synctest.NewDevice(t, t.TempDir(), "phone", e.srv, e.w.Cadre2.ID, client.Options{}, nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Reg.Revoke(d.DB.Device(), replica.Lost, time.Now()); err != nil {
		t.Fatal(err)
	}
	err := d.Sync()
	if domain.ErrorCode(err) != domain.EUNAUTHORIZED || protocol.Transient(err) {
		t.Fatalf("client after revocation: %v (transient %v)", err, protocol.Transient(err))
	}
	if st := d.Client.Status(); !strings.Contains(st.Message("zh"), "停用") || !strings.Contains(st.Message("en"), "revoked") {
		t.Fatalf("status message %q / %q", st.Message("zh"), st.Message("en"))
	}
}

// TestScope: a group cadre pulls only its groups' and paired households and
// the roster of its village; a push touching anything else is refused whole.
func TestScope(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	leaderDev, leaderToken := e.enroll(t, w.Leader.ID)

	// Read: what the cadre pulls.
	status, resp, _ := e.sync(t, token, 0)
	if status != http.StatusOK || resp.More {
		t.Fatalf("pull: %d more=%v", status, resp.More)
	}
	mine := map[uuid.UUID]bool{w.Paired.ID: true}
	for _, h := range w.Group(w.G1) {
		mine[h.ID] = true
	}
	got := map[uuid.UUID]domain.Record{}
	holds := map[uuid.UUID]bool{}
	// A first sync is the current state: each record's fields, one change
	// per edit that set them.
	if !resp.Reset || !resp.Settled || len(resp.Changes) != 0 {
		t.Fatalf("first sync: reset %v settled %v, %d log changes", resp.Reset, resp.Settled, len(resp.Changes))
	}
	fields := map[uuid.UUID]domain.Fields{}
	kinds := map[uuid.UUID]domain.Kind{}
	for _, wc := range resp.State {
		ch, err := wc.Domain()
		if err != nil {
			t.Fatal(err)
		}
		holds[ch.Record] = true
		if fields[ch.Record] == nil {
			fields[ch.Record] = domain.Fields{}
		}
		maps.Copy(fields[ch.Record], ch.Fields)
		kinds[ch.Record] = ch.Kind
	}
	for id, f := range fields {
		rec, err := domain.Decode(kinds[id], id, f)
		if err != nil {
			t.Fatal(err)
		}
		got[id] = rec
	}
	for _, h := range w.Households {
		if holds[h.ID] != mine[h.ID] {
			t.Errorf("household %s (%s): pulled %v, in scope %v", h.HeadName, h.ID, holds[h.ID], mine[h.ID])
		}
	}
	for _, m := range w.Measures {
		if holds[m.ID] != mine[m.Household] {
			t.Errorf("measure of %s: pulled %v", m.Household, holds[m.ID])
		}
	}
	for _, p := range []*domain.Place{w.City, w.Town, w.Village, w.G1, w.G2} {
		if !holds[p.ID] {
			t.Errorf("place %s not pulled", p.Name)
		}
	}
	for _, p := range []*domain.Place{w.Village2, w.G3} {
		if holds[p.ID] {
			t.Errorf("place %s of another village pulled", p.Name)
		}
	}
	for _, c := range []*domain.Cadre{w.Cadre1, w.Cadre2, w.Leader} {
		if !holds[c.ID] {
			t.Errorf("cadre %s (of the device's village, on its supervision board) not pulled", c.Name)
		}
	}
	for _, c := range []*domain.Cadre{w.Cadre3, w.Office} {
		if holds[c.ID] {
			t.Errorf("cadre %s (another village's; the city office) pulled: a phone gets the cadres it needs, not the city's", c.Name)
		}
	}
	for _, r := range got {
		if a, ok := r.(*domain.Assignment); ok && a.Cadre == w.Cadre3.ID {
			t.Errorf("the assignment of another village's group cadre was pulled: %+v", a)
		}
	}

	// Write: pushes in and out of scope.
	other := w.Group(w.G2)[1] // another group, not paired
	far := w.Group(w.G3)[0]   // another village
	renamed := *w.G1
	renamed.Name = "一社（新）"
	cases := []struct {
		name    string
		dev     uuid.UUID
		token   string
		changes []domain.Change
		status  int
	}{
		{"visit own group + visit other village", dev, token, []domain.Change{
			change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[0], w.Cadre1.ID, now), now),
			change(t, dev, w.Cadre1.ID, newVisit(far, w.Cadre1.ID, now), now)}, 403},
		{"visit to another group's household", dev, token, []domain.Change{
			change(t, dev, w.Cadre1.ID, newVisit(other, w.Cadre1.ID, now), now)}, 403},
		{"visit to an unknown household", dev, token, []domain.Change{
			change(t, dev, w.Cadre1.ID, newVisit(&domain.Household{Meta: domain.Meta{ID: uuid.New()}}, w.Cadre1.ID, now), now)}, 403},
		{"new household in another village", dev, token, []domain.Change{
			change(t, dev, w.Cadre1.ID, &domain.Household{HeadName: "新户", Group: w.G3.ID, Status: domain.Ordinary, Size: 1}, now)}, 403},
		{"rename a group (roster)", dev, token, []domain.Change{change(t, dev, w.Cadre1.ID, &renamed, now)}, 403},
		{"edit another cadre", dev, token, []domain.Change{change(t, dev, w.Cadre1.ID, &domain.Cadre{Meta: w.Cadre2.Meta, Name: "李明", Rank: domain.RankOther, Phone: "13900000000"}, now)}, 403},
		{"leader: visit in another village", leaderDev, leaderToken, []domain.Change{
			change(t, leaderDev, w.Leader.ID, newVisit(far, w.Leader.ID, now), now)}, 403},
		{"visit to a paired household", dev, token, []domain.Change{
			change(t, dev, w.Cadre1.ID, newVisit(w.Paired, w.Cadre1.ID, now), now)}, 200},
		{"new household in own group, then a visit to it", dev, token, func() []domain.Change {
			h := &domain.Household{HeadName: "新立户", Group: w.G1.ID, Status: domain.Ordinary, Size: 2}
			hc := change(t, dev, w.Cadre1.ID, h, now)
			return []domain.Change{hc, change(t, dev, w.Cadre1.ID, newVisit(h, w.Cadre1.ID, now), now.Add(time.Millisecond))}
		}(), 200},
		{"edit own cadre record", dev, token, []domain.Change{change(t, dev, w.Cadre1.ID, &domain.Cadre{Meta: w.Cadre1.Meta, Name: "马兴文", Rank: domain.RankOther, Phone: "13900000001"}, now)}, 200},
		{"leader: rename a group of the village", leaderDev, leaderToken, []domain.Change{change(t, leaderDev, w.Leader.ID, &renamed, now)}, 200},
		{"leader: visit in the village", leaderDev, leaderToken, []domain.Change{
			change(t, leaderDev, w.Leader.ID, newVisit(other, w.Leader.ID, now), now)}, 200},
	}
	for _, c := range cases {
		before, _ := e.srv.DB.LastSeq()
		status, resp, bad := e.sync(t, c.token, 1, c.changes...)
		if status != c.status {
			t.Errorf("%s: %d %+v, want %d", c.name, status, bad, c.status)
			continue
		}
		after, _ := e.srv.DB.LastSeq()
		if status == http.StatusForbidden {
			if bad.Error.Code != domain.EFORBIDDEN || !strings.Contains(bad.Error.Zh, "无权") || bad.Error.En == "" {
				t.Errorf("%s: error %+v", c.name, bad)
			}
			if after != before {
				t.Errorf("%s: a refused push wrote %d log entries", c.name, after-before)
			}
			for _, ch := range c.changes {
				if ok, _ := e.srv.DB.Seen(ch.ID); ok {
					t.Errorf("%s: change %s of a refused push applied", c.name, ch.Kind)
				}
			}
			continue
		}
		if resp.Acked != 1 || len(resp.Rejected) != 0 {
			t.Errorf("%s: acked %d rejected %+v", c.name, resp.Acked, resp.Rejected)
		}
		for _, ch := range c.changes {
			if ok, _ := e.srv.DB.Seen(ch.ID); !ok {
				t.Errorf("%s: change %s not applied", c.name, ch.Kind)
			}
		}
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	dev, token := e.enroll(t, e.w.Cadre1.ID)
	now := time.Now()
	h := e.w.Group(e.w.G1)[0]

	// Stamps beyond the allowed skew are refused with the reason; within it, taken.
	ahead := change(t, dev, e.w.Cadre1.ID, newVisit(h, e.w.Cadre1.ID, now), now.Add(time.Hour))
	status, _, bad := e.sync(t, token, 3, ahead)
	if status != http.StatusBadRequest || !errors.Is(bad.Err(), protocol.ErrClockAhead) || !strings.Contains(bad.Error.En, "ahead") {
		t.Fatalf("an hour ahead: %d %+v", status, bad)
	}
	within := change(t, dev, e.w.Cadre1.ID, newVisit(h, e.w.Cadre1.ID, now), now.Add(time.Minute))
	if status, _, bad := e.sync(t, token, 3, within); status != http.StatusOK {
		t.Fatalf("a minute ahead: %d %+v", status, bad)
	}

	// A change the server cannot merge — a value of the wrong JSON type, as
	// a buggy or older app might send, or no fields at all — is rejected on
	// its own: acknowledged and reported with its reason; the rest of the
	// push is applied. A change whose record breaks a content rule (a
	// routine visit without notes) is merged: content rules are the editing
	// device's (store.DB.Put), and a merge that refused them could leave
	// replicas different for good.
	wrongType := change(t, dev, e.w.Cadre1.ID, newVisit(h, e.w.Cadre1.ID, now), now)
	wrongType.Fields["notes"] = json.RawMessage(`42`)
	noFields := change(t, dev, e.w.Cadre1.ID, newVisit(h, e.w.Cadre1.ID, now), now)
	noFields.Fields = domain.Fields{}
	empty := newVisit(h, e.w.Cadre1.ID, now)
	empty.Notes = ""
	unruly := change(t, dev, e.w.Cadre1.ID, empty, now)
	good := change(t, dev, e.w.Cadre1.ID, newVisit(h, e.w.Cadre1.ID, now), now)
	status, resp, _ := e.sync(t, token, 9, wrongType, noFields, unruly, good)
	if status != http.StatusOK || resp.Acked != 9 || len(resp.Rejected) != 2 {
		t.Fatalf("rejection: %d acked %d rejected %+v", status, resp.Acked, resp.Rejected)
	}
	for i, c := range []struct {
		ch            domain.Change
		field, zh, en string
	}{
		{wrongType, "fields", "字段“notes”的值类型不符", `field "notes" has the wrong type`},
		{noFields, "change", "不完整", "incomplete"},
	} {
		r := resp.Rejected[i]
		if r.ID != c.ch.ID.String() || r.Code != domain.EINVALID || r.Field != c.field ||
			!strings.Contains(r.Zh, c.zh) || !strings.Contains(r.En, c.en) {
			t.Errorf("rejection %d: %+v, want change %s field %q", i, r, c.ch.ID, c.field)
		}
		if ok, _ := e.srv.DB.Seen(c.ch.ID); ok {
			t.Errorf("the rejected change %s was applied", c.ch.ID)
		}
	}
	for _, ch := range []domain.Change{unruly, good} {
		if ok, _ := e.srv.DB.Seen(ch.ID); !ok {
			t.Fatalf("change %s was not applied", ch.ID)
		}
	}
	if r, err := e.srv.DB.Get(domain.KindVisit, unruly.Record); err != nil || r.(*domain.Visit).Notes != "" {
		t.Fatalf("the visit without notes on the server: %+v %v", r, err)
	}

	// Malformed requests get a 4xx with a reason.
	for _, c := range []struct {
		name, body, field string
	}{
		{"not JSON", `{"v":1,`, "body"},
		{"unknown version", `{"v":2,"cursor":"","through":0,"changes":[]}`, "v"},
		{"bad uuid", `{"v":1,"cursor":"","through":1,"changes":[{"id":"nope","kind":"visit","record":"` + uuid.NewString() + `","author":"` + uuid.NewString() + `","stamp":"1.0.` + uuid.NewString() + `","fields":{"notes":"x"}}]}`, "id"},
		{"bad cursor", `{"v":1,"cursor":"12@ffffffff","through":0,"changes":[]}`, "cursor"},
		{"cursor beyond the log", `{"v":1,"cursor":"999999@` + e.srv.DB.Device().String()[:8] + `","through":0,"changes":[]}`, "cursor"},
		{"unknown field", `{"v":1,"cursor":"","through":0,"changes":[],"extra":1}`, "body"},
		{"cursor naming a scope before, without a window", `{"v":1,"cursor":"1@` + e.srv.DB.Device().String()[:8] + `~x~~0~y","through":0,"changes":[]}`, "cursor"},
		{"cursor naming an empty scope before", `{"v":1,"cursor":"1@` + e.srv.DB.Device().String()[:8] + `~x~~2~","through":0,"changes":[]}`, "cursor"},
	} {
		status, body := e.post(t, protocol.PathSync, token, []byte(c.body))
		var eb protocol.ErrorBody
		json.Unmarshal(body, &eb)
		if status != http.StatusBadRequest || eb.Error.Field != c.field || eb.Error.Zh == "" || eb.Error.En == "" {
			t.Errorf("%s: %d %s, want 400 field %q", c.name, status, body, c.field)
		}
	}
	// A well-formed cursor naming a scope before that the server does not
	// know (forgotten, or made up), and not sealed for this device, is read
	// as one of an unknown scope: answered, and the answer's cursor does
	// not name it (TestBorrowedCursor).
	status, body := e.post(t, protocol.PathSync, token, []byte(`{"v":1,"cursor":"1@`+e.srv.DB.Device().String()[:8]+`~made-up~~2~made-up","through":0,"changes":[]}`))
	if status != http.StatusOK || bytes.Contains(body, []byte("made-up")) {
		t.Errorf("a cursor naming an unknown scope before: %d %s", status, body)
	}
	// A body beyond the cap is refused before it is read.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+protocol.PathSync, io.LimitReader(zeros{}, protocol.MaxRequestBytes+1))
	req.ContentLength = protocol.MaxRequestBytes + 1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(req)
	if err == nil {
		var eb protocol.ErrorBody
		json.NewDecoder(r.Body).Decode(&eb)
		r.Body.Close()
		if r.StatusCode != http.StatusBadRequest || eb.Error.Field != "size" {
			t.Fatalf("oversized body: %d %+v", r.StatusCode, eb)
		}
	} // else: the server closed the connection while we wrote, which is a refusal too
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestPaging: with a small page, a first sync takes several round trips that
// resume where they stopped, and ends with everything.
func TestPaging(t *testing.T) {
	e := newEnv(t, server.Options{PageBytes: 4096}, nil)
	_, token := e.enroll(t, e.w.Leader.ID)
	cursor, pages := "", 0
	seen := map[uuid.UUID]bool{}
	for {
		body, _ := protocol.Marshal(protocol.SyncRequest{V: 1, Cursor: cursor})
		status, out := e.post(t, protocol.PathSync, token, body)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, status, out)
		}
		var resp protocol.SyncResponse
		json.Unmarshal(out, &resp)
		pages++
		size := 0
		for _, c := range append(resp.State, resp.Changes...) {
			if seen[uuid.MustParse(c.ID)] {
				t.Fatalf("change %s sent twice", c.ID)
			}
			seen[uuid.MustParse(c.ID)] = true
			size += c.Size()
		}
		if len(resp.Changes)+len(resp.State) == 0 && resp.More {
			t.Fatal("an empty page says more")
		}
		if resp.More && size > 4096+2048 {
			t.Fatalf("page of %d bytes", size)
		}
		cursor = resp.Cursor
		if !resp.More {
			break
		}
	}
	// The current state of every record outside the other village.
	var want int
	e.srv.DB.State(store.StatePos{}, func(en *store.Entry) bool {
		if en.Change.Kind == domain.KindCadre && (en.Change.Record == e.w.Cadre3.ID || en.Change.Record == e.w.Office.ID) {
			return false // another village's cadre, the city office: not the leader's
		}
		return en.Village != e.w.Village2.ID
	}, func(_ store.StatePos, chs []domain.Change) (bool, error) {
		want += len(chs)
		return true, nil
	})
	if pages < 5 || len(seen) != want {
		t.Fatalf("%d pages, %d changes, want several pages and %d changes", pages, len(seen), want)
	}
	t.Logf("%d changes in %d pages", len(seen), pages)
}

// FuzzSync sends arbitrary bodies through the real handler with a valid
// token: the server never answers 5xx and never panics (a panic would be
// answered 500).
func FuzzSync(f *testing.F) {
	for _, name := range []string{"sync_request.json", "sync_request_noop.json"} {
		b, err := os.ReadFile(filepath.Join("..", "protocol", "testdata", name))
		if err != nil {
			continue
		}
		f.Add(b)
		f.Add(bytes.ReplaceAll(b, []byte(`"cursor":"c1.4211"`), []byte(`"cursor":""`)))
		f.Add(bytes.ReplaceAll(b, []byte(`"cursor":"c1.4242"`), []byte(`"cursor":""`)))
	}
	e := newEnv(f, server.Options{}, nil)
	dev, token := e.enroll(f, e.w.Leader.ID)
	now := time.Now()
	for _, h := range e.w.Households[:2] {
		wire, _ := protocol.EncodeChanges([]domain.Change{change(f, dev, e.w.Leader.ID, newVisit(h, e.w.Leader.ID, now), now)})
		b, _ := protocol.Marshal(protocol.SyncRequest{V: 1, Through: 1, Changes: wire})
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"cursor":"","through":0,"changes":[]}`))
	f.Add([]byte(`{"v":1,"cursor":"0@00000000","through":18446744073709551615,"changes":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	hc := &http.Client{Timeout: 30 * time.Second}
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+protocol.PathSync, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%d %s for %q", resp.StatusCode, out, body)
		}
		if resp.StatusCode == http.StatusOK {
			var sr protocol.SyncResponse
			if err := protocol.Unmarshal(out, &sr); err != nil && !strings.Contains(err.Error(), "unknown field") {
				t.Fatalf("answer does not decode: %v: %s", err, out)
			}
		}
	})
}

// TestCursorPassesSkipped: entries the device may not pull (another village)
// or pushed itself are skipped, and the cursor moves past them, so the next
// sync does not walk them again; what it may pull still arrives after them.
func TestCursorPassesSkipped(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	farDev, farToken := e.enroll(t, w.Cadre3.ID)
	status, resp, _ := e.sync(t, token, 0)
	if status != http.StatusOK {
		t.Fatalf("first sync: %d", status)
	}
	pull := func(cursor string, through uint64, changes ...domain.Change) protocol.SyncResponse {
		t.Helper()
		wire, err := protocol.EncodeChanges(changes)
		if err != nil {
			t.Fatal(err)
		}
		status, body := e.post(t, protocol.PathSync, token, protocol.SyncRequest{V: 1, Cursor: cursor, Through: through, Changes: wire})
		var r protocol.SyncResponse
		if status != http.StatusOK || json.Unmarshal(body, &r) != nil {
			t.Fatalf("sync: %d %s", status, body)
		}
		return r
	}
	wantCursor := func(r protocol.SyncResponse) {
		t.Helper()
		last, _ := e.srv.DB.LastSeq()
		if want := fmt.Sprintf("%d@%s~", last, e.srv.DB.Device().String()[:8]); !strings.HasPrefix(r.Cursor, want) || strings.Count(r.Cursor, "~") != 1 {
			t.Fatalf("cursor %q, want %q (the end of the log)", r.Cursor, want)
		}
	}

	// The device's own visit: applied, not sent back, passed.
	own := change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[0], w.Cadre1.ID, now), now)
	r := pull(resp.Cursor, 1, own)
	if len(r.Changes) != 0 || r.More {
		t.Fatalf("own change sent back: %+v", r.Changes)
	}
	wantCursor(r)

	// Visits in another village: skipped, passed.
	far := w.Group(w.G3)
	var farChanges []domain.Change
	for i := range 5 {
		farChanges = append(farChanges, change(t, farDev, w.Cadre3.ID, newVisit(far[i%len(far)], w.Cadre3.ID, now), now))
	}
	wire, _ := protocol.EncodeChanges(farChanges)
	if status, body := e.post(t, protocol.PathSync, farToken, protocol.SyncRequest{V: 1, Through: 5, Changes: wire}); status != http.StatusOK {
		t.Fatalf("far push: %d %s", status, body)
	}
	r2 := pull(r.Cursor, 1)
	if len(r2.Changes) != 0 {
		t.Fatalf("out of scope changes pulled: %+v", r2.Changes)
	}
	wantCursor(r2)

	// One in scope after more out of scope: it arrives, alone.
	leaderDev, leaderToken := e.enroll(t, w.Leader.ID)
	mine := change(t, leaderDev, w.Leader.ID, newVisit(w.Group(w.G1)[1], w.Leader.ID, now), now)
	wire, _ = protocol.EncodeChanges(append(farChanges[:0:0], mine))
	if status, body := e.post(t, protocol.PathSync, leaderToken, protocol.SyncRequest{V: 1, Through: 1, Changes: wire}); status != http.StatusOK {
		t.Fatalf("leader push: %d %s", status, body)
	}
	r3 := pull(r2.Cursor, 1)
	if len(r3.Changes) != 1 || r3.Changes[0].ID != mine.ID.String() {
		t.Fatalf("pulled %+v, want the leader's visit only", r3.Changes)
	}
	wantCursor(r3)
}
