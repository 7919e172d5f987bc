package query_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

func TestMyHouseholds(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	rows, err := query.MyHouseholds(db, v.Li.ID, v.Now)
	must(t, err)
	// 李建国 is group cadre of 一社 (王兴文, 马玉兰, 张海军) and helper of
	// 王兴文 (listed once) and of 王小红 in 二社. Never visited first, then
	// most days since the last visit: 马玉兰 35, 王兴文 3, 王小红 1.
	wantNames(t, "MyHouseholds(李建国)", rows, "张海军", "马玉兰", "王兴文", "王小红")
	byName := map[string]query.HouseholdRow{}
	for _, r := range rows {
		byName[r.HeadName] = r
	}

	w := byName["王兴文"]
	if w.ID != v.Wang.ID || w.Group != v.G1.ID || w.GroupName != "一社" || w.Village != v.Vil.ID ||
		w.Phone != v.Wang.Phone || w.IDTail != v.Wang.IDNumber[14:] || w.Status != domain.Registered || w.Size != 4 {
		t.Errorf("row of 王兴文 = %+v", w)
	}
	if !w.LastVisit.Equal(v.DaysAgo(3)) || w.DaysSince != 3 || w.Overdue || w.OpenProblems != 1 {
		t.Errorf("王兴文: last %v days %d overdue %v problems %d; want %v, 3, false, 1",
			w.LastVisit, w.DaysSince, w.Overdue, w.OpenProblems, v.DaysAgo(3))
	}
	if z := byName["张海军"]; !z.LastVisit.IsZero() || z.DaysSince != -1 || !z.Overdue || z.OpenProblems != 0 {
		t.Errorf("张海军 (never visited) = %+v", z)
	}
	if m := byName["马玉兰"]; m.DaysSince != 35 || !m.Overdue || m.OpenProblems != 0 {
		t.Errorf("马玉兰 (35 days, problem resolved) = %+v", m)
	}
	if x := byName["王小红"]; x.GroupName != "二社" || x.DaysSince != 1 || x.Overdue || x.OpenProblems != 1 {
		t.Errorf("王小红 = %+v", x)
	}

	// The county-level leader pairs with three households and is group cadre nowhere.
	rows, err = query.MyHouseholds(db, v.Ma.ID, v.Now)
	must(t, err)
	wantNames(t, "MyHouseholds(马福林)", rows, "马玉兰", "王兴文", "王小红")
	// The time of the query moves the days: 30 days later everyone is overdue.
	rows, err = query.MyHouseholds(db, v.Ma.ID, v.Now.AddDate(0, 0, 30))
	must(t, err)
	for _, r := range rows {
		if !r.Overdue {
			t.Errorf("30 days later %s is not overdue (%d days)", r.HeadName, r.DaysSince)
		}
	}
	// A cadre with no assignment has no households; an unknown one neither.
	for _, id := range []uuid.UUID{uuid.New(), v.Office} {
		rows, err = query.MyHouseholds(db, id, v.Now)
		must(t, err)
		if len(rows) != 0 {
			t.Errorf("MyHouseholds(%s) = %v, want none", id, names(rows))
		}
	}
}

func TestGroupAndVillageHouseholds(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	rows, err := query.GroupHouseholds(db, v.G2.ID, v.Now)
	must(t, err)
	wantNames(t, "GroupHouseholds(二社)", rows, "韩东生", "王小红")
	rows, err = query.VillageHouseholds(db, v.Vil.ID, v.Now)
	must(t, err)
	wantNames(t, "VillageHouseholds(王坪村)", rows, "张海军", "韩东生", "马玉兰", "王兴文", "王小红")
	rows, err = query.VillageHouseholds(db, v.Town.ID, v.Now)
	must(t, err)
	wantNames(t, "VillageHouseholds(a town)", rows)

	// Moving a household to the other group moves it between the lists.
	h, err := db.Get(domain.KindHousehold, v.Han.ID)
	must(t, err)
	h.(*domain.Household).Group = v.G1.ID
	mustPut(t, db, v.Office, h)
	rows, err = query.GroupHouseholds(db, v.G2.ID, v.Now)
	must(t, err)
	wantNames(t, "GroupHouseholds(二社) after the move", rows, "王小红")
	rows, err = query.GroupHouseholds(db, v.G1.ID, v.Now)
	must(t, err)
	wantNames(t, "GroupHouseholds(一社) after the move", rows, "张海军", "韩东生", "马玉兰", "王兴文")
}

func TestOverview(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	o, err := query.Overview(db, v.Vil.ID, v.Now)
	must(t, err)
	if o.Village.ID != v.Vil.ID || len(o.Groups) != 2 || o.Groups[0].Group.ID != v.G1.ID || o.Groups[1].Group.ID != v.G2.ID {
		t.Fatalf("Overview groups = %+v", o.Groups)
	}
	sum := func(hs ...*domain.Household) (people int, mu float64) {
		for _, h := range hs {
			people += h.Size
			mu += h.Farmland
		}
		return people, mu
	}
	p1, f1 := sum(v.Wang, v.Mayu, v.Zhanghj)
	p2, f2 := sum(v.Wangxh, v.Han)
	want := []query.GroupStats{
		// 一社: June visits: 王兴文 on the 12th (not the one in May); overdue 张海军 and
		// 马玉兰; 王兴文's open problem and submitted plan; 张海军 has no pairing.
		{Group: o.Groups[0].Group, Households: 3, People: p1, Farmland: f1, VisitsThisMonth: 1, Overdue: 2, OpenProblems: 1, AwaitingReview: 1, Gaps: 1},
		// 二社: 王小红 visited on the 5th and the 14th; 韩东生 never (an ordinary
		// household needs no pairing); 王小红's problem was reported to the village.
		{Group: o.Groups[1].Group, Households: 2, People: p2, Farmland: f2, VisitsThisMonth: 2, Overdue: 1, OpenProblems: 1, AwaitingReview: 0, Gaps: 0},
	}
	for i := range want {
		got := o.Groups[i]
		got.Farmland = round2(got.Farmland)
		want[i].Farmland = round2(want[i].Farmland)
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("group %d = %+v\nwant %+v", i, got, want[i])
		}
	}
	total := query.GroupStats{Households: 5, People: p1 + p2, Farmland: round2(f1 + f2), VisitsThisMonth: 3, Overdue: 3, OpenProblems: 2, AwaitingReview: 1, Gaps: 1}
	if o.Total != total {
		t.Errorf("total = %+v\nwant %+v", o.Total, total)
	}
	if o.Total.Farmland != 32.5 {
		t.Errorf("farmland %v, want exactly 32.5", o.Total.Farmland)
	}

	if _, err := query.Overview(db, v.G1.ID, v.Now); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Overview of a group: %v, want not found", err)
	}
	if _, err := query.Overview(db, uuid.New(), v.Now); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Overview of an unknown village: %v, want not found", err)
	}
}

func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

func TestOpenProblemsAndPlans(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	ps, err := query.OpenProblems(db, v.Vil.ID, v.Now)
	must(t, err)
	if len(ps) != 2 || ps[0].Problem.ID != v.Problems[2].ID || ps[1].Problem.ID != v.Problems[0].ID {
		t.Fatalf("OpenProblems = %+v, want 王小红's (10 days) then 王兴文's (3 days)", ps)
	}
	if ps[0].AgeDays != 10 || ps[0].Household.HeadName != "王小红" || ps[1].AgeDays != 3 || ps[1].Household.ID != v.Wang.ID {
		t.Errorf("OpenProblems rows = %+v / %+v", ps[0], ps[1])
	}
	all, err := query.OpenProblems(db, uuid.Nil, v.Now)
	must(t, err)
	if len(all) != 2 {
		t.Errorf("OpenProblems(everywhere) = %d rows", len(all))
	}
	other, err := query.OpenProblems(db, uuid.New(), v.Now)
	must(t, err)
	if len(other) != 0 {
		t.Errorf("OpenProblems(another village) = %d rows", len(other))
	}

	// Resolving a problem takes it off the list.
	p, err := db.Get(domain.KindProblem, v.Problems[2].ID)
	must(t, err)
	pr := p.(*domain.Problem)
	pr.Status, pr.ResolvedBy, pr.ResolvedAt, pr.Resolution = domain.ProblemResolved, v.Zhao.ID, v.Now, "村里已组织维修"
	mustPut(t, db, v.Zhao.ID, pr)
	ps, err = query.OpenProblems(db, v.Vil.ID, v.Now)
	must(t, err)
	if len(ps) != 1 || ps[0].Problem.ID != v.Problems[0].ID {
		t.Errorf("after resolving: %+v", ps)
	}

	plans, err := query.PlansAwaitingReview(db, v.Vil.ID, v.Now)
	must(t, err)
	if len(plans) != 1 || plans[0].Plan.ID != v.Plan.ID || plans[0].Household.ID != v.Wang.ID ||
		plans[0].Measures != 3 || plans[0].Done != 1 {
		t.Fatalf("PlansAwaitingReview = %+v", plans)
	}
	// A second household submits its plan later: it comes second.
	p2 := &domain.Plan{Household: v.Wangxh.ID, Goal: "修缮住房", Start: v.DaysAgo(5), Status: domain.PlanDraft}
	mustPut(t, db, v.He.ID, p2)
	p2.Status = domain.PlanSubmitted
	mustPut(t, db, v.He.ID, p2)
	plans, err = query.PlansAwaitingReview(db, uuid.Nil, v.Now)
	must(t, err)
	if len(plans) != 2 || plans[0].Plan.ID != v.Plan.ID || plans[1].Plan.ID != p2.ID || plans[1].Measures != 0 {
		t.Errorf("two plans awaiting review = %+v", plans)
	}
	// Approving the first (a review and the plan's new status in one Put)
	// leaves the second.
	pl, err := db.Get(domain.KindPlan, v.Plan.ID)
	must(t, err)
	pl.(*domain.Plan).Status = domain.PlanStatusAfter(domain.VerdictApprove, domain.PlanSubmitted)
	mustPut(t, db, v.Zhao.ID, pl, &domain.Review{Plan: v.Plan.ID, Household: v.Wang.ID, Reviewer: v.Zhao.ID,
		Verdict: domain.VerdictApprove, At: v.Now})
	plans, err = query.PlansAwaitingReview(db, v.Vil.ID, v.Now)
	must(t, err)
	if len(plans) != 1 || plans[0].Plan.ID != p2.ID {
		t.Errorf("after approval = %+v", plans)
	}
}

func TestRosterAndAssistance(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	ro, err := query.Roster(db, v.Vil.ID)
	must(t, err)
	if len(ro.Households) != 5 || len(ro.Cadres) != 5 || len(ro.Assignments) != len(v.Assignments) {
		t.Errorf("Roster: %d households, %d cadres, %d assignments; want 5, 5, %d",
			len(ro.Households), len(ro.Cadres), len(ro.Assignments), len(v.Assignments))
	}
	all, err := query.Roster(db, uuid.Nil)
	must(t, err)
	if len(all.Households) != 5 || len(all.Cadres) != 5 || len(all.Assignments) != len(v.Assignments) {
		t.Errorf("Roster(everything): %d, %d, %d", len(all.Households), len(all.Cadres), len(all.Assignments))
	}

	g, err := query.Assistance(db, v.Vil.ID)
	must(t, err)
	if len(g.Households) != 1 || g.Households[0].Household.ID != v.Zhanghj.ID || len(g.Households[0].Missing) != 3 {
		t.Errorf("household gaps = %+v, want 张海军 missing three levels", g.Households)
	}
	if len(g.Cadres) != 1 || g.Cadres[0].Cadre.ID != v.Zhao.ID || g.Cadres[0].Have != 1 || g.Cadres[0].Want != 2 {
		t.Errorf("cadre gaps = %+v, want 赵德明 1 of 2", g.Cadres)
	}
	if len(g.Mismatches) != 0 {
		t.Errorf("mismatches = %+v", g.Mismatches)
	}

	// The quotas are settings: with a section quota of 1, 赵德明 is no gap.
	s, err := db.Settings()
	must(t, err)
	s.Quotas.Section = 1
	must(t, db.SetSettings(s))
	g, err = query.Assistance(db, v.Vil.ID)
	must(t, err)
	if len(g.Cadres) != 0 {
		t.Errorf("with section quota 1: cadre gaps %+v", g.Cadres)
	}

	as, err := query.Assignments(db, v.Li.ID)
	must(t, err)
	roles := map[domain.Role]int{}
	for _, a := range as {
		roles[a.Role]++
	}
	if len(as) != 3 || roles[domain.GroupCadre] != 1 || roles[domain.Helper] != 2 {
		t.Errorf("Assignments(李建国) = %v", roles)
	}
	// Deleting an assignment removes it, and its household gains a gap.
	for _, a := range as {
		if a.Role == domain.Helper && a.Target == v.Wangxh.ID {
			must(t, db.Delete(v.Office, domain.KindAssignment, a.ID))
		}
	}
	as, err = query.Assignments(db, v.Li.ID)
	must(t, err)
	if len(as) != 2 {
		t.Errorf("after deleting one: %d assignments", len(as))
	}
	g, err = query.Assistance(db, uuid.Nil)
	must(t, err)
	if len(g.Households) != 2 {
		t.Errorf("after deleting 王小红's helper: household gaps %+v", g.Households)
	}
}

func TestPlacesAndCadres(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	// Ten more groups, written out of order, to check the numeric order.
	for _, n := range []string{"十社", "三社", "十二社", "九社", "五社", "四社", "八社", "六社", "七社", "十一社"} {
		mustPut(t, db, v.Office, &domain.Place{Level: domain.Group, Name: n, Parent: v.Vil.ID})
	}
	gs, err := query.Places(db, domain.Group, v.Vil.ID)
	must(t, err)
	var got []string
	for _, g := range gs {
		got = append(got, g.Name)
	}
	want := []string{"一社", "二社", "三社", "四社", "五社", "六社", "七社", "八社", "九社", "十社", "十一社", "十二社"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Places(group) = %v\nwant %v", got, want)
	}
	nv, err := query.Places(db, domain.NaturalVillage, v.Vil.ID)
	must(t, err)
	if len(nv) != 2 || nv[0].Name != "大湾" || nv[1].Name != "阳洼" {
		t.Errorf("natural villages = %v", nv)
	}
	all, err := query.Places(db, domain.Group, uuid.Nil)
	must(t, err)
	if len(all) != 12 {
		t.Errorf("Places(group, everywhere) = %d", len(all))
	}
	cities, err := query.Places(db, domain.City, uuid.Nil)
	must(t, err)
	if len(cities) != 1 || cities[0].ID != v.City.ID {
		t.Errorf("cities = %v", cities)
	}

	cs, err := query.Cadres(db)
	must(t, err)
	got = nil
	for _, c := range cs {
		got = append(got, c.Name)
	}
	if want := []string{"何秀英", "张志明", "李建国", "赵德明", "马福林"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Cadres() = %v, want %v", got, want)
	}
}

func TestCadreActivityAndVisitsBy(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)

	rows, err := query.CadreActivity(db, v.Vil.ID, v.Now)
	must(t, err)
	type fact struct {
		groups     []string
		last       time.Time
		month      int
		notVisited []string
	}
	got := map[string]fact{}
	var order []string
	for _, r := range rows {
		var gs []string
		for _, g := range r.Groups {
			gs = append(gs, g.Name)
		}
		got[r.Cadre.Name] = fact{gs, r.LastVisit, r.VisitsThisMonth, names(r.NotVisited)}
		order = append(order, r.Cadre.Name)
	}
	if want := []string{"何秀英", "张志明", "李建国", "赵德明", "马福林"}; !reflect.DeepEqual(order, want) {
		t.Errorf("CadreActivity order = %v, want %v", order, want)
	}
	want := map[string]fact{
		"何秀英": {[]string{"二社"}, v.DaysAgo(10), 1, []string{"韩东生", "马玉兰"}},
		"张志明": {nil, time.Time{}, 0, []string{"马玉兰"}},
		"李建国": {[]string{"一社"}, v.DaysAgo(3), 1, []string{"张海军", "马玉兰"}},
		"赵德明": {nil, v.DaysAgo(1), 1, []string{}},
		"马福林": {nil, time.Time{}, 0, []string{"马玉兰"}},
	}
	for name, w := range want {
		g := got[name]
		if !reflect.DeepEqual(g.groups, w.groups) || !g.last.Equal(w.last) || g.month != w.month ||
			!reflect.DeepEqual(append([]string{}, g.notVisited...), w.notVisited) {
			t.Errorf("%s: %+v\nwant %+v", name, g, w)
		}
	}

	vs, err := query.VisitsBy(db, v.Li.ID, 0)
	must(t, err)
	if len(vs) != 2 || vs[0].ID != v.Visits[1].ID || vs[1].ID != v.Visits[0].ID {
		t.Errorf("VisitsBy(李建国) = %v, want newest first", vs)
	}
	vs, err = query.VisitsBy(db, v.Li.ID, 1)
	must(t, err)
	if len(vs) != 1 || vs[0].ID != v.Visits[1].ID {
		t.Errorf("VisitsBy(李建国, 1) = %v", vs)
	}
}

func TestSummary(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	s, err := query.Summary(db)
	must(t, err)
	people, mu := 0, 0.0
	for _, h := range v.Households() {
		people += h.Size
		mu += h.Farmland
	}
	want := query.Figures{Towns: 1, Villages: 1, NaturalVillages: 2, Groups: 2, Households: 5, People: people,
		Farmland: round2(mu), CadresByRank: map[domain.Rank]int{domain.RankOther: 2, domain.RankCounty: 1, domain.RankSection: 2},
		Visits: len(v.Visits), OpenProblems: 2, AwaitingReview: 1, HouseholdGaps: 1, CadreGaps: 1}
	if !reflect.DeepEqual(*s, want) {
		t.Errorf("Summary = %+v\nwant %+v", *s, want)
	}
}

func TestSettings(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	s, err := db.Settings()
	must(t, err)
	if !reflect.DeepEqual(s, store.DefaultSettings()) || s.OverdueDays != 30 || !reflect.DeepEqual(s.Quotas, domain.DefaultQuotas()) {
		t.Fatalf("default settings = %+v", s)
	}
	for _, bad := range []store.Settings{
		{OverdueDays: 0, Quotas: domain.DefaultQuotas()},
		{OverdueDays: 366, Quotas: domain.DefaultQuotas()},
		{OverdueDays: 30, Quotas: domain.Quotas{County: -1}},
		{OverdueDays: 30, Quotas: domain.Quotas{County: 3, Statuses: []domain.Status{"rich"}}},
	} {
		err := db.SetSettings(bad)
		var e *domain.Error
		if !errors.As(err, &e) || e.Code != domain.EINVALID || e.Zh == "" || e.En == "" || e.Zh == e.En {
			t.Errorf("SetSettings(%+v) = %v, want an invalid-input error in Chinese and English", bad, err)
		}
	}
	if got, _ := db.Settings(); !reflect.DeepEqual(got, store.DefaultSettings()) {
		t.Errorf("after rejected settings: %+v", got)
	}

	// 马玉兰 was visited 35 days ago: overdue at 30 days, not at 40.
	must(t, db.SetSettings(store.Settings{OverdueDays: 40, Quotas: domain.DefaultQuotas()}))
	rows, err := query.MyHouseholds(db, v.He.ID, v.Now)
	must(t, err)
	for _, r := range rows {
		if r.HeadName == "马玉兰" && r.Overdue {
			t.Errorf("马玉兰 overdue with OverdueDays 40 (%d days)", r.DaysSince)
		}
	}
	// The boundary: 35 days since the visit is overdue at 35, not at 36.
	for _, c := range []struct {
		days    int
		overdue bool
	}{{35, true}, {36, false}} {
		must(t, db.SetSettings(store.Settings{OverdueDays: c.days, Quotas: domain.DefaultQuotas()}))
		rows, err := query.MyHouseholds(db, v.He.ID, v.Now)
		must(t, err)
		for _, r := range rows {
			if r.HeadName == "马玉兰" && (r.DaysSince != 35 || r.Overdue != c.overdue) {
				t.Errorf("OverdueDays %d: 马玉兰 %d days, overdue %v; want 35, %v", c.days, r.DaysSince, r.Overdue, c.overdue)
			}
		}
	}
	must(t, db.SetSettings(store.Settings{OverdueDays: 40, Quotas: domain.DefaultQuotas()}))

	// Settings survive a reopen.
	path := db.Path()
	db.Close()
	db2 := mustOpenAt(t, path, fixtureNow)
	if s, _ := db2.Settings(); s.OverdueDays != 40 {
		t.Errorf("after reopen OverdueDays = %d", s.OverdueDays)
	}
}

func TestDrafts(t *testing.T) {
	db := mustOpen(t)
	buildVillage(t, db, fixtureNow)
	seq, _ := db.LastSeq()

	d, err := db.Draft("visit/new")
	if d != nil || err != nil {
		t.Fatalf("Draft of nothing = %q, %v", d, err)
	}
	buf := []byte(`{"notes":"母亲慢性病"}`)
	must(t, db.SaveDraft("visit/new", buf))
	buf[2] = 'X' // the store keeps its own copy
	d, err = db.Draft("visit/new")
	must(t, err)
	if string(d) != `{"notes":"母亲慢性病"}` {
		t.Errorf("Draft = %q", d)
	}
	must(t, db.SaveDraft("visit/new", []byte("v2")))
	if d, _ = db.Draft("visit/new"); string(d) != "v2" {
		t.Errorf("overwritten draft = %q", d)
	}
	if err := db.SaveDraft("", []byte("x")); err == nil {
		t.Error("a draft without a key was saved")
	}
	must(t, db.DeleteDraft("visit/new"))
	must(t, db.DeleteDraft("never saved"))
	if d, _ = db.Draft("visit/new"); d != nil {
		t.Errorf("deleted draft = %q", d)
	}
	if after, _ := db.LastSeq(); after != seq {
		t.Errorf("drafts wrote to the log: %d -> %d", seq, after)
	}
}

// TestPutDraft: the records a draft becomes and the draft's removal are one
// transaction — a bad record leaves the draft, a good one removes it.
func TestPutDraft(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	key := "visit/" + v.Wang.ID.String()
	must(t, db.SaveDraft(key, []byte(`{"notes":"家中种植花椒3亩"}`)))

	bad := &domain.Visit{Household: v.Wang.ID, Cadre: v.Li.ID, At: v.DaysAgo(0), Type: domain.VisitRoutine}
	if err := db.PutDraft(v.Li.ID, key, bad); err == nil {
		t.Fatal("a visit without notes was saved")
	}
	if d, _ := db.Draft(key); d == nil {
		t.Fatal("a failed save removed the draft")
	}

	good := &domain.Visit{Household: v.Wang.ID, Cadre: v.Li.ID, At: v.DaysAgo(0), Type: domain.VisitRoutine, Notes: "家中种植花椒3亩"}
	must(t, db.PutDraft(v.Li.ID, key, good))
	if d, _ := db.Draft(key); d != nil {
		t.Fatalf("the draft outlived its visit: %q", d)
	}
	if _, err := db.Get(domain.KindVisit, good.ID); err != nil {
		t.Fatalf("the visit was not saved: %v", err)
	}
}

// TestDeviceSettings (issue 10, finding 7): the language, the device's name
// and the theme are kept in the device's own store, so two apps on one
// machine do not share them.
func TestDeviceSettings(t *testing.T) {
	a, b := mustOpen(t), mustOpen(t)
	s := store.DefaultSettings()
	s.Language, s.DeviceName, s.Theme = "en", "王兴文的手机", "dark"
	must(t, a.SetSettings(s))
	got, err := a.Settings()
	must(t, err)
	if got.Language != "en" || got.DeviceName != "王兴文的手机" || got.Theme != "dark" {
		t.Errorf("settings read back: %+v", got)
	}
	other, err := b.Settings()
	must(t, err)
	if other.Language != "" || other.DeviceName != "" || other.Theme != "" {
		t.Errorf("another store has %+v", other)
	}
	for _, bad := range []func(*store.Settings){
		func(s *store.Settings) { s.Theme = "pink" },
		func(s *store.Settings) { s.DeviceName = strings.Repeat("名", 65) },
	} {
		s := store.DefaultSettings()
		bad(&s)
		if err := a.SetSettings(s); domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("SetSettings(%+v) = %v", s, err)
		}
	}
}
