package store_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/store/query"
)

// reportLatency reports the mean, the median and the 90th percentile of the
// op durations in milliseconds.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(sum)/float64(len(ds)), "ms/op")
	b.ReportMetric(ms(ds[len(ds)/2]), "p50-ms")
	b.ReportMetric(ms(ds[len(ds)*9/10]), "p90-ms")
}

// BenchmarkPutVisit saves one visit per op in a real file with fsync on
// every commit, as the app does.
func BenchmarkPutVisit(b *testing.B) {
	db := mustOpenAt(b, filepath.Join(b.TempDir(), "put.db"), fixtureNow)
	v := buildVillage(b, db, fixtureNow)
	b.Run("fsync", func(b *testing.B) {
		ds := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			x := &domain.Visit{Household: v.Wang.ID, Cadre: v.Li.ID, At: fixtureNow.Add(-time.Hour),
				Type: domain.VisitRoutine, Notes: fmt.Sprintf("走访记录 %d：了解生产生活情况。", i), Water: domain.WaterSafe}
			start := time.Now()
			if err := db.Put(v.Li.ID, x); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		b.StopTimer()
		reportLatency(b, ds)
	})
}

// demoFile writes the demo village into a closed file and returns its path.
func demoFile(b *testing.B, d *demo.Data) string {
	path := filepath.Join(b.TempDir(), "demo.db")
	db := loadDemo(b, path, d, demoNow)
	must(b, db.Close())
	return path
}

// BenchmarkOpenAndMyHouseholds opens the demo village's file and lists
// households, as the app does when it starts: a group cadre's ~30, and the
// whole village of 252 for a team leader. Each op opens, lists and closes.
func BenchmarkOpenAndMyHouseholds(b *testing.B) {
	d := demo.Village(1, demoNow)
	path := demoFile(b, d)
	run := func(b *testing.B, list func(*store.DB) ([]query.HouseholdRow, error)) {
		ds := make([]time.Duration, 0, b.N)
		n := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			db, err := store.Open(path, &store.Options{Now: clockAt(demoNow)})
			if err != nil {
				b.Fatal(err)
			}
			rows, err := list(db)
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
			n = len(rows)
			db.Close()
		}
		b.StopTimer()
		b.ReportMetric(float64(n), "rows")
		reportLatency(b, ds)
	}
	b.Run("group", func(b *testing.B) {
		run(b, func(db *store.DB) ([]query.HouseholdRow, error) {
			return query.MyHouseholds(db, d.GroupCadre.ID, demoNow)
		})
	})
	b.Run("village", func(b *testing.B) {
		run(b, func(db *store.DB) ([]query.HouseholdRow, error) {
			return query.VillageHouseholds(db, d.Village.ID, demoNow)
		})
	})
}

// BenchmarkCard reads household cards of the demo village in turn.
func BenchmarkCard(b *testing.B) {
	d := demo.Village(1, demoNow)
	db, err := store.Open(demoFile(b, d), &store.Options{Now: clockAt(demoNow)})
	must(b, err)
	defer db.Close()
	b.Run("village", func(b *testing.B) {
		ds := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			c, err := query.Card(db, d.Households[i%len(d.Households)].ID, demoNow)
			if err != nil || c.Household == nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(start))
		}
		b.StopTimer()
		reportLatency(b, ds)
	})
}

// BenchmarkSearch searches a town of 5,000 households as a cadre types.
func BenchmarkSearch(b *testing.B) {
	d := demo.Town(7, demoNow, 5000)
	db, err := store.Open(demoFile(b, d), &store.Options{Now: clockAt(demoNow)})
	must(b, err)
	defer db.Close()
	if n, _ := db.Count(domain.KindHousehold); n < 4900 {
		b.Fatalf("%d households, want about 5,000", n)
	}
	queries := []struct{ name, q string }{
		{"initials", "wxw"},
		{"name", "马建"},
		{"pinyin", "wangxing"},
		{"phone", "1389"},
		{"everyone", ""},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			ds := make([]time.Duration, 0, b.N)
			n := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				rows, err := query.Search(db, uuid.Nil, q.q, demoNow, 50)
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(start))
				n = len(rows)
			}
			b.StopTimer()
			b.ReportMetric(float64(n), "rows")
			reportLatency(b, ds)
		})
	}
}

// BenchmarkStaff works out the cadres a device may read, as the server does
// at every sync: a team leader's village, and a whole town of 5,000
// households for a town lead.
func BenchmarkStaff(b *testing.B) {
	d := demo.Town(1, demoNow, 5000)
	db := loadDemo(b, filepath.Join(b.TempDir(), "town.db"), d, demoNow)
	for _, c := range []struct {
		name   string
		within []uuid.UUID
	}{{"village", []uuid.UUID{d.Village.ID}}, {"town", []uuid.UUID{d.Town.ID}}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for i := 0; i < b.N; i++ {
				staff, err := db.Staff(c.within, nil)
				if err != nil {
					b.Fatal(err)
				}
				n = len(staff)
			}
			b.ReportMetric(float64(n), "cadres")
		})
	}
}

// BenchmarkReach works out the reach a server reads at every sync: a group
// cadre's, the team leader's, which carries the pairings and duties
// elsewhere of every cadre of the village (Assigned.Pairings), and the town
// lead's, which carries those of the town's cadres outside the town.
func BenchmarkReach(b *testing.B) {
	d := demo.Village(1, demoNow)
	db, err := store.Open(demoFile(b, d), &store.Options{Now: clockAt(demoNow)})
	must(b, err)
	defer db.Close()
	townLead := d.TeamLeader
	for _, a := range d.Assignments {
		if a.Role == domain.TownLead && a.Current() {
			townLead = &domain.Cadre{Meta: domain.Meta{ID: a.Cadre}}
		}
	}
	if townLead == d.TeamLeader {
		b.Fatal("the demo has no town lead")
	}
	for _, c := range []struct {
		name  string
		cadre *domain.Cadre
	}{{"group_cadre", d.GroupCadre}, {"team_leader", d.TeamLeader}, {"town_lead", townLead}} {
		b.Run(c.name, func(b *testing.B) {
			pairings := 0
			for i := 0; i < b.N; i++ {
				reach, err := db.Reach(c.cadre.ID)
				if err != nil {
					b.Fatal(err)
				}
				pairings = 0
				for _, a := range reach {
					pairings += len(a.Pairings)
				}
			}
			b.ReportMetric(float64(pairings), "pairings")
		})
	}
}
