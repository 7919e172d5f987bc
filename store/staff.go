package store

import (
	"fmt"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Staff returns the cadres a device working in places needs to know: those
// assigned to each place given in within or anywhere under it (its
// villages, groups, natural villages and their households), and those
// assigned to each target given in at itself (a household, a town). A
// server sends a device the cadre records of these and of no one else.
func (db *DB) Staff(within, at []uuid.UUID) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	err := db.View(func(t *Tx) error {
		// The cadre of each live assignment to target, read from its row
		// without decoding the record: a town lead's sync walks thousands.
		add := func(target uuid.UUID) {
			t.Scan("assign_target", target[:], func(_ []byte, id uuid.UUID) bool {
				row, err := getRow(t.tx, domain.KindAssignment, id)
				if err != nil || row == nil || row.deleted() {
					return true
				}
				if st, ok := row.state("cadre"); ok && len(st.Value) == 38 {
					if c, err := uuid.Parse(string(st.Value[1:37])); err == nil {
						out[c] = true
					}
				}
				return true
			})
		}
		seen := map[uuid.UUID]bool{}
		var walk func(p uuid.UUID, depth int)
		walk = func(p uuid.UUID, depth int) {
			if seen[p] || depth > 4 {
				return
			}
			seen[p] = true
			add(p)
			for _, h := range t.ids("hh_group", p[:]) {
				add(h)
			}
			for _, c := range t.ids("place_parent", p[:]) {
				walk(c, depth+1)
			}
		}
		for _, p := range within {
			walk(p, 0)
		}
		for _, target := range at {
			add(target)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: staff: %w", err)
	}
	return out, nil
}
