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

// ProblemScreen is one problem with its life (问题处理): the household,
// where the problem stands and for how long, its history — who moved it
// when, from where to where, with what note — and the moves the viewer may
// make (domain.MayStep), each with a note. A move is written on the device
// with the step that records it, and travels with the next sync like any
// edit.
type ProblemScreen struct {
	// Info is the problem: household, text, status and age.
	Info *fyne.Container
	// History holds the history's lines, oldest first.
	History *fyne.Container
	// Note is the note the next move carries (required to resolve).
	Note *widget.Entry
	// Moves are the buttons of the moves the viewer may make now, by the
	// status they move the problem to; hidden when not allowed.
	Moves map[domain.ProblemStatus]*widget.Button
	// NoMoves says that the viewer may not move the problem.
	NoMoves *widget.Label
	Error   *widget.Label
	// Notice says what the last move did.
	Notice *widget.Label
	// Data is the problem last read.
	Data *query.ProblemDetail
	// Photos are the problem's photos (nil when none); Photo adds one,
	// saved at once with its record.
	Photos *PhotoStrip
	Photo  *PhotoAdder

	app     *App
	id      uuid.UUID
	box     *fyne.Container // the screen's column, laid out again after a load
	moved   string          // what the move just made says, until the next load
	content fyne.CanvasObject

	photos   photoSet
	photoBox *fyne.Container
}

// moveOrder is the order of the move buttons.
var moveOrder = []domain.ProblemStatus{domain.ProblemVillage, domain.ProblemTown, domain.ProblemResolved, domain.ProblemOpen}

func newProblemScreen(a *App, problem uuid.UUID) *ProblemScreen {
	s := &ProblemScreen{app: a, id: problem, Moves: map[domain.ProblemStatus]*widget.Button{}}
	s.Info = container.NewVBox(widget.NewLabel(lang.L("common.loading")))
	s.History = container.NewVBox()
	s.Note = widget.NewMultiLineEntry()
	s.Note.Wrapping = fyne.TextWrapWord
	s.Note.SetMinRowsVisible(2)
	s.Note.SetPlaceHolder(lang.L("problem.note_hint"))
	s.Error = errorLabel()
	s.Notice = wrapLabel("")
	s.Notice.Importance = widget.SuccessImportance
	s.Notice.Hide()
	s.NoMoves = wrapLabel(lang.L("problem.no_moves"))
	s.NoMoves.Hide()
	buttons := container.NewGridWithColumns(2)
	for _, to := range moveOrder {
		to := to
		b := widget.NewButton("", func() { s.move(to) })
		b.Hide()
		s.Moves[to] = b
		buttons.Add(b)
	}
	s.Moves[domain.ProblemResolved].Importance = widget.HighImportance
	s.Moves[domain.ProblemResolved].SetIcon(theme.ConfirmIcon())
	card := widget.NewButtonWithIcon(lang.L("problems.open_card"), theme.HomeIcon(), func() {
		if s.Data != nil {
			a.nav.Push(newCard(a, s.Data.Household.ID))
		}
	})
	card.Importance = widget.LowImportance
	s.photoBox = container.NewVBox()
	s.box = container.NewVBox(
		s.Notice, s.Info, card,
		section(lang.L("photo.title")), s.photoBox,
		section(lang.L("problem.history")), s.History,
		section(lang.L("problem.act")), s.NoMoves, s.Note, s.Error, buttons,
	)
	s.content = container.NewVScroll(s.box)
	return s
}

// Title returns "问题处理".
func (s *ProblemScreen) Title() string { return lang.L("problem.title") }

// Content returns the screen.
func (s *ProblemScreen) Content() fyne.CanvasObject { return s.content }

func (s *ProblemScreen) load() {
	a := s.app
	viewer := a.cadre
	a.tasks.run(func() func() {
		d, err := query.ProblemHistory(a.db, s.id, viewer, a.now())
		var photos photoSet
		if err == nil {
			photos = readPhotos(a.db, d.Village, s.id)
		}
		return func() {
			if err != nil {
				s.Error.SetText(errText(err))
				s.Error.Show()
				return
			}
			s.photos = photos
			s.show(d)
		}
	})
}

// show fills the screen from d.
func (s *ProblemScreen) show(d *query.ProblemDetail) {
	s.Data = d
	p := d.Problem
	// The notice of a move lasts until the screen is read again (after a
	// sync it may say something no longer true).
	s.Notice.SetText(s.moved)
	setVisible(s.Notice, s.moved != "")
	s.moved = ""
	where := ""
	if d.Village != nil {
		where = d.Village.Name
	}
	head := widget.NewLabelWithStyle(join(d.Household.HeadName, where, d.Household.GroupName), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.Wrapping = fyne.TextWrapWord
	text := wrapLabel(p.Text)
	text.SizeName = theme.SizeNameSubHeadingText
	state := wrapLabel(join(problemStatusText(p.Status), lang.L("problems.found", map[string]any{"Date": dateText(p.Created)}),
		count("problems.age", d.AgeDays)))
	if p.Status == domain.ProblemResolved {
		state.Importance = widget.SuccessImportance
	}
	s.Info.Objects = []fyne.CanvasObject{head, text, state}
	if d.Quiet {
		s.Info.Add(dangerLabel(quietText(d.Problem.Status, d.Waiting)))
	}
	if p.Status == domain.ProblemResolved && p.Resolution != "" {
		s.Info.Add(wrapLabel(lang.L("problem.resolution", map[string]any{"Text": p.Resolution})))
	}
	s.Info.Refresh()

	found := lang.L("problem.found_by", map[string]any{"Date": timeText(p.Created), "Name": cadreName(d.FoundBy)})
	lines := []fyne.CanvasObject{wrapLabel(found)}
	for _, st := range d.Steps {
		line := widget.NewLabelWithStyle(lang.L("problem.step", map[string]any{
			"Time": timeText(st.Step.At), "Name": cadreName(st.By),
			"From": problemStatusText(st.Step.From), "To": problemStatusText(st.Step.To)}),
			fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		line.Wrapping = fyne.TextWrapWord
		lines = append(lines, line)
		if st.Step.Note != "" {
			lines = append(lines, wrapLabel(st.Step.Note))
		}
	}
	if len(d.Steps) == 0 {
		lines = append(lines, widget.NewLabel(lang.L("problem.no_steps")))
	}
	s.History.Objects = lines
	s.History.Refresh()

	s.Photos, s.Photo = s.app.attach(s.photos, d.Household.ID, domain.KindProblem, p.ID, s.load)
	s.photoBox.Objects = nil
	if s.Photos != nil {
		s.photoBox.Add(s.Photos.Content())
	}
	s.photoBox.Add(s.Photo.Content())
	s.photoBox.Refresh()

	any := false
	for _, to := range moveOrder {
		b := s.Moves[to]
		ok := domain.MayStep(d.Level, p.Status, to)
		if ok {
			b.SetText(moveText(p.Status, to))
			any = true
		}
		setVisible(b, ok)
	}
	setVisible(s.NoMoves, !any)
	setVisible(s.Note, any)
	s.box.Refresh()
}

// move moves the problem to status to with the note typed, as the signed-in
// cadre, now.
func (s *ProblemScreen) move(to domain.ProblemStatus) {
	if s.Data == nil {
		return
	}
	a := s.app
	now := a.now()
	p := *s.Data.Problem
	step, err := domain.Move(&p, to, a.cadre, now, s.Note.Text, now)
	if err != nil {
		s.Error.SetText(errText(err))
		s.Error.Show()
		return
	}
	s.Error.Hide()
	for _, b := range s.Moves {
		b.Disable()
	}
	author := a.cadre
	a.tasks.run(func() func() {
		err := a.db.Put(author, &p, step)
		return func() {
			for _, b := range s.Moves {
				b.Enable()
			}
			if err != nil {
				s.Error.SetText(errText(err))
				s.Error.Show()
				return
			}
			s.Note.SetText("")
			s.moved = lang.L("problem.moved", map[string]any{"Status": problemStatusText(to)})
			a.changed()
			s.load()
		}
	})
}

// moveText names the move from one status to another on its button:
// 上报村, 上报镇, 标记为已解决, 重新打开, 退回村里, 退回待处理.
func moveText(from, to domain.ProblemStatus) string {
	switch {
	case to == domain.ProblemVillage && from == domain.ProblemTown:
		return lang.L("problem.back_to_village")
	case to == domain.ProblemVillage:
		return lang.L("problem.to_village")
	case to == domain.ProblemTown:
		return lang.L("problem.to_town")
	case to == domain.ProblemResolved:
		return lang.L("problems.resolve")
	case from == domain.ProblemResolved:
		return lang.L("problem.reopen")
	}
	return lang.L("problem.back_to_open")
}

// quietText says how long a problem has waited at the village or the town
// without response: "已上报村 9 天无回应".
func quietText(status domain.ProblemStatus, days int) string {
	return join(problemStatusText(status), count("problem.quiet", days))
}

// cadreName is a cadre's name, or a dash when the replica does not hold the
// cadre.
func cadreName(c *domain.Cadre) string {
	if c == nil {
		return "—"
	}
	return c.Name
}

// tapLabel is a wrapped label that opens something when tapped: a problem
// on the household card.
type tapLabel struct {
	widget.Label
	onTap func()
}

func newTapLabel(text string, onTap func()) *tapLabel {
	l := &tapLabel{onTap: onTap}
	l.Text = text
	l.Wrapping = fyne.TextWrapWord
	l.ExtendBaseWidget(l)
	return l
}

// Tapped runs the label's action.
func (l *tapLabel) Tapped(*fyne.PointEvent) {
	if l.onTap != nil {
		l.onTap()
	}
}

// tapRow is a tappable label with a chevron that says it opens something.
func tapRow(l *tapLabel) fyne.CanvasObject {
	icon := widget.NewIcon(theme.NavigateNextIcon())
	return container.NewBorder(nil, nil, nil, icon, l)
}
