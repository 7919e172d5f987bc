package store_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// The sealing crash tests' child processes read their instructions from these.
const (
	envSealDB     = "BANGFU_SEAL_DB"
	envSealStage  = "BANGFU_SEAL_STAGE"  // kill itself at this stage of Seal
	envSealWriter = "BANGFU_SEAL_WRITER" // "household/cadre": write visits to a sealed store
)

// TestHelperSealer is not a test: run by TestSealSurvivesKill as a child
// process, it seals the store (printing "sealing" first and "sealed" after)
// and, if asked, kills itself with SIGKILL at a stage of Seal.
func TestHelperSealer(t *testing.T) {
	path := os.Getenv(envSealDB)
	if path == "" || os.Getenv(envSealWriter) != "" {
		t.Skip("run by TestSealSurvivesKill")
	}
	stage := os.Getenv(envSealStage)
	store.SetSealHook(func(s string) {
		if s == stage {
			p, _ := os.FindProcess(os.Getpid())
			p.Kill() // SIGKILL
			select {}
		}
	})
	db, err := store.Open(path, &store.Options{Timeout: 10 * time.Second, PINParams: cheap})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Stdout.WriteString("sealing\n")
	if err := db.Seal(testPIN); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	os.Stdout.WriteString("sealed\n")
	db.Close()
	os.Exit(0)
}

// runSealer runs TestHelperSealer on path, killing it at stage or, if stage
// is "", after wait from its "sealing"; it reports whether the child said
// "sealed".
func runSealer(t *testing.T, path, stage string, wait time.Duration) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSealer$", "-test.count=1")
	cmd.Env = append(os.Environ(), envSealDB+"="+path, envSealStage+"="+stage)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	r := bufio.NewReader(out)
	sealed := make(chan bool, 1)
	go func() {
		said := false
		for {
			line, err := r.ReadString('\n')
			if strings.TrimSpace(line) == "sealed" {
				said = true
			}
			if err != nil {
				sealed <- said
				return
			}
		}
	}()
	if stage == "" {
		time.Sleep(wait)
		cmd.Process.Signal(syscall.SIGKILL)
	}
	said := <-sealed
	cmd.Wait()
	if stage != "" {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("the sealer was not killed at %q: %v; stderr: %s", stage, cmd.ProcessState, stderr.String())
		}
	}
	return said
}

// TestSealSurvivesKill kills a child process sealing a clear store — at the
// stages on either side of the file's replacement, and at random moments —
// and checks after each that the store opens with everything in it: clear
// and without a PIN, or sealed and opened by the PIN.
func TestSealSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	dir := t.TempDir()
	clearPath := filepath.Join(dir, "clear.db")
	db := mustOpenAt(t, clearPath, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	must(t, db.SaveDraft("visit/"+v.Wang.ID.String(), []byte("王兴文家草稿")))
	want, err := db.Count(domain.KindVisit)
	must(t, err)
	must(t, db.Close())
	clearBytes, err := os.ReadFile(clearPath)
	must(t, err)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	type run struct {
		stage string
		wait  time.Duration
	}
	runs := []run{{stage: "copied"}, {stage: "renamed"}}
	for range 10 {
		runs = append(runs, run{wait: time.Duration(rng.IntN(150)) * time.Millisecond})
	}
	counts := map[bool]int{}
	for i, r := range runs {
		path := filepath.Join(dir, fmt.Sprintf("run%d.db", i))
		must(t, os.WriteFile(path, clearBytes, 0o600))
		said := runSealer(t, path, r.stage, r.wait)
		db, err := store.Open(path, &store.Options{Now: clockAt(fixtureNow), PINParams: cheap})
		if err != nil {
			t.Fatalf("run %d (%+v): the store does not open: %v", i, r, err)
		}
		if said && !db.Sealed() {
			t.Fatalf("run %d: Seal returned but the store is clear", i)
		}
		switch r.stage {
		case "copied":
			if db.Sealed() {
				t.Fatalf("run %d: killed before the rename, yet sealed", i)
			}
		case "renamed":
			if !db.Sealed() {
				t.Fatalf("run %d: killed after the rename, yet clear", i)
			}
		}
		counts[db.Sealed()]++
		if db.Sealed() {
			must(t, db.Unlock(testPIN, fixtureNow))
		}
		if _, err := os.Stat(path + ".sealing"); !os.IsNotExist(err) {
			t.Errorf("run %d: the unfinished copy is left after Open: %v", i, err)
		}
		n, err := db.Count(domain.KindVisit)
		if err != nil || n != want {
			t.Fatalf("run %d (%+v, sealed %v): %d visits, %v; want %d", i, r, db.Sealed(), n, err, want)
		}
		if d, err := db.Draft("visit/" + v.Wang.ID.String()); err != nil || string(d) != "王兴文家草稿" {
			t.Fatalf("run %d: draft %q, %v", i, d, err)
		}
		// A clear store left by a kill can be sealed again.
		if !db.Sealed() {
			must(t, db.Seal(testPIN))
		}
		must(t, db.Close())
	}
	t.Logf("after the kills: %d clear, %d sealed", counts[false], counts[true])
}

// TestHelperSealedWriter is not a test: run by TestSealedCrashLeaksNothing,
// it unlocks a sealed store and writes visits naming the household's head
// and phone, and drafts, until it is killed.
func TestHelperSealedWriter(t *testing.T) {
	path, w := os.Getenv(envSealDB), os.Getenv(envSealWriter)
	if path == "" || w == "" {
		t.Skip("run by TestSealedCrashLeaksNothing")
	}
	hh, cadre, _ := strings.Cut(w, "/")
	household, author := uuid.MustParse(hh), uuid.MustParse(cadre)
	db, err := store.Open(path, &store.Options{Timeout: 10 * time.Second, PINParams: cheap})
	if err == nil {
		err = db.Unlock(testPIN, time.Now())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	rec, err := db.Get(domain.KindHousehold, household)
	if err != nil {
		os.Exit(4)
	}
	h := rec.(*domain.Household)
	for i := 0; ; i++ {
		note := fmt.Sprintf("第 %d 次走访 %s，电话 %s", i, h.HeadName, h.Phone)
		if err := db.SaveDraft(fmt.Sprintf("visit/%d", i%5), []byte(note)); err != nil {
			os.Exit(5)
		}
		if err := db.Put(author, &domain.Visit{Household: household, Cadre: author, At: time.Now().Add(-time.Minute),
			Type: domain.VisitRoutine, Notes: note}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(6)
		}
		if i == 0 {
			os.Stdout.WriteString("writing\n")
		}
	}
}

// TestSealedCrashLeaksNothing kills a process writing visits and drafts that
// name people into a sealed store, several times, and finds none of the
// fixture's names, phones or ID numbers in the file, which still opens.
func TestSealedCrashLeaksNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	path := filepath.Join(t.TempDir(), "sealed.db")
	db := openSealed(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	var secrets []string
	for _, h := range v.Households() {
		secrets = append(secrets, h.HeadName, h.Phone, h.IDNumber)
	}
	must(t, db.Each(domain.KindMember, func(r domain.Record) error {
		m := r.(*domain.Member)
		secrets = append(secrets, m.Name)
		if m.IDNumber != "" {
			secrets = append(secrets, m.IDNumber)
		}
		return nil
	}))
	must(t, db.Seal(testPIN))
	must(t, db.Close())

	for run := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSealedWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), envSealDB+"="+path, envSealWriter+"="+v.Wang.ID.String()+"/"+v.Li.ID.String())
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		must(t, err)
		must(t, cmd.Start())
		line, _ := bufio.NewReader(out).ReadString('\n')
		if strings.TrimSpace(line) != "writing" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("run %d: the writer did not start: %q; stderr: %s", run, line, stderr.String())
		}
		time.Sleep(time.Duration(20+run*37) * time.Millisecond)
		must(t, cmd.Process.Signal(syscall.SIGKILL))
		cmd.Wait()

		inFile, inBuckets := leaks(t, path, secrets)
		if len(inFile) > 0 || len(inBuckets) > 0 {
			t.Fatalf("run %d: after a kill the sealed file shows %q (bytes) and %q (buckets)", run, inFile, inBuckets)
		}
	}
	db = openSealed(t, path, fixtureNow)
	defer db.Close()
	must(t, db.Unlock(testPIN, fixtureNow))
	n, err := db.Count(domain.KindVisit)
	must(t, err)
	if n <= len(v.Visits) {
		t.Errorf("%d visits after the runs, the fixture has %d: the writer wrote nothing", n, len(v.Visits))
	}
}
