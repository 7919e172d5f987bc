package store_test

import (
	"testing"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

// BenchmarkReachPrefecture is BenchmarkReach in a prefecture of two towns
// of four villages: the team leader's and the town lead's set of
// assignments read elsewhere cost what their village or town holds, not
// what the store does.
func BenchmarkReachPrefecture(b *testing.B) {
	d := demo.Prefecture(1, demoNow, 2, 4, 250)
	db, err := store.Open(demoFile(b, d), &store.Options{Now: clockAt(demoNow)})
	must(b, err)
	defer db.Close()
	var townLead *domain.Cadre
	for _, a := range d.Assignments {
		if a.Role == domain.TownLead && a.Current() && townLead == nil {
			townLead = &domain.Cadre{Meta: domain.Meta{ID: a.Cadre}}
		}
	}
	n := 0
	for _, a := range d.Assignments {
		if !a.Deleted {
			n++
		}
	}
	for _, c := range []struct {
		name  string
		cadre *domain.Cadre
	}{{"team_leader", d.TeamLeader}, {"town_lead", townLead}} {
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
			b.ReportMetric(float64(n), "assignments")
		})
	}
}
