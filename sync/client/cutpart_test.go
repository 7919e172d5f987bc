package client_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// TestCutCatchUpThenBack: a catch-up page long enough to be merged in
// parts (a group whose households have a long history comes into a
// cadre's scope) is cut after its first part was merged, before the cursor
// that would have said so. The office then takes the group back (it was
// given by mistake) before the phone syncs again: the scope's fingerprint
// is the one the phone's cursor names, yet the phone holds part of the
// group. The next sync must leave it with exactly its scope.
func TestCutCatchUpThenBack(t *testing.T) {
	srv := synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), server.Options{PageBytes: 8 << 20}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// 石头村一社 with a long history: 2,500 members on its households, so
	// that half the answer holds more than a part.
	var recs []domain.Record
	for i := range 2500 {
		h := w.Group(w.G3)[i%len(w.Group(w.G3))]
		recs = append(recs, &domain.Member{Household: h.ID, Name: fmt.Sprintf("成员%d", i), Relation: "子", Gender: "男", BirthYear: 1990 + i%30})
	}
	if err := srv.DB.Put(w.Admin, recs...); err != nil {
		t.Fatal(err)
	}
	tr := &cutter{next: http.DefaultTransport}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	before := inScope(t, "first sync", srv, phone)

	given := &domain.Assignment{Cadre: w.Cadre1.ID, Role: domain.GroupCadre, Target: w.G3.ID, Since: time.Now().Truncate(24 * time.Hour)}
	if err := srv.DB.Put(w.Admin, given); err != nil {
		t.Fatal(err)
	}
	tr.cut.Store(true)
	if err := phone.Sync(); err == nil {
		t.Fatal("the sync whose answer was cut succeeded")
	}
	tr.cut.Store(false)
	held := 0
	phone.DB.Each(domain.KindMember, func(r domain.Record) error {
		if r.(*domain.Member).Household == w.Group(w.G3)[0].ID {
			held++
		}
		return nil
	})
	if held == 0 {
		t.Fatal("no part of the cut answer was merged: the test does not test what it says")
	}
	t.Logf("the cut answer left %d members of 石头村一社 on the phone", held)

	given.Deleted = true // given by mistake
	if err := srv.DB.Put(w.Admin, given); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := phone.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if n := inScope(t, "after the group was taken back", srv, phone); n != before {
		t.Errorf("the phone compared %d records, %d before the group came", n, before)
	}
}
