package app

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// RulesForm is where a team leader sets the village's rules (帮扶规则): the
// three-level quotas, the days before a household is overdue and the roles
// that may approve a plan. They are saved on the village's record and sync
// to every device of the village (domain.Rules).
type RulesForm struct {
	County, Section, Other *widget.Entry
	OverdueDays            *widget.Entry
	BackdateDays           *widget.Entry // how many days back a visit's time may be set
	CorrectDays            *widget.Entry // for how many days a cadre may correct their visit
	Photos                 *widget.Entry // how many photos one visit, problem or measure may carry
	Approvers              *widget.CheckGroup
	// Inherited says the village has no rules of its own yet.
	Inherited *widget.Label
	Save      *widget.Button
	Saved     *widget.Label
	Error     *widget.Label

	app     *App
	village uuid.UUID
	place   *domain.Place
	rules   domain.Rules
	content fyne.CanvasObject
}

// approverRoles are the roles a village's rules may let approve plans.
var approverRoles = []domain.Role{domain.FirstSecretary, domain.TeamLeader, domain.GroupCadreLead, domain.VillageLead, domain.TownLead}

func newRulesForm(a *App, village uuid.UUID) *RulesForm {
	f := &RulesForm{app: a, village: village}
	f.County, f.Section, f.Other, f.OverdueDays = widget.NewEntry(), widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	f.BackdateDays = widget.NewEntry()
	f.CorrectDays = widget.NewEntry()
	f.Photos = widget.NewEntry()
	var names []string
	for _, r := range approverRoles {
		names = append(names, roleText(r))
	}
	f.Approvers = widget.NewCheckGroup(names, nil)
	f.Inherited = wrapLabel(lang.L("rules.inherited"))
	f.Inherited.Importance = widget.LowImportance
	f.Inherited.Hide()
	f.Save = widget.NewButton(lang.L("common.save"), f.save)
	f.Save.Importance = widget.HighImportance
	f.Saved = widget.NewLabel(lang.L("rules.saved"))
	f.Saved.Importance = widget.SuccessImportance
	f.Saved.Hide()
	f.Error = errorLabel()
	form := widget.NewForm(
		widget.NewFormItem(lang.L("rules.county"), f.County),
		widget.NewFormItem(lang.L("rules.section"), f.Section),
		widget.NewFormItem(lang.L("rules.other"), f.Other),
		widget.NewFormItem(lang.L("rules.overdue"), f.OverdueDays),
		widget.NewFormItem(lang.L("rules.backdate"), f.BackdateDays),
		widget.NewFormItem(lang.L("rules.correct"), f.CorrectDays),
		widget.NewFormItem(lang.L("rules.photos"), f.Photos),
		widget.NewFormItem(lang.L("rules.approvers"), f.Approvers),
	)
	hint := wrapLabel(lang.L("rules.hint"))
	hint.Importance = widget.LowImportance
	f.content = container.NewBorder(nil, container.NewVBox(f.Error, f.Saved, f.Save), nil, nil,
		container.NewVScroll(container.NewVBox(hint, f.Inherited, form)))
	return f
}

// Title returns "帮扶规则".
func (f *RulesForm) Title() string { return lang.L("rules.title") }

// Content returns the form.
func (f *RulesForm) Content() fyne.CanvasObject { return f.content }

func (f *RulesForm) load() {
	a := f.app
	a.tasks.run(func() func() {
		rules, err := a.db.Rules(f.village)
		var place *domain.Place
		if err == nil {
			var rec domain.Record
			if rec, err = a.db.Get(domain.KindPlace, f.village); err == nil {
				place = rec.(*domain.Place)
			}
		}
		return func() {
			if err != nil {
				f.Error.SetText(errText(err))
				f.Error.Show()
				return
			}
			f.place, f.rules = place, rules
			f.County.SetText(strconv.Itoa(rules.County))
			f.Section.SetText(strconv.Itoa(rules.Section))
			f.Other.SetText(strconv.Itoa(rules.Other))
			f.OverdueDays.SetText(strconv.Itoa(rules.OverdueDays))
			f.BackdateDays.SetText(strconv.Itoa(rules.Backdate()))
			f.CorrectDays.SetText(strconv.Itoa(rules.Correct()))
			f.Photos.SetText(strconv.Itoa(rules.PhotoLimit()))
			var sel []string
			for _, r := range rules.Approvers {
				sel = append(sel, roleText(r))
			}
			f.Approvers.SetSelected(sel)
			if place.Rules == nil {
				f.Inherited.Show()
			} else {
				f.Inherited.Hide()
			}
		}
	})
}

// record returns the village with the rules as entered.
func (f *RulesForm) record() (*domain.Place, error) {
	if f.place == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "village", "本设备上没有这个村的记录", "this device does not hold the village")
	}
	r := f.rules
	for _, x := range []struct {
		e   *widget.Entry
		dst *int
	}{{f.County, &r.County}, {f.Section, &r.Section}, {f.Other, &r.Other}, {f.OverdueDays, &r.OverdueDays}, {f.BackdateDays, &r.BackdateDays}, {f.CorrectDays, &r.CorrectDays}, {f.Photos, &r.Photos}} {
		v, err := strconv.Atoi(strings.TrimSpace(x.e.Text))
		if err != nil {
			return nil, domain.Errorf(domain.EINVALID, "rules", "请填写整数", "enter whole numbers")
		}
		*x.dst = v
	}
	r.Approvers = nil
	for _, role := range approverRoles {
		for _, s := range f.Approvers.Selected {
			if s == roleText(role) {
				r.Approvers = append(r.Approvers, role)
			}
		}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	p := *f.place
	p.Rules = &r
	return &p, nil
}

func (f *RulesForm) save() {
	f.Saved.Hide()
	p, err := f.record()
	f.app.saveRecord(p, err, f.Save, f.Error, func() {
		f.place = p
		f.Inherited.Hide()
		f.Saved.Show()
		f.app.changed()
	})
}

// villageRules returns the rules in force in the cadre's village (the first
// they lead, else that of their first group or paired household) and
// whether a village or town record sets them (rather than this device's own
// settings). It reads the store: call it off the UI goroutine.
func (a *App) villageRules() (domain.Rules, bool, error) {
	village := uuid.Nil
	if len(a.villages) > 0 {
		village = a.villages[0].ID
	} else if as, err := query.Assignments(a.db, a.cadre); err == nil {
		for _, x := range as {
			group := x.Target
			if x.Role.IsPairing() {
				rec, err := a.db.Get(domain.KindHousehold, x.Target)
				if err != nil {
					continue
				}
				group = rec.(*domain.Household).Group
			}
			if rec, err := a.db.Get(domain.KindPlace, group); err == nil {
				if p := rec.(*domain.Place); p.Level == domain.Group {
					village = p.Parent
					break
				}
			}
		}
	}
	if village == uuid.Nil {
		return domain.Rules{}, false, nil
	}
	r, err := a.db.Rules(village)
	if err != nil {
		return r, false, err
	}
	inData := false
	if rec, err := a.db.Get(domain.KindPlace, village); err == nil {
		p := rec.(*domain.Place)
		inData = p.Rules != nil
		if !inData {
			if rec, err := a.db.Get(domain.KindPlace, p.Parent); err == nil {
				inData = rec.(*domain.Place).Rules != nil
			}
		}
	}
	return r, inData, nil
}
