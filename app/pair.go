package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// pairButtons returns, on a tablet of a leader who may write the roster at
// the household (Card.mayRoster), a button for each level
// of the three-level assistance (县级领导, 科级干部, 帮扶责任人) the household
// of a current card lacks, which opens the PairForm for it; nil elsewhere.
func (c *Card) pairButtons(card *query.HouseholdCard) []*widget.Button {
	if !c.mayRoster || !card.Household.Current() {
		return nil
	}
	have := map[domain.Role]bool{}
	for _, hp := range card.Helpers {
		have[hp.Role] = true
	}
	var out []*widget.Button
	for _, role := range []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper} {
		if have[role] {
			continue
		}
		role := role
		household, head := card.Household.ID, card.Household.HeadName
		b := widget.NewButtonWithIcon(lang.L("pair.add", map[string]any{"Role": roleText(role)}), theme.ContentAddIcon(), func() {
			c.app.nav.Push(newPairForm(c.app, household, head, role))
		})
		b.Importance = widget.WarningImportance
		out = append(out, b)
	}
	return out
}

// PairForm pairs a cadre with a household in a role (a level of the
// three-level assistance) from a day: what a team leader does on the tablet
// for a household the gaps list names. Only current cadres of the rank the
// role needs are offered; saved on the tablet and synced like any edit.
type PairForm struct {
	Cadre *widget.Select
	Since *DateEntry
	Save  *widget.Button
	Error *widget.Label

	app       *App
	household uuid.UUID
	head      string
	role      domain.Role
	cadres    []*domain.Cadre // Cadre's options, in order
	content   fyne.CanvasObject
}

func newPairForm(a *App, household uuid.UUID, head string, role domain.Role) *PairForm {
	f := &PairForm{app: a, household: household, head: head, role: role}
	f.Cadre = widget.NewSelect(nil, nil)
	f.Cadre.PlaceHolder = lang.L("common.loading")
	f.Since = newDateEntry()
	today := dayStart(a.now())
	f.Since.SetDate(&today)
	f.Save = widget.NewButton(lang.L("common.save"), f.save)
	f.Save.Importance = widget.HighImportance
	f.Error = errorLabel()
	what := wrapLabel(join(head, roleText(role)))
	what.TextStyle.Bold = true
	form := widget.NewForm(
		widget.NewFormItem(lang.L("pair.cadre"), f.Cadre),
		widget.NewFormItem(lang.L("pair.since"), f.Since),
	)
	f.content = container.NewBorder(nil, container.NewVBox(f.Error, f.Save), nil, nil,
		container.NewVScroll(container.NewVBox(what, form)))
	return f
}

// Title returns "补充结对".
func (f *PairForm) Title() string { return lang.L("pair.title") }

// Content returns the form.
func (f *PairForm) Content() fyne.CanvasObject { return f.content }

// load reads the cadres who may take the role.
func (f *PairForm) load() {
	a := f.app
	a.tasks.run(func() func() {
		cadres, err := query.Cadres(a.db)
		var list []*domain.Cadre
		for _, c := range cadres {
			if want := pairingRankOf(f.role); c.Current() && (want == "" || c.Rank == want) {
				list = append(list, c)
			}
		}
		return func() {
			if err != nil {
				f.Error.SetText(errText(err))
				f.Error.Show()
				return
			}
			f.cadres = list
			var names []string
			for _, c := range list {
				names = append(names, join(c.Name, rankText(c.Rank), c.Unit))
			}
			f.Cadre.PlaceHolder = lang.L("pair.cadre_hint")
			f.Cadre.SetOptions(names)
		}
	})
}

// record returns the new pairing, or why it cannot be saved.
func (f *PairForm) record() (*domain.Assignment, error) {
	i := f.Cadre.SelectedIndex()
	if i < 0 || i >= len(f.cadres) {
		return nil, domain.Errorf(domain.EINVALID, "cadre", "请选择结对的干部", "choose the cadre")
	}
	if f.Since.Err != nil {
		return nil, f.Since.Err
	}
	if f.Since.Date == nil {
		return nil, domain.Errorf(domain.EINVALID, "since", "请填写开始日期", "give the start date")
	}
	if f.Since.Date.After(f.app.now()) {
		return nil, domain.Errorf(domain.EINVALID, "since", "开始日期不能晚于今天", "the start date cannot be after today")
	}
	a := &domain.Assignment{Cadre: f.cadres[i].ID, Role: f.role, Target: f.household, Since: *f.Since.Date}
	if err := a.Validate(f.app.now()); err != nil {
		return nil, err
	}
	return a, nil
}

func (f *PairForm) save() {
	rec, err := f.record()
	f.app.saveRecord(rec, err, f.Save, f.Error, func() {
		f.app.changed()
		f.app.nav.Pop()
	})
}
