package client_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// answers is a transport that keeps the answers to syncs, decoded.
type answers struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []protocol.SyncResponse
}

func (a *answers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(r)
	if err != nil || r.URL.Path != protocol.PathSync || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	js := body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if js, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	var sr protocol.SyncResponse
	if err := json.Unmarshal(js, &sr); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.got = append(a.got, sr)
	a.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// take returns the answers kept since the last take.
func (a *answers) take() []protocol.SyncResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.got
	a.got = nil
	return out
}

type recordKey struct {
	kind domain.Kind
	id   uuid.UUID
}

// readableRecords returns the records of db that cadre may read now.
func readableRecords(t *testing.T, db *store.DB, cadre uuid.UUID) map[recordKey]bool {
	t.Helper()
	readable, err := server.Readable(db, cadre)
	if err != nil {
		t.Fatal(err)
	}
	out := map[recordKey]bool{}
	_, err = db.State(store.StatePos{}, readable, func(_ store.StatePos, chs []domain.Change) (bool, error) {
		out[recordKey{chs[0].Kind, chs[0].Record}] = true
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCatchUpSendsWhatEntered: when a cadre is given a second group, the
// next sync sends the current state of exactly the records that came into
// the phone's scope — not again those it holds, unless edited since — without
// a reset, and the phone then holds exactly its scope. Taking the group away
// names exactly the records that left, which the phone removes; giving it
// back once more sends only the group again.
func TestCatchUpSendsWhatEntered(t *testing.T) {
	srv, w := setup(t)
	tr := &answers{next: http.DefaultTransport}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	tr.take()

	// edited returns the records the server's log changed after seq: what
	// a sync sends anyway.
	edited := func(seq uint64) map[recordKey]bool {
		out := map[recordKey]bool{}
		if err := srv.DB.Log(seq, func(e store.Entry) (bool, error) {
			out[recordKey{e.Change.Kind, e.Change.Record}] = true
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	grow := func(when string) {
		t.Helper()
		before := readableRecords(t, srv.DB, w.Cadre1.ID)
		seq, err := srv.DB.LastSeq()
		if err != nil {
			t.Fatal(err)
		}
		reassign(t, srv, w.Admin, w.Cadre2.ID, w.Cadre1.ID, w.G2.ID)
		after := readableRecords(t, srv.DB, w.Cadre1.ID)
		changed := edited(seq)
		if err := phone.Sync(); err != nil {
			t.Fatal(err)
		}
		sent := map[recordKey]bool{}
		for _, a := range tr.take() {
			if a.Reset {
				t.Errorf("%s: the catch-up began with a reset", when)
			}
			for _, c := range a.State {
				id, _ := uuid.Parse(c.Record)
				sent[recordKey{c.Kind, id}] = true
			}
		}
		entered := 0
		for k := range after {
			switch {
			case !before[k] && !sent[k]:
				t.Errorf("%s: %s %s came into scope and was not sent", when, k.kind, k.id)
			case !before[k]:
				entered++
			}
		}
		for k := range sent {
			if before[k] && !changed[k] {
				t.Errorf("%s: %s %s sent again although the phone held it", when, k.kind, k.id)
			}
		}
		if entered == 0 {
			t.Fatalf("%s: nothing came into scope", when)
		}
		inScope(t, when, srv, phone)
		t.Logf("%s: %d records sent, %d came into scope, %d in scope", when, len(sent), entered, len(after))
	}
	grow("二社 given")

	// 二社 taken away: the records that left are named, and leave.
	before := readableRecords(t, srv.DB, w.Cadre1.ID)
	seq, err := srv.DB.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	reassign(t, srv, w.Admin, w.Cadre1.ID, w.Cadre2.ID, w.G2.ID)
	after, changed := readableRecords(t, srv.DB, w.Cadre1.ID), edited(seq)
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	named := map[recordKey]bool{}
	for _, a := range tr.take() {
		if a.Reset {
			t.Error("二社 taken away: a reset")
		}
		for _, c := range a.State {
			id, _ := uuid.Parse(c.Record)
			if k := (recordKey{c.Kind, id}); !changed[k] && (before[k] || !after[k]) {
				t.Errorf("二社 taken away: %s %s sent, neither edited nor come into scope", k.kind, k.id)
			}
		}
		for _, l := range a.Left {
			id, _ := uuid.Parse(l.Record)
			named[recordKey{l.Kind, id}] = true
		}
	}
	for k := range before {
		if !after[k] && !named[k] {
			t.Errorf("二社 taken away: %s %s left the scope and was not named", k.kind, k.id)
		}
	}
	for k := range named {
		if after[k] {
			t.Errorf("二社 taken away: %s %s named as left but in scope", k.kind, k.id)
		}
	}
	if n := inScope(t, "二社 taken away", srv, phone); n != len(after) {
		t.Errorf("二社 taken away: the phone holds %d records, want %d", n, len(after))
	}
	t.Logf("二社 taken away: %d records named as left", len(named))

	grow("二社 given again")
}
