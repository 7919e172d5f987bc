package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// TestPlanSnapshotDiff: what a reviewer sees changed since an approval —
// the goal, measures added, changed and removed — and nothing for progress.
func TestPlanSnapshotDiff(t *testing.T) {
	due := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	plan := &domain.Plan{Goal: "年增收 5000 元"}
	a := &domain.Measure{Meta: domain.Meta{ID: uuid.New()}, Type: domain.MeasureKinds[0], Description: "养鸡", Target: "50 只", Due: due}
	b := &domain.Measure{Meta: domain.Meta{ID: uuid.New()}, Type: domain.MeasureKinds[0], Description: "种花椒", Target: "3 亩", Due: due}
	snap := domain.Snapshot(plan, []*domain.Measure{a, b})

	same := *a
	same.Progress = domain.Done
	if got := snap.Diff(plan, []*domain.Measure{&same, b}); len(got) != 0 {
		t.Errorf("progress only: %+v", got)
	}
	plan2 := *plan
	plan2.Goal = "年增收 8000 元"
	changed := *a
	changed.Target = "80 只"
	added := &domain.Measure{Meta: domain.Meta{ID: uuid.New()}, Type: domain.MeasureKinds[0], Description: "务工", Due: due}
	got := snap.Diff(&plan2, []*domain.Measure{&changed, added})
	want := []string{domain.ChangedGoal, domain.MeasureChanged, domain.MeasureAdded, domain.MeasureRemoved}
	if len(got) != len(want) {
		t.Fatalf("diff = %+v, want %v", got, want)
	}
	for i, c := range got {
		if c.What != want[i] {
			t.Errorf("change %d is %q, want %q", i, c.What, want[i])
		}
	}
	if got[0].Before.Description != plan.Goal || got[0].After.Description != plan2.Goal {
		t.Errorf("goal change = %+v", got[0])
	}
	if got[1].Before.Target != "50 只" || got[1].After.Target != "80 只" {
		t.Errorf("measure change = %+v", got[1])
	}
	if got[3].Before.ID != b.ID {
		t.Errorf("removed = %+v, want 种花椒", got[3])
	}
}
