package pgstore_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

// The prefecture of issue 12's benchmarks: demo.Prefecture at full scale is
// 50 towns of 20 villages of 250 households, 250,000 households with a year
// of monthly visits. The Prefect benchmarks share one generation, one bbolt
// server and one PostgreSQL server holding it, built once per run:
//
//	go test ./sync/server/pgstore -run X -bench Prefect -benchtime 20x -timeout 3h
var (
	prefectScale   = flag.Float64("prefect.scale", 1, "fraction of the 50 towns of the generated prefecture")
	prefectDevices = flag.Int("prefect.devices", 5000, "devices enrolled for the sustained benchmark")
	prefectDir     = flag.String("prefect.dir", "", "directory that keeps the generated prefecture's store between runs")
)

// prefectNow ends the prefecture's year of history.
var prefectNow = time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)

// prefecture is the generated prefecture and its two servers.
type prefecture struct {
	d        *demo.Data
	entries  uint64 // the servers' log entries when loaded
	load     map[string]time.Duration
	backends map[string]*backend
	pgURL    string
	enrolled map[string]time.Duration // by backend, what enrolling and first-syncing the crowd took
}

var prefect = sync.OnceValues(func() (*prefecture, error) {
	towns := max(1, int(float64(demo.PrefectureTowns)**prefectScale+0.5))
	p := &prefecture{load: map[string]time.Duration{}, backends: map[string]*backend{}, enrolled: map[string]time.Duration{}}
	t0 := time.Now()
	p.d = demo.Prefecture(7, prefectNow, towns, demo.PrefectureVillages, demo.PrefectureHouseholds)
	p.load["generate"] = time.Since(t0)

	dir := *prefectDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "bangfu-prefect-"); err != nil {
			return nil, err
		}
		benchDirs = append(benchDirs, dir)
	}
	src := filepath.Join(dir, fmt.Sprintf("prefecture-%d.db", towns))
	if _, err := os.Stat(src); err != nil {
		t0, c0 := time.Now(), cpuTime()
		if err := loadBolt(src, p.d); err != nil {
			os.Remove(src)
			return nil, err
		}
		p.load["bbolt"], p.load["bbolt-cpu"] = time.Since(t0), cpuTime()-c0
	}
	db, err := store.Open(src, &store.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if p.entries, err = db.LastSeq(); err != nil {
		return nil, err
	}

	// bbolt: a copy of the store, opened with fsync as bangfud serve does.
	tmp, err := os.MkdirTemp("", "bangfu-prefect-run-")
	if err != nil {
		return nil, err
	}
	benchDirs = append(benchDirs, tmp)
	if err := backupTo(db, filepath.Join(tmp, "server.db")); err != nil {
		return nil, err
	}
	bolt, err := store.Open(filepath.Join(tmp, "server.db"), nil)
	if err != nil {
		return nil, err
	}

	// PostgreSQL: the store's log copied in (COPY), then made as durable as
	// bbolt (fsync, synchronous commits, full pages) for what is measured.
	// Its instance's mirror starts as a copy of the store, as a restarted
	// instance finds its own.
	ctx := context.Background()
	if p.pgURL, err = pg.NewDB(ctx); err != nil {
		return nil, err
	}
	t0, c0, pg0 := time.Now(), cpuTime(), pgCPU()
	if _, err := pgstore.Load(ctx, p.pgURL, db); err != nil {
		return nil, err
	}
	p.load["postgres"], p.load["postgres-cpu"] = time.Since(t0), cpuTime()-c0+pgCPU()-pg0
	if err := durable(ctx, p.pgURL); err != nil {
		return nil, err
	}
	mirror := filepath.Join(tmp, "mirror.db")
	if err := backupTo(db, mirror); err != nil {
		return nil, err
	}
	rep, err := pgstore.OpenReplica(ctx, p.pgURL, pgstore.ReplicaOptions{Mirror: mirror})
	if err != nil {
		return nil, err
	}
	for name, s := range map[string]server.Store{"bbolt": server.NewBolt(bolt), "postgres": rep} {
		h := httptest.NewServer(server.New(s, server.Options{Logger: quiet}))
		be := &backend{url: h.URL, codes: server.NewBoltRegistry(bolt).CreateEnrolCode}
		if name == "postgres" {
			be.codes = rep.CreateEnrolCode
		}
		p.backends[name] = be
	}
	return p, nil
})

// benchDirs are the prefecture's temporary directories; TestMain removes
// them.
var benchDirs []string

// loadBolt writes the prefecture into a new store with store.Load, which
// writes what Put would, record by record in Records' order (a village's
// town first), each as its author's edit, in key order bucket by bucket.
func loadBolt(path string, d *demo.Data) error {
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		return err
	}
	if _, err := db.Load(d.Records()); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

func backupTo(db *store.DB, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = db.Backup(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// durable turns the test server's shortcuts off (pgtest starts it without
// fsync), so that a commit waits for the disk as bbolt's does.
func durable(ctx context.Context, url string) error {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for _, q := range []string{`ALTER SYSTEM SET fsync = on`, `ALTER SYSTEM SET full_page_writes = on`,
		`ALTER SYSTEM SET synchronous_commit = on`, `SELECT pg_reload_conf()`, `CHECKPOINT`} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func needPrefect(b *testing.B) *prefecture {
	b.Helper()
	needPG(b)
	p, err := prefect()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func (p *prefecture) report(b *testing.B) {
	b.ReportMetric(float64(len(p.d.Households)), "households")
	b.ReportMetric(float64(p.entries), "server-log-entries")
}

// BenchmarkPrefectLoad reports what building the prefecture took: the
// generation, the bbolt store written by store.Load (0 when -prefect.dir
// kept it from an earlier run) and the PostgreSQL load (COPY), each in
// seconds of wall and of CPU (this process's, and PostgreSQL's for its
// load).
func BenchmarkPrefectLoad(b *testing.B) {
	p := needPrefect(b)
	for range b.N {
	}
	for _, k := range []string{"generate", "bbolt", "bbolt-cpu", "postgres", "postgres-cpu"} {
		b.ReportMetric(p.load[k].Seconds(), k+"-s")
	}
	b.ReportMetric(float64(len(p.d.Visits)), "visits")
	p.report(b)
}

// BenchmarkPrefectFirstSyncVillage is (b): a new tablet of 王坪村's team
// leader pulling the whole village from a server holding the prefecture;
// the bytes on the socket must be the same from either storage, but for
// the server's time in the answer. It is
// declared before the benchmarks that push, so that it runs first and both
// servers hold the same village, byte for byte.
func BenchmarkPrefectFirstSyncVillage(b *testing.B) {
	p := needPrefect(b)
	wire := map[string]int64{}
	for _, name := range []string{"bbolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var records uint64
			var bytes, requests int64
			var cpu, pgc time.Duration
			for range b.N {
				b.StopTimer()
				m := &meter{}
				db, c := p.backends[name].deviceWith(b, p.d.TeamLeader.ID, m.client())
				m.reset()
				c0, pg0 := cpuTime(), pgCPU()
				b.StartTimer()
				syncOnce(b, c)
				b.StopTimer()
				cpu, pgc = cpu+cpuTime()-c0, pgc+pgCPU()-pg0
				var err error
				if records, err = db.LastSeq(); err != nil {
					b.Fatal(err)
				}
				bytes, requests = m.bytes.Load(), m.requests.Load()
				b.StartTimer()
			}
			wire[name] = bytes
			// CPU, as the wall time on a shared machine says little: this
			// process's (the server and the device) and PostgreSQL's.
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			if name == "postgres" {
				b.ReportMetric(float64(pgc.Milliseconds())/float64(b.N), "pg-cpu-ms/op")
			}
			b.ReportMetric(float64(records), "device-log-entries")
			b.ReportMetric(float64(bytes), "wire-bytes")
			b.ReportMetric(float64(requests), "requests")
			p.report(b)
		})
	}
	// The answers differ only in the server's time (SyncResponse.Now),
	// whose digits change what gzip makes of the body by a byte or two.
	if d := wire["bbolt"] - wire["postgres"]; len(wire) == 2 && (d < -8 || d > 8) {
		b.Errorf("first sync of the village: %d bytes on the wire from bbolt, %d from PostgreSQL", wire["bbolt"], wire["postgres"])
	}
}

// BenchmarkPrefectIncremental is (a): a group cadre's phone saving one visit
// and syncing it, pulling what is new for its group, from a server holding
// the prefecture.
func BenchmarkPrefectIncremental(b *testing.B) {
	p := needPrefect(b)
	d := p.d
	var hh []*domain.Household
	for _, h := range d.Households {
		if h.Group == groupOf(d, d.GroupCadre.ID) {
			hh = append(hh, h)
		}
	}
	for _, name := range []string{"bbolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db, c := p.backends[name].device(b, d.GroupCadre.ID)
			syncOnce(b, c)
			b.ResetTimer()
			for i := range b.N {
				h := hh[i%len(hh)]
				at := time.Now().Add(-time.Hour).Truncate(time.Minute)
				v := &domain.Visit{Meta: domain.Meta{Created: at}, Household: h.ID, Cadre: d.GroupCadre.ID, At: at,
					Type: domain.VisitRoutine, Notes: fmt.Sprintf("入户走访 %d", i)}
				if err := db.Put(d.GroupCadre.ID, v); err != nil {
					b.Fatal(err)
				}
				syncOnce(b, c)
			}
			p.report(b)
		})
	}
}

// BenchmarkPrefectSustained is (c): -prefect.devices enrolled devices of
// pairing and group cadres spread over the prefecture, each op one of them
// pushing a visit and pulling what changed, 50 at a time over real HTTP on
// 127.0.0.1. It reports syncs a second and the CPU time per sync: this
// process's (the server and the devices' encoding both) plus, for
// PostgreSQL, its server processes'.
func BenchmarkPrefectSustained(b *testing.B) {
	p := needPrefect(b)
	for _, name := range []string{"bbolt", "postgres"} {
		b.Run(name, func(b *testing.B) {
			devs := p.crowd(b, name)
			var failed atomic.Pointer[error]
			b.SetParallelism(25) // 50 goroutines on 2 cores
			b.ResetTimer()
			t0, c0, pg0 := time.Now(), cpuTime(), pgCPU()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					// A device chosen at random, not syncing already.
					d := devs[rand.IntN(len(devs))]
					for !d.busy.TryLock() {
						d = devs[rand.IntN(len(devs))]
					}
					if err := d.sync(ctx, p.backends[name].url, d.visits(1)); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
					d.busy.Unlock()
				}
			})
			wall, cpu, pgc := time.Since(t0), cpuTime()-c0, pgCPU()-pg0
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(*err)
			}
			if name == "bbolt" {
				pgc = 0
			}
			b.ReportMetric(float64(b.N)/wall.Seconds(), "syncs/s")
			b.ReportMetric(float64(cpu+pgc)/float64(time.Millisecond)/float64(b.N), "cpu-ms/sync")
			b.ReportMetric(float64(pgc)/float64(time.Millisecond)/float64(b.N), "pg-cpu-ms/sync")
			b.ReportMetric(float64(len(devs)), "devices")
			b.ReportMetric(p.enrolled[name].Seconds(), "enrol-and-first-sync-s")
			p.report(b)
		})
	}
}

// crowds are the sustained benchmark's devices, enrolled and synced once
// per storage (the benchmark function runs several times).
var crowds sync.Map // name -> []*rawDevice

// crowd enrols -prefect.devices devices with the named server, one per
// cadre who pairs with households or leads a group, spread over the
// prefecture, and has each pull its scope once (not timed).
func (p *prefecture) crowd(b *testing.B, name string) []*rawDevice {
	if v, ok := crowds.Load(name); ok {
		return v.([]*rawDevice)
	}
	b.StopTimer()
	defer b.StartTimer()
	cadres, households := reach(p.d)
	n := min(*prefectDevices, len(cadres))
	be := p.backends[name]
	devs := make([]*rawDevice, n)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	hc := &http.Client{Transport: tr}
	for i := range devs {
		cadre := cadres[i*len(cadres)/n]
		id := uuid.New()
		devs[i] = &rawDevice{id: id, cadre: cadre, households: households[cadre],
			clock: domain.NewClock(id, time.Now), http: hc}
	}
	// Eight at a time: each issued a code through the registry, enrolled
	// with it over HTTP and synced once.
	t0 := time.Now()
	var done atomic.Int64
	next := make(chan *rawDevice)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for d := range next {
				code, err := be.codes(d.cadre, time.Hour)
				if err == nil {
					err = d.enroll(context.Background(), be.url, code)
				}
				if err == nil {
					err = d.sync(context.Background(), be.url, nil)
				}
				if err != nil {
					errs <- err
					continue
				}
				if k := done.Add(1); k%500 == 0 {
					fmt.Fprintf(os.Stderr, "%s: %d devices enrolled and synced once in %v\n", name, k, time.Since(t0).Round(time.Second))
				}
			}
		})
	}
	for _, d := range devs {
		next <- d
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("%s: %d devices enrolled and synced once in %v", name, n, time.Since(t0).Round(time.Second))
	p.enrolled[name] = time.Since(t0)
	crowds.Store(name, devs)
	return devs
}

// reach returns, for every cadre of d who pairs with households or is a
// group cadre, the households they may record visits at, by cadre in the
// order of the assignments (village by village).
func reach(d *demo.Data) ([]uuid.UUID, map[uuid.UUID][]uuid.UUID) {
	group := map[uuid.UUID][]uuid.UUID{}
	for _, h := range d.Households {
		group[h.Group] = append(group[h.Group], h.ID)
	}
	out := map[uuid.UUID][]uuid.UUID{}
	var cadres []uuid.UUID
	for _, a := range d.Assignments {
		var hs []uuid.UUID
		switch {
		case a.Role.IsPairing():
			hs = []uuid.UUID{a.Target}
		case a.Role == domain.GroupCadre:
			hs = group[a.Target]
		default:
			continue
		}
		if out[a.Cadre] == nil {
			cadres = append(cadres, a.Cadre)
		}
		out[a.Cadre] = append(out[a.Cadre], hs...)
	}
	return cadres, out
}

// rawDevice is a device that speaks the protocol directly, without a
// store (as sync/bench's does), so that the server sees thousands of
// devices while the benchmark holds thousands of small structs.
type rawDevice struct {
	id         uuid.UUID
	cadre      uuid.UUID
	households []uuid.UUID
	busy       sync.Mutex // held while it syncs
	token      string
	clock      *domain.Clock
	cursor     string
	through    uint64
	http       *http.Client
}

func (d *rawDevice) enroll(ctx context.Context, url, code string) error {
	var resp protocol.EnrollResponse
	req := protocol.EnrollRequest{V: protocol.Version, Code: code, Name: "bench " + d.id.String()[:8], Device: d.id}
	if err := d.do(ctx, url+protocol.PathEnroll, "", &req, &resp); err != nil {
		return fmt.Errorf("enrol device %s: %w", d.id, err)
	}
	d.token = resp.Token
	return nil
}

func (d *rawDevice) do(ctx context.Context, url, token string, in, out any) error {
	req, err := protocol.NewRequest(ctx, http.MethodPost, url, token, in)
	if err != nil {
		return err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	return protocol.ReadResponse(resp, out)
}

// visits makes n new visits to the device's households.
func (d *rawDevice) visits(n int) []domain.Change {
	out := make([]domain.Change, n)
	now := time.Now()
	for i := range out {
		at := now.Add(-time.Duration(n-i) * time.Minute).Truncate(time.Second)
		v := &domain.Visit{
			Meta:      domain.Meta{ID: uuid.New(), Created: at, Author: d.cadre, Device: d.id},
			Household: d.households[i%len(d.households)], Cadre: d.cadre, At: at, Type: domain.VisitRoutine,
			Notes:    "入户走访：了解家庭收入和务工情况，核实两不愁三保障落实情况，饮水安全。",
			Policies: true, Policy: "医保、养老保险", Fees: domain.FeesPaid, Water: domain.WaterSafe,
		}
		f, err := domain.Encode(v)
		if err != nil {
			panic(err)
		}
		out[i] = domain.Change{ID: uuid.New(), Kind: domain.KindVisit, Record: v.ID, Author: d.cadre,
			Stamp: d.clock.Now(), Fields: f}
	}
	return out
}

// sync pushes changes and pulls until no page is left, as a client does.
func (d *rawDevice) sync(ctx context.Context, url string, changes []domain.Change) error {
	wire, err := protocol.EncodeChanges(changes)
	if err != nil {
		return err
	}
	through := d.through + uint64(len(changes))
	for {
		req := protocol.SyncRequest{V: protocol.Version, Cursor: d.cursor, Through: through, Changes: wire}
		if len(wire) == 0 {
			req.Through = d.through
		}
		var resp protocol.SyncResponse
		if err := d.do(ctx, url+protocol.PathSync, d.token, &req, &resp); err != nil {
			return fmt.Errorf("device %s: sync: %w", d.id, err)
		}
		if len(resp.Rejected) > 0 {
			return fmt.Errorf("device %s: %d changes rejected, the first: %v", d.id, len(resp.Rejected), resp.Rejected[0].Err())
		}
		if resp.Acked != req.Through {
			return fmt.Errorf("device %s: acknowledged through %d, want %d", d.id, resp.Acked, req.Through)
		}
		d.through = req.Through
		pulled, err := protocol.DecodeChanges(resp.Changes)
		if err != nil {
			return err
		}
		for _, ch := range pulled {
			d.clock.Observe(ch.Stamp)
		}
		d.cursor, wire = resp.Cursor, nil
		if !resp.More {
			return nil
		}
	}
}

// meter is an http.Client's transport that counts requests and the bytes
// that cross its sockets, both ways.
type meter struct {
	transport *http.Transport
	requests  atomic.Int64
	bytes     atomic.Int64
	once      sync.Once
}

func (m *meter) client() *http.Client {
	m.once.Do(func() {
		dialer := &net.Dialer{Timeout: 10 * time.Second}
		m.transport = &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &countingConn{Conn: c, m: m}, nil
			},
			DisableCompression: true,
		}
	})
	return &http.Client{Transport: m}
}

func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	m.requests.Add(1)
	return m.transport.RoundTrip(r)
}

// reset drops the counts and the kept connections.
func (m *meter) reset() {
	m.transport.CloseIdleConnections()
	m.requests.Store(0)
	m.bytes.Store(0)
}

type countingConn struct {
	net.Conn
	m *meter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.m.bytes.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.m.bytes.Add(int64(n))
	return n, err
}

// pgCPU returns the CPU time the test's PostgreSQL server has used: its
// postmaster's, its children's, and its finished children's.
func pgCPU() time.Duration {
	if pg == nil {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(pg.Dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm, _, _ := strings.Cut(string(b), "\n")
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, f := range procs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// After the command in parentheses: state ppid ... utime(14) stime(15) cutime(16) cstime(17).
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		pid := strings.TrimSuffix(strings.TrimPrefix(f, "/proc/"), "/stat")
		if len(fields) < 15 || pid != pm && fields[1] != pm {
			continue
		}
		n := 2 // utime, stime
		if pid == pm {
			n = 4 // and the children that exited
		}
		for _, x := range fields[11 : 11+n] {
			v, _ := strconv.ParseInt(x, 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
