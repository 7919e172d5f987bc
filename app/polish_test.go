package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestDueDateTyped (issue 10, finding 2): a due date typed as 2026-12-01 is
// kept, whatever the machine's locale; one the app cannot read is an error
// that stops the save, never a visit saved without its date.
func TestDueDateTyped(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	household := a.Households.Rows()[0].ID
	before := len(must(query.Card(d.db, household, demoNow)).Visits)

	test.Type(form.Notes, "回访")
	test.Type(form.FollowUp, "送化肥")
	test.Type(form.Due, "15/07/2027")
	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, form.Error); !strings.Contains(got, "2027-07-15") {
		t.Errorf("a date the app cannot read: error %q", got)
	}
	if n := len(must(query.Card(d.db, household, demoNow)).Visits); n != before {
		t.Fatal("a visit with an unreadable date was saved")
	}

	form.Due.SetText("")
	test.Type(form.Due, "2026-12-01")
	test.Tap(form.Save)
	a.Wait()
	if _, ok := a.Nav().Top().(*app.VisitForm); ok {
		t.Fatalf("the visit was not saved: %q", form.Error.Text)
	}
	var found bool
	for _, v := range must(query.Card(d.db, household, demoNow)).Visits {
		if v.Notes == "回访" {
			found = true
			if got := v.Due.Format("2006-01-02"); got != "2026-12-01" {
				t.Errorf("saved due date %s, want 2026-12-01", got)
			}
		}
	}
	if !found {
		t.Fatal("the visit is not in the store")
	}
}

// TestCalendarInChinese (issue 10, finding 6): the calendar of a date entry
// names its month in Chinese and writes the date picked as 2027-07-15; a
// select with nothing chosen says so in Chinese.
func TestCalendarInChinese(t *testing.T) {
	e := newEnv(t)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	due := time.Date(2027, 7, 1, 0, 0, 0, 0, time.Local)
	form.Due.SetDate(&due)
	test.Tap(form.Due.Pick)
	over := a.Window.Canvas().Overlays().Top()
	if over == nil {
		t.Fatal("no calendar")
	}
	words := strings.Join(texts(over), " ")
	if !strings.Contains(words, "2027年7月") || !strings.Contains(words, "周一") {
		t.Errorf("calendar reads %q", words)
	}
	test.Tap(findButton(t, over, "15"))
	if form.Due.Text != "2027-07-15" || form.Due.Date == nil || form.Due.Date.Day() != 15 {
		t.Errorf("picked 15: entry %q", form.Due.Text)
	}
	test.Tap(form.AddProblem)
	if p := form.Problems[0].Escalate; p.PlaceHolder != "（请选择）" {
		t.Errorf("select placeholder %q", p.PlaceHolder)
	}
}

// TestPlanNeedsGoal (issue 10, finding 5): a plan is not created, nor
// offered for review, without a goal.
func TestPlanNeedsGoal(t *testing.T) {
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
	test.Type(p.Goal, "   ")
	test.Tap(p.SaveGoal)
	a.Wait()
	if got := labelText(t, p.Error); got != "请先填写计划目标" {
		t.Errorf("empty goal: %q", got)
	}
	if must(query.Card(d.db, household, demoNow)).Plan != nil {
		t.Fatal("a plan without a goal was created")
	}
	test.Type(p.Goal, "两年内人均纯收入达到 8000 元")
	test.Tap(p.SaveGoal)
	a.Wait()
	p.Goal.SetText("")
	test.Tap(p.Submit)
	a.Wait()
	if got := labelText(t, p.Error); got != "请先填写计划目标" {
		t.Errorf("submit with an empty goal: %q", got)
	}
	if pl := must(query.Card(d.db, household, demoNow)).Plan; pl == nil || pl.Goal == "" || string(pl.Status) != "draft" {
		t.Errorf("stored plan %+v", pl)
	}
}

// findButton returns the visible button labelled s under o.
func findButton(t *testing.T, o fyne.CanvasObject, s string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(o, func(obj fyne.CanvasObject) {
		if b, ok := obj.(*widget.Button); ok && b.Text == s && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q", s)
	}
	return found
}

// TestErrorGoesWhenFixed (issue 10, finding 9): a validation message goes as
// soon as the input is fixed, or says what is still wrong, without a save.
func TestErrorGoesWhenFixed(t *testing.T) {
	e := newEnv(t)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, form.Error); got != "请简要记录走访情况" {
		t.Fatalf("empty notes: %q", got)
	}
	test.Type(form.Notes, "回访")
	a.Wait()
	if form.Error.Visible() {
		t.Errorf("after typing the notes the error still says %q", form.Error.Text)
	}
	test.Type(form.Due, "明天")
	test.Tap(form.Save)
	a.Wait()
	form.Due.SetText("")
	a.Wait()
	if form.Error.Visible() {
		t.Errorf("after clearing the date the error still says %q", form.Error.Text)
	}
}

// TestWording (issue 10, finding 12): a household visited today says so
// rather than "0 天未走访"; a daughter reads 女儿 · 女, not 女 · 女; the count of
// changes waiting stays on one line (no space for the wrap to break at).
func TestWording(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	card, form := openVisitForm(t, a)
	test.Type(form.Notes, "今天来过")
	test.Tap(form.Save)
	a.Wait()
	if got := screenText(card.Content()); !strings.Contains(got, "今天已走访") || strings.Contains(got, "0 天未走访") {
		t.Errorf("card after a visit today:\n%s", got)
	}
	a.Nav().Pop()
	a.Wait()
	var daughter string
	for _, r := range a.Households.Rows() {
		for _, m := range must(query.Card(d.db, r.ID, demoNow)).Members {
			if m.Relation == "女" {
				daughter = m.Name
			}
		}
		if daughter == "" {
			continue
		}
		for i, row := range a.Households.Rows() {
			if row.ID == r.ID {
				a.Households.List.Select(i)
			}
		}
		a.Wait()
		break
	}
	if daughter == "" {
		t.Fatal("no daughter among the cadre's households")
	}
	got := screenText(a.Nav().Top().Content())
	if !strings.Contains(got, daughter+" · 女儿 · 女") {
		t.Errorf("the daughter %s reads:\n%s", daughter, got)
	}
	if s := lang.N("settings.sign_out_waiting", 1, map[string]any{"Count": 1}); strings.Contains(s, "1 条") {
		t.Errorf("sign-out warning %q breaks after the number", s)
	}
}

// TestConflictInWords (issue 10, finding 3): a conflict over a measure's
// progress names the measure and shows both values by the names the rest of
// the app uses, not "done · stuck".
func TestConflictInWords(t *testing.T) {
	e := newEnv(t)
	lead, ld, _ := leaderOverview(t, e)
	var m *domain.Measure
	for _, r := range must(query.VillageHouseholds(ld.db, e.data.Village.ID, demoNow)) {
		if c := must(query.Card(ld.db, r.ID, demoNow)); len(c.Measures) > 0 {
			m = c.Measures[0]
			break
		}
	}
	if m == nil {
		t.Fatal("no measure in the village")
	}
	cf := &domain.Conflict{Household: m.Household, RecordKind: domain.KindMeasure, Record: m.ID, Field: "progress",
		Winner: []byte(`"done"`), WinnerStamp: "", WinnerAuthor: e.data.TeamLeader.ID,
		Loser: []byte(`"stuck"`), LoserAuthor: e.data.GroupCadre.ID}
	if err := ld.db.Put(e.data.TeamLeader.ID, cf); err != nil {
		t.Fatal(err)
	}
	lead.Menu.List.Select(4) // 修改冲突
	lead.Wait()
	list := lead.Nav().Top().(*app.ListScreen)
	idx := -1
	for i, it := range list.Items {
		if strings.Contains(it.Title, m.Description) {
			idx = i
			if !strings.Contains(it.Detail, "已完成") || !strings.Contains(it.Detail, "遇到困难") || strings.Contains(it.Detail, "done") {
				t.Errorf("list detail %q", it.Detail)
			}
		}
	}
	if idx < 0 {
		t.Fatalf("no conflict names the measure %q", m.Description)
	}
	list.Open(idx)
	lead.Wait()
	text := screenText(lead.Nav().Top().(*app.Conflict).Content())
	for _, w := range []string{m.Description, "已完成", "遇到困难", "进度"} {
		if !strings.Contains(text, w) {
			t.Errorf("the conflict screen lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "stuck") {
		t.Errorf("raw value on the conflict screen:\n%s", text)
	}
}

// TestSyncBarCalmOneLine (issue 10, finding 10 and the one-line bar): the
// bar is one line; 在线 only while the last sync is recent, not for the
// minutes until the next attempt; offline reads calmly, with no red error
// line, and says the changes waiting are kept on the device.
func TestSyncBarCalmOneLine(t *testing.T) {
	e := newEnv(t)
	first, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	first.Window.Close()
	first.Wait()
	now := demoNow
	a := e.openWith(d, phone, app.Options{NoPIN: true, Manual: true, DeferUI: true, Now: func() time.Time { return now }})
	test.Tap(a.Bar.Sync)
	a.Wait()
	if got := a.Bar.Reachable.Text; got != "● 在线" {
		t.Errorf("after a sync: %q", got)
	}
	if h := a.Bar.Content().MinSize().Height; h > 60 {
		t.Errorf("the bar is %.0f high, more than one line", h)
	}
	now = now.Add(5 * time.Minute)
	a.Bar.Recheck()
	if got := a.Bar.Reachable.Text; got == "● 在线" {
		t.Errorf("5 minutes after the last sync the bar still says %q", got)
	}

	e.down.Store(true)
	_, form := openVisitForm(t, a)
	test.Type(form.Notes, "离线记录")
	test.Tap(form.Save)
	a.Wait()
	test.Tap(a.Bar.Sync)
	a.Wait()
	if got := a.Bar.Reachable.Text; got != "● 离线" {
		t.Errorf("offline: %q", got)
	}
	if a.Bar.Error.Visible() {
		t.Errorf("offline shows an error line: %q", a.Bar.Error.Text)
	}
	if got := a.Bar.Last.Text; got != "已保存在本机，联网后自动上传" {
		t.Errorf("offline with a change waiting: %q", got)
	}
	if h := a.Bar.Content().MinSize().Height; h > 60 {
		t.Errorf("offline the bar is %.0f high", h)
	}
}

// TestVillageListKeepsPlace (issue 10, finding 4): on a tablet, a household
// opened from 全村农户 opens over the list with a back arrow, and back brings
// the list with its search text.
func TestVillageListKeepsPlace(t *testing.T) {
	e := newEnv(t)
	lead, _, _ := leaderOverview(t, e)
	lead.Menu.List.Select(6) // 全村农户
	lead.Wait()
	h, ok := lead.Nav().Top().(*app.Households)
	if !ok {
		t.Fatalf("全村农户 opens %T", lead.Nav().Top())
	}
	test.Type(h.Search, "王")
	lead.Wait()
	n := len(h.Rows())
	if n == 0 {
		t.Fatal("no household named 王")
	}
	h.List.Select(0)
	lead.Wait()
	if _, ok := lead.Nav().Top().(*app.Card); !ok {
		t.Fatalf("a household opens %T", lead.Nav().Top())
	}
	if !lead.Nav().Back.Visible() {
		t.Fatal("no back arrow over the card")
	}
	test.Tap(lead.Nav().Back)
	lead.Wait()
	if lead.Nav().Top() != app.Screen(h) {
		t.Fatalf("back shows %T, not the list", lead.Nav().Top())
	}
	if h.Search.Text != "王" || len(h.Rows()) != n {
		t.Errorf("back at the list: search %q, %d rows (was %d)", h.Search.Text, len(h.Rows()), n)
	}
}

// TestTwoAppsOneMachine (issue 10, finding 7): two apps with the same Fyne
// preferences (the README's second-app demo) keep their own device names and
// languages, in their own stores.
func TestTwoAppsOneMachine(t *testing.T) {
	e := newEnv(t)
	a, ad := e.enrolled("cadre-phone", e.data.GroupCadre.ID, phone)
	s := openSettings(t, a)
	s.Language.SetSelected("English")
	a.Wait()
	a.Window.Close()
	a.Wait()

	// The second app, same preferences: Chinese, and nothing of the first
	// device's name on its enrolment screen.
	b := e.open(e.newDevice("tablet"), tablet)
	if b.Enroll == nil {
		t.Fatal("no enrolment screen")
	}
	if got := b.Enroll.Name.Text; got != "" {
		t.Errorf("the second device's name is prefilled with %q", got)
	}
	if got := b.Enroll.Submit.Text; got != "注册本设备" {
		t.Errorf("the second app speaks the first's language: %q", got)
	}
	b.Window.Close()
	b.Wait()

	// The first device, opened again, keeps its language and name.
	c := e.open(ad, phone)
	if got := c.Households.Title(); got != "My households" {
		t.Errorf("the first device's language: %q", got)
	}
	s = openSettings(t, c)
	if txt := screenText(s.Content()); !strings.Contains(txt, "cadre-phone") {
		t.Errorf("the first device's name is not in its settings:\n%s", txt)
	}
	if err := app.SetLanguage(app.Chinese); err != nil {
		t.Fatal(err)
	}
}

// TestOverviewHeadsInEnglish (issue 10, finding 8): on the tablet the
// English column headings of the overview do not overlap.
func TestOverviewHeadsInEnglish(t *testing.T) {
	e := newEnv(t)
	first, ld, _ := leaderOverview(t, e)
	first.Window.Close()
	first.Wait()
	st := must(ld.db.Settings())
	st.Language = app.English
	if err := ld.db.SetSettings(st); err != nil {
		t.Fatal(err)
	}
	defer app.SetLanguage(app.Chinese)
	lead := e.open(ld, tablet)
	ov, ok := lead.Nav().Top().(*app.Overview)
	if !ok {
		t.Fatalf("the leader lands on %T", lead.Nav().Top())
	}
	heads := []string{"Group", "Households", "People", "Visits this month", "Overdue", "Open problems", "Plans to review", "Gaps"}
	_ = lead
	pos := map[string]fyne.Position{}
	size := map[string]fyne.Size{}
	walk(ov.Table, func(o fyne.CanvasObject) {
		if txt, ok := o.(*canvas.Text); ok {
			pos[txt.Text] = fyne.CurrentApp().Driver().AbsolutePositionForObject(txt)
			size[txt.Text] = txt.MinSize()
		}
	})
	for i := 0; i+1 < len(heads); i++ {
		a, b := heads[i], heads[i+1]
		if _, ok := pos[a]; !ok {
			t.Fatalf("heading %q not drawn", a)
		}
		if _, ok := pos[b]; !ok {
			t.Fatalf("heading %q not drawn", b)
		}
		if end := pos[a].X + size[a].Width; end > pos[b].X {
			t.Errorf("%q ends at %.0f, after %q starts at %.0f", a, end, b, pos[b].X)
		}
	}
}

// TestCardAtAGlance (一口清): on a phone the card puts what a cadre recites
// at the door first — helpers, plan, problems and the follow-up owed, visits —
// and the facts and members after; each member on one line.
func TestCardAtAGlance(t *testing.T) {
	e := newEnv(t)
	a, _ := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	card, form := openVisitForm(t, a)
	test.Type(form.Notes, "回访")
	test.Type(form.FollowUp, "送化肥")
	test.Type(form.Due, "2025-03-20")
	test.Tap(form.Save)
	a.Wait()
	text := screenText(card.Content())
	order := []string{"帮扶干部", "一户一策", "待解决问题", "跟进：送化肥（2025-03-20 前）", "最近走访", "基本情况", "家庭成员"}
	at := -1
	for _, w := range order {
		i := strings.Index(text, w)
		if i < 0 {
			t.Fatalf("the card lacks %q:\n%s", w, text)
		}
		if i < at {
			t.Errorf("%q comes before what precedes it in %v", w, order)
		}
		at = i
	}
}

// TestSavedAndDraft (polish): a saved visit says so on the card; a draft
// left unsaved shows on the card, and can be discarded from the form.
func TestSavedAndDraft(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	card, form := openVisitForm(t, a)
	test.Type(form.Notes, "已保存的走访")
	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, card.Notice); got != "走访已保存，待同步" {
		t.Errorf("after saving: %q", got)
	}

	test.Tap(card.RecordVisit)
	a.Wait()
	form = a.Nav().Top().(*app.VisitForm)
	test.Type(form.Notes, "没写完")
	a.Wait()
	test.Tap(a.Nav().Back)
	a.Wait()
	if !card.Draft.Visible() {
		t.Error("the card does not flag the waiting draft")
	}
	// The list flags it too.
	head := card.Data.Household.HeadName
	test.Tap(a.Nav().Back)
	a.Wait()
	test.Type(a.Households.Search, head)
	a.Wait()
	if got := screenText(a.Households.Content()); !strings.Contains(got, "草稿未保存") {
		t.Errorf("the list does not flag the draft:\n%s", got)
	}
	a.Households.List.Select(0)
	a.Wait()
	card = a.Nav().Top().(*app.Card)
	test.Tap(card.RecordVisit)
	a.Wait()
	form = a.Nav().Top().(*app.VisitForm)
	if form.Notes.Text != "没写完" || !form.Discard.Visible() {
		t.Fatalf("draft restored %q, discard shown %v", form.Notes.Text, form.Discard.Visible())
	}
	// Shown after its row was laid out, it still gets its whole width on
	// the screen (its label spilled off the left edge at phone width).
	if pos, size, min := form.Discard.Position(), form.Discard.Size(), form.Discard.MinSize(); pos.X < 0 || size.Width < min.Width {
		t.Errorf("the discard button is at %v, %v wide, needs %v", pos, size.Width, min.Width)
	}
	test.Tap(form.Discard)
	over := a.Window.Canvas().Overlays().Top()
	if over == nil {
		t.Fatal("no confirmation")
	}
	test.Tap(findButton(t, over, "丢弃草稿"))
	a.Wait()
	if a.Nav().Top() != app.Screen(card) {
		t.Fatalf("after discarding the app shows %T", a.Nav().Top())
	}
	if data, err := d.db.Draft("visit/" + card.Data.Household.ID.String()); err != nil || data != nil {
		t.Errorf("the draft is still stored: %s %v", data, err)
	}
	if card.Draft.Visible() {
		t.Error("the card still flags a draft")
	}
}

// TestThemeChoice (polish): the settings offer a light theme for sunlight and
// the dark one; the choice is the device's, kept in its store, and drawn at
// once whatever the system's variant.
func TestThemeChoice(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	dark := func() bool {
		r, g, b, _ := e.fa.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantLight).RGBA()
		return r+g+b < 3*0x8000
	}
	s := openSettings(t, a)
	s.Theme.SetSelected("深色")
	a.Wait()
	if !dark() {
		t.Error("the dark theme is not drawn")
	}
	if st := must(d.db.Settings()); st.Theme != "dark" {
		t.Errorf("stored theme %q", st.Theme)
	}
	s.Theme.SetSelected("浅色（适合户外）")
	a.Wait()
	if dark() {
		t.Error("the light theme is not drawn")
	}
	r, g, b, _ := e.fa.Settings().Theme().Color(theme.ColorNameForeground, theme.VariantDark).RGBA()
	if r+g+b > 3*0x3000 {
		t.Errorf("light theme text is not near black: %x %x %x", r, g, b)
	}
	if st := must(d.db.Settings()); st.Theme != "light" {
		t.Errorf("stored theme %q", st.Theme)
	}
	e.fa.Settings().SetTheme(app.NewTheme())
}

// TestOverviewCardsOnPhone (polish): at phone width the leader's overview is
// one card per 社 with the numbers that need action, no wider than the
// screen, and each number opens its list.
func TestOverviewCardsOnPhone(t *testing.T) {
	e := newEnv(t)
	first, ld, _ := leaderOverview(t, e)
	first.Window.Close()
	first.Wait()
	a := e.open(ld, phone)
	a.Menu.List.Select(0)
	a.Wait()
	ov, ok := a.Nav().Top().(*app.Overview)
	if !ok {
		t.Fatalf("the overview is %T", a.Nav().Top())
	}
	if ov.Table.Visible() || !ov.Cards.Visible() {
		t.Fatalf("at phone width: table shown %v, cards shown %v", ov.Table.Visible(), ov.Cards.Visible())
	}
	if n := len(ov.Cards.Objects); n != len(ov.Rows()) {
		t.Fatalf("%d cards for %d rows", n, len(ov.Rows()))
	}
	if w := ov.Cards.MinSize().Width; w > phone.Width-8 {
		t.Errorf("the cards need %.0f wide, more than the phone", w)
	}
	text := screenText(ov.Cards)
	for _, w := range []string{"一社", "逾期未访", "待解决问题", "待审核计划", "帮扶缺口"} {
		if !strings.Contains(text, w) {
			t.Errorf("the cards lack %q:\n%s", w, text)
		}
	}
	g := ov.Rows()[0]
	test.Tap(findButton(t, ov.Cards.Objects[0], fmt.Sprintf("待解决问题 %d", g.OpenProblems)))
	a.Wait()
	if a.Nav().Top() == app.Screen(ov) {
		t.Error("the button opens nothing")
	}
}
