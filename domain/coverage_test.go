package domain_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// coverageFixture is a town with one village of three groups, fully covered:
// a town lead, a team leader, a county-level contact, a group cadre for each
// group, a group cadre lead, and an office cadre (4 of 5 town cadres
// stationed: 80%).
type coverageFixture struct {
	places      []*domain.Place
	cadres      []*domain.Cadre
	assignments []*domain.Assignment
}

func newCoverageFixture() *coverageFixture {
	f := &coverageFixture{}
	town := &domain.Place{Meta: domain.Meta{ID: id(1)}, Level: domain.Town, Name: "枹罕镇"}
	village := &domain.Place{Meta: domain.Meta{ID: id(2)}, Level: domain.Village, Name: "王坪村", Parent: id(1)}
	g1 := &domain.Place{Meta: domain.Meta{ID: id(3)}, Level: domain.Group, Name: "一社", Parent: id(2)}
	g2 := &domain.Place{Meta: domain.Meta{ID: id(4)}, Level: domain.Group, Name: "二社", Parent: id(2)}
	g3 := &domain.Place{Meta: domain.Meta{ID: id(6)}, Level: domain.Group, Name: "三社", Parent: id(2)}
	f.places = []*domain.Place{town, village, g1, g2, g3}
	for i, x := range []struct {
		role   domain.Role
		target uuid.UUID
	}{
		{domain.TownLead, id(1)}, {domain.TeamLeader, id(2)}, {domain.CityContact, id(2)},
		{domain.GroupCadre, id(3)}, {domain.GroupCadre, id(4)}, {domain.GroupCadre, id(6)},
		{domain.GroupCadreLead, id(2)}, {domain.Office, id(1)},
	} {
		c := &domain.Cadre{Meta: domain.Meta{ID: id(100 + i)}, Name: string(x.role), Rank: domain.RankOther}
		f.cadres = append(f.cadres, c)
		f.assignments = append(f.assignments, &domain.Assignment{Meta: domain.Meta{ID: id(200 + i)},
			Cadre: c.ID, Role: x.role, Target: x.target})
	}
	return f
}

func (f *coverageFixture) of(role domain.Role, target uuid.UUID) *domain.Assignment {
	for _, a := range f.assignments {
		if a.Role == role && a.Target == target {
			return a
		}
	}
	return nil
}

func names(ps []*domain.Place) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestCheckCoverage(t *testing.T) {
	ended := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                             string
		change                           func(f *coverageFixture)
		groups, leaders, contacts, towns []string
		stationed, total                 int
		low                              bool
	}{
		{name: "complete", stationed: 4, total: 5},
		{name: "a group cadre's assignment ended", change: func(f *coverageFixture) {
			f.of(domain.GroupCadre, id(3)).End(ended, "调整")
		}, groups: []string{"一社"}, stationed: 3, total: 4, low: true},
		{name: "the team leader retired", change: func(f *coverageFixture) {
			c := f.cadres[1]
			c.Left, c.LeftOn = domain.Retired, ended
		}, leaders: []string{"王坪村"}, stationed: 4, total: 5},
		{name: "no county-level contact", change: func(f *coverageFixture) {
			f.of(domain.CityContact, id(2)).Deleted = true
		}, contacts: []string{"王坪村"}, stationed: 4, total: 5},
		{name: "no town lead", change: func(f *coverageFixture) {
			f.of(domain.TownLead, id(1)).End(ended, "调离")
		}, towns: []string{"枹罕镇"}, stationed: 4, total: 5},
		{name: "a new group with no one", change: func(f *coverageFixture) {
			f.places = append(f.places, &domain.Place{Meta: domain.Meta{ID: id(5)}, Level: domain.Group, Name: "四社", Parent: id(2)})
		}, groups: []string{"四社"}, stationed: 4, total: 5},
		{name: "a village lead is a town cadre not stationed", change: func(f *coverageFixture) {
			c := &domain.Cadre{Meta: domain.Meta{ID: id(160)}, Name: "包村领导", Rank: domain.RankSection}
			f.cadres = append(f.cadres, c)
			f.assignments = append(f.assignments, &domain.Assignment{Meta: domain.Meta{ID: id(260)},
				Cadre: c.ID, Role: domain.VillageLead, Target: id(2)})
		}, stationed: 4, total: 6, low: true},
		{name: "too many cadres kept in the office", change: func(f *coverageFixture) {
			for i := range 3 {
				c := &domain.Cadre{Meta: domain.Meta{ID: id(150 + i)}, Name: "机关干部", Rank: domain.RankOther}
				f.cadres = append(f.cadres, c)
				f.assignments = append(f.assignments, &domain.Assignment{Meta: domain.Meta{ID: id(250 + i)},
					Cadre: c.ID, Role: domain.Office, Target: id(1)})
			}
		}, stationed: 4, total: 8, low: true},
		{name: "a group cadre of two groups counts once", change: func(f *coverageFixture) {
			f.of(domain.GroupCadre, id(4)).Cadre = f.of(domain.GroupCadre, id(3)).Cadre
		}, stationed: 3, total: 4, low: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCoverageFixture()
			if tc.change != nil {
				tc.change(f)
			}
			c := domain.CheckCoverage(f.places, domain.Roster{Cadres: f.cadres, Assignments: f.assignments}, domain.DefaultQuotas())
			for _, x := range []struct {
				what      string
				got, want []string
			}{
				{"groups without a cadre", names(c.GroupsWithoutCadre), tc.groups},
				{"villages without a leader", names(c.VillagesWithoutLeader), tc.leaders},
				{"villages without a contact", names(c.VillagesWithoutContact), tc.contacts},
				{"towns without a lead", names(c.TownsWithoutLead), tc.towns},
			} {
				if !slices.Equal(x.got, x.want) {
					t.Errorf("%s: %v, want %v", x.what, x.got, x.want)
				}
			}
			if len(c.Stationed) != 1 {
				t.Fatalf("stationed shares: %+v, want one town", c.Stationed)
			}
			s := c.Stationed[0]
			if s.Stationed != tc.stationed || s.Total != tc.total || s.Low != tc.low || s.Want != 80 {
				t.Errorf("stationed %d/%d low %v (want %d), want %d/%d low %v", s.Stationed, s.Total, s.Low, s.Want, tc.stationed, tc.total, tc.low)
			}
			wantEmpty := tc.groups == nil && tc.leaders == nil && tc.contacts == nil && tc.towns == nil && !tc.low
			if c.Empty() != wantEmpty {
				t.Errorf("Empty() = %v, want %v", c.Empty(), wantEmpty)
			}
		})
	}
}

// TestCheckAssistanceCurrentOnly: a household moved out, a retired cadre and
// an ended pairing are history, and count nowhere; a pairing with an outside
// household counts towards the quota.
func TestCheckAssistanceCurrentOnly(t *testing.T) {
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		change     func(r *roster)
		households []householdWant
		cadres     []cadreWant
	}{
		{name: "complete"},
		{name: "household moved out", change: func(r *roster) {
			h := r.households["马有福"]
			h.Exit, h.ExitOn = domain.MovedOut, day
		}, cadres: []cadreWant{{"县领导甲", 2, 3}, {"帮扶人1", 0, 1}, {"科级甲", 1, 2}}},
		{name: "helper retired", change: func(r *roster) {
			c := r.cadres["帮扶人2"]
			c.Left, c.LeftOn = domain.Retired, day
		}, households: []householdWant{{"王兴文", []domain.Role{domain.Helper}}}},
		{name: "county pairing ended, and one outside", change: func(r *roster) {
			r.assignment("县领导甲", domain.PairCounty, "马有福").End(day, "帮扶力量调整")
			outside := id(900)
			r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: id(901)},
				Cadre: r.cadres["县领导甲"].ID, Role: domain.PairCounty, Target: outside})
			r.Outside = map[uuid.UUID]bool{outside: true}
		}, households: []householdWant{{"马有福", []domain.Role{domain.PairCounty}}}},
		{name: "a pairing with a household that is neither here nor outside", change: func(r *roster) {
			r.assignment("县领导甲", domain.PairCounty, "马有福").End(day, "帮扶力量调整")
			r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: id(901)},
				Cadre: r.cadres["县领导甲"].ID, Role: domain.PairCounty, Target: id(900)})
		}, households: []householdWant{{"马有福", []domain.Role{domain.PairCounty}}}, cadres: []cadreWant{{"县领导甲", 2, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := complete()
			if tc.change != nil {
				tc.change(r)
			}
			checkGaps(t, tc.name, domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), tc.households, tc.cadres)
		})
	}
}

func TestStatusRequestValidate(t *testing.T) {
	base := func() *domain.Household {
		return &domain.Household{HeadName: "马兴文", Group: id(2), Status: domain.Lifted, Size: 3}
	}
	for _, tc := range []struct {
		name  string
		req   *domain.StatusRequest
		field string // "" when valid
	}{
		{"none", nil, ""},
		{"to monitored with a reason", &domain.StatusRequest{To: domain.Monitored, Reason: "因病返贫风险"}, ""},
		{"no reason", &domain.StatusRequest{To: domain.Monitored, Reason: "  "}, "status_request"},
		{"the current status", &domain.StatusRequest{To: domain.Lifted, Reason: "收入稳定"}, "status_request"},
		{"unknown status", &domain.StatusRequest{To: "poor", Reason: "x"}, "status_request"},
	} {
		h := base()
		h.Request = tc.req
		err := h.Validate(time.Now())
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		checkInvalid(t, tc.name, err, tc.field)
	}
}
