package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// statusRequests lists the households of a village whose status a cadre
// asked to change; each opens the screen that approves or refuses it.
func statusRequests(a *App, village uuid.UUID) Screen {
	return newListScreen(a, lang.L("requests.title"), func() ([]Item, error) {
		hs, err := query.StatusRequests(a.db, village)
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, h := range hs {
			h := h
			by := "" // read here, off the UI goroutine
			if rec, err := a.db.Get(domain.KindCadre, h.Request.By); err == nil {
				by = rec.(*domain.Cadre).Name
			}
			items = append(items, Item{
				Title:  join(h.HeadName, lang.L("requests.change", map[string]any{"From": statusText(h.Status), "To": statusText(h.Request.To)})),
				Detail: join(h.Request.Reason, dateText(h.Request.At)),
				Warn:   true,
				open:   func() { a.nav.Push(newRequestScreen(a, h, by)) },
			})
		}
		return items, nil
	})
}

// RequestScreen shows one status request with the household's facts, and
// approves it (the household takes the requested status) or refuses it (the
// request is withdrawn, the status stays).
type RequestScreen struct {
	Approve, Refuse *widget.Button
	Error           *widget.Label

	app     *App
	h       domain.Household
	content fyne.CanvasObject
}

func newRequestScreen(a *App, h *domain.Household, by string) *RequestScreen {
	s := &RequestScreen{app: a, h: *h}
	s.Approve = widget.NewButton(lang.L("requests.approve"), func() { s.decide(true) })
	s.Approve.Importance = widget.HighImportance
	s.Refuse = widget.NewButton(lang.L("requests.refuse"), func() { s.decide(false) })
	s.Error = errorLabel()
	body := container.NewVBox(
		widget.NewLabelWithStyle(h.HeadName, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		wrapLabel(lang.L("requests.change", map[string]any{"From": statusText(h.Status), "To": statusText(h.Request.To)})),
		wrapLabel(h.Request.Reason),
		wrapLabel(join(by, dateText(h.Request.At))),
		wrapLabel(join(count("households.members", h.Size), h.Income)),
	)
	s.content = container.NewBorder(nil, container.NewVBox(s.Error, container.NewGridWithColumns(2, s.Refuse, s.Approve)), nil, nil,
		container.NewVScroll(body))
	return s
}

// Title returns "户类型变更申请".
func (s *RequestScreen) Title() string { return lang.L("requests.title") }

// Content returns the screen.
func (s *RequestScreen) Content() fyne.CanvasObject { return s.content }

func (s *RequestScreen) decide(approve bool) {
	h := s.h
	if approve {
		h.Status = h.Request.To
	}
	h.Request = nil
	a := s.app
	author := a.cadre
	s.Approve.Disable()
	s.Refuse.Disable()
	a.tasks.run(func() func() {
		err := a.db.Put(author, &h)
		return func() {
			s.Approve.Enable()
			s.Refuse.Enable()
			if err != nil {
				s.Error.SetText(errText(err))
				s.Error.Show()
				return
			}
			a.changed()
			a.nav.Pop()
		}
	})
}
