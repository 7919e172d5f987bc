package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/store/query"
)

// TestCadreFlow: a group cadre enrols a phone against a real server, records
// a visit, sees the waiting count go up, syncs and sees it go to zero; the
// server has the visit.
func TestCadreFlow(t *testing.T) {
	e := newEnv(t)
	a, _ := e.enrolled("马兴文的手机", e.data.GroupCadre.ID, phone)
	if a.Leader() {
		t.Fatal("a group cadre is taken for a leader")
	}
	if a.Households == nil {
		t.Fatal("no household list after enrolment")
	}
	rows := a.Households.Rows()
	want, err := query.MyHouseholds(e.db, e.data.GroupCadre.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) || len(rows) == 0 {
		t.Fatalf("the list shows %d households, the server has %d for the cadre", len(rows), len(want))
	}
	for i := range rows {
		if rows[i].ID != want[i].ID {
			t.Fatalf("row %d is %s, want %s (overdue first)", i, rows[i].HeadName, want[i].HeadName)
		}
	}
	if got := labelText(t, a.Bar.Waiting); got != "没有待同步的修改" {
		t.Errorf("waiting after the first sync = %q", got)
	}

	// Record a visit.
	h := rows[0]
	a.Households.List.Select(0)
	a.Wait()
	card, ok := a.Nav().Top().(*app.Card)
	if !ok {
		t.Fatalf("tapping a household opens %T", a.Nav().Top())
	}
	test.Tap(card.RecordVisit)
	a.Wait()
	form := a.Nav().Top().(*app.VisitForm)
	test.Type(form.Notes, "家中一切正常，讲解了医保政策。")
	test.Tap(form.Save)
	a.Wait()
	if got := labelText(t, a.Bar.Waiting); !strings.Contains(got, "条待同步") {
		t.Errorf("waiting after a visit = %q, want a count", got)
	}
	if a.Bar.Status.Pending == 0 {
		t.Error("the waiting count did not go up")
	}

	test.Tap(a.Bar.Sync)
	a.Wait()
	if got := labelText(t, a.Bar.Waiting); got != "没有待同步的修改" {
		t.Errorf("waiting after sync = %q", got)
	}
	if a.Bar.Error.Visible() {
		t.Errorf("sync error: %s", a.Bar.Error.Text)
	}
	c, err := query.Card(e.db, h.ID, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Visits) == 0 || c.Visits[0].Notes != "家中一切正常，讲解了医保政策。" || c.Visits[0].Cadre != e.data.GroupCadre.ID {
		t.Fatalf("the server does not have the visit: %+v", c.Visits)
	}
}
