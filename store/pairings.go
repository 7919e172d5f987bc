package store

import (
	"encoding/json"
	"sort"
	"time"

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
//     the end; a deleted one leaves the set, and the device removes it;
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
// duties elsewhere in a catch-up. It reads the place's households and the
// cadres assigned there from the indexes, without decoding their
// assignments, and decodes only those cadres' assignments: a server works
// it out at every sync of a team leader's or a town lead's tablet, at the
// cost of the place rather than of the store.
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
	// The cadre of each live assignment to a target, read from its row.
	cadres := map[uuid.UUID]bool{}
	for target := range targets {
		t.Scan("assign_target", target[:], func(_ []byte, id uuid.UUID) bool {
			if r, err := getRow(t.tx, domain.KindAssignment, id); err == nil && r != nil && !r.deleted() {
				if c := r.uuid("cadre"); c != uuid.Nil {
					cadres[c] = true
				}
			}
			return true
		})
	}
	// Their assignments, read from the rows: role, target, until.
	var out []uuid.UUID
	for c := range cadres {
		for _, id := range t.ids("assign_cadre", c[:]) {
			r, err := getRow(t.tx, domain.KindAssignment, id)
			if err != nil || r == nil || r.deleted() || r.uuid("cadre") != c || targets[r.uuid("target")] {
				continue
			}
			var role domain.Role
			var until time.Time
			if st, ok := r.state("role"); ok {
				_ = json.Unmarshal(st.Value, &role)
			}
			if st, ok := r.state("until"); ok {
				_ = json.Unmarshal(st.Value, &until)
			}
			if role.IsPairing() || until.IsZero() { // a pairing, or a current duty
				out = append(out, id)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}
