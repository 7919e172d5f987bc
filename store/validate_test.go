package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// snapshot is what a rejected write must leave unchanged.
type snapshot struct {
	seq    uint64
	counts map[domain.Kind]int
}

func snap(tb testing.TB, db *store.DB) snapshot {
	tb.Helper()
	s := snapshot{counts: map[domain.Kind]int{}}
	var err error
	s.seq, err = db.LastSeq()
	must(tb, err)
	for _, k := range domain.Kinds {
		s.counts[k], err = db.Count(k)
		must(tb, err)
	}
	return s
}

func TestBadInputWritesNothing(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	now := v.Now

	visit := func(h uuid.UUID, at time.Time) *domain.Visit {
		return &domain.Visit{Household: h, Cadre: v.Li.ID, At: at, Type: domain.VisitRoutine, Notes: "走访"}
	}
	cases := []struct {
		name  string
		code  string
		field string
		recs  []domain.Record
	}{
		{"empty head of household", domain.EINVALID, "head_name",
			[]domain.Record{&domain.Household{HeadName: "  ", Group: v.G1.ID, Status: domain.Registered, Size: 1}}},
		{"empty cadre name", domain.EINVALID, "name",
			[]domain.Record{&domain.Cadre{Name: "", Rank: domain.RankOther}}},
		{"empty member name", domain.EINVALID, "name",
			[]domain.Record{&domain.Member{Household: v.Wang.ID}}},
		{"visit beyond clock skew", domain.EINVALID, "at",
			[]domain.Record{visit(v.Wang.ID, now.Add(domain.MaxSkew+time.Minute))}},
		{"visit for an unknown household", domain.ENOTFOUND, "household",
			[]domain.Record{visit(uuid.New(), now.Add(-time.Hour))}},
		{"visit by an unknown cadre", domain.ENOTFOUND, "cadre",
			[]domain.Record{&domain.Visit{Household: v.Wang.ID, Cadre: uuid.New(), At: now, Type: domain.VisitRoutine, Notes: "x"}}},
		{"measure due before its plan", domain.EINVALID, "due",
			[]domain.Record{&domain.Measure{Plan: v.Plan.ID, Household: v.Wang.ID, Type: domain.MeasureTraining,
				Description: "培训", Due: v.Plan.Start.AddDate(0, 0, -2), Progress: domain.NotStarted}}},
		{"second plan for a household", domain.ECONFLICT, "household",
			[]domain.Record{&domain.Plan{Household: v.Wang.ID, Start: now, Status: domain.PlanDraft}}},
		{"household in a village instead of a group", domain.EINVALID, "group",
			[]domain.Record{&domain.Household{HeadName: "马小明", Group: v.Vil.ID, Status: domain.Ordinary, Size: 1}}},
		// Several records in one Put: the good visit is not written either.
		{"a good visit with a bad problem", domain.EINVALID, "text",
			[]domain.Record{visit(v.Han.ID, now.Add(-time.Hour)), &domain.Problem{Household: v.Han.ID, Status: domain.ProblemOpen}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := snap(t, db)
			err := db.Put(v.Li.ID, c.recs...)
			var e *domain.Error
			if !errors.As(err, &e) {
				t.Fatalf("Put = %v, want a *domain.Error", err)
			}
			if e.Code != c.code || e.Field != c.field {
				t.Errorf("error %q: code %s field %s, want %s %s", err, e.Code, e.Field, c.code, c.field)
			}
			if e.Zh == "" || e.En == "" || e.Zh == e.En {
				t.Errorf("error %q is not in Chinese and English", err)
			}
			if domain.Message(err, "zh") != e.Zh || domain.Message(err, "en") != e.En {
				t.Errorf("Message does not reach the error through the wrapping: %q", domain.Message(err, "zh"))
			}
			after := snap(t, db)
			if after.seq != before.seq {
				t.Errorf("LastSeq %d -> %d", before.seq, after.seq)
			}
			for k, n := range before.counts {
				if after.counts[k] != n {
					t.Errorf("Count(%s) %d -> %d", k, n, after.counts[k])
				}
			}
		})
	}

	// Within the clock skew a visit is accepted: a phone's clock may run a
	// little ahead.
	before := snap(t, db)
	ok := visit(v.Han.ID, now.Add(domain.MaxSkew-time.Minute))
	must(t, db.Put(v.Li.ID, ok))
	after := snap(t, db)
	if after.seq != before.seq+1 || after.counts[domain.KindVisit] != before.counts[domain.KindVisit]+1 {
		t.Errorf("a visit within skew: seq %d -> %d, visits %d -> %d", before.seq, after.seq,
			before.counts[domain.KindVisit], after.counts[domain.KindVisit])
	}
	// A measure due on the plan's first day is fine.
	m := &domain.Measure{Plan: v.Plan.ID, Household: v.Wang.ID, Type: domain.MeasureOther,
		Description: "入户核实", Due: v.Plan.Start, Progress: domain.NotStarted}
	must(t, db.Put(v.Li.ID, m))
}
