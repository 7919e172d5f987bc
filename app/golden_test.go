package app_test

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
)

// The main screens, rendered with the app's CJK theme, against golden markup
// in testdata/ (a changed screen fails the test and writes the new markup to
// testdata/failed/ to compare).

func TestGoldenCadreScreens(t *testing.T) {
	e := newEnv(t)
	d := e.newDevice("phone")
	a := e.open(d, phone)
	test.AssertRendersToMarkup(t, "enroll_phone.xml", a.Window.Canvas())

	a.Enroll.Server.SetText(e.url)
	a.Enroll.Code.SetText(e.code(e.data.GroupCadre.ID))
	a.Enroll.Name.SetText("马兴文的手机")
	test.Tap(a.Enroll.Submit)
	a.Wait()
	a.Window.Canvas().Unfocus()
	test.AssertRendersToMarkup(t, "households_phone.xml", a.Window.Canvas())

	openVisitForm(t, a)
	test.AssertRendersToMarkup(t, "visit_phone.xml", a.Window.Canvas())
	test.Tap(a.Nav().Back)
	a.Wait()
	if _, ok := a.Nav().Top().(*app.Card); !ok {
		t.Fatalf("back from the visit form shows %T", a.Nav().Top())
	}
	test.AssertRendersToMarkup(t, "card_phone.xml", a.Window.Canvas())
}

func TestGoldenLeaderScreens(t *testing.T) {
	e := newEnv(t)
	a, _, _ := leaderOverview(t, e)
	test.AssertRendersToMarkup(t, "overview_tablet.xml", a.Window.Canvas())
	a.Menu.List.Select(1)
	a.Wait()
	plans := a.Nav().Top().(*app.ListScreen)
	test.AssertRendersToMarkup(t, "plans_tablet.xml", a.Window.Canvas())
	plans.Open(0)
	a.Wait()
	test.AssertRendersToMarkup(t, "review_tablet.xml", a.Window.Canvas())
}
