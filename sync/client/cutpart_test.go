package client_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// cutAfter cuts the body of the next sync answer after n percent of its
// bytes, once armed: a link that drops in the middle of a long answer.
type cutAfter struct {
	n    atomic.Int64 // 0: disarmed
	next http.RoundTripper
}

func (c *cutAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	n := c.n.Load()
	if err != nil || n == 0 || !strings.HasSuffix(r.URL.Path, protocol.PathSync) || !c.n.CompareAndSwap(n, 0) {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cut := len(b) * int(n) / 100
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b[:cut]), errReader{}))
	return resp, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

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
	// 石头村一社 with a long history: 1,500 members on its households, more
	// than a part holds.
	var recs []domain.Record
	for i := range 1500 {
		h := w.Group(w.G3)[i%len(w.Group(w.G3))]
		recs = append(recs, &domain.Member{Household: h.ID, Name: fmt.Sprintf("成员%d", i), Relation: "子", Gender: "男", BirthYear: 1990 + i%30})
	}
	if err := srv.DB.Put(w.Admin, recs...); err != nil {
		t.Fatal(err)
	}
	tr := &cutAfter{next: http.DefaultTransport}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	before := inScope(t, "first sync", srv, phone)

	given := &domain.Assignment{Cadre: w.Cadre1.ID, Role: domain.GroupCadre, Target: w.G3.ID, Since: time.Now().Truncate(24 * time.Hour)}
	if err := srv.DB.Put(w.Admin, given); err != nil {
		t.Fatal(err)
	}
	tr.n.Store(90)
	if err := phone.Sync(); err == nil {
		t.Fatal("the sync whose answer was cut succeeded")
	} else {
		t.Logf("cut: %v", err)
	}
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
