package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/server"
)

// TestProblemSteps pushes problem steps (domain.Step) through the real
// handler and checks who may move a problem where: the group cadre
// escalates and resolves their own household's problem but cannot close
// one at the town; the team leader (a village lead) moves it to the town
// but cannot resolve it there; the city office (town level and up) can;
// a step naming another household's problem, or a step changed after it
// was written, is refused.
func TestProblemSteps(t *testing.T) {
	e := newEnv(t, server.Options{PageBytes: 2048}, nil)
	w := e.w
	db := e.srv.DB
	home := w.Group(w.G1)
	h0, h1 := home[0], home[1]
	type who struct {
		cadre *domain.Cadre
		dev   uuid.UUID
		token string
	}
	enrol := func(c *domain.Cadre) *who {
		dev, token := e.enroll(t, c.ID)
		return &who{c, dev, token}
	}
	cadre, leader, office := enrol(w.Cadre1), enrol(w.Leader), enrol(w.Office)
	problem := &domain.Problem{Household: h0.ID, Text: "自来水浑浊", Status: domain.ProblemOpen}
	if err := db.Put(w.Cadre1.ID, problem); err != nil {
		t.Fatal(err)
	}
	n := 0
	step := func(a *who, household uuid.UUID, from, to domain.ProblemStatus, note string) domain.Change {
		n++
		s := &domain.Step{Meta: domain.Meta{ID: uuid.New(), Author: a.cadre.ID, Device: a.dev, Created: time.Now()},
			Problem: problem.ID, Household: household, From: from, To: to, By: a.cadre.ID,
			At: time.Now().Add(-time.Minute), Note: note}
		fields, err := domain.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return domain.Change{ID: uuid.New(), Kind: domain.KindStep, Record: s.ID, Author: a.cadre.ID,
			Stamp: domain.Stamp{Wall: time.Now().UnixMilli(), Logical: uint32(n), Device: a.dev}, Fields: fields}
	}
	const (
		o  = domain.ProblemOpen
		v  = domain.ProblemVillage
		tn = domain.ProblemTown
		r  = domain.ProblemResolved
	)
	var escalated domain.Change
	for _, c := range []struct {
		name string
		a    *who
		ch   func() domain.Change
		ok   bool
	}{
		{"the group cadre escalates to the village", cadre, func() domain.Change { escalated = step(cadre, h0.ID, o, v, "需要村里协调"); return escalated }, true},
		{"the group cadre resolves at the village", cadre, func() domain.Change { return step(cadre, h0.ID, v, r, "已自行处理") }, true},
		{"the group cadre moves village→town", cadre, func() domain.Change { return step(cadre, h0.ID, v, tn, "") }, false},
		{"the group cadre resolves at the town", cadre, func() domain.Change { return step(cadre, h0.ID, tn, r, "已处理") }, false},
		{"the team leader moves village→town", leader, func() domain.Change { return step(leader, h0.ID, v, tn, "村里解决不了") }, true},
		{"the team leader resolves at the town", leader, func() domain.Change { return step(leader, h0.ID, tn, r, "已处理") }, false},
		{"the office resolves at the town", office, func() domain.Change { return step(office, h0.ID, tn, r, "镇水站已更换管道") }, true},
		{"the group cadre reopens", cadre, func() domain.Change { return step(cadre, h0.ID, r, o, "又浑浊了") }, true},
		{"a step naming another household", cadre, func() domain.Change { return step(cadre, h1.ID, o, v, "") }, false},
		{"a step changed after it was written", cadre, func() domain.Change {
			ch := escalated
			ch.ID, ch.Fields = uuid.New(), domain.Fields{"to": []byte(`"town"`)}
			ch.Stamp.Logical += 1000
			return ch
		}, false},
	} {
		ch := c.ch()
		status, resp, bad := e.push(t, c.a.token, ch)
		seen, _ := db.Seen(ch.ID)
		switch {
		case c.ok && (status != http.StatusOK || len(resp.Rejected) != 0 || !seen):
			t.Errorf("%s: %d %+v %+v, want applied", c.name, status, bad.Error, resp.Rejected)
		case !c.ok && (status != http.StatusForbidden || seen):
			t.Errorf("%s: %d (applied %v), want refused", c.name, status, seen)
		case !c.ok && bad.Error.Field != "role" && bad.Error.Field != "scope":
			t.Errorf("%s: refusal %+v gives no reason", c.name, bad.Error)
		}
	}
}
