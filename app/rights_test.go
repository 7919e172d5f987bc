package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
)

// TestTownLeadAdjustsTownDuties: a town lead's tablet lists the town's own
// duties (帮扶力量调整记录 of the town) and records that a clerk of the town
// office was transferred, which ends the clerk's duty at the town; the
// server accepts both from a town lead. The tablet used to list only its
// villages' duties and refused the clerk as working "beyond the villages
// you lead", though the server allows it.
func TestTownLeadAdjustsTownDuties(t *testing.T) {
	e := newEnv(t)
	lead := staff(t, e.data, domain.TownLead)
	clerk := &domain.Cadre{Name: "镇办文书", Rank: domain.RankOther, Unit: "枹罕镇政府"}
	if err := e.db.Put(e.data.TeamLeader.ID, clerk); err != nil {
		t.Fatal(err)
	}
	duty := &domain.Assignment{Cadre: clerk.ID, Role: domain.Office, Target: e.data.Town.ID, Since: demoNow.AddDate(-1, 0, 0)}
	if err := e.db.Put(e.data.TeamLeader.ID, duty); err != nil {
		t.Fatal(err)
	}
	a, d := e.enrolled("tablet", lead.ID, tablet)
	hist, ok := menuSection(t, a, "帮扶力量调整记录（"+e.data.Town.Name+"）").(*app.ListScreen)
	if !ok {
		t.Fatalf("the town's history opens %T", a.Nav().Top())
	}
	i := -1
	for j, it := range hist.Items {
		if strings.Contains(it.Title, clerk.Name) {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("the town's history does not list the clerk's duty: %+v", hist.Items)
	}
	shoot(t, a.Window, "tablet-town-duties.png")
	hist.Open(i)
	a.Wait()
	f, ok := a.Nav().Top().(*app.AdjustForm)
	if !ok {
		t.Fatalf("the clerk's duty opens %T", a.Nav().Top())
	}
	test.Type(f.Reason, "调任县民政局")
	f.Departure.SetSelected("调离")
	test.Tap(f.Leave)
	a.Wait()
	if a.Nav().Top() != hist {
		t.Fatalf("recording the transfer failed: %s", f.Error.Text)
	}
	if c := must(d.db.Get(domain.KindCadre, clerk.ID)).(*domain.Cadre); c.Left != domain.Transferred {
		t.Errorf("the tablet's clerk: left %q", c.Left)
	}
	syncApp(t, a)
	if c := must(e.db.Get(domain.KindCadre, clerk.ID)).(*domain.Cadre); c.Left != domain.Transferred {
		t.Errorf("the server's clerk: left %q", c.Left)
	}
	if as := must(e.db.Get(domain.KindAssignment, duty.ID)).(*domain.Assignment); as.Current() {
		t.Error("the server's town duty of the clerk did not end")
	}
	if n := len(must(query.Assignments(e.db, clerk.ID))); n != 0 {
		t.Errorf("the clerk keeps %d current duties on the server", n)
	}
}
