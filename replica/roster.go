package replica

import (
	"github.com/google/uuid"

	"bangfu/domain"
)

// Location is where a record belongs in the hierarchy, as far as the replica
// knows: what decides who may read and write it. Zero IDs are unknown or not
// applicable (a cadre belongs nowhere; a town has no village).
type Location struct {
	Household uuid.UUID
	Group     uuid.UUID
	Village   uuid.UUID
	Town      uuid.UUID
}

// Assigned is one of a cadre's assignments, resolved against the roster.
type Assigned struct {
	Role       domain.Role
	Target     uuid.UUID    // a household, or a place
	Level      domain.Level // the target place's level; "" for a household
	Location   Location     // where the target is
	Households []uuid.UUID  // for a group: the households in it
	// Pairings, for a village or a town: the pairings (current and ended) of
	// every cadre of its roster with households outside it (see
	// query.Roster), which a device reading the whole village or town
	// receives for its three-level check, and their current duties outside
	// it, for its roster rights (domain.Scope.MayChangeCadre); not the
	// places or households those name.
	Pairings []uuid.UUID
}

// Post returns a as the plain input of domain.ScopeOf.
func (a Assigned) Post() domain.Post {
	return domain.Post{Role: a.Role, Target: a.Target, Level: a.Level, Village: a.Location.Village,
		Town: a.Location.Town, Households: a.Households, Pairings: a.Pairings}
}

// Duty is one of a cadre's stored assignments, current or ended, with where
// its target is.
type Duty struct {
	Assignment *domain.Assignment
	Location   Location
}
