package app_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/google/uuid"

	"bangfu/app"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
)

// Window sizes of the two layouts.
var (
	phone  = fyne.NewSize(400, 800)
	tablet = fyne.NewSize(1280, 800)
)

// env is a real sync server on 127.0.0.1 with the demo village in its store.
type env struct {
	t    *testing.T
	db   *store.DB            // the server's replica
	reg  *server.BoltRegistry // the server's device registry, in db
	url  string
	data *demo.Data
	fa   fyne.App
	down atomic.Bool // the network is down: connections drop
	// noSync drops the connections of syncs only.
	noSync atomic.Bool
	// pick stands in for the file dialog when a photo is added (photo_test.go).
	pick app.PickPhoto
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newEnv starts a server with the demo village, and a Fyne test app with the
// app's theme, in Chinese.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, village())
}

// newEnvWith starts a server with the records of d.
func newEnvWith(t *testing.T, d *demo.Data) *env {
	t.Helper()
	for _, v := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(v, "")
	}
	db := openStore(t, "server.db")
	if err := db.Put(d.TeamLeader.ID, d.Records()...); err != nil {
		t.Fatalf("load demo: %v", err)
	}
	// The server runs a second ahead of the stores, so that a code issued for a
	// nanosecond has expired when it is used.
	// It keeps the data keys phones deposit (a forgotten PIN).
	// It keeps photos' bytes on disk.
	photos, err := server.OpenDisk(filepath.Join(t.TempDir(), "photos"))
	if err != nil {
		t.Fatal(err)
	}
	st := server.NewBolt(db)
	h := server.New(st, server.Options{Now: func() time.Time { return demoNow.Add(time.Second) }, Logger: quiet,
		EscrowKey: make([]byte, server.EscrowKeySize), Photos: photos})
	e := &env{t: t, db: db, reg: st.BoltRegistry, data: d}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.down.Load() || e.noSync.Load() && r.URL.Path == "/v1/sync" {
			panic(http.ErrAbortHandler) // the connection drops, as on a lost signal
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	fa := test.NewTempApp(t)
	fa.Settings().SetTheme(app.NewTheme())
	e.fa = fa
	return e
}

// code issues a one-time enrolment code for cadre.
func (e *env) code(cadre uuid.UUID) string {
	e.t.Helper()
	c, err := e.reg.CreateEnrolCode(cadre, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// device is a phone or tablet: its own store and sync client.
type device struct {
	db     *store.DB
	client *client.Client
}

// newDevice opens an empty store for a device and its sync client.
func (e *env) newDevice(name string) *device {
	e.t.Helper()
	db := openStore(e.t, name+".db")
	return e.deviceOn(db)
}

// deviceOn returns a device on an existing store.
func (e *env) deviceOn(db *store.DB) *device {
	e.t.Helper()
	cl, err := client.New(db, client.Options{Interval: -1, Logger: quiet, Now: func() time.Time { return demoNow }})
	if err != nil {
		e.t.Fatal(err)
	}
	return &device{db: db, client: cl}
}

// open opens the app for a device in a window of the given size, and waits
// for its first screen.
func (e *env) open(d *device, size fyne.Size) *app.App {
	e.t.Helper()
	return e.openWith(d, size, app.Options{NoPIN: true, Manual: true, DeferUI: true, Now: func() time.Time { return demoNow }, PickPhoto: e.pick})
}

// openWith opens the app for a device with the given options.
func (e *env) openWith(d *device, size fyne.Size, opt app.Options) *app.App {
	e.t.Helper()
	a := app.New(e.fa, d.db, d.client, opt)
	a.Window.Resize(size)
	a.Show()
	a.Wait()
	e.t.Cleanup(func() {
		for _, w := range e.fa.Driver().AllWindows() {
			if w == a.Window {
				w.Close()
			}
		}
		a.Wait()
	})
	return a
}

// enrolled opens the app on a new device enrolled for cadre, synced, in a
// window of the given size.
func (e *env) enrolled(name string, cadre uuid.UUID, size fyne.Size) (*app.App, *device) {
	e.t.Helper()
	d := e.newDevice(name)
	a := e.open(d, size)
	if a.Enroll == nil {
		e.t.Fatal("a new device does not show the enrolment screen")
	}
	a.Enroll.Server.SetText("")
	test.Type(a.Enroll.Server, e.url)
	test.Type(a.Enroll.Code, e.code(cadre))
	a.Enroll.Name.SetText("")
	test.Type(a.Enroll.Name, name)
	test.Tap(a.Enroll.Submit)
	a.Wait()
	if a.Enroll != nil {
		e.t.Fatalf("enrolment failed: %s", a.Enroll.Error.Text)
	}
	return a, d
}
