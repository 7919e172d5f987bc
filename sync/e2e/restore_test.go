package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestRestoreLosesNothing: two phones and a tablet write visits and sync
// against a real server in a loop; a backup of the running server is taken
// in the middle, and they go on writing and syncing. The server is then
// stopped and restored from the backup (store.NewEpoch, as bangfud restore
// does), so it has lost everything synced after the backup. One phone syncs
// and writes first, so the restored log grows past where the others'
// cursors pointed. After every device syncs again, every visit any device
// wrote is on the server exactly once, every device holds exactly what it
// should, and no edit is lost.
func TestRestoreLosesNothing(t *testing.T) {
	dir := t.TempDir()
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	phone1 := synctest.NewDevice(t, dir, "phone1", srv, w.Cadre1.ID, client.Options{}, nil)
	phone2 := synctest.NewDevice(t, dir, "phone2", srv, w.Cadre2.ID, client.Options{}, nil)
	tablet := synctest.NewDevice(t, dir, "tablet", srv, w.Leader.ID, client.Options{}, nil)
	devs := []*synctest.Device{phone1, phone2, tablet}
	homes := map[*synctest.Device][]*domain.Household{
		phone1: w.Group(w.G1), phone2: w.Group(w.G2), tablet: append(w.Group(w.G1), w.Group(w.G2)...),
	}
	for _, d := range devs {
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	var mu gosync.Mutex
	visits := map[uuid.UUID]string{}
	visit := func(d *synctest.Device, i int) error {
		hs := homes[d]
		notes := fmt.Sprintf("%s 第%d次走访", d.Name, i)
		v := &domain.Visit{Household: hs[i%len(hs)].ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Minute),
			Type: domain.VisitRoutine, Notes: notes}
		if err := d.DB.Put(d.Cadre, v); err != nil {
			return err
		}
		mu.Lock()
		visits[v.ID] = notes
		mu.Unlock()
		return nil
	}

	// Load: each device writes and syncs; the backup is taken while they do.
	const rounds = 24
	halfway := make(chan struct{}, len(devs))
	var wg gosync.WaitGroup
	for _, d := range devs {
		wg.Add(1)
		go func(d *synctest.Device) {
			defer wg.Done()
			for i := range rounds {
				if err := visit(d, i); err != nil {
					t.Error(err)
					return
				}
				if err := d.Sync(); err != nil {
					t.Errorf("%s: %v", d.Name, err)
					return
				}
				if i == rounds/2 {
					halfway <- struct{}{}
				}
			}
		}(d)
	}
	for range devs {
		<-halfway
	}
	var backup bytes.Buffer
	if _, err := srv.DB.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	lastBefore, _ := srv.DB.LastSeq()

	// Restore: stop, put the backup in place, give it a new epoch, start.
	srv.Stop()
	if err := os.WriteFile(srv.Path, backup.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(srv.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewEpoch(); err != nil {
		t.Fatal(err)
	}
	restored, _ := db.LastSeq()
	db.Close()
	srv.Restart(t)
	if restored >= lastBefore {
		t.Fatalf("the backup (log up to %d) holds everything (%d): the load did not run past it", restored, lastBefore)
	}
	t.Logf("server log: %d entries at the backup's end of load, %d in the backup", lastBefore, restored)

	// phone1 first, with more work, so the restored log grows past the
	// cursors the others hold.
	for i := rounds; i < rounds+8; i++ {
		if err := visit(phone1, i); err != nil {
			t.Fatal(err)
		}
	}
	for _, order := range [][]*synctest.Device{{phone1, phone2, tablet}, {tablet, phone2, phone1}, {phone1, tablet, phone2}} {
		for _, d := range order {
			if err := d.Sync(); err != nil {
				t.Fatalf("%s after the restore: %v", d.Name, err)
			}
		}
	}
	dbs := map[string]*store.DB{"phone1": phone1.DB, "phone2": phone2.DB, "tablet": tablet.DB}
	scopes := map[string]sees{
		"phone1": seesOf(w, append(w.Group(w.G1), w.Paired), w.Village),
		"phone2": seesOf(w, w.Group(w.G2), w.Village),
		"tablet": seesOf(w, append(w.Group(w.G1), w.Group(w.G2)...), w.Village),
	}
	c := converged(t, srv.DB, dbs, scopes, nil, visits)
	t.Logf("after the restore: %s", c)
	for _, d := range devs {
		if st := d.Client.Status(); st.Pending != 0 || st.Err != nil || len(st.Rejected) != 0 {
			t.Errorf("%s: status %+v", d.Name, st)
		}
	}
}
