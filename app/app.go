package app

import (
	"context"
	"errors"
	"image/color"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/google/uuid"

	"bangfu/assets"
	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

// Options adjust an App; the zero value is what the real app uses.
type Options struct {
	// Now reads the time used for "days since the last visit" and for the
	// time of new records; the store's corrected clock if nil.
	Now func() time.Time
	// Manual leaves syncing to the Sync button: no background sync loop.
	// Tests use it so that every sync is one they started and can wait for.
	Manual bool
	// Server is the server address offered on the enrolment screen.
	Server string
	// Wipe closes the local replica, deletes it and opens an empty one
	// (with a new device ID) and its sync client: what the app does when the
	// server says the device was reported lost. It runs off the UI
	// goroutine. Without it such a device only shows the message.
	Wipe func() (*store.DB, Syncer, error)
	// NoPIN asks for no PIN and leaves the store unencrypted: tests of
	// the other screens. The real app asks for one (pin.go).
	NoPIN bool
	// LockAfter is how long the app may stay in the background before the
	// PIN is asked again; the device's setting, else DefaultLockAfter, if
	// zero.
	LockAfter time.Duration
	// Cover hides the window's content while the app is in the background
	// on any device (on phones and tablets it always does).
	Cover bool
	// Connect makes the sync client once the store is unlocked, when the
	// app was started on a locked store without one (a locked store cannot
	// be read, not even its account).
	Connect func() (Syncer, error)
	// Recover asks the server for the device's data key with a code from
	// the office (client.RecoverKey if nil).
	Recover func(ctx context.Context, server string, device uuid.UUID, name, code string) (key []byte, enrolled bool, err error)
	// DeferUI keeps the results of background work until Wait, which shows
	// them on its caller's goroutine. Tests under Fyne's test driver set it,
	// so that only the test's goroutine touches widgets (that driver runs
	// fyne.Do on whichever goroutine calls it).
	DeferUI bool
	// PickPhoto asks for a picture to attach; Fyne's file dialog (on a
	// phone the system picker) if nil. Tests hand in a file.
	PickPhoto PickPhoto
}

// App is 帮扶走访's user interface in one window: enrolment, then a group
// cadre's households or a team leader's village, with the sync bar below.
type App struct {
	// Window is the app's window.
	Window fyne.Window
	// Enroll is the enrolment screen while the device is not enrolled.
	Enroll *Enroll
	// Bar is the sync bar, always visible once enrolled.
	Bar *SyncBar
	// Waiting says why the main screens are not shown yet (no roster).
	Waiting *widget.Label
	// Households is a group cadre's list of households (nil for a team leader).
	Households *Households
	// Menu is a team leader's list of sections (nil for a group cadre).
	Menu *Menu
	// Settings opens the settings from a group cadre's list (a team leader's
	// menu has them as a section).
	Settings *widget.Button
	// TodoButton, on top of a cadre's list, says how many to-do items
	// (待办) wait and opens them (nil for a team leader).
	TodoButton *widget.Button
	// Pin is the PIN screen while the store is locked; Choose the screen
	// that sets the first PIN (pin.go).
	Pin    *PINScreen
	Choose *ChoosePIN

	fyne      fyne.App
	db        *store.DB
	sync      Syncer
	opt       Options
	tasks     tasks
	nav       *Nav
	cadre     uuid.UUID
	me        *domain.Cadre
	leader    bool
	villages  []*domain.Place
	towns     []*domain.Place // the towns the cadre works for whole (town or city staff)
	loading   bool            // start is reading who the cadre is
	wiping    bool            // wipe is under way
	cancel    context.CancelFunc
	nudge     fyne.CanvasObject // refreshed to ask for a frame (see repaint)
	ticking   bool              // the repaint ticker runs
	toldMu    sync.Mutex        // one reader of the plans sent back at a time (newlyReturned)
	todoShown bool              // the to-do list was opened at start
	leftAt    time.Time         // when the app left the foreground (zero: it is in front)
	covered   fyne.CanvasObject // the content hidden while in the background
	reenrol   *reenrol          // an enrolment made to recover the key, to keep
	shown     *revealed         // a whole ID number on screen
}

// New returns the app for the Fyne app fa, the local replica db and the
// device's sync client sc. Call Show (or Run) to open its window.
func New(fa fyne.App, db *store.DB, sc Syncer, opt Options) *App {
	a := &App{fyne: fa, db: db, sync: sc, opt: opt, nudge: canvas.NewRectangle(color.Transparent)}
	if opt.DeferUI {
		a.tasks.queue = make(chan func())
	}
	a.tasks.shown = a.repaint
	SetLanguage(Chinese) // until the device's own choice is read (see Show)
	a.Window = fa.NewWindow(lang.L("app.title"))
	a.Window.SetIcon(assets.Icon)
	a.Window.Resize(fyne.NewSize(1024, 720))
	a.Window.SetOnClosed(a.stop)
	a.watchLifecycle()
	return a
}

// repaintEvery is how often a shown window is drawn even when nothing asked.
const repaintEvery = 2 * time.Second

// repaint asks the window for a new frame, through its own canvas.
//
// Fyne 2.7.1 finds the canvas of a refreshed widget through a cache whose
// entries expire a minute after they were last looked up; drawing a frame
// does not renew them, and once an expired entry has been dropped, refreshing
// that widget marks nothing to be drawn. So on a window that was redrawn now
// and then for a minute or more (the sync bar after each failed attempt) and
// then left alone, a change shows only when something else happens to redraw
// the window: the sync bar kept "1 条待同步 · 无法连接服务器" for a minute
// after the sync had succeeded, and taps seemed ignored. Refreshing through the
// window's canvas needs no cache entry, and the frame it causes registers
// every object in view again. The app repaints after every result of
// background work and, while the window is shown, every repaintEvery.
func (a *App) repaint() {
	if c := a.Window.Canvas(); c != nil {
		c.Refresh(a.nudge)
	}
}

// tick repaints every repaintEvery until the window closes; see repaint.
func (a *App) tick(done <-chan struct{}) {
	t := time.NewTicker(repaintEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			fyne.Do(func() {
				if a.Bar != nil {
					a.Bar.Recheck()
				}
				if a.Pin != nil {
					a.Pin.Recheck()
				}
				a.hideRevealed()
				a.repaint()
			})
		}
	}
}

// now is the time screens use.
func (a *App) now() time.Time {
	if a.opt.Now != nil {
		return a.opt.Now()
	}
	return a.db.Now()
}

// Nav returns the app's navigation: what is shown and the way back.
func (a *App) Nav() *Nav { return a.nav }

// Leader reports whether the signed-in cadre leads a village or more.
func (a *App) Leader() bool { return a.leader }

// Cadre returns the signed-in cadre, nil before enrolment.
func (a *App) Cadre() *domain.Cadre { return a.me }

// Wait blocks until all background work started so far has finished and shown
// its result (with Options.DeferUI, Wait shows the results itself). Tests call
// it after each action.
func (a *App) Wait() { a.tasks.wait() }

// Failed shows why the app cannot start (the store is in use by another
// process, say) in a window, and runs until it is closed.
func Failed(fa fyne.App, err error) {
	SetLanguage(Chinese) // the store that keeps the device's choice did not open
	w := fa.NewWindow(lang.L("app.title"))
	msg := dangerLabel(errText(err))
	w.SetContent(container.NewPadded(container.NewVBox(
		widget.NewLabelWithStyle(lang.L("common.error"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), msg)))
	w.Resize(fyne.NewSize(480, 200))
	w.ShowAndRun()
}

// Run shows the window and runs the Fyne event loop until the window closes.
func (a *App) Run() {
	a.Show()
	a.Window.ShowAndRun()
}

// Show builds the window's content: the enrolment screen on a new device,
// the main screens on an enrolled one.
func (a *App) Show() {
	a.Window.SetContent(container.NewCenter(widget.NewLabel(lang.L("common.loading"))))
	a.Window.Show()
	if !a.opt.DeferUI && !a.ticking {
		// Under the test driver fyne.Do runs on the ticker's goroutine.
		a.ticking = true
		done := make(chan struct{})
		a.Window.SetOnClosed(func() {
			close(done)
			a.stop()
		})
		go a.tick(done)
	}
	a.tasks.run(func() func() {
		if a.usePIN() && a.locker().Locked() {
			return a.showLock
		}
		if a.sync == nil {
			return func() { Failed(a.fyne, errors.New("app: no sync client")) }
		}
		st := a.sync.Status()
		set, err := a.db.Settings()
		sealed := a.locker().Sealed()
		return func() {
			if err != nil {
				fyne.LogError("app: read the device's settings", err)
			}
			a.applySettings(set)
			if !st.Enrolled || st.Cadre == uuid.Nil {
				server := st.Server
				if server == "" {
					server = a.opt.Server
				}
				a.showEnroll(server)
				if set.DeviceName != "" && a.Enroll.Name.Text == "" {
					a.Enroll.Name.SetText(set.DeviceName)
				}
				return
			}
			if a.usePIN() && !sealed {
				// Enrolled before PINs: choose one now; the store is
				// encrypted then (store.DB.Seal migrates it).
				a.showChoosePIN(func() { a.start(st.Cadre) })
				return
			}
			a.start(st.Cadre)
		}
	})
}

// showChoosePIN shows the screen that sets the first PIN, then runs then.
func (a *App) showChoosePIN(then func()) {
	a.Choose = newChoosePIN(a, false, func() {
		a.Choose = nil
		then()
	})
	a.Window.SetContent(a.Choose.Content())
}

func (a *App) showEnroll(server string) {
	a.Enroll = newEnroll(a, server)
	a.Bar, a.Households, a.Menu, a.Settings, a.nav = nil, nil, nil, nil, nil
	a.Window.SetContent(a.Enroll.Content())
}

// start reads who the cadre is and what they lead, then builds the screens.
func (a *App) start(cadre uuid.UUID) {
	a.Enroll = nil
	a.cadre = cadre
	loading := widget.NewLabel(lang.L("common.loading"))
	a.Waiting = loading
	a.Window.SetContent(container.NewCenter(loading))
	a.loading = true
	a.tasks.run(func() func() {
		me, villages, towns, leader, err := a.whoAmI(cadre)
		return func() {
			a.loading = false
			if err != nil {
				msg := errText(err)
				if errors.Is(err, domain.ErrNotFound) {
					msg = lang.L("app.no_roster")
				}
				loading.SetText(msg)
				loading.Wrapping = fyne.TextWrapWord
				loading.Importance = widget.DangerImportance
				loading.Refresh()
				// The roster may arrive with the first sync.
				a.Bar = newSyncBar(a)
				a.Window.SetContent(container.NewBorder(nil, a.Bar.Content(), nil, nil, container.NewPadded(container.NewVBox(loading))))
				a.startSync()
				return
			}
			a.me, a.villages, a.towns, a.leader = me, villages, towns, leader
			a.Waiting = nil
			a.build()
		}
	})
}

// whoAmI reads the signed-in cadre, the villages they lead, the towns they
// work for whole (as town or city staff), and whether they lead.
func (a *App) whoAmI(cadre uuid.UUID) (*domain.Cadre, []*domain.Place, []*domain.Place, bool, error) {
	rec, err := a.db.Get(domain.KindCadre, cadre)
	if err != nil {
		return nil, nil, nil, false, err
	}
	me := rec.(*domain.Cadre)
	as, err := query.Assignments(a.db, cadre)
	if err != nil {
		return nil, nil, nil, false, err
	}
	var allTowns []*domain.Place
	townSeen := map[uuid.UUID]bool{}
	leader := false
	var villages []*domain.Place
	seen := map[uuid.UUID]bool{}
	add := func(p *domain.Place) {
		if !seen[p.ID] {
			seen[p.ID] = true
			villages = append(villages, p)
		}
	}
	for _, as := range as {
		if !as.Role.Leads() {
			continue
		}
		leader = true
		rec, err := a.db.Get(domain.KindPlace, as.Target)
		if err != nil {
			continue // the place has not arrived yet
		}
		switch p := rec.(*domain.Place); p.Level {
		case domain.Village:
			add(p)
		case domain.Town, domain.City:
			towns := []*domain.Place{p}
			if p.Level == domain.City {
				towns, _ = query.Places(a.db, domain.Town, p.ID)
			}
			for _, t := range towns {
				if !townSeen[t.ID] {
					townSeen[t.ID] = true
					allTowns = append(allTowns, t)
				}
				vs, _ := query.Places(a.db, domain.Village, t.ID)
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	return me, villages, allTowns, leader, nil
}

// build lays out the main screens for the cadre's role.
func (a *App) build() {
	a.nav = newNav()
	a.Bar = newSyncBar(a)
	if a.leader {
		a.Menu = newMenu(a)
		a.nav.SetMaster(a.Menu)
		// The village overview first, also for town staff (their town's
		// sections sit above it): it reads one village, the town overview
		// all of them, and the first screen must come at once.
		a.Menu.open(a.Menu.villageAt)
	} else {
		cadre := a.cadre
		a.Households = newHouseholds(a, lang.L("households.title"), func() ([]query.HouseholdRow, error) {
			return query.MyHouseholds(a.db, cadre, a.now())
		}, nil)
		a.Settings = a.settingsButton()
		a.Households.actions = []fyne.CanvasObject{a.Settings}
		a.TodoButton = widget.NewButtonWithIcon(lang.L("todo.title"), theme.ListIcon(), func() { a.nav.Open(newTodoScreen(a)) })
		a.TodoButton.Importance = widget.LowImportance
		a.Households.top.Objects = append([]fyne.CanvasObject{a.TodoButton}, a.Households.top.Objects...)
		a.nav.SetMaster(a.Households)
	}
	a.Window.SetContent(container.NewBorder(nil, a.Bar.Content(), nil, nil, a.nav.root))
	a.startSync()
	a.tellNews() // the first look notes what is there (notify.go)
	a.refreshTodo()
}

// settingsButton opens the settings.
func (a *App) settingsButton() *widget.Button {
	b := widget.NewButtonWithIcon("", theme.SettingsIcon(), func() { a.nav.Open(newSettings(a)) })
	b.Importance = widget.LowImportance
	return b
}

// startSync starts the background sync loop and follows the client's status.
// With Options.Manual it only shows the status.
func (a *App) startSync() {
	a.Bar.refresh()
	if a.opt.Manual || a.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	ch, unsubscribe := a.sync.Subscribe()
	go func() {
		defer unsubscribe()
		for {
			select {
			case <-ctx.Done():
				return
			case st := <-ch:
				a.tasks.ui(func() {
					if a.Bar != nil {
						a.Bar.update(st)
					}
				})
			}
		}
	}()
	go a.sync.Run(ctx)
}

// stop ends the background sync loop.
func (a *App) stop() {
	if a.cancel != nil {
		a.cancel()
		a.cancel = nil
	}
}

// changed tells the sync client that local changes wait to be sent, and
// updates the sync bar.
func (a *App) changed() {
	a.sync.Trigger()
	a.refreshTodo()
	if a.Bar != nil {
		a.Bar.refresh()
	}
}

// wipe answers the server's word that this device was reported lost: it
// stops syncing, has the replica wiped (Options.Wipe) and returns to the
// enrolment screen, which says what happened. The old replica is gone for
// good: nothing of it is kept on the device.
func (a *App) wipe() {
	if a.wiping {
		return
	}
	a.wiping = true
	a.stop()
	a.Bar, a.Households, a.Menu, a.Settings, a.nav = nil, nil, nil, nil, nil
	a.Window.SetContent(container.NewCenter(widget.NewLabel(lang.L("common.loading"))))
	a.tasks.run(func() func() {
		server := a.sync.Status().Server
		var db *store.DB
		var sc Syncer
		err := errors.New("no wipe")
		if a.opt.Wipe != nil {
			db, sc, err = a.opt.Wipe()
		}
		return func() {
			a.wiping = false
			msg := lang.L("enroll.wiped")
			if err == nil {
				a.db, a.sync = db, sc
			} else if a.opt.Wipe != nil {
				msg = lang.L("enroll.wipe_failed") + errText(err)
			}
			a.cadre, a.me, a.leader, a.villages, a.towns = uuid.Nil, nil, false, nil, nil
			if server == "" {
				server = a.opt.Server
			}
			a.showEnroll(server)
			a.Enroll.Error.SetText(msg)
			a.Enroll.Error.Show()
		}
	})
}

// synced reloads what is in view after a sync brought changes, and builds the
// main screens if the cadre's roster arrived only now.
func (a *App) synced() {
	if a.nav == nil {
		if a.Enroll == nil && a.cadre != uuid.Nil && !a.loading {
			a.start(a.cadre)
		}
		return
	}
	a.nav.Reload()
	a.tellNews()
	a.refreshTodo()
}
