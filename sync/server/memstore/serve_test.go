package memstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/server/memstore"
	"bangfu/sync/synctest"
)

// clock is a device's clock, moved on by the script.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) tick() {
	c.mu.Lock()
	c.t = c.t.Add(time.Second)
	c.mu.Unlock()
}

// side is a sync server with a group cadre's phone and a team leader's
// tablet enrolled.
type side struct {
	name          string
	phone, tablet *store.DB
	pc, tc        *client.Client
}

// TestServe runs the sync server on the model and on bbolt, both holding
// the same roster (the model's replayed from bbolt's log), and has the
// same devices' script — a catch-up, a visit, the same household's phone
// edited on both devices at once, a paired household edited — played on
// each with the same clocks: the server's scope guard reads the model
// through store.Proposal, and every device must end holding the same
// records with the same values, and the same conflict, on both.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "server.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w, err := synctest.BuildWorld(db, time.Now().Add(-48*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	m := memstore.New(memstore.Options{Device: db.Device()})
	if err := memstore.Replay(m, db, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	visit := uuid.New()
	var sides []*side
	for _, st := range []interface {
		server.Store
		CreateEnrolCode(uuid.UUID, time.Duration) (string, error)
	}{server.NewBolt(db), m} {
		name := "bbolt"
		if st == server.Store(m) {
			name = "model"
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewUnstartedServer(server.New(st, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		hs.Listener.Close()
		hs.Listener = ln
		hs.Start()
		defer hs.Close()
		s := &side{name: name}
		pclock, tclock := &clock{t: start}, &clock{t: start}
		s.phone, s.pc = device(t, dir, name+"-phone", hs.URL, st.CreateEnrolCode, w.Cadre1.ID, pclock)
		s.tablet, s.tc = device(t, dir, name+"-tablet", hs.URL, st.CreateEnrolCode, w.Leader.ID, tclock)
		s.sync(t)
		// The phone writes a visit and edits a household's phone; the
		// tablet edits the same phone, later, without having seen it.
		h := w.Group(w.G1)[0]
		pclock.tick()
		v := &domain.Visit{Household: h.ID, Cadre: w.Cadre1.ID, At: start.Add(-time.Minute), Type: domain.VisitRoutine,
			Notes: "了解春耕准备情况，家中劳力两人。"}
		v.ID = visit
		if err := s.phone.Put(w.Cadre1.ID, v); err != nil {
			t.Fatal(err)
		}
		edit(t, s.phone, w.Cadre1.ID, h.ID, func(h *domain.Household) { h.Phone = "13800000001" })
		tclock.tick()
		tclock.tick()
		edit(t, s.tablet, w.Leader.ID, h.ID, func(h *domain.Household) { h.Phone = "13800000002" })
		s.sync(t)
		pclock.tick()
		pclock.tick()
		pclock.tick()
		edit(t, s.phone, w.Cadre1.ID, w.Paired.ID, func(h *domain.Household) { h.Notes = "帮扶责任人走访后补充" })
		s.sync(t)
		sides = append(sides, s)
	}
	for _, dev := range []struct {
		name string
		db   func(*side) *store.DB
	}{{"phone", func(s *side) *store.DB { return s.phone }}, {"tablet", func(s *side) *store.DB { return s.tablet }}} {
		vb, cb := values(t, dev.db(sides[0]))
		vm, cm := values(t, dev.db(sides[1]))
		if len(vb) == 0 || len(cb) == 0 {
			t.Fatalf("%s on bbolt: %d records, %d conflicts: the script made nothing to compare", dev.name, len(vb), len(cb))
		}
		if !maps.EqualFunc(vb, vm, maps.Equal) {
			for k := range vb {
				if !maps.Equal(vb[k], vm[k]) {
					t.Errorf("%s: %s is %v on bbolt, %v on the model", dev.name, k, vb[k], vm[k])
				}
			}
			t.Errorf("%s holds %d records on bbolt, %d on the model", dev.name, len(vb), len(vm))
		}
		if !slices.Equal(cb, cm) {
			t.Errorf("%s holds conflicts %v on bbolt, %v on the model", dev.name, cb, cm)
		}
	}
	for _, s := range sides {
		if got := s.pc.Status(); got.Pending != 0 || len(got.Rejected) != 0 {
			t.Errorf("%s: the phone has %d waiting, %d rejected", s.name, got.Pending, len(got.Rejected))
		}
		if _, err := s.tablet.Get(domain.KindVisit, visit); err != nil {
			t.Errorf("%s: the tablet lacks the phone's visit: %v", s.name, err)
		}
	}
}

func device(t *testing.T, dir, name, url string, code func(uuid.UUID, time.Duration) (string, error), cadre uuid.UUID, c *clock) (*store.DB, *client.Client) {
	t.Helper()
	db, err := store.Open(filepath.Join(dir, name+".db"), &store.Options{NoSync: true, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cl, err := client.New(db, client.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	k, err := code(cadre, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Enroll(context.Background(), url, k, name); err != nil {
		t.Fatalf("enrol %s: %v", name, err)
	}
	return db, cl
}

func edit(t *testing.T, db *store.DB, author, id uuid.UUID, fn func(*domain.Household)) {
	t.Helper()
	rec, err := db.Get(domain.KindHousehold, id)
	if err != nil {
		t.Fatal(err)
	}
	fn(rec.(*domain.Household))
	if err := db.Put(author, rec); err != nil {
		t.Fatal(err)
	}
}

// sync syncs the phone and the tablet twice each, in turn.
func (s *side) sync(t *testing.T) {
	t.Helper()
	for range 2 {
		for _, c := range []*client.Client{s.pc, s.tc} {
			if err := c.Sync(context.Background()); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
	}
}

// values returns what a device holds: every record but conflicts with its
// fields' values (not their stamps, nor the device and the time of
// creation of what it made, which differ from side to side), and the
// conflicts as what they keep.
func values(t *testing.T, db *store.DB) (map[synctest.Key]map[string]string, []string) {
	t.Helper()
	recs, err := synctest.Records(db)
	if err != nil {
		t.Fatal(err)
	}
	out := map[synctest.Key]map[string]string{}
	var conflicts []string
	for k, fs := range recs {
		if k.Kind == domain.KindConflict {
			r, err := synctest.Decode(k, fs)
			if err != nil {
				t.Fatal(err)
			}
			c := r.(*domain.Conflict)
			conflicts = append(conflicts, fmt.Sprintf("%s %s %s: %s over %s", c.RecordKind, c.Record, c.Field, c.Winner, c.Loser))
			continue
		}
		out[k] = map[string]string{}
		for name, st := range fs {
			if name != "device" && name != "created" { // the device's ID, its corrected clock
				out[k][name] = compact(st.Value)
			}
		}
	}
	slices.Sort(conflicts)
	return out, conflicts
}
