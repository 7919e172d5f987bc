package domain_test

import (
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
)

func TestUnder(t *testing.T) {
	place := func(parent uuid.UUID) *domain.Place {
		return &domain.Place{Meta: domain.Meta{ID: uuid.New()}, Parent: parent}
	}
	city := place(uuid.Nil)
	town, other := place(city.ID), place(city.ID)
	village := place(town.ID)
	group := place(village.ID)
	loopA, loopB := place(uuid.Nil), place(uuid.Nil)
	loopA.Parent, loopB.Parent = loopB.ID, loopA.ID
	places := map[uuid.UUID]*domain.Place{}
	for _, p := range []*domain.Place{city, town, other, village, group, loopA, loopB} {
		places[p.ID] = p
	}
	for _, c := range []struct {
		name      string
		id, scope uuid.UUID
		want      bool
	}{
		{"a group under its town", group.ID, town.ID, true},
		{"a town under itself", town.ID, town.ID, true},
		{"a group under the city", group.ID, city.ID, true},
		{"anything under no scope", other.ID, uuid.Nil, true},
		{"a group under another town", group.ID, other.ID, false},
		{"a town under its village", town.ID, village.ID, false},
		{"an unknown place", uuid.New(), town.ID, false},
		{"a cycle ends", loopA.ID, town.ID, false},
	} {
		if got := domain.Under(places, c.id, c.scope); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
