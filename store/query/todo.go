package query

import (
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// TodoDays is how far ahead a cadre's to-do list looks: measures and
// follow-ups due within it (or overdue), problems answered within it.
const TodoDays = 14

// TodoList is a cadre's to-do list (待办): what on their households needs them
// now. Nothing in it is a quota: each item is a household's business.
type TodoList struct {
	// Returned are the plans a reviewer sent back (退回修改), oldest first.
	Returned []ReturnedPlan
	// Measures are the measures not done that are due within TodoDays or
	// overdue, earliest due first.
	Measures []DueMeasure
	// FollowUps are the visits' follow-ups not done that are due within
	// TodoDays or overdue, earliest due first.
	FollowUps []DueFollowUp
	// Answered are the problems on the cadre's households that someone else
	// resolved within TodoDays, newest first.
	Answered []AnsweredProblem
	// Overdue are the households overdue for a visit, in list order.
	Overdue []HouseholdRow
}

// Len returns how many items the list holds.
func (t *TodoList) Len() int {
	return len(t.Returned) + len(t.Measures) + len(t.FollowUps) + len(t.Answered) + len(t.Overdue)
}

// ReturnedPlan is a plan sent back, with who sent it back and why.
type ReturnedPlan struct {
	Household uuid.UUID
	HeadName  string
	Plan      *domain.Plan
	// Review is the review that sent it back, nil if it has not arrived.
	Review   *domain.Review
	Reviewer string // the reviewer's name
}

// DueMeasure is a measure due soon or overdue.
type DueMeasure struct {
	Household uuid.UUID
	HeadName  string
	Measure   *domain.Measure
	Overdue   bool
}

// DueFollowUp is a visit whose follow-up is owed.
type DueFollowUp struct {
	Household uuid.UUID
	HeadName  string
	Visit     *domain.Visit
	Overdue   bool
}

// AnsweredProblem is a problem someone else resolved.
type AnsweredProblem struct {
	Household uuid.UUID
	HeadName  string
	Problem   *domain.Problem
	By        string // the resolver's name
}

// Todo returns cadre's to-do list at now: over the households MyHouseholds
// lists, in one read transaction.
func Todo(db *store.DB, cadre uuid.UUID, now time.Time) (*TodoList, error) {
	t := &TodoList{}
	err := view(db, func(r *reader) error {
		horizon := now.AddDate(0, 0, TodoDays)
		since := now.AddDate(0, 0, -TodoDays)
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		for _, row := range r.rows(r.householdsOf(cadre), now) {
			if row.Overdue {
				t.Overdue = append(t.Overdue, row)
			}
			h := row.ID
			scanRecords(r, "plan_hh", h[:], domain.KindPlan, 1, func(rec domain.Record) {
				p := rec.(*domain.Plan)
				if p.Status == domain.PlanReturned {
					rp := ReturnedPlan{Household: h, HeadName: row.HeadName, Plan: p}
					scanRecords(r, "review_plan", p.ID[:], domain.KindReview, 0, func(rec domain.Record) {
						if v := rec.(*domain.Review); rp.Review == nil && v.Verdict == domain.VerdictReturn {
							rp.Review = v
						}
					})
					if rp.Review != nil {
						if c := r.cadre(rp.Review.Reviewer); c != nil {
							rp.Reviewer = c.Name
						}
					}
					t.Returned = append(t.Returned, rp)
				}
				scanRecords(r, "measure_plan", p.ID[:], domain.KindMeasure, 0, func(rec domain.Record) {
					m := rec.(*domain.Measure)
					if m.Progress != domain.Done && !m.Due.IsZero() && m.Due.Before(horizon) {
						t.Measures = append(t.Measures, DueMeasure{Household: h, HeadName: row.HeadName, Measure: m, Overdue: m.Due.Before(today)})
					}
				})
			})
			scanRecords(r, "visit_hh", h[:], domain.KindVisit, CardVisits, func(rec domain.Record) {
				v := rec.(*domain.Visit)
				if v.FollowUpOwed() && !v.Due.IsZero() && v.Due.Before(horizon) {
					t.FollowUps = append(t.FollowUps, DueFollowUp{Household: h, HeadName: row.HeadName, Visit: v, Overdue: v.Due.Before(today)})
				}
			})
			scanRecords(r, "problem_hh", h[:], domain.KindProblem, 0, func(rec domain.Record) {
				p := rec.(*domain.Problem)
				if p.Status == domain.ProblemResolved && p.ResolvedBy != cadre && !p.ResolvedAt.Before(since) {
					a := AnsweredProblem{Household: h, HeadName: row.HeadName, Problem: p}
					if c := r.cadre(p.ResolvedBy); c != nil {
						a.By = c.Name
					}
					t.Answered = append(t.Answered, a)
				}
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(t.Returned, func(i, j int) bool { return t.Returned[i].Plan.Updated.Before(t.Returned[j].Plan.Updated) })
	sort.SliceStable(t.Measures, func(i, j int) bool { return t.Measures[i].Measure.Due.Before(t.Measures[j].Measure.Due) })
	sort.SliceStable(t.FollowUps, func(i, j int) bool { return t.FollowUps[i].Visit.Due.Before(t.FollowUps[j].Visit.Due) })
	sort.SliceStable(t.Answered, func(i, j int) bool {
		return t.Answered[i].Problem.ResolvedAt.After(t.Answered[j].Problem.ResolvedAt)
	})
	return t, nil
}
