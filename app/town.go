package app

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// TownOverview is a town at a glance for a town lead or the office: one row
// per village, in the villages' order (no ranking) — households, visits
// this month, households overdue, problems open and those at the town,
// plans awaiting review, assistance gaps — and the town's total. Each
// number opens the list it counts. A table on the tablet, one card per
// village at phone width.
type TownOverview struct {
	Table *widget.Table
	// Cards show the same numbers at phone width, each a button.
	Cards *fyne.Container
	Error *widget.Label
	// Data is the overview last read.
	Data *query.TownFigures

	app     *App
	town    uuid.UUID
	rows    []query.VillageStats // the villages, then the total
	content fyne.CanvasObject
}

// The town overview's columns.
const (
	tcVillage = iota
	tcHouseholds
	tcVisits
	tcOverdue
	tcProblems
	tcAtTown
	tcReview
	tcGaps
	townCols
)

// townHeads returns the column headings.
func townHeads() []string {
	return []string{lang.L("town.village"), lang.L("overview.households"), lang.L("overview.visits"), lang.L("overview.overdue"),
		lang.L("overview.problems"), lang.L("town.at_town"), lang.L("overview.review"), lang.L("overview.gaps")}
}

func newTownOverview(a *App, town uuid.UUID) *TownOverview {
	o := &TownOverview{app: a, town: town}
	o.Error = errorLabel()
	o.Table = widget.NewTable(
		func() (int, int) { return len(o.rows), townCols },
		func() fyne.CanvasObject { return widget.NewLabel("") },
		func(id widget.TableCellID, c fyne.CanvasObject) {
			l := c.(*widget.Label)
			if id.Row >= len(o.rows) {
				return
			}
			l.SetText(o.cell(id))
			l.TextStyle.Bold = id.Row == len(o.rows)-1 || id.Col == tcVillage
			l.Importance = widget.MediumImportance
			if o.warns(id.Col) && o.value(id) > 0 {
				l.Importance = widget.WarningImportance
			}
			l.Alignment = fyne.TextAlignTrailing
			if id.Col == tcVillage {
				l.Alignment = fyne.TextAlignLeading
			}
			l.Refresh()
		})
	headTable(o.Table, townHeads(), 88, o.Open)
	hint := wrapLabel(lang.L("overview.hint"))
	hint.SizeName = theme.SizeNameCaptionText
	o.Cards = container.NewVBox()
	cards := container.NewVScroll(o.Cards)
	body := container.New(&byWidth{narrow: cards, wide: o.Table}, cards, o.Table)
	o.content = container.NewBorder(container.NewVBox(o.Error, hint), nil, nil, nil, body)
	return o
}

// Title returns "全镇概况 枹罕镇".
func (o *TownOverview) Title() string {
	if o.Data != nil && o.Data.Town != nil {
		return lang.L("town.title_of", map[string]any{"Town": o.Data.Town.Name})
	}
	return lang.L("town.title")
}

// Content returns the overview.
func (o *TownOverview) Content() fyne.CanvasObject { return o.content }

// Rows returns the rows: the villages, then the total (whose Village is nil).
func (o *TownOverview) Rows() []query.VillageStats { return o.rows }

func (o *TownOverview) load() {
	a := o.app
	a.tasks.run(func() func() {
		ov, err := query.TownOverview(a.db, o.town, a.now())
		return func() {
			if err != nil {
				o.Error.SetText(errText(err))
				o.Error.Show()
				return
			}
			o.Error.Hide()
			o.Data = ov
			o.rows = append(append([]query.VillageStats(nil), ov.Villages...), ov.Total)
			o.Table.Refresh()
			o.fillCards()
			a.nav.retitle(o)
		}
	})
}

// warns reports whether a column's non-zero number asks for action.
func (o *TownOverview) warns(col int) bool {
	return col == tcOverdue || col == tcProblems || col == tcAtTown || col == tcReview || col == tcGaps
}

// fillCards builds one card per village (and the total): its name and
// households, and a button per number.
func (o *TownOverview) fillCards() {
	heads := townHeads()
	var cards []fyne.CanvasObject
	for i := range o.rows {
		row := i
		title := widget.NewLabelWithStyle(join(o.cell(widget.TableCellID{Row: row, Col: tcVillage}),
			count("households.count", o.rows[row].Households)), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		title.Wrapping = fyne.TextWrapWord
		grid := container.NewGridWithColumns(2)
		for col := tcHouseholds; col < townCols; col++ {
			col := col
			id := widget.TableCellID{Row: row, Col: col}
			b := widget.NewButton(heads[col]+" "+o.cell(id), func() { o.Open(row, col) })
			b.Importance = widget.LowImportance
			if o.warns(col) && o.value(id) > 0 {
				b.Importance = widget.WarningImportance
			}
			grid.Add(b)
		}
		cards = append(cards, container.NewVBox(title, grid, widget.NewSeparator()))
	}
	o.Cards.Objects = cards
	o.Cards.Refresh()
}

func (o *TownOverview) value(id widget.TableCellID) int {
	v := o.rows[id.Row]
	switch id.Col {
	case tcHouseholds:
		return v.Households
	case tcVisits:
		return v.VisitsThisMonth
	case tcOverdue:
		return v.Overdue
	case tcProblems:
		return v.OpenProblems
	case tcAtTown:
		return v.AtTown
	case tcReview:
		return v.AwaitingReview
	case tcGaps:
		return v.Gaps
	}
	return 0
}

func (o *TownOverview) cell(id widget.TableCellID) string {
	if id.Col == tcVillage {
		if v := o.rows[id.Row].Village; v != nil {
			return v.Name
		}
		return lang.L("overview.total")
	}
	return fmt.Sprint(o.value(id))
}

// Open opens the list behind the number in a row and column; the last row
// is the whole town.
func (o *TownOverview) Open(row, col int) {
	if row < 0 || row >= len(o.rows) || col <= tcVillage || col >= townCols {
		return
	}
	a := o.app
	var villages []uuid.UUID
	name := lang.L("overview.total")
	place := o.town
	if v := o.rows[row].Village; v != nil {
		villages, name, place = []uuid.UUID{v.ID}, v.Name, v.ID
	} else {
		for _, r := range o.rows[:len(o.rows)-1] {
			villages = append(villages, r.Village.ID)
		}
	}
	title := join(name, townHeads()[col])
	households := func() ([]query.HouseholdRow, error) {
		var out []query.HouseholdRow
		for _, v := range villages {
			rows, err := query.VillageHouseholds(a.db, v, a.now())
			if err != nil {
				return nil, err
			}
			out = append(out, rows...)
		}
		return out, nil
	}
	var s Screen
	switch col {
	case tcHouseholds:
		s = newHouseholds(a, title, households, nil)
	case tcOverdue:
		s = newHouseholds(a, title, households, func(r query.HouseholdRow) bool { return r.Overdue })
	case tcVisits:
		s = villageVisits(a, title, villages)
	case tcProblems:
		s = problemsAt(a, title, place)
	case tcAtTown:
		s = problemsAt(a, title, place, domain.ProblemTown)
	case tcReview:
		s = newListScreen(a, title, func() ([]Item, error) {
			var items []Item
			for _, v := range villages {
				rows, err := query.PlansAwaitingReview(a.db, v, a.now())
				if err != nil {
					return nil, err
				}
				for _, r := range rows {
					household := r.Plan.Household
					items = append(items, Item{
						Title:  join(r.Household.HeadName, r.Household.GroupName),
						Detail: join(r.Plan.Goal, lang.L("review.measures_done", map[string]any{"Done": r.Done, "Total": r.Measures})),
						open:   func() { a.nav.Push(newReview(a, household)) },
					})
				}
			}
			return items, nil
		})
	case tcGaps:
		s = householdGaps(a, title, villages)
	}
	a.nav.Push(s)
}

// problemsAt lists the unresolved problems of a village or a town (those
// with the given statuses only, if any), oldest first, with their village.
func problemsAt(a *App, title string, place uuid.UUID, statuses ...domain.ProblemStatus) Screen {
	return newListScreen(a, title, func() ([]Item, error) {
		rows, err := query.ProblemsAt(a.db, place, a.now(), statuses...)
		if err != nil {
			return nil, err
		}
		items := make([]Item, 0, len(rows))
		for _, r := range rows {
			items = append(items, problemItem(a, r, true))
		}
		return items, nil
	})
}

// townInbox is the town's inbox (镇级问题): the problems reported to the
// town, across the towns the cadre works for, oldest first, with their age
// and how long they have waited without response.
func townInbox(a *App) Screen {
	return problemsAt(a, lang.L("town.inbox"), uuid.Nil, domain.ProblemTown)
}

// villageVisits lists this month's visits in villages, the latest first.
func villageVisits(a *App, title string, villages []uuid.UUID) Screen {
	return newListScreen(a, title, func() ([]Item, error) {
		var items []Item
		now := a.now()
		for _, v := range villages {
			rows, err := query.VillageVisits(a.db, v, monthStart(now), now)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				household := r.Household.ID
				items = append(items, Item{
					Title:  join(r.Household.HeadName, r.Household.GroupName),
					Detail: join(dateText(r.Visit.At), visitKindText(r.Visit.Type), cadreName(r.Cadre)),
					open:   func() { a.nav.Push(newCard(a, household)) },
				})
			}
		}
		return items, nil
	})
}

// householdGaps lists the households of villages missing a level of
// three-level assistance.
func householdGaps(a *App, title string, villages []uuid.UUID) Screen {
	return newListScreen(a, title, func() ([]Item, error) {
		var items []Item
		for _, v := range villages {
			g, err := query.Assistance(a.db, v)
			if err != nil {
				return nil, err
			}
			for _, h := range g.Households {
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
		}
		return items, nil
	})
}
