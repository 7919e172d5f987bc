package app

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/store/query"
)

// VisitForm records a visit (入户走访): the kind of visit, notes, the checklist
// (policies explained, "两费" collection, drinking water), problems found, each
// of which can be escalated to the village or the town, and the follow-up owed.
// The defaults make the common visit a few taps plus the notes. Everything
// typed is saved as a draft as it is typed, so a phone that kills the app loses
// nothing; the draft is removed when the visit is saved.
type VisitForm struct {
	// When is the visit's time, empty for now (the default): a visit
	// written up later can be dated earlier, up to the village's
	// back-dating days (domain.Rules.BackdateDays), never in the future.
	When     *widget.Entry
	Kind     *widget.Select
	Notes    *widget.Entry
	Policies *widget.Check
	Policy   *widget.Entry // which policies were explained
	Fees     *widget.RadioGroup
	Water    *widget.RadioGroup
	// Problems are the problems found, in the order added.
	Problems   []*ProblemInput
	AddProblem *widget.Button
	FollowUp   *widget.Entry
	Due        *DateEntry
	// Companions are the village's cadres who came along, Met whom the
	// cadre spoke with (a member, or 未遇到 last); both sit folded in
	// More, so the plain visit needs no tap for them.
	Companions *widget.CheckGroup
	Met        *widget.Select
	More       *widget.Accordion
	// Earlier[i] says the i-th follow-up an earlier visit left owed was
	// seen to on this visit (unticked by default).
	Earlier []*widget.Check
	Save    *widget.Button
	// Discard throws the draft away, once there is one.
	Discard *widget.Button
	// Error says what is wrong with the visit, in words.
	Error *widget.Label
	// Draft says whether the draft is saved.
	Draft *widget.Label
	// actions is the row of Discard, Draft and Save.
	actions *fyne.Container
	// Photos folds away the photos (添加照片): never required, so the
	// common visit needs no tap for them. Photo adds one; Picked are the
	// photos attached so far, each shown with its remove button (Thumbs,
	// RemovePhoto).
	Photos      *widget.Accordion
	Photo       *PhotoAdder
	Picked      []pickedPhoto
	Thumbs      *fyne.Container
	RemovePhoto []*widget.Button

	app       *App
	household uuid.UUID
	title     string
	problems  *fyne.Container
	saver     latest
	filling   bool
	saving    bool
	content   fyne.CanvasObject
	earlier   *fyne.Container
	backdate  int             // the village's back-dating days
	correct   int             // the village's correction days
	editing   *domain.Visit   // the visit corrected; nil for a new one
	cadres    []uuid.UUID     // Companions' options, in order
	members   []uuid.UUID     // Met's options but the last (未遇到)
	owed      []*domain.Visit // the earlier follow-ups Earlier offers
	pending   *visitDraft     // a draft read before the options arrived
	loaded    bool            // the options arrived

	thumbs map[string]image.Image // the draft's photos' thumbnails, read by load
}

// ProblemInput is one problem found on a visit.
type ProblemInput struct {
	Text     *widget.Entry
	Escalate *widget.Select // not escalated, to the village, to the town
	Remove   *widget.Button
	box      fyne.CanvasObject
}

// visitDraft is what is kept of a visit being typed.
type visitDraft struct {
	When       string           `json:"when"`
	Companions []uuid.UUID      `json:"companions"`
	Met        uuid.UUID        `json:"met"`
	Absent     bool             `json:"absent"`
	Done       []uuid.UUID      `json:"done"` // earlier visits whose follow-up this one saw to
	Type       domain.VisitKind `json:"type"`
	Notes      string           `json:"notes"`
	Policies   bool             `json:"policies"`
	Policy     string           `json:"policy"`
	Fees       domain.Fees      `json:"fees"`
	Water      domain.Water     `json:"water"`
	Problems   []problemDraft   `json:"problems"`
	FollowUp   string           `json:"follow_up"`
	Due        time.Time        `json:"due"`
	// Photos were picked and stored as draft blobs under the draft's key;
	// KeepPlace says whether to keep where they were taken.
	Photos    []pickedPhoto `json:"photos,omitempty"`
	KeepPlace bool          `json:"keep_place,omitempty"`
}

type problemDraft struct {
	Text   string               `json:"text"`
	Status domain.ProblemStatus `json:"status"`
}

// draftPrefix starts the keys of visit drafts.
const draftPrefix = "visit/"

// draftKey is the key of a household's visit draft.
func draftKey(household uuid.UUID) string { return draftPrefix + household.String() }

var (
	feeOptions   = []domain.Fees{domain.FeesPaid, domain.FeesPartly, domain.FeesUnpaid, domain.FeesExempt}
	waterOptions = []domain.Water{domain.WaterSafe, domain.WaterUnsafe}
	escalations  = []domain.ProblemStatus{domain.ProblemOpen, domain.ProblemVillage, domain.ProblemTown}
)

func feesText(f domain.Fees) string {
	switch f {
	case domain.FeesPaid:
		return lang.L("fees.paid")
	case domain.FeesPartly:
		return lang.L("fees.partly")
	case domain.FeesUnpaid:
		return lang.L("fees.unpaid")
	case domain.FeesExempt:
		return lang.L("fees.exempt")
	}
	return string(f)
}

func waterText(w domain.Water) string {
	switch w {
	case domain.WaterSafe:
		return lang.L("water.safe")
	case domain.WaterUnsafe:
		return lang.L("water.unsafe")
	}
	return string(w)
}

// escalateText names where a new problem goes: nowhere yet, the village or the town.
func escalateText(s domain.ProblemStatus) string {
	switch s {
	case domain.ProblemVillage:
		return lang.L("escalate.village")
	case domain.ProblemTown:
		return lang.L("escalate.town")
	}
	return lang.L("escalate.open")
}

func newVisitForm(a *App, household uuid.UUID, head string) *VisitForm {
	f := &VisitForm{app: a, household: household, title: lang.L("visit.title"), backdate: domain.DefaultBackdateDays}
	if head != "" {
		f.title = lang.L("visit.title_of", map[string]any{"Name": head})
	}
	changed := func() { f.changed() }

	kinds := make([]string, len(domain.VisitKinds))
	for i, k := range domain.VisitKinds {
		kinds[i] = visitKindText(k)
	}
	f.Kind = newSelect(kinds, func(string) { changed() })
	f.Kind.SetSelectedIndex(0)

	f.Notes = widget.NewMultiLineEntry()
	f.Notes.SetPlaceHolder(lang.L("visit.notes_hint"))
	f.Notes.Wrapping = fyne.TextWrapWord
	f.Notes.SetMinRowsVisible(4)
	f.Notes.OnChanged = func(string) { changed() }

	f.Policy = widget.NewEntry()
	f.Policy.SetPlaceHolder(lang.L("visit.policy_hint"))
	f.Policy.OnChanged = func(string) { changed() }
	f.Policy.Hide()
	f.Policies = widget.NewCheck(lang.L("visit.policies"), func(on bool) {
		setVisible(f.Policy, on)
		changed()
	})

	fees := make([]string, len(feeOptions))
	for i, o := range feeOptions {
		fees[i] = feesText(o)
	}
	f.Fees = widget.NewRadioGroup(fees, func(string) { changed() })
	f.Fees.Horizontal = true
	water := make([]string, len(waterOptions))
	for i, o := range waterOptions {
		water[i] = waterText(o)
	}
	f.Water = widget.NewRadioGroup(water, func(string) { changed() })
	f.Water.Horizontal = true

	f.problems = container.NewVBox()
	f.AddProblem = widget.NewButtonWithIcon(lang.L("visit.add_problem"), theme.ContentAddIcon(), func() {
		p := f.addProblem(problemDraft{Status: domain.ProblemOpen})
		if c := fyne.CurrentApp().Driver().CanvasForObject(f.AddProblem); c != nil {
			c.Focus(p.Text)
		}
		changed()
	})

	f.FollowUp = widget.NewEntry()
	f.FollowUp.SetPlaceHolder(lang.L("visit.follow_up_hint"))
	f.FollowUp.OnChanged = func(string) { changed() }
	f.Due = newDateEntry()
	f.Due.SetPlaceHolder(lang.L("visit.due_hint"))
	f.Due.OnChanged = func(*time.Time) { changed() }

	f.When = widget.NewEntry()
	f.When.SetPlaceHolder(lang.L("visit.when_hint"))
	f.When.OnChanged = func(string) { changed() }
	f.Companions = widget.NewCheckGroup(nil, func([]string) { changed() })
	f.Met = newSelect(nil, func(string) { changed() })
	f.Met.PlaceHolder = lang.L("visit.met_hint")
	f.earlier = container.NewVBox()
	f.More = widget.NewAccordion(widget.NewAccordionItem(lang.L("visit.more"), container.NewVBox(
		widget.NewLabel(lang.L("visit.when")), f.When,
		widget.NewLabel(lang.L("visit.met")), f.Met,
		widget.NewLabel(lang.L("visit.companions")), f.Companions,
	)))

	f.Thumbs = container.NewGridWrap(fyne.NewSize(thumbSize.Width, thumbSize.Height+40))
	f.Photo = newPhotoAdder(a, func() int { return len(f.Picked) }, func(p *photo.Photo, _ bool) error {
		return a.db.SaveDraftBlob(f.key(), blobOf(p)) // kept even if the app is killed now
	}, func(p *photo.Photo) {
		if slices.ContainsFunc(f.Picked, func(q pickedPhoto) bool { return q.Hash == p.Hash }) {
			f.Photo.Error.SetText(lang.L("photo.duplicate"))
			f.Photo.Error.Show()
			return
		}
		f.addPhoto(picked(p), p.Thumb, nil)
		changed()
	})
	f.Photo.Keep.OnChanged = func(bool) { changed() }
	f.Photos = widget.NewAccordion(widget.NewAccordionItem(lang.L("photo.add_section"),
		container.NewVBox(f.Thumbs, f.Photo.Content())))

	f.Error = errorLabel()
	f.Draft = widget.NewLabel("")
	f.Draft.SizeName = theme.SizeNameCaptionText
	f.Save = widget.NewButtonWithIcon(lang.L("visit.save"), theme.DocumentSaveIcon(), f.save)
	f.Save.Importance = widget.HighImportance
	f.Discard = widget.NewButtonWithIcon(lang.L("visit.discard"), theme.DeleteIcon(), f.discard)
	f.Discard.Importance = widget.LowImportance
	f.Discard.Hide()

	label := func(text string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	form := container.NewVBox(
		label(lang.L("visit.kind")), f.Kind,
		label(lang.L("visit.notes")), f.Notes,
		label(lang.L("visit.checklist")), f.Policies, f.Policy,
		widget.NewLabel(lang.L("visit.fees")), f.Fees,
		widget.NewLabel(lang.L("visit.water")), f.Water,
		label(lang.L("visit.problems")), f.problems, f.AddProblem,
		label(lang.L("visit.follow_up")), f.FollowUp, f.Due, f.earlier,
		f.More,
		f.Photos,
	)
	f.actions = container.NewBorder(nil, nil, f.Discard, f.Save, f.Draft)
	bottom := container.NewVBox(f.Error, f.actions)
	f.content = container.NewBorder(nil, bottom, nil, nil, container.NewVScroll(form))
	return f
}

// Title returns "走访 王兴文".
func (f *VisitForm) Title() string { return f.title }

// Content returns the form.
func (f *VisitForm) Content() fyne.CanvasObject { return f.content }

func (f *VisitForm) addProblem(d problemDraft) *ProblemInput {
	p := &ProblemInput{}
	p.Text = widget.NewEntry()
	p.Text.SetPlaceHolder(lang.L("visit.problem_hint"))
	p.Text.SetText(d.Text)
	p.Text.OnChanged = func(string) { f.changed() }
	opts := make([]string, len(escalations))
	for i, s := range escalations {
		opts[i] = escalateText(s)
	}
	p.Escalate = newSelect(opts, func(string) { f.changed() })
	p.Escalate.SetSelectedIndex(0)
	for i, s := range escalations {
		if s == d.Status {
			p.Escalate.SetSelectedIndex(i)
		}
	}
	p.Remove = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		for i, q := range f.Problems {
			if q == p {
				f.Problems = append(f.Problems[:i], f.Problems[i+1:]...)
				break
			}
		}
		f.problems.Remove(p.box)
		f.changed()
	})
	p.Remove.Importance = widget.LowImportance
	p.box = container.NewBorder(nil, nil, nil, container.NewHBox(p.Escalate, p.Remove), p.Text)
	f.Problems = append(f.Problems, p)
	f.problems.Add(p.box)
	return p
}

// draft reads the form.
func (f *VisitForm) draft() visitDraft {
	d := visitDraft{
		When:     strings.TrimSpace(f.When.Text),
		Type:     domain.VisitRoutine,
		Notes:    f.Notes.Text,
		Policies: f.Policies.Checked,
		Policy:   f.Policy.Text,
		FollowUp: f.FollowUp.Text,
	}
	if i := f.Kind.SelectedIndex(); i >= 0 {
		d.Type = domain.VisitKinds[i]
	}
	for i, o := range feeOptions {
		if f.Fees.Selected == feesText(o) && f.Fees.Selected != "" {
			d.Fees = feeOptions[i]
		}
	}
	for i, o := range waterOptions {
		if f.Water.Selected == waterText(o) && f.Water.Selected != "" {
			d.Water = waterOptions[i]
		}
	}
	for _, p := range f.Problems {
		pd := problemDraft{Text: p.Text.Text, Status: domain.ProblemOpen}
		if i := p.Escalate.SelectedIndex(); i >= 0 {
			pd.Status = escalations[i]
		}
		d.Problems = append(d.Problems, pd)
	}
	if f.Due.Date != nil {
		d.Due = *f.Due.Date
	}
	for _, sel := range f.Companions.Selected {
		for i, o := range f.Companions.Options {
			if o == sel && i < len(f.cadres) {
				d.Companions = append(d.Companions, f.cadres[i])
			}
		}
	}
	switch i := f.Met.SelectedIndex(); {
	case i >= 0 && i < len(f.members):
		d.Met = f.members[i]
	case i == len(f.members):
		d.Absent = true
	}
	for i, c := range f.Earlier {
		if c.Checked && i < len(f.owed) {
			d.Done = append(d.Done, f.owed[i].ID)
		}
	}
	d.Photos = slices.Clone(f.Picked)
	d.KeepPlace = f.Photo.Keep.Checked
	return d
}

// addPhoto shows a picked photo with its thumbnail (thumb, else the decoded
// m, else a placeholder) and a button that removes it from the visit.
func (f *VisitForm) addPhoto(p pickedPhoto, thumb []byte, m image.Image) {
	if m == nil && thumb != nil {
		m, _ = jpeg.Decode(bytes.NewReader(thumb))
	}
	f.Picked = append(f.Picked, p)
	t := newThumbnail(p.Hash, m, nil)
	var box fyne.CanvasObject
	rm := widget.NewButtonWithIcon(lang.L("photo.remove"), theme.DeleteIcon(), nil)
	rm.Importance = widget.LowImportance
	rm.OnTapped = func() {
		for i, q := range f.Picked {
			if q.Hash == p.Hash {
				f.Picked = slices.Delete(f.Picked, i, i+1)
				break
			}
		}
		if i := slices.Index(f.RemovePhoto, rm); i >= 0 {
			f.RemovePhoto = slices.Delete(f.RemovePhoto, i, i+1)
		}
		f.Thumbs.Remove(box)
		f.Photo.Error.Hide()
		f.changed()
	}
	box = container.NewBorder(nil, rm, nil, nil, t)
	f.RemovePhoto = append(f.RemovePhoto, rm)
	f.Thumbs.Add(box)
}

// fill sets the form from a draft.
func (f *VisitForm) fill(d visitDraft) {
	f.filling = true
	defer func() { f.filling = false }()
	for i, k := range domain.VisitKinds {
		if k == d.Type {
			f.Kind.SetSelectedIndex(i)
		}
	}
	f.Notes.SetText(d.Notes)
	f.Policies.SetChecked(d.Policies)
	f.Policy.SetText(d.Policy)
	if d.Fees != domain.FeesUnknown {
		f.Fees.SetSelected(feesText(d.Fees))
	}
	if d.Water != domain.WaterUnknown {
		f.Water.SetSelected(waterText(d.Water))
	}
	for _, p := range d.Problems {
		f.addProblem(p)
	}
	f.FollowUp.SetText(d.FollowUp)
	if !d.Due.IsZero() {
		due := d.Due
		f.Due.SetDate(&due)
	}
	f.When.SetText(d.When)
	var picked []string
	for i, id := range f.cadres {
		if slices.Contains(d.Companions, id) {
			picked = append(picked, f.Companions.Options[i])
		}
	}
	f.Companions.SetSelected(picked)
	for i, id := range f.members {
		if id == d.Met {
			f.Met.SetSelectedIndex(i)
		}
	}
	if d.Absent {
		f.Met.SetSelectedIndex(len(f.members))
	}
	for i, v := range f.owed {
		f.Earlier[i].SetChecked(slices.Contains(d.Done, v.ID))
	}
	if d.When != "" || len(d.Companions) > 0 || d.Met != uuid.Nil || d.Absent {
		f.More.Open(0)
	}
	f.Photo.Keep.SetChecked(d.KeepPlace)
	for _, p := range d.Photos {
		f.addPhoto(p, nil, f.thumbs[p.Hash])
	}
	if len(d.Photos) > 0 || d.KeepPlace {
		f.Photos.Open(0)
	}
}

// load reads, in the background, what the form offers — the village's
// cadres as companions, the household's members to have met, the
// follow-ups earlier visits left owed, the village's back-dating days — and
// then the household's draft, if any, into a form nobody has typed in.
func (f *VisitForm) load() {
	a := f.app
	if f.loaded {
		return
	}
	me := a.cadre
	a.tasks.run(func() func() {
		card, cardErr := query.Card(a.db, f.household, a.now())
		backdate, correct, limit := domain.DefaultBackdateDays, domain.DefaultCorrectDays, domain.DefaultPhotos
		if cardErr == nil && card.Village != nil {
			if r, err := a.db.Rules(card.Village.ID); err == nil {
				backdate, correct, limit = r.Backdate(), r.Correct(), r.PhotoLimit()
			}
		}
		cadres, _ := query.Cadres(a.db) // no companions offered is still a visit
		data, err := a.db.Draft(f.key())
		var thumbs map[string]image.Image
		var kept struct{ Photos []pickedPhoto }
		if data != nil && json.Unmarshal(data, &kept) == nil {
			hashes := make([]string, len(kept.Photos))
			for i, p := range kept.Photos {
				hashes[i] = p.Hash
			}
			thumbs = readThumbs(a.db, hashes)
		}
		// Photos picked just before the app was killed: stored with the
		// draft's key, but the draft not saved again since.
		lost := lostPhotos(a.db, f.key(), kept.Photos)
		if len(lost) > 0 {
			if thumbs == nil {
				thumbs = map[string]image.Image{}
			}
			hashes := make([]string, len(lost))
			for i, p := range lost {
				hashes[i] = p.Hash
			}
			maps.Copy(thumbs, readThumbs(a.db, hashes))
		}
		return func() {
			f.loaded = true
			f.backdate, f.correct, f.Photo.limit = backdate, correct, limit
			f.thumbs = thumbs
			f.options(card, cadres, me)
			if err != nil {
				f.Draft.SetText(errText(err))
				return
			}
			if data == nil && len(lost) == 0 {
				if f.editing != nil {
					f.fill(contentDraft(f.editing, a.now()))
				}
				return
			}
			var d visitDraft
			if data != nil {
				if err := json.Unmarshal(data, &d); err != nil && len(lost) == 0 {
					return // an unreadable draft is scratch: start afresh
				}
			}
			d.Photos = append(d.Photos, lost...)
			if f.blank() {
				f.fill(d)
				f.Draft.SetText(lang.L("visit.draft_restored"))
				f.showDiscard()
			}
		}
	})
}

// options fills the choices read by load: companions (the household's
// helpers first, then the other cadres by name; not the visitor), the
// members to have met (the head first) and 未遇到, and the follow-ups owed.
func (f *VisitForm) options(card *query.HouseholdCard, cadres []*domain.Cadre, me uuid.UUID) {
	f.filling = true
	defer func() { f.filling = false }()
	var names []string
	seen := map[uuid.UUID]bool{me: true}
	add := func(c *domain.Cadre) {
		if c == nil || seen[c.ID] || !c.Current() {
			return
		}
		seen[c.ID] = true
		f.cadres = append(f.cadres, c.ID)
		names = append(names, join(c.Name, c.Unit))
	}
	if card != nil {
		for _, h := range card.Helpers {
			add(h.Cadre)
		}
	}
	sort.SliceStable(cadres, func(i, j int) bool { return cadres[i].Name < cadres[j].Name })
	for _, c := range cadres {
		add(c)
	}
	f.Companions.Options = names
	f.Companions.Refresh()
	var met []string
	if card != nil {
		for _, m := range card.Members {
			f.members = append(f.members, m.ID)
			met = append(met, join(m.Name, relationText(m.Relation)))
		}
		for _, v := range card.Visits {
			if v.FollowUpOwed() {
				f.owed = append(f.owed, v)
				c := widget.NewCheck(lang.L("visit.earlier_done", map[string]any{"Text": v.FollowUp, "Date": dateText(v.At)}), func(bool) { f.changed() })
				f.Earlier = append(f.Earlier, c)
				f.earlier.Add(c)
			}
		}
	}
	f.Met.Options = append(met, lang.L("visit.absent"))
	f.Met.Refresh()
}

// when reads the visit's time: now when empty, else the time typed
// (2025-03-12 10:00, 2025/3/12 10:00, or 10:00 for today).
func (f *VisitForm) when(now time.Time) (time.Time, error) {
	s := strings.TrimSpace(f.When.Text)
	if s == "" {
		return now, nil
	}
	loc := now.Location()
	for _, layout := range []string{"2006-01-02 15:04", "2006-1-2 15:04", "2006/1/2 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.ParseInLocation("15:04", s, loc); err == nil {
		y, m, d := now.Date()
		return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, loc), nil
	}
	return time.Time{}, domain.Errorf(domain.EINVALID, "at", "走访时间请写成 2025-03-12 10:00 或 10:00（今天）",
		"write the visit time as 2025-03-12 10:00, or 10:00 for today")
}

// newCorrection returns the form that corrects the cadre's visit v: filled
// with what it says, without the problems and earlier follow-ups (records
// of their own); saving keeps what it said before in its history.
func newCorrection(a *App, v *domain.Visit) *VisitForm {
	f := newVisitForm(a, v.Household, "")
	f.editing = v
	f.title = lang.L("visit.correct_title")
	f.problems.Hide()
	f.AddProblem.Hide()
	f.earlier.Hide()
	f.Photos.Hide() // photos are added to a new visit, or to a problem
	return f
}

// key is the key of the form's draft: the household's for a new visit, the
// visit's for a correction.
func (f *VisitForm) key() string {
	if f.editing != nil {
		return "visitfix/" + f.editing.ID.String()
	}
	return draftKey(f.household)
}

// whenText writes a time as When reads it, in now's zone.
func whenText(t, now time.Time) string { return t.In(now.Location()).Format("2006-01-02 15:04") }

// contentDraft is a visit as the form shows it at now.
func contentDraft(v *domain.Visit, now time.Time) visitDraft {
	return visitDraft{When: whenText(v.At, now), Companions: v.Companions, Met: v.Met, Absent: v.Absent, Type: v.Type,
		Notes: v.Notes, Policies: v.Policies, Policy: v.Policy, Fees: v.Fees, Water: v.Water, FollowUp: v.FollowUp, Due: v.Due}
}

// blank reports whether nothing has been entered yet.
func (f *VisitForm) blank() bool {
	d := f.draft()
	return d.Notes == "" && !d.Policies && d.Fees == "" && d.Water == "" && len(d.Problems) == 0 && d.FollowUp == "" && d.Due.IsZero() && d.Type == domain.VisitRoutine &&
		d.When == "" && len(d.Companions) == 0 && d.Met == uuid.Nil && !d.Absent && len(d.Done) == 0 &&
		len(d.Photos) == 0 && !d.KeepPlace
}

// changed saves the draft in the background.
func (f *VisitForm) changed() {
	if f.filling || f.saving || f.app == nil || f.Draft == nil {
		return
	}
	if f.Error.Visible() {
		// Check again, so that the error goes as soon as the input is fixed.
		if _, _, err := f.records(f.app.now()); err != nil {
			f.Error.SetText(errText(err))
		} else {
			f.Error.Hide()
		}
	}
	data, err := json.Marshal(f.draft())
	if err != nil {
		return
	}
	key := f.key()
	f.saver.put(&f.app.tasks, data, func(b []byte) error { return f.app.db.SaveDraft(key, b) }, func(err error) {
		if f.saving {
			return
		}
		if err != nil {
			f.Draft.SetText(errText(err))
			return
		}
		f.Draft.SetText(lang.L("visit.draft_saved"))
		f.showDiscard()
	})
}

// records builds the visit and its problems from the form, or says what is wrong.
func (f *VisitForm) records(now time.Time) (*domain.Visit, []domain.Record, error) {
	a := f.app
	if f.Due.Err != nil {
		return nil, nil, f.Due.Err
	}
	at, err := f.when(now)
	if err != nil {
		return nil, nil, err
	}
	if f.editing != nil && strings.TrimSpace(f.When.Text) == whenText(f.editing.At, now) {
		at = f.editing.At // the time as written, to the second
	}
	if f.editing == nil || !at.Equal(f.editing.At) {
		if err := domain.CheckVisitTime(at, now, f.backdate); err != nil {
			return nil, nil, err
		}
	}
	d := f.draft()
	v := &domain.Visit{
		Meta:       domain.Meta{ID: uuid.New()},
		Household:  f.household,
		Cadre:      a.cadre,
		At:         at,
		Companions: d.Companions,
		Met:        d.Met,
		Absent:     d.Absent,
		Type:       d.Type,
		Notes:      strings.TrimSpace(d.Notes),
		Policies:   d.Policies,
		Policy:     strings.TrimSpace(d.Policy),
		Fees:       d.Fees,
		Water:      d.Water,
		FollowUp:   strings.TrimSpace(d.FollowUp),
		Due:        d.Due,
	}
	if err := v.Validate(now); err != nil {
		return nil, nil, err
	}
	if old := f.editing; old != nil {
		// A correction: the same visit with what it says now, and what it
		// said before kept in its history.
		if !old.Correctable(a.cadre, now, f.correct) {
			return nil, nil, domain.ErrCorrectWindow
		}
		fixed := *old
		fixed.SetContent(v.Content())
		if fixed.Content().Equal(old.Content()) {
			return &fixed, nil, nil
		}
		fixed.Corrections = append(slices.Clone(old.Corrections), domain.VisitCorrection{At: now, Before: old.Content()})
		return &fixed, []domain.Record{&fixed}, nil
	}
	recs := []domain.Record{v}
	// The photos, after the visit they belong to: their bytes were stored
	// as draft blobs when picked, and the save adopts them.
	for _, p := range d.Photos {
		rec := photoRecord(p, f.household, domain.KindVisit, v.ID, a.cadre, d.KeepPlace)
		if err := rec.Validate(now); err != nil {
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
	for _, old := range f.owed {
		if slices.Contains(d.Done, old.ID) {
			done := *old
			done.FollowUpDone = now
			recs = append(recs, &done)
		}
	}
	problems := d.Problems
	if d.Water == domain.WaterUnsafe {
		problems = append(problems, problemDraft{Text: lang.L("visit.water_problem"), Status: domain.ProblemOpen})
	}
	for _, pd := range problems {
		if strings.TrimSpace(pd.Text) == "" {
			continue
		}
		p := &domain.Problem{Household: f.household, Visit: v.ID, Text: strings.TrimSpace(pd.Text), Status: pd.Status}
		if pd.Status != domain.ProblemOpen {
			p.ReportedBy, p.ReportedAt = a.cadre, now
		}
		if err := p.Validate(now); err != nil {
			return nil, nil, err
		}
		recs = append(recs, p)
	}
	return v, recs, nil
}

// save checks the visit and saves it with its problems in one transaction.
func (f *VisitForm) save() {
	a := f.app
	if f.saving {
		return
	}
	now := a.now()
	_, recs, err := f.records(now)
	if err != nil {
		f.Error.SetText(errText(err))
		f.Error.Show()
		return
	}
	f.Error.Hide()
	f.saving = true
	f.Save.Disable()
	author := a.cadre
	a.tasks.run(func() func() {
		f.saver.flush() // a draft save still running must not outlive the visit
		err := a.db.PutDraft(author, f.key(), recs...)
		return func() {
			f.saving = false
			f.Save.Enable()
			if err != nil {
				f.Error.SetText(errText(err))
				f.Error.Show()
				return
			}
			a.changed()
			a.nav.Pop()
			if c, ok := a.nav.Top().(*Card); ok {
				msg := lang.L("visit.saved")
				if f.editing != nil {
					msg = lang.L("visit.corrected")
				}
				c.notify(msg)
			}
		}
	})
}

// showDiscard shows the discard button and lays its row out again: shown
// into a row laid out while it was hidden, it kept no width and its label
// spilled off the screen's left edge at phone width.
func (f *VisitForm) showDiscard() {
	f.Discard.Show()
	f.actions.Refresh()
}

// discard deletes the draft and closes the form, after the cadre confirms.
func (f *VisitForm) discard() {
	a := f.app
	d := dialog.NewConfirm(lang.L("visit.discard"), lang.L("visit.discard_sure"), func(ok bool) {
		if !ok {
			return
		}
		f.saving = true // no draft save after this
		a.tasks.run(func() func() {
			f.saver.flush()
			err := a.db.DeleteDraft(f.key())
			return func() {
				f.saving = false
				if err != nil {
					f.Error.SetText(errText(err))
					f.Error.Show()
					return
				}
				a.nav.Pop()
			}
		})
	}, a.Window)
	d.SetConfirmText(lang.L("visit.discard"))
	d.SetDismissText(lang.L("common.cancel"))
	d.Show()
}
