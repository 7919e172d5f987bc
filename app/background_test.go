package app_test

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/store/query"
	"bangfu/sync/client"
)

// eventually polls cond on the UI goroutine until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ok := false
		fyne.DoAndWait(func() { ok = cond() })
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within 10 s", what)
}

// TestBackgroundSync: with the background loop on (as in the real app), a
// saved visit is sent without touching the Sync button, the bar follows, and a
// plan signed off elsewhere shows up on the open plan screen when a sync lands.
//
// The test driver runs fyne.Do on the calling goroutine, so the loop's status
// updates touch widgets from its own goroutine: the race detector would flag
// the driver, not the app, and the test does not run under it.
func TestBackgroundSync(t *testing.T) {
	if raceEnabled {
		t.Skip("the test driver runs fyne.Do off the UI goroutine")
	}
	e := newEnv(t)
	first, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	first.Window.Close()
	first.Wait()
	// The real clock for the time of the last sync, which the bar compares.
	cl, err := client.New(d.db, client.Options{Interval: -1, Logger: quiet, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	d = &device{db: d.db, client: cl}
	a := e.openWith(d, phone, app.Options{Now: func() time.Time { return demoNow }})
	eventually(t, "the list", func() bool { return a.Households != nil && len(a.Households.Rows()) > 0 })

	// A household with a submitted plan.
	idx := -1
	for i, r := range a.Households.Rows() {
		if c := must(query.Card(d.db, r.ID, demoNow)); c.Plan != nil && c.Plan.Status == domain.PlanSubmitted {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("no submitted plan among the cadre's households")
	}
	row := a.Households.Rows()[idx]
	var p *app.PlanScreen
	fyne.DoAndWait(func() { a.Households.List.Select(idx) })
	eventually(t, "the card", func() bool { c, ok := a.Nav().Top().(*app.Card); return ok && c.Data != nil })
	fyne.DoAndWait(func() { test.Tap(a.Nav().Top().(*app.Card).RecordVisit) })
	eventually(t, "the form", func() bool { _, ok := a.Nav().Top().(*app.VisitForm); return ok })
	fyne.DoAndWait(func() {
		f := a.Nav().Top().(*app.VisitForm)
		test.Type(f.Notes, "后台同步的走访")
		test.Tap(f.Save)
	})
	eventually(t, "the visit reaching the server", func() bool {
		for _, v := range must(query.Card(e.db, row.ID, demoNow)).Visits {
			if v.Notes == "后台同步的走访" {
				return true
			}
		}
		return false
	})
	eventually(t, "the bar showing nothing waiting", func() bool {
		return a.Bar.Status.Pending == 0 && a.Bar.Waiting.Text == "没有待同步的修改"
	})

	fyne.DoAndWait(func() { test.Tap(a.Nav().Top().(*app.Card).OpenPlan) })
	eventually(t, "the plan", func() bool {
		pl, ok := a.Nav().Top().(*app.PlanScreen)
		p = pl
		return ok && pl.Data != nil
	})
	// The leader signs it off on the server's side.
	plan := *must(query.Card(e.db, row.ID, demoNow)).Plan
	plan.Status = domain.PlanApproved
	rv := &domain.Review{Plan: plan.ID, Household: plan.Household, Reviewer: e.data.TeamLeader.ID,
		Verdict: domain.VerdictApprove, Comment: "同意", At: demoNow}
	if err := e.db.Put(e.data.TeamLeader.ID, rv, &plan); err != nil {
		t.Fatal(err)
	}
	d.client.Trigger() // what the loop's timer does every few minutes
	eventually(t, "the signed-off plan on the open screen", func() bool {
		return strings.HasPrefix(p.Status.Text, "已审核")
	})
}
