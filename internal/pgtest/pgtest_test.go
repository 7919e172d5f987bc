package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"bangfu/internal/pgtest"
)

// TestStart starts a server, creates two databases, writes to one and checks
// that the other does not see it, then stops it and checks its directory is
// gone.
func TestStart(t *testing.T) {
	pg, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := pg.NewDB(ctx)
	if err != nil {
		pg.Stop()
		t.Fatal(err)
	}
	b, err := pg.NewDB(ctx)
	if err != nil || a == b {
		pg.Stop()
		t.Fatalf("second database %q (first %q): %v", b, a, err)
	}
	func() {
		ca, err := pgx.Connect(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		defer ca.Close(ctx)
		if _, err := ca.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (7)"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := ca.QueryRow(ctx, "SELECT n FROM t").Scan(&n); err != nil || n != 7 {
			t.Fatalf("read back %d: %v", n, err)
		}
		cb, err := pgx.Connect(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		defer cb.Close(ctx)
		if _, err := cb.Exec(ctx, "SELECT n FROM t"); err == nil {
			t.Error("the second database sees the first's table")
		}
	}()
	pg.Stop()
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Errorf("directory %s left behind: %v", pg.Dir, err)
	}
}
