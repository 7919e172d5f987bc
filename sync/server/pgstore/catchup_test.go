package pgstore_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

// answers is a transport that keeps the answers to syncs, decoded.
type answers struct {
	mu  sync.Mutex
	got []protocol.SyncResponse
}

func (a *answers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
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

// take returns what the answers kept since the last take carried: whether
// one reset the device, and the records' state, changes and the records
// named as left, as JSON.
func (a *answers) take(t *testing.T) (reset bool, sent []byte, households int) {
	t.Helper()
	a.mu.Lock()
	got := a.got
	a.got = nil
	a.mu.Unlock()
	var all struct {
		State, Changes []protocol.Change
		Left           []protocol.Ref
	}
	for _, r := range got {
		reset = reset || r.Reset
		all.State = append(all.State, r.State...)
		all.Changes = append(all.Changes, r.Changes...)
		all.Left = append(all.Left, r.Left...)
		for _, c := range r.State {
			if c.Kind == domain.KindHousehold {
				households++
			}
		}
	}
	b, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	return reset, b, households
}

// parity serves the same records from bbolt and from two PostgreSQL
// instances loaded from it, for devices that sync with each and compare
// the answers.
type parity struct {
	bb             *store.DB
	reps           []*pgstore.Replica
	bbURL, pgA, pg string // pg: instance B, every other request of a PostgreSQL device
	now            time.Time
}

// newParity puts recs into a bbolt store and loads it into PostgreSQL.
func newParity(t *testing.T, recs []domain.Record, now time.Time) *parity {
	t.Helper()
	needPG(t)
	p := &parity{now: now}
	var err error
	p.bb, err = store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.bb.Close() })
	for _, r := range recs {
		if err := p.bb.Put(r.Metadata().Author, r); err != nil {
			t.Fatal(err)
		}
	}
	url, err := pg.NewDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.Load(context.Background(), url, p.bb); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rep, err := pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rep.Close() })
		p.reps = append(p.reps, rep)
	}
	clock := func() time.Time { return p.now }
	serve := func(s server.Store) string {
		h := httptest.NewServer(server.New(s, server.Options{Logger: quiet, Now: clock}))
		t.Cleanup(h.Close)
		return h.URL
	}
	p.bbURL, p.pgA, p.pg = serve(server.NewBolt(p.bb)), serve(p.reps[0]), serve(p.reps[1])
	return p
}

// devices enrols a device of cadre on each storage; on PostgreSQL it
// changes instance at each sync, through a transport that sends every
// other request to B.
func (p *parity) devices(t *testing.T, cadre uuid.UUID) *pair {
	t.Helper()
	device := func(url string, codes func(uuid.UUID, time.Duration) (string, error), tr func(*answers) http.RoundTripper) (*client.Client, *store.DB, *answers) {
		db, err := store.Open(filepath.Join(t.TempDir(), "device.db"), &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		a := &answers{}
		c, err := client.New(db, client.Options{Logger: quiet, Interval: -1, HTTP: &http.Client{Transport: tr(a)}})
		if err != nil {
			t.Fatal(err)
		}
		code, err := codes(cadre, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Enroll(context.Background(), url, code, "device"); err != nil {
			t.Fatal(err)
		}
		return c, db, a
	}
	var d pair
	d.bb, d.bbDB, d.bbAnswers = device(p.bbURL, server.NewBoltRegistry(p.bb).CreateEnrolCode, func(a *answers) http.RoundTripper { return a })
	d.pg, d.pgDB, d.pgAnswers = device(p.pgA, p.reps[0].CreateEnrolCode, func(a *answers) http.RoundTripper {
		return &alternate{next: a, to: p.pg}
	})
	return &d
}

// put writes recs on bbolt as author and pushes the entries they logged,
// as they stand in bbolt's log, to PostgreSQL: both logs stay the same.
func (p *parity) put(t *testing.T, author uuid.UUID, recs ...domain.Record) {
	t.Helper()
	seq, err := p.bb.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.bb.Put(author, recs...); err != nil {
		t.Fatal(err)
	}
	var chs []domain.Change
	if err := p.bb.Log(seq, func(e store.Entry) (bool, error) {
		chs = append(chs, e.Change)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	rejected, err := p.reps[1].ApplyGuarded(p.bb.Device(), chs, nil)
	if err != nil || len(rejected) > 0 && rejected[0] != nil {
		t.Fatalf("push to PostgreSQL: %v %v", rejected, err)
	}
}

// pair is a device on bbolt and the same cadre's on PostgreSQL.
type pair struct {
	bb, pg               *client.Client
	bbDB, pgDB           *store.DB
	bbAnswers, pgAnswers *answers
}

// sync syncs both devices and fails t unless PostgreSQL answered what bbolt
// did, byte for byte; it returns the households whose state was sent.
func (d *pair) sync(t *testing.T, when string) (reset bool, households int) {
	t.Helper()
	for _, c := range []*client.Client{d.bb, d.pg} {
		if err := c.Sync(context.Background()); err != nil {
			t.Fatalf("%s: %v", when, err)
		}
	}
	bbReset, bbSent, n := d.bbAnswers.take(t)
	pgReset, pgSent, _ := d.pgAnswers.take(t)
	if bbReset != pgReset || !bytes.Equal(bbSent, pgSent) {
		t.Fatalf("%s: PostgreSQL answered (reset %v) %d bytes, bbolt (reset %v) %d bytes:\n%.2000s\n%.2000s",
			when, pgReset, len(pgSent), bbReset, len(bbSent), pgSent, bbSent)
	}
	t.Logf("%s: %d bytes of records, %d households", when, len(pgSent), n)
	return bbReset, n
}

// TestCatchUpEnteredMatchesBbolt gives a group cadre's phone a second
// group, takes it away and gives it again, with the same log on a bbolt
// server and on two instances on PostgreSQL (the phone asks one, then the
// other): each time PostgreSQL answers what bbolt does, byte for byte —
// only the group's records when it came in (no reset), the records that
// left named when it went.
func TestCatchUpEnteredMatchesBbolt(t *testing.T) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	d := demo.Village(1, now)
	p := newParity(t, d.Records(), now)
	phone := p.devices(t, d.GroupCadre.ID)
	sync := func(when string) int {
		t.Helper()
		reset, n := phone.sync(t, when)
		if when != "first sync" && reset {
			t.Errorf("%s: a whole catch-up (reset)", when)
		}
		return n
	}
	sync("first sync")

	var given *domain.Assignment
	for _, a := range d.Assignments {
		if a.Role == domain.GroupCadre && a.Cadre != d.GroupCadre.ID && given == nil {
			given = a
		}
	}
	group := 0
	for _, h := range d.Households {
		if h.Group == given.Target {
			group++
		}
	}
	reassign := func(cadre uuid.UUID) {
		t.Helper()
		rec, err := p.bb.Get(domain.KindAssignment, given.ID)
		if err != nil {
			t.Fatal(err)
		}
		x := rec.(*domain.Assignment)
		x.Cadre = cadre
		p.put(t, d.TeamLeader.ID, x)
	}
	other := given.Cadre
	reassign(d.GroupCadre.ID)
	if n := sync("group given"); n != group {
		t.Errorf("the group given: %d households sent, want the group's %d", n, group)
	}
	reassign(other)
	sync("group taken away")
	reassign(d.GroupCadre.ID)
	if n := sync("group given again"); n != group {
		t.Errorf("the group given again: %d households sent, want %d", n, group)
	}
}

// TestInAndOutMatchesBbolt: a household of another village comes into the
// team leader's village, is edited there and goes back between two of the
// tablet's syncs. PostgreSQL answers what bbolt does — neither sends the
// tablet a piece of the household (sync/server TestInAndOut) — and both
// tablets end without it.
func TestInAndOutMatchesBbolt(t *testing.T) {
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	d := demo.Village(1, now)
	admin := d.TeamLeader.ID
	village := &domain.Place{Meta: domain.Meta{ID: uuid.New(), Author: admin}, Level: domain.Village, Name: "石头村", Parent: d.Town.ID}
	group := &domain.Place{Meta: domain.Meta{ID: uuid.New(), Author: admin}, Level: domain.Group, Name: "一社", Parent: village.ID}
	away := &domain.Household{Meta: domain.Meta{ID: uuid.New(), Author: admin}, HeadName: "石有才", Group: group.ID, Status: domain.Registered, Size: 4, Phone: "13909300008"}
	p := newParity(t, append(d.Records(), village, group, away), now)
	tablet := p.devices(t, d.TeamLeader.ID)
	tablet.sync(t, "first sync")

	move := func(to uuid.UUID, edit func(*domain.Household)) {
		t.Helper()
		r, err := p.bb.Get(domain.KindHousehold, away.ID)
		if err != nil {
			t.Fatal(err)
		}
		h := r.(*domain.Household)
		h.Group = to
		if edit != nil {
			edit(h)
		}
		p.put(t, admin, h)
	}
	var here uuid.UUID
	for _, h := range d.Households {
		here = h.Group
		break
	}
	move(here, nil)
	move(here, func(h *domain.Household) { h.Notes = "迁入后核实：户主外出务工" })
	move(group.ID, nil) // a wrong move, undone
	if _, n := tablet.sync(t, "in and out"); n != 0 {
		t.Errorf("in and out: %d households sent", n)
	}
	tablet.sync(t, "again")
	for name, db := range map[string]*store.DB{"bbolt": tablet.bbDB, "PostgreSQL": tablet.pgDB} {
		if _, err := db.Get(domain.KindHousehold, away.ID); err == nil {
			t.Errorf("the tablet on %s holds the household that came and went", name)
		}
	}
}

// alternate sends every other request to another server.
type alternate struct {
	next http.RoundTripper
	to   string
	mu   sync.Mutex
	n    int
}

func (a *alternate) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.n++
	other := a.n%2 == 0
	a.mu.Unlock()
	if other {
		r = r.Clone(r.Context())
		u := *r.URL
		host := a.to[len("http://"):]
		u.Host, r.Host = host, host
		r.URL = &u
	}
	return a.next.RoundTrip(r)
}

// TestRememberScope checks the units behind fingerprints as any instance
// reads them: remembered, refreshed only after a week, forgotten after
// 180 days without a sync under them, and a fingerprint no instance
// handed out (a device's made-up cursor, with a NUL) not known.
func TestRememberScope(t *testing.T) {
	needPG(t)
	url, err := pg.NewDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var reps [2]*pgstore.Replica
	for i := range reps {
		if reps[i], err = pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{}); err != nil {
			t.Fatal(err)
		}
		defer reps[i].Close()
	}
	a, b := reps[0], reps[1]
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	units := []uuid.UUID{uuid.New(), uuid.New()}
	if err := a.RememberScope("p1", units, t0); err != nil {
		t.Fatal(err)
	}
	got, ok, err := b.ScopeUnitsOf("p1")
	if err != nil || !ok || len(got) != 2 || got[0] != units[0] || got[1] != units[1] {
		t.Fatalf("the other instance reads %v %v %v, want %v", got, ok, err, units)
	}
	if _, ok, err := b.ScopeUnitsOf("p1\x00x"); ok || err != nil {
		t.Errorf("a fingerprint never handed out: known %v, %v", ok, err)
	}
	// Synced under p1 every 100 days: kept; p2, once, at t0: forgotten
	// once 180 days passed without a sync under it.
	if err := a.RememberScope("p2", nil, t0); err != nil {
		t.Fatal(err)
	}
	for _, days := range []int{100, 200} {
		if err := b.RememberScope("p1", units, t0.AddDate(0, 0, days)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := a.ScopeUnitsOf("p1"); !ok {
		t.Error("p1, synced under 100 days ago, forgotten")
	}
	if _, ok, _ := a.ScopeUnitsOf("p2"); ok {
		t.Error("p2, not synced under for 200 days, remembered")
	}
}
