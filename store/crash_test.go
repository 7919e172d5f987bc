package store_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/store"
)

// The crash test's child process reads its instructions from these.
const (
	envCrashDB        = "BANGFU_CRASH_DB"
	envCrashHousehold = "BANGFU_CRASH_HOUSEHOLD"
	envCrashCadre     = "BANGFU_CRASH_CADRE"
)

// TestHelperWriter is not a test: run by TestCrashKeepsRecordsAndLogTogether
// as a child process, it writes visits (every third with a problem, in the
// same Put) in a loop and prints each visit's ID once Put has returned, until
// it is killed.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(envCrashDB)
	if path == "" {
		t.Skip("run by TestCrashKeepsRecordsAndLogTogether")
	}
	household := uuid.MustParse(os.Getenv(envCrashHousehold))
	cadre := uuid.MustParse(os.Getenv(envCrashCadre))
	db, err := store.Open(path, &store.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	for i := 0; ; i++ {
		v := &domain.Visit{Household: household, Cadre: cadre, At: time.Now().Add(-time.Minute),
			Type: domain.VisitRoutine, Notes: fmt.Sprintf("第 %d 次走访", i)}
		recs := []domain.Record{v}
		if i%3 == 0 {
			v.ID = uuid.New()
			recs = append(recs, &domain.Problem{Household: household, Visit: v.ID, Text: "待跟进", Status: domain.ProblemOpen})
		}
		if err := db.Put(cadre, recs...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		// One write of less than PIPE_BUF bytes: the parent reads it whole or not at all.
		if _, err := os.Stdout.WriteString(v.ID.String() + "\n"); err != nil {
			os.Exit(5)
		}
	}
}

// TestCrashKeepsRecordsAndLogTogether kills a writing child process with
// SIGKILL at random moments and checks after each reopen that every
// acknowledged write is there exactly once and that records and log entries
// match one to one.
func TestCrashKeepsRecordsAndLogTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	db := mustOpenAt(t, path, fixtureNow)
	v := buildVillage(t, db, fixtureNow)
	must(t, db.Close())

	const kills = 24
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BANGFU_CRASH_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (set BANGFU_CRASH_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	acked := map[uuid.UUID]bool{}
	deadline := time.Now().Add(25 * time.Second)
	for run := 0; run < kills; run++ {
		if time.Now().After(deadline) && run >= 20 {
			t.Logf("stopping after %d kills to keep the test short", run)
			break
		}
		got := runAndKill(t, path, v, time.Duration(rng.IntN(120))*time.Millisecond)
		for _, id := range got {
			if acked[id] {
				t.Fatalf("run %d: visit %s acknowledged twice", run, id)
			}
			acked[id] = true
		}
		checkAfterCrash(t, path, acked, len(v.Visits), run+1)
	}
	t.Logf("%d visits acknowledged over the runs", len(acked))
}

// runAndKill starts the writer, lets it write for wait after its first
// acknowledged visit, kills it with SIGKILL and returns the visits it
// acknowledged.
func runAndKill(t *testing.T, path string, v *village, wait time.Duration) []uuid.UUID {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDB+"="+path, envCrashHousehold+"="+v.Han.ID.String(),
		envCrashCadre+"="+v.He.ID.String())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())

	var (
		mu    sync.Mutex
		ids   []uuid.UUID
		first = make(chan struct{})
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		r := bufio.NewReader(out)
		once := sync.Once{}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				// A line cut short by the kill was never acknowledged.
				if err != io.EOF {
					t.Errorf("read child: %v", err)
				}
				once.Do(func() { close(first) })
				return
			}
			id, perr := uuid.Parse(strings.TrimSpace(line))
			if perr != nil {
				continue // the test framework's own output
			}
			mu.Lock()
			ids = append(ids, id)
			mu.Unlock()
			once.Do(func() { close(first) })
		}
	}()
	select {
	case <-first:
	case <-time.After(20 * time.Second):
		t.Errorf("the writer acknowledged nothing in 20 s; stderr: %s", stderr.String())
	}
	time.Sleep(wait)
	must(t, cmd.Process.Signal(syscall.SIGKILL))
	<-done
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the writer was not killed but ended with %v; stderr: %s", err, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return ids
}

// checkAfterCrash reopens the file and checks it whole.
func checkAfterCrash(t *testing.T, path string, acked map[uuid.UUID]bool, fixtureVisits, runs int) {
	t.Helper()
	db, err := store.Open(path, &store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()

	// The log, by record and by change.
	type logged struct {
		seq    uint64
		stamp  domain.Stamp
		fields domain.Fields
	}
	byRecord := map[uuid.UUID][]logged{}
	changes := map[uuid.UUID]uint64{}
	var entries uint64
	must(t, db.Log(0, func(e store.Entry) (bool, error) {
		entries++
		if e.Seq != entries {
			t.Errorf("log sequence %d at position %d", e.Seq, entries)
		}
		if _, dup := changes[e.Change.ID]; dup {
			t.Errorf("change %s logged twice", e.Change.ID)
		}
		changes[e.Change.ID] = e.Seq
		byRecord[e.Change.Record] = append(byRecord[e.Change.Record], logged{e.Seq, e.Change.Stamp, e.Change.Fields})
		if _, err := db.FieldStates(e.Change.Kind, e.Change.Record); err != nil {
			t.Errorf("log entry %d for %s %s has no record: %v", e.Seq, e.Change.Kind, e.Change.Record, err)
		}
		return true, nil
	}))

	// Every record has its log entries: each field's stamp is that of a
	// logged change of the record that set the field.
	records := 0
	for _, kind := range domain.Kinds {
		must(t, db.Each(kind, func(r domain.Record) error {
			records++
			id := r.Metadata().ID
			ls := byRecord[id]
			if len(ls) == 0 {
				t.Errorf("%s %s has no log entry", kind, id)
				return nil
			}
			fs, err := db.FieldStates(kind, id)
			must(t, err)
			for name, st := range fs {
				found := false
				for _, l := range ls {
					if _, ok := l.fields[name]; ok && l.stamp == st.Stamp {
						found = true
					}
				}
				if !found {
					t.Errorf("%s %s field %s (stamp %s) was set by no logged change", kind, id, name, st.Stamp)
				}
			}
			if kind == domain.KindVisit && len(ls) != 1 {
				t.Errorf("visit %s has %d log entries, want exactly 1", id, len(ls))
			}
			if p, ok := r.(*domain.Problem); ok && p.Visit != uuid.Nil {
				if _, err := db.Get(domain.KindVisit, p.Visit); err != nil {
					t.Errorf("problem %s without its visit (written in the same Put): %v", id, err)
				}
			}
			return nil
		}))
	}
	if len(byRecord) != records {
		t.Errorf("%d records in the log, %d in the store", len(byRecord), records)
	}

	// Every acknowledged visit is there; at most one unacknowledged visit per
	// run (written, then killed before it could print).
	visits, err := db.Count(domain.KindVisit)
	must(t, err)
	for id := range acked {
		if _, err := db.Get(domain.KindVisit, id); err != nil {
			t.Fatalf("acknowledged visit %s lost: %v", id, err)
		}
	}
	if extra := visits - fixtureVisits - len(acked); extra < 0 || extra > runs {
		t.Errorf("%d visits: %d from the fixture, %d acknowledged, %d runs", visits, fixtureVisits, len(acked), runs)
	}
	must(t, db.Close())

	// seen maps each logged change to its sequence, and nothing else.
	raw, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	must(t, err)
	defer raw.Close()
	must(t, raw.View(func(tx *bolt.Tx) error {
		n := 0
		err := tx.Bucket([]byte("seen")).ForEach(func(k, val []byte) error {
			n++
			seq, ok := changes[uuid.UUID(k)]
			if !ok || len(val) != 8 || binary.BigEndian.Uint64(val) != seq {
				t.Errorf("seen %x -> %x does not match the log", k, val)
			}
			return nil
		})
		if n != len(changes) {
			t.Errorf("seen holds %d changes, the log %d", n, len(changes))
		}
		return err
	}))
}
