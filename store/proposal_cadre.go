package store

import (
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
)

// Duty is one of a cadre's stored assignments, current or ended, with where
// its target is (replica.Duty).
type Duty = replica.Duty

// Duties returns the stored assignments of cadre (deleted ones left out),
// current and ended, each with where its target is.
func (r txReader) Duties(cadre uuid.UUID) []Duty {
	var ids []uuid.UUID
	scan(r.tx, "assign_cadre", cadre[:], func(_ []byte, id uuid.UUID) bool {
		ids = append(ids, id)
		return true
	})
	var out []Duty
	for _, id := range ids {
		rec, err := load(r.tx, domain.KindAssignment, id)
		if err != nil {
			continue
		}
		a := rec.(*domain.Assignment)
		if a.Cadre != cadre {
			continue
		}
		out = append(out, Duty{Assignment: a, Location: locate(r.tx, a)})
	}
	return out
}
