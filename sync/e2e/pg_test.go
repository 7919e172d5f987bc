package e2e_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/internal/pgtest"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server/pgstore"
	"bangfu/sync/synctest"
)

var pgRounds = flag.Int("pg.rounds", 0, "rounds of the simulation on PostgreSQL (0: 60, or 20 with -short)")

// instance is a bangfud serve process on PostgreSQL.
type instance struct {
	cmd  *exec.Cmd
	addr string // host:port
	done chan struct{}
	log  *strings.Builder
	mu   *sync.Mutex
}

// startInstance starts bin serve -db url on a free port of 127.0.0.1 and
// waits until it listens.
func startInstance(t *testing.T, bin, url string) *instance {
	t.Helper()
	// Every instance its own data directory, all the same escrow key.
	cmd := exec.Command(bin, "serve", "-db", url, "-addr", "127.0.0.1:0", "-log-level", "warn", "-data", t.TempDir(),
		"-escrow-key", filepath.Join(filepath.Dir(bin), "escrow.key"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// The instances' temporary mirrors in the test's directory, not /tmp:
	// those the SIGKILLs leave are swept by the next instance to start, and
	// whatever is left goes with the test.
	tmp := filepath.Join(filepath.Dir(bin), "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, done: make(chan struct{}), log: &strings.Builder{}, mu: &sync.Mutex{}}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "listening on http://"); ok {
				listening <- u
			}
			in.mu.Lock()
			in.log.WriteString(line + "\n")
			in.mu.Unlock()
		}
		cmd.Wait()
		close(in.done)
	}()
	select {
	case in.addr = <-listening:
	case <-in.done:
		t.Fatalf("bangfud serve -db exited:\n%s", in.log)
	case <-time.After(2 * time.Minute):
		in.kill()
		t.Fatal("bangfud serve -db did not listen within 2 minutes")
	}
	t.Cleanup(in.kill)
	return in
}

// kill sends SIGKILL and waits for the process to end.
func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
}

// cluster is the devices' view of the instances: an http.RoundTripper that
// sends each request to an instance alive, chosen at random, whatever host
// the device addressed.
type cluster struct {
	next http.RoundTripper

	mu     sync.Mutex
	rng    *rand.Rand
	addrs  []string // "" for an instance down
	served []int
}

func (c *cluster) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	var up []int
	for i, a := range c.addrs {
		if a != "" {
			up = append(up, i)
		}
	}
	if len(up) == 0 {
		c.mu.Unlock()
		return nil, errors.New("no instance is up")
	}
	i := up[c.rng.IntN(len(up))]
	addr := c.addrs[i]
	c.served[i]++
	c.mu.Unlock()
	r := req.Clone(req.Context())
	r.URL.Host, r.Host = addr, addr
	return c.next.RoundTrip(r)
}

func (c *cluster) set(i int, addr string) {
	c.mu.Lock()
	c.addrs[i] = addr
	c.mu.Unlock()
}

// TestInstancesOnPostgres runs the fault simulation against two bangfud
// processes on one PostgreSQL database: devices edit at random and sync
// through a transport that sends each request to either instance at random
// and drops, repeats and cuts requests and answers; in the middle of the
// syncs of some rounds an instance is SIGKILLed, and started again a few
// rounds later (its mirror rebuilt from the database). After a final clean
// sync: no change lost (every edited value current, seen or kept as a
// conflict; every visit on the server), none duplicated (each change once
// in the shared log), and every device holding exactly its scope, field by
// field as the server.
func TestInstancesOnPostgres(t *testing.T) {
	pg, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	rounds := *pgRounds
	if rounds == 0 {
		rounds = 60
		if testing.Short() {
			rounds = 20
		}
	}
	seed := *faultSeed
	rng := rand.New(rand.NewPCG(seed, 17))
	t.Logf("seed %d, %d rounds (-fault.seed, -pg.rounds)", seed, rounds)
	start := time.Now()
	dir := t.TempDir()

	bin := filepath.Join(dir, "bangfud")
	if out, err := exec.Command("go", "build", "-o", bin, "bangfu/cmd/bangfud").CombinedOutput(); err != nil {
		t.Fatalf("go build bangfud: %v\n%s", err, out)
	}
	url, err := pg.NewDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The roster, prepared in bbolt and loaded, as a city would.
	seedDir := filepath.Join(dir, "seed")
	src, err := store.Open(filepath.Join(seedDir, "bangfu.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	w, err := synctest.BuildWorld(src, time.Now())
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "pgload", "-data", seedDir, "-db", url).CombinedOutput(); err != nil {
		t.Fatalf("bangfud pgload: %v\n%s", err, out)
	}

	// The test's own replica issues the codes and, at the end, reads what
	// the instances wrote.
	check, err := pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()

	insts := []*instance{startInstance(t, bin, url), startInstance(t, bin, url)}
	cl := &cluster{next: http.DefaultTransport.(*http.Transport).Clone(), rng: rand.New(rand.NewPCG(seed, 19)),
		addrs: []string{insts[0].addr, insts[1].addr}, served: make([]int, 2)}
	tr := &flaky{next: cl, rng: rand.New(rand.NewPCG(seed, 23)), counts: map[string]int{}, off: true}
	opts := client.Options{HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}, Seed: seed,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	const virtual = "http://127.0.0.1:9" // rewritten by cluster
	newDevice := func(name string, cadre uuid.UUID) *synctest.Device {
		path := filepath.Join(dir, name+".db")
		db, err := store.Open(path, &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		c, err := client.New(db, opts)
		if err != nil {
			t.Fatal(err)
		}
		code, err := check.CreateEnrolCode(cadre, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Enroll(ctx, virtual, code, name); err != nil {
			t.Fatalf("enrol %s: %v", name, err)
		}
		return &synctest.Device{Name: name, Path: path, DB: db, Client: c, Cadre: cadre}
	}
	phone1 := newDevice("phone1", w.Cadre1.ID)
	phone2 := newDevice("phone2", w.Cadre2.ID)
	phone3 := newDevice("phone3", w.Cadre3.ID)
	tablet := newDevice("tablet", w.Leader.ID)
	devs := []*synctest.Device{phone1, phone2, phone3, tablet}
	for _, d := range devs {
		if err := d.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	tr.mu.Lock()
	tr.off = false
	tr.mu.Unlock()

	visits := map[uuid.UUID]string{}
	edits := map[string]int{}
	syncs := map[string]int{}
	kills, down, downFor := 0, -1, 0
	for round := 1; round <= rounds; round++ {
		if down >= 0 {
			if downFor--; downFor <= 0 {
				insts[down] = startInstance(t, bin, url)
				cl.set(down, insts[down].addr)
				down = -1
			}
		}
		for _, i := range rng.Perm(len(devs)) {
			d := devs[i]
			if hs := heldHouseholds(d); len(hs) > 0 {
				for range rng.IntN(4) {
					edits[randomEdit(t, rng, d, hs, visits, round)]++
				}
			}
		}
		if round%8 == 0 {
			phone := []*synctest.Device{phone1, phone2}[rng.IntN(2)]
			for _, e := range contest(t, rng, tablet, phone, contested[(round/8)%len(contested)], visits, round) {
				edits["contested "+e]++
			}
		}
		// The devices sync at once; an instance may be killed meanwhile.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var permanent []error
		for _, d := range devs {
			if rng.IntN(100) >= 70 {
				continue
			}
			wg.Go(func() {
				err := d.Sync()
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					syncs["succeeded"]++
				case protocol.Transient(err):
					syncs["failed: "+domain.ErrorCode(err)]++
				case domain.ErrorCode(err) == domain.EFORBIDDEN && !errors.As(err, new(*protocol.ChangesError)):
					syncs["failed: forbidden, answer cut"]++
				default:
					permanent = append(permanent, fmt.Errorf("%s: %w", d.Name, err))
				}
			})
		}
		if down < 0 && (rng.IntN(100) < 15 || round == rounds/2 && kills == 0) {
			victim := rng.IntN(len(insts))
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
			insts[victim].kill()
			cl.set(victim, "")
			down, downFor = victim, 1+rng.IntN(3)
			kills++
		}
		wg.Wait()
		if len(permanent) > 0 {
			t.Fatalf("round %d: permanent errors: %v", round, permanent)
		}
	}

	if down >= 0 {
		insts[down] = startInstance(t, bin, url)
		cl.set(down, insts[down].addr)
	}
	tr.mu.Lock()
	tr.off = true
	tr.mu.Unlock()
	for i := 0; ; i++ {
		before, _ := check.LastSeq()
		for _, d := range devs {
			if err := d.Sync(); err != nil {
				t.Fatalf("final sync of %s: %v", d.Name, err)
			}
		}
		if after, _ := check.LastSeq(); i >= 1 && after == before {
			break
		}
		if i == 5 {
			t.Fatal("the final syncs do not settle")
		}
	}
	srv, err := check.Mirror()
	if err != nil {
		t.Fatal(err)
	}
	scopes := map[string]sees{}
	kept := map[string]map[uuid.UUID]bool{}
	for _, d := range devs {
		st := d.Client.Status()
		if st.Pending != 0 {
			t.Errorf("%s after the final sync: %d waiting", d.Name, st.Pending)
		}
		kept[d.Name] = map[uuid.UUID]bool{}
		for _, r := range st.Rejected {
			t.Errorf("%s: change %s refused or rejected: %+v", d.Name, r.Change, r.Err)
		}
		scopes[d.Name] = rosterSees(t, srv, w, d.Cadre)
	}
	dbs := map[string]*store.DB{}
	for _, d := range devs {
		dbs[d.Name] = d.DB
	}
	c := converged(t, srv, dbs, scopes, kept, visits)
	inScope := checkScopes(t, srv, devs)

	tr.mu.Lock()
	faults := maps.Clone(tr.counts)
	tr.mu.Unlock()
	cl.mu.Lock()
	served := append([]int(nil), cl.served...)
	cl.mu.Unlock()
	t.Logf("faults injected: %s; requests per instance %v; %d instances SIGKILLed", show(faults), served, kills)
	t.Logf("edits: %s; syncs: %s", show(edits), show(syncs))
	t.Logf("checks: %s; %d records in the devices' current scopes compared by the server's rules", c, inScope)
	t.Logf("took %s", time.Since(start).Round(time.Millisecond))
	if kills == 0 || served[0] == 0 || served[1] == 0 || syncs["succeeded"] == 0 {
		t.Errorf("the simulation did not exercise the instances: %d kills, %v requests, syncs %v", kills, served, syncs)
	}
	if c.visits == 0 || c.conflicts == 0 {
		t.Errorf("the simulation made no visits or no conflicts: %s", c)
	}
	if t.Failed() {
		for i, in := range insts {
			in.mu.Lock()
			t.Logf("instance %d's log:\n%s", i, in.log)
			in.mu.Unlock()
		}
	}
}
