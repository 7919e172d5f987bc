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
// current and ended, each with where its target is: what a guard needs to
// decide whether a lead may retire the cadre or change their rank, which
// touches every place the cadre works.
func (p *Proposal) Duties(cadre uuid.UUID) []Duty {
	if p.reader != nil {
		return p.reader.Duties(cadre)
	}
	var ids []uuid.UUID
	scan(p.tx, "assign_cadre", cadre[:], func(_ []byte, id uuid.UUID) bool {
		ids = append(ids, id)
		return true
	})
	var out []Duty
	for _, id := range ids {
		rec, err := load(p.tx, domain.KindAssignment, id)
		if err != nil {
			continue
		}
		a := rec.(*domain.Assignment)
		if a.Cadre != cadre {
			continue
		}
		out = append(out, Duty{Assignment: a, Location: locate(p.tx, a)})
	}
	return out
}
