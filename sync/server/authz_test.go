package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
)

// actor is a role in the authorisation matrix: a cadre with an enrolled
// device.
type actor struct {
	name  string
	cadre *domain.Cadre
	dev   uuid.UUID
	token string
}

// allowed is the authorisation policy written down by hand, not read from
// domain.Decls, for a change by actor a (one of "group cadre" of 一社,
// "team leader" of 王坪村, "city office") that sets field of an existing
// record of kind in 一社 of 王坪村, made by a (own) or by someone else, to a
// new value; self says the value is the actor's own ID (for the fields that
// name a person).
func allowed(a string, kind domain.Kind, field string, own, self bool) bool {
	lead := a == "team leader" || a == "city office"
	// Fields naming who did something name the actor, or no one.
	switch field {
	case "author", "device", "cadre", "reviewer", "reported_by", "resolved_by":
		if !(kind == domain.KindAssignment && field == "cadre") && !self {
			return false
		}
	}
	switch kind {
	case domain.KindPlace, domain.KindAssignment:
		return lead
	case domain.KindCadre:
		switch field {
		case "rank", "left", "left_on", "left_reason":
			return lead // ranks and retirements are the roster's
		}
		return lead || own
	case domain.KindHousehold:
		switch field {
		case "group":
			return lead // moving a household between groups is a roster edit
		case "status", "exit", "exit_on", "exit_reason":
			return lead // its status and its leaving the roster are the town's to record
		}
		return true
	case domain.KindReview:
		// Approvers only, never signing off their own plan.
		return a == "team leader" && (!own || field != "verdict")
	case domain.KindPlan:
		if field == "status" {
			return a == "team leader" && !own // approving: the same
		}
		return true
	case domain.KindStep:
		return false // a problem's history is only added to, never changed
	case domain.KindConflict:
		switch field { // the rest, Meta's fields included, is made by merging only
		case "resolved", "resolved_at", "resolved_by":
			return true
		case "author":
			return own && self // unchanged: the author of their own record is them // the record in conflict (a household's phone) is theirs to edit
		}
		return false // made by merging only
	}
	return true
}

// push pushes changes with a cursor at the end of the server's log, so that
// the answer pulls nothing.
func (e *env) push(t testing.TB, token string, changes ...domain.Change) (int, protocol.SyncResponse, protocol.ErrorBody) {
	t.Helper()
	wire, err := protocol.EncodeChanges(changes)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := e.srv.DB.LastSeq()
	cursor := fmt.Sprintf("%d@%s", last, e.srv.DB.Device().String()[:8])
	status, body := e.post(t, protocol.PathSync, token, protocol.SyncRequest{V: 1, Cursor: cursor, Through: 1, Changes: wire})
	var ok protocol.SyncResponse
	var bad protocol.ErrorBody
	if status == http.StatusOK {
		err = json.Unmarshal(body, &ok)
	} else {
		err = json.Unmarshal(body, &bad)
	}
	if err != nil {
		t.Fatalf("status %d with body %s", status, body)
	}
	return status, ok, bad
}

// TestAuthorisationMatrix pushes, through the real handler and a real
// store, one change per role × kind × field × own or another's record ×
// (for fields naming a person) own or another's ID, and checks each is
// applied or refused (403, named) as the policy says.
func TestAuthorisationMatrix(t *testing.T) {
	// Each push that creates a record changes what the pusher may read, and
	// its pull then begins a catch-up; a small page keeps that to one small
	// page per push (this test is about what is written, not pulled).
	e := newEnv(t, server.Options{PageBytes: 2048}, nil)
	w := e.w
	db := e.srv.DB
	now := time.Now().Add(-time.Minute)
	var actors []*actor
	for _, a := range []*actor{{name: "group cadre", cadre: w.Cadre1}, {name: "team leader", cadre: w.Leader}, {name: "city office", cadre: w.Office}} {
		a.dev, a.token = e.enroll(t, a.cadre.ID)
		actors = append(actors, a)
	}
	home := w.Group(w.G1)
	h0 := home[0]
	put := func(author uuid.UUID, rec domain.Record) domain.Record {
		t.Helper()
		if err := db.Put(author, rec); err != nil {
			t.Fatalf("put %s: %v", rec.Kind(), err)
		}
		return rec
	}
	// make returns a fresh record of kind in 一社, made by author.
	make := func(kind domain.Kind, author uuid.UUID) domain.Record {
		t.Helper()
		switch kind {
		case domain.KindPlace:
			return put(author, &domain.Place{Level: domain.Group, Name: "新社", Parent: w.Village.ID})
		case domain.KindCadre:
			if author == w.Cadre2.ID {
				return w.Cadre2
			}
			for _, c := range []*domain.Cadre{w.Cadre1, w.Leader, w.Office} {
				if c.ID == author {
					return c
				}
			}
		case domain.KindHousehold:
			return put(author, &domain.Household{HeadName: "新户", Group: w.G1.ID, Status: domain.Ordinary, Size: 2})
		case domain.KindMember:
			return put(author, &domain.Member{Household: h0.ID, Name: "马小花", Gender: "女"})
		case domain.KindAssignment:
			return put(author, &domain.Assignment{Cadre: w.Cadre2.ID, Role: domain.Helper, Target: h0.ID, Since: now})
		case domain.KindPlan:
			h := put(author, &domain.Household{HeadName: "新户", Group: w.G1.ID, Status: domain.Ordinary, Size: 2}).Metadata().ID
			return put(author, &domain.Plan{Household: h, Goal: "增收", Start: now, Status: domain.PlanSubmitted})
		case domain.KindMeasure:
			h := put(author, &domain.Household{HeadName: "新户", Group: w.G1.ID, Status: domain.Ordinary, Size: 2}).Metadata().ID
			p := put(author, &domain.Plan{Household: h, Goal: "增收", Start: now, Status: domain.PlanDraft})
			return put(author, &domain.Measure{Plan: p.Metadata().ID, Household: h, Type: domain.MeasureFarming,
				Description: "养鸡", Due: now.Add(time.Hour), Progress: domain.NotStarted})
		case domain.KindReview:
			h := put(author, &domain.Household{HeadName: "新户", Group: w.G1.ID, Status: domain.Ordinary, Size: 2}).Metadata().ID
			p := put(author, &domain.Plan{Household: h, Goal: "增收", Start: now, Status: domain.PlanSubmitted})
			return put(author, &domain.Review{Plan: p.Metadata().ID, Household: h, Reviewer: author,
				Verdict: domain.VerdictComment, Comment: "请补充", At: now})
		case domain.KindVisit:
			return put(author, newVisit(h0, author, now))
		case domain.KindProblem:
			return put(author, &domain.Problem{Household: h0.ID, Text: "漏水", Status: domain.ProblemOpen})
		case domain.KindStep:
			p := put(author, &domain.Problem{Household: h0.ID, Text: "漏水", Status: domain.ProblemOpen})
			return put(author, &domain.Step{Problem: p.Metadata().ID, Household: h0.ID, From: domain.ProblemOpen,
				To: domain.ProblemVillage, By: author, At: now})
		case domain.KindPhoto:
			v := put(author, newVisit(h0, author, now))
			data := []byte(fmt.Sprintf("photo of %s", v.Metadata().ID))
			sum := sha256.Sum256(data)
			ph := &domain.Photo{Household: h0.ID, OfKind: domain.KindVisit, Of: v.Metadata().ID, Cadre: author,
				Hash: hex.EncodeToString(sum[:]), Size: len(data)}
			if err := db.PutBlobs(author, "", []store.Blob{{Hash: ph.Hash, Data: data}}, ph); err != nil {
				t.Fatal(err)
			}
			return ph
		case domain.KindConflict:
			win := domain.FieldState{Value: json.RawMessage(`"13900000001"`), Stamp: domain.Stamp{Wall: now.UnixMilli(), Logical: 9, Device: uuid.New()}, Author: author}
			lost := domain.FieldState{Value: json.RawMessage(`"13900000002"`), Stamp: domain.Stamp{Wall: now.UnixMilli() - 5, Device: uuid.New()}, Author: w.Cadre2.ID}
			c := domain.NewConflict(domain.KindHousehold, h0.ID, h0.ID, "phone", win, lost)
			cc, err := domain.ConflictChange(c, win.Stamp)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Apply(uuid.New(), []domain.Change{cc}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		t.Fatalf("no record of kind %s", kind)
		return nil
	}
	// value returns a new value for field f of rec, as actor a would set
	// it; self picks a's ID or another's for fields naming a person.
	value := func(a *actor, rec domain.Record, f domain.Field, self bool, n int) json.RawMessage {
		other := w.Cadre3.ID // no actor, nor the author of another's record
		q := func(s string) json.RawMessage { return json.RawMessage(`"` + s + `"`) }
		switch f.Name {
		case "author", "cadre", "reviewer", "reported_by", "resolved_by", "owner", "by":
			if rec.Kind() == domain.KindAssignment && f.Name == "cadre" {
				return q(w.Cadre1.ID.String())
			}
			if self {
				return q(a.cadre.ID.String())
			}
			return q(other.String())
		case "device":
			if self {
				return q(a.dev.String())
			}
			return q(uuid.NewString())
		case "household":
			if rec.Kind() == domain.KindConflict {
				return q(home[1].ID.String())
			}
			return q(home[1].ID.String())
		case "group":
			return q(w.G2.ID.String())
		case "parent":
			return q(w.G2.ID.String()) // a group under a group: content, not scope
		case "target":
			return q(home[2].ID.String())
		case "companions":
			return json.RawMessage(`[]`) // a list of cadre IDs: which ones is TestVisitRefusals'
		case "corrections":
			return json.RawMessage(`[]`) // a visit's history: TestVisitCorrection's
		case "plan", "visit", "record", "natural_village", "winner_author", "loser_author", "met", "problem", "of":
			return q(uuid.NewString())
		}
		if f.Name == "level" {
			return q(string(domain.NaturalVillage))
		}
		switch f.Type {
		case domain.TString:
			return q(fmt.Sprintf("改%d", n))
		case domain.TBool:
			cur, _ := domain.Encode(rec)
			if string(cur[f.Name]) == "true" {
				return json.RawMessage(`false`)
			}
			return json.RawMessage(`true`)
		case domain.TInt:
			return json.RawMessage(fmt.Sprint(3 + n%40))
		case domain.TNumber:
			return json.RawMessage(fmt.Sprintf("%d.5", n%100))
		case domain.TTime:
			return q(now.Add(-time.Duration(n) * time.Second).UTC().Format(time.RFC3339))
		case domain.TEnum:
			cur, _ := domain.Encode(rec)
			for _, v := range f.Values {
				if v != "" && `"`+v+`"` != string(cur[f.Name]) {
					if f.Name == "status" && rec.Kind() == domain.KindPlan {
						return q(string(domain.PlanApproved))
					}
					if f.Name == "verdict" {
						return q(string(domain.VerdictApprove))
					}
					return q(v)
				}
			}
		case domain.TJSON:
			if rec.Kind() == domain.KindConflict {
				return json.RawMessage(`"x"`)
			}
			return json.RawMessage(`{}`) // an object: a place's rules, a status request
		}
		t.Fatalf("no value for %s.%s", rec.Kind(), f.Name)
		return nil
	}
	cases, refused := 0, 0
	for _, a := range actors {
		for _, d := range domain.Decls {
			for _, f := range append(append([]domain.Field{}, d.Fields...), domain.MetaFields...) {
				for _, own := range []bool{true, false} {
					selves := []bool{true}
					switch f.Name {
					case "author", "device", "cadre", "reviewer", "reported_by", "resolved_by", "by":
						selves = []bool{true, false}
					}
					for _, self := range selves {
						cases++
						author := w.Cadre2.ID
						if own {
							author = a.cadre.ID
						}
						rec := make(d.Kind, author)
						if d.Kind == domain.KindCadre && !own && a.cadre.ID == w.Cadre2.ID {
							rec = w.Cadre3
						}
						v := value(a, rec, f, self, cases)
						ch := domain.Change{ID: uuid.New(), Kind: d.Kind, Record: rec.Metadata().ID, Author: a.cadre.ID,
							Stamp:  domain.Stamp{Wall: time.Now().UnixMilli(), Logical: uint32(cases), Device: a.dev},
							Fields: domain.Fields{f.Name: v}}
						want := allowed(a.name, d.Kind, f.Name, own, self)
						status, resp, bad := e.push(t, a.token, ch)
						seen, _ := db.Seen(ch.ID)
						name := fmt.Sprintf("%s sets %s.%s=%s on %s record", a.name, d.Kind, f.Name, v, map[bool]string{true: "own", false: "another's"}[own])
						switch {
						case want && (status != http.StatusOK || len(resp.Rejected) != 0 || !seen):
							t.Errorf("%s: %d %+v %+v, want applied", name, status, bad.Error, resp.Rejected)
						case !want && (status != http.StatusForbidden || seen):
							t.Errorf("%s: %d (applied %v), want refused", name, status, seen)
						case !want && (len(bad.Error.Changes) != 1 || bad.Error.Changes[0] != ch.ID.String() ||
							(bad.Error.Field != "role" && bad.Error.Field != "scope")):
							t.Errorf("%s: refusal %+v does not name the change with a reason", name, bad.Error)
						}
						if !want {
							refused++
						}
						if d.Kind == domain.KindCadre && f.Name == "deleted" && seen {
							// Bring the cadre back for the cases after.
							back := domain.Change{ID: uuid.New(), Kind: domain.KindCadre, Record: rec.Metadata().ID, Author: w.Admin,
								Stamp:  domain.Stamp{Wall: time.Now().UnixMilli() + 1000, Device: db.Device()},
								Fields: domain.Fields{"deleted": json.RawMessage(`false`)}}
							if _, err := db.Apply(uuid.New(), []domain.Change{back}); err != nil {
								t.Fatal(err)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d refused", cases, refused)
}
