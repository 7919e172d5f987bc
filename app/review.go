package app

import (
	"encoding/json"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// Review lets a team leader read a household's plan with the household's
// recent visits, and comment on it, sign it off or send it back. The review
// and the plan's new status are saved in one transaction; the cadre sees both
// after their next sync.
type Review struct {
	// Body shows the plan, its measures, the recent visits and earlier reviews.
	Body    *fyne.Container
	Comment *widget.Entry
	// Note saves the comment only; Approve signs the plan off; Return sends it back.
	Note    *widget.Button
	Approve *widget.Button
	Return  *widget.Button
	Error   *widget.Label
	// Data is the household card the plan was read from.
	Data *query.HouseholdCard
	// Changes lists what changed in the plan since it was last approved,
	// shown above the plan while it awaits review again.
	Changes *fyne.Container
	// Photos are the photos of each measure's progress, by its ID.
	Photos map[uuid.UUID]*PhotoStrip
	// Who says who may decide, when the signed-in cadre may not: the
	// village's rules name the approvers (by default the first secretary
	// and the team leader).
	Who *widget.Label

	app       *App
	may       bool
	household uuid.UUID
	title     string
	content   fyne.CanvasObject
	photos    photoSet // of the measures
}

func newReview(a *App, household uuid.UUID) *Review {
	r := &Review{app: a, household: household, title: lang.L("review.title")}
	r.Body = container.NewVBox(widget.NewLabel(lang.L("common.loading")))
	r.Comment = widget.NewMultiLineEntry()
	r.Comment.Wrapping = fyne.TextWrapWord
	r.Comment.SetPlaceHolder(lang.L("review.comment_hint"))
	r.Comment.SetMinRowsVisible(2)
	r.Note = widget.NewButton(lang.L("review.comment"), func() { r.decide(domain.VerdictComment) })
	r.Approve = widget.NewButtonWithIcon(lang.L("review.approve"), theme.ConfirmIcon(), func() { r.decide(domain.VerdictApprove) })
	r.Approve.Importance = widget.HighImportance
	r.Return = widget.NewButtonWithIcon(lang.L("review.return"), theme.MailReplyIcon(), func() { r.decide(domain.VerdictReturn) })
	r.Return.Importance = widget.WarningImportance
	r.Error = errorLabel()
	r.Changes = container.NewVBox()
	r.Who = wrapLabel("")
	r.Who.Importance = widget.WarningImportance
	r.Who.Hide()
	bottom := container.NewVBox(r.Error, r.Who, r.Comment, container.NewGridWithColumns(3, r.Note, r.Return, r.Approve))
	r.content = container.NewBorder(nil, bottom, nil, nil, container.NewVScroll(r.Body))
	return r
}

// Title returns "审核计划 王兴文".
func (r *Review) Title() string { return r.title }

// Content returns the screen.
func (r *Review) Content() fyne.CanvasObject { return r.content }

func (r *Review) load() {
	a := r.app
	me := a.cadre
	a.tasks.run(func() func() {
		card, err := query.Card(a.db, r.household, a.now())
		var photos photoSet
		if err == nil {
			photos = readPhotos(a.db, card.Village, measureIDs(card)...)
		}
		var rules domain.Rules
		may := false
		if err == nil && card.Village != nil {
			// As the server decides (domain.Scope.Approves): a role of the
			// cadre's at the village or its town among the approvers.
			rules, err = a.db.Rules(card.Village.ID)
			rights, rerr := query.RightsOf(a.db, me)
			if err == nil {
				err = rerr
			}
			if err == nil {
				may, err = rights.Approves(card.Village.ID)
			}
		}
		return func() {
			if err != nil {
				r.fail(err)
				return
			}
			r.may = may
			r.photos = photos
			if may {
				r.Who.Hide()
			} else {
				names := make([]string, len(rules.Approvers))
				for i, role := range rules.Approvers {
					names[i] = roleText(role)
				}
				r.Who.SetText(lang.L("review.who", map[string]any{"Roles": strings.Join(names, lang.L("review.and"))}))
				r.Who.Show()
			}
			r.show(card)
		}
	})
}

func (r *Review) fail(err error) {
	r.Error.SetText(errText(err))
	r.Error.Show()
}

func (r *Review) show(card *query.HouseholdCard) {
	r.Data = card
	r.title = lang.L("review.title_of", map[string]any{"Name": card.Household.HeadName})
	r.app.nav.retitle(r)
	objs := []fyne.CanvasObject{}
	add := func(o ...fyne.CanvasObject) { objs = append(objs, o...) }
	add(wrapLabel(join(card.Household.HeadName, statusText(card.Household.Status), count("households.members", card.Household.Size), daysText(card.DaysSince))))
	add(section(lang.L("card.plan")))
	if card.Plan == nil {
		add(widget.NewLabel(lang.L("card.no_plan")))
	} else {
		r.showChanges(card)
		if len(r.Changes.Objects) > 0 {
			add(r.Changes)
		}
		add(wrapLabel(card.Plan.Goal), widget.NewLabel(join(planStatusText(card.Plan.Status), lang.L("plan.since", map[string]any{"Date": dateText(card.Plan.Start)}))))
		r.Photos = map[uuid.UUID]*PhotoStrip{}
		for _, m := range card.Measures {
			add(wrapLabel(join(measureKindText(m.Type), m.Description, m.Target, lang.L("plan.due", map[string]any{"Date": dateText(m.Due)}), progressText(m.Progress))))
			if s := newPhotoStrip(r.app, r.photos.of[m.ID], r.photos.thumbs); s != nil {
				r.Photos[m.ID] = s
				add(s.Content())
			}
		}
	}
	add(section(lang.L("card.visits")))
	for i, v := range card.Visits {
		if i == 5 {
			break
		}
		add(wrapLabel(join(dateText(v.At), visitKindText(v.Type), v.Notes)))
	}
	if len(card.Visits) == 0 {
		add(dangerLabel(lang.L("households.never_visited")))
	}
	add(section(lang.L("card.problems")))
	for _, p := range card.Problems {
		add(wrapLabel(join(p.Text, problemStatusText(p.Status))))
	}
	if len(card.Problems) == 0 {
		add(widget.NewLabel(lang.L("card.no_problems")))
	}
	add(section(lang.L("plan.reviews")))
	for _, rv := range card.Reviews {
		add(wrapLabel(join(dateText(rv.At), verdictText(rv.Verdict), rv.Comment)))
	}
	if len(card.Reviews) == 0 {
		add(widget.NewLabel(lang.L("plan.no_reviews")))
	}
	r.Body.Objects = objs
	r.Body.Refresh()
	r.content.Refresh() // wrapped labels know their height only once they have their width
	enabled := card.Plan != nil && r.may
	for _, b := range []*widget.Button{r.Note, r.Approve, r.Return} {
		if enabled {
			b.Enable()
		} else {
			b.Disable()
		}
	}
}

// showChanges fills Changes with what changed since the plan's last
// approval, while it awaits review again: the goal, and each measure added,
// removed or changed (before → after). Progress is not a change.
func (r *Review) showChanges(card *query.HouseholdCard) {
	r.Changes.Objects = nil
	defer r.Changes.Refresh()
	if card.Plan.Status != domain.PlanSubmitted {
		return
	}
	var last *domain.Review
	for _, rv := range card.Reviews { // newest first
		if rv.Verdict == domain.VerdictApprove {
			last = rv
			break
		}
	}
	if last == nil {
		return
	}
	add := func(o fyne.CanvasObject) { r.Changes.Add(o) }
	add(section(lang.L("review.changes", map[string]any{"Date": dateText(last.At)})))
	if last.Snapshot == nil {
		add(wrapLabel(lang.L("review.no_snapshot")))
		return
	}
	changes := last.Snapshot.Diff(card.Plan, card.Measures)
	if len(changes) == 0 {
		add(wrapLabel(lang.L("review.no_changes")))
	}
	measure := func(m domain.MeasureSnapshot) string {
		return join(measureKindText(m.Type), m.Description, m.Target, lang.L("plan.due", map[string]any{"Date": dateText(m.Due)}))
	}
	for _, c := range changes {
		var text string
		switch c.What {
		case domain.ChangedGoal:
			text = lang.L("review.goal_changed", map[string]any{"Before": c.Before.Description, "After": c.After.Description})
		case domain.MeasureAdded:
			text = lang.L("review.measure_added", map[string]any{"Measure": measure(c.After)})
		case domain.MeasureRemoved:
			text = lang.L("review.measure_removed", map[string]any{"Measure": measure(c.Before)})
		default:
			text = lang.L("review.measure_changed", map[string]any{"Before": measure(c.Before), "After": measure(c.After)})
		}
		l := wrapLabel(text)
		l.Importance = widget.WarningImportance
		add(l)
	}
}

// decide saves a review with verdict v and the plan's new status, together.
func (r *Review) decide(v domain.Verdict) {
	a := r.app
	if r.Data == nil || r.Data.Plan == nil {
		return
	}
	now := a.now()
	plan := *r.Data.Plan
	rv := &domain.Review{Plan: plan.ID, Household: plan.Household, Reviewer: a.cadre, Verdict: v,
		Comment: strings.TrimSpace(r.Comment.Text), At: now}
	if err := rv.Validate(now); err != nil {
		r.fail(err)
		return
	}
	plan.Status = domain.PlanStatusAfter(v, plan.Status)
	if v == domain.VerdictApprove {
		// What was approved, so that the next reviewer sees what changed.
		rv.Snapshot = domain.Snapshot(&plan, r.Data.Measures)
	}
	r.Error.Hide()
	author := a.cadre
	a.tasks.run(func() func() {
		err := a.db.Put(author, rv, &plan)
		return func() {
			if err != nil {
				r.fail(err)
				return
			}
			r.Comment.SetText("")
			a.changed()
			a.nav.Pop()
		}
	})
}

// conflicts lists the edits that lost to a concurrent edit and wait for a
// team leader.
func conflicts(a *App, village uuid.UUID) Screen {
	return newListScreen(a, lang.L("conflicts.title"), func() ([]Item, error) {
		rows, err := query.Conflicts(a.db, village, true)
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, r := range rows {
			r := r
			v := describeConflict(a.db, r.Conflict)
			items = append(items, Item{
				Title:  v.title(r),
				Detail: join(v.winner, v.loser),
				Warn:   true,
				open:   func() { a.nav.Push(newConflict(a, r, v)) },
			})
		}
		return items, nil
	})
}

// Conflict shows a lost edit beside the value that won, and keeps the one the
// team leader picks.
type Conflict struct {
	KeepWinner *widget.Button
	KeepLoser  *widget.Button
	Error      *widget.Label

	app     *App
	row     query.ConflictRow
	content fyne.CanvasObject
}

// conflictView is a conflict in words: the record it is about (a measure's
// text, a visit's date) and both values through the app's display names.
// describeConflict reads the store: call it off the UI goroutine.
type conflictView struct {
	subject, winner, loser string
}

// title reads "赵平强 · 一社 · 措施 · 散养土鸡 50 只 · 进度".
func (v conflictView) title(r query.ConflictRow) string {
	who := ""
	if r.Household != nil {
		who = join(r.Household.HeadName, r.Household.GroupName)
	}
	return join(who, kindText(r.Conflict.RecordKind), v.subject, fieldText(r.Conflict.Field))
}

func describeConflict(db *store.DB, cf *domain.Conflict) conflictView {
	v := conflictView{
		winner: fieldValueText(db, cf.RecordKind, cf.Field, cf.Winner),
		loser:  fieldValueText(db, cf.RecordKind, cf.Field, cf.Loser),
	}
	rec, err := db.Get(cf.RecordKind, cf.Record)
	if err != nil {
		return v
	}
	switch r := rec.(type) {
	case *domain.Measure:
		v.subject = r.Description
	case *domain.Visit:
		v.subject = lang.L("conflicts.visit_of", map[string]any{"Date": dateText(r.At)})
	case *domain.Problem:
		v.subject = r.Text
	case *domain.Member:
		v.subject = r.Name
	case *domain.Cadre:
		v.subject = r.Name
	case *domain.Place:
		v.subject = r.Name
	}
	if n := []rune(v.subject); len(n) > 24 {
		v.subject = string(n[:24]) + "…"
	}
	return v
}

// fieldValueText shows a field's JSON value as the rest of the app shows it:
// a progress, status or kind by its display name, a date as 2027-07-15, a
// cadre by name, a yes or no in words.
func fieldValueText(db *store.DB, kind domain.Kind, field string, raw json.RawMessage) string {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return lang.L("common.yes")
		}
		return lang.L("common.no")
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return string(raw)
	}
	if s == "" {
		return lang.L("conflicts.empty")
	}
	switch {
	case field == "progress":
		return progressText(domain.Progress(s))
	case field == "status" && kind == domain.KindPlan:
		return planStatusText(domain.PlanStatus(s))
	case field == "status" && kind == domain.KindProblem:
		return problemStatusText(domain.ProblemStatus(s))
	case field == "status" && kind == domain.KindHousehold:
		return statusText(domain.Status(s))
	case field == "type" && kind == domain.KindMeasure:
		return measureKindText(domain.MeasureKind(s))
	case field == "type" && kind == domain.KindVisit:
		return visitKindText(domain.VisitKind(s))
	case field == "fees":
		return feesText(domain.Fees(s))
	case field == "water":
		return waterText(domain.Water(s))
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if t.IsZero() {
			return lang.L("conflicts.empty")
		}
		return dateText(t)
	}
	if id, err := uuid.Parse(s); err == nil {
		if id == uuid.Nil {
			return lang.L("conflicts.empty")
		}
		if rec, err := db.Get(domain.KindCadre, id); err == nil {
			return rec.(*domain.Cadre).Name
		}
	}
	return s
}

func newConflict(a *App, row query.ConflictRow, view conflictView) *Conflict {
	c := &Conflict{app: a, row: row}
	cf := row.Conflict
	side := func(head string, value string, author *domain.Cadre, stamp string, keep *widget.Button) fyne.CanvasObject {
		name := ""
		if author != nil {
			name = author.Name
		}
		when := ""
		if s, err := domain.ParseStamp(stamp); err == nil {
			when = timeText(s.Time())
		}
		v := wrapLabel(value)
		v.TextStyle.Bold = true
		return widget.NewCard(head, join(name, when), container.NewVBox(v, keep))
	}
	c.KeepWinner = widget.NewButton(lang.L("conflicts.keep"), func() { c.resolve(false) })
	c.KeepLoser = widget.NewButton(lang.L("conflicts.keep"), func() { c.resolve(true) })
	c.KeepLoser.Importance = widget.HighImportance
	c.KeepWinner.Importance = widget.HighImportance
	c.Error = errorLabel()
	head := wrapLabel(view.title(row))
	head.TextStyle.Bold = true
	explain := wrapLabel(lang.L("conflicts.explain"))
	sides := container.NewGridWithColumns(2,
		side(lang.L("conflicts.current"), view.winner, row.Winner, cf.WinnerStamp, c.KeepWinner),
		side(lang.L("conflicts.lost"), view.loser, row.Loser, cf.LoserStamp, c.KeepLoser))
	c.content = container.NewVScroll(container.NewVBox(head, explain, sides, c.Error))
	return c
}

// Title returns "冲突".
func (c *Conflict) Title() string { return lang.L("conflicts.one") }

// Content returns the two values side by side.
func (c *Conflict) Content() fyne.CanvasObject { return c.content }

func (c *Conflict) resolve(keepLoser bool) {
	a := c.app
	author, id := a.cadre, c.row.Conflict.ID
	a.tasks.run(func() func() {
		err := a.db.ResolveConflict(author, id, keepLoser)
		return func() {
			if err != nil {
				c.Error.SetText(errText(err))
				c.Error.Show()
				return
			}
			a.changed()
			a.nav.Pop()
		}
	})
}

// kindText names a record kind.
func kindText(k domain.Kind) string {
	switch k {
	case domain.KindPlace:
		return lang.L("kind.place")
	case domain.KindHousehold:
		return lang.L("kind.household")
	case domain.KindMember:
		return lang.L("kind.member")
	case domain.KindCadre:
		return lang.L("kind.cadre")
	case domain.KindAssignment:
		return lang.L("kind.assignment")
	case domain.KindVisit:
		return lang.L("kind.visit")
	case domain.KindProblem:
		return lang.L("kind.problem")
	case domain.KindPlan:
		return lang.L("kind.plan")
	case domain.KindMeasure:
		return lang.L("kind.measure")
	case domain.KindReview:
		return lang.L("kind.review")
	}
	return string(k)
}

// fieldText names the fields people edit at once most often, and returns the
// field's own name for the others.
func fieldText(f string) string {
	switch f {
	case "goal":
		return lang.L("field.goal")
	case "status":
		return lang.L("field.status")
	case "description":
		return lang.L("field.description")
	case "target":
		return lang.L("field.target")
	case "due":
		return lang.L("field.due")
	case "progress":
		return lang.L("field.progress")
	case "owner":
		return lang.L("field.owner")
	case "phone":
		return lang.L("card.phone")
	case "address":
		return lang.L("card.address")
	case "notes":
		return lang.L("card.notes")
	case "income":
		return lang.L("card.income")
	case "text":
		return lang.L("field.text")
	}
	return f
}
