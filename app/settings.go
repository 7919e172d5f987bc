package app

import (
	"context"
	"strconv"
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
)

// Settings holds the app's settings: language, the overdue threshold, the
// server and device, and signing out. Signing out warns while changes wait to
// be sent and never drops them: it syncs first, and signs out only once
// nothing waits.
type Settings struct {
	Language *widget.RadioGroup
	// Theme chooses the light theme (for sunlight) or the dark one.
	Theme       *widget.RadioGroup
	OverdueDays *widget.Entry
	SaveOverdue *widget.Button
	// RulesNote says the threshold is set by the village's or town's rules
	// (rules.go), which then hold instead of this device's setting.
	RulesNote *widget.Label
	// Saved confirms a saved threshold; Error says what is wrong.
	Saved *widget.Label
	Error *widget.Label
	// Details shows the cadre, the server and the device.
	Details *widget.Form
	SignOut *widget.Button
	// ChangePIN opens the screen that changes the PIN; LockAfter chooses
	// how long the app may stay in the background (pin.go).
	ChangePIN *widget.Button
	LockAfter *widget.Select
	// Warning, ConfirmSignOut and CancelSignOut appear after SignOut is tapped.
	Warning        *widget.Label
	ConfirmSignOut *widget.Button
	CancelSignOut  *widget.Button

	app     *App
	waiting int
	confirm *fyne.Container
	content fyne.CanvasObject
}

var languageNames = []string{"中文", "English"}

func newSettings(a *App) *Settings {
	s := &Settings{app: a}
	s.Language = widget.NewRadioGroup(languageNames, nil)
	s.Language.Horizontal = true
	s.Language.Required = true
	if Language() == English {
		s.Language.SetSelected(languageNames[1])
	} else {
		s.Language.SetSelected(languageNames[0])
	}
	s.Language.OnChanged = func(v string) {
		code := Chinese
		if v == languageNames[1] {
			code = English
		}
		if code != Language() {
			a.setLanguage(code)
		}
	}
	s.Theme = widget.NewRadioGroup(themeNames(), nil)
	s.Theme.Horizontal = true
	s.Theme.Required = true
	s.Theme.SetSelected(themeNames()[0])
	if th, ok := a.fyne.Settings().Theme().(*Theme); ok && th.variant(a.fyne.Settings().ThemeVariant()) == theme.VariantDark {
		s.Theme.SetSelected(themeNames()[1])
	}
	s.Theme.OnChanged = func(v string) {
		mode := ThemeLight
		if v == themeNames()[1] {
			mode = ThemeDark
		}
		a.applyTheme(mode)
		a.tasks.run(func() func() {
			if err := a.updateSettings(func(st *store.Settings) { st.Theme = mode }); err != nil {
				return func() { s.fail(err) }
			}
			return nil
		})
	}
	s.OverdueDays = widget.NewEntry()
	s.OverdueDays.SetPlaceHolder("30")
	s.SaveOverdue = widget.NewButton(lang.L("settings.save"), s.saveOverdue)
	s.Saved = widget.NewLabel("")
	s.Saved.Importance = widget.SuccessImportance
	s.Saved.Hide()
	s.Error = errorLabel()
	s.RulesNote = wrapLabel(lang.L("settings.rules_note"))
	s.RulesNote.Importance = widget.LowImportance
	s.RulesNote.Hide()

	s.Details = widget.NewForm()
	s.SignOut = widget.NewButtonWithIcon(lang.L("settings.sign_out"), theme.LogoutIcon(), s.askSignOut)
	s.Warning = widget.NewLabel("")
	s.Warning.Importance = widget.WarningImportance
	s.Warning.Wrapping = fyne.TextWrapWord
	s.ConfirmSignOut = widget.NewButton("", s.signOut)
	s.ConfirmSignOut.Importance = widget.DangerImportance
	s.CancelSignOut = widget.NewButton(lang.L("common.cancel"), func() { s.confirm.Hide() })
	s.confirm = container.NewVBox(s.Warning, container.NewGridWithColumns(2, s.CancelSignOut, s.ConfirmSignOut))
	s.confirm.Hide()

	s.ChangePIN = widget.NewButton(lang.L("pin.change"), func() { a.nav.Open(newChoosePIN(a, true, nil)) })
	minutes := []int{1, 2, 5, 10, 15, 30}
	var opts []string
	for _, m := range minutes {
		opts = append(opts, count("pin.lock_minutes", m))
	}
	s.LockAfter = widget.NewSelect(opts, nil)
	cur := int(a.lockAfter() / time.Minute)
	for i, m := range minutes {
		if m == cur {
			s.LockAfter.SetSelectedIndex(i)
		}
	}
	s.LockAfter.OnChanged = func(string) {
		a.fyne.Preferences().SetInt(prefLockAfter, minutes[s.LockAfter.SelectedIndex()])
	}
	pinBox := container.NewVBox(section(lang.L("pin.section")), wrapLabel(lang.L("pin.lock_after")), s.LockAfter, s.ChangePIN)
	if !a.usePIN() {
		pinBox.Hide()
	}

	bold := func(text string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	hint := wrapLabel(lang.L("settings.overdue_hint"))
	hint.SizeName = theme.SizeNameCaptionText
	body := container.NewVBox(
		bold(lang.L("settings.language")), s.Language,
		bold(lang.L("settings.theme")), s.Theme,
		bold(lang.L("settings.overdue")), hint, container.NewBorder(nil, nil, nil, s.SaveOverdue, s.OverdueDays), s.RulesNote, s.Saved, s.Error,
		pinBox,
		section(lang.L("settings.account")), s.Details,
		s.SignOut, s.confirm,
	)
	s.content = container.NewVScroll(body)
	return s
}

// Title returns "设置".
func (s *Settings) Title() string { return lang.L("settings.title") }

// Content returns the settings.
func (s *Settings) Content() fyne.CanvasObject { return s.content }

func (s *Settings) load() {
	a := s.app
	a.tasks.run(func() func() {
		st, err := a.db.Settings()
		server := a.sync.Status().Server
		rules, inData, rerr := a.villageRules()
		return func() {
			if err == nil {
				err = rerr
			}
			if err != nil {
				s.fail(err)
				return
			}
			s.OverdueDays.SetText(strconv.Itoa(st.OverdueDays))
			if inData {
				s.OverdueDays.SetText(strconv.Itoa(rules.OverdueDays))
				s.OverdueDays.Disable()
				s.SaveOverdue.Disable()
				s.RulesNote.Show()
			}
			s.details(server, st.DeviceName)
		}
	})
}

func (s *Settings) details(server, deviceName string) {
	a := s.app
	s.Details.Items = nil
	add := func(name, value string) {
		l := wrapLabel(value)
		s.Details.Append(name, l)
	}
	if a.me != nil {
		add(lang.L("settings.cadre"), join(a.me.Name, rankText(a.me.Rank), a.me.Unit))
	}
	role := lang.L("settings.role_cadre")
	if a.leader {
		role = lang.L("settings.role_leader")
	}
	add(lang.L("settings.role"), role)
	var vs []string
	for _, v := range a.villages {
		vs = append(vs, v.Name)
	}
	if len(vs) > 0 {
		add(lang.L("settings.villages"), strings.Join(vs, "、"))
	}
	add(lang.L("settings.server"), server)
	add(lang.L("settings.device_name"), deviceName)
	add(lang.L("settings.device"), a.db.Device().String())
	s.Details.Refresh()
}

func (s *Settings) fail(err error) {
	s.Saved.Hide()
	s.Error.SetText(errText(err))
	s.Error.Show()
}

func (s *Settings) saveOverdue() {
	a := s.app
	days, err := strconv.Atoi(strings.TrimSpace(s.OverdueDays.Text))
	if err != nil {
		s.fail(domain.Errorf(domain.EINVALID, "overdue_days", "请输入天数（1 到 365）", "enter a number of days (1 to 365)"))
		return
	}
	a.tasks.run(func() func() {
		st, err := a.db.Settings()
		if err == nil {
			st.OverdueDays = days
			err = a.db.SetSettings(st)
		}
		return func() {
			if err != nil {
				s.fail(err)
				return
			}
			s.Error.Hide()
			s.Saved.SetText(lang.L("settings.saved"))
			s.Saved.Show()
			if a.Households != nil {
				a.Households.load()
			}
		}
	})
}

// askSignOut shows the warning: how many changes wait, and what signing out
// will do about them.
func (s *Settings) askSignOut() {
	a := s.app
	a.tasks.run(func() func() {
		st := a.sync.Status()
		return func() {
			s.waiting = st.Pending
			if st.Pending > 0 {
				s.Warning.SetText(count("settings.sign_out_waiting", st.Pending))
				s.ConfirmSignOut.SetText(lang.L("settings.sync_and_sign_out"))
			} else {
				s.Warning.SetText(lang.L("settings.sign_out_sure"))
				s.ConfirmSignOut.SetText(lang.L("settings.sign_out"))
			}
			s.confirm.Show()
		}
	})
}

// signOut syncs what waits, and signs out only if nothing is left waiting.
func (s *Settings) signOut() {
	a := s.app
	s.ConfirmSignOut.Disable()
	a.tasks.run(func() func() {
		var err error
		st := a.sync.Status()
		if st.Pending > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			err = a.sync.Sync(ctx)
			cancel()
			st = a.sync.Status()
		}
		if err == nil && st.Pending == 0 {
			err = a.sync.SignOut()
			if err == nil {
				return func() { a.signedOut(st.Server) }
			}
		}
		return func() {
			s.ConfirmSignOut.Enable()
			if a.Bar != nil {
				a.Bar.show(st)
			}
			if err != nil {
				s.Warning.SetText(lang.L("settings.sign_out_failed", map[string]any{"Reason": errText(err)}))
			} else {
				s.Warning.SetText(count("settings.sign_out_waiting", st.Pending))
			}
		}
	})
}

// signedOut returns to the enrolment screen.
func (a *App) signedOut(server string) {
	a.stop()
	a.me, a.cadre, a.leader, a.villages = nil, uuid.Nil, false, nil
	a.showEnroll(server)
}

// setLanguage switches the language and rebuilds the screens, staying in the
// settings.
func (a *App) setLanguage(code string) {
	a.tasks.run(func() func() {
		err := a.updateSettings(func(s *store.Settings) { s.Language = code })
		if err != nil {
			fyne.LogError("app: keep the language", err)
		}
		return nil
	})
	if err := SetLanguage(code); err != nil {
		fyne.LogError("app: language", err)
	}
	a.Window.SetTitle(lang.L("app.title"))
	if a.nav == nil {
		server := ""
		if a.Enroll != nil {
			server = a.Enroll.Server.Text
		}
		a.showEnroll(server)
		return
	}
	a.build()
	a.nav.Open(newSettings(a))
}

// updateSettings changes the device's stored settings (its language, name,
// theme and thresholds live in its own store, not in preferences that two
// apps on one machine would share). It reads and writes the store: call it
// off the UI goroutine.
func (a *App) updateSettings(change func(*store.Settings)) error {
	st, err := a.db.Settings()
	if err != nil {
		return err
	}
	change(&st)
	return a.db.SetSettings(st)
}

// applySettings applies the device's stored choices that take effect at
// start: the language and the theme.
func (a *App) applySettings(st store.Settings) {
	a.applyTheme(st.Theme)
	if st.Language != "" && st.Language != Language() {
		if err := SetLanguage(st.Language); err != nil {
			fyne.LogError("app: language", err)
		}
		a.Window.SetTitle(lang.L("app.title"))
	}
}

// applyTheme draws the app in the theme mode chosen (see Theme), if the app
// uses its own theme.
func (a *App) applyTheme(mode string) {
	cur, ok := a.fyne.Settings().Theme().(*Theme)
	if !ok || cur.Mode() == mode {
		return
	}
	a.fyne.Settings().SetTheme(newThemeMode(mode))
}

// themeNames are the choices of the settings' theme buttons.
func themeNames() []string {
	return []string{lang.L("settings.theme_light"), lang.L("settings.theme_dark")}
}
