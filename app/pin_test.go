package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/seal"
	"bangfu/store"
)

// clock is a test's wall clock that the test moves on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fastPIN makes Argon2id cheap in tests.
var fastPIN = &seal.Params{Time: 1, Memory: 64, Threads: 1}

// pinDevice opens a device whose store asks Argon2id for little.
func (e *env) pinDevice(name string) *device {
	e.t.Helper()
	db, err := store.Open(filepath.Join(e.t.TempDir(), name+".db"), &store.Options{Now: func() time.Time { return demoNow }, NoSync: true, PINParams: fastPIN})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return e.deviceOn(db)
}

// pinOptions are the options of an app that asks for a PIN, on clk.
func pinOptions(clk *clock, lockAfter time.Duration) app.Options {
	return app.Options{Manual: true, DeferUI: true, Now: clk.now, LockAfter: lockAfter, Cover: true}
}

// enrolWithPIN enrols d in a through the enrolment screen for cadre and
// chooses pin on the screen that follows.
func (e *env) enrolWithPIN(a *app.App, cadre domain.Cadre, name, pin string) {
	e.t.Helper()
	if a.Enroll == nil {
		e.t.Fatal("no enrolment screen")
	}
	a.Enroll.Server.SetText(e.url)
	test.Type(a.Enroll.Code, e.code(cadre.ID))
	a.Enroll.Name.SetText(name)
	test.Tap(a.Enroll.Submit)
	a.Wait()
	if a.Choose == nil {
		e.t.Fatalf("no PIN asked after enrolment (enrolment error %q)", a.Enroll.Error.Text)
	}
	test.Type(a.Choose.PIN, pin)
	test.Type(a.Choose.Confirm, pin)
	test.Tap(a.Choose.Submit)
	a.Wait()
	if a.Choose != nil {
		e.t.Fatalf("the PIN was refused: %s", a.Choose.Error.Text)
	}
}

// away puts the app in the background and brings it back.
func away(a *app.App, fa fyne.App) {
	lc := fa.Lifecycle().(interface {
		OnExitedForeground() func()
		OnEnteredForeground() func()
	})
	lc.OnExitedForeground()()
	time.Sleep(2 * time.Millisecond)
	lc.OnEnteredForeground()()
	a.Wait()
}

// typePIN types pin on the PIN screen and submits it.
func typePIN(a *app.App, pin string) {
	a.Pin.PIN.SetText("")
	test.Type(a.Pin.PIN, pin)
	test.Tap(a.Pin.Submit)
	a.Wait()
}

// TestPINAtEnrolmentAndLock: a PIN is chosen right after enrolment (weak
// ones and a mistyped confirmation refused), the store is then encrypted
// and its key deposited with the server; after the lock time in the
// background the PIN screen comes back, wrong PINs make the next try wait
// (shown with the wait), and the right one opens the screens again. A
// short trip to the background asks nothing.
func TestPINAtEnrolmentAndLock(t *testing.T) {
	e := newEnv(t)
	clk := &clock{t: demoNow}
	d := e.pinDevice("phone")
	a := e.openWith(d, phone, pinOptions(clk, time.Nanosecond))
	a.Enroll.Server.SetText(e.url)
	test.Type(a.Enroll.Code, e.code(e.data.GroupCadre.ID))
	a.Enroll.Name.SetText("马兴文的手机")
	test.Tap(a.Enroll.Submit)
	a.Wait()
	if a.Choose == nil {
		t.Fatalf("no PIN asked after enrolment: %q", a.Enroll.Error.Text)
	}
	for _, tc := range []struct{ pin, confirm, want string }{
		{"123456", "123456", "PIN"},
		{"274915", "274916", "两次输入的 PIN 码不一致"},
		{"2749", "2749", "6"},
	} {
		a.Choose.PIN.SetText(tc.pin)
		a.Choose.Confirm.SetText(tc.confirm)
		test.Tap(a.Choose.Submit)
		a.Wait()
		if a.Choose == nil || !a.Choose.Error.Visible() || !strings.Contains(a.Choose.Error.Text, tc.want) {
			t.Fatalf("PIN %q/%q accepted or refused without %q", tc.pin, tc.confirm, tc.want)
		}
	}
	if d.db.Sealed() {
		t.Fatal("a refused PIN sealed the store")
	}
	a.Choose.PIN.SetText("274915")
	a.Choose.Confirm.SetText("274915")
	test.Tap(a.Choose.Submit)
	a.Wait()
	if a.Choose != nil || a.Households == nil || len(a.Households.Rows()) == 0 {
		t.Fatal("no households after choosing the PIN")
	}
	if !d.db.Sealed() {
		t.Fatal("the store is not encrypted after the PIN was chosen")
	}
	// The key was deposited: the office can issue an unlock code for it.
	if _, err := e.reg.IssueUnlock(d.db.Device(), time.Hour); err != nil {
		t.Fatalf("no deposit on the server: %v", err)
	}

	// Away longer than the lock time: locked.
	away(a, e.fa)
	if a.Pin == nil || !d.db.Locked() || a.Households != nil {
		t.Fatal("not locked after the lock time in the background")
	}
	shootPIN(t, a, phone, "phone-pin.png")
	for i := 1; i <= store.FreePINTries; i++ {
		typePIN(a, "111111")
		if !a.Pin.Error.Visible() || a.Pin.PIN.Disabled() {
			t.Fatalf("wrong PIN %d: error %q, disabled %v", i, a.Pin.Error.Text, a.Pin.PIN.Disabled())
		}
	}
	typePIN(a, "111111")
	if !a.Pin.PIN.Disabled() || !a.Pin.Submit.Disabled() || !strings.Contains(a.Pin.Wait.Text, "30 秒") {
		t.Fatalf("after %d wrong PINs: disabled %v, wait %q", store.FreePINTries+1, a.Pin.PIN.Disabled(), a.Pin.Wait.Text)
	}
	shootPIN(t, a, phone, "phone-pin-wait.png")
	clk.add(31 * time.Second)
	a.Pin.Recheck()
	if a.Pin.PIN.Disabled() {
		t.Fatal("still waiting after the wait")
	}
	typePIN(a, "274915")
	if a.Pin != nil || d.db.Locked() || a.Households == nil {
		t.Fatal("the right PIN did not unlock")
	}

	// A trip to the background shorter than the lock time asks nothing.
	b := e.openWith(d, phone, pinOptions(clk, time.Hour))
	away(b, e.fa)
	if b.Pin != nil || d.db.Locked() {
		t.Fatal("locked after a short trip to the background")
	}
}

// TestPINScreenTablet: the PIN screen at a tablet's width, after the app is
// started on a locked store (no sync client until it is unlocked).
func TestPINScreenTablet(t *testing.T) {
	e := newEnv(t)
	clk := &clock{t: demoNow}
	d := e.pinDevice("tablet")
	a := e.openWith(d, tablet, pinOptions(clk, time.Hour))
	e.enrolWithPIN(a, *e.data.TeamLeader, "王队长的平板", "602817")
	a.Window.Close()
	a.Wait()
	d.db.Lock()
	opt := pinOptions(clk, time.Hour)
	opt.Connect = func() (app.Syncer, error) { return d.client, nil }
	b := app.New(e.fa, d.db, nil, opt)
	b.Window.Resize(tablet)
	b.Show()
	b.Wait()
	t.Cleanup(func() { b.Window.Close(); b.Wait() })
	if b.Pin == nil {
		t.Fatal("no PIN screen on a locked store")
	}
	shootPIN(t, b, tablet, "tablet-pin.png")
	typePIN(b, "602817")
	if b.Pin != nil || b.Menu == nil {
		t.Fatal("the tablet did not open its screens after the PIN")
	}
}

// TestForgottenPINKeepsUnsynced: a cadre locks the app out with wrong PINs
// while a visit has not been synced; the office's unlock code brings the
// deposited key back, a new PIN is set, and the visit is still there and
// syncs.
func TestForgottenPINKeepsUnsynced(t *testing.T) {
	e := newEnv(t)
	clk := &clock{t: demoNow}
	d := e.pinDevice("phone")
	a := e.openWith(d, phone, pinOptions(clk, time.Nanosecond))
	e.enrolWithPIN(a, *e.data.GroupCadre, "马兴文的手机", "274915")
	h := a.Households.Rows()[0].ID
	v := &domain.Visit{Meta: domain.Meta{ID: uuid.New()}, Household: h, Cadre: e.data.GroupCadre.ID, At: demoNow,
		Type: domain.VisitRoutine, Notes: "未同步的走访：屋顶漏雨"}
	if err := d.db.Put(e.data.GroupCadre.ID, v); err != nil {
		t.Fatal(err)
	}
	away(a, e.fa)
	for range store.MaxPINTries {
		clk.add(time.Hour)
		a.Pin.Recheck()
		typePIN(a, "111111")
	}
	if a.Pin == nil || !a.Pin.PIN.Disabled() || !a.Pin.Recovery.Submit.Visible() {
		t.Fatal("no lock-out after the last wrong PIN")
	}
	clk.add(time.Hour)
	a.Pin.Recheck()
	if !a.Pin.PIN.Disabled() {
		t.Fatal("the PIN can be tried again after the lock-out")
	}
	shootPIN(t, a, phone, "phone-pin-locked.png")

	r := a.Pin.Recovery
	code, err := e.reg.IssueUnlock(d.db.Device(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r.Server.SetText(e.url)
	test.Type(r.Code, "2345-6789")
	test.Type(r.NewPIN, "830561")
	test.Type(r.Confirm, "830561")
	test.Tap(r.Submit)
	a.Wait()
	if a.Pin == nil || !r.Error.Visible() {
		t.Fatal("a made-up code unlocked the app")
	}
	r.Code.SetText(code)
	test.Tap(r.Submit)
	a.Wait()
	if a.Pin != nil || a.Households == nil {
		t.Fatalf("the office's code did not unlock: %q", r.Error.Text)
	}
	got, err := d.db.Get(domain.KindVisit, v.ID)
	if err != nil || got.(*domain.Visit).Notes != v.Notes {
		t.Fatalf("the unsynced visit after recovery: %v", err)
	}
	if err := d.client.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Get(domain.KindVisit, v.ID); err != nil {
		t.Fatalf("the visit did not reach the server: %v", err)
	}
	// The new PIN works.
	away(a, e.fa)
	typePIN(a, "830561")
	if a.Pin != nil {
		t.Fatal("the new PIN does not unlock")
	}
}

// TestChangePIN: the settings change the PIN; the old one is asked, and
// only the new one unlocks afterwards.
func TestChangePIN(t *testing.T) {
	e := newEnv(t)
	clk := &clock{t: demoNow}
	d := e.pinDevice("phone")
	a := e.openWith(d, phone, pinOptions(clk, time.Nanosecond))
	e.enrolWithPIN(a, *e.data.GroupCadre, "马兴文的手机", "274915")
	test.Tap(a.Settings)
	a.Wait()
	s, ok := a.Nav().Top().(*app.Settings)
	if !ok {
		t.Fatal("no settings")
	}
	test.Tap(s.ChangePIN)
	a.Wait()
	c, ok := a.Nav().Top().(*app.ChoosePIN)
	if !ok {
		t.Fatal("no change-PIN screen")
	}
	test.Type(c.Old, "111111")
	test.Type(c.PIN, "830561")
	test.Type(c.Confirm, "830561")
	test.Tap(c.Submit)
	a.Wait()
	if !c.Error.Visible() || c.Done.Visible() {
		t.Fatal("changed with a wrong current PIN")
	}
	c.Old.SetText("274915")
	c.PIN.SetText("830561")
	c.Confirm.SetText("830561")
	test.Tap(c.Submit)
	a.Wait()
	if !c.Done.Visible() {
		t.Fatalf("not changed: %q", c.Error.Text)
	}
	away(a, e.fa)
	typePIN(a, "274915")
	if a.Pin == nil {
		t.Fatal("the old PIN still unlocks")
	}
	clk.add(time.Hour)
	typePIN(a, "830561")
	if a.Pin != nil {
		t.Fatal("the new PIN does not unlock")
	}
}

// shoot writes the window's capture to docs/screenshots/name when
// BANGFU_SCREENSHOTS is set.
func shootPIN(t *testing.T, a *app.App, size fyne.Size, name string) {
	t.Helper()
	a.Window.Resize(size)
	img := a.Window.Canvas().Capture()
	if os.Getenv("BANGFU_SCREENSHOTS") == "" {
		return
	}
	save(t, filepath.Join("..", "docs", "screenshots", name), img)
}
