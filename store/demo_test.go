package store_test

import (
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/store/query"
)

// demoNow is the time the demo data is generated for and queried at.
var demoNow = time.Date(2025, 6, 15, 10, 30, 0, 0, cst)

// loadDemo writes d into a new store at path through Put, in batches of
// records of one kind, as `bangfud demo` would, and returns it open.
func loadDemo(tb testing.TB, path string, d *demo.Data, now time.Time) *store.DB {
	tb.Helper()
	db, err := store.Open(path, &store.Options{Now: clockAt(now), NoSync: true})
	must(tb, err)
	author := d.Cadres[0].ID // the town office enters the roster
	recs := d.Records()
	const batch = 500
	for i := 0; i < len(recs); i += batch {
		j := min(i+batch, len(recs))
		if err := db.Put(author, recs[i:j]...); err != nil {
			tb.Fatalf("load demo records %d..%d: %v", i, j, err)
		}
	}
	return db
}

// demoFacts is what the tests recount from the generator's own slices.
type demoFacts struct {
	d         *demo.Data
	now       time.Time
	household map[uuid.UUID]*domain.Household
	place     map[uuid.UUID]*domain.Place
	last      map[uuid.UUID]time.Time // latest visit by household
	open      map[uuid.UUID]int       // open problems by household
	submitted map[uuid.UUID]int       // submitted plans by household
}

func recount(d *demo.Data, now time.Time) *demoFacts {
	f := &demoFacts{d: d, now: now, household: map[uuid.UUID]*domain.Household{}, place: map[uuid.UUID]*domain.Place{},
		last: map[uuid.UUID]time.Time{}, open: map[uuid.UUID]int{}, submitted: map[uuid.UUID]int{}}
	for _, h := range d.Households {
		f.household[h.ID] = h
	}
	for _, p := range d.Places {
		f.place[p.ID] = p
	}
	for _, v := range d.Visits {
		if v.At.After(f.last[v.Household]) {
			f.last[v.Household] = v.At
		}
	}
	for _, p := range d.Problems {
		if p.IsOpen() {
			f.open[p.Household]++
		}
	}
	for _, p := range d.Plans {
		if p.Status == domain.PlanSubmitted {
			f.submitted[p.Household]++
		}
	}
	return f
}

// days returns the whole days since the household's last visit, -1 if none.
func (f *demoFacts) days(h uuid.UUID) int {
	last, ok := f.last[h]
	if !ok {
		return -1
	}
	return int(f.now.Sub(last) / (24 * time.Hour))
}

// order sorts household IDs by the lists' rule, recomputed here.
func (f *demoFacts) order(ids []uuid.UUID) []uuid.UUID {
	out := append([]uuid.UUID(nil), ids...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		da, db := f.days(a), f.days(b)
		if (da < 0) != (db < 0) {
			return da < 0
		}
		if da != db {
			return da > db
		}
		if na, nb := f.household[a].HeadName, f.household[b].HeadName; na != nb {
			return na < nb
		}
		return string(a[:]) < string(b[:])
	})
	return out
}

// checkRows checks each row against the recount and the list's order.
func (f *demoFacts) checkRows(t *testing.T, what string, rows []query.HouseholdRow, want []uuid.UUID) {
	t.Helper()
	want = f.order(want)
	if len(rows) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(rows), len(want))
	}
	for i, r := range rows {
		if r.ID != want[i] {
			t.Fatalf("%s: row %d is %s (%s, %d days), want %s (%s, %d days)", what, i, r.HeadName, r.ID, r.DaysSince,
				f.household[want[i]].HeadName, want[i], f.days(want[i]))
		}
		h := f.household[r.ID]
		g := f.place[h.Group]
		days := f.days(r.ID)
		if r.HeadName != h.HeadName || r.Phone != h.Phone || r.Size != h.Size || r.Status != h.Status ||
			r.GroupName != g.Name || r.Village != g.Parent || r.DaysSince != days ||
			r.Overdue != (days < 0 || days >= store.DefaultOverdueDays) || r.OpenProblems != f.open[r.ID] ||
			!r.LastVisit.Equal(f.last[r.ID]) {
			t.Errorf("%s: row %+v\ndisagrees with the generator (days %d, open %d, last %v)", what, r, days, f.open[r.ID], f.last[r.ID])
		}
	}
}

func TestDemoVillage(t *testing.T) {
	d := demo.Village(1, demoNow)
	db := loadDemo(t, filepath.Join(t.TempDir(), "demo.db"), d, demoNow)
	defer db.Close()
	f := recount(d, demoNow)

	// The seed's figures, literally, and the generator's own counts.
	if d.Counts.Households != 252 || d.Counts.People != 1140 || math.Abs(d.Counts.Farmland-1592.4) > 1e-9 {
		t.Fatalf("the generator's counts are not the seed's: %+v", d.Counts)
	}
	rows, err := query.VillageHouseholds(db, d.Village.ID, demoNow)
	must(t, err)
	var all []uuid.UUID
	for _, h := range d.Households {
		all = append(all, h.ID)
	}
	f.checkRows(t, "VillageHouseholds", rows, all)
	people := 0
	for _, r := range rows {
		people += r.Size
	}
	if len(rows) != 252 || people != 1140 {
		t.Errorf("village lists %d households, %d people; want 252, 1140", len(rows), people)
	}

	// My households for the demo group cadre, recounted from the assignments.
	var mine []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, a := range d.Assignments {
		if a.Cadre != d.GroupCadre.ID {
			continue
		}
		for _, h := range d.Households {
			if ((a.Role == domain.GroupCadre && h.Group == a.Target) || (a.Role.IsPairing() && h.ID == a.Target)) && !seen[h.ID] {
				seen[h.ID] = true
				mine = append(mine, h.ID)
			}
		}
	}
	if len(mine) < 20 || len(mine) > 40 {
		t.Errorf("the group cadre has %d households; the benchmark expects about 30", len(mine))
	}
	rows, err = query.MyHouseholds(db, d.GroupCadre.ID, demoNow)
	must(t, err)
	f.checkRows(t, "MyHouseholds(group cadre)", rows, mine)

	// Each group's list, and the overview, group by group.
	o, err := query.Overview(db, d.Village.ID, demoNow)
	must(t, err)
	gaps := map[uuid.UUID]bool{}
	for _, g := range d.Gaps {
		if g.Household != nil {
			gaps[g.Household.ID] = true
		}
	}
	month := time.Date(demoNow.Year(), demoNow.Month(), 1, 0, 0, 0, 0, demoNow.Location())
	var total query.GroupStats
	groups := 0
	for _, p := range d.Places {
		if p.Level != domain.Group || p.Parent != d.Village.ID {
			continue
		}
		groups++
		want := query.GroupStats{}
		var ids []uuid.UUID
		for _, h := range d.Households {
			if h.Group != p.ID {
				continue
			}
			ids = append(ids, h.ID)
			want.Households++
			want.People += h.Size
			want.Farmland += h.Farmland
			if days := f.days(h.ID); days < 0 || days >= store.DefaultOverdueDays {
				want.Overdue++
			}
			want.OpenProblems += f.open[h.ID]
			want.AwaitingReview += f.submitted[h.ID]
			if gaps[h.ID] {
				want.Gaps++
			}
		}
		for _, v := range d.Visits {
			if f.household[v.Household].Group == p.ID && !v.At.Before(month) {
				want.VisitsThisMonth++
			}
		}
		rows, err := query.GroupHouseholds(db, p.ID, demoNow)
		must(t, err)
		f.checkRows(t, "GroupHouseholds("+p.Name+")", rows, ids)

		var got *query.GroupStats
		for i := range o.Groups {
			if o.Groups[i].Group.ID == p.ID {
				got = &o.Groups[i]
			}
		}
		if got == nil {
			t.Fatalf("no overview row for %s", p.Name)
		}
		want.Group = got.Group
		want.Farmland = math.Round(want.Farmland*100) / 100
		if *got != want {
			t.Errorf("overview of %s = %+v\nwant %+v", p.Name, *got, want)
		}
		total.Households += want.Households
		total.People += want.People
		total.Farmland += want.Farmland
		total.VisitsThisMonth += want.VisitsThisMonth
		total.Overdue += want.Overdue
		total.OpenProblems += want.OpenProblems
		total.AwaitingReview += want.AwaitingReview
		total.Gaps += want.Gaps
	}
	if groups != 9 || len(o.Groups) != 9 {
		t.Errorf("%d groups in the data, %d in the overview; want 9", groups, len(o.Groups))
	}
	var order []string
	for _, g := range o.Groups {
		order = append(order, g.Group.Name)
	}
	if want := []string{"一社", "二社", "三社", "四社", "五社", "六社", "七社", "八社", "九社"}; !reflect.DeepEqual(order, want) {
		t.Errorf("overview groups in order %v, want %v", order, want)
	}
	total.Farmland = math.Round(total.Farmland*100) / 100
	if o.Total != total || o.Total.Households != 252 || o.Total.People != 1140 || o.Total.Farmland != 1592.4 {
		t.Errorf("overview total = %+v\nwant %+v (252 households, 1,140 people, 1,592.4 mu)", o.Total, total)
	}
	if total.OpenProblems != d.Counts.OpenProblems || total.AwaitingReview != d.Counts.PlansAwaitingReview {
		t.Errorf("totals %+v disagree with the generator's counts %+v", total, d.Counts)
	}

	// The three-level check finds exactly the deliberate gaps.
	g, err := query.Assistance(db, d.Village.ID)
	must(t, err)
	var wantH, gotH, wantC, gotC []string
	for _, x := range d.Gaps {
		if x.Household != nil {
			wantH = append(wantH, x.Household.ID.String()+roles(x.Missing))
		} else {
			wantC = append(wantC, x.Cadre.ID.String()+string(rune('0'+x.Have))+string(rune('0'+x.Want)))
		}
	}
	for _, x := range g.Households {
		gotH = append(gotH, x.Household.ID.String()+roles(x.Missing))
	}
	for _, x := range g.Cadres {
		gotC = append(gotC, x.Cadre.ID.String()+string(rune('0'+x.Have))+string(rune('0'+x.Want)))
	}
	if !reflect.DeepEqual(gotH, wantH) || !reflect.DeepEqual(gotC, wantC) || len(g.Mismatches) != 0 {
		t.Errorf("Assistance:\nhouseholds %v\nwant       %v\ncadres %v\nwant   %v\nmismatches %v", gotH, wantH, gotC, wantC, g.Mismatches)
	}

	// Summary against the generator's counts.
	s, err := query.Summary(db)
	must(t, err)
	want := query.Figures{Towns: d.Counts.Towns, Villages: d.Counts.Villages, NaturalVillages: d.Counts.NaturalVillages,
		Groups: d.Counts.Groups, Households: d.Counts.Households, People: d.Counts.People, Farmland: d.Counts.Farmland,
		CadresByRank: d.Counts.Cadres, Visits: d.Counts.Visits, OpenProblems: d.Counts.OpenProblems,
		AwaitingReview: d.Counts.PlansAwaitingReview, HouseholdGaps: len(wantH), CadreGaps: len(wantC)}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("Summary = %+v\nwant      %+v", *s, want)
	}
	if s.Households != 252 || s.People != 1140 || s.Farmland != 1592.4 || s.NaturalVillages != 6 || s.Groups != 9 {
		t.Errorf("Summary lost the seed's figures: %+v", s)
	}

	// Lists for the team leader.
	ps, err := query.OpenProblems(db, d.Village.ID, demoNow)
	must(t, err)
	if len(ps) != d.Counts.OpenProblems {
		t.Errorf("%d open problems listed, the generator made %d", len(ps), d.Counts.OpenProblems)
	}
	for i := 1; i < len(ps); i++ {
		if ps[i].Problem.Created.Before(ps[i-1].Problem.Created) {
			t.Errorf("open problems not oldest first at %d", i)
		}
	}
	plans, err := query.PlansAwaitingReview(db, d.Village.ID, demoNow)
	must(t, err)
	if len(plans) != d.Counts.PlansAwaitingReview {
		t.Errorf("%d plans awaiting review, the generator made %d", len(plans), d.Counts.PlansAwaitingReview)
	}
	byCadre := map[uuid.UUID]int{}
	for _, v := range d.Visits {
		byCadre[v.Cadre]++
	}
	vs, err := query.VisitsBy(db, d.GroupCadre.ID, 0)
	must(t, err)
	if len(vs) != byCadre[d.GroupCadre.ID] || len(vs) == 0 {
		t.Errorf("VisitsBy(group cadre) = %d, the generator made %d", len(vs), byCadre[d.GroupCadre.ID])
	}
	activity, err := query.CadreActivity(db, d.Village.ID, demoNow)
	must(t, err)
	found := false
	for _, a := range activity {
		if a.Cadre.ID == d.GroupCadre.ID {
			found = true
			if len(a.Groups) != 1 || a.Groups[0].Parent != d.Village.ID {
				t.Errorf("group cadre's groups = %v", a.Groups)
			}
			over := 0
			for _, id := range mine {
				if days := f.days(id); days < 0 || days >= store.DefaultOverdueDays {
					over++
				}
			}
			if len(a.NotVisited) != over {
				t.Errorf("group cadre has %d overdue households listed, %d recounted", len(a.NotVisited), over)
			}
		}
	}
	if !found {
		t.Error("the group cadre is missing from CadreActivity")
	}

	// Search: the generator keeps every name but 王兴文 off the initials wxw.
	hits, err := query.Search(db, d.Village.ID, "wxw", demoNow, 10)
	must(t, err)
	wantNames(t, "Search(wxw) in the demo village", hits, "王兴文")
	card, err := query.Card(db, hits[0].ID, demoNow)
	must(t, err)
	if len(card.Helpers) < 4 || card.Plan == nil || len(card.Members) != card.Household.Size {
		t.Errorf("王兴文's card: %d helpers, plan %v, %d members for size %d", len(card.Helpers), card.Plan != nil,
			len(card.Members), card.Household.Size)
	}
}

func roles(rs []domain.Role) string {
	s := ""
	for _, r := range rs {
		s += "/" + string(r)
	}
	return s
}

// TestDemoTown loads a town of several villages and checks that per-village
// answers add up to the whole.
func TestDemoTown(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a town")
	}
	d := demo.Town(3, demoNow, 900)
	db := loadDemo(t, filepath.Join(t.TempDir(), "town.db"), d, demoNow)
	defer db.Close()

	s, err := query.Summary(db)
	must(t, err)
	if s.Households != d.Counts.Households || s.People != d.Counts.People || s.Villages != d.Counts.Villages ||
		s.Visits != d.Counts.Visits || s.OpenProblems != d.Counts.OpenProblems || !reflect.DeepEqual(s.CadresByRank, d.Counts.Cadres) ||
		math.Abs(s.Farmland-d.Counts.Farmland) > 0.005 {
		t.Errorf("Summary = %+v\ncounts  %+v", s, d.Counts)
	}
	villages, err := query.Places(db, domain.Village, d.Town.ID)
	must(t, err)
	if len(villages) != d.Counts.Villages || len(villages) < 3 {
		t.Fatalf("%d villages", len(villages))
	}
	global, err := query.Assistance(db, uuid.Nil)
	must(t, err)
	globalCadre := map[uuid.UUID]domain.CadreGap{}
	for _, g := range global.Cadres {
		globalCadre[g.Cadre.ID] = g
	}
	households, people, hhGaps := 0, 0, 0
	for _, v := range villages {
		rows, err := query.VillageHouseholds(db, v.ID, demoNow)
		must(t, err)
		households += len(rows)
		for _, r := range rows {
			people += r.Size
			if r.Village != v.ID {
				t.Errorf("%s listed in %s but belongs to %s", r.HeadName, v.Name, r.Village)
			}
		}
		g, err := query.Assistance(db, v.ID)
		must(t, err)
		hhGaps += len(g.Households)
		// A cadre is held to their quota over all their pairings: a
		// village's cadre gap is a gap of the whole town too.
		for _, c := range g.Cadres {
			if gc, ok := globalCadre[c.Cadre.ID]; !ok || gc.Have != c.Have {
				t.Errorf("%s: cadre gap %s %d/%d, town-wide %+v", v.Name, c.Cadre.Name, c.Have, c.Want, gc)
			}
		}
	}
	if households != d.Counts.Households || people != d.Counts.People || hhGaps != len(global.Households) {
		t.Errorf("villages add up to %d households, %d people, %d gaps; want %d, %d, %d",
			households, people, hhGaps, d.Counts.Households, d.Counts.People, len(global.Households))
	}
	hits, err := query.Search(db, uuid.Nil, "wxw", demoNow, 0)
	must(t, err)
	wantNames(t, "Search(wxw) in the town", hits, "王兴文")
}
