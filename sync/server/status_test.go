package server_test

import (
	"net/http"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/server"
)

// TestStatusIsTheTowns: a group cadre's device may ask for a household's
// status to change (a status request) but not change it; the team leader's
// device may.
func TestStatusIsTheTowns(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	h := w.Group(w.G1)[0]
	only := func(ch domain.Change, fields ...string) domain.Change {
		f := domain.Fields{}
		for _, k := range fields {
			f[k] = ch.Fields[k]
		}
		ch.Fields = f
		return ch
	}

	changed := *h
	changed.Status = domain.Monitored
	if changed.Status == h.Status {
		changed.Status = domain.Ordinary
	}
	direct := only(change(t, dev, w.Cadre1.ID, &changed, now), "status")
	if status, _, bad := e.sync(t, token, 1, direct); status != http.StatusForbidden || bad.Error.Field != "scope" {
		t.Fatalf("a group cadre set a household's status: %d %+v", status, bad)
	}

	asked := *h
	asked.Request = &domain.StatusRequest{To: changed.Status, Reason: "家中主要劳动力因病丧失劳动能力", By: w.Cadre1.ID, At: now}
	req := only(change(t, dev, w.Cadre1.ID, &asked, now.Add(time.Millisecond)), "status_request")
	if status, _, bad := e.sync(t, token, 2, req); status != http.StatusOK {
		t.Fatalf("a group cadre's status request: %d %+v", status, bad)
	}

	ldev, ltoken := e.enroll(t, w.Leader.ID)
	approved := asked
	approved.Status, approved.Request = changed.Status, nil
	ok := only(change(t, ldev, w.Leader.ID, &approved, now.Add(2*time.Millisecond)), "status", "status_request")
	if status, _, bad := e.sync(t, ltoken, 1, ok); status != http.StatusOK {
		t.Fatalf("the team leader's approval: %d %+v", status, bad)
	}
	rec, err := e.srv.DB.Get(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.(*domain.Household); got.Status != changed.Status || got.Request != nil {
		t.Errorf("after the approval: status %s, request %+v", got.Status, got.Request)
	}
}
