package query

import (
	"math"
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// GroupStats are the figures of one group (社) of a village, or of the whole
// village in VillageOverview.Total.
type GroupStats struct {
	Group           *domain.Place // nil in the Total row
	Households      int
	People          int     // sum of Household.Size
	Farmland        float64 // mu, rounded to 0.01
	VisitsThisMonth int     // visits in the calendar month of now
	Overdue         int
	OpenProblems    int
	AwaitingReview  int // plans with status submitted
	Gaps            int // households missing a level of three-level assistance
}

// VillageOverview is a village at a glance for a team leader: its groups by name,
// with totals.
type VillageOverview struct {
	Village *domain.Place
	Groups  []GroupStats // by group name
	Total   GroupStats
}

// Overview returns the figures of a village at now, group by group, or an
// error matching domain.ErrNotFound if there is no such village.
func Overview(db *store.DB, village uuid.UUID, now time.Time) (*VillageOverview, error) {
	var o *VillageOverview
	err := view(db, func(r *reader) error {
		v := r.place(village)
		if v == nil || v.Level != domain.Village {
			return notFoundErr("overview", domain.KindPlace, village)
		}
		o = &VillageOverview{Village: v}
		gaps := map[uuid.UUID]bool{}
		ga, err := r.assistance(village)
		if err != nil {
			return err
		}
		for _, g := range ga.Households {
			gaps[g.Household.ID] = true
		}
		submitted := map[uuid.UUID]int{}
		for _, p := range r.submittedPlans() {
			submitted[p.Household]++
		}
		month := monthStart(now)
		for _, g := range r.groupsOf(village) {
			st := GroupStats{Group: g}
			for _, id := range r.householdsOfGroup(g.ID) {
				h := r.household(id)
				if h == nil {
					continue
				}
				row := r.row(h, now)
				st.Households++
				st.People += h.Size
				st.Farmland += h.Farmland
				st.VisitsThisMonth += r.visitsSince("visit_hh", id[:], month)
				if row.Overdue {
					st.Overdue++
				}
				st.OpenProblems += row.OpenProblems
				st.AwaitingReview += submitted[id]
				if gaps[id] {
					st.Gaps++
				}
			}
			o.Total.add(st)
			st.Farmland = roundMu(st.Farmland)
			o.Groups = append(o.Groups, st)
		}
		o.Total.Farmland = roundMu(o.Total.Farmland)
		return nil
	})
	return o, err
}

func (s *GroupStats) add(t GroupStats) {
	s.Households += t.Households
	s.People += t.People
	s.Farmland += t.Farmland
	s.VisitsThisMonth += t.VisitsThisMonth
	s.Overdue += t.Overdue
	s.OpenProblems += t.OpenProblems
	s.AwaitingReview += t.AwaitingReview
	s.Gaps += t.Gaps
}

// roundMu rounds an area to 0.01 mu, so that sums print as the figures they are.
func roundMu(x float64) float64 { return math.Round(x*100) / 100 }

// ProblemRow is an open problem with its household.
type ProblemRow struct {
	Problem   *domain.Problem
	Household HouseholdRow
	AgeDays   int // whole days since the problem was found
}

// OpenProblems returns the open problems of a village (uuid.Nil: everywhere),
// oldest first.
func OpenProblems(db *store.DB, village uuid.UUID, now time.Time) ([]ProblemRow, error) {
	var out []ProblemRow
	err := view(db, func(r *reader) error {
		scanRecords(r, "problem_open", nil, domain.KindProblem, 0, func(rec domain.Record) {
			p := rec.(*domain.Problem)
			h := r.household(p.Household)
			if h == nil || (village != uuid.Nil && r.villageOf(h.Group) != village) {
				return
			}
			out = append(out, ProblemRow{Problem: p, Household: r.row(h, now), AgeDays: max(daysSince(p.Created, now), 0)})
		})
		return nil
	})
	return out, err
}

// PlanRow is a plan awaiting review with its household and how far its
// measures have come.
type PlanRow struct {
	Plan      *domain.Plan
	Household HouseholdRow
	Measures  int // live measures
	Done      int // of which done
}

// PlansAwaitingReview returns the submitted plans of a village (uuid.Nil:
// everywhere), the oldest submission first. A plan was submitted when its
// status field was last set.
func PlansAwaitingReview(db *store.DB, village uuid.UUID, now time.Time) ([]PlanRow, error) {
	var out []PlanRow
	err := view(db, func(r *reader) error {
		type sub struct {
			row PlanRow
			at  domain.Stamp
		}
		var subs []sub
		for _, p := range r.submittedPlans() {
			h := r.household(p.Household)
			if h == nil || (village != uuid.Nil && r.villageOf(h.Group) != village) {
				continue
			}
			pr := PlanRow{Plan: p, Household: r.row(h, now)}
			scanRecords(r, "measure_plan", p.ID[:], domain.KindMeasure, 0, func(rec domain.Record) {
				pr.Measures++
				if rec.(*domain.Measure).Progress == domain.Done {
					pr.Done++
				}
			})
			var at domain.Stamp
			if st, ok, err := r.tx.State(domain.KindPlan, p.ID, "status"); err == nil && ok {
				at = st.Stamp
			}
			subs = append(subs, sub{pr, at})
		}
		sort.SliceStable(subs, func(i, j int) bool { return subs[j].at.After(subs[i].at) })
		for _, s := range subs {
			out = append(out, s.row)
		}
		return nil
	})
	return out, err
}

// submittedPlans returns the live plans with status submitted.
func (r *reader) submittedPlans() []*domain.Plan {
	var out []*domain.Plan
	scanRecords(r, "plan_submitted", nil, domain.KindPlan, 0, func(rec domain.Record) {
		out = append(out, rec.(*domain.Plan))
	})
	return out
}
