package domain_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
)

func TestScopeOf(t *testing.T) {
	id := func(n byte) uuid.UUID { return uuid.UUID{15: n} }
	town, village, group, hh1, hh2, hh3, pair, duty := id(1), id(2), id(3), id(4), id(5), id(6), id(7), id(8)
	set := func(ids ...uuid.UUID) map[uuid.UUID]bool {
		m := map[uuid.UUID]bool{}
		for _, x := range ids {
			m[x] = true
		}
		return m
	}
	groupCadre := domain.Post{Role: domain.GroupCadre, Target: group, Level: domain.Group, Village: village, Town: town, Households: []uuid.UUID{hh1, hh2}}
	paired := domain.Post{Role: domain.Helper, Target: hh2, Village: village, Town: town}
	pairedAway := domain.Post{Role: domain.PairCounty, Target: hh3}
	leader := domain.Post{Role: domain.TeamLeader, Target: village, Level: domain.Village, Village: village, Town: town, Pairings: []uuid.UUID{pair}}
	member := domain.Post{Role: domain.TeamMember, Target: village, Level: domain.Village, Village: village, Town: town}
	townLead := domain.Post{Role: domain.TownLead, Target: town, Level: domain.Town, Town: town, Pairings: []uuid.UUID{duty}}
	office := domain.Post{Role: domain.Office, Target: id(9), Level: domain.City}
	for _, tc := range []struct {
		name  string
		posts []domain.Post
		check func(s domain.Scope) bool
	}{
		{"no posts: nothing", nil, func(s domain.Scope) bool {
			return !s.All && len(s.Mine) == 0 && len(s.Households) == 0 && len(s.RosterVillages) == 0
		}},
		{"group cadre: the group's households, mine, roster readable not writable", []domain.Post{groupCadre}, func(s domain.Scope) bool {
			return reflect.DeepEqual(s.Mine, []uuid.UUID{hh1, hh2}) && reflect.DeepEqual(s.Groups, set(group)) &&
				reflect.DeepEqual(s.Households, set(hh1, hh2)) && reflect.DeepEqual(s.RosterVillages, set(village)) &&
				reflect.DeepEqual(s.RosterTowns, set(town)) && len(s.LeadVillages) == 0 && len(s.Villages) == 0
		}},
		{"pairings add their households once, in post order, wherever they are", []domain.Post{groupCadre, paired, pairedAway}, func(s domain.Scope) bool {
			return reflect.DeepEqual(s.Mine, []uuid.UUID{hh1, hh2, hh3}) && reflect.DeepEqual(s.Households, set(hh1, hh2, hh3))
		}},
		{"team leader: the whole village, leads it, its cadres' pairings, none mine", []domain.Post{leader}, func(s domain.Scope) bool {
			return len(s.Mine) == 0 && reflect.DeepEqual(s.Villages, set(village)) && reflect.DeepEqual(s.LeadVillages, set(village)) &&
				reflect.DeepEqual(s.Pairings, set(pair)) && reflect.DeepEqual(s.Roles[village], []domain.Role{domain.TeamLeader})
		}},
		{"team member: the whole village, does not lead it", []domain.Post{member}, func(s domain.Scope) bool {
			return reflect.DeepEqual(s.Villages, set(village)) && len(s.LeadVillages) == 0
		}},
		{"two roles in one village: both kept", []domain.Post{leader, member}, func(s domain.Scope) bool {
			return reflect.DeepEqual(s.Roles[village], []domain.Role{domain.TeamLeader, domain.TeamMember})
		}},
		{"town lead: the whole town, leads it, its cadres' duties elsewhere", []domain.Post{townLead}, func(s domain.Scope) bool {
			return !s.All && reflect.DeepEqual(s.Towns, set(town)) && reflect.DeepEqual(s.LeadTowns, set(town)) && len(s.Villages) == 0 &&
				reflect.DeepEqual(s.Pairings, set(duty))
		}},
		{"office at the city: everything", []domain.Post{office}, func(s domain.Scope) bool {
			return s.All && len(s.Towns) == 0
		}},
	} {
		if s := domain.ScopeOf(tc.posts); !tc.check(s) {
			t.Errorf("%s: got %+v", tc.name, s)
		}
	}
}

// TestRosterRights: MayRoster, MayChangeCadre and Approves for a team leader
// of one village, a town lead and the city office, on duties here, at the
// town and in another village.
func TestRosterRights(t *testing.T) {
	id := func(n byte) uuid.UUID { return uuid.UUID{15: n} }
	city, town, v1, v2, other := id(1), id(2), id(3), id(4), id(5) // other: another town
	leader := domain.ScopeOf([]domain.Post{{Role: domain.TeamLeader, Target: v1, Level: domain.Village, Village: v1, Town: town}})
	lead := domain.ScopeOf([]domain.Post{{Role: domain.TownLead, Target: town, Level: domain.Town, Town: town}})
	office := domain.ScopeOf([]domain.Post{{Role: domain.Office, Target: city, Level: domain.City}})
	member := domain.ScopeOf([]domain.Post{{Role: domain.TeamMember, Target: v1, Level: domain.Village, Village: v1, Town: town}})
	at := func(v, tn uuid.UUID, current bool) domain.DutyAt {
		return domain.DutyAt{Village: v, Town: tn, Current: current}
	}
	for _, tc := range []struct {
		name                       string
		s                          domain.Scope
		v1, townDuty, v2, far      bool // MayRoster in v1, at the town, in v2, in another town
		onlyV1, withTown, withV2   error
		endedV2, none              error
		approvesV1, approvesWithTL bool // defaults; with TownLead among the approvers
	}{
		{"team leader", leader, true, false, false, false, nil, domain.ErrCadreElsewhere, domain.ErrCadreElsewhere, nil, domain.ErrCadreElsewhere, true, true},
		{"town lead", lead, true, true, true, false, nil, nil, nil, nil, domain.ErrCadreElsewhere, false, true},
		{"city office", office, true, true, true, true, nil, nil, nil, nil, nil, false, false},
		{"team member", member, false, false, false, false, domain.ErrRoster, domain.ErrRoster, domain.ErrRoster, domain.ErrRoster, domain.ErrRoster, false, false},
	} {
		got := []bool{tc.s.MayRoster(v1, town), tc.s.MayRoster(uuid.Nil, town), tc.s.MayRoster(v2, town), tc.s.MayRoster(uuid.Nil, other)}
		if want := []bool{tc.v1, tc.townDuty, tc.v2, tc.far}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: MayRoster v1, town, v2, other town = %v, want %v", tc.name, got, want)
		}
		for _, c := range []struct {
			what   string
			duties []domain.DutyAt
			want   error
		}{
			{"only in v1", []domain.DutyAt{at(v1, town, true)}, tc.onlyV1},
			{"in v1 and at the town", []domain.DutyAt{at(v1, town, true), at(uuid.Nil, town, true)}, tc.withTown},
			{"in v1 and v2", []domain.DutyAt{at(v1, town, true), at(v2, town, true)}, tc.withV2},
			{"in v1, ended in v2", []domain.DutyAt{at(v1, town, true), at(v2, town, false)}, tc.endedV2},
			{"in another town only", []domain.DutyAt{at(uuid.Nil, other, true)}, tc.none},
		} {
			if err := tc.s.MayChangeCadre(true, c.duties); err != c.want {
				t.Errorf("%s: MayChangeCadre of a cadre %s = %v, want %v", tc.name, c.what, err, c.want)
			}
		}
		if got := tc.s.Approves(v1, town, domain.DefaultApprovers()); got != tc.approvesV1 {
			t.Errorf("%s: Approves in v1 = %v, want %v", tc.name, got, tc.approvesV1)
		}
		withTL := append(domain.DefaultApprovers(), domain.TownLead)
		if got := tc.s.Approves(v1, town, withTL); got != tc.approvesWithTL {
			t.Errorf("%s: Approves in v1 with the town lead among the approvers = %v, want %v", tc.name, got, tc.approvesWithTL)
		}
	}
}
