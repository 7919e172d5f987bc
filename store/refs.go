package store

import (
	"errors"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// checkRefs checks a local edit against the records it points at: a visit's
// household must exist, a measure's due date must not precede its plan, and so
// on. Changes from other replicas are not held to this (they may arrive in any
// order); their origin checked them.
func checkRefs(tx *bolt.Tx, rec domain.Record) error { return checkRefsIn(txRefs{tx}, rec) }

// refReader reads what checkRefs checks a record against: the stored
// records of a transaction, or for Load the records loaded before it.
type refReader interface {
	// live returns the live record of kind with id, or an error matching
	// domain.ErrNotFound, as load does.
	live(kind domain.Kind, id uuid.UUID) (domain.Record, error)
	// plans calls fn with the plans of a household (index plan_hh) until
	// fn returns false.
	plans(household uuid.UUID, fn func(id uuid.UUID) bool)
}

// txRefs reads the stored records of a transaction.
type txRefs struct{ tx *bolt.Tx }

func (r txRefs) live(kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	return load(r.tx, kind, id)
}

func (r txRefs) plans(household uuid.UUID, fn func(uuid.UUID) bool) {
	scan(r.tx, "plan_hh", household[:], func(_ []byte, id uuid.UUID) bool { return fn(id) })
}

// checkRefsIn is checkRefs reading the records rec points at through tx.
func checkRefsIn(tx refReader, rec domain.Record) error {
	switch r := rec.(type) {
	case *domain.Place:
		if r.Level == domain.City {
			return nil
		}
		p, err := refPlace(tx, r.Parent, "parent")
		if err != nil {
			return err
		}
		return r.ValidParent(p)
	case *domain.Household:
		g, err := refPlace(tx, r.Group, "group")
		if err != nil {
			return err
		}
		if g.Level != domain.Group {
			return domain.Errorf(domain.EINVALID, "group", "“%s”不是一个社", "%q is not a group (社)", g.Name)
		}
		if r.NaturalVillage != uuid.Nil {
			if _, err := refPlace(tx, r.NaturalVillage, "natural_village"); err != nil {
				return err
			}
		}
	case *domain.Member:
		return refExists(tx, domain.KindHousehold, r.Household, "household")
	case *domain.Assignment:
		if err := refExists(tx, domain.KindCadre, r.Cadre, "cadre"); err != nil {
			return err
		}
		if r.Role.IsPairing() {
			return refExists(tx, domain.KindHousehold, r.Target, "target")
		}
		p, err := refPlace(tx, r.Target, "target")
		if err != nil {
			return err
		}
		want := r.Role.TargetLevel()
		if p.Level != want && !(r.Role == domain.Office && p.Level == domain.City) {
			zh, en := domain.RoleName(r.Role)
			wzh, wen := domain.LevelName(want)
			return domain.Errorf(domain.EINVALID, "target", "%[1]s应安排到%[2]s", "a %[3]s is assigned to a %[4]s", zh, wzh, en, wen)
		}
	case *domain.Visit:
		if err := refExists(tx, domain.KindHousehold, r.Household, "household"); err != nil {
			return err
		}
		if refExists(tx, domain.KindVisit, r.ID, "visit") == nil {
			// An edit of a visit already here: its cadre may be one this
			// device does not hold (a device reads only the cadres it
			// needs; the visit may be by a cadre since moved elsewhere).
			return nil
		}
		return refExists(tx, domain.KindCadre, r.Cadre, "cadre")
	case *domain.Problem:
		if err := refExists(tx, domain.KindHousehold, r.Household, "household"); err != nil {
			return err
		}
		if r.Visit != uuid.Nil {
			return refExists(tx, domain.KindVisit, r.Visit, "visit")
		}
	case *domain.Plan:
		if err := refExists(tx, domain.KindHousehold, r.Household, "household"); err != nil {
			return err
		}
		var other uuid.UUID
		tx.plans(r.Household, func(id uuid.UUID) bool {
			if id != r.ID {
				other = id
			}
			return other == uuid.Nil
		})
		if other != uuid.Nil {
			return domain.Errorf(domain.ECONFLICT, "household", "这户已有一户一策计划，请在原计划上修改",
				"this household already has a plan; edit that one")
		}
	case *domain.Measure:
		rp, err := tx.live(domain.KindPlan, r.Plan)
		if err != nil {
			return refErr(err, "plan")
		}
		p := rp.(*domain.Plan)
		if p.Household != r.Household {
			return domain.Errorf(domain.EINVALID, "household", "措施与计划不属于同一户", "the measure and its plan belong to different households")
		}
		return r.CheckDue(p)
	case *domain.Review:
		rp, err := tx.live(domain.KindPlan, r.Plan)
		if err != nil {
			return refErr(err, "plan")
		}
		if rp.(*domain.Plan).Household != r.Household {
			return domain.Errorf(domain.EINVALID, "household", "审核与计划不属于同一户", "the review and its plan belong to different households")
		}
		return refExists(tx, domain.KindCadre, r.Reviewer, "reviewer")
	}
	return nil
}

func exists(tx *bolt.Tx, kind domain.Kind, id uuid.UUID, field string) error {
	return refExists(txRefs{tx}, kind, id, field)
}

func refExists(tx refReader, kind domain.Kind, id uuid.UUID, field string) error {
	_, err := tx.live(kind, id)
	return refErr(err, field)
}

func refPlace(tx refReader, id uuid.UUID, field string) (*domain.Place, error) {
	r, err := tx.live(domain.KindPlace, id)
	if err != nil {
		return nil, refErr(err, field)
	}
	return r.(*domain.Place), nil
}

// refErr names the field at fault in a not-found error.
func refErr(err error, field string) error {
	var e *domain.Error
	if errors.As(err, &e) && e.Code == domain.ENOTFOUND {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
