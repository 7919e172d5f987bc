package server_test

import (
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"bangfu/sync/server"
)

// TestNoOpSyncWritesNothing checks that a device syncing with nothing to
// send costs the server no write: its store's file is left as it was, until
// the recorded last sync is TouchEvery old and is written again.
func TestNoOpSyncWritesNothing(t *testing.T) {
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	advance := func(d time.Duration) {
		mu.Lock()
		clock = clock.Add(d)
		mu.Unlock()
	}
	e := newEnv(t, server.Options{Now: now, TouchEvery: 10 * time.Minute}, nil)
	_, token := e.enroll(t, e.w.Cadre1.ID)
	status, resp, _ := e.sync(t, token, 0)
	if status != http.StatusOK {
		t.Fatalf("first sync: %d", status)
	}
	// Pull everything, so that the syncs below are no-ops.
	for resp.More {
		if status, resp, _ = e.sync(t, token, 0); status != http.StatusOK {
			t.Fatalf("sync: %d", status)
		}
	}
	file := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(e.srv.Path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	same := func(a, b os.FileInfo) bool { return a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size() }

	before := file()
	time.Sleep(20 * time.Millisecond) // past the file system's clock granularity
	for range 5 {
		advance(time.Minute)
		if status, _, _ := e.sync(t, token, 0); status != http.StatusOK {
			t.Fatalf("no-op sync: %d", status)
		}
	}
	if after := file(); !same(before, after) {
		t.Errorf("no-op syncs wrote to the store: %v %d bytes, then %v %d bytes",
			before.ModTime(), before.Size(), after.ModTime(), after.Size())
	}
	devs, err := e.srv.Reg.Devices()
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices: %v %v", devs, err)
	}
	recorded := devs[0].LastSync

	// Once the recorded sync is TouchEvery old, a sync records it again: the
	// check above would see that write.
	advance(6 * time.Minute)
	if status, _, _ := e.sync(t, token, 0); status != http.StatusOK {
		t.Fatalf("sync: %d", status)
	}
	if after := file(); same(before, after) {
		t.Error("a sync after TouchEvery did not record the last sync")
	}
	if devs, err = e.srv.Reg.Devices(); err != nil || !devs[0].LastSync.After(recorded) || !devs[0].LastSync.Equal(now()) {
		t.Errorf("last sync %v, recorded before %v, now %v (%v)", devs[0].LastSync, recorded, now(), err)
	}
}
