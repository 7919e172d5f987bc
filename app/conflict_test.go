package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/store"
	"bangfu/store/query"
)

// TestConflict: a cadre and the leader change a plan's goal at once, offline;
// after both sync, the leader sees both values side by side, keeps the one
// that lost, and after syncing the cadre has it too.
func TestConflict(t *testing.T) {
	e := newEnv(t)
	cad, cd := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	lead, ld, _ := leaderOverview(t, e)

	var row query.HouseholdRow
	for _, r := range cad.Households.Rows() {
		if c := must(query.Card(cd.db, r.ID, demoNow)); c.Plan != nil {
			row = r
			break
		}
	}
	// editGoal opens the household's plan from a list and saves a new goal.
	editGoal := func(a *app.App, list *app.Households, goal string) {
		t.Helper()
		for i, r := range list.Rows() {
			if r.ID == row.ID {
				list.List.Select(i)
			}
		}
		a.Wait()
		test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
		a.Wait()
		p := a.Nav().Top().(*app.PlanScreen)
		p.Goal.SetText(goal)
		test.Tap(p.SaveGoal)
		a.Wait()
		if p.Error.Visible() {
			t.Fatalf("save goal: %s", p.Error.Text)
		}
	}
	editGoal(cad, cad.Households, "年内发展散养鸡 100 只")
	lead.Menu.List.Select(6) // 全村农户
	lead.Wait()
	editGoal(lead, lead.Nav().Top().(*app.Households), "年内种植花椒 3 亩")

	for _, a := range []*app.App{cad, lead, cad, lead} {
		test.Tap(a.Bar.Sync)
		a.Wait()
		if a.Bar.Error.Visible() {
			t.Fatalf("sync: %s", a.Bar.Error.Text)
		}
	}
	lead.Menu.List.Select(4) // 修改冲突
	lead.Wait()
	list := lead.Nav().Top().(*app.ListScreen)
	idx := -1
	for i, it := range list.Items {
		if strings.Contains(it.Title, row.HeadName) && strings.Contains(it.Title, "计划目标") {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no conflict over %s's goal among %d", row.HeadName, len(list.Items))
	}
	list.Open(idx)
	lead.Wait()
	c := lead.Nav().Top().(*app.Conflict)
	text := screenText(c.Content())
	for _, v := range []string{"年内发展散养鸡 100 只", "年内种植花椒 3 亩", "现在的值", "被覆盖的值"} {
		if !strings.Contains(text, v) {
			t.Errorf("the conflict screen does not show %q", v)
		}
	}
	conflicts := must(query.Conflicts(ld.db, e.data.Village.ID, true))
	var lost string
	for _, cf := range conflicts {
		if cf.Conflict.Record != uuidOfPlan(t, ld.db, row) || cf.Conflict.Field != "goal" {
			continue
		}
		lost = strings.Trim(string(cf.Conflict.Loser), `"`)
	}
	test.Tap(c.KeepLoser)
	lead.Wait()
	if c.Error.Visible() {
		t.Fatalf("keep: %s", c.Error.Text)
	}
	if len(list.Items) != len(conflicts)-1 {
		t.Errorf("%d conflicts listed after resolving one of %d", len(list.Items), len(conflicts))
	}
	for _, a := range []*app.App{lead, cad} {
		test.Tap(a.Bar.Sync)
		a.Wait()
	}
	plan := must(query.Card(cd.db, row.ID, demoNow)).Plan
	if plan.Goal != lost {
		t.Errorf("the cadre's plan goal is %q, want the kept value %q", plan.Goal, lost)
	}
}

// uuidOfPlan returns the ID of a household's plan.
func uuidOfPlan(t *testing.T, db *store.DB, row query.HouseholdRow) [16]byte {
	t.Helper()
	c := must(query.Card(db, row.ID, demoNow))
	if c.Plan == nil {
		t.Fatal("no plan")
	}
	return c.Plan.ID
}
