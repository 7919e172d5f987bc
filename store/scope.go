package store

import (
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// scopeOf returns the household, village and town a record belongs to, as far
// as the replica knows them: what a server needs to decide who may see it.
// Cadres belong to no place: their names and phones are posted on every
// village's supervision board (岗位监督栏).
func scopeOf(tx *bolt.Tx, rec domain.Record) (household, village, town uuid.UUID) {
	return scopeWith(rec, func(id uuid.UUID) (*domain.Place, error) { return loadPlace(tx, id) },
		func(h uuid.UUID) uuid.UUID { return householdGroup(tx, h) })
}

// scopeWith is scopeOf reading places with place and the group of a stored
// household with group (uuid.Nil if none is stored): Load's are its own.
func scopeWith(rec domain.Record, place func(uuid.UUID) (*domain.Place, error), group func(uuid.UUID) uuid.UUID) (household, village, town uuid.UUID) {
	d := domain.Declared(rec.Kind())
	if d == nil {
		return
	}
	switch d.Scope {
	case domain.ByCadre:
		return
	case domain.ByPlace:
		village, town = placeScopeWith(rec.(*domain.Place), place)
		return uuid.Nil, village, town
	case domain.ByTarget:
		a := rec.(*domain.Assignment)
		if !a.Role.IsPairing() {
			if p, err := place(a.Target); err == nil {
				village, town = placeScopeWith(p, place)
			}
			return uuid.Nil, village, town
		}
		household = a.Target
	default:
		household = domain.HouseholdOf(rec) // by the kind's declaration
	}
	if household == uuid.Nil {
		return
	}
	g, err := place(group(household))
	if err != nil {
		return household, uuid.Nil, uuid.Nil
	}
	village, town = placeScopeWith(g, place)
	return household, village, town
}

// householdScope returns the village and town of a household, through its group.
func householdScope(tx *bolt.Tx, household uuid.UUID) (village, town uuid.UUID) {
	g, err := loadPlace(tx, householdGroup(tx, household))
	if err != nil {
		return uuid.Nil, uuid.Nil
	}
	return placeScope(tx, g)
}

// householdGroup returns the group of a stored household, read from its row
// without decoding the household; uuid.Nil if there is none.
func householdGroup(tx *bolt.Tx, household uuid.UUID) uuid.UUID {
	r, err := getRow(tx, domain.KindHousehold, household)
	if err != nil || r == nil {
		return uuid.Nil
	}
	return r.uuid("group")
}

// placeScope walks up from p to the village and town that contain it (p itself
// when it is one).
func placeScope(tx *bolt.Tx, p *domain.Place) (village, town uuid.UUID) {
	return placeScopeWith(p, func(id uuid.UUID) (*domain.Place, error) { return loadPlace(tx, id) })
}

// placeScopeWith is placeScope reading the parents with load.
func placeScopeWith(p *domain.Place, load func(uuid.UUID) (*domain.Place, error)) (village, town uuid.UUID) {
	for i := 0; p != nil && i < 8; i++ {
		switch p.Level {
		case domain.Village:
			village = p.ID
		case domain.Town:
			town = p.ID
			return
		case domain.City:
			return
		}
		next, err := load(p.Parent)
		if err != nil {
			return
		}
		p = next
	}
	return
}

func loadPlace(tx *bolt.Tx, id uuid.UUID) (*domain.Place, error) {
	r, err := getRow(tx, domain.KindPlace, id)
	if err != nil || r == nil {
		return nil, notFound(domain.KindPlace, id)
	}
	rec, err := r.record(domain.KindPlace, id)
	if err != nil {
		return nil, err
	}
	return rec.(*domain.Place), nil
}
