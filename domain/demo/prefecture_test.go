package demo_test

import (
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
)

func TestPrefecture(t *testing.T) {
	d := demo.Prefecture(4, now, 3, 4, 80)
	if c := d.Counts; c.Towns != 3 || c.Villages != 12 || c.Households != 3*(80+3*80) {
		t.Errorf("%d towns, %d villages, %d households; want 3, 12, %d", c.Towns, c.Villages, c.Households, 3*4*80)
	}
	if d.Village.Name != "王坪村" || d.Town.Name != "枹罕镇" {
		t.Errorf("the first village is %s in %s", d.Village.Name, d.Town.Name)
	}
	// Each town has its own office cadre and town lead, and its villages
	// have distinct names and codes.
	towns := map[uuid.UUID]*domain.Place{}
	codes := map[string]bool{}
	for _, p := range d.Places {
		if p.Level == domain.Town {
			towns[p.ID] = p
		}
		if p.Code != "" {
			if codes[p.Code] {
				t.Errorf("two places with code %s", p.Code)
			}
			codes[p.Code] = true
		}
	}
	roles := map[uuid.UUID]map[domain.Role]int{}
	for _, a := range d.Assignments {
		if towns[a.Target] != nil {
			if roles[a.Target] == nil {
				roles[a.Target] = map[domain.Role]int{}
			}
			roles[a.Target][a.Role]++
		}
	}
	for id, p := range towns {
		if roles[id][domain.Office] != 1 || roles[id][domain.TownLead] != 1 {
			t.Errorf("town %s: %v", p.Name, roles[id])
		}
	}
	names := map[[2]uuid.UUID]string{}
	for _, p := range d.Places {
		if p.Level == domain.Village {
			for q, n := range names {
				if q[0] == p.Parent && n == p.Name {
					t.Errorf("two villages named %s in one town", n)
				}
			}
			names[[2]uuid.UUID{p.Parent, p.ID}] = p.Name
		}
	}
	// A year of visits, about one a month per household.
	start := now.AddDate(-1, 0, 0)
	per := map[uuid.UUID]int{}
	for _, v := range d.Visits {
		if v.At.After(now) || v.At.Before(start) {
			t.Errorf("visit at %v is outside the year before %v", v.At, now)
		}
		per[v.Household]++
	}
	if avg := float64(len(d.Visits)) / float64(len(d.Households)); avg < 10 || avg > 13 {
		t.Errorf("%.1f visits per household in a year, want about 12", avg)
	}
	for _, h := range d.Households {
		if per[h.ID] == 0 {
			t.Errorf("household %s never visited", h.HeadName)
		}
	}
	for _, r := range d.Records() {
		if err := r.Validate(now); err != nil {
			t.Errorf("%s %s: %v", r.Kind(), r.Metadata().ID, err)
		}
	}
	// Every household's group is in a village of one of the towns.
	byID := map[uuid.UUID]*domain.Place{}
	for _, p := range d.Places {
		byID[p.ID] = p
	}
	for _, h := range d.Households {
		g := byID[h.Group]
		if g == nil || byID[g.Parent] == nil || towns[byID[g.Parent].Parent] == nil {
			t.Errorf("household %s: its group is not in a village of a town", h.HeadName)
		}
	}
}

// BenchmarkNotesGzip reports how well the visits' notes compress, the
// figure a benchmark's bytes on the wire depend on: generated text that
// repeats itself more than cadres' notes do flatters gzip.
func BenchmarkNotesGzip(b *testing.B) {
	d := demo.Prefecture(4, time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC), 1, 4, 250)
	var raw bytes.Buffer
	for _, v := range d.Visits {
		raw.WriteString(v.Notes)
		raw.WriteByte('\n')
	}
	var z bytes.Buffer
	for b.Loop() {
		z.Reset()
		w := gzip.NewWriter(&z)
		w.Write(raw.Bytes())
		w.Close()
	}
	b.ReportMetric(float64(raw.Len())/float64(len(d.Visits)), "note-bytes")
	b.ReportMetric(float64(raw.Len())/float64(z.Len()), "gzip-ratio")
}
