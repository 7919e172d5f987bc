package bench_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
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
)

// demoNow is the end of the demo village's six months of history: fixed, so
// that every run syncs the same records.
var demoNow = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// demoSeed seeds the demo village.
const demoSeed = 1

// bigVisits is the number of visits of the first sync of (d).
const bigVisits = 10_000

// quiet is the logger of every server and client here.
var quiet = slog.New(slog.DiscardHandler)

// fixtureDir holds the template server stores, built once per test binary
// and copied into each test's own directory.
var fixtureDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bangfu-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The demo village, generated once, its visits' notes and follow-ups
// written by demo.NewNotes: the seed's phrase menus compress 15 to 18
// times with gzip, typed notes about twice, and the bytes of every sync
// here depend on it (BenchmarkNotesGzip in domain/demo).
var village = sync.OnceValue(func() *demo.Data {
	d := demo.Village(demoSeed, demoNow)
	d.VaryNotes(demoSeed)
	return d
})

// fixture is a template server store, built once by build.
type fixture struct {
	name  string
	base  *fixture // a template to start from; nil for an empty store
	build func(db *store.DB) error
	once  sync.Once
	path  string
	err   error
}

// copyTo copies the template into dir, building it first if need be, and
// returns the copy's path.
func (f *fixture) copyTo(tb testing.TB, dir string) string {
	tb.Helper()
	f.once.Do(func() {
		f.err = fmt.Errorf("not built") // until it is
		path := filepath.Join(fixtureDir, f.name+".db")
		if f.base != nil {
			base := f.base.copyTo(tb, fixtureDir)
			if f.err = os.Rename(base, path); f.err != nil {
				return
			}
		}
		db, err := store.Open(path, &store.Options{NoSync: true})
		if err != nil {
			f.err = err
			return
		}
		start := time.Now()
		if f.err = f.build(db); f.err != nil {
			db.Close()
			return
		}
		if f.err = db.Close(); f.err == nil {
			f.path = path
		}
		tb.Logf("built the %s server store in %v", f.name, time.Since(start).Round(time.Millisecond))
	})
	if f.err != nil {
		tb.Fatalf("build the %s server store: %v", f.name, f.err)
	}
	dst := filepath.Join(dir, "server.db")
	if err := copyFile(f.path, dst); err != nil {
		tb.Fatal(err)
	}
	return dst
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// villageStore is a server store holding the demo village.
var villageStore = &fixture{name: "village", build: func(db *store.DB) error { return putDemo(db, village()) }}

// rosterStore is a server store holding the demo village's roster — places,
// cadres, households and assignments — without its history.
var rosterStore = &fixture{name: "roster", build: func(db *store.DB) error {
	d := village()
	roster := &demo.Data{Places: d.Places, Cadres: d.Cadres, Households: d.Households, Assignments: d.Assignments}
	return putDemo(db, roster)
}}

// bigStore is the demo village plus bigVisits visits to the households of the
// group cadre's group.
var bigStore = &fixture{name: "village-10k", base: villageStore, build: func(db *store.DB) error {
	d := village()
	r := rand.New(rand.NewPCG(10, 10_000))
	hh := groupHouseholds(d, d.GroupCadre.ID)
	for done := 0; done < bigVisits; {
		n := min(500, bigVisits-done)
		batch := make([]domain.Record, n)
		for i := range batch {
			at := demoNow.Add(-time.Duration(r.Int64N(int64(180 * 24 * time.Hour)))).Truncate(time.Minute)
			batch[i] = newVisit(r, d, pick(r, hh), d.GroupCadre.ID, demo.Device, at)
		}
		if err := db.Put(d.GroupCadre.ID, batch...); err != nil {
			return err
		}
		done += n
	}
	return nil
}}

// putDemo saves d's records in batches, one author per batch, parents first.
func putDemo(db *store.DB, d *demo.Data) error {
	recs := d.Records()
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && j-i < 500 && recs[j].Kind() == recs[i].Kind() &&
			recs[j].Metadata().Author == recs[i].Metadata().Author {
			j++
		}
		if err := db.Put(recs[i].Metadata().Author, recs[i:j]...); err != nil {
			return err
		}
		i = j
	}
	return nil
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// groupHouseholds returns the households of the groups cadre is the group
// cadre (包社干部) of.
func groupHouseholds(d *demo.Data, cadre uuid.UUID) []*domain.Household {
	groups := map[uuid.UUID]bool{}
	for _, a := range d.Assignments {
		if a.Cadre == cadre && a.Role == domain.GroupCadre {
			groups[a.Target] = true
		}
	}
	var out []*domain.Household
	for _, h := range d.Households {
		if groups[h.Group] {
			out = append(out, h)
		}
	}
	return out
}

// newVisit returns a new visit by cadre to h at at, shaped like one of the
// demo village's visits, its notes and follow-up written by demo.NewNotes,
// so that it compresses as typed notes do.
func newVisit(r *rand.Rand, d *demo.Data, h *domain.Household, cadre, device uuid.UUID, at time.Time) *domain.Visit {
	model := pick(r, d.Visits)
	notes := demo.NewNotes(r.Uint64())
	v := &domain.Visit{
		Meta:      domain.Meta{ID: uuid.New(), Created: at, Author: cadre, Device: device},
		Household: h.ID, Cadre: cadre, At: at, Type: model.Type,
		Notes: notes.Note(), Policies: model.Policies, Policy: model.Policy,
		Fees: model.Fees, Water: model.Water,
	}
	if pick(r, d.Visits).FollowUp != "" {
		v.FollowUp = notes.FollowUp()
		v.Due = at.AddDate(0, 0, 7+r.IntN(21)).Truncate(24 * time.Hour)
	}
	return v
}

// env is a sync server on 127.0.0.1 over its own bbolt store.
type env struct {
	db   *store.DB
	srv  *httptest.Server
	url  string
	once sync.Once
}

// newEnv starts a server on a copy of the template f, in dir.
func newEnv(tb testing.TB, f *fixture, dir string) *env {
	tb.Helper()
	path := f.copyTo(tb, dir)
	db, err := store.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(server.New(db, server.Options{Logger: quiet}))
	e := &env{db: db, srv: srv, url: srv.URL}
	tb.Cleanup(e.close)
	return e
}

// close stops the server, waiting for the requests in flight, and closes
// its store. It may be called more than once.
func (e *env) close() {
	e.once.Do(func() {
		e.srv.Close()
		e.db.Close()
	})
}

// code issues a one-time enrolment code for cadre.
func (e *env) code(tb testing.TB, cadre uuid.UUID) string {
	tb.Helper()
	code, err := e.db.CreateEnrolCode(cadre, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	return code
}

// device is a phone or tablet: its own bbolt store and sync client, whose
// requests go through its own meter.
type device struct {
	db    *store.DB
	c     *client.Client
	m     *meter
	cadre uuid.UUID
}

// newDevice makes a device for cadre in dir and enrols it with e. The
// enrolment's request is on the meter; take a usage snapshot after it.
func (e *env) newDevice(tb testing.TB, dir string, cadre uuid.UUID, s *shaper) *device {
	tb.Helper()
	db, err := store.Open(filepath.Join(dir, "device.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	d := &device{db: db, m: newMeter(s), cadre: cadre}
	tb.Cleanup(d.m.close)
	d.c = d.client(tb)
	if err := d.c.Enroll(context.Background(), e.url, e.code(tb, cadre), "bench "+cadre.String()[:8]); err != nil {
		tb.Fatal(err)
	}
	return d
}

// client returns a sync client on the device's store that goes through its
// meter; it syncs only when asked.
func (d *device) client(tb testing.TB) *client.Client {
	tb.Helper()
	c, err := client.New(d.db, client.Options{HTTP: d.m.client(), Logger: quiet, Interval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// reroute sends the device's requests through a new meter, dialling
// through s when s is not nil; the account and cursors stay.
func (d *device) reroute(tb testing.TB, s *shaper) {
	tb.Helper()
	d.m.close()
	d.m = newMeter(s)
	tb.Cleanup(d.m.close)
	d.c = d.client(tb)
}

// sync syncs the device and returns what that put on the wire.
func (d *device) sync(tb testing.TB) usage {
	tb.Helper()
	before := d.m.usage()
	if err := d.c.Sync(context.Background()); err != nil {
		tb.Fatalf("sync: %v", err)
	}
	if st := d.c.Status(); len(st.Rejected) > 0 {
		tb.Fatalf("the server rejected %d changes, the first: %v", len(st.Rejected), st.Rejected[0].Err)
	}
	return d.m.usage().sub(before)
}

// since returns the changes in the device's log after sequence seq.
func (d *device) since(tb testing.TB, seq uint64) []domain.Change {
	tb.Helper()
	var out []domain.Change
	err := d.db.Log(seq, func(e store.Entry) (bool, error) {
		out = append(out, e.Change)
		return true, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// lastSeq returns the sequence of the device's newest log entry.
func (d *device) lastSeq(tb testing.TB) uint64 {
	tb.Helper()
	seq, err := d.db.LastSeq()
	if err != nil {
		tb.Fatal(err)
	}
	return seq
}

// gzipSize returns the size of changes as one JSON array on the wire,
// gzip-compressed as the protocol compresses bodies: the least a body
// carrying them could weigh.
func gzipSize(tb testing.TB, changes []domain.Change) int64 {
	tb.Helper()
	_, gz := payloadSize(tb, changes)
	return gz
}

// payloadSize returns the size of changes as one JSON array on the wire,
// and that gzip-compressed.
func payloadSize(tb testing.TB, changes []domain.Change) (plain, gz int64) {
	tb.Helper()
	if len(changes) == 0 {
		return 0, 0
	}
	wire, err := protocol.EncodeChanges(changes)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := protocol.Marshal(wire)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return int64(len(b)), int64(buf.Len())
}

// checkSeen fails unless the device has applied every change.
func checkSeen(tb testing.TB, db *store.DB, who string, changes []domain.Change) {
	tb.Helper()
	for _, ch := range changes {
		ok, err := db.Seen(ch.ID)
		if err != nil {
			tb.Fatal(err)
		}
		if !ok {
			tb.Fatalf("%s has not got change %s (%s %s)", who, ch.ID, ch.Kind, ch.Record)
		}
	}
}
