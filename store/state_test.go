package store_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

// TestStateReadsHouseholdCell: State judges the records of households by
// the household field of their rows, without decoding them, and yields
// exactly what it yields decoding every record (SetStateDecodeAll) — for a
// device reading one household, one group, one village and everything, with
// deleted records, a household moved to another village and a household
// moved out among them.
func TestStateReadsHouseholdCell(t *testing.T) {
	d := demo.Town(3, demoNow, 400)
	db := loadDemo(t, filepath.Join(t.TempDir(), "town.db"), d, demoNow)
	defer db.Close()
	author := d.Cadres[0].ID
	visit, member := *d.Visits[0], *d.Members[0]
	visit.Deleted, member.Deleted = true, true
	moved := *d.Households[1]
	moved.Group = d.Households[len(d.Households)-1].Group
	out := *d.Households[2]
	out.Exit, out.ExitOn = domain.MovedOut, demoNow.AddDate(0, 0, -3)
	must(t, db.Put(author, &visit, &member, &moved, &out))

	group := d.Households[0].Group
	inGroup := map[uuid.UUID]bool{} // its households, as a server's scope names them
	for _, h := range d.Households {
		if h.Group == group && h.ID != moved.ID {
			inGroup[h.ID] = true
		}
	}
	village := d.Village.ID
	for _, c := range []struct {
		name     string
		readable func(*store.Entry) bool
	}{
		{"household", func(e *store.Entry) bool { return e.Household == d.Households[0].ID }},
		{"group", func(e *store.Entry) bool { return inGroup[e.Household] }},
		{"village", func(e *store.Entry) bool { return e.Village == village }},
		{"moved", func(e *store.Entry) bool { return e.Household == moved.ID || e.Household == out.ID }},
		{"all", func(*store.Entry) bool { return true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			walk := func(all bool) ([]domain.Change, []store.StatePos) {
				store.SetStateDecodeAll(all)
				defer store.SetStateDecodeAll(false)
				var chs []domain.Change
				var pos []store.StatePos
				_, err := db.State(store.StatePos{}, c.readable, func(next store.StatePos, changes []domain.Change) (bool, error) {
					chs = append(chs, changes...)
					pos = append(pos, next)
					return true, nil
				})
				must(t, err)
				return chs, pos
			}
			want, wantPos := walk(true)
			got, gotPos := walk(false)
			if len(want) == 0 {
				t.Fatal("nothing readable")
			}
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotPos, wantPos) {
				t.Fatalf("reading the household field yields %d changes (%d records), decoding %d (%d records)",
					len(got), len(gotPos), len(want), len(wantPos))
			}
			held := map[uuid.UUID]bool{}
			for _, ch := range want {
				held[ch.Record] = true
			}
			if c.name == "moved" && (!held[moved.ID] || !held[out.ID]) {
				t.Fatal("the moved households are not yielded")
			}
			if c.name == "all" && (!held[visit.ID] || !held[member.ID]) {
				t.Fatal("the deleted records are not yielded")
			}
		})
	}
}

// BenchmarkState is a first sync's walk of the current state for a device
// reading 王坪村 in a town of 1,000 households: the whole walk decoding every
// record to judge it, the whole walk reading the household field of the
// rows, and the walk of the village's partitions (StateIn, what a server
// does).
func BenchmarkState(b *testing.B) {
	d := demo.Town(3, demoNow, 1000)
	db := loadDemo(b, filepath.Join(b.TempDir(), "town.db"), d, demoNow)
	defer db.Close()
	readable := func(e *store.Entry) bool { return e.Village == d.Village.ID }
	in := store.Within{Villages: map[uuid.UUID]bool{d.Village.ID: true}}
	for _, mode := range []struct {
		name string
		all  bool
		in   bool
	}{{"decode-all", true, false}, {"household-cell", false, false}, {"partitions", false, true}} {
		b.Run(mode.name, func(b *testing.B) {
			store.SetStateDecodeAll(mode.all)
			defer store.SetStateDecodeAll(false)
			n := 0
			fn := func(store.StatePos, []domain.Change) (bool, error) {
				n++
				return true, nil
			}
			for b.Loop() {
				n = 0
				var err error
				if mode.in {
					_, err = db.StateIn(in, store.StatePos{}, readable, fn)
				} else {
					_, err = db.State(store.StatePos{}, readable, fn)
				}
				must(b, err)
			}
			b.ReportMetric(float64(n), "records")
		})
	}
}
