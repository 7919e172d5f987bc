package demo_test

import (
	"bytes"
	"compress/gzip"
	"testing"
	"time"
	"unicode/utf8"

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

// BenchmarkNotesGzip reports how well the visits' notes and follow-ups
// compress, the figure a benchmark's bytes on the wire depend on:
// generated text that repeats itself more than cadres' notes do flatters
// gzip. Prefecture's are written by NewNotes (about 2×); the seed's phrase
// menus, which Town's visits keep, are reported beside them (18.5× for the
// notes before NewNotes).
func BenchmarkNotesGzip(b *testing.B) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		d    *demo.Data
	}{
		{"prefecture", demo.Prefecture(4, now, 1, 4, 250)},
		{"town", demo.Town(4, now, 1000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			notes, follow := corpus(c.d, func(v *domain.Visit) string { return v.Notes }),
				corpus(c.d, func(v *domain.Visit) string { return v.FollowUp })
			for b.Loop() {
				gzipRatio(notes)
			}
			b.ReportMetric(float64(len(notes))/float64(len(c.d.Visits)), "note-bytes")
			b.ReportMetric(gzipRatio(notes), "gzip-ratio")
			b.ReportMetric(gzipRatio(follow), "followup-gzip-ratio")
		})
	}
}

// corpus joins the non-empty texts of d's visits, a line each.
func corpus(d *demo.Data, text func(*domain.Visit) string) []byte {
	var raw bytes.Buffer
	for _, v := range d.Visits {
		if s := text(v); s != "" {
			raw.WriteString(s)
			raw.WriteByte('\n')
		}
	}
	return raw.Bytes()
}

// gzipRatio is how many times smaller gzip (default level) makes raw.
func gzipRatio(raw []byte) float64 {
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw)
	w.Close()
	return float64(len(raw)) / float64(z.Len())
}

// TestNotesCompressLikeTypedText holds NewNotes to its purpose: notes of 20
// to 150 characters, valid UTF-8, deterministic for a seed, that as a
// corpus compress with gzip between 1.8× and 2.6× (typed Chinese notes do
// about 2×; the seed's menus 18.5×), and follow-ups of 8 to 40 characters.
func TestNotesCompressLikeTypedText(t *testing.T) {
	n, again := demo.NewNotes(9), demo.NewNotes(9)
	var notes, follow bytes.Buffer
	for i := range 3000 {
		s, f := n.Note(), n.FollowUp()
		if s2, f2 := again.Note(), again.FollowUp(); s2 != s || f2 != f {
			t.Fatalf("note %d differs for the same seed: %q / %q", i, s, s2)
		}
		if c := utf8.RuneCountInString(s); !utf8.ValidString(s) || c < 20 || c > 150 {
			t.Errorf("note %q: %d characters", s, c)
		}
		if c := utf8.RuneCountInString(f); !utf8.ValidString(f) || c < 8 || c > 40 {
			t.Errorf("follow-up %q: %d characters", f, c)
		}
		notes.WriteString(s + "\n")
		follow.WriteString(f + "\n")
	}
	if r := gzipRatio(notes.Bytes()); r < 1.8 || r > 2.6 {
		t.Errorf("the notes compress %.2f× with gzip, want about 2×", r)
	}
	if r := gzipRatio(follow.Bytes()); r < 1.8 || r > 3.2 {
		t.Errorf("the follow-ups compress %.2f× with gzip, want about 2×", r)
	}
}
