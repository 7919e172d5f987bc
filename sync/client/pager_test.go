package client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/synctest"
)

// cutter is a transport that cuts the answers to syncs short after half
// their bytes while cut is set.
type cutter struct {
	next http.RoundTripper
	cut  atomic.Bool
}

func (c *cutter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || r.URL.Path != protocol.PathSync || !c.cut.Load() || resp.ContentLength <= 0 {
		return resp, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, resp.ContentLength/2), resp.Body}
	return resp, nil
}

// TestPageInParts: a first sync of more changes than a part holds is applied
// in parts as the answer arrives. An answer cut short after some parts
// leaves their changes applied but the cursors where they were, so the next
// sync pulls the page again: it skips what is applied, and the device ends
// with exactly the server's records, each change logged once.
func TestPageInParts(t *testing.T) {
	srv, w := setup(t)
	putVisits(t, srv, w, 2500, "第 %d 次走访：核实两不愁三保障")
	tr := &cutter{next: http.DefaultTransport}
	tr.cut.Store(true)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("sync of an answer cut short: %v, want EUNAVAILABLE", err)
	}
	if pull, _ := phone.DB.Cursor("sync.pull"); pull != "" {
		t.Errorf("pull cursor %q stored after an answer cut short", pull)
	}
	before, err := phone.DB.Count(domain.KindVisit)
	if err != nil {
		t.Fatal(err)
	}
	if before == 0 || before >= 2500 {
		t.Errorf("%d visits applied from half an answer, want at least a part and not all", before)
	}

	tr.cut.Store(false)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "after the page was pulled again", srv, phone)
	after, err := phone.DB.Count(domain.KindVisit)
	if err != nil {
		t.Fatal(err)
	}
	if after < 2500 {
		t.Errorf("%d visits after the second sync, want all 2500 and the world's", after)
	}
	n := loggedOnce(t, phone.DB)
	t.Logf("%d visits from half an answer, %d after the page was pulled again; %d log entries", before, after, n)
}

// putVisits puts n visits of the cadre of 一社 to its households on the
// server, their notes made by format from their number.
func putVisits(t *testing.T, srv *synctest.Server, w *synctest.World, n int, format string) {
	t.Helper()
	g1 := w.Group(w.G1)
	recs := make([]domain.Record, 0, n)
	at := time.Now().Add(-48 * time.Hour)
	for i := range n {
		recs = append(recs, &domain.Visit{Household: g1[i%len(g1)].ID, Cadre: w.Cadre1.ID, At: at.Add(time.Duration(i) * time.Second),
			Type: domain.VisitRoutine, Notes: fmt.Sprintf(format, i)})
	}
	if err := srv.DB.Put(w.Cadre1.ID, recs...); err != nil {
		t.Fatal(err)
	}
}

// loggedOnce fails t for each change db's log holds twice, and returns how
// many entries it holds.
func loggedOnce(t *testing.T, db *store.DB) int {
	t.Helper()
	ids := map[uuid.UUID]bool{}
	err := db.Log(0, func(e store.Entry) (bool, error) {
		if ids[e.Change.ID] {
			t.Errorf("change %s logged twice", e.Change.ID)
		}
		ids[e.Change.ID] = true
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

// locker is a transport that locks a sealed store once half the bytes of
// an answer to a sync have been read, and unlocks it when the answer is
// read to its end, while armed.
type locker struct {
	next  http.RoundTripper
	db    *store.DB
	pin   string
	armed atomic.Bool
}

func (l *locker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err != nil || r.URL.Path != protocol.PathSync || !l.armed.Load() || resp.ContentLength <= 0 {
		return resp, err
	}
	resp.Body = &lockingBody{ReadCloser: resp.Body, db: l.db, pin: l.pin, at: resp.ContentLength / 2}
	return resp, nil
}

type lockingBody struct {
	io.ReadCloser
	db   *store.DB
	pin  string
	at   int64
	read int64
}

func (b *lockingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.read < b.at && b.read+int64(n) >= b.at {
		b.db.Lock()
	}
	b.read += int64(n)
	if err == io.EOF && b.db.Locked() {
		if uerr := b.db.Unlock(b.pin, time.Now()); uerr != nil {
			return n, uerr
		}
	}
	return n, err
}

// TestPartMergeFails: the parts of a page are merged while the next is read
// (pager's applier). A part that cannot be merged — here the store is
// locked halfway through the answer — stops the sync with the merge's
// error, even if the store could take the page's last part (the answer,
// read to its end, unlocks it): the cursors stay where they were, the
// parts merged before stay,
// and the next sync pulls the page again and ends with exactly the
// server's records, each change logged once. An error lost between the two
// goroutines would let the cursor pass changes never merged.
func TestPartMergeFails(t *testing.T) {
	srv, w := setup(t)
	putVisits(t, srv, w, 4000, "第 %d 次走访：核实饮水安全和住房情况")
	tr := &locker{next: http.DefaultTransport}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	const pin = "402719"
	if err := phone.DB.Seal(pin); err != nil {
		t.Fatal(err)
	}
	tr.db, tr.pin = phone.DB, pin
	tr.armed.Store(true)
	err := phone.Sync()
	if !errors.Is(err, store.ErrNeedPIN) {
		t.Fatalf("sync while the store was locked halfway: %v, want ErrNeedPIN", err)
	}
	tr.armed.Store(false)
	if phone.DB.Locked() {
		if err := phone.DB.Unlock(pin, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if pull, _ := phone.DB.Cursor("sync.pull"); pull != "" {
		t.Errorf("pull cursor %q stored after a part failed to merge", pull)
	}
	before, err := phone.DB.Count(domain.KindVisit)
	if err != nil {
		t.Fatal(err)
	}
	if before >= 4000 {
		t.Errorf("%d visits merged although the store was locked halfway", before)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	inScope(t, "after the page was pulled again", srv, phone)
	after, err := phone.DB.Count(domain.KindVisit)
	if err != nil {
		t.Fatal(err)
	}
	if after < 4000 {
		t.Errorf("%d visits after the second sync, want all 4000 and the world's", after)
	}
	loggedOnce(t, phone.DB)
	t.Logf("%d visits merged before the lock, %d after the page was pulled again", before, after)
}
