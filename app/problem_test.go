package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store/query"
)

// enrolledAt is env.enrolled with the app's clock at now: the devices of
// one test act at different times, as people do.
func (e *env) enrolledAt(name string, cadre uuid.UUID, size fyne.Size, now time.Time) (*app.App, *device) {
	e.t.Helper()
	d := e.newDevice(name)
	a := e.openWith(d, size, app.Options{NoPIN: true, Manual: true, DeferUI: true, Now: func() time.Time { return now }})
	a.Enroll.Server.SetText("")
	test.Type(a.Enroll.Server, e.url)
	test.Type(a.Enroll.Code, e.code(cadre))
	a.Enroll.Name.SetText("")
	test.Type(a.Enroll.Name, name)
	test.Tap(a.Enroll.Submit)
	a.Wait()
	if a.Enroll != nil {
		e.t.Fatalf("enrolment failed: %s", a.Enroll.Error.Text)
	}
	return a, d
}

// staff returns the demo's cadre in a town role (domain.Office, TownLead).
func staff(t *testing.T, d *demo.Data, role domain.Role) *domain.Cadre {
	t.Helper()
	for _, as := range d.Assignments {
		if as.Role == role {
			for _, c := range d.Cadres {
				if c.ID == as.Cadre {
					return c
				}
			}
		}
	}
	t.Fatalf("the demo has no %s", role)
	return nil
}

// syncApp taps the sync bar's button and waits for the sync to land.
func syncApp(t *testing.T, a *app.App) {
	t.Helper()
	test.Tap(a.Bar.Sync)
	a.Wait()
	if a.Bar.Status.Err != nil {
		t.Fatalf("sync: %v", a.Bar.Status.Err)
	}
}

// tapLine taps the first visible line of text that starts with prefix, as
// a finger would: a wrapped label draws each line on its own.
func tapLine(t *testing.T, w fyne.Window, prefix string) {
	t.Helper()
	var found *canvas.Text
	walk(w.Content(), func(obj fyne.CanvasObject) {
		if txt, ok := obj.(*canvas.Text); ok && found == nil && txt.Text != "" && strings.HasPrefix(txt.Text, prefix) {
			found = txt
		}
	})
	if found == nil {
		t.Fatalf("no visible line starting %q on screen:\n%s", prefix, screenText(w.Content()))
	}
	// Scroll it into view first, as a finger would.
	size := w.Canvas().Size()
	for range 20 {
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(found)
		if pos.Y >= 0 && pos.Y+found.Size().Height < size.Height-80 {
			break
		}
		test.Scroll(w.Canvas(), fyne.NewPos(size.Width/2, size.Height/2), 0, -min(size.Height/2, pos.Y-size.Height/2))
	}
	tapText(t, w, found.Text)
}

// shoot saves a capture of w as docs/screenshots/name when
// BANGFU_SCREENSHOTS names that directory (make screenshots).
func shoot(t *testing.T, w fyne.Window, name string) {
	t.Helper()
	dir := os.Getenv("BANGFU_SCREENSHOTS")
	if dir == "" {
		return
	}
	save(t, filepath.Join(dir, name), w.Canvas().Capture())
}

// openProblemIn opens the problem with text in a list screen.
func openProblemIn(t *testing.T, a *app.App, list *app.ListScreen, text string) *app.ProblemScreen {
	t.Helper()
	for i, it := range list.Items {
		if it.Title == text {
			list.Open(i)
			a.Wait()
			s, ok := a.Nav().Top().(*app.ProblemScreen)
			if !ok {
				t.Fatalf("the problem opens %T", a.Nav().Top())
			}
			return s
		}
	}
	t.Fatalf("%q is not in the list %q (%d rows)", text, list.Title(), len(list.Items))
	return nil
}

// menuSection opens the leader's menu section titled title.
func menuSection(t *testing.T, a *app.App, title string) app.Screen {
	t.Helper()
	for i := 0; i < a.Menu.List.Length(); i++ {
		a.Menu.List.Unselect(i)
		a.Menu.List.Select(i)
		a.Wait()
		if a.Nav().Top().Title() == title || strings.HasPrefix(a.Nav().Top().Title(), title) {
			return a.Nav().Top()
		}
	}
	t.Fatalf("the menu has no %q", title)
	return nil
}

// TestProblemTravels: a group cadre escalates a problem to the village from
// the phone; the team leader moves it to the town on the tablet; the town
// office finds it in the town's inbox and resolves it; the phone, after a
// sync, shows it resolved with the town's note and history, and is told by
// a notification. All through a real server, each device at its own time.
func TestProblemTravels(t *testing.T) {
	e := newEnv(t)
	office := staff(t, e.data, domain.Office)
	// The phone's window is made last: the test driver finds the canvas
	// of an object (for a tap through the canvas) in the last window.
	tb, _ := e.enrolledAt("tablet", e.data.TeamLeader.ID, tablet, demoNow.Add(-2*time.Hour))
	tn, tnd := e.enrolledAt("town", office.ID, tablet, demoNow.Add(-time.Hour))
	ph, pd := e.enrolledAt("phone", e.data.GroupCadre.ID, phone, demoNow.Add(-3*time.Hour))

	// A household of the cadre's with a problem still open (待处理).
	rows, err := query.MyHouseholds(pd.db, e.data.GroupCadre.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	row, problem := -1, (*domain.Problem)(nil)
	for i, r := range rows {
		card, err := query.Card(pd.db, r.ID, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range card.Problems {
			if p.Status == domain.ProblemOpen && problem == nil {
				row, problem = i, p
			}
		}
	}
	if problem == nil {
		t.Fatal("no household of the demo's group cadre has an open problem")
	}
	head := rows[row].HeadName

	// The phone: the card's problem opens its screen; 上报村 with a note.
	ph.Households.List.Select(row)
	ph.Wait()
	if _, ok := ph.Nav().Top().(*app.Card); !ok {
		t.Fatalf("the household opens %T", ph.Nav().Top())
	}
	first := []rune(problem.Text)
	tapLine(t, ph.Window, string(first[:min(len(first), 8)]))
	ph.Wait()
	ps, ok := ph.Nav().Top().(*app.ProblemScreen)
	if !ok {
		t.Fatalf("tapping the card's problem opens %T", ph.Nav().Top())
	}
	if ps.Data == nil {
		t.Fatalf("the problem screen did not load: %q", ps.Error.Text)
	}
	if !ps.Moves[domain.ProblemTown].Visible() || !ps.Moves[domain.ProblemVillage].Visible() || !ps.Moves[domain.ProblemResolved].Visible() {
		t.Error("the group cadre is not offered 上报村, 上报镇 and 标记为已解决 on an open problem")
	}
	// Offline: the move is saved on the phone and waits for the network.
	e.down.Store(true)
	test.Type(ps.Note, "需要村里协调水管")
	test.Tap(ps.Moves[domain.ProblemVillage])
	ph.Wait()
	test.Tap(ph.Bar.Sync)
	ph.Wait()
	if ph.Bar.Status.Err == nil || ph.Bar.Status.Pending != 2 {
		t.Errorf("offline, the phone's bar says %+v, want 2 changes waiting (the problem and its step)", ph.Bar.Status)
	}
	e.down.Store(false)
	if got := labelText(t, ps.Notice); got != "已改为“已上报村”" {
		t.Errorf("after escalating: %q", got)
	}
	if txt := screenText(ps.History); !contains(txt, "→ 已上报村") || !contains(txt, "需要村里协调水管") || !contains(txt, e.data.GroupCadre.Name) {
		t.Errorf("the phone's history:\n%s", txt)
	}
	if ps.Moves[domain.ProblemTown].Visible() || !ps.Moves[domain.ProblemResolved].Visible() {
		t.Error("at the village the group cadre may resolve it but not move it to the town")
	}
	syncApp(t, ph) // works offline too: the move waited in the phone's log

	// The tablet: the village's list, then 上报镇.
	syncApp(t, tb)
	list := menuSection(t, tb, "待解决问题").(*app.ListScreen)
	ts := openProblemIn(t, tb, list, problem.Text)
	if txt := screenText(ts.History); !contains(txt, "需要村里协调水管") {
		t.Errorf("the tablet does not see the phone's step:\n%s", txt)
	}
	if !ts.Moves[domain.ProblemTown].Visible() || !ts.Moves[domain.ProblemOpen].Visible() {
		t.Error("the team leader is not offered 上报镇 and 退回待处理")
	}
	test.Type(ts.Note, "村里无力维修，请镇水务站处理")
	test.Tap(ts.Moves[domain.ProblemTown])
	tb.Wait()
	if ts.Moves[domain.ProblemResolved].Visible() {
		t.Error("the team leader may resolve a problem at the town")
	}
	syncApp(t, tb)

	// The town: its inbox has the problem, with its village; resolve it.
	syncApp(t, tn)
	if got := tn.Menu.List.Length(); got < 2 {
		t.Fatalf("the town office's menu has %d sections", got)
	}
	inbox := menuSection(t, tn, "镇级问题").(*app.ListScreen)
	var detail string
	for _, it := range inbox.Items {
		if it.Title == problem.Text {
			detail = it.Detail
		}
	}
	if !contains(detail, e.data.Village.Name) || !contains(detail, head) {
		t.Errorf("the inbox's row: %q", detail)
	}
	// Problems at the town without response for a week say so.
	quiet, err := query.ProblemsAt(tnd.db, uuid.Nil, demoNow.Add(-time.Hour), domain.ProblemTown)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, r := range quiet {
		if it := inbox.Items[i]; it.Title != r.Problem.Text || contains(it.Detail, "天无回应") != r.Quiet {
			t.Errorf("inbox row %d: %q %q, quiet %v", i, it.Title, it.Detail, r.Quiet)
		}
		if r.Quiet {
			n++
			if want := fmt.Sprintf("%d 天无回应", r.Waiting); !contains(inbox.Items[i].Detail, want) || !inbox.Items[i].Warn {
				t.Errorf("inbox row %d: %q lacks %q", i, inbox.Items[i].Detail, want)
			}
		}
	}
	if n == 0 {
		t.Error("the demo town has no problem waiting a week at the town: the check above checks nothing")
	}
	zs := openProblemIn(t, tn, inbox, problem.Text)
	test.Tap(zs.Moves[domain.ProblemResolved])
	tn.Wait()
	if got := labelText(t, zs.Error); got != "请填写处理结果" {
		t.Errorf("resolving without a note: %q", got)
	}
	test.Type(zs.Note, "镇水务站已更换管道")
	test.Tap(zs.Moves[domain.ProblemResolved])
	tn.Wait()
	syncApp(t, tn)
	tn.Nav().Pop()
	tn.Wait()
	if len(inbox.Items) != 0 && inbox.Items[0].Title == problem.Text {
		t.Error("the resolved problem stays in the town's inbox")
	}

	// The phone: after a sync the screen shows it resolved, and says so.
	want := fmt.Sprintf("%s户：%s——已解决：镇水务站已更换管道 · 另有 1 条新进展", head, problem.Text)
	test.AssertNotificationSent(t, &fyne.Notification{Title: "问题有了回复", Content: want}, func() { syncApp(t, ph) })
	if ps.Data.Problem.Status != domain.ProblemResolved || len(ps.Data.Steps) != 3 {
		t.Fatalf("the phone sees %s with %d steps", ps.Data.Problem.Status, len(ps.Data.Steps))
	}
	txt := strings.ReplaceAll(screenText(ps.Content()), "\n", "")
	for _, w := range []string{"处理结果：镇水务站已更换管道", office.Name, e.data.TeamLeader.Name, "已上报镇 → 已解决"} {
		if !contains(txt, w) {
			t.Errorf("the phone's problem screen lacks %q:\n%s", w, txt)
		}
	}
	if !ps.Moves[domain.ProblemOpen].Visible() || ps.Moves[domain.ProblemOpen].Text != "重新打开" {
		t.Error("the group cadre cannot reopen the resolved problem")
	}
	shoot(t, ph.Window, "phone-problem.png")
	ph.Nav().Pop()
	ph.Wait()
	card := ph.Nav().Top().(*app.Card)
	if txt := screenText(card.Body); !contains(strings.ReplaceAll(txt, "\n", ""), "已解决："+problem.Text+"（2025-03-12：镇水务站已更换管道）") {
		t.Errorf("the card does not show the resolution:\n%s", txt)
	}
	// No second notification for what was told.
	test.AssertNotificationSent(t, nil, func() { syncApp(t, ph) })
}

// TestTownOverviewNumbers: a town lead of a town of two villages opens the
// town overview, the first section of the menu: one row per village and the total; every number
// opens a list of that many rows, on the tablet and at phone width.
func TestTownOverviewNumbers(t *testing.T) {
	d := demo.Town(1, demoNow, 300)
	e := newEnvWith(t, d)
	lead := staff(t, d, domain.TownLead)
	for _, size := range []fyne.Size{tablet, phone} {
		a, dev := e.enrolled(fmt.Sprintf("device-%v", size.Width), lead.ID, size)
		ov, ok := menuSection(t, a, "全镇概况").(*app.TownOverview)
		if !ok {
			t.Fatalf("%v: the town's section opens %T", size, a.Nav().Top())
		}
		want, err := query.TownOverview(dev.db, d.Town.ID, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		rows := ov.Rows()
		if len(want.Villages) < 2 || len(rows) != len(want.Villages)+1 {
			t.Fatalf("%v: %d rows for %d villages", size, len(rows), len(want.Villages))
		}
		if ov.Title() != "全镇概况 "+d.Town.Name {
			t.Errorf("title %q", ov.Title())
		}
		for r, row := range rows {
			name := "合计"
			if row.Village != nil {
				name = row.Village.Name
			}
			values := []int{row.Households, row.VisitsThisMonth, row.Overdue, row.OpenProblems, row.AtTown, row.AwaitingReview, row.Gaps}
			for c, n := range values {
				ov.Open(r, c+1)
				a.Wait()
				got := -1
				switch s := a.Nav().Top().(type) {
				case *app.Households:
					got = len(s.Rows())
				case *app.ListScreen:
					got = len(s.Items)
				default:
					t.Fatalf("%v: %s column %d opens %T", size, name, c+1, s)
				}
				if got != n {
					t.Errorf("%v: %s column %d says %d, its list has %d", size, name, c+1, n, got)
				}
				a.Nav().Pop()
				a.Wait()
			}
		}
		tot := rows[len(rows)-1]
		if tot.Households != len(d.Households) {
			t.Errorf("the town has %d households, the demo %d", tot.Households, len(d.Households))
		}
		if size == phone {
			// The cards' buttons open the same lists.
			test.Tap(findButton(t, ov.Cards, fmt.Sprintf("本月走访 %d", rows[0].VisitsThisMonth)))
			a.Wait()
			if l, ok := a.Nav().Top().(*app.ListScreen); !ok || len(l.Items) != rows[0].VisitsThisMonth {
				t.Errorf("the phone's visits button opens %T", a.Nav().Top())
			}
			a.Nav().Pop()
			a.Wait()
			shoot(t, a.Window, "phone-town-overview.png")
		} else {
			shoot(t, a.Window, "tablet-town-overview.png")
		}
	}
}
