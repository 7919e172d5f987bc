package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// Item is one row of a ListScreen.
type Item struct {
	Title  string
	Detail string
	Warn   bool   // shown in the warning colour
	open   func() // what tapping the row does; nil for none
}

// ListScreen is a titled, virtual list of rows read from the store, each of
// which may open a screen: problems, plans awaiting review, gaps, conflicts,
// cadres.
type ListScreen struct {
	List *widget.List
	// Items are the rows shown.
	Items []Item
	// Info says how many rows there are, or that there are none.
	Info  *widget.Label
	Error *widget.Label

	app     *App
	title   string
	fetch   func() ([]Item, error)
	content fyne.CanvasObject
}

func newListScreen(a *App, title string, fetch func() ([]Item, error)) *ListScreen {
	s := &ListScreen{app: a, title: title, fetch: fetch}
	s.Info = widget.NewLabel(lang.L("common.loading"))
	s.Error = errorLabel()
	s.List = widget.NewList(
		func() int { return len(s.Items) },
		func() fyne.CanvasObject {
			t := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			t.Truncation = fyne.TextTruncateEllipsis
			d := widget.NewLabel("")
			d.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(t, d)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(s.Items) {
				return
			}
			it := s.Items[id]
			box := o.(*fyne.Container)
			t, d := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
			t.SetText(it.Title)
			d.SetText(it.Detail)
			if it.Warn {
				d.Importance = widget.WarningImportance
			} else {
				d.Importance = widget.MediumImportance
			}
			d.Refresh()
		})
	s.List.OnSelected = func(id widget.ListItemID) {
		s.List.UnselectAll()
		if id < len(s.Items) && s.Items[id].open != nil {
			s.Items[id].open()
		}
	}
	s.content = container.NewBorder(s.Error, s.Info, nil, nil, s.List)
	return s
}

// Title returns the list's title.
func (s *ListScreen) Title() string { return s.title }

// Content returns the list.
func (s *ListScreen) Content() fyne.CanvasObject { return s.content }

// Open taps the i-th row.
func (s *ListScreen) Open(i int) { s.List.Select(i) }

func (s *ListScreen) load() {
	s.app.tasks.run(func() func() {
		items, err := s.fetch()
		return func() {
			if err != nil {
				s.Error.SetText(errText(err))
				s.Error.Show()
				return
			}
			s.Error.Hide()
			s.Items = items
			if len(items) == 0 {
				s.Info.SetText(lang.L("list.empty"))
			} else {
				s.Info.SetText(count("list.count", len(items)))
			}
			s.List.Refresh()
		}
	})
}
