package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// TestApplyPartRecordTwice: a record whose state comes twice in one part —
// new, then moved to another household by a later change — leaves the
// index keys and log a part applied change by change (Apply) leaves, though
// a part's new records' index keys and seen marks are written at its end;
// the part applied again adds nothing.
func TestApplyPartRecordTwice(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	up := devOpen(t, "server.db", clockAt(now))
	r := buildDevRoster(t, up)
	visit := func(h uuid.UUID, at time.Time) (uuid.UUID, domain.Fields) {
		v := &domain.Visit{Household: h, Cadre: r.groupCadre.ID, At: at, Type: domain.VisitRoutine,
			Notes: "入户走访，了解家庭近况。", Water: domain.WaterSafe}
		v.ID, v.Created, v.Author, v.Device = uuid.New(), now, r.groupCadre.ID, up.Device()
		f, err := domain.Encode(v)
		devMust(t, err)
		return v.ID, f
	}
	stamp := func(ms int64) domain.Stamp { return domain.Stamp{Wall: now.UnixMilli() + ms, Device: up.Device()} }
	x, fx := visit(r.h1.ID, now.Add(-2*time.Hour))
	y, fy := visit(r.h1.ID, now.Add(-time.Hour))
	h2, _ := json.Marshal(r.h2.ID)
	part := []domain.Change{
		{ID: uuid.New(), Kind: domain.KindVisit, Record: x, Author: r.groupCadre.ID, Stamp: stamp(1), Fields: fx},
		{ID: uuid.New(), Kind: domain.KindVisit, Record: y, Author: r.groupCadre.ID, Stamp: stamp(2), Fields: fy},
		{ID: uuid.New(), Kind: domain.KindVisit, Record: x, Author: r.groupCadre.ID, Stamp: stamp(3),
			Fields: domain.Fields{"household": h2}},
	}

	byPart := devOpen(t, "part.db", clockAt(now))
	rej, err := byPart.ApplyPart(up.Device(), part, nil)
	devMust(t, err)
	byChange := devOpen(t, "change.db", clockAt(now))
	rej2, err := byChange.Apply(up.Device(), part)
	devMust(t, err)
	for i := range part {
		if rej[i] != nil || rej2[i] != nil {
			t.Fatalf("change %d rejected: %v / %v", i, rej[i], rej2[i])
		}
	}

	keys := func(db *store.DB) map[string][]uuid.UUID {
		out := map[string][]uuid.UUID{}
		devMust(t, db.View(func(tx *store.Tx) error {
			for name, prefix := range map[string]uuid.UUID{"h1": r.h1.ID, "h2": r.h2.ID} {
				tx.Scan("visit_hh", prefix[:], func(_ []byte, id uuid.UUID) bool {
					out[name] = append(out[name], id)
					return true
				})
			}
			tx.Scan("visit_cadre", r.groupCadre.ID[:], func(_ []byte, id uuid.UUID) bool {
				out["cadre"] = append(out["cadre"], id)
				return true
			})
			return nil
		}))
		return out
	}
	devMust(t, byPart.Settle()) // a part of state holds its keys (held.go)
	got, want := keys(byPart), keys(byChange)
	if len(got["h1"]) != 1 || got["h1"][0] != y || len(got["h2"]) != 1 || got["h2"][0] != x || len(got["cadre"]) != 2 {
		t.Fatalf("visit_hh / visit_cadre after ApplyPart: %v (x %s, y %s)", got, x, y)
	}
	for name := range want {
		if len(got[name]) != len(want[name]) || got[name][0] != want[name][0] {
			t.Fatalf("index %s: ApplyPart %v, Apply %v", name, got[name], want[name])
		}
	}
	rec, err := byPart.Get(domain.KindVisit, x)
	devMust(t, err)
	if v := rec.(*domain.Visit); v.Household != r.h2.ID || v.Notes != "入户走访，了解家庭近况。" {
		t.Fatalf("visit x after ApplyPart: %+v", v)
	}
	for _, ch := range part {
		if seen, _ := byPart.Seen(ch.ID); !seen {
			t.Fatalf("change %s not marked seen", ch.ID)
		}
	}
	last, _ := byPart.LastSeq()
	if last != 3 {
		t.Fatalf("%d log entries, want 3", last)
	}
	_, err = byPart.ApplyPart(up.Device(), part, nil)
	devMust(t, err)
	if again, _ := byPart.LastSeq(); again != last {
		t.Fatalf("the part applied again logged %d more entries", again-last)
	}
}
