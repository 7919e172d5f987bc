// Package pgtest runs a throwaway PostgreSQL server for tests: initdb in a
// temporary directory, postgres listening on a Unix socket in it (never on
// the network), stopped and removed at the end.
//
// Start it once per test package, from TestMain:
//
//	func TestMain(m *testing.M) {
//		pg, err := pgtest.Start()
//		if err != nil { ... }
//		code := m.Run()
//		pg.Stop()
//		os.Exit(code)
//	}
//
// and give each test its own database with [Server.NewDB].
//
// PostgreSQL refuses to run as root. When the tests run as root (as CI may),
// the server runs as the system user "postgres" that Debian's postgresql
// package creates, through setpriv; the data directory is handed to it.
// The binaries are looked for in BANGFU_PG_BIN, then Debian's
// /usr/lib/postgresql/<version>/bin (newest first), then PATH; without them
// Start returns ErrMissing, and tests should fail saying how to install them
// (scripts/setup.sh does).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrMissing is returned by Start when PostgreSQL's binaries are not found.
var ErrMissing = errors.New("pgtest: PostgreSQL not found (install it: bash scripts/setup.sh, or apt-get install postgresql; or set BANGFU_PG_BIN)")

// Server is a running PostgreSQL server.
type Server struct {
	// Dir holds the data directory and the socket.
	Dir string
	// Socket is the directory of the server's Unix socket.
	Socket string
	cmd    *exec.Cmd
	done   chan error
	n      atomic.Int64
}

// bin finds the directory of initdb and postgres.
func bin() (string, error) {
	if d := os.Getenv("BANGFU_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrMissing
}

// as returns the command line prefix that runs a command as a user
// PostgreSQL accepts, and the user's IDs (-1 when it is the current user).
func as() ([]string, int, int, error) {
	if os.Geteuid() != 0 {
		return nil, -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, 0, 0, fmt.Errorf("pgtest: running as root, and there is no user postgres to run PostgreSQL as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return []string{"setpriv", "--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--"}, uid, gid, nil
}

// Start initialises a cluster in a new temporary directory and starts a
// server on it, waiting until it accepts connections.
func Start() (*Server, error) {
	dir, err := bin()
	if err != nil {
		return nil, err
	}
	prefix, uid, gid, err := as()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "bangfu-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: tmp, Socket: tmp, done: make(chan error, 1)}
	data := filepath.Join(tmp, "data")
	if uid >= 0 {
		if err := os.Chown(tmp, uid, gid); err != nil {
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	run := func(args ...string) *exec.Cmd {
		all := append(slices.Clone(prefix), args...)
		c := exec.Command(all[0], all[1:]...)
		c.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
		return c
	}
	initdb := run(filepath.Join(dir, "initdb"), "-D", data, "-U", "bangfu", "--auth=trust",
		"-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	// No durability: a test's server dies with the test. No network: the
	// socket in the temporary directory only.
	s.cmd = run(filepath.Join(dir, "postgres"), "-D", data, "-k", tmp, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	logf, err := os.Create(filepath.Join(tmp, "postgres.log"))
	if err == nil {
		s.cmd.Stdout, s.cmd.Stderr = logf, logf
		defer logf.Close()
	}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("pgtest: postgres: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			c.Close(ctx)
			return s, nil
		}
		select {
		case werr := <-s.done:
			log, _ := os.ReadFile(filepath.Join(tmp, "postgres.log"))
			os.RemoveAll(tmp)
			return nil, fmt.Errorf("pgtest: postgres exited: %v\n%s", werr, log)
		case <-ctx.Done():
			s.Stop()
			return nil, fmt.Errorf("pgtest: postgres did not accept connections: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL returns the connection string of database name.
func (s *Server) URL(name string) string {
	return fmt.Sprintf("postgres://bangfu@/%s?host=%s&sslmode=disable", name, s.Socket)
}

// NewDB creates an empty database and returns its connection string.
func (s *Server) NewDB(ctx context.Context) (string, error) {
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), s.n.Add(1))
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// Stop stops the server (a fast shutdown, then a kill) and removes its
// directory.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	os.RemoveAll(s.Dir)
}
