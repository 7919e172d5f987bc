package app_test

import (
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"bangfu/app"
)

// countingApp hands out windows whose canvas counts direct refreshes.
type countingApp struct {
	fyne.App
	refreshes *atomic.Int32
}

func (c countingApp) NewWindow(title string) fyne.Window {
	return countingWindow{Window: c.App.NewWindow(title), refreshes: c.refreshes}
}

type countingWindow struct {
	fyne.Window
	refreshes *atomic.Int32
}

func (w countingWindow) Canvas() fyne.Canvas {
	return countingCanvas{Canvas: w.Window.Canvas(), refreshes: w.refreshes}
}

type countingCanvas struct {
	fyne.Canvas
	refreshes *atomic.Int32
}

func (c countingCanvas) Refresh(o fyne.CanvasObject) {
	c.refreshes.Add(1)
	c.Canvas.Refresh(o)
}

// TestStatusRepaintsWindow (issue 10, finding 1): a sync's outcome that
// arrives from the background asks the window itself for a frame. Fyne 2.7.1
// marks a window to be drawn through a cache whose entries a redrawn window
// lets expire after a minute; a status that came after a long backoff
// changed the sync bar's labels but nothing drew them, and the bar said
// "1 条待同步 · 无法连接服务器" for up to a minute after the sync had
// succeeded. Under Xvfb with FYNE_CACHE=4s the same shows in seconds: a tap
// on the list is not drawn until the window is resized.
func TestStatusRepaintsWindow(t *testing.T) {
	e := newEnv(t)
	first, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	first.Window.Close()
	first.Wait()

	var n atomic.Int32
	a := app.New(countingApp{App: e.fa, refreshes: &n}, d.db, d.client,
		app.Options{NoPIN: true, Manual: true, DeferUI: true, Now: func() time.Time { return demoNow }})
	a.Window.Resize(phone)
	a.Show()
	a.Wait()
	t.Cleanup(func() { a.Window.Close(); a.Wait() })
	if a.Households == nil {
		t.Fatal("no household list")
	}
	n.Store(0)
	test.Tap(a.Bar.Sync)
	a.Wait()
	if a.Bar.Status.LastSync.IsZero() || a.Bar.Status.Err != nil {
		t.Fatalf("sync: %+v", a.Bar.Status)
	}
	if n.Load() == 0 {
		t.Fatal("the sync's outcome was shown without asking the window for a frame")
	}
}
