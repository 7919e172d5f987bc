package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"bangfu/domain"
	"bangfu/store/query"
)

// exits are the ways a household leaves the roster, in the form's order.
var exits = []domain.Exit{domain.MovedOut, domain.Merged, domain.Gone}

// exitSection is the part of the correction form where a team leader
// moves the household to another 社 of the village (saved with the form),
// or records that it moved out, merged into another or no longer exists:
// with the day and the reason, that ends the household's pairings and
// duties in the same save. The record stays, for the history
// (帮扶力量调整记录); lists, checks and scopes leave it out.
func (f *CorrectForm) exitSection() fyne.CanvasObject {
	var names []string
	for _, e := range exits {
		names = append(names, exitText(e))
	}
	f.Exit = widget.NewRadioGroup(names, nil)
	f.Exit.Horizontal = true
	f.ExitDay = newDateEntry()
	today := dayStart(f.app.now())
	f.ExitDay.SetDate(&today)
	f.ExitReason = widget.NewEntry()
	f.ExitReason.SetPlaceHolder(lang.L("exit.reason_hint"))
	f.Leave = widget.NewButton(lang.L("exit.save"), f.leave)
	f.Leave.Importance = widget.DangerImportance
	hint := wrapLabel(lang.L("exit.hint"))
	hint.Importance = widget.LowImportance
	form := widget.NewForm(
		widget.NewFormItem(lang.L("exit.day"), f.ExitDay),
		widget.NewFormItem(lang.L("exit.reason"), f.ExitReason),
	)
	f.Group = widget.NewSelect(nil, nil)
	f.Group.PlaceHolder = lang.L("common.loading")
	move := widget.NewForm(widget.NewFormItem(lang.L("exit.group"), f.Group))
	moveHint := wrapLabel(lang.L("exit.group_hint"))
	moveHint.Importance = widget.LowImportance
	return container.NewVBox(section(lang.L("exit.title")), move, moveHint, hint, f.Exit, form, f.Leave)
}

// load reads the groups of the household's village for Group, on a team
// leader's tablet.
func (f *CorrectForm) load() {
	if f.Group == nil {
		return
	}
	a, group := f.app, f.h.Group
	a.tasks.run(func() func() {
		var groups []*domain.Place
		rec, err := a.db.Get(domain.KindPlace, group)
		if err == nil {
			groups, err = query.Places(a.db, domain.Group, rec.(*domain.Place).Parent)
		}
		return func() {
			if err != nil {
				f.Error.SetText(errText(err))
				f.Error.Show()
				return
			}
			f.groups = groups
			var names []string
			for _, g := range groups {
				names = append(names, g.Name)
			}
			f.Group.SetOptions(names)
			for i, g := range groups {
				if g.ID == group {
					f.Group.SetSelectedIndex(i)
				}
			}
		}
	})
}

// leave saves the household as gone (with any corrections typed above) and
// ends its current assignments.
func (f *CorrectForm) leave() {
	h, err := f.exitRecord()
	if err != nil {
		f.Error.SetText(errText(err))
		f.Error.Show()
		return
	}
	f.Error.Hide()
	a := f.app
	villages := append([]*domain.Place(nil), a.villages...)
	f.Leave.Disable()
	author := a.cadre
	a.tasks.run(func() func() {
		recs := []domain.Record{h}
		zh, _ := domain.ExitName(h.Exit) // in Chinese, as the import writes it
		why := "户" + zh
		var err error
		for _, v := range villages {
			hist, e := query.History(a.db, v.ID)
			if e != nil {
				err = e
				break
			}
			for _, x := range hist.Adjustments {
				if as := *x.Assignment; as.Target == h.ID && as.Current() {
					end := h.ExitOn
					if end.Before(as.Since) {
						end = as.Since
					}
					as.End(end, why)
					recs = append(recs, &as)
				}
			}
		}
		if err == nil {
			err = a.db.Put(author, recs...)
		}
		return func() {
			f.Leave.Enable()
			if err != nil {
				f.Error.SetText(errText(err))
				f.Error.Show()
				return
			}
			a.changed()
			a.nav.Pop()
		}
	})
}

// exitRecord returns the household as corrected and ended, or why not.
func (f *CorrectForm) exitRecord() (*domain.Household, error) {
	var exit domain.Exit
	for _, e := range exits {
		if exitText(e) == f.Exit.Selected {
			exit = e
		}
	}
	if exit == "" {
		return nil, domain.Errorf(domain.EINVALID, "exit", "请选择迁出、并户或注销", "choose moved out, merged or no longer exists")
	}
	if f.ExitDay.Err != nil {
		return nil, f.ExitDay.Err
	}
	if f.ExitDay.Date == nil {
		return nil, domain.Errorf(domain.EINVALID, "exit_on", "请填写迁出或注销日期", "give the date the household left")
	}
	if f.ExitDay.Date.After(f.app.now()) {
		return nil, domain.Errorf(domain.EINVALID, "exit_on", "日期不能晚于今天", "the date cannot be after today")
	}
	reason := strings.TrimSpace(f.ExitReason.Text)
	if reason == "" {
		return nil, domain.Errorf(domain.EINVALID, "exit_reason", "请填写原因", "give the reason")
	}
	h, err := f.record()
	if err != nil {
		return nil, err
	}
	h.Exit, h.ExitOn, h.ExitReason = exit, *f.ExitDay.Date, reason
	h.Request = nil // a status request for a household that left is moot
	if err := h.Validate(f.app.now()); err != nil {
		return nil, err
	}
	return h, nil
}
