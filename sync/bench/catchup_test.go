package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"runtime"
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

// Scope changes and first syncs after a long history (issue 8):
//
//	FirstSyncHistory        a new tablet for 王坪村's team leader after two
//	                        simulated years of edits: the current state, not
//	                        every edit (TestFirstSyncHistory compares with the
//	                        log the first sync sent before)
//	CatchUpGroup            a group cadre is given another cadre's group
//	CatchUpVillage          a cadre becomes the village's team leader
//	…Shaped                 the same through the 256 kbit/s, 300 ms shaper
//	FirstPull10kDevice      the device's own work in the first pull of
//	                        10,000 visits: the answers replayed to sync/client
//	                        on a fresh store, no server in the process
//	FirstSyncVillageHeap    the phone's peak heap while applying the first
//	                        sync of the village (answers replayed likewise)

// editDays and editsPerDay make the two simulated years.
const (
	editDays    = 730
	editsPerDay = 30
)

// historyStore is the demo village after two more years of edits: the
// households' phones, notes and income sources corrected, measures' progress
// and targets updated, visits' notes completed — 21,900 edits, each a log
// entry of the fields it changed.
var historyStore = &fixture{name: "village-2y", base: villageStore, build: func(db *store.DB) error {
	d := village()
	r := rand.New(rand.NewPCG(2, 730))
	notes := demo.NewNotes(730)
	var measures []*domain.Measure
	measures = append(measures, d.Measures...)
	for day := range editDays {
		batch := make([]domain.Record, 0, editsPerDay)
		for i := range editsPerDay {
			switch r.IntN(4) {
			case 0, 1:
				h := *pick(r, d.Households)
				rec, err := db.Get(domain.KindHousehold, h.ID)
				if err != nil {
					return err
				}
				hh := rec.(*domain.Household)
				switch r.IntN(3) {
				case 0:
					hh.Phone = fmt.Sprintf("139%08d", r.IntN(1e8))
				case 1:
					hh.Notes = fmt.Sprintf("第 %d 天核实：%s", day, notes.Note())
				default:
					hh.Income = pick(r, []string{"务农", "务工", "养殖", "务工、养殖", "手工"})
				}
				batch = append(batch, hh)
			case 2:
				if len(measures) == 0 {
					continue
				}
				rec, err := db.Get(domain.KindMeasure, pick(r, measures).ID)
				if err != nil {
					return err
				}
				m := rec.(*domain.Measure)
				m.Progress = pick(r, []domain.Progress{domain.NotStarted, domain.InProgress, domain.Done, domain.Stuck})
				m.Target = fmt.Sprintf("年增收 %d 元", 1000+100*r.IntN(30))
				batch = append(batch, m)
			default:
				rec, err := db.Get(domain.KindVisit, pick(r, d.Visits).ID)
				if err != nil {
					return err
				}
				v := rec.(*domain.Visit)
				v.FollowUp = fmt.Sprintf("第 %d 天补记 %d：%s", day, i, notes.Note())
				v.Due = v.At.AddDate(0, 0, 7)
				batch = append(batch, v)
			}
		}
		if err := db.Put(d.TeamLeader.ID, batch...); err != nil {
			return err
		}
	}
	return nil
}}

// TestFirstSyncHistory: after two years of edits a new tablet's first sync
// is the village's current state: every record once, each with the stamps
// and authors of the edits that set its fields, in fewer bytes than the log
// a first sync sent before (every edit in scope, each its own change).
func TestFirstSyncHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two years of edits")
	}
	e := newEnv(t, historyStore, t.TempDir())
	d := village()
	readable, err := server.Readable(e.db, d.TeamLeader.ID)
	if err != nil {
		t.Fatal(err)
	}
	// What the first sync sent before: every log entry in scope.
	var history []domain.Change
	e.db.LogWhere(0, readable, func(en store.Entry) (bool, error) {
		history = append(history, en.Change)
		return true, nil
	})
	histPlain, histGz := payloadSize(t, history)
	f := firstSync(t, e, d.TeamLeader.ID, now)
	t.Logf("first sync after %d days × %d edits: %d requests, %d bytes on the wire, %d changes (%d B JSON, %d B gzipped); the log in scope: %d changes, %d B JSON, %d B gzipped",
		editDays, editsPerDay, f.use.Requests, f.use.Bytes(), f.changes, f.plain, f.payload, len(history), histPlain, histGz)
	if f.use.Bytes() >= histGz {
		t.Errorf("the first sync put %d bytes on the wire; the log it replaces is %d bytes gzipped", f.use.Bytes(), histGz)
	}
	for _, k := range domain.Kinds {
		want, _ := e.db.Count(k)
		got, _ := f.dev.db.Count(k)
		if got != want {
			t.Errorf("%s: the tablet holds %d, the server %d", k, got, want)
		}
	}
}

// BenchmarkFirstSyncHistory is the first sync of TestFirstSyncHistory.
func BenchmarkFirstSyncHistory(b *testing.B) {
	benchFirst(b, historyStore, village().TeamLeader.ID)
}

// BenchmarkFirstSyncHistoryShaped is the same through the shaper.
func BenchmarkFirstSyncHistoryShaped(b *testing.B) {
	e := newEnv(b, historyStore, b.TempDir())
	var total usage
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		dev := e.newDevice(b, b.TempDir(), village().TeamLeader.ID, nil)
		dev.reroute(b, newShaper())
		b.StartTimer()
		total = total.add(dev.sync(b))
	}
	b.StopTimer()
	report(b, total, b.N)
}

// catchUp is a scope change measured: grow gives the device's cadre more,
// shrink takes it back.
type catchUp struct {
	e            *env
	dev          *device
	grow, shrink func(tb testing.TB)
}

// groupCatchUp: the group cadre of 一社 is also given the group of another
// group cadre.
func groupCatchUp(tb testing.TB, f *fixture) *catchUp {
	tb.Helper()
	d := village()
	e := newEnv(tb, f, tb.TempDir())
	dev := e.newDevice(tb, tb.TempDir(), d.GroupCadre.ID, nil)
	dev.sync(tb)
	var a *domain.Assignment
	for _, x := range d.Assignments {
		if x.Role == domain.GroupCadre && x.Cadre != d.GroupCadre.ID && a == nil {
			a = x
		}
	}
	other := a.Cadre
	n := 0
	for _, h := range d.Households {
		if h.Group == a.Target {
			n++
		}
	}
	tb.Logf("the group given has %d households", n)
	set := func(cadre uuid.UUID) func(testing.TB) {
		return func(tb testing.TB) {
			rec, err := e.db.Get(domain.KindAssignment, a.ID)
			if err != nil {
				tb.Fatal(err)
			}
			x := rec.(*domain.Assignment)
			x.Cadre = cadre
			if err := e.db.Put(d.TeamLeader.ID, x); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return &catchUp{e: e, dev: dev, grow: set(d.GroupCadre.ID), shrink: set(other)}
}

// villageCatchUp: a group cadre becomes the village's team leader too.
func villageCatchUp(tb testing.TB, f *fixture) *catchUp {
	tb.Helper()
	d := village()
	e := newEnv(tb, f, tb.TempDir())
	dev := e.newDevice(tb, tb.TempDir(), d.GroupCadre.ID, nil)
	dev.sync(tb)
	var vil uuid.UUID
	for _, p := range d.Places {
		if p.Level == domain.Village {
			vil = p.ID
		}
	}
	a := &domain.Assignment{Cadre: d.GroupCadre.ID, Role: domain.TeamLeader, Target: vil, Since: demoNow}
	return &catchUp{e: e, dev: dev,
		grow: func(tb testing.TB) {
			a.Deleted = false
			if err := e.db.Put(d.TeamLeader.ID, a); err != nil {
				tb.Fatal(err)
			}
		},
		shrink: func(tb testing.TB) {
			if err := e.db.Delete(d.TeamLeader.ID, domain.KindAssignment, a.ID); err != nil {
				tb.Fatal(err)
			}
		}}
}

// run grows the scope and syncs, measured, then shrinks it and syncs.
func (c *catchUp) run(tb testing.TB, measure func(func())) (grew, shrank usage) {
	tb.Helper()
	c.grow(tb)
	measure(func() { grew = c.dev.sync(tb) })
	c.shrink(tb)
	shrank = c.dev.sync(tb)
	return grew, shrank
}

func benchCatchUp(b *testing.B, mk func(testing.TB, *fixture) *catchUp, shaped bool) {
	c := mk(b, villageStore)
	if shaped {
		c.dev.reroute(b, newShaper())
	}
	var total usage
	before, _ := c.dev.db.Count(domain.KindHousehold)
	during := 0
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		grew, _ := c.run(b, func(f func()) {
			timed(b)(f)
			during, _ = c.dev.db.Count(domain.KindHousehold)
		})
		total = total.add(grew)
	}
	report(b, total, b.N)
	b.ReportMetric(float64(during-before), "households-gained")
}

func BenchmarkCatchUpGroup(b *testing.B)         { benchCatchUp(b, groupCatchUp, false) }
func BenchmarkCatchUpGroupShaped(b *testing.B)   { benchCatchUp(b, groupCatchUp, true) }
func BenchmarkCatchUpVillage(b *testing.B)       { benchCatchUp(b, villageCatchUp, false) }
func BenchmarkCatchUpVillageShaped(b *testing.B) { benchCatchUp(b, villageCatchUp, true) }

// TestCatchUpBudget: growing a scope brings the records that came into it,
// and shrinking it takes them away, both in one sync each.
func TestCatchUpBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		mk   func(testing.TB, *fixture) *catchUp
	}{{"group", groupCatchUp}, {"village", villageCatchUp}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.mk(t, villageStore)
			before, _ := c.dev.db.Count(domain.KindHousehold)
			c.grow(t)
			grew := c.dev.sync(t)
			during, _ := c.dev.db.Count(domain.KindHousehold)
			c.shrink(t)
			shrank := c.dev.sync(t)
			after, _ := c.dev.db.Count(domain.KindHousehold)
			t.Logf("households %d → %d → %d; growing: %d requests, %d bytes (%d received); shrinking: %d requests, %d bytes",
				before, during, after, grew.Requests, grew.Bytes(), grew.Received, shrank.Requests, shrank.Bytes())
			if during <= before || after != before {
				t.Errorf("households %d → %d → %d", before, during, after)
			}
		})
	}
}

// recorder keeps the answers of every sync request it passes on.
type recorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	answers [][]byte
	headers []http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || req.URL.Path != protocol.PathSync {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.answers = append(r.answers, b)
	r.headers = append(r.headers, resp.Header.Clone())
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// replayer answers the sync requests of a client with recorded answers, in
// order, without a server.
type replayer struct {
	rec *recorder
	n   int
}

func (p *replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	if p.n >= len(p.rec.answers) {
		return nil, fmt.Errorf("replayer: no answer %d", p.n)
	}
	b, h := p.rec.answers[p.n], p.rec.headers[p.n]
	p.n++
	return &http.Response{StatusCode: http.StatusOK, Header: h.Clone(), Body: io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)), Request: req}, nil
}

// record runs a first sync of a new device for cadre against e and returns
// its answers.
func record(tb testing.TB, e *env, cadre uuid.UUID) *recorder {
	tb.Helper()
	dev := e.newDevice(tb, tb.TempDir(), cadre, nil)
	rec := &recorder{next: http.DefaultTransport}
	c, err := client.New(dev.db, client.Options{HTTP: &http.Client{Transport: rec}, Logger: quiet, Interval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Sync(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return rec
}

// replay applies recorded answers through sync/client to a fresh store in
// dir, and returns the time it took, the changes applied and the peak heap
// sampled meanwhile; and in cpu the CPU time the process used meanwhile,
// which a machine shared with other work disturbs less than the time.
func replay(tb testing.TB, rec *recorder, dir string, cpu *time.Duration) (time.Duration, int, uint64) {
	tb.Helper()
	db, err := store.Open(filepath.Join(dir, "fresh.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	c, err := client.New(db, client.Options{HTTP: &http.Client{Transport: &replayer{rec: rec}},
		URL: "http://replay.invalid", Token: "bft1.replay", Logger: quiet, Interval: -1})
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var m runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapAlloc)
			select {
			case <-stop:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	start, cpu0 := time.Now(), cpuTime()
	if err := c.Sync(context.Background()); err != nil {
		tb.Fatal(err)
	}
	elapsed := time.Since(start)
	if cpu != nil {
		*cpu += cpuTime() - cpu0
	}
	close(stop)
	top := <-peak
	n := 0
	db.Log(0, func(store.Entry) (bool, error) { n++; return true, nil })
	if top > base.HeapAlloc {
		top -= base.HeapAlloc
	} else {
		top = 0
	}
	return elapsed, n, top
}

func benchReplay(b *testing.B, f *fixture, cadre uuid.UUID) {
	e := newEnv(b, f, b.TempDir())
	rec := record(b, e, cadre)
	e.close() // no server at work while the device applies
	var total time.Duration
	var changes int
	var top uint64
	var wire int
	for _, a := range rec.answers {
		wire += len(a)
	}
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		d, n, p := replay(b, rec, b.TempDir(), &cpu)
		total += d
		changes = n
		top = max(top, p)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "apply-ms/op")
	b.ReportMetric(float64(changes)/total.Seconds()*float64(b.N), "changes/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "apply-cpu-ms/op")
		b.ReportMetric(float64(changes)/cpu.Seconds()*float64(b.N), "changes/cpu-s")
	}
	b.ReportMetric(float64(changes), "changes")
	b.ReportMetric(float64(top)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(wire), "answer-B")
	b.ReportMetric(float64(len(rec.answers)), "answers")
}

// BenchmarkFirstPull10kDevice is the device's side of (d): the first pull of
// the group with 10,000 visits, decoded, merged and indexed by sync/client on
// a fresh store.
func BenchmarkFirstPull10kDevice(b *testing.B) {
	if raceEnabled {
		b.Skip("timing under the race detector means nothing")
	}
	benchReplay(b, bigStore, village().GroupCadre.ID)
}

// BenchmarkFirstSyncVillageHeap is the device's side of (c), with its peak
// heap.
func BenchmarkFirstSyncVillageHeap(b *testing.B) {
	benchReplay(b, villageStore, village().TeamLeader.ID)
}
