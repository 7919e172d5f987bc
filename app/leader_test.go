package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// overview opens the app as the demo team leader on a tablet and returns the
// overview it lands on.
func leaderOverview(t *testing.T, e *env) (*app.App, *device, *app.Overview) {
	t.Helper()
	a, d := e.enrolled("tablet", e.data.TeamLeader.ID, tablet)
	if !a.Leader() || a.Menu == nil {
		t.Fatal("the team leader does not get the leader's screens")
	}
	ov, ok := a.Nav().Top().(*app.Overview)
	if !ok {
		t.Fatalf("the leader lands on %T, want the overview", a.Nav().Top())
	}
	return a, d, ov
}

// TestOverview: the overview shows the store's numbers by group, and each
// number opens its list, whose length is that number.
func TestOverview(t *testing.T) {
	e := newEnv(t)
	a, d, ov := leaderOverview(t, e)
	want, err := query.Overview(d.db, e.data.Village.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	rows := ov.Rows()
	if len(rows) != len(want.Groups)+1 {
		t.Fatalf("the overview has %d rows, want %d groups and the total", len(rows), len(want.Groups))
	}
	if rows[len(rows)-1] != want.Total || want.Total.Households != e.data.Counts.Households {
		t.Errorf("total = %+v, want %+v (%d households)", rows[len(rows)-1], want.Total, e.data.Counts.Households)
	}
	if !strings.Contains(ov.Title(), e.data.Village.Name) {
		t.Errorf("title %q does not name the village", ov.Title())
	}
	// One group with something in every column, else the first.
	g := 0
	for i, s := range want.Groups {
		if s.Overdue > 0 && s.OpenProblems > 0 && s.AwaitingReview > 0 && s.Gaps > 0 {
			g = i
			break
		}
	}
	stats := want.Groups[g]
	for _, tc := range []struct {
		name string
		col  int
		want int
	}{
		{"households", 1, stats.Households},
		{"overdue", 4, stats.Overdue},
		{"open problems", 5, stats.OpenProblems},
		{"plans awaiting review", 6, stats.AwaitingReview},
		{"gaps", 7, stats.Gaps},
	} {
		ov.Table.Select(widgetCell(g, tc.col))
		a.Wait()
		got := -1
		switch s := a.Nav().Top().(type) {
		case *app.Households:
			got = len(s.Rows())
		case *app.ListScreen:
			got = len(s.Items)
		default:
			t.Fatalf("%s: the number opens %T", tc.name, s)
		}
		if got != tc.want {
			t.Errorf("%s of %s: the list has %d rows, the overview says %d", tc.name, stats.Group.Name, got, tc.want)
		}
		test.Tap(a.Nav().Back)
		a.Wait()
	}
	// Visits this month opens the households visited this month.
	ov.Table.Select(widgetCell(len(rows)-1, 3))
	a.Wait()
	visited := a.Nav().Top().(*app.Households)
	for _, r := range visited.Rows() {
		if r.LastVisit.Before(demoNow.AddDate(0, 0, -demoNow.Day())) {
			t.Errorf("%s was last visited %s, not this month", r.HeadName, r.LastVisit)
		}
	}
	if want.Total.VisitsThisMonth > 0 && len(visited.Rows()) == 0 {
		t.Error("visits this month, but no household visited this month")
	}
}

// TestPlanSignOff: a cadre submits a plan, the leader signs it off with a
// comment, and the cadre's phone shows both after a sync.
func TestPlanSignOff(t *testing.T) {
	e := newEnv(t)
	cad, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	// The cadre's first household with a plan not yet submitted or approved.
	var row query.HouseholdRow
	var planOf *query.HouseholdCard
	for _, r := range cad.Households.Rows() {
		c, err := query.Card(e.db, r.ID, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		if c.Plan != nil && c.Plan.Status != domain.PlanSubmitted && c.Plan.Status != domain.PlanApproved {
			row, planOf = r, c
			break
		}
	}
	if planOf == nil {
		t.Fatal("no household of the cadre has a plan to submit")
	}
	openPlan := func(a *app.App) *app.PlanScreen {
		t.Helper()
		for i, r := range a.Households.Rows() {
			if r.ID == row.ID {
				a.Households.List.Select(i)
			}
		}
		a.Wait()
		test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
		a.Wait()
		return a.Nav().Top().(*app.PlanScreen)
	}
	p := openPlan(cad)
	if !p.Submit.Visible() {
		t.Fatalf("a %s plan cannot be submitted", planOf.Plan.Status)
	}
	test.Tap(p.Submit)
	cad.Wait()
	if got := p.Status.Text; !strings.HasPrefix(got, "待审核") {
		t.Errorf("after submitting, the plan says %q", got)
	}
	test.Tap(cad.Bar.Sync)
	cad.Wait()

	lead, _, _ := leaderOverview(t, e)
	lead.Menu.List.Select(1) // 待审核计划
	lead.Wait()
	plans := lead.Nav().Top().(*app.ListScreen)
	idx := -1
	for i, it := range plans.Items {
		if strings.HasPrefix(it.Title, row.HeadName+" · ") {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("the submitted plan of %s is not awaiting review on the leader's tablet", row.HeadName)
	}
	plans.Open(idx)
	lead.Wait()
	rv := lead.Nav().Top().(*app.Review)
	if got := screenText(rv.Body); !strings.Contains(got, planOf.Plan.Goal) {
		t.Errorf("the review does not show the plan's goal %q", planOf.Plan.Goal)
	}
	test.Type(rv.Comment, "措施具体可行，同意。")
	test.Tap(rv.Approve)
	lead.Wait()
	if rv.Error.Visible() {
		t.Fatalf("sign off: %s", rv.Error.Text)
	}
	if lead.Nav().Top() != plans {
		t.Errorf("after signing off the leader sees %T", lead.Nav().Top())
	}
	for _, it := range plans.Items {
		if strings.HasPrefix(it.Title, row.HeadName+" · ") {
			t.Error("the signed-off plan is still awaiting review")
		}
	}
	test.Tap(lead.Bar.Sync)
	lead.Wait()
	if lead.Bar.Status.Pending != 0 || lead.Bar.Error.Visible() {
		t.Fatalf("the leader's sync left %d waiting: %s", lead.Bar.Status.Pending, lead.Bar.Error.Text)
	}

	test.Tap(cad.Bar.Sync)
	cad.Wait()
	// The plan screen in view reloads after the sync.
	if got := p.Status.Text; !strings.HasPrefix(got, "已审核") {
		t.Errorf("after the cadre's sync the plan says %q, want 已审核", got)
	}
	if got := screenText(p.Reviews); !strings.Contains(got, "措施具体可行，同意。") || !strings.Contains(got, "审核通过") {
		t.Errorf("the cadre does not see the leader's review:\n%s", got)
	}
	if p.Submit.Visible() {
		t.Error("a signed-off plan can be submitted again")
	}
}

// TestResolveProblem: the leader resolves the oldest open problem with a note;
// without a note the screen says one is needed.
func TestResolveProblem(t *testing.T) {
	e := newEnv(t)
	a, d, _ := leaderOverview(t, e)
	a.Menu.List.Select(2) // 待解决问题
	a.Wait()
	list := a.Nav().Top().(*app.ListScreen)
	want, err := query.OpenProblems(d.db, e.data.Village.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != len(want) || len(want) == 0 {
		t.Fatalf("the list shows %d problems, the store has %d", len(list.Items), len(want))
	}
	if list.Items[0].Title != want[0].Problem.Text {
		t.Errorf("first problem %q, want the oldest %q", list.Items[0].Title, want[0].Problem.Text)
	}
	list.Open(0)
	a.Wait()
	r := a.Nav().Top().(*app.Resolve)
	test.Tap(r.Submit)
	a.Wait()
	if got := labelText(t, r.Error); got != "请填写处理结果" {
		t.Errorf("resolving without a note: %q", got)
	}
	test.Type(r.Resolution, "已协调镇水务站修复管道。")
	test.Tap(r.Submit)
	a.Wait()
	if a.Nav().Top() != list {
		t.Fatalf("after resolving the leader sees %T", a.Nav().Top())
	}
	if len(list.Items) != len(want)-1 {
		t.Errorf("the list has %d problems after resolving one of %d", len(list.Items), len(want))
	}
	rec, err := d.db.Get(domain.KindProblem, want[0].Problem.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := rec.(*domain.Problem); p.Status != domain.ProblemResolved || p.Resolution != "已协调镇水务站修复管道。" || p.ResolvedBy != e.data.TeamLeader.ID {
		t.Errorf("stored problem: %+v", p)
	}
	// The move is kept as the problem's history: one step, written with it.
	var steps []*domain.Step
	if err := d.db.Each(domain.KindStep, func(r domain.Record) error {
		if s := r.(*domain.Step); s.Problem == want[0].Problem.ID {
			steps = append(steps, s)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(steps) != 1 || steps[0].From != want[0].Problem.Status || steps[0].To != domain.ProblemResolved ||
		steps[0].By != e.data.TeamLeader.ID || steps[0].Note != "已协调镇水务站修复管道。" {
		t.Errorf("steps of the resolved problem: %+v", steps)
	}
}

// TestGapsAndCadres: the gap list names the demo's deliberate gaps; the cadre
// list has a row per cadre, in name order, without scores.
func TestGapsAndCadres(t *testing.T) {
	e := newEnv(t)
	a, d, _ := leaderOverview(t, e)
	a.Menu.List.Select(3)
	a.Wait()
	gaps := a.Nav().Top().(*app.ListScreen)
	text := ""
	for _, it := range gaps.Items {
		text += it.Title + "\n" + it.Detail + "\n"
	}
	for _, g := range e.data.Gaps {
		name := ""
		if g.Household != nil {
			name = g.Household.HeadName
		} else {
			name = g.Cadre.Name
		}
		if !strings.Contains(text, name) {
			t.Errorf("gap of %s is not listed", name)
		}
	}
	a.Menu.List.Select(5)
	a.Wait()
	cadres := a.Nav().Top().(*app.ListScreen)
	want, err := query.CadreActivity(d.db, e.data.Village.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(cadres.Items) != len(want) || len(want) == 0 {
		t.Fatalf("%d cadres listed, the store has %d", len(cadres.Items), len(want))
	}
	for i, r := range want {
		if !strings.HasPrefix(cadres.Items[i].Title, r.Cadre.Name) {
			t.Errorf("row %d is %q, want %s", i, cadres.Items[i].Title, r.Cadre.Name)
		}
		if n := len(r.NotVisited); n > 0 && !strings.Contains(cadres.Items[i].Detail, "户近期未走访") {
			t.Errorf("%s has %d households not visited lately, the row says %q", r.Cadre.Name, n, cadres.Items[i].Detail)
		}
	}
}

// TestReviewVerdicts: sending back needs a comment; a comment alone keeps the
// plan awaiting review; sending back with a comment returns it. Each review and
// the plan's status are stored together.
func TestReviewVerdicts(t *testing.T) {
	e := newEnv(t)
	a, d, _ := leaderOverview(t, e)
	a.Menu.List.Select(1)
	a.Wait()
	plans := a.Nav().Top().(*app.ListScreen)
	if len(plans.Items) == 0 {
		t.Fatal("no plan awaits review")
	}
	plans.Open(0)
	a.Wait()
	rv := a.Nav().Top().(*app.Review)
	plan := rv.Data.Plan
	before := len(rv.Data.Reviews)

	test.Tap(rv.Return)
	a.Wait()
	if got := labelText(t, rv.Error); got != "请填写意见" {
		t.Errorf("send back without a comment: %q", got)
	}

	test.Type(rv.Comment, "请补充外出务工的具体单位。")
	test.Tap(rv.Note)
	a.Wait()
	c := must(query.Card(d.db, plan.Household, demoNow))
	if c.Plan.Status != domain.PlanSubmitted || len(c.Reviews) != before+1 || c.Reviews[0].Verdict != domain.VerdictComment {
		t.Errorf("after a comment: plan %s, %d reviews", c.Plan.Status, len(c.Reviews))
	}

	plans.Open(0)
	a.Wait()
	rv = a.Nav().Top().(*app.Review)
	test.Type(rv.Comment, "措施与家庭劳动力不符，请修改。")
	test.Tap(rv.Return)
	a.Wait()
	c = must(query.Card(d.db, plan.Household, demoNow))
	returned := false
	for _, r := range c.Reviews { // the two reviews share the test's fixed clock: find it by its text
		returned = returned || r.Verdict == domain.VerdictReturn && r.Comment == "措施与家庭劳动力不符，请修改。" && r.Reviewer == e.data.TeamLeader.ID
	}
	if c.Plan.Status != domain.PlanReturned || len(c.Reviews) != before+2 || !returned {
		t.Errorf("after sending back: plan %s, %d reviews, the return stored: %v", c.Plan.Status, len(c.Reviews), returned)
	}
	for _, it := range plans.Items {
		if strings.HasPrefix(it.Title, c.Household.HeadName+" · ") {
			t.Error("a plan sent back is still awaiting review")
		}
	}
}
