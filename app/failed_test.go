package app_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"bangfu/app"
	"bangfu/store"
)

// TestFailedStart: a store another process holds makes the app say so in a
// window, in words, instead of exiting without a trace.
func TestFailedStart(t *testing.T) {
	for _, v := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(v, "")
	}
	path := filepath.Join(t.TempDir(), "bangfu.db")
	db, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = store.Open(path, &store.Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		t.Fatal("a second opener got the store")
	}
	fa := test.NewTempApp(t)
	app.Failed(fa, err)
	said := ""
	for _, w := range fa.Driver().AllWindows() {
		if w != nil && w.Content() != nil {
			said += screenText(w.Content())
		}
	}
	if !strings.Contains(said, store.ErrLocked.Zh) {
		t.Errorf("the app says %q, want %q", said, store.ErrLocked.Zh)
	}
}
