package app_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"bangfu/domain/demo"
	"bangfu/store"
)

// cst is China Standard Time, the zone the app runs in.
var cst = time.FixedZone("CST", 8*3600)

// demoNow is "now" for the demo village: a weekday morning.
var demoNow = time.Date(2025, 3, 12, 9, 30, 0, 0, cst)

var (
	demoOnce sync.Once
	demoData *demo.Data
)

// village returns the demo village 王坪村, generated once per test binary.
func village() *demo.Data {
	demoOnce.Do(func() { demoData = demo.Village(1, demoNow) })
	return demoData
}

// openStore opens a new store in a temporary directory with its clock fixed at
// demoNow, and closes it when the test ends.
func openStore(tb testing.TB, name string) *store.DB {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), name), &store.Options{Now: func() time.Time { return demoNow }, NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// loadDemo writes the demo village into db.
func loadDemo(tb testing.TB, db *store.DB) *demo.Data {
	tb.Helper()
	d := village()
	office := d.TeamLeader.ID
	if err := db.Put(office, d.Records()...); err != nil {
		tb.Fatalf("load demo: %v", err)
	}
	return d
}

// texts returns the text of every label, hyperlink, entry and button under o
// that is visible, in layout order, so tests read a screen as a person would.
func texts(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(obj fyne.CanvasObject) {
		if v, ok := obj.(*canvas.Text); ok && v.Text != "" {
			out = append(out, v.Text)
		}
	})
	return out
}

// walk calls fn for o and every object drawn under it that is not hidden,
// itself or through a hidden parent.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			walk(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			walk(c, fn)
		}
	}
}

// screenText joins the visible text under o.
func screenText(o fyne.CanvasObject) string { return strings.Join(texts(o), "\n") }

// tapText taps the visible text s in window w through the canvas, as a finger
// would: on the widget drawn under it.
func tapText(t *testing.T, w fyne.Window, s string) {
	t.Helper()
	var found *canvas.Text
	walk(w.Content(), func(obj fyne.CanvasObject) {
		if txt, ok := obj.(*canvas.Text); ok && txt.Text == s && found == nil {
			found = txt
		}
	})
	if found != nil {
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(found)
		// The middle of the glyphs: a leading-aligned label's text object is
		// often wider than its text.
		x := min(found.MinSize().Width, found.Size().Width) / 2
		if found.Alignment == fyne.TextAlignCenter {
			x = found.Size().Width / 2
		}
		test.TapCanvas(w.Canvas(), pos.Add(fyne.NewPos(x, found.Size().Height/2)))
		return
	}
	t.Fatalf("no visible text %q on screen:\n%s", s, screenText(w.Content()))
}

// labelText returns a label's text, failing if it is hidden.
func labelText(t *testing.T, l *widget.Label) string {
	t.Helper()
	if !l.Visible() {
		t.Fatalf("label is hidden (text %q)", l.Text)
	}
	return l.Text
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// widgetCell is a cell of a table.
func widgetCell(row, col int) widget.TableCellID { return widget.TableCellID{Row: row, Col: col} }
