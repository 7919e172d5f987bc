package app_test

import (
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// sizes are the two layouts every flow here is tried in.
var sizes = []struct {
	name string
	size fyne.Size
}{{"phone", phone}, {"tablet", tablet}}

// shot saves the window as docs/screenshots/<name>.png when
// BANGFU_SCREENSHOTS=1 (as the console's browser test does).
func shot(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	if os.Getenv("BANGFU_SCREENSHOTS") != "1" {
		return
	}
	f, err := os.Create(filepath.Join("..", "docs", "screenshots", name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Fatal(err)
	}
}

// todoItems puts on the server one item of each kind for the demo group
// cadre's households: a plan sent back by the team leader, a measure due in
// five days, a visit's follow-up due in two, a problem the team leader
// resolved; the demo village has households overdue already. It returns the
// households used, by kind.
func todoItems(t *testing.T, e *env, rows []query.HouseholdRow) (returned, measure, follow, answered query.HouseholdRow) {
	t.Helper()
	leader, cadre := e.data.TeamLeader.ID, e.data.GroupCadre.ID
	var plans []*query.HouseholdCard
	var plain []query.HouseholdRow
	for _, r := range rows {
		c := must(query.Card(e.db, r.ID, demoNow))
		if c.Plan != nil && c.Plan.Status != domain.PlanReturned {
			plans = append(plans, c)
		} else if c.Plan == nil {
			plain = append(plain, r)
		}
	}
	if len(plans) < 2 || len(plain) < 2 {
		t.Fatalf("%d households with plans, %d without: too few", len(plans), len(plain))
	}
	byID := func(id uuid.UUID) query.HouseholdRow {
		for _, r := range rows {
			if r.ID == id {
				return r
			}
		}
		return query.HouseholdRow{}
	}
	// A plan sent back, with the review that says why.
	back := *plans[0].Plan
	back.Status = domain.PlanReturned
	rv := &domain.Review{Plan: back.ID, Household: back.Household, Reviewer: leader, Verdict: domain.VerdictReturn,
		Comment: "请补充销售渠道", At: demoNow.Add(-time.Hour)}
	// A measure due in five days.
	m := &domain.Measure{Plan: plans[1].Plan.ID, Household: plans[1].Plan.Household, Type: domain.MeasureKinds[0],
		Description: "修缮羊圈", Owner: cadre, Target: "年底前完工", Due: day(demoNow.AddDate(0, 0, 5)), Progress: domain.InProgress}
	// A visit yesterday whose follow-up is due in two days.
	v := &domain.Visit{Household: plain[0].ID, Cadre: cadre, At: demoNow.AddDate(0, 0, -1), Type: domain.VisitRoutine,
		Notes: "户主在家", FollowUp: "送医保报销材料", Due: day(demoNow.AddDate(0, 0, 2))}
	// A problem the team leader resolved three days ago.
	p := &domain.Problem{Household: plain[1].ID, Text: "屋顶漏雨", Status: domain.ProblemResolved,
		ResolvedBy: leader, ResolvedAt: demoNow.AddDate(0, 0, -3), Resolution: "村里已协调修补"}
	if err := e.db.Put(leader, &back, rv, m, p); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Put(cadre, v); err != nil {
		t.Fatal(err)
	}
	return byID(back.Household), byID(m.Household), plain[0], plain[1]
}

func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// TestTodoList: the cadre's to-do list (待办), at phone and tablet width,
// for a cadre with one item of each kind: a sync that brings a plan sent
// back sends a notification naming who sent it back and why; the count
// heads the cadre's list; the list shows each item where it belongs and
// opens it; a follow-up is done with one tap and leaves the list.
func TestTodoList(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			e := newEnv(t)
			a, d := e.enrolled(sz.name, e.data.GroupCadre.ID, sz.size)
			returned, measure, follow, answered := todoItems(t, e, a.Households.Rows())

			head := returned.HeadName
			test.AssertNotificationSent(t, &fyne.Notification{Title: "计划被退回修改",
				Content: head + "：" + e.data.TeamLeader.Name + " 退回，请补充销售渠道"}, func() {
				test.Tap(a.Bar.Sync)
				a.Wait()
			})
			// A second sync brings nothing new: no second notification.
			test.AssertNotificationSent(t, nil, func() {
				test.Tap(a.Bar.Sync)
				a.Wait()
			})

			want := must(query.Todo(d.db, e.data.GroupCadre.ID, demoNow))
			if got := a.TodoButton.Text; got != "待办 "+itoa(want.Len())+" 项" {
				t.Errorf("the count on the main screen says %q, want %d items", got, want.Len())
			}
			if !shown(a.Window, a.TodoButton) {
				t.Error("the to-do count is not in view on the main screen")
			}
			if sz.size == tablet {
				// Beside the list at start: the first thing the cadre sees.
				if _, ok := a.Nav().Top().(*app.TodoScreen); !ok {
					t.Errorf("at start the tablet shows %T, want the to-do list", a.Nav().Top())
				}
			}
			test.Tap(a.TodoButton)
			a.Wait()
			todo, ok := a.Nav().Top().(*app.TodoScreen)
			if !ok {
				t.Fatalf("the to-do button opens %T", a.Nav().Top())
			}
			text := screenText(todo.Body)
			for _, s := range []string{
				"退回修改的计划", head, e.data.TeamLeader.Name + " " + "2025-03-12 退回：请补充销售渠道",
				"到期的措施（14 天内）", measure.HeadName + " · 种植养殖 · 修缮羊圈", "2025-03-17 到期",
				"到期的跟进事项", follow.HeadName + " · 送医保报销材料", "2025-03-14 到期",
				"已有答复的问题", answered.HeadName + " · 屋顶漏雨", "已解决：村里已协调修补",
				"该走访的农户",
			} {
				if !strings.Contains(text, s) {
					t.Errorf("the to-do list does not show %q:\n%s", s, text)
				}
			}
			if len(todo.Data.Returned) == 0 || len(todo.Data.Measures) == 0 || len(todo.Data.FollowUps) == 0 ||
				len(todo.Data.Answered) == 0 || len(todo.Data.Overdue) == 0 {
				t.Errorf("a kind of item is missing: %d returned, %d measures, %d follow-ups, %d answered, %d overdue",
					len(todo.Data.Returned), len(todo.Data.Measures), len(todo.Data.FollowUps), len(todo.Data.Answered), len(todo.Data.Overdue))
			}
			a.Window.Canvas().Unfocus()
			shot(t, a.Window, sz.name+"-todo")

			// The plan sent back opens the plan.
			test.Tap(todo.Open[0])
			a.Wait()
			if p, ok := a.Nav().Top().(*app.PlanScreen); !ok || p.Data == nil || p.Data.Household.ID != returned.ID {
				t.Fatalf("the plan sent back opens %T", a.Nav().Top())
			}
			test.Tap(a.Nav().Back)
			a.Wait()

			// One tap marks the follow-up done.
			idx := -1
			for i, f := range todo.Data.FollowUps {
				if f.Visit.FollowUp == "送医保报销材料" {
					idx = i
				}
			}
			if idx < 0 {
				t.Fatal("the follow-up is not in the list")
			}
			visit := todo.Data.FollowUps[idx].Visit.ID
			test.Tap(todo.Done[idx])
			a.Wait()
			rec := must(d.db.Get(domain.KindVisit, visit)).(*domain.Visit)
			if !rec.FollowUpDone.Equal(demoNow) {
				t.Errorf("the follow-up done at %v, want %v", rec.FollowUpDone, demoNow)
			}
			if strings.Contains(screenText(todo.Body), "送医保报销材料") {
				t.Error("the follow-up done is still in the to-do list")
			}
			if got := a.TodoButton.Text; got != "待办 "+itoa(want.Len()-1)+" 项" {
				t.Errorf("after one item done the count says %q, want %d", got, want.Len()-1)
			}

			// Reopened (a phone restarting the app), the plan sent back
			// is not announced again.
			a.Window.Close()
			a.Wait()
			test.AssertNotificationSent(t, nil, func() {
				b := e.open(d, sz.size)
				test.Tap(b.Bar.Sync)
				b.Wait()
			})
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestFollowUpOnCard: a visit's follow-up shows on the household card with
// its date and is done with one tap there; the next visit can say so too.
func TestFollowUpOnCard(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	row := a.Households.Rows()[0]
	v := &domain.Visit{Household: row.ID, Cadre: e.data.GroupCadre.ID, At: demoNow.AddDate(0, 0, -1), Type: domain.VisitRoutine,
		Notes: "户主在家", FollowUp: "联系技术员看花椒", Due: day(demoNow.AddDate(0, 0, 3))}
	w := &domain.Visit{Household: row.ID, Cadre: e.data.GroupCadre.ID, At: demoNow.AddDate(0, 0, -2), Type: domain.VisitRoutine,
		Notes: "户主在家", FollowUp: "催缴医保"}
	if err := d.db.Put(e.data.GroupCadre.ID, v, w); err != nil {
		t.Fatal(err)
	}
	card, form := openVisitForm(t, a)
	// The next visit says the older one's follow-up was seen to.
	if len(form.Earlier) != 2 {
		t.Fatalf("the visit form offers %d earlier follow-ups, want 2", len(form.Earlier))
	}
	test.Type(form.Notes, "回访")
	test.Tap(form.Earlier[1]) // 催缴医保, the older visit
	test.Tap(form.Save)
	a.Wait()
	if form.Error.Visible() {
		t.Fatalf("save: %s", form.Error.Text)
	}
	if got := must(d.db.Get(domain.KindVisit, w.ID)).(*domain.Visit); got.FollowUpDone.IsZero() {
		t.Error("the next visit did not mark the follow-up done")
	}
	text := screenText(card.Body)
	if !strings.Contains(text, "跟进：联系技术员看花椒（2025-03-15 前）") || strings.Contains(text, "催缴医保") {
		t.Errorf("the card's follow-ups:\n%s", text)
	}
	if len(card.FollowUpDone) != 1 {
		t.Fatalf("%d done buttons on the card, want 1", len(card.FollowUpDone))
	}
	tapText(t, a.Window, "办结")
	a.Wait()
	if got := must(d.db.Get(domain.KindVisit, v.ID)).(*domain.Visit); got.FollowUpDone.IsZero() {
		t.Error("one tap did not mark the follow-up done")
	}
	if strings.Contains(screenText(card.Body), "联系技术员看花椒（") {
		t.Error("the card still shows the follow-up done")
	}
}

// TestVisitTime: a visit's time is now unless set earlier, within the
// village's back-dating days and never in the future, with the words
// saying why; whom the cadre met (or 未遇到) and who came along are saved.
func TestVisitTime(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			e := newEnv(t)
			a, d := e.enrolled(sz.name, e.data.GroupCadre.ID, sz.size)
			card, form := openVisitForm(t, a)
			household := card.Data.Household.ID
			test.Type(form.Notes, "晚上补记白天的走访")
			form.More.Open(0)
			a.Wait()
			try := func(when, want string) {
				t.Helper()
				form.When.SetText("")
				test.Type(form.When, when)
				test.Tap(form.Save)
				a.Wait()
				if !form.Error.Visible() || !strings.Contains(form.Error.Text, want) {
					t.Errorf("a visit at %s: error %q (shown %v), want %q", when, form.Error.Text, form.Error.Visible(), want)
				}
				if a.Nav().Top() != form {
					t.Fatalf("a visit at %s was saved", when)
				}
			}
			try("2025-03-12 11:00", "走访时间不能晚于现在")
			try("2025-03-01 09:00", "走访时间最多只能补录 7 天前的")
			try("昨天", "走访时间请写成")
			form.When.SetText("")
			test.Type(form.When, "2025-03-10 16:00")
			if form.Error.Visible() {
				t.Errorf("a time two days back still shows %q", form.Error.Text)
			}
			form.Met.SetSelected("未遇到")
			companion := form.Companions.Options[0]
			form.Companions.SetSelected([]string{companion})
			test.Tap(form.Save)
			a.Wait()
			if form.Error.Visible() {
				t.Fatalf("save: %s", form.Error.Text)
			}
			var saved *domain.Visit
			for _, v := range must(query.Card(d.db, household, demoNow)).Visits {
				if v.Notes == "晚上补记白天的走访" {
					saved = v
				}
			}
			if saved == nil {
				t.Fatal("the back-dated visit is not on the card")
			}
			if want := time.Date(2025, 3, 10, 16, 0, 0, 0, cst); !saved.At.Equal(want) {
				t.Errorf("saved at %v, want %v", saved.At, want)
			}
			if !saved.Absent || saved.Met != uuid.Nil || len(saved.Companions) != 1 {
				t.Errorf("saved absent %v, met %v, companions %v", saved.Absent, saved.Met, saved.Companions)
			}
			if c := must(d.db.Get(domain.KindCadre, saved.Companions[0])).(*domain.Cadre); !strings.HasPrefix(companion, c.Name) {
				t.Errorf("companion %q saved as %s", companion, c.Name)
			}
			if text := screenText(card.Body); !strings.Contains(text, "2025-03-10 · 日常走访 · 未遇到 · 晚上补记白天的走访") {
				t.Errorf("the card does not show the attempt as such:\n%s", text)
			}
		})
	}
}

// TestPlanChangeBackInReview: a plan the team leader approved, whose
// measure the cadre then changes, is back awaiting review on both devices
// after a sync, and the leader sees what changed since the approval — at
// phone and tablet width.
func TestPlanChangeBackInReview(t *testing.T) {
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			e := newEnv(t)
			// A plan of the cadre's with measures, awaiting review.
			var card *query.HouseholdCard
			for _, h := range e.data.Households {
				c := must(query.Card(e.db, h.ID, demoNow))
				if c.Plan != nil && len(c.Measures) > 0 && c.Group != nil && card == nil {
					for _, hp := range c.Helpers {
						if hp.Cadre.ID == e.data.GroupCadre.ID && hp.Role == domain.GroupCadre {
							card = c
						}
					}
				}
			}
			if card == nil {
				t.Fatal("no plan with measures in the cadre's group")
			}
			submitted := *card.Plan
			submitted.Status = domain.PlanSubmitted
			if err := e.db.Put(e.data.GroupCadre.ID, &submitted); err != nil {
				t.Fatal(err)
			}
			head := card.Household.HeadName
			lead, _ := e.enrolled("lead", e.data.TeamLeader.ID, sz.size)
			cad, cd := e.enrolled("cadre", e.data.GroupCadre.ID, sz.size)
			review := func() *app.Review {
				t.Helper()
				lead.Menu.List.UnselectAll()
				lead.Menu.List.Select(1) // 待审核计划
				lead.Wait()
				plans := lead.Nav().Top().(*app.ListScreen)
				for i, it := range plans.Items {
					if strings.HasPrefix(it.Title, head+" · ") {
						plans.Open(i)
						lead.Wait()
						return lead.Nav().Top().(*app.Review)
					}
				}
				t.Fatalf("the plan of %s is not awaiting review", head)
				return nil
			}
			rv := review()
			if len(rv.Changes.Objects) != 0 {
				t.Errorf("a plan never approved shows changes:\n%s", screenText(rv.Changes))
			}
			test.Tap(rv.Approve)
			lead.Wait()
			test.Tap(lead.Bar.Sync)
			lead.Wait()

			// The cadre changes a measure's target on the approved plan.
			test.Tap(cad.Bar.Sync)
			cad.Wait()
			for i, r := range cad.Households.Rows() {
				if r.ID == card.Household.ID {
					cad.Households.List.Select(i)
				}
			}
			cad.Wait()
			test.Tap(cad.Nav().Top().(*app.Card).OpenPlan)
			cad.Wait()
			p := cad.Nav().Top().(*app.PlanScreen)
			if p.Data.Plan.Status != domain.PlanApproved {
				t.Fatalf("the cadre's plan is %s after the approval synced", p.Data.Plan.Status)
			}
			m := p.Data.Measures[0]
			test.Tap(p.Edit[0])
			cad.Wait()
			f := cad.Nav().Top().(*app.MeasureForm)
			f.Target.SetText("")
			test.Type(f.Target, "年增收 9000 元")
			test.Tap(f.Save)
			cad.Wait()
			if got := must(query.Card(cd.db, card.Household.ID, demoNow)).Plan.Status; got != domain.PlanSubmitted {
				t.Fatalf("the edited approved plan is %s, want back in review", got)
			}
			test.Tap(cad.Bar.Sync)
			cad.Wait()
			if cad.Bar.Status.Pending != 0 || cad.Bar.Error.Visible() || len(cad.Bar.Status.Rejected) > 0 {
				t.Fatalf("the cadre's sync: %d waiting, rejected %+v: %s", cad.Bar.Status.Pending, cad.Bar.Status.Rejected, cad.Bar.Error.Text)
			}
			if got := must(query.Card(e.db, card.Household.ID, demoNow)).Plan.Status; got != domain.PlanSubmitted {
				t.Errorf("on the server the plan is %s", got)
			}

			test.Tap(lead.Bar.Sync)
			lead.Wait()
			rv = review()
			text := screenText(rv.Changes)
			old := join(m.Target, m.Due)
			for _, s := range []string{"自 2025-03-12 审核通过以来的修改", "修改措施：", old, "年增收 9000 元"} {
				if !strings.Contains(text, s) {
					t.Errorf("the review's changes do not show %q:\n%s", s, text)
				}
			}
			if sz.size == tablet {
				shot(t, lead.Window, "tablet-review-changes")
			}
		})
	}
}

// join is how a measure's target and due date read in a review's changes.
func join(target string, due time.Time) string {
	return target + " · " + due.Local().Format("2006-01-02") + " 前完成"
}

// TestPlanDraftsSurviveClose: the plan's goal and a measure being typed are
// kept as drafts, like a visit, so closing the window (a phone killing the
// app) loses neither; saving removes the draft.
func TestPlanDraftsSurviveClose(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	idx := -1
	for i, r := range a.Households.Rows() {
		if c := must(query.Card(d.db, r.ID, demoNow)); c.Plan != nil && c.Plan.Status != domain.PlanApproved && len(c.Measures) > 0 {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("no plan to edit")
	}
	household := a.Households.Rows()[idx].ID
	openPlan := func(a *app.App) *app.PlanScreen {
		t.Helper()
		a.Households.List.Select(idx)
		a.Wait()
		test.Tap(a.Nav().Top().(*app.Card).OpenPlan)
		a.Wait()
		return a.Nav().Top().(*app.PlanScreen)
	}
	p := openPlan(a)
	p.Goal.SetText("")
	test.Type(p.Goal, "三年内人均增收两千元")
	a.Wait()
	test.Tap(p.Edit[0])
	a.Wait()
	f := a.Nav().Top().(*app.MeasureForm)
	f.Target.SetText("")
	test.Type(f.Target, "养羊 20 只")
	a.Wait()
	if got := f.Draft.Text; got != "草稿已保存" {
		t.Errorf("the measure's draft label = %q", got)
	}
	a.Window.Close()
	a.Wait()

	b := e.open(d, phone)
	p = openPlan(b)
	if p.Goal.Text != "三年内人均增收两千元" || !p.Draft.Visible() {
		t.Errorf("the goal after reopening = %q (draft note shown %v)", p.Goal.Text, p.Draft.Visible())
	}
	test.Tap(p.Edit[0])
	b.Wait()
	f = b.Nav().Top().(*app.MeasureForm)
	if f.Target.Text != "养羊 20 只" || f.Draft.Text != "已恢复未保存的草稿" {
		t.Errorf("the measure's target after reopening = %q (%q)", f.Target.Text, f.Draft.Text)
	}
	test.Tap(f.Save)
	b.Wait()
	if f.Error.Visible() {
		t.Fatalf("save the measure: %s", f.Error.Text)
	}
	test.Tap(p.SaveGoal)
	b.Wait()
	c := must(query.Card(d.db, household, demoNow))
	if c.Plan.Goal != "三年内人均增收两千元" {
		t.Errorf("the goal saved is %q", c.Plan.Goal)
	}
	found := false
	for _, m := range c.Measures {
		found = found || m.Target == "养羊 20 只"
	}
	if !found {
		t.Error("the measure's target was not saved")
	}
	keys := must(d.db.DraftKeys(""))
	for _, k := range keys {
		if strings.HasPrefix(k, "plan/") || strings.HasPrefix(k, "measure/") {
			t.Errorf("draft %s left after saving", k)
		}
	}
}

// TestVisitCorrection: a cadre corrects their own visit of yesterday from
// the card: the same visit says the new words and its history keeps the
// old, shown on the card; a visit older than the correction days, or
// another cadre's, offers no correction.
func TestVisitCorrection(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	row := a.Households.Rows()[0]
	mine := &domain.Visit{Household: row.ID, Cadre: e.data.GroupCadre.ID, At: demoNow.AddDate(0, 0, -1), Type: domain.VisitRoutine,
		Notes: "户主外出"}
	mine.Created = demoNow.AddDate(0, 0, -1)
	old := &domain.Visit{Household: row.ID, Cadre: e.data.GroupCadre.ID, At: demoNow.AddDate(0, 0, -5), Type: domain.VisitRoutine,
		Notes: "五天前的走访"}
	old.Created = demoNow.AddDate(0, 0, -5)
	theirs := &domain.Visit{Household: row.ID, Cadre: e.data.TeamLeader.ID, At: demoNow.AddDate(0, 0, -1).Add(time.Hour), Type: domain.VisitRoutine,
		Notes: "队长走访"}
	theirs.Created = demoNow.AddDate(0, 0, -1)
	if err := d.db.Put(e.data.GroupCadre.ID, mine, old, theirs); err != nil {
		t.Fatal(err)
	}
	a.Households.List.Select(0)
	a.Wait()
	card := a.Nav().Top().(*app.Card)
	if len(card.CorrectVisit) != 1 {
		t.Fatalf("%d visits offer a correction, want 1 (only mine of yesterday)", len(card.CorrectVisit))
	}
	test.Tap(card.CorrectVisit[0])
	a.Wait()
	f := a.Nav().Top().(*app.VisitForm)
	if f.Notes.Text != "户主外出" {
		t.Fatalf("the correction form shows %q", f.Notes.Text)
	}
	f.Notes.SetText("")
	test.Type(f.Notes, "户主外出务工，与其妻子交谈")
	test.Tap(f.Save)
	a.Wait()
	if f.Error.Visible() {
		t.Fatalf("save: %s", f.Error.Text)
	}
	got := must(d.db.Get(domain.KindVisit, mine.ID)).(*domain.Visit)
	if got.Notes != "户主外出务工，与其妻子交谈" || !got.At.Equal(mine.At) || len(got.Corrections) != 1 || got.Corrections[0].Before.Notes != "户主外出" {
		t.Errorf("corrected visit: %q at %v, history %+v", got.Notes, got.At, got.Corrections)
	}
	if text := screenText(card.Body); !strings.Contains(text, "修改前：2025-03-11 · 日常走访 · 户主外出") {
		t.Errorf("the card does not show the visit's history:\n%s", text)
	}
}
