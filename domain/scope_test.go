package domain_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
)

func TestScopeOf(t *testing.T) {
	id := func(n byte) uuid.UUID { return uuid.UUID{15: n} }
	town, village, group, hh1, hh2, hh3, pair := id(1), id(2), id(3), id(4), id(5), id(6), id(7)
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
	townLead := domain.Post{Role: domain.TownLead, Target: town, Level: domain.Town, Town: town}
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
		{"town lead: the whole town, leads it", []domain.Post{townLead}, func(s domain.Scope) bool {
			return !s.All && reflect.DeepEqual(s.Towns, set(town)) && reflect.DeepEqual(s.LeadTowns, set(town)) && len(s.Villages) == 0
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
