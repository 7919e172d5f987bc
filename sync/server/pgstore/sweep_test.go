package pgstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bangfu/sync/server/pgstore"
)

// mirrorChildEnv, set to a database URL, makes the test binary an instance
// that opens a replica with a temporary mirror, says where, and waits to be
// killed.
const mirrorChildEnv = "BANGFU_TEST_MIRROR_CHILD"

func mirrorChild(url string) {
	r, err := pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	m, err := r.Mirror()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("mirror", filepath.Dir(m.Path()))
	select {} // until killed
}

// startChild starts an instance in a process of its own with its temporary
// directory tmp, and returns it and its mirror's directory.
func startChild(t *testing.T, url, tmp string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), mirrorChildEnv+"="+url, "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "mirror ")
	if !ok {
		t.Fatalf("the child instance said %q", line)
	}
	return cmd, dir
}

// mirrors returns the temporary mirror directories in tmp.
func mirrors(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, "bangfu-mirror-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKilledInstanceMirror: an instance killed with SIGKILL leaves its
// temporary mirror behind; the next instance to start on the host removes
// it, and leaves alone the mirror of an instance still running; closed, it
// removes its own.
func TestKilledInstanceMirror(t *testing.T) {
	needPG(t)
	ctx := context.Background()
	url, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	killed, dead := startChild(t, url, tmp)
	_, live := startChild(t, url, tmp)
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	if got := mirrors(t, tmp); len(got) != 2 {
		t.Fatalf("after a SIGKILL the temporary directory holds %v, want the dead and the live instance's mirrors", got)
	}
	// Both older than the moment an instance takes to lock its new mirror.
	old := time.Now().Add(-time.Hour)
	for _, d := range []string{dead, live} {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}

	t.Setenv("TMPDIR", tmp)
	r, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the killed instance's mirror %s is still there (%v)", dead, err)
	}
	if _, err := os.Stat(filepath.Join(live, "mirror.db")); err != nil {
		t.Errorf("the live instance's mirror was removed: %v", err)
	}
	m, err := r.Mirror()
	if err != nil {
		t.Fatal(err)
	}
	own := filepath.Dir(m.Path())
	r.Close()
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Errorf("a closed instance left its mirror %s (%v)", own, err)
	}
	if got := mirrors(t, tmp); len(got) != 1 || got[0] != live {
		t.Errorf("the temporary directory holds %v, want only the live instance's %s", got, live)
	}
}
