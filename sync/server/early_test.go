package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/store/query"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// lockedBuffer is a log sink written by the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestPushedBeforeItsBase: a phone corrects a household's number (A) and
// corrects it again (B, made on A), and B reaches the server first — as it
// does when A was set aside and pushed later, or came through a relay. The
// server merges B as always (B's number wins, as it would in order) and
// reports it: the store's Options.Early once, and the server's log one
// warning naming the change, the device, the stamps and the conflict the
// merge made for the number A replaced; Server.Early counts it. A, pushed
// next, is merged without a report (it is B that came early) and makes the
// second conflict MergeField describes. Pushes in causal order report
// nothing.
func TestPushedBeforeItsBase(t *testing.T) {
	var mu sync.Mutex
	var reported []replica.Early
	db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{Early: func(e replica.Early) {
		mu.Lock()
		reported = append(reported, e)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	w, err := synctest.BuildWorld(db, now)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	srv := server.New(db, server.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	e := &env{srv: &synctest.Server{URL: hs.URL, DB: db}, w: w, now: time.Now}
	dev, token := e.enroll(t, w.Cadre1.ID)

	h := w.Group(w.G1)[0]
	held, err := db.FieldStates(domain.KindHousehold, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	c0 := held["phone"]
	edit := func(phone string, at time.Time, base domain.Stamp) domain.Change {
		return domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: h.ID, Author: w.Cadre1.ID,
			Stamp: domain.Stamp{Wall: at.UnixMilli(), Device: dev}, Fields: domain.Fields{"phone": json.RawMessage(`"` + phone + `"`)},
			Base: map[string]domain.Stamp{"phone": base}}
	}
	a := edit("13800000011", now.Add(time.Second), c0.Stamp)
	b := edit("13800000012", now.Add(2*time.Second), a.Stamp)

	through := uint64(0)
	push := func(ch domain.Change) {
		t.Helper()
		through++
		if status, resp, bad := e.sync(t, token, through, ch); status != http.StatusOK || len(resp.Rejected) != 0 {
			t.Fatalf("push: %d %+v %+v", status, resp.Rejected, bad)
		}
	}
	push(b)
	want := replica.Early{From: dev, Change: b.ID, Device: dev, Kind: domain.KindHousehold, Record: h.ID, Field: "phone",
		Base: a.Stamp, Held: c0.Stamp, Conflict: domain.ConflictID(h.ID, "phone", c0.Stamp)}
	mu.Lock()
	got := append([]replica.Early(nil), reported...)
	mu.Unlock()
	if len(got) != 1 || got[0] != want {
		t.Errorf("the store reported %+v, want %+v", got, want)
	}
	if n := srv.Early(); n != 1 {
		t.Errorf("Server.Early = %d, want 1", n)
	}
	var warned []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "WARN" && strings.Contains(m["msg"].(string), "arrived before an edit it was based on") {
			warned = append(warned, m)
		}
	}
	if len(warned) != 1 || warned[0]["change"] != b.ID.String() || warned[0]["device"] != dev.String() ||
		warned[0]["field"] != "phone" || warned[0]["base"] != a.Stamp.String() || warned[0]["held"] != c0.Stamp.String() ||
		warned[0]["conflict"] != want.Conflict.String() {
		t.Errorf("the server logged %v, want one warning naming %+v", warned, want)
	}

	push(a)
	if n := srv.Early(); n != 1 {
		t.Errorf("after A, Server.Early = %d, want still 1", n)
	}
	rec, err := db.Get(domain.KindHousehold, h.ID)
	if err != nil || rec.(*domain.Household).Phone != "13800000012" {
		t.Fatalf("the household's phone %v (%v), want B's", rec, err)
	}
	rows, err := query.Conflicts(db, w.Village.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	lost := map[string]bool{}
	for _, r := range rows {
		lost[string(r.Conflict.Loser)] = r.Conflict.ID == want.Conflict
	}
	if _, ok := lost[`"13800000011"`]; len(rows) != 2 || !lost[string(c0.Value)] || !ok {
		t.Errorf("conflicts %+v, want the number A replaced (the one reported) and A's", lost)
	}

	// In causal order: nothing reported.
	c := edit("13800000013", now.Add(3*time.Second), b.Stamp)
	d := edit("13800000014", now.Add(4*time.Second), c.Stamp)
	push(c)
	push(d)
	if n := srv.Early(); n != 1 {
		t.Errorf("pushes in order counted early: Server.Early = %d, want 1", n)
	}
}
