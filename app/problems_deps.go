package app

import (
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Problems holds the read models of the problems' life and the town's view
// (problem.go, town.go, notify.go).
type Problems interface {
	// ProblemHistory is a problem with its history, as viewer sees it.
	ProblemHistory(problem, viewer uuid.UUID, now time.Time) (*store.ProblemDetail, error)
	// ProblemsAt lists the unresolved problems of a village or a town.
	ProblemsAt(place uuid.UUID, now time.Time, statuses ...domain.ProblemStatus) ([]store.InboxRow, error)
	// ResolvedProblems are a household's resolved problems, latest first.
	ResolvedProblems(household uuid.UUID, max int) ([]*domain.Problem, error)
	// ProblemNews are the moves others made on a cadre's households' problems.
	ProblemNews(cadre uuid.UUID, since time.Time) ([]store.StepNews, error)
	// TownOverview is one row per village of a town.
	TownOverview(town uuid.UUID, now time.Time) (*store.TownOverview, error)
	// VillageVisits are the visits in a village since a time.
	VillageVisits(village uuid.UUID, since, now time.Time) ([]store.VisitRow, error)
}
