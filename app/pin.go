package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/assets"
	"bangfu/seal"
	"bangfu/store"
	"bangfu/sync/client"
)

// The app PIN. A PIN is chosen right after enrolment (or, on a device
// enrolled before PINs, at the next start): the store encrypts itself with
// a data key wrapped by the PIN (store.DB.Seal) and the key is deposited
// with the server (Syncer.Deposit). The PIN screen is shown when the app
// starts and when it comes back after more than the lock time in the
// background; wrong PINs make the next try wait (the store counts them, so
// a restart does not reset them), and after store.MaxPINTries only the
// office opens the app: its unlock code, or a new enrolment code typed on
// the phone, brings the deposited key back (client.RecoverKey), with which
// the store unlocks and takes a new PIN. Nothing on the phone is lost.
//
// Argon2id and the store's re-encryption take from a tenth of a second to
// seconds: every PIN operation runs in a.tasks, off the UI goroutine.

// Locker is what the PIN screens need of the local replica: *store.DB.
type Locker interface {
	Sealed() bool
	Locked() bool
	Seal(pin string) error
	Unlock(pin string, now time.Time) error
	PINState() (store.PINState, error)
	Lock()
	ChangePIN(old, newPIN string, now time.Time) error
	DataKey() (seal.Key, error)
	UnlockWithKey(key seal.Key, newPIN string) error
}

// DefaultLockAfter is how long the app may stay in the background before
// the PIN is asked again.
const DefaultLockAfter = 5 * time.Minute

// Preferences of the PIN: how long the app may stay in the background
// (minutes), and which devices have deposited their key.
const (
	prefLockAfter = "lock_after_minutes"
	prefEscrowed  = "escrowed."
)

// lockAfter is the background time after which the PIN is asked again.
func (a *App) lockAfter() time.Duration {
	if a.opt.LockAfter != 0 {
		return a.opt.LockAfter
	}
	if m := a.fyne.Preferences().Int(prefLockAfter); m > 0 {
		return time.Duration(m) * time.Minute
	}
	return DefaultLockAfter
}

// usePIN reports whether this app asks for a PIN.
func (a *App) usePIN() bool { return !a.opt.NoPIN }

// PINScreen asks for the PIN: at start and after the background time. After
// too many wrong PINs it offers the way out through the office (Recovery).
type PINScreen struct {
	PIN    *widget.Entry
	Submit *widget.Button
	// Error says why the PIN was refused; Wait how long until the next try.
	Error *widget.Label
	Wait  *widget.Label
	// Forgot opens the recovery form.
	Forgot *widget.Button
	// Recovery is the way out through the office, shown after Forgot or the
	// lock-out.
	Recovery *Recovery
	Busy     *widget.ProgressBarInfinite

	app       *App
	until     time.Time
	lockedOut bool
	box       *fyne.Container
	content   fyne.CanvasObject
}

// Recovery takes the device's key back from the server with a code from the
// office and sets a new PIN.
type Recovery struct {
	Server  *widget.Entry
	Code    *widget.Entry
	NewPIN  *widget.Entry
	Confirm *widget.Entry
	Submit  *widget.Button
	Error   *widget.Label
	box     *fyne.Container
}

func pinEntry(hint string) *widget.Entry {
	e := widget.NewPasswordEntry()
	e.SetPlaceHolder(hint)
	return e
}

// pinHeader is the icon and title over the PIN screens.
func pinHeader(title string) fyne.CanvasObject {
	icon := canvas.NewImageFromResource(assets.Icon)
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(64, 64))
	t := widget.NewLabelWithStyle(title, fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	t.SizeName = theme.SizeNameHeadingText
	return container.NewVBox(icon, t)
}

func newPINScreen(a *App) *PINScreen {
	p := &PINScreen{app: a}
	p.PIN = pinEntry(lang.L("pin.hint"))
	p.PIN.OnSubmitted = func(string) { p.submit() }
	p.Submit = widget.NewButton(lang.L("pin.unlock"), p.submit)
	p.Submit.Importance = widget.HighImportance
	p.Error = errorLabel()
	p.Wait = wrapLabel("")
	p.Wait.Importance = widget.WarningImportance
	p.Wait.Hide()
	p.Busy = widget.NewProgressBarInfinite()
	p.Busy.Stop()
	p.Busy.Hide()
	p.Forgot = widget.NewButton(lang.L("pin.forgot"), func() {
		p.Recovery.box.Show()
		p.Forgot.Hide()
		p.relayout()
	})
	p.Forgot.Importance = widget.LowImportance

	r := &Recovery{}
	p.Recovery = r
	r.Server = widget.NewEntry()
	r.Server.SetText(a.fyne.Preferences().String(prefServer))
	r.Code = widget.NewEntry()
	r.Code.SetPlaceHolder("7QK4-M2PX")
	r.NewPIN = pinEntry(lang.L("pin.new_hint"))
	r.Confirm = pinEntry(lang.L("pin.confirm_hint"))
	r.Submit = widget.NewButton(lang.L("pin.recover"), p.recover)
	r.Submit.Importance = widget.HighImportance
	r.Error = errorLabel()
	form := widget.NewForm(
		widget.NewFormItem(lang.L("enroll.server"), r.Server),
		widget.NewFormItem(lang.L("pin.office_code"), r.Code),
		widget.NewFormItem(lang.L("pin.new"), r.NewPIN),
		widget.NewFormItem(lang.L("pin.confirm"), r.Confirm),
	)
	form.Orientation = widget.Adaptive
	r.box = container.NewVBox(section(lang.L("pin.recovery")), wrapLabel(lang.L("pin.recovery_intro")), form, r.Error, r.Submit)
	r.box.Hide()

	p.box = container.NewVBox(pinHeader(lang.L("app.title")), wrapLabel(lang.L("pin.intro")), p.PIN, p.Error, p.Wait, p.Busy, p.Submit, p.Forgot, r.box)
	p.content = container.NewVScroll(container.NewPadded(container.New(&column{width: 420}, p.box)))
	return p
}

// relayout lays the screen out again after lines were shown or hidden.
func (p *PINScreen) relayout() {
	p.box.Refresh()
	p.content.Refresh()
}

// Content returns the screen.
func (p *PINScreen) Content() fyne.CanvasObject { return p.content }

// show shows the wrong-PIN count and wait of st.
func (p *PINScreen) show(st store.PINState) {
	switch {
	case st.LockedOut:
		p.lockedOut = true
		p.PIN.Disable()
		p.Submit.Disable()
		p.Wait.SetText(lang.L("pin.locked_out"))
		p.Wait.Show()
		p.Recovery.box.Show()
		p.Forgot.Hide()
		p.relayout()
		return
	case st.Failed > 0:
		p.Wait.SetText(count("pin.tries_left", st.TriesLeft()))
		p.Wait.Show()
	}
	p.until = st.Until
	p.Recheck()
	p.relayout()
}

// Recheck enables the PIN once the wait is over, saying how long is left
// until then. The app's ticker calls it.
func (p *PINScreen) Recheck() {
	if p.lockedOut {
		return
	}
	left := p.until.Sub(p.app.clock())
	if left <= 0 {
		if !p.PIN.Disabled() || p.Busy.Visible() {
			return
		}
		p.PIN.Enable()
		p.Submit.Enable()
		p.Wait.SetText(lang.L("pin.try_now"))
		return
	}
	p.PIN.Disable()
	p.Submit.Disable()
	p.Wait.SetText(lang.L("pin.wait", map[string]any{"Wait": waitText(left)}))
	if !p.Wait.Visible() {
		p.Wait.Show()
		p.relayout()
	}
}

// waitText says a wait in seconds or minutes, rounded up.
func waitText(d time.Duration) string {
	if d <= time.Minute {
		return count("pin.seconds", int((d+time.Second-1)/time.Second))
	}
	return count("pin.minutes", int((d+time.Minute-1)/time.Minute))
}

func (p *PINScreen) busy(on bool) {
	if on {
		p.Busy.Show()
		p.Busy.Start()
		p.Submit.Disable()
		p.Recovery.Submit.Disable()
		return
	}
	p.Busy.Stop()
	p.Busy.Hide()
	p.Submit.Enable()
	p.Recovery.Submit.Enable()
}

func (p *PINScreen) submit() {
	a := p.app
	pin := strings.TrimSpace(p.PIN.Text)
	if pin == "" || p.Submit.Disabled() {
		return
	}
	p.Error.Hide()
	p.busy(true)
	now := a.clock()
	a.tasks.run(func() func() {
		err := a.locker().Unlock(pin, now)
		st, _ := a.locker().PINState()
		return func() {
			p.busy(false)
			p.PIN.SetText("")
			if err != nil {
				p.Error.SetText(errText(err))
				p.Error.Show()
				p.show(st)
				p.relayout()
				return
			}
			a.unlocked()
		}
	})
}

// recover takes the key back from the server with the office's code and
// sets the new PIN.
func (p *PINScreen) recover() {
	a, r := p.app, p.Recovery
	server, code := strings.TrimSpace(r.Server.Text), strings.TrimSpace(r.Code.Text)
	pin := strings.TrimSpace(r.NewPIN.Text)
	fail := func(msg string) {
		r.Error.SetText(msg)
		r.Error.Show()
		p.relayout()
	}
	switch {
	case server == "":
		fail(lang.L("enroll.need_server"))
		return
	case code == "":
		fail(lang.L("pin.need_code"))
		return
	case pin != strings.TrimSpace(r.Confirm.Text):
		fail(lang.L("pin.mismatch"))
		return
	}
	if err := seal.CheckPIN(pin); err != nil {
		fail(errText(err))
		return
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	r.Error.Hide()
	p.busy(true)
	device := a.db.Device()
	a.tasks.run(func() func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		key, enrolled, err := a.recoverKey(ctx, server, device, lang.L("pin.recovered_name"), code)
		if err == nil {
			if len(key) != seal.KeySize {
				err = store.ErrWrongKey
			} else {
				err = a.locker().UnlockWithKey(seal.Key(key), pin)
			}
			clear(key)
		}
		if err == nil {
			a.fyne.Preferences().SetString(prefServer, server)
		}
		return func() {
			p.busy(false)
			if err != nil {
				fail(errText(err))
				return
			}
			r.Code.SetText("")
			r.NewPIN.SetText("")
			r.Confirm.SetText("")
			if enrolled {
				// Keep the enrolment the code made, with the device's
				// own name, once the client can store it.
				a.reenrol = &reenrol{server: server, code: code}
			}
			a.unlocked()
		}
	})
}

// recoverKey asks the server for the device's key (Options.Recover, else
// client.RecoverKey).
func (a *App) recoverKey(ctx context.Context, server string, device uuid.UUID, name, code string) ([]byte, bool, error) {
	if a.opt.Recover != nil {
		return a.opt.Recover(ctx, server, device, name, code)
	}
	return client.RecoverKey(ctx, nil, server, device, name, code)
}

// reenrol is an enrolment made while recovering the key, to be kept once
// the store is unlocked.
type reenrol struct{ server, code string }

// ChoosePIN sets the PIN: after enrolment, on a device enrolled before PINs,
// and to change it in the settings (then Old asks for the current one).
type ChoosePIN struct {
	Old     *widget.Entry // nil unless changing
	PIN     *widget.Entry
	Confirm *widget.Entry
	Submit  *widget.Button
	Error   *widget.Label
	Done    *widget.Label // "PIN changed" (change only)
	Busy    *widget.ProgressBarInfinite

	app     *App
	then    func()
	content fyne.CanvasObject
}

// relayout lays the screen out again after lines were shown or hidden.
func (c *ChoosePIN) relayout() { c.content.Refresh() }

func newChoosePIN(a *App, change bool, then func()) *ChoosePIN {
	c := &ChoosePIN{app: a, then: then}
	if change {
		c.Old = pinEntry(lang.L("pin.old_hint"))
	}
	c.PIN = pinEntry(lang.L("pin.new_hint"))
	c.Confirm = pinEntry(lang.L("pin.confirm_hint"))
	c.Confirm.OnSubmitted = func(string) { c.submit() }
	label := lang.L("pin.set")
	if change {
		label = lang.L("pin.change")
	}
	c.Submit = widget.NewButton(label, c.submit)
	c.Submit.Importance = widget.HighImportance
	c.Error = errorLabel()
	c.Done = wrapLabel(lang.L("pin.changed"))
	c.Done.Importance = widget.SuccessImportance
	c.Done.Hide()
	c.Busy = widget.NewProgressBarInfinite()
	c.Busy.Stop()
	c.Busy.Hide()
	form := widget.NewForm()
	if change {
		form.Append(lang.L("pin.old"), c.Old)
	}
	form.Append(lang.L("pin.new"), c.PIN)
	form.Append(lang.L("pin.confirm"), c.Confirm)
	form.Orientation = widget.Adaptive
	rules := wrapLabel(lang.L("pin.rules"))
	rules.SizeName = theme.SizeNameCaptionText
	if change {
		c.content = container.NewVScroll(container.NewPadded(container.NewVBox(rules, form, c.Error, c.Done, c.Busy, c.Submit)))
	} else {
		box := container.NewVBox(pinHeader(lang.L("pin.choose_title")), wrapLabel(lang.L("pin.choose_intro")), rules, form, c.Error, c.Busy, c.Submit)
		c.content = container.NewVScroll(container.NewPadded(container.New(&column{width: 420}, box)))
	}
	return c
}

// Title returns "修改 PIN 码".
func (c *ChoosePIN) Title() string { return lang.L("pin.change_title") }

// Content returns the screen.
func (c *ChoosePIN) Content() fyne.CanvasObject { return c.content }

func (c *ChoosePIN) fail(err error) {
	c.Done.Hide()
	c.Error.SetText(errText(err))
	c.Error.Show()
	c.relayout()
}

func (c *ChoosePIN) submit() {
	a := c.app
	pin := strings.TrimSpace(c.PIN.Text)
	if pin != strings.TrimSpace(c.Confirm.Text) {
		c.Done.Hide()
		c.Error.SetText(lang.L("pin.mismatch"))
		c.Error.Show()
		c.relayout()
		return
	}
	var personal []string
	if a.me != nil {
		personal = seal.Personal("", a.me.Phone)
	}
	if err := seal.CheckPIN(pin, personal...); err != nil {
		c.fail(err)
		return
	}
	old := ""
	if c.Old != nil {
		old = strings.TrimSpace(c.Old.Text)
	}
	c.Error.Hide()
	c.Done.Hide()
	c.Submit.Disable()
	c.Busy.Show()
	c.Busy.Start()
	now := a.clock()
	a.tasks.run(func() func() {
		var err error
		if c.Old != nil {
			err = a.locker().ChangePIN(old, pin, now)
		} else {
			err = a.locker().Seal(pin)
		}
		if err == nil && c.Old == nil {
			a.deposit()
		}
		return func() {
			c.Busy.Stop()
			c.Busy.Hide()
			c.Submit.Enable()
			if err != nil {
				c.fail(err)
				return
			}
			for _, e := range []*widget.Entry{c.Old, c.PIN, c.Confirm} {
				if e != nil {
					e.SetText("")
				}
			}
			if c.Old != nil {
				c.Done.Show()
				c.relayout()
			}
			if c.then != nil {
				c.then()
			}
		}
	})
}

// locker returns the store's PIN operations.
func (a *App) locker() Locker { return a.db }

// clock is the wall clock of the PIN's waits: Options.Now, else the time.
func (a *App) clock() time.Time {
	if a.opt.Now != nil {
		return a.opt.Now()
	}
	return time.Now()
}

// deposit sends the store's data key to the server, once per device: the
// way back from a forgotten PIN. It runs off the UI goroutine; a failure
// (offline) is retried at the next unlock.
func (a *App) deposit() {
	if a.sync == nil {
		return
	}
	pref := prefEscrowed + a.db.Device().String()
	if a.fyne.Preferences().Bool(pref) {
		return
	}
	key, err := a.locker().DataKey()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.sync.Deposit(ctx, key[:])
	clear(key[:])
	if err != nil {
		fyne.LogError("app: deposit the data key with the server", err)
		return
	}
	a.fyne.Preferences().SetBool(pref, true)
}

// showLock shows the PIN screen and reads the wrong-PIN count.
func (a *App) showLock() {
	a.stop()
	a.Pin = newPINScreen(a)
	a.Enroll, a.Choose, a.Bar, a.Households, a.Menu, a.Settings, a.nav = nil, nil, nil, nil, nil, nil, nil
	a.Window.SetContent(a.Pin.Content())
	a.Window.Canvas().Focus(a.Pin.PIN)
	a.tasks.run(func() func() {
		st, err := a.locker().PINState()
		return func() {
			if err != nil {
				a.Pin.Error.SetText(errText(err))
				a.Pin.Error.Show()
				return
			}
			if a.Pin != nil {
				a.Pin.show(st)
			}
		}
	})
}

// lock forgets the key and shows the PIN screen.
func (a *App) lock() {
	if a.Pin != nil || !a.usePIN() {
		return
	}
	if !a.locker().Sealed() { // an atomic read: no disk
		a.uncover()
		return
	}
	a.stop()
	a.Window.SetContent(container.NewCenter(widget.NewLabel(lang.L("common.loading"))))
	a.tasks.run(func() func() {
		a.locker().Lock() // waits for the transactions under way
		return func() {
			a.covered = nil
			a.showLock()
		}
	})
}

// unlocked goes on from the PIN screen: the sync client (made now if the
// store was locked when the app started), a pending re-enrolment, the key's
// deposit, then the screens.
func (a *App) unlocked() {
	a.Pin = nil
	a.Window.SetContent(container.NewCenter(widget.NewLabel(lang.L("common.loading"))))
	re := a.reenrol
	a.reenrol = nil
	a.tasks.run(func() func() {
		var err error
		if a.sync == nil && a.opt.Connect != nil {
			a.sync, err = a.opt.Connect()
		}
		if err == nil && re != nil && a.sync != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			st, _ := a.db.Settings()
			name := st.DeviceName
			if name == "" {
				name = lang.L("pin.recovered_name")
			}
			if eerr := a.sync.Enroll(ctx, re.server, re.code, name); eerr != nil {
				fyne.LogError("app: keep the enrolment made to recover the key", eerr)
			}
			cancel()
		}
		if err == nil {
			a.deposit()
		}
		return func() {
			if err != nil {
				Failed(a.fyne, err)
				return
			}
			a.Show()
		}
	})
}

// The app's content leaves the screen while it is in the background, where
// the platform allows: see README ("Threat model"). Fyne 2.7.1 has no
// secure-window flag (Android's FLAG_SECURE); what it offers is its
// lifecycle hooks, which run when the app loses and regains the
// foreground. On leaving, the window shows only the app's icon (on phones
// and tablets, or with Options.Cover); on coming back after more than the
// lock time, the store locks and the PIN is asked.

// background runs when the app leaves the foreground.
func (a *App) background() {
	a.leftAt = time.Now()
	if !a.usePIN() || a.Pin != nil || a.covered != nil {
		return
	}
	if a.opt.Cover || fyne.CurrentDevice().IsMobile() {
		a.covered = a.Window.Content()
		icon := canvas.NewImageFromResource(assets.Icon)
		icon.FillMode = canvas.ImageFillContain
		icon.SetMinSize(fyne.NewSize(96, 96))
		a.Window.SetContent(container.NewCenter(icon))
	}
}

// foreground runs when the app comes back: after more than the lock time
// away, a sealed store locks.
func (a *App) foreground() {
	away := !a.leftAt.IsZero() && time.Since(a.leftAt) > a.lockAfter()
	a.leftAt = time.Time{}
	if away && a.usePIN() && a.Pin == nil {
		a.lock()
		return
	}
	a.uncover()
}

// uncover puts back what background covered.
func (a *App) uncover() {
	if a.covered != nil {
		a.Window.SetContent(a.covered)
		a.covered = nil
	}
}

// watchLifecycle follows the app's foreground and background.
func (a *App) watchLifecycle() {
	lc := a.fyne.Lifecycle()
	lc.SetOnExitedForeground(a.background)
	lc.SetOnEnteredForeground(a.foreground)
}

// needPIN reports whether err is the store refusing while locked.
func needPIN(err error) bool { return errors.Is(err, store.ErrNeedPIN) }
