// Command bangfu is 帮扶走访 (Bangfu Visits), the app for assistance cadres'
// household visits: a group cadre's phone and a team leader's tablet.
//
// It opens the device's store in the app's storage (or in the directory given
// with -data), builds the sync client on it, and hands both to package app,
// which does the rest.
//
//	bangfu [-data DIR] [-server URL]
package main

import (
	"flag"
	"os"
	"path/filepath"

	fyneapp "fyne.io/fyne/v2/app"

	"bangfu/app"
	"bangfu/store"
	"bangfu/sync/client"
)

// appID is the ID in FyneApp.toml.
const appID = "cn.gov.linxia.bangfu"

func main() {
	data := flag.String("data", "", "directory of the device's store (default: the app's storage)")
	server := flag.String("server", "", "server address to offer on the enrolment screen")
	flag.Parse()

	fa := fyneapp.NewWithID(appID)
	fa.Settings().SetTheme(app.NewTheme())
	dir := *data
	if dir == "" {
		dir = fa.Storage().RootURI().Path()
	}
	path := filepath.Join(dir, "bangfu.db")
	db, err := store.Open(path, nil)
	if err != nil {
		app.Failed(fa, err)
		return
	}
	defer func() { db.Close() }()
	cl, err := client.New(db, client.Options{})
	if err != nil {
		app.Failed(fa, err)
		return
	}
	// A device reported lost wipes its store: closed, deleted, and an
	// empty one (with a new device ID) in its place.
	wipe := func() (*store.DB, app.Syncer, error) {
		if err := db.Close(); err != nil {
			return nil, nil, err
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return nil, nil, err
		}
		fresh, err := store.Open(path, nil)
		if err != nil {
			return nil, nil, err
		}
		c, err := client.New(fresh, client.Options{})
		if err != nil {
			fresh.Close()
			return nil, nil, err
		}
		db = fresh
		return fresh, c, nil
	}
	app.New(fa, db, cl, app.Options{Server: *server, Wipe: wipe}).Run()
}
