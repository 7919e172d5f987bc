package server_test

import (
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// syncs syncs d n times, failing t at the first error.
func syncs(t *testing.T, d *synctest.Device, n int) {
	t.Helper()
	for range n {
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
}

// heldAssignment returns the live assignment id on d, or nil.
func heldAssignment(d *synctest.Device, id uuid.UUID) *domain.Assignment {
	r, err := d.DB.Get(domain.KindAssignment, id)
	if err != nil {
		return nil
	}
	return r.(*domain.Assignment)
}

// moveHousehold moves household id to group, as the office does.
func moveHousehold(t *testing.T, db *store.DB, admin, id, group uuid.UUID) {
	t.Helper()
	r, err := db.Get(domain.KindHousehold, id)
	if err != nil {
		t.Fatal(err)
	}
	h := r.(*domain.Household)
	h.Group = group
	if err := db.Put(admin, h); err != nil {
		t.Fatal(err)
	}
}

// exactScope fails t for every difference between the records d holds and
// those cadre may read on the server now, by the server's rules
// (synctest.CheckScope; keep: records d keeps for a refusal its user has
// still to see), each named with step; it returns how many records it
// compared.
func exactScope(t *testing.T, db *store.DB, d *synctest.Device, cadre uuid.UUID, keep map[uuid.UUID]bool, step string) int {
	t.Helper()
	readable, err := server.Readable(db, cadre)
	if err != nil {
		t.Fatal(err)
	}
	n, diffs, err := synctest.CheckScope(db, d.DB, readable, keep)
	if err != nil {
		t.Fatal(err)
	}
	for _, diff := range diffs {
		t.Errorf("%s, %s: %s", step, d.Name, diff)
	}
	return n
}
