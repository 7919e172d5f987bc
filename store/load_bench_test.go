package store_test

import (
	"flag"
	"path/filepath"
	"testing"
	"time"

	"bangfu/domain/demo"
	"bangfu/store"
)

var loadTowns = flag.Int("load.towns", 1, "towns of 5,000 households of BenchmarkLoad's prefecture")

// BenchmarkLoad builds one store of a generated prefecture (-load.towns
// towns of 20 villages of 250 households, a year of visits) through Put,
// in transactions of up to 500 records of one author, and one through
// Load, and reports the seconds of wall and of CPU each took and the log
// entries a second.
func BenchmarkLoad(b *testing.B) {
	d := demo.Prefecture(7, demoNow, *loadTowns, demo.PrefectureVillages, demo.PrefectureHouseholds)
	for _, way := range []string{"put", "load"} {
		b.Run(way, func(b *testing.B) {
			var wall, cpu time.Duration
			n := len(d.Records())
			for range b.N {
				b.StopTimer()
				fresh := demo.Prefecture(7, demoNow, *loadTowns, demo.PrefectureVillages, demo.PrefectureHouseholds)
				db, err := store.Open(filepath.Join(b.TempDir(), "s.db"), &store.Options{NoSync: true})
				must(b, err)
				t0, c0 := time.Now(), cpuTime()
				b.StartTimer()
				if way == "put" {
					putByAuthor(b, db, fresh.Records())
				} else if _, err := db.Load(fresh.Records()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				wall, cpu = wall+time.Since(t0), cpu+cpuTime()-c0
				must(b, db.Close())
				b.StartTimer()
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s")
			b.ReportMetric(float64(n)*float64(b.N)/wall.Seconds(), "entries/s")
			b.ReportMetric(float64(n), "entries")
		})
	}
}
