package e2e_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server/memstore"
	"bangfu/sync/synctest"
)

// modelAgrees replays the server's log into the in-memory model
// (memstore), leaving out the conflicts the server recorded itself, and
// checks that the model, merging the same changes in the same order on its
// own, finds the same conflicts (no more, no fewer) and holds every
// record the server holds, field by field: a merge bug in store that the
// devices all inherit from the server shows as a difference here. It
// returns the records compared.
func modelAgrees(t *testing.T, srv *store.DB, order *causalOrder) int {
	t.Helper()
	m := memstore.New(memstore.Options{Device: srv.Device(), Early: func(e replica.Early) { order.report("the model", e) }})
	own := func(e *replica.Entry) bool { return e.Change.Kind == domain.KindConflict && e.From == uuid.Nil }
	if err := memstore.Replay(m, srv, func(e *replica.Entry) bool { return !own(e) }); err != nil {
		t.Fatalf("the model refused the server's log: %v", err)
	}
	ids := func(db interface {
		LogWhere(uint64, func(*replica.Entry) bool, func(replica.Entry) (bool, error)) error
	}) map[uuid.UUID]bool {
		out := map[uuid.UUID]bool{}
		err := db.LogWhere(0, nil, func(e replica.Entry) (bool, error) {
			if e.Change.Kind == domain.KindConflict {
				out[e.Change.ID] = true
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if cs, cm := ids(srv), ids(m); !maps.Equal(cs, cm) {
		t.Errorf("the server logged %d conflicts, the model replaying its log %d", len(cs), len(cm))
	}
	want, err := synctest.Records(srv)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range domain.Kinds {
		for _, id := range m.IDs(kind) {
			if _, ok := want[synctest.Key{Kind: kind, ID: id}]; !ok {
				t.Errorf("the model holds %s %s, the server does not", kind, id)
			}
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(want), func(a, b synctest.Key) int { return bytes.Compare(a.ID[:], b.ID[:]) }) {
		got, ok := m.Fields(k.Kind, k.ID)
		if !ok {
			t.Errorf("the model lacks %s", k)
			continue
		}
		if !sameFields(got, want[k]) {
			t.Errorf("%s: the model holds\n%v\nthe server\n%v", k, got, want[k])
		}
	}
	return len(want)
}

func sameFields(a, b map[string]domain.FieldState) bool {
	return maps.EqualFunc(a, b, func(x, y domain.FieldState) bool {
		return x.Stamp == y.Stamp && x.Author == y.Author && compactJSON(x.Value) == compactJSON(y.Value)
	})
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}
