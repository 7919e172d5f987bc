package app

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

var progressOptions = []domain.Progress{domain.NotStarted, domain.InProgress, domain.Done, domain.Stuck}

// PlanScreen is a household's plan (一户一策): its goal, its measures with
// their progress, which can be moved on the spot, and the team leader's
// comments. A cadre adds and edits measures and submits the plan for review.
type PlanScreen struct {
	// Goal is the plan's goal; SaveGoal creates the plan or saves the goal.
	Goal     *widget.Entry
	SaveGoal *widget.Button
	// Status says where the plan stands in review.
	Status *widget.Label
	// Submit sends the plan to the team leader for review.
	Submit *widget.Button
	// Measures lists the measures; Progress[i] moves the progress of the i-th.
	Measures *fyne.Container
	Progress []*widget.Select
	// Edit[i] opens the i-th measure for editing.
	Edit []*widget.Button
	// MeasurePhotos[i] are the photos of the i-th measure's progress (nil
	// when none); AddPhoto[i] adds one, saved at once with its record.
	MeasurePhotos []*PhotoStrip
	AddPhoto      []*PhotoAdder

	AddMeasure *widget.Button
	// Reviews shows the team leader's comments, newest first.
	Reviews *fyne.Container
	Error   *widget.Label
	// Data is the household card the plan was read from.
	Data *query.HouseholdCard
	// Draft says the goal typed and not saved was kept (it survives the
	// app being killed, like a visit being typed).
	Draft *widget.Label

	app       *App
	household uuid.UUID
	title     string
	filling   bool
	saver     latest
	goalErr   bool // the error shown is about the goal
	content   fyne.CanvasObject

	photos photoSet // of the measures
}

func newPlanScreen(a *App, household uuid.UUID, head string) *PlanScreen {
	p := &PlanScreen{app: a, household: household, title: lang.L("plan.title")}
	if head != "" {
		p.title = lang.L("plan.title_of", map[string]any{"Name": head})
	}
	p.Goal = widget.NewMultiLineEntry()
	p.Goal.Wrapping = fyne.TextWrapWord
	p.Goal.SetPlaceHolder(lang.L("plan.goal_hint"))
	p.Goal.OnChanged = func(s string) {
		// The goal's error goes as soon as there is a goal.
		if p.Error.Visible() && p.goalErr && strings.TrimSpace(s) != "" {
			p.Error.Hide()
			p.goalErr = false
		}
		p.keepGoal(s)
	}
	p.Draft = widget.NewLabel("")
	p.Draft.SizeName = theme.SizeNameCaptionText
	p.Draft.Hide()
	p.SaveGoal = widget.NewButton(lang.L("plan.create"), p.saveGoal)
	p.Status = widget.NewLabel("")
	p.Submit = widget.NewButtonWithIcon(lang.L("plan.submit"), theme.MailSendIcon(), p.submit)
	p.Submit.Importance = widget.HighImportance
	p.Submit.Hide()
	p.Measures = container.NewVBox()
	p.AddMeasure = widget.NewButtonWithIcon(lang.L("plan.add_measure"), theme.ContentAddIcon(), func() {
		if p.Data == nil || p.Data.Plan == nil {
			return
		}
		a.nav.Push(newMeasureForm(a, p.Data, nil))
	})
	p.AddMeasure.Disable()
	p.Reviews = container.NewVBox()
	p.Error = errorLabel()
	bold := func(text string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	body := container.NewVBox(
		bold(lang.L("plan.goal")), p.Goal, p.Draft, container.NewBorder(nil, nil, nil, p.SaveGoal, p.Status),
		section(lang.L("plan.measures")), p.Measures, p.AddMeasure,
		section(lang.L("plan.reviews")), p.Reviews,
	)
	p.content = container.NewBorder(p.Error, p.Submit, nil, nil, container.NewVScroll(body))
	return p
}

// Title returns "一户一策 王兴文".
func (p *PlanScreen) Title() string { return p.title }

// Content returns the plan.
func (p *PlanScreen) Content() fyne.CanvasObject { return p.content }

func (p *PlanScreen) load() { p.reload(nil) }

// reload reads the plan afresh and shows it, then saveErr, if any: the
// reason the last save failed must outlive the reload that follows it.
func (p *PlanScreen) reload(saveErr error) {
	a := p.app
	a.tasks.run(func() func() {
		card, err := query.Card(a.db, p.household, a.now())
		draft, _ := a.db.Draft(goalKey(p.household)) // a plan without its draft is still the plan
		var photos photoSet
		if err == nil {
			photos = readPhotos(a.db, card.Village, measureIDs(card)...)
		}
		return func() {
			if err != nil {
				p.fail(err)
				return
			}
			p.photos = photos
			p.Error.Hide()
			p.show(card)
			if goal := string(draft); draft != nil && (card.Plan == nil || goal != card.Plan.Goal) {
				p.filling = true
				p.Goal.SetText(goal)
				p.filling = false
				p.Draft.SetText(lang.L("visit.draft_restored"))
				p.Draft.Show()
			}
			if saveErr != nil {
				p.fail(saveErr)
			}
		}
	})
}

func (p *PlanScreen) fail(err error) {
	var de *domain.Error
	p.goalErr = errors.As(err, &de) && de.Field == "goal"
	p.Error.SetText(errText(err))
	p.Error.Show()
}

func (p *PlanScreen) show(card *query.HouseholdCard) {
	p.filling = true
	defer func() { p.filling = false }()
	p.Data = card
	plan := card.Plan
	if plan == nil {
		p.Goal.SetText("")
		p.Status.SetText(lang.L("card.no_plan"))
		p.SaveGoal.SetText(lang.L("plan.create"))
		p.Submit.Hide()
		p.AddMeasure.Disable()
	} else {
		p.Goal.SetText(plan.Goal)
		p.Status.SetText(join(planStatusText(plan.Status), lang.L("plan.since", map[string]any{"Date": dateText(plan.Start)})))
		p.SaveGoal.SetText(lang.L("plan.save_goal"))
		setVisible(p.Submit, plan.Status == domain.PlanDraft || plan.Status == domain.PlanReturned)
		p.AddMeasure.Enable()
	}
	p.Measures.Objects = nil
	p.Progress, p.Edit, p.MeasurePhotos, p.AddPhoto = nil, nil, nil, nil
	opts := make([]string, len(progressOptions))
	for i, o := range progressOptions {
		opts[i] = progressText(o)
	}
	for _, m := range card.Measures {
		m := m
		desc := wrapLabel(join(measureKindText(m.Type), m.Description))
		desc.TextStyle.Bold = true
		detail := wrapLabel(join(m.Target, lang.L("plan.due", map[string]any{"Date": dateText(m.Due)}), p.ownerName(m.Owner)))
		sel := newSelect(opts, nil)
		for i, o := range progressOptions {
			if o == m.Progress {
				sel.SetSelectedIndex(i)
			}
		}
		sel.OnChanged = func(string) {
			if p.filling {
				return
			}
			next := *m
			next.Progress = progressOptions[sel.SelectedIndex()]
			p.put(&next)
		}
		edit := widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), func() {
			p.app.nav.Push(newMeasureForm(p.app, card, m))
		})
		edit.Importance = widget.LowImportance
		p.Progress = append(p.Progress, sel)
		p.Edit = append(p.Edit, edit)
		box := container.NewVBox(desc, container.NewBorder(nil, nil, nil, container.NewHBox(sel, edit), detail))
		strip, add := p.app.attach(p.photos, p.household, domain.KindMeasure, m.ID, p.load)
		if strip != nil {
			box.Add(strip.Content())
		}
		add.Add.SetText(lang.L("photo.measure"))
		add.Add.Importance = widget.LowImportance
		box.Add(add.Content())
		p.MeasurePhotos = append(p.MeasurePhotos, strip)
		p.AddPhoto = append(p.AddPhoto, add)
		p.Measures.Add(container.NewVBox(box, widget.NewSeparator()))
	}
	if len(card.Measures) == 0 {
		p.Measures.Add(widget.NewLabel(lang.L("plan.no_measures")))
	}
	p.Measures.Refresh()
	p.Reviews.Objects = nil
	for _, r := range card.Reviews {
		p.Reviews.Add(wrapLabel(join(dateText(r.At), verdictText(r.Verdict), p.ownerName(r.Reviewer), r.Comment)))
	}
	if len(card.Reviews) == 0 {
		p.Reviews.Add(widget.NewLabel(lang.L("plan.no_reviews")))
	}
	p.Reviews.Refresh()
}

// measureIDs lists the IDs of card's measures.
func measureIDs(card *query.HouseholdCard) []uuid.UUID {
	ids := make([]uuid.UUID, len(card.Measures))
	for i, m := range card.Measures {
		ids[i] = m.ID
	}
	return ids
}

// ownerName returns the name of a helper of the household, or "".
func (p *PlanScreen) ownerName(id uuid.UUID) string {
	if p.Data != nil {
		for _, h := range p.Data.Helpers {
			if h.Cadre != nil && h.Cadre.ID == id {
				return h.Cadre.Name
			}
		}
	}
	if p.app.me != nil && p.app.me.ID == id {
		return p.app.me.Name
	}
	return ""
}

// goalKey is the key of the draft of a household's plan goal.
func goalKey(household uuid.UUID) string { return "plan/" + household.String() }

// keepGoal saves the goal being typed as a draft, in the background.
func (p *PlanScreen) keepGoal(goal string) {
	if p.filling || p.app == nil {
		return
	}
	a := p.app
	key := goalKey(p.household)
	p.saver.put(&a.tasks, []byte(goal), func(b []byte) error { return a.db.SaveDraft(key, b) }, func(err error) {
		if err != nil {
			p.Draft.SetText(errText(err))
		} else {
			p.Draft.SetText(lang.L("visit.draft_saved"))
		}
		p.Draft.Show()
	})
}

// put saves records and reloads the plan.
func (p *PlanScreen) put(recs ...domain.Record) { p.putDraft("", recs...) }

// putDraft saves records, with the removal of the draft under key if key is
// not empty, and reloads the plan.
func (p *PlanScreen) putDraft(key string, recs ...domain.Record) {
	a := p.app
	author := a.cadre
	a.tasks.run(func() func() {
		var err error
		if key == "" {
			err = a.db.Put(author, recs...)
		} else {
			p.saver.flush() // a draft save still running must not outlive the goal
			err = a.db.PutDraft(author, key, recs...)
		}
		return func() {
			if err == nil {
				a.changed()
				if key != "" {
					p.Draft.Hide()
				}
			}
			p.reload(err)
		}
	})
}

func (p *PlanScreen) saveGoal() {
	now := p.app.now()
	var plan domain.Plan
	if p.Data != nil && p.Data.Plan != nil {
		plan = *p.Data.Plan
	} else {
		plan = domain.Plan{Household: p.household, Start: day(now), Status: domain.PlanDraft}
	}
	goal := strings.TrimSpace(p.Goal.Text)
	if plan.Status == domain.PlanApproved && goal != plan.Goal {
		// A new goal is not what was approved: back to review (the
		// upstream refuses an approved plan's new goal otherwise).
		plan.Status = domain.PlanSubmitted
	}
	plan.Goal = goal
	if err := checkGoal(&plan, now); err != nil {
		p.fail(err)
		return
	}
	p.putDraft(goalKey(p.household), &plan)
}

// checkGoal validates a plan the cadre saves or submits: besides the
// domain's checks, a plan written on the phone states its goal.
func checkGoal(plan *domain.Plan, now time.Time) error {
	if plan.Goal == "" {
		return domain.Errorf(domain.EINVALID, "goal", "请先填写计划目标", "enter the plan's goal first")
	}
	return plan.Validate(now)
}

func (p *PlanScreen) submit() {
	if p.Data == nil || p.Data.Plan == nil {
		return
	}
	plan := *p.Data.Plan
	plan.Goal = strings.TrimSpace(p.Goal.Text)
	plan.Status = domain.PlanSubmitted
	if err := checkGoal(&plan, p.app.now()); err != nil {
		p.fail(err)
		return
	}
	p.putDraft(goalKey(p.household), &plan)
}

// day returns midnight at the start of t's day, in t's location.
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func verdictText(v domain.Verdict) string {
	switch v {
	case domain.VerdictApprove:
		return lang.L("verdict.approve")
	case domain.VerdictReturn:
		return lang.L("verdict.return")
	}
	return lang.L("verdict.comment")
}

// MeasureForm adds or edits a measure of a plan: kind, description, owner,
// target, due date and progress.
type MeasureForm struct {
	Kind        *widget.Select
	Description *widget.Entry
	Owner       *widget.Select
	Target      *widget.Entry
	Due         *DateEntry
	Progress    *widget.Select
	Save        *widget.Button
	Error       *widget.Label
	// Draft says what is typed is kept: a measure survives the app being
	// killed, like a visit being typed.
	Draft *widget.Label

	app     *App
	card    *query.HouseholdCard
	measure *domain.Measure
	owners  []uuid.UUID
	saver   latest
	filling bool
	content fyne.CanvasObject
}

// measureDraft is what is kept of a measure being typed: the choices by
// their place in the form's lists, the due date as typed.
type measureDraft struct {
	Kind        int    `json:"kind"`
	Description string `json:"description"`
	Owner       int    `json:"owner"`
	Target      string `json:"target"`
	Due         string `json:"due"`
	Progress    int    `json:"progress"`
}

// key is the key of the form's draft: per plan, and per measure edited.
func (f *MeasureForm) key() string {
	which := "new"
	if f.measure != nil {
		which = f.measure.ID.String()
	}
	return "measure/" + f.card.Plan.ID.String() + "/" + which
}

func (f *MeasureForm) draft() measureDraft {
	return measureDraft{Kind: f.Kind.SelectedIndex(), Description: f.Description.Text, Owner: f.Owner.SelectedIndex(),
		Target: f.Target.Text, Due: f.Due.Text, Progress: f.Progress.SelectedIndex()}
}

// keep saves the form as a draft, in the background.
func (f *MeasureForm) keep() {
	if f.filling || f.Draft == nil {
		return
	}
	data, err := json.Marshal(f.draft())
	if err != nil {
		return
	}
	a, key := f.app, f.key()
	f.saver.put(&a.tasks, data, func(b []byte) error { return a.db.SaveDraft(key, b) }, func(err error) {
		if err != nil {
			f.Draft.SetText(errText(err))
		} else {
			f.Draft.SetText(lang.L("visit.draft_saved"))
		}
	})
}

// load reads the form's draft, if any, into it.
func (f *MeasureForm) load() {
	a, key := f.app, f.key()
	a.tasks.run(func() func() {
		data, err := a.db.Draft(key)
		return func() {
			var d measureDraft
			if err != nil || data == nil || json.Unmarshal(data, &d) != nil {
				return
			}
			f.filling = true
			defer func() { f.filling = false }()
			pick := func(s *widget.Select, i int) {
				if i >= 0 && i < len(s.Options) {
					s.SetSelectedIndex(i)
				}
			}
			pick(f.Kind, d.Kind)
			f.Description.SetText(d.Description)
			pick(f.Owner, d.Owner)
			f.Target.SetText(d.Target)
			f.Due.SetText(d.Due)
			pick(f.Progress, d.Progress)
			f.Draft.SetText(lang.L("visit.draft_restored"))
		}
	})
}

func newMeasureForm(a *App, card *query.HouseholdCard, m *domain.Measure) *MeasureForm {
	f := &MeasureForm{app: a, card: card, measure: m}
	kinds := make([]string, len(domain.MeasureKinds))
	for i, k := range domain.MeasureKinds {
		kinds[i] = measureKindText(k)
	}
	f.Kind = newSelect(kinds, nil)
	f.Description = widget.NewMultiLineEntry()
	f.Description.Wrapping = fyne.TextWrapWord
	f.Description.SetPlaceHolder(lang.L("measure.description_hint"))
	var names []string
	seen := map[uuid.UUID]bool{}
	for _, h := range card.Helpers {
		if h.Cadre != nil && !seen[h.Cadre.ID] {
			seen[h.Cadre.ID] = true
			f.owners = append(f.owners, h.Cadre.ID)
			names = append(names, join(h.Cadre.Name, roleText(h.Role)))
		}
	}
	if a.me != nil && !seen[a.me.ID] {
		f.owners = append(f.owners, a.me.ID)
		names = append(names, a.me.Name)
	}
	f.Owner = newSelect(names, nil)
	f.Target = widget.NewEntry()
	f.Target.SetPlaceHolder(lang.L("measure.target_hint"))
	f.Due = newDateEntry()
	f.Due.SetPlaceHolder(lang.L("visit.due_hint"))
	popts := make([]string, len(progressOptions))
	for i, o := range progressOptions {
		popts[i] = progressText(o)
	}
	f.Progress = newSelect(popts, nil)
	f.Progress.SetSelectedIndex(0)
	if m != nil {
		for i, k := range domain.MeasureKinds {
			if k == m.Type {
				f.Kind.SetSelectedIndex(i)
			}
		}
		f.Description.SetText(m.Description)
		for i, o := range f.owners {
			if o == m.Owner {
				f.Owner.SetSelectedIndex(i)
			}
		}
		f.Target.SetText(m.Target)
		if !m.Due.IsZero() {
			due := m.Due
			f.Due.SetDate(&due)
		}
		for i, o := range progressOptions {
			if o == m.Progress {
				f.Progress.SetSelectedIndex(i)
			}
		}
	} else {
		for i, o := range f.owners {
			if o == a.cadre {
				f.Owner.SetSelectedIndex(i)
			}
		}
	}
	f.Error = errorLabel()
	recheck := func() { f.recheck(); f.keep() }
	f.Kind.OnChanged = func(string) { recheck() }
	f.Owner.OnChanged = func(string) { recheck() }
	f.Progress.OnChanged = func(string) { recheck() }
	f.Description.OnChanged = func(string) { recheck() }
	f.Target.OnChanged = func(string) { recheck() }
	f.Due.OnChanged = func(*time.Time) { recheck() }
	f.Save = widget.NewButtonWithIcon(lang.L("measure.save"), theme.DocumentSaveIcon(), f.save)
	f.Save.Importance = widget.HighImportance
	form := widget.NewForm(
		widget.NewFormItem(lang.L("measure.kind"), f.Kind),
		widget.NewFormItem(lang.L("measure.description"), f.Description),
		widget.NewFormItem(lang.L("measure.owner"), f.Owner),
		widget.NewFormItem(lang.L("measure.target"), f.Target),
		widget.NewFormItem(lang.L("measure.due"), f.Due),
		widget.NewFormItem(lang.L("measure.progress"), f.Progress),
	)
	f.Draft = widget.NewLabel("")
	f.Draft.SizeName = theme.SizeNameCaptionText
	f.content = container.NewBorder(nil, container.NewVBox(f.Error, container.NewBorder(nil, nil, nil, f.Save, f.Draft)), nil, nil, container.NewVScroll(form))
	return f
}

// Title returns "新增措施" or "修改措施".
func (f *MeasureForm) Title() string {
	if f.measure == nil {
		return lang.L("measure.new")
	}
	return lang.L("measure.edit")
}

// Content returns the form.
func (f *MeasureForm) Content() fyne.CanvasObject { return f.content }

// record builds the measure from the form, or says what is wrong.
func (f *MeasureForm) record() (*domain.Measure, error) {
	now := f.app.now()
	m := &domain.Measure{}
	if f.measure != nil {
		*m = *f.measure
	} else {
		m.Plan, m.Household = f.card.Plan.ID, f.card.Plan.Household
	}
	m.Type = ""
	if i := f.Kind.SelectedIndex(); i >= 0 {
		m.Type = domain.MeasureKinds[i]
	}
	m.Description = strings.TrimSpace(f.Description.Text)
	m.Owner = uuid.Nil
	if i := f.Owner.SelectedIndex(); i >= 0 {
		m.Owner = f.owners[i]
	}
	m.Target = strings.TrimSpace(f.Target.Text)
	m.Due = time.Time{}
	if f.Due.Err != nil {
		return nil, f.Due.Err
	}
	if f.Due.Date != nil {
		m.Due = day(*f.Due.Date)
	}
	m.Progress = progressOptions[max(0, f.Progress.SelectedIndex())]
	if m.Type == "" {
		return nil, domain.Errorf(domain.EINVALID, "type", "请选择措施类型", "choose the kind of measure")
	}
	if err := m.Validate(now); err != nil {
		return nil, err
	}
	if err := m.CheckDue(f.card.Plan); err != nil {
		return nil, err
	}
	return m, nil
}

// recheck checks the form again while an error shows, so that the error goes
// (or changes) as soon as the input is fixed, not at the next save.
func (f *MeasureForm) recheck() {
	if f.Error == nil || !f.Error.Visible() {
		return
	}
	if _, err := f.record(); err != nil {
		f.Error.SetText(errText(err))
	} else {
		f.Error.Hide()
	}
}

func (f *MeasureForm) save() {
	m, err := f.record()
	var also []domain.Record
	if err == nil && f.card.Plan.Status == domain.PlanApproved && measureChanged(f.measure, m) {
		// The measures are not what was approved: back to review, in the
		// same transaction as the measure.
		plan := *f.card.Plan
		plan.Status = domain.PlanSubmitted
		also = append(also, &plan)
	}
	if err != nil {
		f.Error.SetText(errText(err))
		f.Error.Show()
		return
	}
	// The plan first: an upstream judges the measure by the plan's status
	// as the earlier changes of the push left it.
	recs := append(also, m)
	f.Error.Hide()
	f.Save.Disable()
	a, key, author := f.app, f.key(), f.app.cadre
	a.tasks.run(func() func() {
		f.saver.flush() // a draft save still running must not outlive the measure
		err := a.db.PutDraft(author, key, recs...)
		return func() {
			f.Save.Enable()
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

// measureChanged reports whether m changes what a reviewer approved of old
// (nil: a new measure): anything but its progress.
func measureChanged(old, m *domain.Measure) bool {
	return old == nil || old.Type != m.Type || old.Description != m.Description || old.Owner != m.Owner ||
		old.Target != m.Target || !old.Due.Equal(m.Due)
}
