package domain

import (
	"slices"

	"github.com/google/uuid"
)

// Post is one current assignment of a cadre, resolved against the roster by
// whoever holds it (the server's store, a device's replica): plain values, so
// that [ScopeOf] is one pure function wherever scope is worked out.
type Post struct {
	Role   Role
	Target uuid.UUID // a household, or a place
	// Level is the target place's level; "" for a household.
	Level Level
	// Village and Town are where the target is (uuid.Nil where unknown or
	// above: a town has no village, the city neither).
	Village, Town uuid.UUID
	// Households, for a group, are the group's current households.
	Households []uuid.UUID
	// Pairings, for a village or a town, are the pairings of every cadre of
	// its roster with households outside it, and their current duties
	// outside it: a device reading the whole village or town receives them
	// for its three-level check and to judge a change of those cadres as
	// the server does (MayChangeCadre), without the places they name.
	Pairings []uuid.UUID
}

// Scope is what a cadre is responsible for and what a device of theirs may
// read, as [ScopeOf] works it out from the cadre's posts:
//
//   - a pairing (三级帮扶) reaches the household; a group cadre (包社干部)
//     every household of the group, and new households in it;
//   - a post at a village (first secretary, team leader or member, group
//     cadre lead, village lead, village committee member, county-level
//     contact) reaches the whole village; at a town (a town lead, an office
//     assigned to a town) the whole town; an office at the city, everything;
//   - the roster (places, assignments) is readable in the villages and towns
//     where any post is, and writable where a post leads (Role.Leads).
//
// Records of a household follow the household. Who may write which field
// within the scope is the kinds' declarations' business (Decls), not this.
type Scope struct {
	All bool // the whole city
	// Mine are the households the cadre is responsible for by name — those
	// of their groups as group cadre, and those they are paired with — in
	// the order of their posts, each once: the cadre's own list (我的农户).
	Mine       []uuid.UUID
	Households map[uuid.UUID]bool // household data readable and writable
	Groups     map[uuid.UUID]bool // households in these groups, new ones included
	Villages   map[uuid.UUID]bool // whole villages
	Towns      map[uuid.UUID]bool // whole towns
	// The roster (places, assignments) is readable in these.
	RosterVillages, RosterTowns map[uuid.UUID]bool
	// The roster is writable in these.
	LeadVillages, LeadTowns map[uuid.UUID]bool
	// Pairings are assignments — pairings and duties — readable wherever
	// they are (Post.Pairings).
	Pairings map[uuid.UUID]bool
	// Roles are the cadre's roles at each village of Villages; TownRoles
	// at each town of Towns.
	Roles, TownRoles map[uuid.UUID][]Role
}

// ScopeOf works out the scope of a cadre from their current posts. It reads
// nothing but its argument: the same posts give the same scope on the server,
// in the queries and in the app.
func ScopeOf(posts []Post) Scope {
	s := Scope{
		Households: map[uuid.UUID]bool{}, Groups: map[uuid.UUID]bool{},
		Villages: map[uuid.UUID]bool{}, Towns: map[uuid.UUID]bool{},
		RosterVillages: map[uuid.UUID]bool{}, RosterTowns: map[uuid.UUID]bool{},
		LeadVillages: map[uuid.UUID]bool{}, LeadTowns: map[uuid.UUID]bool{},
		Pairings: map[uuid.UUID]bool{}, Roles: map[uuid.UUID][]Role{}, TownRoles: map[uuid.UUID][]Role{},
	}
	add := func(m map[uuid.UUID]bool, id uuid.UUID) {
		if id != uuid.Nil {
			m[id] = true
		}
	}
	mine := map[uuid.UUID]bool{}
	addMine := func(id uuid.UUID) {
		if id != uuid.Nil && !mine[id] {
			mine[id] = true
			s.Mine = append(s.Mine, id)
		}
	}
	for _, p := range posts {
		add(s.RosterVillages, p.Village)
		add(s.RosterTowns, p.Town)
		switch {
		case p.Role.IsPairing():
			add(s.Households, p.Target)
			addMine(p.Target)
		case p.Role == GroupCadre:
			add(s.Groups, p.Target)
			for _, h := range p.Households {
				add(s.Households, h)
				addMine(h)
			}
		case p.Level == City:
			s.All = true
		case p.Level == Town:
			add(s.Towns, p.Target)
			s.TownRoles[p.Target] = append(s.TownRoles[p.Target], p.Role)
			for _, id := range p.Pairings {
				add(s.Pairings, id)
			}
			if p.Role.Leads() {
				add(s.LeadTowns, p.Target)
			}
		case p.Level == Village:
			add(s.Villages, p.Target)
			s.Roles[p.Target] = append(s.Roles[p.Target], p.Role)
			for _, id := range p.Pairings {
				add(s.Pairings, id)
			}
			if p.Role.Leads() {
				add(s.LeadVillages, p.Target)
			}
		}
	}
	return s
}

// The decisions below are the roster's rights: the server applies them to
// what a device pushes (sync/server's scope) and the app to what it offers
// (store/query's Rights), from the same posts, so that a tablet never
// offers what the server refuses nor hides what it accepts.

// MayRoster reports whether the cadre may write the roster — places,
// assignments (a pairing, a duty, its end), a household's group and status —
// at a target in village and town (uuid.Nil where there is none: a
// town-level duty has no village): a lead of the village or of the town, or
// the city office.
func (s Scope) MayRoster(village, town uuid.UUID) bool {
	return s.All || (village != uuid.Nil && s.LeadVillages[village]) || (town != uuid.Nil && s.LeadTowns[town])
}

// DutyAt is one of a cadre's duties, current or ended, by where its target
// is: its village and town (uuid.Nil where there is none).
type DutyAt struct {
	Village, Town uuid.UUID
	Current       bool
}

// MayChangeCadre decides whether the cadre may write the roster fields of
// another cadre's record (rank, and the departure: retired or transferred)
// whose duties are duties: the city office may, for anyone; a lead may for a
// new cadre (exists false), and for one who works where the lead leads (a
// duty there, current or ended) and nowhere else (no current duty outside
// it): retiring a cadre ends their duties everywhere, which only those who
// lead there may do. Otherwise it returns ErrRoster (not a lead) or
// ErrCadreElsewhere.
func (s Scope) MayChangeCadre(exists bool, duties []DutyAt) error {
	switch {
	case s.All:
		return nil
	case len(s.LeadVillages) == 0 && len(s.LeadTowns) == 0:
		return ErrRoster
	case !exists:
		return nil
	}
	here := false
	for _, d := range duties {
		if s.MayRoster(d.Village, d.Town) {
			here = true
		} else if d.Current {
			return ErrCadreElsewhere
		}
	}
	if !here {
		return ErrCadreElsewhere
	}
	return nil
}

// Approves reports whether the cadre approves plans (reviews, a plan's
// approval) in village, of town, where approvers are the roles that do
// (Rules.Approvers, as in force there): a role of theirs at the village, or
// at its town (a town lead, when the rules name TownLead).
func (s Scope) Approves(village, town uuid.UUID, approvers []Role) bool {
	if village == uuid.Nil {
		return false
	}
	for _, r := range s.Roles[village] {
		if slices.Contains(approvers, r) {
			return true
		}
	}
	if town != uuid.Nil {
		for _, r := range s.TownRoles[town] {
			if slices.Contains(approvers, r) {
				return true
			}
		}
	}
	return false
}

// ErrRoster refuses a roster edit by a cadre who leads nothing there.
var ErrRoster = &Error{Code: EFORBIDDEN, Field: "role",
	Zh: "只有驻村工作队长、包村领导或办公室可以修改花名册、职级和职责",
	En: "only leads and the office may change the roster, ranks and roles"}

// ErrCadreElsewhere refuses a lead's change of a cadre who works beyond, or
// not in, what the lead leads (MayChangeCadre).
var ErrCadreElsewhere = &Error{Code: EFORBIDDEN, Field: "role",
	Zh: "这名干部在您负责的村（镇）以外还有职责或不在您负责的村（镇）工作，其离岗、调离或职级变更由镇或市办公室办理",
	En: "this cadre works beyond the villages or town you lead, or not in them: their retirement, transfer or rank is for the town or city office to record"}
