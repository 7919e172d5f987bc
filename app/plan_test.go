package app_test

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestPlanMeasures: a cadre makes a plan for a household without one, adds a
// measure (the form says what is wrong until it is right), moves its progress
// and edits it; every step is in the store.
func TestPlanMeasures(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	idx := -1
	for i, r := range a.Households.Rows() {
		if must(query.Card(d.db, r.ID, demoNow)).Plan == nil {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("every household of the cadre has a plan")
	}
	household := a.Households.Rows()[idx].ID
	a.Households.List.Select(idx)
	a.Wait()
	test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
	a.Wait()
	p := a.Nav().Top().(*app.PlanScreen)
	if p.Status.Text != "尚未制定一户一策" || p.SaveGoal.Text != "制定计划" || !p.AddMeasure.Disabled() {
		t.Fatalf("a household without a plan shows %q, %q", p.Status.Text, p.SaveGoal.Text)
	}
	test.Type(p.Goal, "两年内人均纯收入达到 8000 元")
	test.Tap(p.SaveGoal)
	a.Wait()
	plan := must(query.Card(d.db, household, demoNow)).Plan
	if plan == nil || plan.Goal != "两年内人均纯收入达到 8000 元" || plan.Status != domain.PlanDraft {
		t.Fatalf("stored plan: %+v", plan)
	}
	if !strings.HasPrefix(p.Status.Text, "草稿") || !p.Submit.Visible() || p.AddMeasure.Disabled() {
		t.Errorf("after creating the plan: %q, submit shown %v", p.Status.Text, p.Submit.Visible())
	}

	test.Tap(p.AddMeasure)
	a.Wait()
	f := a.Nav().Top().(*app.MeasureForm)
	test.Tap(f.Save)
	a.Wait()
	if got := labelText(t, f.Error); got != "请选择措施类型" {
		t.Errorf("no kind: %q", got)
	}
	f.Kind.SetSelected("种植养殖")
	test.Tap(f.Save)
	a.Wait()
	if got := labelText(t, f.Error); got != "请填写措施内容" {
		t.Errorf("no description: %q", got)
	}
	test.Type(f.Description, "散养土鸡 50 只")
	test.Type(f.Target, "年增收 3000 元")
	early := plan.Start.AddDate(0, 0, -10)
	f.Due.SetDate(&early)
	test.Tap(f.Save)
	a.Wait()
	want := fmt.Sprintf("完成期限（%s）不能早于计划开始日期（%s）", early.Format("2006-01-02"), plan.Start.Format("2006-01-02"))
	if got := labelText(t, f.Error); got != want {
		t.Errorf("due before the plan: %q, want %q", got, want)
	}
	due := demoNow.AddDate(0, 3, 0)
	f.Due.SetDate(&due)
	test.Tap(f.Save)
	a.Wait()
	if a.Nav().Top() != p {
		t.Fatalf("after saving the measure the app shows %T", a.Nav().Top())
	}
	c := must(query.Card(d.db, household, demoNow))
	if len(c.Measures) != 1 {
		t.Fatalf("%d measures stored", len(c.Measures))
	}
	m := c.Measures[0]
	if m.Type != domain.MeasureFarming || m.Description != "散养土鸡 50 只" || m.Target != "年增收 3000 元" ||
		m.Owner != e.data.GroupCadre.ID || m.Progress != domain.NotStarted || m.Plan != plan.ID {
		t.Errorf("stored measure: %+v", m)
	}
	if got := screenText(p.Measures); !strings.Contains(got, "散养土鸡 50 只") {
		t.Errorf("the plan does not list the measure:\n%s", got)
	}

	p.Progress[0].SetSelected("进行中")
	a.Wait()
	if got := must(query.Card(d.db, household, demoNow)).Measures[0].Progress; got != domain.InProgress {
		t.Errorf("progress after moving it: %s", got)
	}

	test.Tap(p.Edit[0])
	a.Wait()
	f = a.Nav().Top().(*app.MeasureForm)
	if f.Description.Text != "散养土鸡 50 只" || f.Progress.Selected != "进行中" {
		t.Errorf("the edit form shows %q, %q", f.Description.Text, f.Progress.Selected)
	}
	f.Target.SetText("年增收 5000 元")
	test.Tap(f.Save)
	a.Wait()
	ms := must(query.Card(d.db, household, demoNow)).Measures
	if len(ms) != 1 || ms[0].Target != "年增收 5000 元" || ms[0].Progress != domain.InProgress {
		t.Errorf("after editing: %+v", ms)
	}
	if a.Bar.Status.Pending == 0 {
		t.Error("the plan's changes are not waiting to sync")
	}
}

// TestCadreActivityOpensHouseholds: a cadre's row opens the households they
// have not visited lately.
func TestCadreActivityOpensHouseholds(t *testing.T) {
	e := newEnv(t)
	a, d, _ := leaderOverview(t, e)
	a.Menu.List.Select(5)
	a.Wait()
	list := a.Nav().Top().(*app.ListScreen)
	rows := must(query.CadreActivity(d.db, e.data.Village.ID, demoNow))
	for i, r := range rows {
		if len(r.NotVisited) == 0 {
			continue
		}
		list.Open(i)
		a.Wait()
		h, ok := a.Nav().Top().(*app.Households)
		if !ok {
			t.Fatalf("the row of %s opens %T", r.Cadre.Name, a.Nav().Top())
		}
		if len(h.Rows()) != len(r.NotVisited) {
			t.Errorf("%s: %d households listed, %d not visited lately", r.Cadre.Name, len(h.Rows()), len(r.NotVisited))
		}
		for _, row := range h.Rows() {
			if !row.Overdue {
				t.Errorf("%s is listed but not overdue", row.HeadName)
			}
		}
		return
	}
	t.Fatal("no cadre has households not visited lately")
}

// TestPlanSaveErrorStays: a save the store refuses (the household got a plan
// from another device meanwhile) says why, and the reload that follows the
// save shows the plan that exists without hiding the reason.
func TestPlanSaveErrorStays(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	idx := -1
	for i, r := range a.Households.Rows() {
		if must(query.Card(d.db, r.ID, demoNow)).Plan == nil {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("every household of the cadre has a plan")
	}
	household := a.Households.Rows()[idx].ID
	a.Households.List.Select(idx)
	a.Wait()
	test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
	a.Wait()
	p := a.Nav().Top().(*app.PlanScreen)

	other := &domain.Plan{Household: household, Start: demoNow, Status: domain.PlanDraft, Goal: "另一台设备制定的计划"}
	if err := d.db.Put(e.data.GroupCadre.ID, other); err != nil {
		t.Fatal(err)
	}
	test.Type(p.Goal, "两年内人均纯收入达到 8000 元")
	test.Tap(p.SaveGoal)
	a.Wait()
	if !p.Error.Visible() || !strings.Contains(p.Error.Text, "已有一户一策计划") {
		t.Errorf("after a refused save the error line shows %v %q", p.Error.Visible(), p.Error.Text)
	}
	if !strings.HasPrefix(p.Status.Text, "草稿") {
		t.Errorf("the reload does not show the plan that exists: %q", p.Status.Text)
	}
}

// TestApprovedPlanGoalBackToReview: a cadre who changes an approved plan's
// goal sends it back to review (the upstream refuses it otherwise); saving
// the same goal again leaves it approved.
func TestApprovedPlanGoalBackToReview(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	idx := -1
	var plan *domain.Plan
	for i, r := range a.Households.Rows() {
		if pl := must(query.Card(d.db, r.ID, demoNow)).Plan; pl != nil {
			idx, plan = i, pl
			break
		}
	}
	if idx < 0 {
		t.Fatal("no household of the cadre has a plan")
	}
	approved := *plan
	approved.Status = domain.PlanApproved
	if err := d.db.Put(e.data.GroupCadre.ID, &approved); err != nil {
		t.Fatal(err)
	}
	a.Households.List.Select(idx)
	a.Wait()
	test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
	a.Wait()
	p := a.Nav().Top().(*app.PlanScreen)
	test.Tap(p.SaveGoal) // the same goal: still approved
	a.Wait()
	if got := must(query.Card(d.db, plan.Household, demoNow)).Plan; got.Status != domain.PlanApproved {
		t.Fatalf("saving the approved goal unchanged made it %s", got.Status)
	}
	p.Goal.SetText("")
	test.Type(p.Goal, "改为发展花椒种植")
	test.Tap(p.SaveGoal)
	a.Wait()
	if got := must(query.Card(d.db, plan.Household, demoNow)).Plan; got.Goal != "改为发展花椒种植" || got.Status != domain.PlanSubmitted {
		t.Errorf("an approved plan with a new goal is %q, %s; want back in review", got.Goal, got.Status)
	}

	// Approved again: progress is recorded without review; a changed
	// measure sends it back.
	approved = *must(query.Card(d.db, plan.Household, demoNow)).Plan
	approved.Status = domain.PlanApproved
	if err := d.db.Put(e.data.TeamLeader.ID, &approved); err != nil {
		t.Fatal(err)
	}
	a.Nav().Pop()
	a.Wait()
	test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
	a.Wait()
	p = a.Nav().Top().(*app.PlanScreen)
	if len(p.Edit) == 0 {
		test.Tap(p.AddMeasure)
		a.Wait()
		f := a.Nav().Top().(*app.MeasureForm)
		f.Kind.SetSelected("种植养殖")
		test.Type(f.Description, "花椒 2 亩")
		test.Tap(f.Save)
		a.Wait()
		if got := must(query.Card(d.db, plan.Household, demoNow)).Plan.Status; got != domain.PlanSubmitted {
			t.Fatalf("a new measure on an approved plan left it %s", got)
		}
		return
	}
	p.Progress[0].SetSelected("已完成")
	a.Wait()
	if got := must(query.Card(d.db, plan.Household, demoNow)).Plan.Status; got != domain.PlanApproved {
		t.Errorf("recording progress made the plan %s", got)
	}
	test.Tap(p.Edit[0])
	a.Wait()
	f := a.Nav().Top().(*app.MeasureForm)
	f.Target.SetText("年增收 6000 元")
	test.Tap(f.Save)
	a.Wait()
	if got := must(query.Card(d.db, plan.Household, demoNow)).Plan.Status; got != domain.PlanSubmitted {
		t.Errorf("a changed measure left the approved plan %s", got)
	}
}
