package bench_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
)

// The targets.
const (
	noopMaxBytes   = 1024    // (a): under 1 KB
	smallFactor    = 1.3     // (b): under 1.3 × the gzip size of the changes moved …
	smallSlack     = 600     // … plus 600 bytes
	smallMaxTime   = 1500    // (b) shaped: under 1.5 s, in ms
	firstPerReq    = 1 << 20 // (c), (d): at most one request per MB of compressed payload
	throughputTime = 10_000  // (e): all answered within 10 s, in ms
)

// synced returns a server with the demo village and the group cadre's phone,
// enrolled and synced once.
func synced(tb testing.TB) (*env, *device) {
	tb.Helper()
	e := newEnv(tb, villageStore, tb.TempDir())
	d := e.newDevice(tb, tb.TempDir(), village().GroupCadre.ID, nil)
	d.sync(tb)
	return e, d
}

// smallSync is scenario (b): the group cadre's phone (a) records 10 visits
// while the phone of a cadre paired with some of its households (b) makes 10
// changes to them — 5 visits and 5 edits of a household's notes — and syncs;
// then the group cadre's phone syncs, pushing its 10 and pulling the other's
// 10.
type smallSync struct {
	e      *env
	a, b   *device
	hh     []*domain.Household // the group cadre's households
	paired []*domain.Household // those of them the other cadre pairs with
	r      *rand.Rand
	round  int
}

func newSmallSync(tb testing.TB) *smallSync {
	tb.Helper()
	d := village()
	e, a := synced(tb)
	hh := groupHouseholds(d, d.GroupCadre.ID)
	other, paired := pairedIn(d, hh)
	b := e.newDevice(tb, tb.TempDir(), other, nil)
	b.sync(tb)
	a.sync(tb) // nothing new: the other phone pushed nothing
	return &smallSync{e: e, a: a, b: b, hh: hh, paired: paired, r: rand.New(rand.NewPCG(2, 20))}
}

// pairedIn returns the cadre paired with the most of households (the first
// by ID of those tied), and those households.
func pairedIn(d *demo.Data, households []*domain.Household) (uuid.UUID, []*domain.Household) {
	byID := map[uuid.UUID]*domain.Household{}
	for _, h := range households {
		byID[h.ID] = h
	}
	paired := map[uuid.UUID][]*domain.Household{}
	for _, a := range d.Assignments {
		if h := byID[a.Target]; h != nil && a.Role.IsPairing() && !slices.Contains(paired[a.Cadre], h) {
			paired[a.Cadre] = append(paired[a.Cadre], h)
		}
	}
	var best uuid.UUID
	for c, hs := range paired {
		if n, m := len(hs), len(paired[best]); n > m || (n == m && bytes.Compare(c[:], best[:]) < 0) {
			best = c
		}
	}
	return best, paired[best]
}

// prepare makes the round's edits on both phones and syncs the other one. It
// returns the changes the group cadre's phone will push and those it will
// pull.
func (s *smallSync) prepare(tb testing.TB) (push, pull []domain.Change) {
	tb.Helper()
	s.round++
	d := village()
	seqA := s.a.lastSeq(tb)
	for i := range 10 {
		at := s.a.db.Now().Add(-time.Duration(10-i) * time.Hour).Truncate(time.Minute)
		v := newVisit(s.r, d, pick(s.r, s.hh), s.a.cadre, s.a.db.Device(), at)
		if err := s.a.db.Put(s.a.cadre, v); err != nil {
			tb.Fatal(err)
		}
	}
	push = s.a.since(tb, seqA)

	seqB := s.b.lastSeq(tb)
	for i := range 5 {
		at := s.b.db.Now().Add(-time.Duration(5-i) * time.Hour).Truncate(time.Minute)
		v := newVisit(s.r, d, pick(s.r, s.paired), s.b.cadre, s.b.db.Device(), at)
		if err := s.b.db.Put(s.b.cadre, v); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 5 {
		h := s.paired[(s.round*5+i)%len(s.paired)]
		rec, err := s.b.db.Get(domain.KindHousehold, h.ID)
		if err != nil {
			tb.Fatal(err)
		}
		hh := rec.(*domain.Household)
		hh.Notes = fmt.Sprintf("第 %d 轮第 %d 次核实：%s", s.round, i+1, demo.NewNotes(s.r.Uint64()).Note())
		if err := s.b.db.Put(s.b.cadre, hh); err != nil {
			tb.Fatal(err)
		}
	}
	pull = s.b.since(tb, seqB)
	s.b.sync(tb)
	if len(push) != 10 || len(pull) != 10 {
		tb.Fatalf("round %d: %d changes to push and %d to pull, want 10 and 10", s.round, len(push), len(pull))
	}
	return push, pull
}

// moved is what one measured sync did.
type moved struct {
	use     usage
	payload int64 // gzip size of the changes moved, each direction on its own
	elapsed time.Duration
}

// budget is the most bytes (b) may put on the wire.
func (m moved) budget() int64 { return int64(smallFactor*float64(m.payload)) + smallSlack }

// run does one round: prepare, then the group cadre's sync, measured, and checks
// that every change arrived.
func (s *smallSync) run(tb testing.TB, measure func(func())) moved {
	tb.Helper()
	push, pull := s.prepare(tb)
	var m moved
	measure(func() {
		start := time.Now()
		m.use = s.a.sync(tb)
		m.elapsed = time.Since(start)
	})
	m.payload = gzipSize(tb, push) + gzipSize(tb, pull)
	checkSeen(tb, s.e.db, "the server", push)
	checkSeen(tb, s.a.db, "the phone", pull)
	return m
}

// first is what a first sync did.
type first struct {
	use     usage
	payload int64 // gzip size of the changes pulled, as one body
	plain   int64 // their size as JSON
	changes int
	notes   float64 // how many times gzip shrinks the visits' notes and follow-ups pulled, as one text
	dev     *device
}

// allowed returns how many requests the first sync may take: one per MB of
// compressed payload, at least one.
func (f first) allowed() int64 { return max(1, int64(math.Ceil(float64(f.payload)/firstPerReq))) }

// firstSync enrols a new device for cadre with e and syncs it once, inside
// measure.
func firstSync(tb testing.TB, e *env, cadre uuid.UUID, measure func(func())) first {
	tb.Helper()
	d := e.newDevice(tb, tb.TempDir(), cadre, nil)
	var u usage
	measure(func() { u = d.sync(tb) })
	changes := d.since(tb, 0)
	plain, gz := payloadSize(tb, changes)
	return first{use: u, payload: gz, plain: plain, changes: len(changes), notes: notesRatio(tb, changes), dev: d}
}

// notesRatio returns how many times gzip shrinks the text of the visits'
// notes and follow-ups among changes, in their order, one a line: the
// text a page's bytes depend on most (about 2× for typed notes).
func notesRatio(tb testing.TB, changes []domain.Change) float64 {
	tb.Helper()
	var raw bytes.Buffer
	for _, ch := range changes {
		if ch.Kind != domain.KindVisit {
			continue
		}
		for _, name := range []string{"notes", "follow_up"} {
			var s string
			if v, ok := ch.Fields[name]; !ok || json.Unmarshal(v, &s) != nil || s == "" {
				continue
			}
			raw.WriteString(s)
			raw.WriteByte('\n')
		}
	}
	if raw.Len() == 0 {
		return 0
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(raw.Bytes())
	w.Close()
	return float64(raw.Len()) / float64(z.Len())
}

// now runs f: for tests, which measure nothing but what is on the wire.
func now(f func()) { f() }

// timed returns a measure for b that times only f.
func timed(b *testing.B) func(func()) {
	return func(f func()) {
		b.StartTimer()
		f()
		b.StopTimer()
	}
}

// report adds the common metrics of n operations using u.
func report(b *testing.B, u usage, n int) {
	b.ReportMetric(float64(u.Requests)/float64(n), "req/op")
	b.ReportMetric(float64(u.Bytes())/float64(n), "wire-B/op")
}
