package main

import (
	"testing"

	"github.com/google/uuid"

	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
)

// TestScopeSnapshot: a town's roster holds its households, their members,
// their pairings and the cadres those name, and nothing of another town.
func TestScopeSnapshot(t *testing.T) {
	place := func(level domain.Level, name string, parent uuid.UUID) *domain.Place {
		return &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Level: level, Name: name, Parent: parent}
	}
	city := place(domain.City, "临夏市", uuid.Nil)
	var s roster.Snapshot
	s.Places = append(s.Places, city)
	town := func(name string) (*domain.Place, *domain.Household, *domain.Member, *domain.Assignment, *domain.Assignment, *domain.Cadre, *domain.Cadre) {
		tw := place(domain.Town, name, city.ID)
		v := place(domain.Village, name+"村", tw.ID)
		g := place(domain.Group, "一社", v.ID)
		h := &domain.Household{Meta: domain.Meta{ID: uuid.New()}, HeadName: name + "户主", Group: g.ID}
		m := &domain.Member{Meta: domain.Meta{ID: uuid.New()}, Household: h.ID, Name: name + "成员"}
		helper := &domain.Cadre{Meta: domain.Meta{ID: uuid.New()}, Name: name + "帮扶人"}
		lead := &domain.Cadre{Meta: domain.Meta{ID: uuid.New()}, Name: name + "包社干部"}
		pair := &domain.Assignment{Meta: domain.Meta{ID: uuid.New()}, Cadre: helper.ID, Role: domain.Helper, Target: h.ID}
		group := &domain.Assignment{Meta: domain.Meta{ID: uuid.New()}, Cadre: lead.ID, Role: domain.GroupCadre, Target: g.ID}
		s.Places = append(s.Places, tw, v, g)
		s.Households = append(s.Households, h)
		s.Members = append(s.Members, m)
		s.Assignments = append(s.Assignments, pair, group)
		s.Cadres = append(s.Cadres, helper, lead)
		return tw, h, m, pair, group, helper, lead
	}
	a, ha, ma, pa, ga, helperA, leadA := town("枹罕镇")
	town("东区镇")

	got := scopeSnapshot(s, a.ID)
	if len(got.Households) != 1 || got.Households[0] != ha {
		t.Errorf("households: %v, want only %s", got.Households, ha.HeadName)
	}
	if len(got.Members) != 1 || got.Members[0] != ma {
		t.Errorf("members: %v, want only %s", got.Members, ma.Name)
	}
	if len(got.Assignments) != 2 || got.Assignments[0] != pa || got.Assignments[1] != ga {
		t.Errorf("assignments: %v, want the town's pairing and group cadre", got.Assignments)
	}
	if len(got.Cadres) != 2 || got.Cadres[0] != helperA || got.Cadres[1] != leadA {
		t.Errorf("cadres: %v, want the town's two", got.Cadres)
	}
	if all := scopeSnapshot(s, uuid.Nil); len(all.Households) != 2 || len(all.Cadres) != 4 {
		t.Errorf("the city's roster: %d households, %d cadres; want 2, 4", len(all.Households), len(all.Cadres))
	}
}
