package client_test

import (
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
	g1 := w.Group(w.G1)
	var recs []domain.Record
	at := time.Now().Add(-48 * time.Hour)
	for i := range 2500 {
		recs = append(recs, &domain.Visit{Household: g1[i%len(g1)].ID, Cadre: w.Cadre1.ID, At: at.Add(time.Duration(i) * time.Second),
			Type: domain.VisitRoutine, Notes: fmt.Sprintf("第 %d 次走访：核实两不愁三保障", i)})
	}
	if err := srv.DB.Put(w.Cadre1.ID, recs...); err != nil {
		t.Fatal(err)
	}
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
	ids := map[uuid.UUID]bool{}
	err = phone.DB.Log(0, func(e store.Entry) (bool, error) {
		if ids[e.Change.ID] {
			t.Errorf("change %s logged twice", e.Change.ID)
		}
		ids[e.Change.ID] = true
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d visits from half an answer, %d after the page was pulled again; %d log entries", before, after, len(ids))
}
