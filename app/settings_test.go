package app_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/store/query"
)

// openSettings taps the settings button of a cadre's list.
func openSettings(t *testing.T, a *app.App) *app.Settings {
	t.Helper()
	test.Tap(a.Settings)
	a.Wait()
	s, ok := a.Nav().Top().(*app.Settings)
	if !ok {
		t.Fatalf("the settings button opens %T", a.Nav().Top())
	}
	return s
}

// TestLanguage: choosing English rebuilds the screens in English, and the
// choice is kept for the next start.
func TestLanguage(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	if a.Households.Title() != "我的农户" {
		t.Fatalf("the default language is not Chinese: %q", a.Households.Title())
	}
	s := openSettings(t, a)
	s.Language.SetSelected("English")
	a.Wait()
	if a.Households.Title() != "My households" {
		t.Errorf("after choosing English the list is titled %q", a.Households.Title())
	}
	if got := a.Bar.Waiting.Text; got != "Nothing waiting to sync" {
		t.Errorf("the sync bar says %q", got)
	}
	if _, ok := a.Nav().Top().(*app.Settings); !ok {
		t.Errorf("after switching language the app shows %T, not the settings", a.Nav().Top())
	}
	a.Window.Close()
	a.Wait()
	b := e.open(d, phone)
	if b.Households.Title() != "My households" {
		t.Errorf("the language is not kept across a restart: %q", b.Households.Title())
	}
	s = openSettings(t, b)
	s.Language.SetSelected("中文")
	b.Wait()
	if b.Households.Title() != "我的农户" {
		t.Errorf("back to Chinese: %q", b.Households.Title())
	}
}

// TestOverdueSetting: a bad threshold is refused in words; a good one is
// saved and the list's overdue rows follow it.
func TestOverdueSetting(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, tablet)
	overdue := func() int {
		n := 0
		for _, r := range a.Households.Rows() {
			if r.Overdue {
				n++
			}
		}
		return n
	}
	before := overdue()
	s := openSettings(t, a)
	if s.OverdueDays.Text != "30" {
		t.Errorf("the threshold shows %q, want the default 30", s.OverdueDays.Text)
	}
	for _, tc := range []struct{ in, want string }{
		{"0", "走访提醒天数应在 1 到 365 之间（现为 0）"},
		{"400", "走访提醒天数应在 1 到 365 之间（现为 400）"},
		{"三十", "请输入天数（1 到 365）"},
	} {
		s.OverdueDays.SetText(tc.in)
		test.Tap(s.SaveOverdue)
		a.Wait()
		if got := labelText(t, s.Error); got != tc.want {
			t.Errorf("threshold %q: %q, want %q", tc.in, got, tc.want)
		}
	}
	s.OverdueDays.SetText("3")
	test.Tap(s.SaveOverdue)
	a.Wait()
	if s.Error.Visible() || labelText(t, s.Saved) != "已保存" {
		t.Fatalf("saving 3 days: %s", s.Error.Text)
	}
	if st, err := d.db.Settings(); err != nil || st.OverdueDays != 3 {
		t.Errorf("stored threshold = %d, %v", st.OverdueDays, err)
	}
	if after := overdue(); after <= before {
		t.Errorf("with 3 days instead of 30, %d households are overdue (was %d)", after, before)
	}
}

// TestSignOut: signing out with changes waiting warns, syncs them first, and
// stays signed in when the sync fails; it never drops a change.
func TestSignOut(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	_, form := openVisitForm(t, a)
	test.Type(form.Notes, "退出前的走访")
	test.Tap(form.Save)
	a.Wait()
	test.Tap(a.Nav().Back)
	a.Wait()

	s := openSettings(t, a)
	test.Tap(s.SignOut)
	a.Wait()
	if got := labelText(t, s.Warning); !strings.HasPrefix(got, "还有1条修改没有同步") {
		t.Errorf("warning = %q", got)
	}
	if s.ConfirmSignOut.Text != "先同步，再退出" {
		t.Errorf("confirm button = %q", s.ConfirmSignOut.Text)
	}

	e.down.Store(true)
	test.Tap(s.ConfirmSignOut)
	a.Wait()
	if a.Enroll != nil {
		t.Fatal("signed out although the sync failed")
	}
	if got := labelText(t, s.Warning); !strings.Contains(got, "未退出") || !strings.Contains(got, "无法连接服务器") {
		t.Errorf("after a failed sync the warning says %q", got)
	}
	if n := d.client.Status().Pending; n != 1 {
		t.Errorf("%d changes wait after the failed sign-out, want the 1 visit", n)
	}

	e.down.Store(false)
	test.Tap(s.ConfirmSignOut)
	a.Wait()
	if a.Enroll == nil {
		t.Fatalf("not signed out after a good sync: %s", s.Warning.Text)
	}
	found := false
	for _, r := range must(query.MyHouseholds(e.db, e.data.GroupCadre.ID, demoNow)) {
		c := must(query.Card(e.db, r.ID, demoNow))
		for _, v := range c.Visits {
			if v.Notes == "退出前的走访" {
				found = true
			}
		}
	}
	if !found {
		t.Error("the visit made before signing out did not reach the server")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
