package app_test

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// openHistory opens the team leader's 帮扶力量调整记录 and returns it with the
// history it lists (its first rows are the adjustments, in this order).
func openHistory(t *testing.T, a *app.App, d *device, e *env) (*app.ListScreen, *query.RosterHistory) {
	t.Helper()
	a.Menu.List.Select(7)
	a.Wait()
	hist, ok := a.Nav().Top().(*app.ListScreen)
	if !ok || hist.Title() != "帮扶力量调整记录" {
		t.Fatalf("menu item 7 opens %T", a.Nav().Top())
	}
	return hist, must(query.History(d.db, e.data.Village.ID))
}

// TestAdjustOnTablet: on the team leader's tablet (and at phone width), a
// helper's pairing is ended from the history with a day and a reason, and
// another helper is recorded as retired, which ends their duties in the
// village; the form refuses an empty reason, a day in the future and a
// cadre who also works at the town; the gaps list then shows the household
// without its helper, the card no longer names the helper, the history
// lists both endings, and a sync takes both to the server.
func TestAdjustOnTablet(t *testing.T) {
	for _, size := range []fyne.Size{tablet, phone} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			// A helper who also works in the town's office: only the town
			// or the city may record that they left.
			var townHelper *domain.Cadre
			for _, x := range e.data.Assignments {
				if x.Role == domain.Helper && x.Current() {
					townHelper = cadreOf(t, e, x)
					break
				}
			}
			if err := e.db.Put(e.data.TeamLeader.ID, &domain.Assignment{Cadre: townHelper.ID, Role: domain.Office,
				Target: e.data.Town.ID, Since: demoNow.AddDate(-1, 0, 0)}); err != nil {
				t.Fatal(err)
			}
			a, d := e.enrolled("tablet", e.data.TeamLeader.ID, size)
			a.Menu.List.Select(3)
			a.Wait()
			gapsBefore := len(a.Nav().Top().(*app.ListScreen).Items)

			// Two helpers of other households, other than the town's.
			hist, h := openHistory(t, a, d, e)
			end, retire := -1, -1
			for i, x := range h.Adjustments {
				as := x.Assignment
				if as.Role != domain.Helper || !as.Current() || x.Cadre == nil || x.Cadre.ID == townHelper.ID || x.Household == nil {
					continue
				}
				if end < 0 && (x.Household.Status == domain.Registered || x.Household.Status == domain.Lifted) {
					end = i
				} else if end >= 0 && retire < 0 && x.Cadre.ID != h.Adjustments[end].Cadre.ID &&
					x.Household.ID != h.Adjustments[end].Household.ID {
					retire = i
				}
			}
			if end < 0 || retire < 0 {
				t.Fatal("the demo village has not two helpers to adjust")
			}
			ended, leaver := h.Adjustments[end], h.Adjustments[retire].Cadre

			// End a pairing.
			hist.Open(end)
			a.Wait()
			f, ok := a.Nav().Top().(*app.AdjustForm)
			if !ok {
				t.Fatalf("a current pairing opens %T", a.Nav().Top())
			}
			test.Tap(f.End)
			a.Wait()
			if got := labelText(t, f.Error); got != "请填写结束原因" {
				t.Errorf("no reason: %q", got)
			}
			f.Day.SetText("")
			test.Type(f.Day, demoNow.AddDate(0, 0, 2).Format("2006-01-02"))
			test.Type(f.Reason, "帮扶力量调整")
			test.Tap(f.End)
			a.Wait()
			if got := labelText(t, f.Error); got != "结束日期不能晚于今天" {
				t.Errorf("a day in the future: %q", got)
			}
			f.Day.SetText("")
			test.Type(f.Day, "2025-03-01")
			test.Tap(f.End)
			a.Wait()
			if a.Nav().Top() != hist {
				t.Fatalf("after ending, the top screen is %T (%s)", a.Nav().Top(), f.Error.Text)
			}
			got := must(d.db.Get(domain.KindAssignment, ended.Assignment.ID)).(*domain.Assignment)
			if got.Current() || got.EndReason != "帮扶力量调整" || got.Until.Format("2006-01-02") != "2025-03-01" {
				t.Errorf("the tablet's pairing: until %v, reason %q", got.Until, got.EndReason)
			}

			// A cadre who works at the town too is refused.
			for i, x := range h.Adjustments {
				if x.Cadre != nil && x.Cadre.ID == townHelper.ID && x.Assignment.Current() {
					hist.Open(i)
					break
				}
			}
			a.Wait()
			f = a.Nav().Top().(*app.AdjustForm)
			test.Type(f.Reason, "调任")
			f.Departure.SetSelected("调离")
			test.Tap(f.Leave)
			a.Wait()
			if got := labelText(t, f.Error); !strings.Contains(got, "以外还有职责") {
				t.Errorf("retiring a cadre of the town office: %q", got)
			}
			if c := must(d.db.Get(domain.KindCadre, townHelper.ID)).(*domain.Cadre); c.Left != "" {
				t.Errorf("the town's cadre is recorded as %s", c.Left)
			}
			a.Nav().Pop()
			a.Wait()

			// Retire another helper.
			hist.Open(retire)
			a.Wait()
			f = a.Nav().Top().(*app.AdjustForm)
			test.Type(f.Reason, "到龄退休")
			test.Tap(f.Leave)
			a.Wait()
			if got := labelText(t, f.Error); got != "请选择退休或调离" {
				t.Errorf("no departure chosen: %q", got)
			}
			f.Departure.SetSelected("退休")
			test.Tap(f.Leave)
			a.Wait()
			if a.Nav().Top() != hist {
				t.Fatalf("after the retirement, the top screen is %T (%s)", a.Nav().Top(), f.Error.Text)
			}
			if c := must(d.db.Get(domain.KindCadre, leaver.ID)).(*domain.Cadre); c.Left != domain.Retired || c.LeftReason != "到龄退休" {
				t.Errorf("the tablet's cadre: %q %q", c.Left, c.LeftReason)
			}
			for _, x := range must(query.Assignments(d.db, leaver.ID)) {
				t.Errorf("the retired cadre still holds %s", x.Role)
			}

			// The history lists both; the gaps list and the card count
			// only what is current.
			text := ""
			for _, it := range hist.Items {
				text += it.Title + "\n" + it.Detail + "\n"
			}
			for _, want := range []string{"2025-03-01：帮扶力量调整", leaver.Name + "\n退休 · 2025-03-12 · 到龄退休"} {
				if !strings.Contains(text, want) {
					t.Errorf("the history lacks %q:\n%s", want, text)
				}
			}
			a.Menu.List.Select(3)
			a.Wait()
			gaps := a.Nav().Top().(*app.ListScreen)
			if len(gaps.Items) <= gapsBefore {
				t.Errorf("the gaps list has %d rows, %d before the endings", len(gaps.Items), gapsBefore)
			}
			opened := false
			for i, it := range gaps.Items {
				if strings.HasPrefix(it.Title, ended.Household.HeadName+" · ") && strings.Contains(it.Detail, "帮扶责任人") {
					gaps.Open(i)
					a.Wait()
					if c, ok := a.Nav().Top().(*app.Card); ok && c.Data != nil && c.Data.Household.ID == ended.Household.ID {
						opened = true
						for _, hp := range c.Data.Helpers {
							if hp.Role == domain.Helper {
								t.Errorf("the card still names %s as helper", hp.Cadre.Name)
							}
						}
						break
					}
					a.Nav().Pop()
					a.Wait()
				}
			}
			if !opened {
				t.Errorf("the gaps list does not show %s without a helper", ended.Household.HeadName)
			}

			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := d.client.Status(); len(st.Rejected) > 0 || st.Pending > 0 {
				t.Errorf("after the sync: %d rejected (%v), %d pending", len(st.Rejected), st.Rejected, st.Pending)
			}
			if r := must(e.db.Get(domain.KindAssignment, ended.Assignment.ID)).(*domain.Assignment); r.Current() {
				t.Error("the server's pairing still holds")
			}
			if c := must(e.db.Get(domain.KindCadre, leaver.ID)).(*domain.Cadre); c.Left != domain.Retired {
				t.Errorf("the server's cadre: %q", c.Left)
			}
			if as := must(query.Assignments(e.db, leaver.ID)); len(as) != 0 {
				t.Errorf("the server's retired cadre holds %d duties", len(as))
			}
		})
	}
}

func cadreOf(t *testing.T, e *env, x *domain.Assignment) *domain.Cadre {
	t.Helper()
	return must(e.db.Get(domain.KindCadre, x.Cadre)).(*domain.Cadre)
}

// TestReplaceHelperOnTablet: from the history, a team leader hands a
// helper's pairing over to another cadre (三轮调整帮扶干部): the old pairing
// ends with the reason, the new one starts the same day, the card names the
// new helper, the history lists both, and a sync takes both to the server.
func TestReplaceHelperOnTablet(t *testing.T) {
	for _, size := range []fyne.Size{tablet, phone} {
		t.Run(sizeName(size), func(t *testing.T) {
			e := newEnv(t)
			a, d := e.enrolled("tablet", e.data.TeamLeader.ID, size)
			hist, h := openHistory(t, a, d, e)
			i := -1
			for j, x := range h.Adjustments {
				if x.Assignment.Role == domain.Helper && x.Assignment.Current() && x.Household != nil && x.Cadre != nil {
					i = j
					break
				}
			}
			if i < 0 {
				t.Fatal("no helper to hand over")
			}
			old := h.Adjustments[i]
			hist.Open(i)
			a.Wait()
			f := a.Nav().Top().(*app.AdjustForm)
			test.Type(f.Reason, "帮扶力量调整")
			test.Tap(f.Replace)
			a.Wait()
			if got := labelText(t, f.Error); got != "请选择接替的干部" {
				t.Errorf("no successor: %q", got)
			}
			if len(f.Successor.Options) == 0 {
				t.Fatal("no cadre to choose")
			}
			for _, o := range f.Successor.Options {
				if strings.HasPrefix(o, old.Cadre.Name+" · ") {
					t.Errorf("the helper is offered to succeed themself: %s", o)
				}
			}
			f.Successor.SetSelectedIndex(0)
			next := strings.Split(f.Successor.Selected, " · ")[0]
			test.Tap(f.Replace)
			a.Wait()
			if a.Nav().Top() != hist {
				t.Fatalf("after the hand-over, the top screen is %T (%s)", a.Nav().Top(), f.Error.Text)
			}
			if r := must(d.db.Get(domain.KindAssignment, old.Assignment.ID)).(*domain.Assignment); r.Current() || r.EndReason != "帮扶力量调整" {
				t.Errorf("the old pairing: until %v, reason %q", r.Until, r.EndReason)
			}
			card := must(query.Card(d.db, old.Household.ID, demoNow))
			var helpers []string
			for _, hp := range card.Helpers {
				if hp.Role == domain.Helper {
					helpers = append(helpers, hp.Cadre.Name)
				}
			}
			if len(helpers) != 1 || helpers[0] != next {
				t.Errorf("the card's helpers %v, want %s", helpers, next)
			}
			if err := d.client.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			if st := d.client.Status(); len(st.Rejected) > 0 || st.Pending > 0 {
				t.Errorf("after the sync: %d rejected (%v), %d pending", len(st.Rejected), st.Rejected, st.Pending)
			}
			on := must(query.Card(e.db, old.Household.ID, demoNow))
			for _, hp := range on.Helpers {
				if hp.Role == domain.Helper && hp.Cadre.Name != next {
					t.Errorf("the server's helper is %s, want %s", hp.Cadre.Name, next)
				}
			}
		})
	}
}

// TestRetireCadreOfTwoVillagesOnTablet: a helper of the village who is also
// a team member of another village may not be recorded as transferred by
// the team leader (the server would refuse it: only the town or city office
// ends duties there). The tablet holds that duty — not the other village —
// so the form says why at once, in the cadre's name, and changes nothing;
// the history of the village does not list the duty elsewhere.
func TestRetireCadreOfTwoVillagesOnTablet(t *testing.T) {
	e := newEnv(t)
	var both *domain.Cadre
	for _, x := range e.data.Assignments {
		if x.Role == domain.Helper && x.Current() {
			both = cadreOf(t, e, x)
			break
		}
	}
	far := &domain.Place{Level: domain.Village, Name: "罗家湾村", Parent: e.data.Town.ID}
	if err := e.db.Put(e.data.TeamLeader.ID, far); err != nil {
		t.Fatal(err)
	}
	there := &domain.Assignment{Cadre: both.ID, Role: domain.TeamMember, Target: far.ID, Since: demoNow.AddDate(-1, 0, 0)}
	if err := e.db.Put(e.data.TeamLeader.ID, there); err != nil {
		t.Fatal(err)
	}
	a, d := e.enrolled("tablet", e.data.TeamLeader.ID, tablet)
	if _, err := d.db.Get(domain.KindAssignment, there.ID); err != nil {
		t.Fatalf("the tablet lacks the helper's duty in 罗家湾村: %v", err)
	}
	if _, err := d.db.Get(domain.KindPlace, far.ID); err == nil {
		t.Error("the tablet holds 罗家湾村")
	}
	hist, h := openHistory(t, a, d, e)
	opened := false
	for i, x := range h.Adjustments {
		if x.Assignment.ID == there.ID {
			t.Error("the village's history lists the duty in 罗家湾村")
		}
		if !opened && x.Cadre != nil && x.Cadre.ID == both.ID && x.Assignment.Current() {
			hist.Open(i)
			opened = true
		}
	}
	if !opened {
		t.Fatalf("the history does not list %s", both.Name)
	}
	a.Wait()
	f := a.Nav().Top().(*app.AdjustForm)
	test.Type(f.Reason, "调任")
	f.Departure.SetSelected("调离")
	test.Tap(f.Leave)
	a.Wait()
	if got := labelText(t, f.Error); !strings.Contains(got, both.Name+"在您负责的村（镇）以外还有职责") {
		t.Errorf("transferring a cadre of two villages: %q", got)
	}
	shoot(t, a.Window, "tablet-retire-two-villages.png")
	if c := must(d.db.Get(domain.KindCadre, both.ID)).(*domain.Cadre); c.Left != "" {
		t.Errorf("the cadre of two villages is recorded as %s", c.Left)
	}
	if st := d.client.Status(); st.Pending > 0 {
		t.Errorf("%d changes wait to be sent", st.Pending)
	}
}
