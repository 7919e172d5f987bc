package app

import (
	"fmt"
	"math"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/store/query"
)

// Menu is a team leader's list of sections: the village overview, plans
// awaiting review, open problems, three-level assistance gaps, conflicts, the
// cadres in the village, all households and the settings. With more than one
// village, Village chooses which.
type Menu struct {
	List    *widget.List
	Village *widget.Select

	app       *App
	sections  []menuItem
	village   uuid.UUID
	villageAt int // the index of the village overview (after the town's sections)
	content   fyne.CanvasObject
}

type menuItem struct {
	title string
	icon  fyne.Resource
	open  func() Screen
}

func newMenu(a *App) *Menu {
	m := &Menu{app: a}
	if len(a.villages) > 0 {
		m.village = a.villages[0].ID
	}
	m.sections = []menuItem{
		{lang.L("overview.title"), theme.GridIcon(), func() Screen { return newOverview(a, m.village) }},
		{lang.L("review.list_title"), theme.DocumentIcon(), func() Screen { return plansAwaiting(a, m.village, uuid.Nil) }},
		{lang.L("problems.title"), theme.WarningIcon(), func() Screen { return openProblems(a, m.village, uuid.Nil) }},
		{lang.L("gaps.title"), theme.ErrorIcon(), func() Screen { return assistanceGaps(a, m.village, uuid.Nil) }},
		{lang.L("conflicts.title"), theme.ContentCopyIcon(), func() Screen { return conflicts(a, m.village) }},
		{lang.L("cadres.title"), theme.AccountIcon(), func() Screen { return cadreActivity(a, m.village) }},
		{lang.L("village.households"), theme.HomeIcon(), func() Screen {
			v := m.village
			return newHouseholds(a, lang.L("village.households"), func() ([]query.HouseholdRow, error) {
				return query.VillageHouseholds(a.db, v, a.now())
			}, nil)
		}},
		{lang.L("settings.title"), theme.SettingsIcon(), func() Screen { return newSettings(a) }},
	}
	if len(a.villages) > 1 {
		all := menuItem{lang.L("village.all_households"), theme.StorageIcon(), func() Screen {
			return newHouseholds(a, lang.L("village.all_households"), func() ([]query.HouseholdRow, error) {
				return query.Search(a.db, uuid.Nil, "", a.now(), 0)
			}, nil)
		}}
		m.sections = append(m.sections[:7], all, m.sections[7])
	}
	// The roster's history, the village's rules and the status requests
	// (history.go, rules.go, requests.go), before the settings.
	n := len(m.sections) - 1
	m.sections = append(m.sections[:n:n],
		menuItem{lang.L("history.title"), theme.HistoryIcon(), func() Screen { return rosterHistory(a, m.village) }},
		menuItem{lang.L("rules.title"), theme.ListIcon(), func() Screen { return newRulesForm(a, m.village) }},
		menuItem{lang.L("requests.title"), theme.QuestionIcon(), func() Screen { return statusRequests(a, m.village) }},
		m.sections[n])
	// A town lead or the office (town or city staff) starts from the town:
	// its overview, one per town, and the problems reported to it.
	if len(a.towns) > 0 {
		var town []menuItem
		for _, t := range a.towns {
			id := t.ID
			town = append(town, menuItem{lang.L("town.title_of", map[string]any{"Town": t.Name}), theme.GridIcon(),
				func() Screen { return newTownOverview(a, id) }})
		}
		// The towns' own duties (a town lead, the town office) and their
		// villages', to adjust as the server allows a town's lead.
		for _, t := range a.towns {
			id, title := t.ID, lang.L("history.title_of", map[string]any{"Place": t.Name})
			town = append(town, menuItem{title, theme.HistoryIcon(), func() Screen { return rosterHistoryTitled(a, title, id) }})
		}
		town = append(town, menuItem{lang.L("town.inbox"), theme.MailComposeIcon(), func() Screen { return townInbox(a) }})
		m.sections = append(town, m.sections...)
		m.villageAt = len(town)
	}
	m.List = widget.NewList(
		func() int { return len(m.sections) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.HomeIcon()), widget.NewLabel(""))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Icon).SetResource(m.sections[id].icon)
			box.Objects[1].(*widget.Label).SetText(m.sections[id].title)
		})
	m.List.OnSelected = func(id widget.ListItemID) {
		if a.nav.Phone() {
			m.List.UnselectAll()
		}
		a.nav.Open(m.sections[id].open())
	}

	var names []string
	for _, v := range a.villages {
		names = append(names, v.Name)
	}
	m.Village = newSelect(names, func(string) {
		if i := m.Village.SelectedIndex(); i >= 0 {
			m.village = a.villages[i].ID
			m.open(m.villageAt)
		}
	})
	top := fyne.CanvasObject(widget.NewLabel(strings.Join(names, "、")))
	if len(names) > 1 {
		// Show the village the sections open on (without opening it again).
		m.Village.Selected = names[0]
		top = m.Village
	} else if len(names) == 0 {
		top = dangerLabel(lang.L("menu.no_village"))
	}
	m.content = container.NewBorder(top, nil, nil, nil, m.List)
	return m
}

// Title returns the cadre's name.
func (m *Menu) Title() string {
	if m.app.me != nil {
		return m.app.me.Name
	}
	return lang.L("app.title")
}

// Content returns the menu.
func (m *Menu) Content() fyne.CanvasObject { return m.content }

func (m *Menu) unselect() { m.List.UnselectAll() }

// open opens the i-th section.
func (m *Menu) open(i int) {
	if !m.app.nav.Phone() {
		m.List.Select(i)
		return
	}
	m.app.nav.Open(m.sections[i].open())
}

// Overview is the village overview for a team leader, by group: households,
// people, visits this month, overdue households, open problems, plans awaiting
// review and three-level assistance gaps. Tapping a number opens its list.
type Overview struct {
	Table *widget.Table
	// Cards show the same numbers at phone width, one card per group (and
	// the total), with the columns that need action as buttons.
	Cards *fyne.Container
	Error *widget.Label
	// Data is the overview last read.
	Data *query.VillageOverview

	app     *App
	village uuid.UUID
	rows    []query.GroupStats // the groups, then the total
	content fyne.CanvasObject
}

// The overview's columns.
const (
	colGroup = iota
	colHouseholds
	colPeople
	colVisits
	colOverdue
	colProblems
	colReview
	colGaps
	overviewCols
)

// overviewHeads returns the column headings.
func overviewHeads() []string {
	return []string{lang.L("overview.group"), lang.L("overview.households"), lang.L("overview.people"), lang.L("overview.visits"),
		lang.L("overview.overdue"), lang.L("overview.problems"), lang.L("overview.review"), lang.L("overview.gaps")}
}

func newOverview(a *App, village uuid.UUID) *Overview {
	o := &Overview{app: a, village: village}
	o.Error = errorLabel()
	o.Table = widget.NewTable(
		func() (int, int) { return len(o.rows), overviewCols },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, c fyne.CanvasObject) {
			l := c.(*widget.Label)
			if id.Row >= len(o.rows) {
				return
			}
			l.SetText(o.cell(id))
			l.TextStyle.Bold = id.Row == len(o.rows)-1 || id.Col == colGroup
			l.Importance = widget.MediumImportance
			if id.Col != colGroup && id.Col != colHouseholds && id.Col != colPeople && id.Col != colVisits && o.value(id) > 0 {
				l.Importance = widget.WarningImportance
			}
			if id.Col != colGroup {
				l.Alignment = fyne.TextAlignTrailing
			} else {
				l.Alignment = fyne.TextAlignLeading
			}
			l.Refresh()
		})
	// Each column as wide as its heading, at least 96: English headings
	// ("Visits this month") overlapped their neighbours at a fixed 96.
	headTable(o.Table, overviewHeads(), 96, o.Open)
	hint := wrapLabel(lang.L("overview.hint"))
	hint.SizeName = theme.SizeNameCaptionText
	o.Cards = container.NewVBox()
	cards := container.NewVScroll(o.Cards)
	body := container.New(&byWidth{narrow: cards, wide: o.Table}, cards, o.Table)
	o.content = container.NewBorder(container.NewVBox(o.Error, hint), nil, nil, nil, body)
	return o
}

// headTable gives t a bold header row of heads, each column as wide as its
// heading and at least least, and opens the cell tapped with open.
func headTable(t *widget.Table, heads []string, least float32, open func(row, col int)) {
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	t.UpdateHeader = func(id widget.TableCellID, c fyne.CanvasObject) {
		l := c.(*widget.Label)
		if id.Col >= 0 && id.Col < len(heads) {
			l.SetText(heads[id.Col])
			l.TextStyle.Bold = true
			l.Refresh()
		}
	}
	pad := 2*theme.Padding() + 2*theme.InnerPadding()
	for c, h := range heads {
		w := fyne.MeasureText(h, theme.TextSize(), fyne.TextStyle{Bold: true}).Width + pad
		t.SetColumnWidth(c, max(least, float32(math.Ceil(float64(w)))))
	}
	t.OnSelected = func(id widget.TableCellID) {
		t.UnselectAll()
		open(id.Row, id.Col)
	}
}

// Title returns "村情概况 王坪村".
func (o *Overview) Title() string {
	if o.Data != nil && o.Data.Village != nil {
		return lang.L("overview.title_of", map[string]any{"Village": o.Data.Village.Name})
	}
	return lang.L("overview.title")
}

// Content returns the table.
func (o *Overview) Content() fyne.CanvasObject { return o.content }

func (o *Overview) load() {
	a := o.app
	a.tasks.run(func() func() {
		ov, err := query.Overview(a.db, o.village, a.now())
		return func() {
			if err != nil {
				o.Error.SetText(errText(err))
				o.Error.Show()
				return
			}
			o.Error.Hide()
			o.Data = ov
			o.rows = append(append([]query.GroupStats(nil), ov.Groups...), ov.Total)
			o.Table.Refresh()
			o.fillCards()
			a.nav.retitle(o)
		}
	})
}

// fillCards builds one card per row: the group's name, households and people,
// and buttons for what needs action — overdue, open problems, plans awaiting
// review, gaps — that open their lists.
func (o *Overview) fillCards() {
	heads := overviewHeads()
	var cards []fyne.CanvasObject
	for i := range o.rows {
		row := i
		title := widget.NewLabelWithStyle(join(o.cell(widget.TableCellID{Row: row, Col: colGroup}),
			count("households.count", o.rows[row].Households), count("households.members", o.rows[row].People)),
			fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.Wrapping = fyne.TextWrapWord
		grid := container.NewGridWithColumns(2)
		for _, col := range []int{colOverdue, colProblems, colReview, colGaps} {
			col := col
			id := widget.TableCellID{Row: row, Col: col}
			b := widget.NewButton(heads[col]+" "+o.cell(id), func() { o.Open(row, col) })
			if o.value(id) > 0 {
				b.Importance = widget.WarningImportance
			} else {
				b.Importance = widget.LowImportance
			}
			grid.Add(b)
		}
		cards = append(cards, container.NewVBox(title, grid, widget.NewSeparator()))
	}
	o.Cards.Objects = cards
	o.Cards.Refresh()
}

// byWidth shows narrow below Breakpoint and wide from it, filling the space.
type byWidth struct{ narrow, wide fyne.CanvasObject }

func (l *byWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	phone := size.Width < Breakpoint
	setVisible(l.narrow, phone)
	setVisible(l.wide, !phone)
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *byWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(0, 0)
}

// Rows returns the rows: the groups, then the total (whose Group is nil).
func (o *Overview) Rows() []query.GroupStats { return o.rows }

func (o *Overview) value(id widget.TableCellID) int {
	g := o.rows[id.Row]
	switch id.Col {
	case colHouseholds:
		return g.Households
	case colPeople:
		return g.People
	case colVisits:
		return g.VisitsThisMonth
	case colOverdue:
		return g.Overdue
	case colProblems:
		return g.OpenProblems
	case colReview:
		return g.AwaitingReview
	case colGaps:
		return g.Gaps
	}
	return 0
}

func (o *Overview) cell(id widget.TableCellID) string {
	if id.Col == colGroup {
		if g := o.rows[id.Row].Group; g != nil {
			return g.Name
		}
		return lang.L("overview.total")
	}
	return fmt.Sprint(o.value(id))
}

// Open opens the list behind the number in a row and column: the group's
// households (or overdue ones, or those visited this month), its open
// problems, its plans awaiting review or its gaps. The last row is the whole
// village.
func (o *Overview) Open(row, col int) {
	if row < 0 || row >= len(o.rows) || col <= colGroup {
		return
	}
	a := o.app
	g := o.rows[row].Group
	group, name := uuid.Nil, lang.L("overview.total")
	if g != nil {
		group, name = g.ID, g.Name
	}
	village := o.village
	rows := func() ([]query.HouseholdRow, error) {
		if group == uuid.Nil {
			return query.VillageHouseholds(a.db, village, a.now())
		}
		return query.GroupHouseholds(a.db, group, a.now())
	}
	var s Screen
	switch col {
	case colHouseholds, colPeople:
		s = newHouseholds(a, join(name, lang.L("overview.households")), rows, nil)
	case colVisits:
		since := monthStart(a.now())
		s = newHouseholds(a, join(name, lang.L("overview.visited_this_month")), rows, func(r query.HouseholdRow) bool {
			return !r.LastVisit.Before(since)
		})
	case colOverdue:
		s = newHouseholds(a, join(name, lang.L("overview.overdue")), rows, func(r query.HouseholdRow) bool { return r.Overdue })
	case colProblems:
		s = openProblems(a, village, group)
	case colReview:
		s = plansAwaiting(a, village, group)
	case colGaps:
		s = assistanceGaps(a, village, group)
	}
	if s != nil {
		a.nav.Push(s)
	}
}

// monthStart returns the first moment of now's calendar month.
func monthStart(now time.Time) time.Time {
	y, m, _ := now.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, now.Location())
}

// inGroup reports whether a household row belongs to group (any if uuid.Nil).
func inGroup(r query.HouseholdRow, group uuid.UUID) bool {
	return group == uuid.Nil || r.Group == group
}

// openProblems lists the village's unresolved problems, oldest first, with
// their age and, for those waiting at the village or the town, how long
// without response; each opens its history and moves (problem.go).
func openProblems(a *App, village, group uuid.UUID) Screen {
	return newListScreen(a, lang.L("problems.title"), func() ([]Item, error) {
		rows, err := query.ProblemsAt(a.db, village, a.now())
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, r := range rows {
			if !inGroup(r.Household, group) {
				continue
			}
			items = append(items, problemItem(a, r, false))
		}
		return items, nil
	})
}

// problemItem is a problem's row in a list: its text; its household (and
// village, in the town's lists), status, age and any wait without response.
func problemItem(a *App, r query.InboxRow, village bool) Item {
	where := ""
	if village && r.Village != nil {
		where = r.Village.Name
	}
	detail := join(where, r.Household.HeadName, r.Household.GroupName, problemStatusText(r.Problem.Status), count("problems.age", r.AgeDays))
	if r.Quiet {
		detail = join(detail, count("problem.quiet", r.Waiting))
	}
	id := r.Problem.ID
	return Item{
		Title:  r.Problem.Text,
		Detail: detail,
		Warn:   r.Quiet || r.AgeDays >= 30,
		open:   func() { a.nav.Push(newProblemScreen(a, id)) },
	}
}

// plansAwaiting lists the plans submitted for review, oldest first.
func plansAwaiting(a *App, village, group uuid.UUID) Screen {
	return newListScreen(a, lang.L("review.list_title"), func() ([]Item, error) {
		rows, err := query.PlansAwaitingReview(a.db, village, a.now())
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, r := range rows {
			if !inGroup(r.Household, group) {
				continue
			}
			r := r
			items = append(items, Item{
				Title:  join(r.Household.HeadName, r.Household.GroupName),
				Detail: join(r.Plan.Goal, lang.L("review.measures_done", map[string]any{"Done": r.Done, "Total": r.Measures})),
				open:   func() { a.nav.Push(newReview(a, r.Plan.Household)) },
			})
		}
		return items, nil
	})
}

// assistanceGaps lists households missing a level of assistance, cadres under
// their quota and pairings held by a cadre of the wrong rank.
func assistanceGaps(a *App, village, group uuid.UUID) Screen {
	return newListScreen(a, lang.L("gaps.title"), func() ([]Item, error) {
		g, err := query.Assistance(a.db, village)
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, h := range g.Households {
			if group != uuid.Nil && h.Household.Group != group {
				continue
			}
			var missing []string
			for _, r := range h.Missing {
				missing = append(missing, roleText(r))
			}
			id := h.Household.ID
			items = append(items, Item{
				Title:  join(h.Household.HeadName, statusText(h.Household.Status)),
				Detail: lang.L("gaps.missing", map[string]any{"Roles": strings.Join(missing, "、")}),
				Warn:   true,
				open:   func() { a.nav.Push(newCard(a, id)) },
			})
		}
		if group != uuid.Nil {
			return items, nil
		}
		for _, c := range g.Cadres {
			items = append(items, Item{
				Title:  join(c.Cadre.Name, rankText(c.Cadre.Rank), c.Cadre.Unit),
				Detail: lang.L("gaps.quota", map[string]any{"Have": c.Have, "Want": c.Want}),
				Warn:   true,
			})
		}
		for _, m := range g.Mismatches {
			items = append(items, Item{
				Title:  join(m.Cadre.Name, rankText(m.Cadre.Rank)),
				Detail: lang.L("gaps.mismatch", map[string]any{"Role": roleText(m.Assignment.Role)}),
				Warn:   true,
			})
		}
		cov, err := query.Coverage(a.db, village)
		if err != nil {
			return nil, err
		}
		return append(items, coverageItems(cov)...), nil
	})
}

// cadreActivity lists the cadres in the village (岗位在村): their groups, last
// visit, visits this month and households not visited lately. Facts, not a
// ranking: the order is by name.
func cadreActivity(a *App, village uuid.UUID) Screen {
	return newListScreen(a, lang.L("cadres.title"), func() ([]Item, error) {
		rows, err := query.CadreActivity(a.db, village, a.now())
		if err != nil {
			return nil, err
		}
		var items []Item
		for _, r := range rows {
			r := r
			var groups []string
			for _, g := range r.Groups {
				groups = append(groups, g.Name)
			}
			last := lang.L("cadres.never")
			if !r.LastVisit.IsZero() {
				last = lang.L("cadres.last_visit", map[string]any{"Date": dateText(r.LastVisit)})
			}
			detail := join(last, count("cadres.visits_month", r.VisitsThisMonth))
			if n := len(r.NotVisited); n > 0 {
				detail = join(detail, count("cadres.not_visited", n))
			}
			it := Item{
				Title:  join(r.Cadre.Name, strings.Join(groups, "、"), r.Cadre.Phone),
				Detail: detail,
				Warn:   len(r.NotVisited) > 0,
			}
			if len(r.NotVisited) > 0 {
				it.open = func() {
					rows := r.NotVisited
					a.nav.Push(newHouseholds(a, lang.L("cadres.not_visited_of", map[string]any{"Name": r.Cadre.Name}),
						func() ([]query.HouseholdRow, error) { return rows, nil }, nil))
				}
			}
			items = append(items, it)
		}
		return items, nil
	})
}
