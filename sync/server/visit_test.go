package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/server"

	"github.com/google/uuid"
)

// TestVisitRefusals: a pushed visit whose time is in the future, or further
// back than the village's rules allow, is rejected alone with its reason in
// Chinese and English; so is one naming a companion the device may not read.
// A visit written days ago on a phone out of coverage is judged by its
// stamp, and a village's own rule widens the window.
func TestVisitRefusals(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	h := w.Group(w.G1)[0]
	var through uint64
	push := func(v *domain.Visit, stamped time.Time) (rejected string) {
		t.Helper()
		through++
		status, resp, bad := e.sync(t, token, through, change(t, dev, w.Cadre1.ID, v, stamped))
		if status != http.StatusOK {
			t.Fatalf("push: %d %+v", status, bad)
		}
		if len(resp.Rejected) > 1 {
			t.Fatalf("rejected %+v", resp.Rejected)
		}
		if len(resp.Rejected) == 1 {
			r := resp.Rejected[0]
			if r.Zh == "" || r.En == "" {
				t.Errorf("rejection without words: %+v", r)
			}
			return r.Field
		}
		return ""
	}
	visit := func(at time.Time) *domain.Visit {
		return &domain.Visit{Household: h.ID, Cadre: w.Cadre1.ID, At: at, Type: domain.VisitRoutine, Notes: "入户走访"}
	}
	for _, c := range []struct {
		name        string
		at, stamped time.Time
		want        string
	}{
		{"this morning", now.Add(-8 * time.Hour), now, ""},
		{"six days back", now.AddDate(0, 0, -6), now, ""},
		{"two hours ahead: a phone's fast clock", now.Add(2 * time.Hour), now, ""},
		{"in the future", now.Add(25 * time.Hour), now, "at"},
		{"eight days back", now.AddDate(0, 0, -8), now, "at"},
		{"written eight days ago, a day after the visit, synced now", now.AddDate(0, 0, -9), now.AddDate(0, 0, -8), ""},
	} {
		if got := push(visit(c.at), c.stamped); got != c.want {
			t.Errorf("%s: rejected on %q, want %q", c.name, got, c.want)
		}
	}

	// Companions: a cadre of the village, yes; a cadre of another
	// village's roster the device cannot read, or an unknown ID, no.
	v := visit(now.Add(-time.Hour))
	v.Companions = []uuid.UUID{w.Cadre2.ID}
	if got := push(v, now); got != "" {
		t.Errorf("a companion of the village rejected on %q", got)
	}
	v = visit(now.Add(-time.Hour))
	v.Companions = []uuid.UUID{uuid.New()}
	if got := push(v, now); got != "companions" {
		t.Errorf("an unknown companion: rejected on %q, want companions", got)
	}

	// The village's rules allow 10 days.
	rules := domain.DefaultRules()
	rules.BackdateDays = 10
	village := *w.Village
	village.Rules = &rules
	if err := e.srv.DB.Put(w.Admin, &village); err != nil {
		t.Fatal(err)
	}
	if got := push(visit(now.AddDate(0, 0, -8)), now); got != "" {
		t.Errorf("eight days back under a 10-day rule rejected on %q", got)
	}
	if got := push(visit(now.AddDate(0, 0, -11)), now); got != "at" {
		t.Errorf("eleven days back under a 10-day rule: rejected on %q", got)
	}
}

// TestApprovedPlanGoal: a new goal on an approved plan that keeps it
// approved is rejected alone with its reason; sent back to review, it is
// applied.
func TestApprovedPlanGoal(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	var pl *domain.Plan
	for _, h := range w.Group(w.G1) {
		for _, x := range w.Plans {
			if x.Household == h.ID && pl == nil {
				pl = x
			}
		}
	}
	if pl == nil {
		t.Fatal("no plan in the cadre's group")
	}
	approved := *pl
	approved.Status = domain.PlanApproved
	if err := e.srv.DB.Put(w.Admin, &approved); err != nil {
		t.Fatal(err)
	}
	var through uint64
	edit := func(goal string, status domain.PlanStatus) string {
		t.Helper()
		through++
		ch := domain.Change{ID: uuid.New(), Kind: domain.KindPlan, Record: pl.ID, Author: w.Cadre1.ID,
			Stamp:  domain.Stamp{Wall: now.Add(time.Duration(through) * time.Second).UnixMilli(), Device: dev},
			Fields: domain.Fields{"goal": json.RawMessage(`"` + goal + `"`), "status": json.RawMessage(`"` + string(status) + `"`)}}
		code, resp, bad := e.sync(t, token, through, ch)
		if code != http.StatusOK {
			t.Fatalf("push: %d %+v", code, bad)
		}
		if len(resp.Rejected) == 1 {
			if resp.Rejected[0].Zh == "" || resp.Rejected[0].En == "" {
				t.Errorf("rejection without words: %+v", resp.Rejected[0])
			}
			return resp.Rejected[0].Field
		}
		return ""
	}
	if got := edit("改种花椒", domain.PlanApproved); got != "goal" {
		t.Errorf("a new goal kept approved: rejected on %q, want goal", got)
	}
	if got := edit("改种花椒", domain.PlanSubmitted); got != "" {
		t.Errorf("a new goal sent back to review: rejected on %q", got)
	}
	rec, err := e.srv.DB.Get(domain.KindPlan, pl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := rec.(*domain.Plan); p.Goal != "改种花椒" || p.Status != domain.PlanSubmitted {
		t.Errorf("the plan is %q, %s", p.Goal, p.Status)
	}
}

// TestApprovedPlanMeasure: a measure added to or changed on an approved plan
// that stays approved is rejected alone, with words; recording progress is
// not a change; the plan sent back to review first, in the same push, lets
// the measure through.
func TestApprovedPlanMeasure(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	var m *domain.Measure
	for _, h := range w.Group(w.G1) {
		for _, x := range w.Measures {
			if x.Household == h.ID && m == nil {
				m = x
			}
		}
	}
	if m == nil {
		t.Fatal("no measure in the cadre's group")
	}
	rec, err := e.srv.DB.Get(domain.KindPlan, m.Plan)
	if err != nil {
		t.Fatal(err)
	}
	approved := *rec.(*domain.Plan)
	approved.Status = domain.PlanApproved
	if err := e.srv.DB.Put(w.Admin, &approved); err != nil {
		t.Fatal(err)
	}
	var through uint64
	change := func(kind domain.Kind, id uuid.UUID, fields domain.Fields) domain.Change {
		through++
		return domain.Change{ID: uuid.New(), Kind: kind, Record: id, Author: w.Cadre1.ID,
			Stamp: domain.Stamp{Wall: now.Add(time.Duration(through) * time.Second).UnixMilli(), Device: dev}, Fields: fields}
	}
	push := func(chs ...domain.Change) []string {
		t.Helper()
		code, resp, bad := e.sync(t, token, through, chs...)
		if code != http.StatusOK {
			t.Fatalf("push: %d %+v", code, bad)
		}
		var fields []string
		for _, r := range resp.Rejected {
			if r.Zh == "" || r.En == "" {
				t.Errorf("rejection without words: %+v", r)
			}
			fields = append(fields, r.Field)
		}
		return fields
	}
	str := func(s string) json.RawMessage { return json.RawMessage(`"` + s + `"`) }
	if got := push(change(domain.KindMeasure, m.ID, domain.Fields{"target": str("年增收 9000 元")})); len(got) != 1 || got[0] != "plan" {
		t.Errorf("a changed measure on an approved plan: rejected %v, want [plan]", got)
	}
	if got := push(change(domain.KindMeasure, m.ID, domain.Fields{"progress": str(string(domain.Done))})); len(got) != 0 {
		t.Errorf("progress on an approved plan: rejected %v", got)
	}
	fresh := change(domain.KindMeasure, uuid.New(), domain.Fields{"plan": str(m.Plan.String()), "household": str(m.Household.String()),
		"type": str(string(m.Type)), "description": str("加入合作社"), "due": str(m.Due.Format(time.RFC3339)), "progress": str(string(domain.NotStarted))})
	if got := push(fresh); len(got) != 1 || got[0] != "plan" {
		t.Errorf("a new measure on an approved plan: rejected %v, want [plan]", got)
	}
	back := change(domain.KindPlan, m.Plan, domain.Fields{"status": str(string(domain.PlanSubmitted))})
	edit := change(domain.KindMeasure, m.ID, domain.Fields{"target": str("年增收 9000 元")})
	if got := push(back, edit); len(got) != 0 {
		t.Errorf("the plan sent back with its measure: rejected %v", got)
	}
	rec, err = e.srv.DB.Get(domain.KindMeasure, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.(*domain.Measure); got.Target != "年增收 9000 元" || got.Progress != domain.Done {
		t.Errorf("the measure is %q, %s", got.Target, got.Progress)
	}
}

// TestVisitCorrection: a visit's cadre may correct what they wrote within
// the village's correction days of writing it, judged by the change's
// stamp; past them the change is rejected alone with words; marking the
// follow-up done is anyone's who may write the visit (and edits by others
// stay the roles' to allow, as TestAuthorisationMatrix checks).
func TestVisitCorrection(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev1, tok1 := e.enroll(t, w.Cadre1.ID)
	dev2, tok2 := e.enroll(t, w.Cadre2.ID)
	through := map[string]uint64{}
	push := func(token string, ch domain.Change) string {
		t.Helper()
		through[token]++
		code, resp, bad := e.sync(t, token, through[token], ch)
		if code != http.StatusOK {
			t.Fatalf("push: %d %+v", code, bad)
		}
		if len(resp.Rejected) == 1 {
			if r := resp.Rejected[0]; r.Zh == "" || r.En == "" {
				t.Errorf("rejection without words: %+v", r)
			}
			return resp.Rejected[0].Field
		}
		return ""
	}
	// Cadre1 is the helper of w.Paired, in Cadre2's group: both may write it.
	written := func(ago time.Duration) *domain.Visit {
		t.Helper()
		v := &domain.Visit{Household: w.Paired.ID, Cadre: w.Cadre1.ID, At: now.Add(-ago - time.Hour), Type: domain.VisitRoutine,
			Notes: "入户走访", FollowUp: "送材料"}
		if got := push(tok1, change(t, dev1, w.Cadre1.ID, v, now.Add(-ago))); got != "" {
			t.Fatalf("a new visit rejected on %q", got)
		}
		return v
	}
	fix := func(v *domain.Visit) *domain.Visit {
		c := *v
		c.Corrections = []domain.VisitCorrection{{At: now, Before: v.Content()}}
		c.Notes = "入户走访，户主在家"
		return &c
	}
	yesterday := written(24 * time.Hour)
	if got := push(tok1, change(t, dev1, w.Cadre1.ID, fix(yesterday), now)); got != "" {
		t.Errorf("a correction the next day by the visit's cadre: rejected on %q", got)
	}
	old := written(4 * 24 * time.Hour)
	if got := push(tok1, change(t, dev1, w.Cadre1.ID, fix(old), now)); got != "visit" {
		t.Errorf("a correction four days on: rejected on %q, want visit", got)
	}
	done := *old
	done.FollowUpDone = now
	if got := push(tok2, change(t, dev2, w.Cadre2.ID, &done, now)); got != "" {
		t.Errorf("another cadre marking the follow-up done: rejected on %q", got)
	}
	rec, err := e.srv.DB.Get(domain.KindVisit, yesterday.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v := rec.(*domain.Visit); v.Notes != "入户走访，户主在家" || len(v.Corrections) != 1 || v.Corrections[0].Before.Notes != "入户走访" {
		t.Errorf("the corrected visit: %q, history %+v", v.Notes, v.Corrections)
	}
}
