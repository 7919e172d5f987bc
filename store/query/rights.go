package query

import (
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Rights are what a cadre may do with the roster — end or give a pairing or
// a duty, move a household or set its status, record that a cadre retired
// or was transferred, approve plans — decided as the server decides a push
// of it (domain.Scope's MayRoster, MayChangeCadre and Approves) from the
// cadre's posts as this replica holds them (store.DB.Reach). The app offers
// an action only where its Rights allow it, so that a tablet neither hides
// what the server accepts nor offers what it refuses.
type Rights struct {
	Scope domain.Scope
	db    *store.DB
}

// RightsOf returns the rights of cadre on the replica db.
func RightsOf(db *store.DB, cadre uuid.UUID) (*Rights, error) {
	reach, err := db.Reach(cadre)
	if err != nil {
		return nil, err
	}
	posts := make([]domain.Post, len(reach))
	for i, a := range reach {
		posts[i] = a.Post()
	}
	return &Rights{Scope: domain.ScopeOf(posts), db: db}, nil
}

// Where returns the village and town a target (a household or a place) is
// in, as the replica knows it; uuid.Nil where there is none or it is not
// known (a town has no village; the city neither).
func Where(db *store.DB, target uuid.UUID) (village, town uuid.UUID, err error) {
	err = view(db, func(r *reader) error {
		village, town = r.where(target)
		return nil
	})
	return village, town, err
}

func (r *reader) where(target uuid.UUID) (village, town uuid.UUID) {
	p := r.place(target)
	if h := r.household(target); h != nil {
		p = r.place(h.Group)
	}
	for i := 0; p != nil && i < 8; i, p = i+1, r.place(p.Parent) {
		switch p.Level {
		case domain.Village:
			village = p.ID
		case domain.Town:
			return village, p.ID
		case domain.City:
			return village, town
		}
	}
	return village, town
}

// MayRoster reports whether the cadre may write the roster at target (a
// household or a place): pair it, end its assignments, move it, set its
// status.
func (r *Rights) MayRoster(target uuid.UUID) (bool, error) {
	village, town, err := Where(r.db, target)
	if err != nil {
		return false, err
	}
	return r.Scope.MayRoster(village, town), nil
}

// MayChangeCadre returns nil when the cadre may record that cadre retired or
// was transferred (or change their rank), from cadre's duties, current and
// ended, that the replica holds; else why not (domain.ErrRoster,
// domain.ErrCadreElsewhere).
func (r *Rights) MayChangeCadre(cadre uuid.UUID) error {
	var duties []domain.DutyAt
	err := view(r.db, func(rd *reader) error {
		for _, a := range rd.assignments("assign_cadre", cadre, true) {
			v, t := rd.where(a.Target)
			duties = append(duties, domain.DutyAt{Village: v, Town: t, Current: a.Current()})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return r.Scope.MayChangeCadre(true, duties)
}

// Approves reports whether the cadre approves plans in village, under the
// rules in force there (store.DB.PlanApprovers).
func (r *Rights) Approves(village uuid.UUID) (bool, error) {
	roles, err := r.db.PlanApprovers(village)
	if err != nil {
		return false, err
	}
	_, town, err := Where(r.db, village)
	if err != nil {
		return false, err
	}
	return r.Scope.Approves(village, town, roles), nil
}
