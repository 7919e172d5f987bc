package domain_test

import (
	"testing"
	"time"

	"bangfu/domain"
)

func TestQuiet(t *testing.T) {
	now := time.Date(2025, 3, 12, 9, 0, 0, 0, time.UTC)
	found := now.AddDate(0, 0, -20)
	for _, c := range []struct {
		name   string
		status domain.ProblemStatus
		since  time.Time
		days   int
		quiet  bool
	}{
		{"at the town for 8 days", domain.ProblemTown, now.AddDate(0, 0, -8), 8, true},
		{"at the village for exactly a week", domain.ProblemVillage, now.AddDate(0, 0, -domain.QuietDays), domain.QuietDays, true},
		{"at the village for 6 days", domain.ProblemVillage, now.AddDate(0, 0, -6), 6, false},
		{"no step: since it was found", domain.ProblemTown, time.Time{}, 20, true},
		{"open: waits for its own cadre", domain.ProblemOpen, time.Time{}, 20, false},
		{"resolved", domain.ProblemResolved, now.AddDate(0, 0, -9), 9, false},
		{"a step in the future (a clock ahead)", domain.ProblemTown, now.Add(time.Hour), 0, false},
	} {
		p := &domain.Problem{Status: c.status, Meta: domain.Meta{Created: found}}
		days, quiet := domain.Quiet(p, c.since, now)
		if days != c.days || quiet != c.quiet {
			t.Errorf("%s: %d days, quiet %v; want %d, %v", c.name, days, quiet, c.days, c.quiet)
		}
	}
}
