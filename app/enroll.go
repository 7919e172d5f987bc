package app

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"bangfu/assets"
	"bangfu/store"
)

// Enroll is the first screen on a new device: the server's address and the
// one-time code from the office. A wrong or used code, an unreachable server
// or a revoked device each get a message that says what to do.
type Enroll struct {
	Server *widget.Entry
	Code   *widget.Entry
	Name   *widget.Entry // the device's name, as the office sees it
	Submit *widget.Button
	// Error says why enrolment failed.
	Error *widget.Label
	// Busy shows while the server is asked.
	Busy *widget.ProgressBarInfinite

	app     *App
	content fyne.CanvasObject
}

func newEnroll(a *App, server string) *Enroll {
	e := &Enroll{app: a}
	e.Server = widget.NewEntry()
	e.Server.SetPlaceHolder("https://bangfu.example.cn")
	if server != "" {
		e.Server.SetText(server)
	} else {
		e.Server.SetText(a.fyne.Preferences().String(prefServer))
	}
	e.Code = widget.NewEntry()
	e.Code.SetPlaceHolder(lang.L("enroll.code_hint"))
	e.Name = widget.NewEntry()
	e.Name.SetPlaceHolder(lang.L("enroll.name_hint"))
	e.Submit = widget.NewButton(lang.L("enroll.submit"), e.submit)
	e.Submit.Importance = widget.HighImportance
	e.Error = errorLabel()
	e.Busy = widget.NewProgressBarInfinite()
	e.Busy.Stop()
	e.Busy.Hide()

	icon := canvas.NewImageFromResource(assets.Icon)
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(72, 72))
	title := widget.NewLabelWithStyle(lang.L("app.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameHeadingText
	intro := widget.NewLabel(lang.L("enroll.intro"))
	intro.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem(lang.L("enroll.server"), e.Server),
		widget.NewFormItem(lang.L("enroll.code"), e.Code),
		widget.NewFormItem(lang.L("enroll.name"), e.Name),
	)
	form.Orientation = widget.Adaptive
	box := container.NewVBox(icon, title, intro, form, e.Error, e.Busy, e.Submit)
	e.content = container.NewVScroll(container.NewPadded(container.New(&column{width: 480}, box)))
	return e
}

// prefServer is the preference that remembers the last server typed (the
// device's name and language are kept in its store: see updateSettings).
const prefServer = "server"

// Content returns the screen.
func (e *Enroll) Content() fyne.CanvasObject { return e.content }

// submit asks the server to enrol the device.
func (e *Enroll) submit() {
	a := e.app
	server := strings.TrimSpace(e.Server.Text)
	code := strings.TrimSpace(e.Code.Text)
	name := strings.TrimSpace(e.Name.Text)
	switch {
	case server == "":
		e.fail(lang.L("enroll.need_server"))
		return
	case code == "":
		e.fail(lang.L("enroll.need_code"))
		return
	case name == "":
		e.fail(lang.L("enroll.need_name"))
		return
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	e.Error.Hide()
	e.Submit.Disable()
	e.Busy.Show()
	e.Busy.Start()
	prefs := a.fyne.Preferences()
	prefs.SetString(prefServer, server)
	a.tasks.run(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := a.sync.Enroll(ctx, server, code, name)
		if err == nil {
			// The name is the device's own: kept in its store, not in
			// preferences another app on this machine would read.
			if serr := a.updateSettings(func(s *store.Settings) { s.DeviceName = name }); serr != nil {
				fyne.LogError("app: keep the device name", serr)
			}
		}
		return func() {
			e.Busy.Stop()
			e.Busy.Hide()
			e.Submit.Enable()
			if err != nil {
				e.fail(errText(err))
				return
			}
			a.enrolled()
		}
	})
}

func (e *Enroll) fail(msg string) {
	e.Error.SetText(msg)
	e.Error.Show()
}

// enrolled runs the first sync, which brings the cadre's roster, then shows
// the main screens.
func (a *App) enrolled() {
	if a.usePIN() && !a.locker().Sealed() {
		a.showChoosePIN(func() {
			a.Window.SetContent(a.Enroll.Content())
			a.firstSync()
		})
		return
	}
	a.firstSync()
}

// firstSync runs the first sync and shows the main screens.
func (a *App) firstSync() {
	a.Enroll.Busy.Show()
	a.Enroll.Busy.Start()
	a.Enroll.Submit.Disable()
	a.tasks.run(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		a.sync.Sync(ctx) // a failure shows on the sync bar, and the sync is retried
		st := a.sync.Status()
		return func() { a.start(st.Cadre) }
	})
}

// column centres its objects in a column at most width wide.
type column struct{ width float32 }

func (c *column) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := min(size.Width, c.width)
	for _, o := range objs {
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
		o.Resize(fyne.NewSize(w, size.Height))
	}
}

func (c *column) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}
