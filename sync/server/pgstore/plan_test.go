package pgstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

// TestPartitionPlan checks that PostgreSQL reads a pull's partitions
// through their indexes: on a log of 60,000 entries over 100 villages, the
// plan of a village's pull from the log's start scans no table whole.
func TestPartitionPlan(t *testing.T) {
	needPG(t)
	ctx := context.Background()
	url, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	villages := make([]uuid.UUID, 100)
	for i := range villages {
		villages[i] = uuid.New()
	}
	town := uuid.New()
	// Visits of households, and every fourth entry the roster of a
	// village (no household).
	entries := make([]store.Entry, 60_000)
	for i := range entries {
		e := &entries[i]
		e.Seq, e.Village, e.Town = uint64(i+1), villages[i%len(villages)], town
		e.Change = domain.Change{ID: uuid.New(), Kind: domain.KindVisit, Record: uuid.New(), Fields: domain.Fields{"notes": []byte(`"入户"`)}}
		if i%4 == 0 {
			e.Change.Kind = domain.KindAssignment
		} else {
			e.Household = uuid.New()
		}
	}
	if err := r.CopyLog(ctx, entries); err != nil {
		t.Fatal(err)
	}
	for _, p := range []server.Partitions{
		{Villages: villages[:1], Cadres: []uuid.UUID{uuid.New()}},
		{Households: []uuid.UUID{entries[7].Household}, RosterVillages: villages[7:8], Cadres: []uuid.UUID{uuid.New()}},
	} {
		plan, err := r.ExplainPull(ctx, 0, p)
		if err != nil {
			t.Fatal(err)
		}
		// The roster's entries (15,000 here) are not all read to find
		// one village's (150), nor every cadre's: no index condition on
		// "no household" or "no town" alone.
		if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Bitmap Index Scan") ||
			strings.Contains(plan, "(household = '00000000-0000-0000-0000-000000000000'::uuid) AND (seq") ||
			strings.Contains(plan, "(town = '00000000-0000-0000-0000-000000000000'::uuid) AND (seq") {
			t.Errorf("a pull of %d villages and %d households does not read through the partitions' indexes:\n%s", len(p.Villages), len(p.Households), plan)
		}
		t.Logf("plan:\n%s", plan)
	}
}
