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
	db, err := store.Open(filepath.Join(dir, "bangfu.db"), nil)
	if err != nil {
		app.Failed(fa, err)
		return
	}
	defer db.Close()
	cl, err := client.New(db, client.Options{})
	if err != nil {
		app.Failed(fa, err)
		return
	}
	app.New(fa, db, cl, app.Options{Server: *server}).Run()
}
