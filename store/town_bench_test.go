package store_test

import (
	"testing"
	"time"

	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/store/query"
)

// BenchmarkTownOverview reads a town of 5,000 households as its overview
// (one row per village), beside one village's overview, which is what a
// town lead's menu opens first.
func BenchmarkTownOverview(b *testing.B) {
	d := demo.Town(7, demoNow, 5000)
	db, err := store.Open(demoFile(b, d), &store.Options{Now: clockAt(demoNow)})
	must(b, err)
	defer db.Close()
	for _, c := range []struct {
		name string
		read func() error
	}{
		{"town", func() error { _, err := query.TownOverview(db, d.Town.ID, demoNow); return err }},
		{"village", func() error { _, err := query.Overview(db, d.Village.ID, demoNow); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ds := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				start := time.Now()
				must(b, c.read())
				ds = append(ds, time.Since(start))
			}
			reportLatency(b, ds)
		})
	}
}
