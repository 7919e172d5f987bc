package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
)

// setField returns a change by dev for author setting fields of a stored
// record, stamped now.
func setField(dev, author uuid.UUID, kind domain.Kind, rec uuid.UUID, kv ...string) domain.Change {
	f := domain.Fields{}
	for i := 0; i < len(kv); i += 2 {
		f[kv[i]] = json.RawMessage(kv[i+1])
	}
	return domain.Change{ID: uuid.New(), Kind: kind, Record: rec, Author: author,
		Stamp: domain.Stamp{Wall: time.Now().UnixMilli(), Device: dev}, Fields: f}
}

func q(id uuid.UUID) string { return `"` + id.String() + `"` }

// TestCadreCannotSignOffInLeadersName is finding 2: a group cadre pushing
// as the team leader, rewriting or forging reviews, approving plans (their
// own among them), forging or resolving conflicts and raising their rank.
// Each is refused with 403 naming the change, and nothing is stored.
func TestCadreCannotSignOffInLeadersName(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w, db := e.w, e.srv.DB
	now := time.Now().Add(-time.Minute)
	dev, token := e.enroll(t, w.Cadre1.ID)
	leaderDev, _ := e.enroll(t, w.Leader.ID)
	plan := w.Plans[0] // a plan of a household of 一社, Cadre1's group
	if err := db.Put(w.Leader.ID, &domain.Review{Plan: plan.ID, Household: plan.Household, Reviewer: w.Leader.ID,
		Verdict: domain.VerdictReturn, Comment: "请补充措施", At: now}); err != nil {
		t.Fatal(err)
	}
	var review uuid.UUID
	for _, r := range mustReviews(t, db, plan.Household) {
		review = r
	}
	own := &domain.Plan{Household: w.Group(w.G1)[1].ID, Goal: "养殖增收", Start: now, Status: domain.PlanSubmitted}
	ownPlan := change(t, dev, w.Cadre1.ID, own, now)
	if status, _, bad := e.push(t, token, ownPlan); status != http.StatusOK {
		t.Fatalf("the cadre's own plan: %d %+v", status, bad)
	}
	h := w.Group(w.G1)[0]
	win := domain.FieldState{Value: json.RawMessage(`"13900000009"`), Stamp: domain.Stamp{Wall: now.UnixMilli(), Device: leaderDev}, Author: w.Leader.ID}
	lost := domain.FieldState{Value: json.RawMessage(`"13900000008"`), Stamp: domain.Stamp{Wall: now.UnixMilli() - 9, Device: uuid.New()}, Author: w.Cadre2.ID}
	forged, err := domain.ConflictChange(domain.NewConflict(domain.KindHousehold, h.ID, h.ID, "phone", win, lost), win.Stamp)
	if err != nil {
		t.Fatal(err)
	}
	forgedOwn := forged
	forgedOwn.Author, forgedOwn.Stamp.Device = w.Cadre1.ID, dev

	cases := []struct {
		name  string
		ch    domain.Change
		field string
	}{
		{"a visit authored as the leader", func() domain.Change {
			c := change(t, dev, w.Leader.ID, newVisit(h, w.Leader.ID, now), now)
			c.Author = w.Leader.ID
			return c
		}(), "role"},
		{"a change stamped by the leader's tablet", change(t, leaderDev, w.Cadre1.ID, newVisit(h, w.Cadre1.ID, now), now), "role"},
		{"the leader's review overwritten to approved", setField(dev, w.Cadre1.ID, domain.KindReview, review, "verdict", `"approve"`), "role"},
		{"a new approving review in the leader's name", change(t, dev, w.Cadre1.ID, &domain.Review{Plan: plan.ID, Household: plan.Household,
			Reviewer: w.Leader.ID, Verdict: domain.VerdictApprove, At: now}, now), "role"},
		{"a plan set to approved", setField(dev, w.Cadre1.ID, domain.KindPlan, plan.ID, "status", `"approved"`), "role"},
		{"their own plan set to approved", setField(dev, w.Cadre1.ID, domain.KindPlan, own.ID, "status", `"approved"`), "role"},
		{"a forged conflict", forged, "role"},
		{"a forged conflict in their own name", forgedOwn, "role"},
		{"their rank raised to county", setField(dev, w.Cadre1.ID, domain.KindCadre, w.Cadre1.ID, "rank", `"county"`), "role"},
		{"a visit recorded as the leader's", change(t, dev, w.Cadre1.ID, newVisit(h, w.Leader.ID, now), now), "role"},
	}
	for _, c := range cases {
		status, _, bad := e.push(t, token, c.ch)
		seen, _ := db.Seen(c.ch.ID)
		if status != http.StatusForbidden || seen || bad.Error.Field != c.field || len(bad.Error.Changes) != 1 || bad.Error.Changes[0] != c.ch.ID.String() {
			t.Errorf("%s: %d (stored %v) %+v, want 403 %q naming the change", c.name, status, seen, bad.Error, c.field)
		}
	}
	// The leader approves the cadre's plan; the leader may not approve a
	// plan of their own.
	_, leaderToken := e.enroll(t, w.Leader.ID)
	ld := mustDevice(t, db, leaderToken)
	if status, _, bad := e.push(t, leaderToken, setField(ld, w.Leader.ID, domain.KindPlan, own.ID, "status", `"approved"`)); status != http.StatusOK {
		t.Errorf("the leader approving the cadre's plan: %d %+v", status, bad)
	}
	leaderPlan := &domain.Plan{Household: w.Group(w.G1)[2].ID, Goal: "务工", Start: now, Status: domain.PlanSubmitted}
	if status, _, bad := e.push(t, leaderToken, change(t, ld, w.Leader.ID, leaderPlan, now)); status != http.StatusOK {
		t.Fatalf("the leader's plan: %d %+v", status, bad)
	}
	if status, _, _ := e.push(t, leaderToken, setField(ld, w.Leader.ID, domain.KindPlan, leaderPlan.ID, "status", `"approved"`)); status != http.StatusForbidden {
		t.Errorf("the leader approving their own plan: %d, want 403", status)
	}
}

func mustReviews(t *testing.T, db *store.DB, household uuid.UUID) []uuid.UUID {
	t.Helper()
	var out []uuid.UUID
	db.Log(0, func(e store.Entry) (bool, error) {
		if e.Change.Kind == domain.KindReview && e.Household == household {
			out = append(out, e.Change.Record)
		}
		return true, nil
	})
	if len(out) == 0 {
		t.Fatal("no review")
	}
	return out
}

func mustDevice(t *testing.T, db *store.DB, token string) uuid.UUID {
	reg := server.NewBoltRegistry(db)
	t.Helper()
	d, err := reg.Authenticate(token)
	if err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// TestInvalidUTF8Refused is finding 3: invalid UTF-8 in a value, a field
// name or a device name, raw or as an escaped lone surrogate, refuses the
// request (400, field "utf8") and stores nothing.
func TestInvalidUTF8Refused(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	dev, token := e.enroll(t, w.Cadre1.ID)
	v := change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[0], w.Cadre1.ID, time.Now()), time.Now())
	wire, _ := protocol.EncodeChanges([]domain.Change{v})
	good, _ := protocol.Marshal(protocol.SyncRequest{V: 1, Through: 1, Changes: wire})
	for name, bad := range map[string][]byte{
		"FF FE in a value":      bytes.Replace(good, []byte("入户走访"), []byte("入户\xff\xfe走访"), 1),
		"overlong '/'":          bytes.Replace(good, []byte("入户走访"), []byte("入户\xc0\xaf"), 1),
		"field name":            bytes.Replace(good, []byte(`"notes"`), []byte("\"no\xfftes\""), 1),
		"lone surrogate escape": bytes.Replace(good, []byte("入户走访"), []byte(`入户\udcff`), 1),
	} {
		if bytes.Equal(bad, good) {
			t.Fatalf("%s: nothing replaced", name)
		}
		status, body := e.post(t, protocol.PathSync, token, bad)
		if status != http.StatusBadRequest || !strings.Contains(string(body), `"field":"utf8"`) {
			t.Errorf("%s: %d %s, want 400 utf8", name, status, body)
		}
		if seen, _ := e.srv.DB.Seen(v.ID); seen {
			t.Fatalf("%s: stored", name)
		}
	}
	body, _ := protocol.Marshal(protocol.EnrollRequest{V: 1, Code: e.srv.Code(t, w.Cadre2.ID), Name: "手机", Device: uuid.New()})
	body = bytes.Replace(body, []byte("手机"), []byte("手\xff机"), 1)
	if status, out := e.post(t, protocol.PathEnroll, "", body); status != http.StatusBadRequest || !strings.Contains(string(out), "utf8") {
		t.Errorf("device name with invalid UTF-8: %d %s", status, out)
	}
	if status, _, bad := e.push(t, token, v); status != http.StatusOK {
		t.Errorf("the same push, valid: %d %+v", status, bad)
	}
}

// TestMadeUpFieldsRejected is finding 4: a visit carrying a made-up field, a
// 64-byte field name or an id_number is rejected with its reason, not
// stored, and the leader pulls none of it.
func TestMadeUpFieldsRejected(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	dev, token := e.enroll(t, w.Cadre1.ID)
	_, leaderToken := e.enroll(t, w.Leader.ID)
	status, first, _ := e.sync(t, leaderToken, 0)
	if status != http.StatusOK {
		t.Fatal(status)
	}
	var pushed []domain.Change
	for _, extra := range []string{"zzz_not_a_visit_field", strings.Repeat("z", 64), "id_number"} {
		c := change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[0], w.Cadre1.ID, time.Now()), time.Now())
		c.Fields[extra] = json.RawMessage(`"620102199001011234"`)
		pushed = append(pushed, c)
	}
	wrong := change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[1], w.Cadre1.ID, time.Now()), time.Now())
	wrong.Fields["policies"] = json.RawMessage(`"yes"`) // a string where a bool belongs
	pushed = append(pushed, wrong)
	status, resp, bad := e.push(t, token, pushed...)
	if status != http.StatusOK || len(resp.Rejected) != len(pushed) {
		t.Fatalf("push: %d %+v rejected %+v", status, bad, resp.Rejected)
	}
	for i, r := range resp.Rejected {
		if r.ID != pushed[i].ID.String() || r.Code != domain.EINVALID || r.Field != "fields" || r.En == "" {
			t.Errorf("rejection %d: %+v", i, r)
		}
		if seen, _ := e.srv.DB.Seen(pushed[i].ID); seen {
			t.Errorf("change %d stored", i)
		}
	}
	cursor := first.Cursor
	body, _ := protocol.Marshal(protocol.SyncRequest{V: 1, Cursor: cursor})
	_, out := e.post(t, protocol.PathSync, leaderToken, body)
	if bytes.Contains(out, []byte("zzz")) || bytes.Contains(out, []byte("id_number")) {
		t.Errorf("the leader pulled made-up fields: %s", out)
	}
}

// TestDuplicateKindReuseBaseAhead is the rest of finding 7: two changes with
// one ID in a push (400), a record ID reused for another kind (rejected
// alone) and a base stamp beyond MaxSkew (400 "clock", as a stamp ahead).
func TestDuplicateKindReuseBaseAhead(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	dev, token := e.enroll(t, w.Cadre1.ID)
	now := time.Now()
	a := change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[0], w.Cadre1.ID, now), now)
	b := change(t, dev, w.Cadre1.ID, newVisit(w.Group(w.G1)[1], w.Cadre1.ID, now), now.Add(time.Millisecond))
	b.ID = a.ID
	status, _, bad := e.push(t, token, a, b)
	if status != http.StatusBadRequest || bad.Error.Field != "changes" {
		t.Errorf("duplicate IDs: %d %+v, want 400 changes", status, bad.Error)
	}
	if seen, _ := e.srv.DB.Seen(a.ID); seen {
		t.Error("a push with duplicate IDs was applied")
	}

	// A problem whose record ID is already a visit's.
	if status, _, bad := e.push(t, token, a); status != http.StatusOK {
		t.Fatalf("visit: %d %+v", status, bad)
	}
	p := change(t, dev, w.Cadre1.ID, &domain.Problem{Meta: domain.Meta{ID: a.Record}, Household: w.Group(w.G1)[0].ID,
		Text: "漏水", Status: domain.ProblemOpen}, now.Add(2*time.Millisecond))
	status, resp, bad := e.push(t, token, p)
	if status != http.StatusOK || len(resp.Rejected) != 1 || resp.Rejected[0].Field != "record" {
		t.Errorf("an ID reused for another kind: %d %+v %+v, want rejected", status, bad.Error, resp.Rejected)
	}
	if seen, _ := e.srv.DB.Seen(p.ID); seen {
		t.Error("the reused ID was stored")
	}

	// A base an hour ahead.
	c := setField(dev, w.Cadre1.ID, domain.KindVisit, a.Record, "notes", `"又去了一次"`)
	c.Base = map[string]domain.Stamp{"notes": {Wall: now.Add(time.Hour).UnixMilli(), Device: dev}}
	status, _, bad = e.push(t, token, c)
	if status != http.StatusBadRequest || bad.Error.Field != "clock" {
		t.Errorf("a base an hour ahead: %d %+v, want 400 clock", status, bad.Error)
	}
}

// TestCadresOnlyThoseNeeded is finding 9: a group cadre's phone receives
// the cadres of its village, not another village's nor the city office's,
// and a town's cadres only reach those working there.
func TestCadresOnlyThoseNeeded(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	for _, c := range []struct {
		who       *domain.Cadre
		want, not []*domain.Cadre
	}{
		{w.Cadre1, []*domain.Cadre{w.Cadre1, w.Cadre2, w.Leader}, []*domain.Cadre{w.Cadre3, w.Office}},
		{w.Cadre3, []*domain.Cadre{w.Cadre3}, []*domain.Cadre{w.Cadre1, w.Cadre2, w.Leader, w.Office}},
		{w.Office, []*domain.Cadre{w.Cadre1, w.Cadre2, w.Cadre3, w.Leader, w.Office}, nil},
	} {
		_, token := e.enroll(t, c.who.ID)
		status, resp, _ := e.sync(t, token, 0)
		if status != http.StatusOK {
			t.Fatal(status)
		}
		got := map[string]bool{}
		for _, ch := range append(resp.Changes, resp.State...) {
			if ch.Kind == domain.KindCadre {
				got[ch.Record] = true
			}
		}
		if resp.More {
			t.Fatal("the first sync of a small roster takes more than one page")
		}
		for _, x := range c.want {
			if !got[x.ID.String()] {
				t.Errorf("%s did not receive %s", c.who.Name, x.Name)
			}
		}
		for _, x := range c.not {
			if got[x.ID.String()] {
				t.Errorf("%s received %s, whom they do not work with", c.who.Name, x.Name)
			}
		}
	}
}

// TestApproversOption: who approves plans is a parameter of the server (a
// per-village setting later). With only first secretaries approving, the
// team leader's approval is refused; by default it is taken.
func TestApproversOption(t *testing.T) {
	for _, c := range []struct {
		name   string
		opts   server.Options
		status int
	}{
		{"default", server.Options{}, http.StatusOK},
		{"first secretaries only", server.Options{Approvers: func(uuid.UUID) []domain.Role {
			return []domain.Role{domain.FirstSecretary}
		}}, http.StatusForbidden},
	} {
		e := newEnv(t, c.opts, nil)
		dev, token := e.enroll(t, e.w.Leader.ID)
		plan := e.w.Plans[0]
		status, _, bad := e.push(t, token, setField(dev, e.w.Leader.ID, domain.KindPlan, plan.ID, "status", `"approved"`))
		if status != c.status {
			t.Errorf("%s: the team leader approving: %d %+v, want %d", c.name, status, bad.Error, c.status)
		}
	}
}
