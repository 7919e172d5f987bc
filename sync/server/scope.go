package server

import (
	"fmt"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// scope is what a device may read and write: worked out from its cadre's
// assignments at every sync, so a reassignment takes effect at once.
//
//   - A pairing (三级帮扶) reaches the household; a group cadre (包社干部)
//     every household of the group, and new households in it.
//   - A first secretary, team leader or member, group cadre lead, village
//     lead, village committee member or county-level contact reaches the whole
//     village; a town lead, or an office assigned to a town, the whole town;
//     an office assigned to the city, everything.
//   - Records of a household (members, visits, problems, the plan, measures,
//     reviews, conflicts) follow the household.
//   - The roster is public where the cadre works, as on the supervision board
//     (岗位监督栏): places and assignments in the villages and towns of the
//     cadre's households and places, and every cadre, are readable. Only
//     leads (domain.Role.Leads) write places and assignments in their
//     villages or towns, and cadres; anyone may edit their own cadre record.
//   - A conflict record that belongs to no household (a roster field edited
//     twice at once) is readable, and may be marked resolved, by anyone.
//   - A device reading a whole village also reads the pairings of every cadre
//     of the village elsewhere (see [scope.crossPairing]).
type scope struct {
	all        bool
	cadre      uuid.UUID
	households map[uuid.UUID]bool // household data readable and writable
	groups     map[uuid.UUID]bool // households in these groups, new ones included
	villages   map[uuid.UUID]bool // whole villages
	towns      map[uuid.UUID]bool // whole towns
	// The roster (places, assignments) is readable in these.
	rosterVillages map[uuid.UUID]bool
	rosterTowns    map[uuid.UUID]bool
	// The roster is writable in these.
	leadVillages map[uuid.UUID]bool
	leadTowns    map[uuid.UUID]bool
	// pairings are assignments readable wherever they are (crossPairing).
	pairings map[uuid.UUID]bool
}

// newScope works out the scope of cadre from the assignments the store
// resolved.
func newScope(cadre uuid.UUID, reach []store.Assigned) *scope {
	s := &scope{cadre: cadre,
		households: map[uuid.UUID]bool{}, groups: map[uuid.UUID]bool{},
		villages: map[uuid.UUID]bool{}, towns: map[uuid.UUID]bool{},
		rosterVillages: map[uuid.UUID]bool{}, rosterTowns: map[uuid.UUID]bool{},
		leadVillages: map[uuid.UUID]bool{}, leadTowns: map[uuid.UUID]bool{},
		pairings: map[uuid.UUID]bool{},
	}
	add := func(m map[uuid.UUID]bool, id uuid.UUID) {
		if id != uuid.Nil {
			m[id] = true
		}
	}
	for _, a := range reach {
		loc := a.Location
		add(s.rosterVillages, loc.Village)
		add(s.rosterTowns, loc.Town)
		switch {
		case a.Role.IsPairing():
			add(s.households, a.Target)
		case a.Role == domain.GroupCadre:
			add(s.groups, a.Target)
			for _, h := range a.Households {
				add(s.households, h)
			}
		case a.Level == domain.City:
			s.all = true
		case a.Level == domain.Town:
			add(s.towns, a.Target)
			if a.Role.Leads() {
				add(s.leadTowns, a.Target)
			}
		case a.Level == domain.Village:
			add(s.villages, a.Target)
			for _, p := range a.Pairings {
				add(s.pairings, p)
			}
			if a.Role.Leads() {
				add(s.leadVillages, a.Target)
			}
		}
	}
	return s
}

// crossPairing reports whether e is a pairing that a device reading a whole
// village receives although the household is elsewhere: a pairing of a cadre
// of the village (store.Assigned.Pairings). Without it, a county-level leader
// paired with one household here and two in other villages shows as "1/3" on
// the team leader's tablet while the server's export shows no gap. Only the
// assignment travels, not the household.
func (s *scope) crossPairing(e *store.Entry) bool {
	return e.Change.Kind == domain.KindAssignment && s.pairings[e.Change.Record]
}

// readable reports whether the device may pull log entry e.
func (s *scope) readable(e *store.Entry) bool {
	switch {
	case s.all, s.crossPairing(e):
		return true
	case e.Household != uuid.Nil:
		return s.households[e.Household] || s.villages[e.Village] || s.towns[e.Town]
	case e.Village != uuid.Nil:
		return s.rosterVillages[e.Village] || s.villages[e.Village] || s.towns[e.Town]
	case e.Town != uuid.Nil:
		return s.rosterTowns[e.Town] || s.towns[e.Town]
	}
	return true // cadres, the city, conflicts on the roster
}

// household reports whether the device may write the data of a household at l.
func (s *scope) household(l store.Location) bool {
	return (l.Household != uuid.Nil && s.households[l.Household]) || s.groups[l.Group] ||
		s.villages[l.Village] || s.towns[l.Town]
}

// roster reports whether the device may write places and assignments at l.
func (s *scope) roster(l store.Location) bool {
	return s.leadVillages[l.Village] || s.leadTowns[l.Town]
}

// leads reports whether the device's cadre leads anything.
func (s *scope) leads() bool { return len(s.leadVillages) > 0 || len(s.leadTowns) > 0 }

// check is the store.Check of a push: a change may be applied if its record
// is in scope both where it was and where it will be.
func (s *scope) check(ch domain.Change, before store.Location, existed bool, after store.Location) error {
	if s.all {
		return nil
	}
	ok := func(l store.Location) bool {
		switch ch.Kind {
		case domain.KindPlace, domain.KindAssignment:
			return s.roster(l)
		case domain.KindCadre:
			return s.leads() || ch.Record == s.cadre
		case domain.KindConflict:
			if l.Household == uuid.Nil {
				return true
			}
		}
		return s.household(l)
	}
	if !ok(after) || (existed && !ok(before)) {
		return errOutOfScope
	}
	// Moving a household to another group is a roster edit: a cadre may keep
	// the facts of their households, not move them between groups.
	if ch.Kind == domain.KindHousehold && existed && before.Group != after.Group && !(s.roster(before) && s.roster(after)) {
		return errOutOfScope
	}
	// A household's status (纳入监测、退出监测、建档立卡) is the town's to decide:
	// a cadre asks with a status request (domain.StatusRequest), and only a
	// lead of the village or town sets it.
	if _, status := ch.Fields["status"]; ch.Kind == domain.KindHousehold && existed && status && !s.roster(after) {
		return errOutOfScope
	}
	return nil
}

// errOutOfScope is what check returns for a change out of scope; the push is
// then refused with [refusal], which names every such change.
var errOutOfScope = &domain.Error{Code: domain.EFORBIDDEN, Field: "scope",
	Zh: "超出您的负责范围", En: "outside your responsibilities"}

// refusal is the error that refuses a push whose changes ids are out of
// scope, first the first of them. Its words also serve as the reason a device
// shows for each change it sets aside.
func refusal(first domain.Change, ids []uuid.UUID) error {
	zh, en := domain.KindName(first.Kind)
	rec := first.Record.String()[:8]
	e := &domain.Error{Code: domain.EFORBIDDEN, Field: "scope"}
	switch n := len(ids); n {
	case 1:
		e.Zh = fmt.Sprintf("超出您的负责范围：本设备无权修改这条%s（%s），服务器未保存这条更改。请联系驻村工作队长。", zh, rec)
		e.En = fmt.Sprintf("outside your responsibilities: this device may not change this %s (%s); the server did not save this change. Contact your team leader.", en, rec)
	default:
		others := "changes"
		if n == 2 {
			others = "change"
		}
		e.Zh = fmt.Sprintf("超出您的负责范围：本设备无权修改这条%s（%s）等 %d 条更改，服务器未保存这些更改。请联系驻村工作队长。", zh, rec, n)
		e.En = fmt.Sprintf("outside your responsibilities: this device may not change this %s (%s) and %d other %s; the server did not save them. Contact your team leader.", en, rec, n-1, others)
	}
	return &protocol.ChangesError{Err: e, Changes: ids}
}
