package query

import (
	"encoding/binary"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// The read models of a problem's life (问题处理): its history, the village's
// and the town's lists of what waits for them, the problems resolved on a
// household, and the moves a cadre has not seen yet.

// StepRow is one step of a problem's history with the cadre who took it.
type StepRow struct {
	Step *domain.Step
	By   *domain.Cadre // nil if the replica does not hold the cadre
}

// ProblemDetail is a problem with its household, where it stands and its
// history: what the problem screen shows.
type ProblemDetail struct {
	Problem       *domain.Problem
	Household     HouseholdRow
	Village, Town *domain.Place // nil if unknown
	FoundBy       *domain.Cadre // the problem's author; nil if unknown
	Steps         []StepRow     // oldest first
	AgeDays       int           // whole days since the problem was found
	// Waiting is the whole days since the problem last moved (its last
	// step, or when it was found); Quiet is domain.Quiet's verdict on it.
	Waiting int
	Quiet   bool
	// Level is where the viewer stands towards the household, for the
	// moves they may make (domain.MayStep).
	Level domain.StepLevel
}

// ProblemHistory returns a problem with its history as viewer sees it at
// now, or an error matching domain.ErrNotFound if the problem (or its
// household) is not in the replica.
func ProblemHistory(db *store.DB, problem, viewer uuid.UUID, now time.Time) (*ProblemDetail, error) {
	var d *ProblemDetail
	err := view(db, func(r *reader) error {
		rec := r.get(domain.KindProblem, problem)
		if rec == nil {
			return notFoundErr("problem", domain.KindProblem, problem)
		}
		p := rec.(*domain.Problem)
		h := r.household(p.Household)
		if h == nil {
			return notFoundErr("problem", domain.KindHousehold, p.Household)
		}
		d = &ProblemDetail{Problem: p, Household: r.row(h, now), FoundBy: r.cadre(p.Author),
			AgeDays: max(daysSince(p.Created, now), 0)}
		if d.Village = r.place(d.Household.Village); d.Village != nil {
			d.Town = r.place(d.Village.Parent)
		}
		for _, s := range r.steps(p.ID) {
			d.Steps = append(d.Steps, StepRow{Step: s, By: r.cadre(s.By)})
		}
		d.Waiting, d.Quiet = domain.Quiet(p, r.lastMove(p.ID), now)
		d.Level = r.stepLevel(viewer, h)
		return nil
	})
	return d, err
}

// steps returns the live steps of a problem, oldest first.
func (r *reader) steps(problem uuid.UUID) []*domain.Step {
	var out []*domain.Step
	scanRecords(r, "step_problem", problem[:], domain.KindStep, 0, func(rec domain.Record) {
		out = append(out, rec.(*domain.Step))
	})
	return out
}

// lastMove returns the time of a problem's last step, zero if it has none,
// from the step_problem index alone.
func (r *reader) lastMove(problem uuid.UUID) time.Time {
	var last time.Time
	r.tx.Scan("step_problem", problem[:], func(k []byte, _ uuid.UUID) bool {
		last = oldestTime(k[16:24])
		return true
	})
	return last
}

// oldestTime decodes a time encoded by oldest.
func oldestTime(b []byte) time.Time {
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
}

// stepLevel is where cadre stands towards household h, as the server
// decides it (sync/server's scope.step): staff of its town or of the city at
// the town, a lead of its village at the village, anyone else responsible
// for it (its group cadre, a helper, a cadre of the village) at the
// household.
func (r *reader) stepLevel(cadre uuid.UUID, h *domain.Household) domain.StepLevel {
	village := r.villageOf(h.Group)
	town := uuid.Nil
	if v := r.place(village); v != nil {
		town = v.Parent
	}
	level := domain.StepNone
	for _, a := range r.assignmentsOf(cadre) {
		l := domain.StepNone
		switch p := r.place(a.Target); {
		case a.Role.IsPairing():
			if a.Target == h.ID {
				l = domain.StepHousehold
			}
		case p == nil:
		case p.Level == domain.City:
			if t := r.place(town); t != nil && t.Parent == p.ID {
				l = domain.StepTown
			}
		case p.Level == domain.Town && p.ID == town:
			l = domain.StepTown
		case p.Level == domain.Village && p.ID == village && a.Role.Leads():
			l = domain.StepVillage
		case p.Level == domain.Village && p.ID == village, p.Level == domain.Group && p.ID == h.Group:
			l = domain.StepHousehold
		}
		level = max(level, l)
	}
	return level
}

// InboxRow is an unresolved problem in a village's or a town's list: the
// problem with its household and village, its age and how long it has
// waited since it last moved.
type InboxRow struct {
	ProblemRow
	Village *domain.Place
	Waiting int  // whole days since the problem last moved
	Quiet   bool // domain.Quiet: waiting at the village or town without response
}

// ProblemsAt returns the unresolved problems of a village or a town (place;
// uuid.Nil: everywhere), oldest found first, those with status in statuses
// only if any are given: the town's inbox is ProblemsAt(town, now,
// domain.ProblemTown).
func ProblemsAt(db *store.DB, place uuid.UUID, now time.Time, statuses ...domain.ProblemStatus) ([]InboxRow, error) {
	var out []InboxRow
	err := view(db, func(r *reader) error {
		inPlace := func(village uuid.UUID) bool {
			if place == uuid.Nil || village == place {
				return true
			}
			v := r.place(village)
			return v != nil && v.Parent == place
		}
		scanRecords(r, "problem_open", nil, domain.KindProblem, 0, func(rec domain.Record) {
			p := rec.(*domain.Problem)
			if len(statuses) > 0 && !slices.Contains(statuses, p.Status) {
				return
			}
			h := r.household(p.Household)
			if h == nil {
				return
			}
			village := r.villageOf(h.Group)
			if !inPlace(village) {
				return
			}
			row := InboxRow{ProblemRow: ProblemRow{Problem: p, Household: r.row(h, now), AgeDays: max(daysSince(p.Created, now), 0)},
				Village: r.place(village)}
			row.Waiting, row.Quiet = domain.Quiet(p, r.lastMove(p.ID), now)
			out = append(out, row)
		})
		return nil
	})
	return out, err
}

// ResolvedProblems returns a household's resolved problems, the latest
// resolved first, at most max of them (max <= 0: all): the card shows them
// with their resolution under the open ones.
func ResolvedProblems(db *store.DB, household uuid.UUID, max int) ([]*domain.Problem, error) {
	var out []*domain.Problem
	err := view(db, func(r *reader) error {
		scanRecords(r, "problem_hh", household[:], domain.KindProblem, 0, func(rec domain.Record) {
			if p := rec.(*domain.Problem); p.Status == domain.ProblemResolved {
				out = append(out, p)
			}
		})
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].ResolvedAt.After(out[j].ResolvedAt) })
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out, err
}

// StepNews is a move someone else made on a problem of one of a cadre's
// households: what a notification tells the cadre after a sync.
type StepNews struct {
	Step     *domain.Step
	Problem  *domain.Problem
	HeadName string
	By       *domain.Cadre // nil if unknown
}

// ProblemNews returns the steps taken at or after since by others than
// cadre on the problems of the households cadre is responsible for, oldest
// first.
func ProblemNews(db *store.DB, cadre uuid.UUID, since time.Time) ([]StepNews, error) {
	var out []StepNews
	err := view(db, func(r *reader) error {
		for _, hid := range r.householdsOf(cadre) {
			h := r.household(hid)
			if h == nil {
				continue
			}
			scanRecords(r, "problem_hh", hid[:], domain.KindProblem, 0, func(rec domain.Record) {
				p := rec.(*domain.Problem)
				for _, s := range r.steps(p.ID) {
					if s.By != cadre && !s.At.Before(since) {
						out = append(out, StepNews{Step: s, Problem: p, HeadName: h.HeadName, By: r.cadre(s.By)})
					}
				}
			})
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Step.At.Before(out[j].Step.At) })
	return out, err
}
