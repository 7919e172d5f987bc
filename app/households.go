package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/store/query"
)

// Households is a list of households, overdue first, searched as you type: a
// cadre's "my households", or for a team leader a village's or a group's. The
// list is virtual, so thousands of rows scroll smoothly.
type Households struct {
	// Search filters the list by name, phone, ID tail or pinyin initials.
	Search *widget.Entry
	// List shows the rows that match; Rows returns them.
	List *widget.List
	// Count says how many households are shown, out of how many.
	Count *widget.Label
	// Error shows why the list could not be read.
	Error *widget.Label

	app     *App
	title   string
	fetch   func() ([]query.HouseholdRow, error)
	filter  func(query.HouseholdRow) bool
	actions []fyne.CanvasObject
	all     []query.HouseholdRow
	shown   []query.HouseholdRow
	loaded  bool
	drafts  map[uuid.UUID]bool // households with a visit draft waiting
	content fyne.CanvasObject
}

// newHouseholds returns a list titled title whose rows fetch reads (off the
// UI goroutine); filter, if not nil, keeps only some of them.
func newHouseholds(a *App, title string, fetch func() ([]query.HouseholdRow, error), filter func(query.HouseholdRow) bool) *Households {
	h := &Households{app: a, title: title, fetch: fetch, filter: filter}
	h.Search = widget.NewEntry()
	h.Search.SetPlaceHolder(lang.L("households.search_hint"))
	h.Search.OnChanged = func(string) { h.apply() }
	h.Count = widget.NewLabel(lang.L("common.loading"))
	h.Count.SizeName = theme.SizeNameCaptionText
	h.Error = errorLabel()
	h.List = widget.NewList(
		func() int { return len(h.shown) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			info := widget.NewLabel("")
			info.Truncation = fyne.TextTruncateEllipsis
			return container.NewVBox(name, info)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(h.shown) {
				return
			}
			r := h.shown[id]
			box := o.(*fyne.Container)
			name, info := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
			// One refresh per label: rows are refilled on every scroll.
			if text := join(r.HeadName, r.GroupName, statusText(r.Status)); name.Text != text {
				name.Text = text
				name.Refresh()
			}
			imp := widget.MediumImportance
			if r.Overdue {
				imp = widget.DangerImportance
			}
			text := rowInfo(r)
			if h.drafts[r.ID] {
				text = join(text, lang.L("households.draft"))
			}
			if info.Text != text || info.Importance != imp {
				info.Text, info.Importance = text, imp
				info.Refresh()
			}
		})
	h.List.OnSelected = func(id widget.ListItemID) {
		if id >= len(h.shown) {
			return
		}
		r := h.shown[id]
		if a.nav.Master() != Screen(h) {
			// A list shown as a detail (a team leader's 全村农户): the card
			// goes on top of it, so the back arrow returns to the list as
			// it was, search text and scroll position included.
			h.List.UnselectAll()
			a.nav.Push(newCard(a, r.ID))
			return
		}
		if a.nav.Phone() {
			h.List.UnselectAll()
		}
		a.nav.Open(newCard(a, r.ID))
	}
	top := container.NewVBox(h.Search, h.Error)
	h.content = container.NewBorder(top, h.Count, nil, nil, h.List)
	return h
}

// rowInfo is the second line of a household row: days since the last visit
// and open problems.
func rowInfo(r query.HouseholdRow) string {
	parts := []string{daysText(r.DaysSince)}
	if r.OpenProblems > 0 {
		parts = append(parts, count("households.open_problems", r.OpenProblems))
	}
	return join(parts...)
}

// Title returns the list's title.
func (h *Households) Title() string { return h.title }

// Content returns the search box, the list and the count.
func (h *Households) Content() fyne.CanvasObject { return h.content }

func (h *Households) unselect() { h.List.UnselectAll() }

// Actions returns the buttons of the list's header.
func (h *Households) Actions() []fyne.CanvasObject { return h.actions }

// Rows returns the rows shown, in order.
func (h *Households) Rows() []query.HouseholdRow {
	return append([]query.HouseholdRow(nil), h.shown...)
}

// load reads the rows in the background and shows them.
func (h *Households) load() {
	h.app.tasks.run(func() func() {
		rows, err := h.fetch()
		if err == nil && h.filter != nil {
			kept := rows[:0]
			for _, r := range rows {
				if h.filter(r) {
					kept = append(kept, r)
				}
			}
			rows = kept
		}
		drafts := map[uuid.UUID]bool{}
		keys, _ := h.app.db.DraftKeys(draftPrefix) // a list without its flags is still a list
		for _, k := range keys {
			if id, perr := uuid.Parse(strings.TrimPrefix(k, draftPrefix)); perr == nil {
				drafts[id] = true
			}
		}
		return func() {
			if err != nil {
				h.Error.SetText(errText(err))
				h.Error.Show()
				return
			}
			h.Error.Hide()
			h.all, h.loaded, h.drafts = rows, true, drafts
			h.apply()
		}
	})
}

// apply filters the rows by the search text.
func (h *Households) apply() {
	q := h.Search.Text
	if q == "" {
		h.shown = h.all
	} else {
		h.shown = make([]query.HouseholdRow, 0, len(h.all))
		for _, r := range h.all {
			if query.Match(r, q) {
				h.shown = append(h.shown, r)
			}
		}
	}
	switch {
	case !h.loaded:
		h.Count.SetText(lang.L("common.loading"))
	case len(h.shown) == 0:
		h.Count.SetText(lang.L("households.empty"))
	case len(h.shown) == len(h.all):
		h.Count.SetText(count("households.count", len(h.all)))
	default:
		h.Count.SetText(fmt.Sprintf("%d / %d", len(h.shown), len(h.all)))
	}
	h.List.UnselectAll()
	h.List.Refresh()
}
