package app_test

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/store/query"
	"bangfu/sync/client"
)

// enrolWith fills the enrolment screen and submits it.
func enrolWith(a *app.App, server, code, name string) {
	a.Enroll.Server.SetText(server)
	a.Enroll.Code.SetText(code)
	a.Enroll.Name.SetText(name)
	test.Tap(a.Enroll.Submit)
	a.Wait()
}

// TestEnrollErrors: each way enrolment can fail shows its message on the
// enrolment screen, and the device stays there; the right code then works.
func TestEnrollErrors(t *testing.T) {
	e := newEnv(t)
	d := e.newDevice("phone")
	a := e.open(d, phone)
	if a.Enroll == nil {
		t.Fatal("no enrolment screen on a new device")
	}

	// A closed port on 127.0.0.1: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	used := e.code(e.data.GroupCadre.ID)
	if _, _, err := e.reg.Enroll(used, e.newDevice("other").db.Device(), "另一台手机", demoNow); err != nil {
		t.Fatal(err)
	}
	expired, err := e.reg.CreateEnrolCode(e.data.GroupCadre.ID, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, server, code, device string
		want                       string
	}{
		{"no server", "", "ABCD-EFGH", "手机", "请输入服务器地址"},
		{"no code", e.url, "", "手机", "请输入注册码"},
		{"no name", e.url, "ABCD-EFGH", "", "请填写设备名称"},
		{"wrong code", e.url, "ABCD-EFGH", "手机", replica.ErrCodeUnknown.Zh},
		{"used code", e.url, used, "手机", replica.ErrCodeUsed.Zh},
		{"expired code", e.url, expired, "手机", replica.ErrCodeExpired.Zh},
		{"unreachable server", closed, "ABCD-EFGH", "手机", "无法连接服务器"},
	} {
		enrolWith(a, tc.server, tc.code, tc.device)
		if a.Enroll == nil {
			t.Fatalf("%s: the device enrolled", tc.name)
		}
		if got := labelText(t, a.Enroll.Error); !strings.Contains(got, tc.want) {
			t.Errorf("%s: message %q, want %q", tc.name, got, tc.want)
		}
	}

	enrolWith(a, e.url, e.code(e.data.GroupCadre.ID), "马兴文的手机")
	if a.Enroll != nil {
		t.Fatalf("the right code did not enrol: %s", a.Enroll.Error.Text)
	}
	if a.Households == nil || len(a.Households.Rows()) == 0 {
		t.Fatal("no households after enrolment")
	}
}

// TestRevokedDevice: a device revoked on the server as replaced makes its
// last push — the visit written offline reaches the server — says so on the
// sync bar and offers to enrol again; its old ID cannot enrol again.
func TestRevokedDevice(t *testing.T) {
	e := newEnv(t)
	a, d := e.enrolled("phone", e.data.GroupCadre.ID, phone)
	rows, err := query.MyHouseholds(d.db, e.data.GroupCadre.ID, demoNow)
	if err != nil || len(rows) == 0 {
		t.Fatalf("households: %d %v", len(rows), err)
	}
	visit := &domain.Visit{Household: rows[0].ID, Cadre: e.data.GroupCadre.ID, At: demoNow.Add(-time.Hour),
		Type: domain.VisitRoutine, Notes: "换手机前的走访"}
	if err := d.db.Put(e.data.GroupCadre.ID, visit); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Revoke(d.db.Device(), replica.Replaced, demoNow); err != nil {
		t.Fatal(err)
	}
	test.Tap(a.Bar.Sync)
	a.Wait()
	if got := labelText(t, a.Bar.Error); got != client.ErrReplaced.Zh {
		t.Errorf("replaced: sync bar says %q, want %q", got, client.ErrReplaced.Zh)
	}
	if _, err := e.db.Get(domain.KindVisit, visit.ID); err != nil {
		t.Errorf("the last push did not bring the visit: %v", err)
	}
	test.Tap(a.Bar.Sync)
	a.Wait()
	if got := labelText(t, a.Bar.Error); got != replica.ErrRevoked.Zh {
		t.Errorf("after the last push: sync bar says %q, want %q", got, replica.ErrRevoked.Zh)
	}
	if !a.Bar.ReEnroll.Visible() {
		t.Fatal("no way to enrol again after revocation")
	}
	test.Tap(a.Bar.ReEnroll)
	a.Wait()
	if a.Enroll == nil {
		t.Fatal("enrol again does not open the enrolment screen")
	}
	if a.Enroll.Server.Text != e.url {
		t.Errorf("the server address is not kept: %q", a.Enroll.Server.Text)
	}
	enrolWith(a, e.url, e.code(e.data.GroupCadre.ID), "phone")
	if a.Enroll == nil || !strings.Contains(a.Enroll.Error.Text, replica.ErrDeviceTaken.Zh) {
		t.Fatalf("a revoked device ID enrolled again (message %q)", a.Enroll.Error.Text)
	}
}

// TestLostDeviceWipes: a device revoked on the server as lost, at its next
// sync, deletes its store, opens an empty one with a new device ID, and
// returns to the enrolment screen with a message; a new code enrols it
// afresh.
func TestLostDeviceWipes(t *testing.T) {
	e := newEnv(t)
	d := e.newDevice("phone")
	path := d.db.Path()
	var fresh *store.DB
	opt := app.Options{NoPIN: true, Manual: true, DeferUI: true, Now: func() time.Time { return demoNow },
		Wipe: func() (*store.DB, app.Syncer, error) {
			if err := d.db.Close(); err != nil {
				return nil, nil, err
			}
			if err := os.Remove(path); err != nil {
				return nil, nil, err
			}
			db, err := store.Open(path, &store.Options{Now: func() time.Time { return demoNow }, NoSync: true})
			if err != nil {
				return nil, nil, err
			}
			t.Cleanup(func() { db.Close() })
			fresh = db
			nd := e.deviceOn(db)
			return db, nd.client, nil
		}}
	a := e.openWith(d, phone, opt)
	enrolWith(a, e.url, e.code(e.data.GroupCadre.ID), "马兴文的手机")
	if a.Enroll != nil || a.Households == nil || len(a.Households.Rows()) == 0 {
		t.Fatal("enrolment failed")
	}
	old := d.db.Device()
	if err := e.reg.Revoke(old, replica.Lost, demoNow); err != nil {
		t.Fatal(err)
	}
	test.Tap(a.Bar.Sync)
	a.Wait()
	if a.Enroll == nil {
		t.Fatal("a lost device did not return to the enrolment screen")
	}
	if got := labelText(t, a.Enroll.Error); !strings.Contains(got, "本机保存的全部数据已清除") {
		t.Errorf("the enrolment screen says %q", got)
	}
	if fresh == nil || fresh.Device() == old {
		t.Fatal("the store was not replaced by an empty one with a new ID")
	}
	if n, err := fresh.LastSeq(); err != nil || n != 0 {
		t.Errorf("the new store holds %d log entries (%v)", n, err)
	}
	if a.Households != nil || a.Bar != nil {
		t.Error("the old screens are still referenced")
	}
	enrolWith(a, e.url, e.code(e.data.GroupCadre.ID), "马兴文的手机")
	if a.Enroll != nil {
		t.Fatalf("enrolling afresh failed: %s", a.Enroll.Error.Text)
	}
	if a.Households == nil || len(a.Households.Rows()) == 0 {
		t.Fatal("no households after enrolling afresh")
	}
}

// TestRosterArrivesLater: when the first sync after enrolment fails, the app
// says the roster has not arrived, and shows the households as soon as a sync
// brings it.
func TestRosterArrivesLater(t *testing.T) {
	e := newEnv(t)
	d := e.newDevice("phone")
	a := e.open(d, phone)
	e.noSync.Store(true)
	enrolWith(a, e.url, e.code(e.data.GroupCadre.ID), "phone")
	if a.Enroll != nil {
		t.Fatalf("enrolment failed: %s", a.Enroll.Error.Text)
	}
	if a.Waiting == nil || !strings.Contains(a.Waiting.Text, "还没有从服务器取得您的名册") {
		t.Fatalf("without a roster the app does not say so")
	}
	// Offline is a calm state on the bar's one line, not a red error.
	if got := labelText(t, a.Bar.Reachable); got != "● 离线" || a.Bar.Error.Visible() {
		t.Errorf("the sync bar says %q, error %v %q", got, a.Bar.Error.Visible(), a.Bar.Error.Text)
	}
	e.noSync.Store(false)
	test.Tap(a.Bar.Sync)
	a.Wait()
	if a.Households == nil || len(a.Households.Rows()) == 0 {
		t.Fatal("the households do not appear after the roster arrives")
	}
	if a.Waiting != nil {
		t.Error("the waiting message is still set")
	}
}
