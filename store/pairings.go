package store

import (
	"sort"

	"github.com/google/uuid"

	"bangfu/domain"
)

// pairingsOfPlace returns the IDs of the assignments that a device reading
// the whole of a village or town receives although their target lies
// outside it, of every cadre who has or had a duty there (an assignment,
// current or ended, to the place, its villages, their groups and natural
// villages, or the households of those groups; retired cadres too):
//
//   - their pairings, current and ended, with households outside the
//     place, so that the device's three-level check counts a cadre's
//     pairings elsewhere as the server does. Ended ones, and those of
//     cadres whose duty here ended, stay in, so that the device learns of
//     the end (or the deletion) instead of keeping a stale copy of a
//     pairing that left the set;
//   - their current duties (assignments to a place) outside the place, so
//     that the device judges a change of such a cadre (domain.Scope's
//     MayChangeCadre: a retirement ends their duties everywhere) as the
//     server does. Only the assignments travel, not the places they name:
//     a duty whose place the device does not hold is one where its cadre
//     leads nothing, which is all MayChangeCadre needs to know. A duty that
//     ends, or is deleted, leaves the set, and the device removes it (the
//     scope's units change: ScopePrint counts it).
//
// Those inside the place are readable with it and not named. ScopePrint
// covers the set, so a cadre who joins the place brings their pairings and
// duties elsewhere in a catch-up. It reads the place's households from the
// index alone and every assignment once: a server works it out at every
// sync of a team leader's or a town lead's tablet.
func (t *Tx) pairingsOfPlace(place uuid.UUID, level domain.Level) []uuid.UUID {
	targets := map[uuid.UUID]bool{place: true}
	villages := []uuid.UUID{place}
	if level == domain.Town {
		for _, id := range t.ids("place_parent", place[:]) {
			if p := t.place(id); p != nil && p.Level == domain.Village {
				targets[p.ID] = true
				villages = append(villages, p.ID)
			}
		}
	}
	for _, village := range villages {
		for _, level := range []domain.Level{domain.Group, domain.NaturalVillage} {
			for _, id := range t.ids("place_parent", village[:]) {
				if p := t.place(id); p != nil && p.Level == level {
					targets[p.ID] = true
					if level == domain.Group {
						for _, h := range t.ids("hh_group", p.ID[:]) {
							targets[h] = true
						}
					}
				}
			}
		}
	}
	cadres := map[uuid.UUID]bool{}
	held := map[uuid.UUID][]uuid.UUID{} // cadre -> pairing and duty IDs
	// Deleted pairings too, so that the device learns of the deletion.
	_ = eachStored(t.tx, domain.KindAssignment, func(rec domain.Record) error {
		a := rec.(*domain.Assignment)
		if !a.Deleted && targets[a.Target] {
			cadres[a.Cadre] = true
		}
		if !targets[a.Target] && (a.Role.IsPairing() || a.Current()) {
			held[a.Cadre] = append(held[a.Cadre], a.ID)
		}
		return nil
	})
	var out []uuid.UUID
	for c := range cadres {
		out = append(out, held[c]...)
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}
