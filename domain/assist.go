package domain

import (
	"sort"

	"github.com/google/uuid"
)

// Quotas are the three-level assistance rules (三级帮扶): how many households a
// cadre of each rank pairs with at least, and which household statuses need all
// three levels. The seed's values are the defaults; other places use others.
type Quotas struct {
	County   int      // households per county-level leader (seed: 3)
	Section  int      // households per section-level cadre (seed: 2)
	Other    int      // households per other cadre (seed: 1)
	Statuses []Status // statuses that need the three levels
	// Stationed is the least share, in percent, of a town's cadres stationed
	// in its villages (驻村包社; seed: 80). 0: not checked.
	Stationed int
}

// DefaultQuotas returns the seed's rules: 3 / 2 / 1, for registered, lifted and
// monitored households (脱贫不脱帮扶).
func DefaultQuotas() Quotas {
	return Quotas{County: 3, Section: 2, Other: 1, Statuses: []Status{Registered, Lifted, Monitored}, Stationed: 80}
}

// Quota returns the minimum number of paired households for a rank.
func (q Quotas) Quota(r Rank) int {
	switch r {
	case RankCounty:
		return q.County
	case RankSection:
		return q.Section
	}
	return q.Other
}

func (q Quotas) covers(s Status) bool {
	for _, x := range q.Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Roster is what the three-level check reads.
type Roster struct {
	Households  []*Household
	Cadres      []*Cadre
	Assignments []*Assignment
	// Outside are households beyond the roster's village: a current pairing
	// with one of them counts towards its cadre's quota, whatever the
	// household's status (that household is checked where it lives). A team
	// leader's tablet holds those pairings but not the households, and the
	// server must count them the same way.
	Outside map[uuid.UUID]bool
}

// HouseholdGap is a household that lacks one or more levels of assistance.
type HouseholdGap struct {
	Household *Household
	Missing   []Role // among PairCounty, PairSection, Helper
}

// CadreGap is a cadre paired with fewer households than their rank's quota.
type CadreGap struct {
	Cadre *Cadre
	Have  int
	Want  int
}

// RankMismatch is a pairing whose cadre does not hold the rank the role needs
// (a county-level pairing held by a section-level cadre, say).
type RankMismatch struct {
	Assignment *Assignment
	Cadre      *Cadre
}

// Gaps is the result of CheckAssistance.
type Gaps struct {
	Households []HouseholdGap
	Cadres     []CadreGap
	Mismatches []RankMismatch
}

// Empty reports whether there are no gaps at all.
func (g Gaps) Empty() bool {
	return len(g.Households) == 0 && len(g.Cadres) == 0 && len(g.Mismatches) == 0
}

// CheckAssistance finds households missing a level of assistance, cadres under
// their quota and pairings held by a cadre of the wrong rank. Only current
// records count (Household.Current, Cadre.Current, Assignment.Current): an
// ended pairing, a household moved out or a retired cadre is history. Every
// county- and section-level cadre is held to their quota; so is every other
// cadre (the seed asks at least one household of each), except the town's
// and village's own staff — office, village committee, group cadres — whose
// only duties are those (see localDuty). Only
// pairings with households of the covered statuses count, and pairings with
// r.Outside households. Results are sorted by head of household and cadre
// name.
func CheckAssistance(r Roster, q Quotas) Gaps {
	var g Gaps
	households := map[uuid.UUID]*Household{}
	for _, h := range r.Households {
		if h.Current() && q.covers(h.Status) {
			households[h.ID] = h
		}
	}
	cadres := map[uuid.UUID]*Cadre{}
	for _, c := range r.Cadres {
		if c.Current() {
			cadres[c.ID] = c
		}
	}
	have := map[uuid.UUID]map[Role]bool{}
	paired := map[uuid.UUID]map[uuid.UUID]bool{} // cadre -> households
	duties := map[uuid.UUID]bool{}               // cadre -> has a duty that is not localDuty
	for _, a := range r.Assignments {
		if !a.Current() {
			continue
		}
		if !a.Role.IsPairing() {
			if !localDuty(a.Role) {
				duties[a.Cadre] = true
			}
			continue
		}
		c := cadres[a.Cadre]
		if c == nil {
			continue
		}
		if want := pairingRank(a.Role); want != "" && c.Rank != want {
			g.Mismatches = append(g.Mismatches, RankMismatch{Assignment: a, Cadre: c})
		}
		if paired[c.ID] == nil {
			paired[c.ID] = map[uuid.UUID]bool{}
		}
		if households[a.Target] == nil {
			if r.Outside[a.Target] {
				paired[c.ID][a.Target] = true
			}
			continue
		}
		paired[c.ID][a.Target] = true
		if have[a.Target] == nil {
			have[a.Target] = map[Role]bool{}
		}
		have[a.Target][a.Role] = true
	}
	officeOnly := func(id uuid.UUID) bool {
		if duties[id] {
			return false
		}
		for _, a := range r.Assignments {
			if a.Cadre == id && a.Current() && localDuty(a.Role) {
				return true
			}
		}
		return false
	}
	for id, h := range households {
		var missing []Role
		for _, role := range []Role{PairCounty, PairSection, Helper} {
			if !have[id][role] {
				missing = append(missing, role)
			}
		}
		if missing != nil {
			g.Households = append(g.Households, HouseholdGap{Household: h, Missing: missing})
		}
	}
	for id, c := range cadres {
		hs, pairs := paired[id]
		if !pairs && c.Rank == RankOther && officeOnly(id) {
			continue // village officers and office staff who pair with no one
		}
		if want := q.Quota(c.Rank); len(hs) < want {
			g.Cadres = append(g.Cadres, CadreGap{Cadre: c, Have: len(hs), Want: want})
		}
	}
	sort.Slice(g.Households, func(i, j int) bool {
		a, b := g.Households[i].Household, g.Households[j].Household
		if a.HeadName != b.HeadName {
			return a.HeadName < b.HeadName
		}
		return a.ID.String() < b.ID.String()
	})
	sort.Slice(g.Cadres, func(i, j int) bool {
		a, b := g.Cadres[i].Cadre, g.Cadres[j].Cadre
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID.String() < b.ID.String()
	})
	sort.Slice(g.Mismatches, func(i, j int) bool {
		return g.Mismatches[i].Assignment.ID.String() < g.Mismatches[j].Assignment.ID.String()
	})
	return g
}

// localDuty reports whether r is a duty of the town's or the village's own
// staff (office, village committee, group cadre): an "other" cadre who holds
// only such duties is not one of the helpers the pairing quotas are for.
func localDuty(r Role) bool { return r == Office || r == VillageCommittee || r == GroupCadre }

// pairingRank returns the rank a pairing role needs; "" for a helper, whom any
// cadre may be.
func pairingRank(r Role) Rank {
	switch r {
	case PairCounty:
		return RankCounty
	case PairSection:
		return RankSection
	}
	return ""
}
