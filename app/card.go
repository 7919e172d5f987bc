package app

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// Card is the household card (一口清): the facts a cadre recites at the door,
// the members, the helpers with their phones, the plan's measures with their
// progress, the open problems and the last visits.
type Card struct {
	// RecordVisit opens the visit form for the household.
	RecordVisit *widget.Button
	// OpenPlan opens the household's plan (一户一策).
	OpenPlan *widget.Button
	// Correct opens the form that corrects the household's facts, and
	// Members the list of its members (correct.go, members.go).
	Correct, Members *widget.Button
	// Phones are the tappable phone numbers (tel: links): the head's, then the helpers'.
	Phones []*widget.Hyperlink
	// Body holds the card's sections once loaded.
	Body *fyne.Container
	// Error shows why the card could not be read.
	Error *widget.Label
	// Notice says what just happened, such as a visit saved.
	Notice *widget.Label
	// Draft shows while a visit typed for the household waits unsaved.
	Draft *widget.Label
	// FollowUpDone[i] marks the i-th follow-up owed shown done (办结).
	FollowUpDone []*widget.Button
	// CorrectVisit[i] opens the i-th visit shown that the signed-in cadre
	// may still correct (their own, within the village's correction days).
	CorrectVisit []*widget.Button
	// Data is the card last read.
	Data *query.HouseholdCard
	// Resolved are the household's problems resolved lately, shown with
	// their resolution under the open ones.
	Resolved []*domain.Problem
	// IDNumber shows the head's ID number masked (the last four visible);
	// Reveal shows it whole for a while, once the reveal is written to the
	// audit log, which syncs to the office (see reveal).
	IDNumber *widget.Label
	Reveal   *widget.Button
	// Pair holds, on a team leader's tablet, one button per level of the
	// three-level assistance the household lacks (pair.go); nil elsewhere.
	Pair []*widget.Button
	// Photos are the thumbnails shown under each visit and problem, by
	// its ID.
	Photos map[uuid.UUID]*PhotoStrip

	app       *App
	household uuid.UUID
	title     string
	content   fyne.CanvasObject
	correct   int // the village's correction days
	// mayRoster: the leader may pair, move or close the household here.
	mayRoster bool

	photos photoSet // of the visits and problems shown
}

func newCard(a *App, household uuid.UUID) *Card {
	c := &Card{app: a, household: household, title: lang.L("card.title")}
	c.RecordVisit = widget.NewButtonWithIcon(lang.L("card.record_visit"), theme.ContentAddIcon(), func() {
		a.nav.Push(newVisitForm(a, household, c.headName()))
	})
	c.RecordVisit.Importance = widget.HighImportance
	c.OpenPlan = widget.NewButtonWithIcon(lang.L("card.plan"), theme.DocumentIcon(), func() {
		a.nav.Push(newPlanScreen(a, household, c.headName()))
	})
	c.Correct = widget.NewButtonWithIcon(lang.L("correct.open"), theme.DocumentCreateIcon(), func() {
		if c.Data != nil {
			a.nav.Push(newCorrectForm(a, c.Data.Household, c.mayRoster))
		}
	})
	c.Members = widget.NewButtonWithIcon(lang.L("members.open"), theme.AccountIcon(), func() {
		a.nav.Push(newMembersScreen(a, household))
	})
	c.Error = errorLabel()
	c.Notice = widget.NewLabel("")
	c.Notice.Importance = widget.SuccessImportance
	c.Notice.Wrapping = fyne.TextWrapWord
	c.Notice.Hide()
	c.Draft = widget.NewLabel(lang.L("card.draft_waiting"))
	c.Draft.Importance = widget.WarningImportance
	c.Draft.Wrapping = fyne.TextWrapWord
	c.Draft.Hide()
	c.Body = container.NewVBox(widget.NewLabel(lang.L("common.loading")))
	buttons := container.NewGridWithColumns(2, c.OpenPlan, c.RecordVisit)
	c.content = container.NewBorder(container.NewVBox(c.Error, c.Notice, c.Draft), buttons, nil, nil, container.NewVScroll(c.Body))
	return c
}

// cardResolved is how many resolved problems the card shows.
const cardResolved = 3

// notify shows a short message above the card, such as 走访已保存.
func (c *Card) notify(msg string) {
	c.Notice.SetText(msg)
	c.Notice.Show()
}

func (c *Card) headName() string {
	if c.Data != nil && c.Data.Household != nil {
		return c.Data.Household.HeadName
	}
	return ""
}

// Title returns the head of household's name once the card is read.
func (c *Card) Title() string { return c.title }

// Content returns the card.
func (c *Card) Content() fyne.CanvasObject { return c.content }

// Actions returns the header's buttons: correct the facts, the members.
func (c *Card) Actions() []fyne.CanvasObject { return []fyne.CanvasObject{c.Correct, c.Members} }

func (c *Card) load() {
	a := c.app
	a.tasks.run(func() func() {
		card, err := query.Card(a.db, c.household, a.now())
		draft, _ := a.db.Draft(draftKey(c.household))
		var resolved []*domain.Problem
		if err == nil {
			resolved, err = query.ResolvedProblems(a.db, c.household, cardResolved)
		}
		// Whether the leader may pair, move or close the household, as the
		// server decides it (query.Rights).
		mayRoster := false
		if err == nil && a.Leader() {
			var rights *query.Rights
			if rights, err = query.RightsOf(a.db, a.cadre); err == nil {
				mayRoster, err = rights.MayRoster(c.household)
			}
		}
		correct := domain.DefaultCorrectDays
		if err == nil && card.Village != nil {
			if r, rerr := a.db.Rules(card.Village.ID); rerr == nil {
				correct = r.Correct()
			}
		}
		var photos photoSet
		if err == nil {
			var of []uuid.UUID
			for _, v := range card.Visits {
				of = append(of, v.ID)
			}
			for _, p := range append(slices.Clone(card.Problems), resolved...) {
				of = append(of, p.ID)
			}
			photos = readPhotos(a.db, nil, of...)
		}
		return func() {
			c.correct = correct
			c.mayRoster = mayRoster
			c.photos = photos
			if err != nil {
				c.Error.SetText(errText(err))
				c.Error.Show()
				return
			}
			c.Error.Hide()
			setVisible(c.Draft, draft != nil)
			c.Resolved = resolved
			c.show(card)
		}
	})
}

// show fills the card's sections from card.
func (c *Card) show(card *query.HouseholdCard) {
	c.Data = card
	h := card.Household
	c.title = h.HeadName
	c.app.nav.retitle(c)
	c.Phones = nil
	c.Photos = map[uuid.UUID]*PhotoStrip{}
	strip := func(box *fyne.Container, of uuid.UUID) {
		if s := newPhotoStrip(c.app, c.photos.of[of], c.photos.thumbs); s != nil {
			c.Photos[of] = s
			box.Add(s.Content())
		}
	}

	head := widget.NewLabelWithStyle(h.HeadName, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.SizeName = theme.SizeNameSubHeadingText
	where := []string{}
	if card.Village != nil {
		where = append(where, card.Village.Name)
	}
	if card.Group != nil {
		where = append(where, card.Group.Name)
	}
	if card.NaturalVillage != nil {
		where = append(where, card.NaturalVillage.Name)
	}
	sub := widget.NewLabel(join(statusText(h.Status), strings.Join(where, " "), daysText(card.DaysSince)))
	sub.Wrapping = fyne.TextWrapWord
	if card.DaysSince < 0 {
		sub.Importance = widget.DangerImportance
	}

	facts := container.New(layout.NewFormLayout())
	fact := func(name string, value fyne.CanvasObject) {
		k := widget.NewLabel(name)
		k.TextStyle.Bold = true
		facts.Add(k)
		facts.Add(value)
	}
	text := func(s string) fyne.CanvasObject {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	fact(lang.L("card.income"), text(h.Income))
	fact(lang.L("card.phone"), c.phone(h.Phone))
	fact(lang.L("card.id_number"), c.idNumber(h))
	fact(lang.L("card.address"), text(h.Address))
	fact(lang.L("card.size"), text(count("households.members", h.Size)))
	fact(lang.L("card.farmland"), text(lang.L("card.mu", map[string]any{"Mu": strconv.FormatFloat(h.Farmland, 'f', -1, 64)})))
	if strings.TrimSpace(h.Notes) != "" {
		fact(lang.L("card.notes"), text(h.Notes))
	}

	members := container.NewVBox()
	for _, m := range card.Members {
		line := join(m.Name, relationText(m.Relation), m.Gender, birth(m, c.app.now()), m.Health, m.Work, domain.MaskID(m.IDNumber))
		l := widget.NewLabel(line)
		l.Truncation = fyne.TextTruncateEllipsis // one line each
		members.Add(l)
	}

	helpers := container.NewVBox()
	for _, hp := range card.Helpers {
		if hp.Cadre == nil {
			continue
		}
		name := widget.NewLabel(join(roleText(hp.Role), hp.Cadre.Name, hp.Cadre.Unit))
		name.Wrapping = fyne.TextWrapWord
		helpers.Add(container.NewBorder(nil, nil, nil, c.phone(hp.Cadre.Phone), name))
	}
	if len(helpers.Objects) == 0 {
		helpers.Add(dangerLabel(lang.L("card.no_helpers")))
	}
	c.Pair = c.pairButtons(card)
	for _, b := range c.Pair {
		helpers.Add(b)
	}

	plan := container.NewVBox()
	if card.Plan == nil {
		plan.Add(widget.NewLabel(lang.L("card.no_plan")))
	} else {
		plan.Add(wrapLabel(join(card.Plan.Goal, planStatusText(card.Plan.Status))))
		done := 0
		for _, m := range card.Measures {
			if m.Progress == domain.Done {
				done++
			}
		}
		if n := len(card.Measures); n > 0 {
			bar := widget.NewProgressBar()
			bar.Max = float64(n)
			bar.Value = float64(done)
			bar.TextFormatter = func() string { return lang.L("card.measures_done", map[string]any{"Done": done, "Total": n}) }
			plan.Add(bar)
		}
		for _, m := range card.Measures {
			l := wrapLabel(join(measureKindText(m.Type), m.Description, m.Target, dateText(m.Due), progressText(m.Progress)))
			if m.Progress == domain.Stuck || (m.Progress != domain.Done && m.Due.Before(c.app.now())) {
				l.Importance = widget.WarningImportance
			}
			plan.Add(l)
		}
	}

	// Each problem opens its history and the moves the cadre may make
	// (problem.go).
	problems := container.NewVBox()
	for _, p := range card.Problems {
		age := int(c.app.now().Sub(p.Created) / (24 * time.Hour))
		id := p.ID
		l := newTapLabel(join(p.Text, problemStatusText(p.Status), count("problems.age", age)), func() {
			c.app.nav.Push(newProblemScreen(c.app, id))
		})
		l.Importance = widget.WarningImportance
		problems.Add(tapRow(l))
		strip(problems, p.ID)
	}
	// The follow-ups the recent visits left owed, each done with one tap.
	c.FollowUpDone = nil
	for _, v := range card.Visits {
		if !v.FollowUpOwed() {
			continue
		}
		msg := lang.L("card.follow_up_open", map[string]any{"Text": v.FollowUp})
		if !v.Due.IsZero() {
			msg = lang.L("card.follow_up", map[string]any{"Text": v.FollowUp, "Date": dateText(v.Due)})
		}
		l := wrapLabel(msg)
		if !v.Due.IsZero() && v.Due.Before(c.app.now()) {
			l.Importance = widget.WarningImportance
		}
		done := c.app.followUpDoneButton(v, func() {
			c.notify(lang.L("card.follow_up_done"))
			c.load()
		})
		c.FollowUpDone = append(c.FollowUpDone, done)
		problems.Add(container.NewBorder(nil, nil, nil, done, l))
	}
	if len(problems.Objects) == 0 {
		problems.Add(widget.NewLabel(lang.L("card.no_problems")))
	}
	// Problems resolved lately, with how: the answer reaches the card.
	for _, p := range c.Resolved {
		id := p.ID
		l := newTapLabel(lang.L("problem.card_resolved", map[string]any{"Text": p.Text, "Resolution": p.Resolution, "Date": dateText(p.ResolvedAt)}), func() {
			c.app.nav.Push(newProblemScreen(c.app, id))
		})
		l.Importance = widget.SuccessImportance
		problems.Add(tapRow(l))
		strip(problems, p.ID)
	}

	visits := container.NewVBox()
	c.CorrectVisit = nil
	for _, v := range card.Visits {
		l := wrapLabel(join(dateText(v.At), visitKindText(v.Type), absentText(v), v.Notes))
		if v.Absent {
			l.Importance = widget.WarningImportance // an attempt: nobody was met
		}
		var line fyne.CanvasObject = l
		if v.Correctable(c.app.cadre, c.app.now(), c.correct) {
			v := v
			b := widget.NewButtonWithIcon(lang.L("visit.correct"), theme.DocumentCreateIcon(), func() { c.app.nav.Push(newCorrection(c.app, v)) })
			b.Importance = widget.LowImportance
			c.CorrectVisit = append(c.CorrectVisit, b)
			// Under the visit, so its words keep the card's whole width.
			line = container.NewVBox(l, container.NewHBox(layout.NewSpacer(), b))
		}
		visits.Add(line)
		strip(visits, v.ID)
		// Its history: what it said before each correction.
		for _, fix := range v.Corrections {
			h := wrapLabel(lang.L("card.visit_before", map[string]any{"Date": timeText(fix.At),
				"Text": join(dateText(fix.Before.At), visitKindText(fix.Before.Type), fix.Before.Notes)}))
			h.SizeName = theme.SizeNameCaptionText
			h.Importance = widget.LowImportance
			visits.Add(h)
		}
	}
	if len(card.Visits) == 0 {
		visits.Add(dangerLabel(lang.L("households.never_visited")))
	}

	// 一口清: what a cadre recites at the door comes first — status and days
	// since the last visit, the helpers, the plan, open problems and the
	// follow-up owed, the visits — then the facts (income first) and the
	// members, one line each.
	c.Body.Objects = []fyne.CanvasObject{
		head, sub,
		section(lang.L("card.helpers")), helpers,
		section(lang.L("card.plan")), plan,
		section(lang.L("card.problems")), problems,
		section(lang.L("card.visits")), visits,
		section(lang.L("card.facts")), facts,
		section(lang.L("card.members")), members,
	}
	c.Body.Refresh()
}

// phone returns a tappable tel: link for a phone number, or a dash.
// revealFor is how long a revealed ID number stays whole.
const revealFor = 30 * time.Second

// idNumber is the head's ID number, masked, with the button that reveals
// it.
func (c *Card) idNumber(h *domain.Household) fyne.CanvasObject {
	c.IDNumber = widget.NewLabel(domain.MaskID(h.IDNumber))
	c.Reveal = widget.NewButtonWithIcon(lang.L("id.reveal"), theme.VisibilityIcon(), nil)
	c.Reveal.Importance = widget.LowImportance
	if h.IDNumber == "" {
		c.IDNumber.SetText("—")
		return c.IDNumber
	}
	whole := false
	c.Reveal.OnTapped = func() {
		if whole {
			whole = false
			c.IDNumber.SetText(domain.MaskID(h.IDNumber))
			c.Reveal.SetText(lang.L("id.reveal"))
			c.Reveal.SetIcon(theme.VisibilityIcon())
			return
		}
		c.Reveal.Disable()
		a, id := c.app, h.ID
		a.tasks.run(func() func() {
			err := a.revealed(id)
			return func() {
				c.Reveal.Enable()
				if err != nil {
					c.Error.SetText(errText(err))
					c.Error.Show()
					return
				}
				whole = true
				c.IDNumber.SetText(h.IDNumber)
				c.Reveal.SetText(lang.L("id.hide"))
				c.Reveal.SetIcon(theme.VisibilityOffIcon())
				// The app's ticker hides it again after revealFor.
				a.shown = &revealed{at: time.Now(), hide: func() {
					if whole {
						c.Reveal.OnTapped()
					}
				}}
			}
		})
	}
	return container.NewBorder(nil, nil, nil, c.Reveal, c.IDNumber)
}

// revealed is a whole ID number on screen, which the app's ticker hides
// after revealFor.
type revealed struct {
	at   time.Time
	hide func()
}

// hideRevealed hides a whole ID number shown longer than revealFor.
func (a *App) hideRevealed() {
	if a.shown != nil && time.Since(a.shown.at) > revealFor {
		a.shown.hide()
		a.shown = nil
	}
}

// revealed writes to the audit log that the cadre revealed a household's
// whole ID number; the sync client sends it to the server's audit log
// (protocol.PathAudit), where the office sees who looked at whose number.
// It names the household by its ID only: the device's audit log is not
// encrypted.
func (a *App) revealed(household uuid.UUID) error {
	return a.db.Audit(store.AuditEntry{At: a.now(), Account: a.cadre.String(), Action: "reveal-id",
		Target: household.String()})
}

func (c *Card) phone(p string) fyne.CanvasObject {
	if p == "" {
		return widget.NewLabel("—")
	}
	u := &url.URL{Scheme: "tel", Opaque: p}
	link := widget.NewHyperlink(p, u)
	c.Phones = append(c.Phones, link)
	return link
}

// birth formats a birth year with the age it gives.
// birth says when a member was born and how old they are: "1970-03-12
// 生（55岁）" when the day is known (Member.Born: the birth date, or the
// ID number's), the age counting birthdays; "1970年生（55岁）" when only the
// year is.
func birth(m *domain.Member, now time.Time) string {
	b, exact := m.Born(now.Location())
	if b.IsZero() {
		return ""
	}
	age := domain.Age(b, now.In(b.Location()), exact)
	if exact {
		return lang.L("card.born_on", map[string]any{"Date": b.Format("2006-01-02"), "Age": age})
	}
	return lang.L("card.born", map[string]any{"Year": b.Year(), "Age": age})
}

func section(title string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Importance = widget.HighImportance
	return container.NewVBox(widget.NewSeparator(), l)
}

func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func dangerLabel(s string) *widget.Label {
	l := wrapLabel(s)
	l.Importance = widget.DangerImportance
	return l
}

// errorLabel returns a screen's error line: wrapped, in the danger colour,
// hidden until there is something to say.
// saveRecord is how a form saves the record its inputs make (rec, or why
// they make none: err): written by the signed-in cadre in the background,
// with save disabled meanwhile; a refusal, of the inputs or by the store,
// is shown in errl, and done runs on the UI goroutine once it is saved.
func (a *App) saveRecord(rec domain.Record, err error, save *widget.Button, errl *widget.Label, done func(), also ...domain.Record) {
	if err != nil {
		errl.SetText(errText(err))
		errl.Show()
		return
	}
	errl.Hide()
	save.Disable()
	author := a.cadre
	a.tasks.run(func() func() {
		err := a.db.Put(author, append([]domain.Record{rec}, also...)...)
		return func() {
			save.Enable()
			if err != nil {
				errl.SetText(errText(err))
				errl.Show()
				return
			}
			done()
		}
	})
}

func errorLabel() *widget.Label {
	l := dangerLabel("")
	l.Hide()
	return l
}

// absentText marks a visit that met nobody (未遇到): an attempt, shown as such.
func absentText(v *domain.Visit) string {
	if v.Absent {
		return lang.L("visit.absent")
	}
	return ""
}
