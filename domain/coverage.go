package domain

import (
	"sort"

	"github.com/google/uuid"
)

// Coverage is what the seed asks of the places beyond the three levels
// (CheckCoverage): every 社 has a group cadre, every village a work team
// leader and a county-level contact, every town a lead, and most of a town's
// cadres are stationed in its villages.
type Coverage struct {
	GroupsWithoutCadre     []*Place // 社 with no current group cadre (包社干部)
	VillagesWithoutLeader  []*Place // villages with no work team leader (驻村工作队长)
	VillagesWithoutContact []*Place // villages with no county-level contact (联系村县级领导)
	TownsWithoutLead       []*Place // towns with no town lead (包镇领导)
	Stationed              []StationedShare
}

// StationedShare is how many of a town's cadres are stationed in its
// villages (驻村包社: group cadres and group cadre leads) out of all its town
// cadres (those and the office, village leads). Low is set when the share is
// under the quota.
type StationedShare struct {
	Town             *Place
	Stationed, Total int
	Want             int // percent
	Low              bool
}

// Percent returns the share in whole percent (0 for a town with no cadres).
func (s StationedShare) Percent() int {
	if s.Total == 0 {
		return 0
	}
	return s.Stationed * 100 / s.Total
}

// Empty reports whether nothing is missing.
func (c Coverage) Empty() bool {
	if len(c.GroupsWithoutCadre)+len(c.VillagesWithoutLeader)+len(c.VillagesWithoutContact)+len(c.TownsWithoutLead) > 0 {
		return false
	}
	for _, s := range c.Stationed {
		if s.Low {
			return false
		}
	}
	return true
}

// Count returns the number of findings: places missing someone and towns
// under the stationed share.
func (c Coverage) Count() int {
	n := len(c.GroupsWithoutCadre) + len(c.VillagesWithoutLeader) + len(c.VillagesWithoutContact) + len(c.TownsWithoutLead)
	for _, s := range c.Stationed {
		if s.Low {
			n++
		}
	}
	return n
}

// CheckCoverage checks places against the current assignments of current
// cadres in r (Assignment.Current, Cadre.Current). Places are those to check:
// groups, villages and towns (others are read for the hierarchy). A town's
// share of stationed cadres is checked when q.Stationed > 0 and the town has
// town cadres at all. Results are sorted by name.
func CheckCoverage(places []*Place, r Roster, q Quotas) Coverage {
	byID := map[uuid.UUID]*Place{}
	for _, p := range places {
		if !p.Deleted {
			byID[p.ID] = p
		}
	}
	cadres := map[uuid.UUID]bool{}
	for _, c := range r.Cadres {
		if c.Current() {
			cadres[c.ID] = true
		}
	}
	has := map[uuid.UUID]map[Role]bool{} // place -> roles held there
	stationed := map[uuid.UUID]map[uuid.UUID]bool{}
	staff := map[uuid.UUID]map[uuid.UUID]bool{} // town -> its town cadres
	townOf := func(id uuid.UUID) uuid.UUID {
		for i, p := 0, byID[id]; p != nil && i < 8; i, p = i+1, byID[p.Parent] {
			if p.Level == Town {
				return p.ID
			}
		}
		return uuid.Nil
	}
	add := func(m map[uuid.UUID]map[uuid.UUID]bool, town, cadre uuid.UUID) {
		if town == uuid.Nil {
			return
		}
		if m[town] == nil {
			m[town] = map[uuid.UUID]bool{}
		}
		m[town][cadre] = true
	}
	for _, a := range r.Assignments {
		if !a.Current() || !cadres[a.Cadre] || a.Role.IsPairing() {
			continue
		}
		if has[a.Target] == nil {
			has[a.Target] = map[Role]bool{}
		}
		has[a.Target][a.Role] = true
		switch a.Role {
		case GroupCadre, GroupCadreLead:
			add(stationed, townOf(a.Target), a.Cadre)
			add(staff, townOf(a.Target), a.Cadre)
		case Office, VillageLead:
			add(staff, townOf(a.Target), a.Cadre)
		}
	}
	var c Coverage
	for _, p := range byID {
		switch p.Level {
		case Group:
			if !has[p.ID][GroupCadre] {
				c.GroupsWithoutCadre = append(c.GroupsWithoutCadre, p)
			}
		case Village:
			if !has[p.ID][TeamLeader] {
				c.VillagesWithoutLeader = append(c.VillagesWithoutLeader, p)
			}
			if !has[p.ID][CityContact] {
				c.VillagesWithoutContact = append(c.VillagesWithoutContact, p)
			}
		case Town:
			if !has[p.ID][TownLead] {
				c.TownsWithoutLead = append(c.TownsWithoutLead, p)
			}
			if n := len(staff[p.ID]); q.Stationed > 0 && n > 0 {
				s := StationedShare{Town: p, Stationed: len(stationed[p.ID]), Total: n, Want: q.Stationed}
				s.Low = s.Stationed*100 < q.Stationed*n
				c.Stationed = append(c.Stationed, s)
			}
		}
	}
	for _, ps := range [][]*Place{c.GroupsWithoutCadre, c.VillagesWithoutLeader, c.VillagesWithoutContact, c.TownsWithoutLead} {
		sortByName(ps)
	}
	sort.Slice(c.Stationed, func(i, j int) bool { return lessPlace(c.Stationed[i].Town, c.Stationed[j].Town) })
	return c
}

func sortByName(ps []*Place) {
	sort.Slice(ps, func(i, j int) bool { return lessPlace(ps[i], ps[j]) })
}

func lessPlace(a, b *Place) bool {
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.ID.String() < b.ID.String()
}
