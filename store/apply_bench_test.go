package store_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

// applyVisits is the number of visits added to the demo village for
// BenchmarkApplyPull: the first pull of issue 8's measurement.
const applyVisits = 10_000

// pulledState returns the current state of a store holding the demo village
// and applyVisits visits by its group cadre, as a server sends it to a new
// device (store.DB.State), cut into parts of at most 1,000 changes that never
// split a record, as sync/client applies a page.
func pulledState(b *testing.B) (parts [][]domain.Change, n int) {
	b.Helper()
	d := demo.Village(1, demoNow)
	src := loadDemo(b, filepath.Join(b.TempDir(), "src.db"), d, demoNow)
	defer src.Close()
	groups := map[uuid.UUID]bool{}
	for _, a := range d.Assignments {
		if a.Cadre == d.GroupCadre.ID && a.Role == domain.GroupCadre {
			groups[a.Target] = true
		}
	}
	var hh []*domain.Household
	for _, h := range d.Households {
		if groups[h.Group] {
			hh = append(hh, h)
		}
	}
	r := rand.New(rand.NewPCG(10, applyVisits))
	for done := 0; done < applyVisits; {
		batch := make([]domain.Record, min(500, applyVisits-done))
		for i := range batch {
			at := demoNow.Add(-time.Duration(r.Int64N(int64(180 * 24 * time.Hour)))).Truncate(time.Minute)
			model := d.Visits[r.IntN(len(d.Visits))]
			batch[i] = &domain.Visit{Household: hh[r.IntN(len(hh))].ID, Cadre: d.GroupCadre.ID, At: at,
				Type: model.Type, Notes: model.Notes + "入户走访，了解家庭近况。", Policies: model.Policies,
				Policy: model.Policy, Fees: model.Fees, Water: model.Water, FollowUp: model.FollowUp}
		}
		must(b, src.Put(d.GroupCadre.ID, batch...))
		done += len(batch)
	}
	var part []domain.Change
	_, err := src.State(store.StatePos{}, func(*store.Entry) bool { return true },
		func(_ store.StatePos, chs []domain.Change) (bool, error) {
			if len(part)+len(chs) > 1000 {
				parts = append(parts, part)
				part = nil
			}
			part = append(part, chs...)
			n += len(chs)
			return true, nil
		})
	must(b, err)
	return append(parts, part), n
}

// BenchmarkApplyPull is the device's side of a first pull without the wire:
// the state of the demo village and 10,000 visits applied to a fresh store
// (fsync on) as sync/client applies it, in parts of 1,000 changes each in a
// transaction of its own (DB.ApplyPart) and the last with the cursors and
// the catch-up's marks (DB.ApplyPage). "sealed" applies to a store sealed
// with a PIN, as a cadre's phone is by default.
func BenchmarkApplyPull(b *testing.B) {
	parts, n := pulledState(b)
	server := uuid.New()
	for _, sealed := range []bool{false, true} {
		name := map[bool]string{false: "clear", true: "sealed"}[sealed]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var wall, cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				db, err := store.Open(filepath.Join(b.TempDir(), "device.db"), &store.Options{Now: clockAt(demoNow), PINParams: cheap})
				must(b, err)
				if sealed {
					must(b, db.Seal(testPIN))
				}
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				var held []store.Ref
				for _, p := range parts[:len(parts)-1] {
					rej, err := db.ApplyPart(server, p, nil)
					must(b, err)
					for j, ch := range p {
						if rej[j] != nil {
							b.Fatalf("change %s rejected: %v", ch.ID, rej[j])
						}
						if j == 0 || p[j-1].Record != ch.Record {
							held = append(held, store.Ref{Kind: ch.Kind, ID: ch.Record})
						}
					}
				}
				_, _, err = db.ApplyPage(server, store.Page{Reset: true, Settled: true, State: parts[len(parts)-1],
					Held: held, Cursors: map[string]string{"pull": fmt.Sprint(n)}})
				must(b, err)
				wall += time.Since(start)
				cpu += cpuTime() - cpu0
				b.StopTimer()
				if got, _ := db.Count(domain.KindVisit); got < applyVisits {
					b.Fatalf("%d visits applied, want at least %d", got, applyVisits)
				}
				must(b, db.Close())
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "changes")
			b.ReportMetric(float64(n)*float64(b.N)/wall.Seconds(), "changes/s")
			b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "changes/cpu-s")
			b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "apply-ms/op")
		})
	}
}
