package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/server"
)

// logIDs returns the IDs of the changes in db's log, in order.
func logIDs(t *testing.T, db *store.DB) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	if err := db.Log(0, func(e store.Entry) (bool, error) {
		ids = append(ids, e.Change.ID)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func idsOf(chs ...domain.Change) []uuid.UUID {
	var ids []uuid.UUID
	for _, ch := range chs {
		ids = append(ids, ch.ID)
	}
	return ids
}

// TestOutOfScopeNamed: a push refused for reaching outside the device's
// scope names every change of it that is out of scope — not only the first —
// in one answer, and writes nothing; the same push without them is then
// taken whole. Each change is judged as the retried push will judge it:
// against what the changes before it that are in scope leave.
func TestOutOfScopeNamed(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	w := e.w
	now := time.Now()
	dev, token := e.enroll(t, w.Cadre1.ID)
	mine := w.Group(w.G1)
	other := w.Group(w.G2)[1] // another group, not paired
	far := w.Group(w.G3)[0]   // another village
	at := func(i int) time.Time { return now.Add(time.Duration(i) * time.Millisecond) }
	visit := func(h *domain.Household, i int) domain.Change {
		return change(t, dev, w.Cadre1.ID, newVisit(h, w.Cadre1.ID, now), at(i))
	}
	// A new household of the cadre's group, then moved to another village:
	// the move leaves the cadre's scope and is refused. A visit to the
	// household after it in the same push is in scope, as without the move
	// the household stays in the group (a check that went on past the move
	// with the move merged would refuse the visit too).
	fresh := &domain.Household{HeadName: "新立户", Group: w.G1.ID, Status: domain.Ordinary, Size: 2}
	create := change(t, dev, w.Cadre1.ID, fresh, at(49))
	moved := *fresh
	moved.Group = w.G3.ID
	move := change(t, dev, w.Cadre1.ID, &moved, at(50))

	// Moving a household of the cadre's own group to another group of the
	// village is a roster edit, for the team leader.
	regroup := *mine[2]
	regroup.Group = w.G2.ID
	moveOwn := change(t, dev, w.Cadre1.ID, &regroup, at(70))

	many := []domain.Change{visit(mine[0], 100)}
	var manyOut []domain.Change
	for i := range 40 {
		out := visit([]*domain.Household{other, far}[i%2], 101+2*i)
		manyOut = append(manyOut, out)
		many = append(many, out, visit(mine[i%3], 102+2*i))
	}

	cases := []struct {
		name    string
		push    []domain.Change
		out     []domain.Change // the changes the refusal names
		zh, en  string          // in the words
		through uint64
	}{
		{"two out of scope among three in scope",
			[]domain.Change{visit(mine[0], 1), visit(other, 2), visit(w.Paired, 3), visit(far, 4), visit(mine[1], 5)},
			nil, "等 2 条更改", "and 1 other change;", 5},
		{"a move out of scope, then a visit to the household",
			[]domain.Change{visit(far, 48), create, move, visit(fresh, 51)},
			nil, "这条走访记录（", "this visit (", 4},
		{"one out of scope", []domain.Change{visit(far, 60), visit(mine[2], 61)},
			nil, "这条走访记录（", "this visit (", 2},
		{"forty out of scope, interleaved", many, manyOut, "等 40 条更改", "and 39 other changes", 81},
		{"a household moved to another group by its group cadre", []domain.Change{moveOwn, visit(mine[1], 71)},
			[]domain.Change{moveOwn}, "超出您的负责范围", "outside your responsibilities", 2},
	}
	cases[0].out = []domain.Change{cases[0].push[1], cases[0].push[3]}
	cases[1].out = []domain.Change{cases[1].push[0], move}
	cases[2].out = cases[2].push[:1]
	rec := cases[2].push[0].Record.String()[:8]
	cases[2].zh += rec + "），服务器未保存这条更改"
	cases[2].en += rec + "); the server did not save this change"

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := logIDs(t, e.srv.DB)
			status, _, bad := e.sync(t, token, c.through, c.push...)
			if status != http.StatusForbidden || bad.Error.Code != domain.EFORBIDDEN || bad.Error.Field != "scope" {
				t.Fatalf("%d %+v, want 403 forbidden scope", status, bad)
			}
			var named []uuid.UUID
			for _, s := range bad.Error.Changes {
				named = append(named, uuid.MustParse(s))
			}
			if want := idsOf(c.out...); !slices.Equal(named, want) {
				t.Fatalf("the refusal names %v, want %v", named, want)
			}
			if !strings.HasPrefix(bad.Error.Zh, "超出您的负责范围") || !strings.Contains(bad.Error.Zh, c.zh) ||
				!strings.HasPrefix(bad.Error.En, "outside your responsibilities") || !strings.Contains(bad.Error.En, c.en) {
				t.Errorf("words %q / %q, want %q / %q in them", bad.Error.Zh, bad.Error.En, c.zh, c.en)
			}
			if after := logIDs(t, e.srv.DB); !slices.Equal(after, before) {
				t.Fatalf("a refused push changed the server's log: %d entries, %d before", len(after), len(before))
			}
			for _, ch := range c.push {
				if ok, _ := e.srv.DB.Seen(ch.ID); ok {
					t.Fatalf("change %s of a refused push applied", ch.ID)
				}
			}

			// The push without the named changes is taken whole.
			var rest []domain.Change
			for _, ch := range c.push {
				if !slices.Contains(named, ch.ID) {
					rest = append(rest, ch)
				}
			}
			status, resp, bad := e.sync(t, token, c.through, rest...)
			if status != http.StatusOK || resp.Acked != c.through || len(resp.Rejected) != 0 {
				t.Fatalf("the rest: %d %+v acked %d rejected %+v", status, bad, resp.Acked, resp.Rejected)
			}
			for _, ch := range rest {
				if ok, _ := e.srv.DB.Seen(ch.ID); !ok {
					t.Errorf("change %s of the rest not applied", ch.ID)
				}
			}
			for _, ch := range c.out {
				if ok, _ := e.srv.DB.Seen(ch.ID); ok {
					t.Errorf("named change %s applied", ch.ID)
				}
			}
		})
	}
	if h, err := e.srv.DB.Get(domain.KindHousehold, fresh.ID); err != nil || h.(*domain.Household).Group != w.G1.ID {
		t.Fatalf("the household moved out of scope: %+v %v", h, err)
	}
}
