package app_test

import (
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/domain/demo"
)

// TestManyHouseholds: a town lead's tablet with a town of 5,000 households.
// The first screen shows its rows after a restart, and the list of every
// household opens whole, scrolls and filters. The times (targets: the first
// screen within a second, a row scrolled within a 60 Hz frame) are logged,
// not asserted — the machines here are shared and noisy
// (go test -tags ci -v -run TestManyHouseholds ./app).
func TestManyHouseholds(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds and syncs a town of 5,000 households, and measures times")
	}
	start := time.Now()
	d := demo.Town(1, demoNow, 5000)
	e := newEnvWith(t, d)
	t.Logf("server with %d households, %d records: %v", len(d.Households), len(d.Records()), time.Since(start))
	var lead *domain.Cadre
	for _, as := range d.Assignments {
		if as.Role == domain.TownLead {
			for _, c := range d.Cadres {
				if c.ID == as.Cadre {
					lead = c
				}
			}
		}
	}
	if lead == nil {
		t.Fatal("the demo town has no town lead")
	}

	start = time.Now()
	a, dev := e.enrolled("tablet", lead.ID, tablet)
	t.Logf("enrol and first sync of the town: %v", time.Since(start))
	if !a.Leader() || a.Menu == nil {
		t.Fatal("the town lead is not shown the leader's screens")
	}
	a.Window.Close()
	a.Wait()

	// A restart: from Show to the first screen with its data.
	start = time.Now()
	a = e.open(dev, tablet)
	first := time.Since(start)
	ov, ok := a.Nav().Top().(*app.Overview)
	if !ok || len(ov.Rows()) == 0 {
		t.Fatalf("the first screen is %T without rows", a.Nav().Top())
	}
	t.Logf("first screen (village overview) after a restart: %v", first)

	// Every household of the town.
	idx := -1
	for i := 0; i < a.Menu.List.Length(); i++ {
		a.Menu.List.Select(i)
		a.Wait()
		if h, ok := a.Nav().Top().(*app.Households); ok && h.Title() == "全部农户" {
			idx = i
			break
		}
	}
	if idx < 0 {
		t.Fatal("a town lead has no list of every household")
	}
	start = time.Now()
	a.Menu.List.Unselect(idx)
	a.Menu.List.Select(idx)
	a.Wait()
	list := a.Nav().Top().(*app.Households)
	t.Logf("list of %d households: %v", len(list.Rows()), time.Since(start))
	if len(list.Rows()) != len(d.Households) {
		t.Fatalf("the list has %d rows, the town %d", len(list.Rows()), len(d.Households))
	}

	// Scrolling. A finger moves the list a row or so per frame: each step
	// lays out the list and fills the row that comes into view, which is the
	// app's share of a frame. A jump far down refills every row in view.
	const steps = 300
	var worst time.Duration
	start = time.Now()
	for i := 0; i < steps; i++ {
		t0 := time.Now()
		list.List.ScrollTo(2000 + i)
		worst = max(worst, time.Since(t0))
	}
	per := time.Since(start) / steps
	t.Logf("scroll: %v per row, worst %v", per, worst)
	const jumps = 50
	start = time.Now()
	for i := 0; i < jumps; i++ {
		list.List.ScrollTo(i * 4999 / (jumps - 1))
	}
	t.Logf("jump to a far row (every row in view refilled): %v each", time.Since(start)/jumps)
	t0 := time.Now()
	a.Window.Canvas().Capture()
	t.Logf("one software render of the window: %v", time.Since(t0))

	// Search as you type over all of them.
	t0 = time.Now()
	test.Type(list.Search, "w")
	t.Logf("filter %d households by one keystroke: %v (%d match)", len(d.Households), time.Since(t0), len(list.Rows()))
}
