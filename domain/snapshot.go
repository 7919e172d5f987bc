package domain

import (
	"time"

	"github.com/google/uuid"
)

// PlanSnapshot is what a reviewer approved of a plan: its goal and its
// measures as they stood (progress left out: recording progress is not a
// change of the plan). An approving review keeps one (Review.Snapshot), so
// when the plan comes back to review the reviewer sees what changed since.
type PlanSnapshot struct {
	Goal     string            `json:"goal"`
	Measures []MeasureSnapshot `json:"measures"`
}

// MeasureSnapshot is one measure as approved.
type MeasureSnapshot struct {
	ID          uuid.UUID   `json:"id"`
	Type        MeasureKind `json:"type"`
	Description string      `json:"description"`
	Owner       uuid.UUID   `json:"owner"`
	Target      string      `json:"target"`
	Due         time.Time   `json:"due"`
}

// Snapshot returns the plan and its measures as a reviewer approves them.
func Snapshot(p *Plan, ms []*Measure) *PlanSnapshot {
	s := &PlanSnapshot{Goal: p.Goal}
	for _, m := range ms {
		if m.Deleted {
			continue
		}
		s.Measures = append(s.Measures, snapshotOf(m))
	}
	return s
}

func snapshotOf(m *Measure) MeasureSnapshot {
	return MeasureSnapshot{ID: m.ID, Type: m.Type, Description: m.Description, Owner: m.Owner, Target: m.Target, Due: m.Due}
}

// PlanChange is one difference between an approved plan and the plan now.
type PlanChange struct {
	// What changed: "goal", or a measure "added", "removed" or "changed".
	What string
	// Before and After are the measure (or, for the goal, only its Description
	// holds the goal) before and after; Before is zero for an added measure,
	// After for a removed one.
	Before, After MeasureSnapshot
}

// The kinds of PlanChange.What.
const (
	ChangedGoal    = "goal"
	MeasureAdded   = "added"
	MeasureRemoved = "removed"
	MeasureChanged = "changed"
)

// Diff returns what differs between the approved snapshot s and the plan p
// with measures ms now: the goal first, then measures in the order of ms
// (changed or added), then those removed, in the snapshot's order.
func (s *PlanSnapshot) Diff(p *Plan, ms []*Measure) []PlanChange {
	var out []PlanChange
	if s.Goal != p.Goal {
		out = append(out, PlanChange{What: ChangedGoal, Before: MeasureSnapshot{Description: s.Goal}, After: MeasureSnapshot{Description: p.Goal}})
	}
	old := map[uuid.UUID]MeasureSnapshot{}
	for _, m := range s.Measures {
		old[m.ID] = m
	}
	seen := map[uuid.UUID]bool{}
	for _, m := range ms {
		if m.Deleted {
			continue
		}
		seen[m.ID] = true
		now := snapshotOf(m)
		was, ok := old[m.ID]
		switch {
		case !ok:
			out = append(out, PlanChange{What: MeasureAdded, After: now})
		case was.Type != now.Type || was.Description != now.Description || was.Owner != now.Owner ||
			was.Target != now.Target || !was.Due.Equal(now.Due):
			out = append(out, PlanChange{What: MeasureChanged, Before: was, After: now})
		}
	}
	for _, m := range s.Measures {
		if !seen[m.ID] {
			out = append(out, PlanChange{What: MeasureRemoved, Before: m})
		}
	}
	return out
}
