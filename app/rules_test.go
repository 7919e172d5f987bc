package app_test

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
)

// TestRulesForm: the team leader sets the village's overdue days and who may
// approve plans on the tablet; the rules are saved on the village's record,
// reach the server with the next sync, and from there a group cadre's phone,
// whose household list then counts overdue by the village's days.
func TestRulesForm(t *testing.T) {
	e := newEnv(t)
	a, d, _ := leaderOverview(t, e)
	a.Menu.List.Select(8)
	a.Wait()
	f := a.Nav().Top().(*app.RulesForm)
	if f.OverdueDays.Text != "30" || f.County.Text != "3" || !f.Inherited.Visible() {
		t.Fatalf("the form starts at %q days, county %q, inherited shown %v", f.OverdueDays.Text, f.County.Text, f.Inherited.Visible())
	}
	f.OverdueDays.SetText("")
	test.Type(f.OverdueDays, "一周")
	test.Tap(f.Save)
	a.Wait()
	if got := labelText(t, f.Error); got != "请填写整数" {
		t.Errorf("overdue 一周: %q", got)
	}
	f.OverdueDays.SetText("")
	test.Type(f.OverdueDays, "400")
	test.Tap(f.Save)
	a.Wait()
	if got := labelText(t, f.Error); got != "走访提醒天数应在 1 到 365 之间（现为 400）" {
		t.Errorf("overdue 400: %q", got)
	}
	f.OverdueDays.SetText("")
	test.Type(f.OverdueDays, "7")
	if f.BackdateDays.Text != "7" {
		t.Errorf("the form starts at %q days back, want the default 7", f.BackdateDays.Text)
	}
	f.BackdateDays.SetText("")
	test.Type(f.BackdateDays, "10")
	if f.Photos.Text != "6" {
		t.Errorf("the form starts at %q photos a record, want the default 6", f.Photos.Text)
	}
	f.Photos.SetText("")
	test.Type(f.Photos, "3")
	f.Approvers.SetSelected([]string{"驻村工作队长"})
	test.Tap(f.Save)
	a.Wait()
	if !f.Saved.Visible() || f.Error.Visible() {
		t.Fatalf("not saved: %q", f.Error.Text)
	}
	r, err := d.db.Rules(e.data.Village.ID)
	if err != nil || r.OverdueDays != 7 || r.BackdateDays != 10 || r.PhotoLimit() != 3 || len(r.Approvers) != 1 || r.Approvers[0] != domain.TeamLeader {
		t.Fatalf("the tablet's rules: %+v, %v", r, err)
	}
	if err := d.client.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.db.PlanApprovers(e.data.Village.ID); len(got) != 1 || got[0] != domain.TeamLeader {
		t.Errorf("the server's approvers: %v", got)
	}

	p, pd := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	if r, _ := pd.db.Rules(e.data.Village.ID); r.OverdueDays != 7 {
		t.Errorf("the phone's overdue days: %d, want the village's 7", r.OverdueDays)
	}
	// The phone's own setting gives way to the village's rules.
	ps := openSettings(t, p)
	if ps.OverdueDays.Text != "7" || !ps.OverdueDays.Disabled() || !ps.SaveOverdue.Disabled() || !ps.RulesNote.Visible() {
		t.Errorf("the phone's settings show %q (disabled %v) and the note %v", ps.OverdueDays.Text, ps.OverdueDays.Disabled(), ps.RulesNote.Visible())
	}
	rows := p.Households.Rows()
	for _, row := range rows {
		if want := row.DaysSince < 0 || row.DaysSince >= 7; row.Overdue != want {
			t.Errorf("%s, %d days: overdue %v on the phone, want %v", row.HeadName, row.DaysSince, row.Overdue, want)
		}
	}
}
