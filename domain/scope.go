package domain

import "github.com/google/uuid"

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
	// Pairings, for a village, are the pairings of every cadre of the
	// village's roster, wherever they are: a device reading the whole
	// village receives them for its three-level check.
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
	// Pairings are assignments readable wherever they are (Post.Pairings).
	Pairings map[uuid.UUID]bool
	// Roles are the cadre's roles at each village of Villages.
	Roles map[uuid.UUID][]Role
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
		Pairings: map[uuid.UUID]bool{}, Roles: map[uuid.UUID][]Role{},
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
