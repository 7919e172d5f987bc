package app_test

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// openVisitForm taps the first household and then "记录走访", and returns the
// card and the form.
func openVisitForm(t *testing.T, a *app.App) (*app.Card, *app.VisitForm) {
	t.Helper()
	a.Households.List.Select(0)
	a.Wait()
	card, ok := a.Nav().Top().(*app.Card)
	if !ok {
		t.Fatalf("tapping a household opens %T", a.Nav().Top())
	}
	test.Tap(card.RecordVisit)
	a.Wait()
	form, ok := a.Nav().Top().(*app.VisitForm)
	if !ok {
		t.Fatalf("记录走访 opens %T", a.Nav().Top())
	}
	return card, form
}

// TestCommonVisitTaps: the common visit — open the household, record a visit,
// type the notes, tick policies explained, fees paid, water safe, save — takes
// at most 8 taps plus typing the notes. Every tap goes through the canvas or a
// widget's Tapped, as a finger's would, and is counted.
func TestCommonVisitTaps(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	w := a.Window
	taps := 0
	tapText := func(s string) { taps++; tapText(t, w, s) }

	row := a.Households.Rows()[0]
	tapText(row.HeadName + " · " + row.GroupName + " · " + statusZh(row.Status))
	a.Wait()
	card, ok := a.Nav().Top().(*app.Card)
	if !ok {
		t.Fatalf("tapping the row opens %T", a.Nav().Top())
	}
	taps++
	test.Tap(card.RecordVisit)
	a.Wait()
	form, ok := a.Nav().Top().(*app.VisitForm)
	if !ok {
		t.Fatalf("记录走访 opens %T", a.Nav().Top())
	}
	taps++
	test.Tap(form.Notes)
	const notes = "户主在家，讲解了医保和养老保险政策，家中饮水正常。"
	test.Type(form.Notes, notes)
	tapText("已宣传政策")
	tapText("已缴清")
	tapText("安全")
	taps++
	test.Tap(form.Save)
	a.Wait()

	if taps > 8 {
		t.Errorf("the common visit took %d taps, want at most 8", taps)
	}
	t.Logf("common visit: %d taps plus the notes", taps)
	if form.Error.Visible() {
		t.Fatalf("saving failed: %s", form.Error.Text)
	}
	if a.Nav().Top() != card {
		t.Errorf("after saving the app shows %T, want the card", a.Nav().Top())
	}
	c, err := query.Card(d.db, row.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Visits) == 0 {
		t.Fatal("no visit saved")
	}
	v := c.Visits[0]
	if v.Notes != notes || !v.Policies || v.Fees != domain.FeesPaid || v.Water != domain.WaterSafe ||
		v.Type != domain.VisitRoutine || v.Cadre != e.data.GroupCadre.ID || !v.At.Equal(demoNow) {
		t.Errorf("saved visit = %+v", v)
	}
	if c.DaysSince != 0 {
		t.Errorf("days since the last visit = %d after the visit", c.DaysSince)
	}
	// The card shows it.
	if got := screenText(card.Body); !contains(got, notes) {
		t.Errorf("the card does not show the new visit:\n%s", got)
	}
}

func statusZh(s domain.Status) string { zh, _ := domain.StatusName(s); return zh }

// TestDraftSurvivesClose: what is typed in the visit form is kept as a draft,
// so closing the window (a phone killing the app) loses nothing; saving the
// visit removes the draft.
func TestDraftSurvivesClose(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	household := a.Households.Rows()[0].ID
	test.Type(form.Notes, "正在记录，手机没电了")
	form.Fees.SetSelected("部分缴纳")
	test.Tap(form.AddProblem)
	test.Type(form.Problems[0].Text, "房屋漏雨")
	form.Problems[0].Escalate.SetSelected("上报镇")
	a.Wait()
	if got := form.Draft.Text; got != "草稿已保存" {
		t.Errorf("draft label = %q", got)
	}
	a.Window.Close()
	a.Wait()

	b := e.open(d, phone)
	if b.Households == nil {
		t.Fatal("the reopened app shows no households")
	}
	_, form = openVisitForm(t, b)
	if form.Notes.Text != "正在记录，手机没电了" {
		t.Errorf("notes after reopening = %q", form.Notes.Text)
	}
	if form.Fees.Selected != "部分缴纳" {
		t.Errorf("fees after reopening = %q", form.Fees.Selected)
	}
	if len(form.Problems) != 1 || form.Problems[0].Text.Text != "房屋漏雨" || form.Problems[0].Escalate.Selected != "上报镇" {
		t.Fatalf("problems after reopening: %d", len(form.Problems))
	}
	if got := form.Draft.Text; got != "已恢复未保存的草稿" {
		t.Errorf("draft label after reopening = %q", got)
	}

	test.Tap(form.Save)
	b.Wait()
	if form.Error.Visible() {
		t.Fatalf("save: %s", form.Error.Text)
	}
	if data, err := d.db.Draft("visit/" + household.String()); err != nil || data != nil {
		t.Errorf("the draft is still there after saving: %s, %v", data, err)
	}
	c, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	var found *domain.Problem
	for _, p := range c.Problems {
		if p.Text == "房屋漏雨" {
			found = p
		}
	}
	if found == nil || found.Status != domain.ProblemTown || found.ReportedBy != e.data.GroupCadre.ID || found.Visit != c.Visits[0].ID {
		t.Errorf("the escalated problem was not saved with the visit: %+v", found)
	}
	// A new visit starts blank.
	test.Tap(b.Nav().Stack()[0].(*app.Card).RecordVisit)
	b.Wait()
	if f := b.Nav().Top().(*app.VisitForm); f.Notes.Text != "" {
		t.Errorf("a new visit after saving starts with %q", f.Notes.Text)
	}
}

// TestVisitErrors: saving an incomplete visit says what is wrong in words and
// saves nothing.
func TestVisitErrors(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	household := a.Households.Rows()[0].ID
	before, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}

	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, form.Error); got != "请简要记录走访情况" {
		t.Errorf("empty notes: %q", got)
	}

	test.Type(form.Notes, "回访")
	past := demoNow.AddDate(0, 0, -3)
	form.Due.SetDate(&past)
	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, form.Error); got != "跟进期限不能早于走访日期" {
		t.Errorf("follow-up before the visit: %q", got)
	}
	if _, ok := a.Nav().Top().(*app.VisitForm); !ok {
		t.Error("the form closed on an error")
	}
	after, err := query.Card(d.db, household, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Visits) != len(before.Visits) {
		t.Error("an invalid visit was saved")
	}

	// In English the same error reads in English.
	next := demoNow.AddDate(0, 0, 7)
	form.Due.SetDate(&next)
	form.Notes.SetText("")
	if err := app.SetLanguage(app.English); err != nil {
		t.Fatal(err)
	}
	defer app.SetLanguage(app.Chinese)
	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, form.Error); got != "write a few words about the visit" {
		t.Errorf("empty notes in English: %q", got)
	}
}
