package app

import (
	"encoding/json"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// TodoScreen is a cadre's to-do list (待办): plans sent back with who sent
// them and why, measures due within query.TodoDays or overdue, follow-ups
// due, problems on their households that someone answered, and households
// overdue for a visit. Each item opens where it is dealt with; a follow-up is
// marked done with one tap. It counts nothing against a quota.
type TodoScreen struct {
	// Body holds the sections once loaded.
	Body *fyne.Container
	// Open[i] opens the i-th item, in the order shown.
	Open []*widget.Button
	// Done[i] marks the i-th follow-up shown done.
	Done  []*widget.Button
	Error *widget.Label
	// Data is the list last read.
	Data *query.TodoList

	app     *App
	content fyne.CanvasObject
}

func newTodoScreen(a *App) *TodoScreen {
	t := &TodoScreen{app: a}
	t.Body = container.NewVBox(widget.NewLabel(lang.L("common.loading")))
	t.Error = errorLabel()
	t.content = container.NewBorder(t.Error, nil, nil, nil, container.NewVScroll(t.Body))
	return t
}

// Title returns 待办.
func (t *TodoScreen) Title() string { return lang.L("todo.title") }

// Content returns the list.
func (t *TodoScreen) Content() fyne.CanvasObject { return t.content }

func (t *TodoScreen) load() {
	a := t.app
	cadre := a.cadre
	a.tasks.run(func() func() {
		todo, err := query.Todo(a.db, cadre, a.now())
		return func() {
			if err != nil {
				t.Error.SetText(errText(err))
				t.Error.Show()
				return
			}
			t.Error.Hide()
			t.show(todo)
			a.showTodoCount(todo.Len())
		}
	})
}

// item is one line of the list: its text over its details, a button that
// opens it and, for a follow-up, one that marks it done.
func (t *TodoScreen) item(text, detail string, warn bool, open func(), done *widget.Button) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Truncation = fyne.TextTruncateEllipsis // one line beside the buttons; the detail wraps below
	if warn {
		l.Importance = widget.WarningImportance
	}
	b := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), open)
	b.Importance = widget.LowImportance
	t.Open = append(t.Open, b)
	right := container.NewHBox(b)
	if done != nil {
		right = container.NewHBox(done, b)
	}
	box := container.NewVBox(container.NewBorder(nil, nil, nil, right, l))
	if detail != "" {
		box.Add(wrapLabel(detail))
	}
	return box
}

func (t *TodoScreen) show(todo *query.TodoList) {
	a := t.app
	t.Data = todo
	t.Open, t.Done = nil, nil
	objs := []fyne.CanvasObject{}
	card := func(h uuid.UUID) func() { return func() { a.nav.Push(newCard(a, h)) } }
	plan := func(h uuid.UUID, head string) func() { return func() { a.nav.Push(newPlanScreen(a, h, head)) } }
	if todo.Len() == 0 {
		objs = append(objs, widget.NewLabel(lang.L("todo.empty")))
	}
	if len(todo.Returned) > 0 {
		objs = append(objs, section(lang.L("todo.returned")))
		for _, r := range todo.Returned {
			detail := ""
			if r.Review != nil {
				detail = lang.L("todo.returned_by", map[string]any{"Name": r.Reviewer, "Date": dateText(r.Review.At), "Comment": r.Review.Comment})
			}
			objs = append(objs, t.item(r.HeadName, detail, true, plan(r.Household, r.HeadName), nil))
		}
	}
	if len(todo.Measures) > 0 {
		objs = append(objs, section(lang.L("todo.measures")))
		for _, m := range todo.Measures {
			due := lang.L("todo.due", map[string]any{"Date": dateText(m.Measure.Due)})
			if m.Overdue {
				due = lang.L("todo.overdue", map[string]any{"Date": dateText(m.Measure.Due)})
			}
			objs = append(objs, t.item(join(m.HeadName, measureKindText(m.Measure.Type), m.Measure.Description),
				join(due, progressText(m.Measure.Progress)), m.Overdue, plan(m.Household, m.HeadName), nil))
		}
	}
	if len(todo.FollowUps) > 0 {
		objs = append(objs, section(lang.L("todo.follow_ups")))
		for _, f := range todo.FollowUps {
			due := lang.L("todo.due", map[string]any{"Date": dateText(f.Visit.Due)})
			if f.Overdue {
				due = lang.L("todo.overdue", map[string]any{"Date": dateText(f.Visit.Due)})
			}
			v := f.Visit
			done := a.followUpDoneButton(v, func() { t.load() })
			t.Done = append(t.Done, done)
			objs = append(objs, t.item(join(f.HeadName, v.FollowUp), join(due, lang.L("todo.from_visit", map[string]any{"Date": dateText(v.At)})),
				f.Overdue, card(f.Household), done))
		}
	}
	if len(todo.Answered) > 0 {
		objs = append(objs, section(lang.L("todo.answered")))
		for _, p := range todo.Answered {
			objs = append(objs, t.item(join(p.HeadName, p.Problem.Text),
				lang.L("todo.answered_by", map[string]any{"Name": p.By, "Date": dateText(p.Problem.ResolvedAt), "Text": p.Problem.Resolution}),
				false, card(p.Household), nil))
		}
	}
	if len(todo.Overdue) > 0 {
		objs = append(objs, section(lang.L("todo.overdue_visits")))
		for _, r := range todo.Overdue {
			objs = append(objs, t.item(join(r.HeadName, r.GroupName), daysText(r.DaysSince), true, card(r.ID), nil))
		}
	}
	t.Body.Objects = objs
	t.Body.Refresh()
	// Lay out once more: a wrapped label knows its height only once it has
	// its width, and the first layout gave the list its height before that.
	t.content.Refresh()
}

// followUpDoneButton returns the one-tap 办结 of a visit's follow-up: it
// saves the visit with the follow-up done now, then runs after.
func (a *App) followUpDoneButton(v *domain.Visit, after func()) *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon(lang.L("todo.done"), theme.ConfirmIcon(), func() {
		next := *v
		next.FollowUpDone = a.now()
		b.Disable()
		author := a.cadre
		a.tasks.run(func() func() {
			err := a.db.Put(author, &next)
			return func() {
				if err != nil {
					b.Enable()
					fyne.LogError("app: mark a follow-up done", err)
					return
				}
				a.changed()
				after()
			}
		})
	})
	return b
}

// showTodoCount shows how many to-do items wait on the main screen's button.
func (a *App) showTodoCount(n int) {
	if a.TodoButton == nil {
		return
	}
	a.TodoButton.SetText(lang.L("todo.count", map[string]any{"Count": n}))
	if n > 0 {
		a.TodoButton.Importance = widget.WarningImportance
	} else {
		a.TodoButton.Importance = widget.LowImportance
	}
	a.TodoButton.Refresh()
}

// toldKey keeps, as a draft (never synced), the plans sent back the to-do
// list held when last read, so a restart does not announce them again.
const toldKey = "notified/returned"

// newlyReturned returns the plans sent back in todo that were not there when
// the list was last read, and remembers the current ones. The first read on
// a device only remembers: a notification says what a sync brought. Call it
// off the UI goroutine.
func (a *App) newlyReturned(todo *query.TodoList) []query.ReturnedPlan {
	a.toldMu.Lock()
	defer a.toldMu.Unlock()
	var told []uuid.UUID
	data, err := a.db.Draft(toldKey)
	if err != nil {
		return nil
	}
	first := data == nil || json.Unmarshal(data, &told) != nil
	var out []query.ReturnedPlan
	now := make([]uuid.UUID, 0, len(todo.Returned))
	for _, r := range todo.Returned {
		now = append(now, r.Plan.ID)
		if !first && !slices.Contains(told, r.Plan.ID) {
			out = append(out, r)
		}
	}
	if b, err := json.Marshal(now); err == nil {
		if err := a.db.SaveDraft(toldKey, b); err != nil {
			fyne.LogError("app: remember the plans sent back", err)
		}
	}
	return out
}

// notifyReturned sends a system notification for each plan sent back that
// a sync brought.
func (a *App) notifyReturned(plans []query.ReturnedPlan) {
	for _, r := range plans {
		body := r.HeadName
		if r.Review != nil {
			body = lang.L("todo.returned_note", map[string]any{"Head": r.HeadName, "Name": r.Reviewer, "Comment": r.Review.Comment})
		}
		a.sendNotification(lang.L("todo.returned_title"), body)
	}
}

// refreshTodo reads the signed-in cadre's to-do list in the background,
// shows its count and notifies what a sync brought.
func (a *App) refreshTodo() {
	if a.leader || a.cadre == uuid.Nil {
		return
	}
	cadre := a.cadre
	now := a.now()
	a.tasks.run(func() func() {
		todo, err := query.Todo(a.db, cadre, now)
		var fresh []query.ReturnedPlan
		if err == nil {
			fresh = a.newlyReturned(todo)
		}
		return func() {
			if err != nil {
				fyne.LogError("app: read the to-do list", err)
				return
			}
			a.showTodoCount(todo.Len())
			a.notifyReturned(fresh)
			if !a.todoShown && a.nav != nil {
				// The first thing a cadre sees when anything is due: on a
				// tablet the list opens beside theirs at start; on a phone
				// the count heads their list (opening it there would put a
				// back tap before every visit).
				a.todoShown = true
				if todo.Len() > 0 && !a.nav.Phone() && len(a.nav.Stack()) == 0 {
					a.nav.Open(newTodoScreen(a))
				}
			}
		}
	})
}
