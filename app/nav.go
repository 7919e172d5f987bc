package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Breakpoint is the window width, in Fyne units, from which the app shows a
// list and its detail side by side (tablet and PC); below it the app shows one
// screen at a time with back navigation (phone).
const Breakpoint = 600

// Screen is one page of the app.
type Screen interface {
	// Title is the screen's title, shown in its header.
	Title() string
	// Content is the screen's body, built once.
	Content() fyne.CanvasObject
}

// loader is a screen that reads its data from the store. load starts the
// read in the background; it is called when the screen is shown and after a
// sync or an edit that may have changed what it shows.
type loader interface{ load() }

// actions is a screen with buttons in its header.
type actions interface{ Actions() []fyne.CanvasObject }

// pane is a header (back button, title, actions) over a screen's body.
type pane struct {
	back    *widget.Button
	title   *widget.Label
	actions *fyne.Container
	body    *fyne.Container
	box     *fyne.Container
}

func newPane(onBack func()) *pane {
	p := &pane{
		back:    widget.NewButtonWithIcon("", theme.NavigateBackIcon(), onBack),
		title:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		actions: container.NewHBox(),
		body:    container.NewStack(),
	}
	p.title.Truncation = fyne.TextTruncateEllipsis
	p.back.Importance = widget.LowImportance
	header := container.NewBorder(nil, nil, p.back, p.actions, p.title)
	p.box = container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, p.body)
	return p
}

func (p *pane) show(s Screen) {
	if s == nil {
		p.title.SetText("")
		p.actions.Objects = nil
		p.actions.Refresh()
		p.body.Objects = nil
		p.body.Refresh()
		return
	}
	p.title.SetText(s.Title())
	p.actions.Objects = nil
	if a, ok := s.(actions); ok {
		p.actions.Objects = a.Actions()
	}
	p.actions.Refresh()
	p.body.Objects = []fyne.CanvasObject{s.Content()}
	p.body.Refresh()
}

// Nav shows a master screen (the household list, or a team leader's menu)
// and a stack of detail screens: side by side from Breakpoint up, one at a
// time below it.
type Nav struct {
	// Back is the detail pane's back button.
	Back *widget.Button

	master      Screen
	stack       []Screen
	masterPane  *pane
	detailPane  *pane
	placeholder *fyne.Container
	divider     *canvas.Rectangle
	root        *fyne.Container
	phone       bool
	laidOut     bool
}

// unselecter is a master list that keeps its selection on a tablet, to show
// which row the detail is of; on a phone nothing stays selected, so that a row
// can be tapped again.
type unselecter interface{ unselect() }

func newNav() *Nav {
	n := &Nav{}
	n.masterPane = newPane(nil)
	n.masterPane.back.Hide()
	n.detailPane = newPane(n.Pop)
	n.Back = n.detailPane.back
	hint := widget.NewLabel(lang.L("nav.choose"))
	hint.Alignment = fyne.TextAlignCenter
	n.placeholder = container.NewCenter(hint)
	n.divider = canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
	n.root = container.New(&split{nav: n}, n.masterPane.box, n.divider, n.detailPane.box, n.placeholder)
	return n
}

// Phone reports whether the window is narrower than Breakpoint.
func (n *Nav) Phone() bool { return n.phone }

// Top returns the screen in front: the top detail screen, or the master.
func (n *Nav) Top() Screen {
	if len(n.stack) > 0 {
		return n.stack[len(n.stack)-1]
	}
	return n.master
}

// Stack returns the detail screens, bottom first.
func (n *Nav) Stack() []Screen { return append([]Screen(nil), n.stack...) }

// Master returns the master screen.
func (n *Nav) Master() Screen { return n.master }

// SetMaster replaces the master screen and clears the details.
func (n *Nav) SetMaster(s Screen) {
	n.master = s
	n.stack = nil
	n.masterPane.show(s)
	n.update()
	if l, ok := s.(loader); ok {
		l.load()
	}
}

// Push shows s in front of the current detail.
func (n *Nav) Push(s Screen) {
	n.stack = append(n.stack, s)
	n.update()
	if l, ok := s.(loader); ok {
		l.load()
	}
}

// Open shows s as the only detail screen: what choosing from the master does.
func (n *Nav) Open(s Screen) {
	n.stack = nil
	n.Push(s)
}

// Pop goes back one screen and reloads the screen it returns to, which may
// show what the screen left behind saved.
func (n *Nav) Pop() {
	if len(n.stack) == 0 {
		return
	}
	n.stack = n.stack[:len(n.stack)-1]
	n.update()
	if l, ok := n.Top().(loader); ok {
		l.load()
	}
	if !n.phone && len(n.stack) > 0 {
		if l, ok := n.master.(loader); ok {
			l.load()
		}
	}
}

// Reload reloads every screen in view, as after a sync.
func (n *Nav) Reload() {
	if l, ok := n.master.(loader); ok && (!n.phone || len(n.stack) == 0) {
		l.load()
	}
	if len(n.stack) > 0 {
		if l, ok := n.Top().(loader); ok {
			l.load()
		}
	}
}

// update shows the screens for the current stack and width.
func (n *Nav) update() {
	var top Screen
	if len(n.stack) > 0 {
		top = n.stack[len(n.stack)-1]
	}
	n.detailPane.show(top)
	n.arrange()
}

func (n *Nav) arrange() {
	n.place()
	n.root.Refresh()
}

// place shows and hides the panes for the current stack and width.
func (n *Nav) place() {
	detail := len(n.stack) > 0
	if n.phone {
		setVisible(n.masterPane.box, !detail)
		setVisible(n.detailPane.box, detail)
		setVisible(n.divider, false)
		setVisible(n.placeholder, false)
		setVisible(n.Back, detail)
	} else {
		setVisible(n.masterPane.box, true)
		setVisible(n.detailPane.box, detail)
		setVisible(n.divider, true)
		setVisible(n.placeholder, !detail)
		setVisible(n.Back, len(n.stack) > 1)
	}
}

func setVisible(o fyne.CanvasObject, v bool) {
	if v && !o.Visible() {
		o.Show()
	} else if !v && o.Visible() {
		o.Hide()
	}
}

// split lays the master and detail panes out for the width it is given.
type split struct{ nav *Nav }

func (l *split) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	n := l.nav
	phone := size.Width < Breakpoint
	if phone != n.phone || !n.laidOut {
		n.phone, n.laidOut = phone, true
		n.place()
		if u, ok := n.master.(unselecter); ok && phone {
			u.unselect()
		}
	}
	master, divider, detail, placeholder := objs[0], objs[1], objs[2], objs[3]
	if phone {
		for _, o := range []fyne.CanvasObject{master, detail} {
			o.Move(fyne.NewPos(0, 0))
			o.Resize(size)
		}
		return
	}
	w := min(max(size.Width*0.3, 320), 420)
	master.Move(fyne.NewPos(0, 0))
	master.Resize(fyne.NewSize(w, size.Height))
	divider.Move(fyne.NewPos(w, 0))
	divider.Resize(fyne.NewSize(1, size.Height))
	for _, o := range []fyne.CanvasObject{detail, placeholder} {
		o.Move(fyne.NewPos(w+1, 0))
		o.Resize(fyne.NewSize(size.Width-w-1, size.Height))
	}
}

func (l *split) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if o.Visible() {
			s = s.Max(o.MinSize())
		}
	}
	return s
}

// retitle shows a screen's new title if the screen is in view.
func (n *Nav) retitle(s Screen) {
	if len(n.stack) > 0 && n.stack[len(n.stack)-1] == s {
		n.detailPane.title.SetText(s.Title())
	}
	if n.master == s {
		n.masterPane.title.SetText(s.Title())
	}
}
