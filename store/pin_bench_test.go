package store_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/store/query"
)

// BenchmarkSealedTown measures a sealed town of 5,000 households as the app
// uses it: unlock (Argon2id with seal.DefaultParams, then the in-memory
// search index built from every household and member), search as a cadre
// types, and saving a visit with fsync. Compare BenchmarkSearch and
// BenchmarkPutVisit on clear stores.
func BenchmarkSealedTown(b *testing.B) {
	d := demo.Town(7, demoNow, 5000)
	path := filepath.Join(b.TempDir(), "town.db")
	// BANGFU_BENCH_TOWN names a file to keep the clear town in between
	// runs: loading 5,000 households takes minutes on a busy machine.
	if keep := os.Getenv("BANGFU_BENCH_TOWN"); keep != "" {
		if raw, err := os.ReadFile(keep); err == nil {
			must(b, os.WriteFile(path, raw, 0o600))
		} else {
			must(b, loadDemo(b, path, d, demoNow).Close())
			raw, err := os.ReadFile(path)
			must(b, err)
			must(b, os.WriteFile(keep, raw, 0o600))
		}
	} else {
		must(b, loadDemo(b, path, d, demoNow).Close())
	}
	clearPath := filepath.Join(filepath.Dir(path), "clear.db")
	raw, err := os.ReadFile(path)
	must(b, err)
	must(b, os.WriteFile(clearPath, raw, 0o600))
	clear, err := store.Open(clearPath, &store.Options{Now: clockAt(demoNow)})
	must(b, err)
	defer clear.Close()
	db, err := store.Open(path, &store.Options{Now: clockAt(demoNow)}) // default PIN costs, fsync on
	must(b, err)
	defer db.Close()
	start := time.Now()
	must(b, db.Seal(testPIN))
	b.Logf("Seal (encrypting the whole store, copy and rename): %v", time.Since(start))
	if n, _ := db.Count(domain.KindHousehold); n < 4900 {
		b.Fatalf("%d households, want about 5,000", n)
	}

	b.Run("unlock", func(b *testing.B) {
		ds := make([]time.Duration, 0, b.N)
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			db.Lock()
			start := time.Now()
			if err := db.Unlock(testPIN, demoNow); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		reportLatency(b, ds)
		reportCPU(b, cpu0)
	})
	for _, q := range []struct{ name, q string }{
		{"initials", "wxw"},
		{"name", "马建"},
		{"pinyin", "wangxing"},
		{"phone", "1389"},
		{"everyone", ""},
	} {
		for _, c := range []struct {
			name string
			db   *store.DB
		}{{"search_", db}, {"clear_search_", clear}} {
			b.Run(c.name+q.name, func(b *testing.B) {
				db := c.db
				if _, err := query.Search(db, uuid.Nil, q.q, demoNow, 50); err != nil { // warm: the record cache, the index's sorted copy
					b.Fatal(err)
				}
				ds := make([]time.Duration, 0, b.N)
				n := 0
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					rows, err := query.Search(db, uuid.Nil, q.q, demoNow, 50)
					if err != nil {
						b.Fatal(err)
					}
					ds = append(ds, time.Since(start))
					n = len(rows)
				}
				b.ReportMetric(float64(n), "rows")
				reportLatency(b, ds)
				reportCPU(b, cpu0)
			})
		}
	}
	for _, c := range []struct {
		name string
		db   *store.DB
	}{{"put_visit_fsync", db}, {"clear_put_visit_fsync", clear}} {
		db := c.db
		b.Run(c.name, func(b *testing.B) {
			h, c := d.Households[0], d.GroupCadre
			ds := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				x := &domain.Visit{Household: h.ID, Cadre: c.ID, At: demoNow.Add(-time.Hour),
					Type: domain.VisitRoutine, Notes: fmt.Sprintf("走访记录 %d：了解生产生活情况。", i), Water: domain.WaterSafe}
				start := time.Now()
				if err := db.Put(c.ID, x); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
			}
			reportLatency(b, ds)
			reportCPU(b, cpu0)
		})
	}
}

// reportCPU reports the CPU time per op since since (every goroutine of the
// process: an unlock's parallel index build and the garbage collector count).
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime()-since)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
