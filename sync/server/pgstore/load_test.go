package pgstore_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/server/pgstore"
)

// TestLoadRebuildsLogIndexes: Load builds the log's indexes after its copy,
// and leaves them and its constraints as the migrations made them (a
// change logged twice is still refused), with every entry in place.
func TestLoadRebuildsLogIndexes(t *testing.T) {
	needPG(t)
	ctx := context.Background()
	now := time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)
	src, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n, err := src.Load(demo.Village(1, now).Records())
	if err != nil {
		t.Fatal(err)
	}
	shape := func(url string) (indexes, constraints []string) {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		for q, out := range map[string]*[]string{
			`SELECT indexdef FROM pg_indexes WHERE tablename = 'log' ORDER BY indexname`:                                              &indexes,
			`SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'log'::regclass ORDER BY conname`: &constraints,
		} {
			rows, err := c.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			*out, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
		}
		return indexes, constraints
	}
	fresh, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgstore.Open(ctx, fresh, pgstore.Options{Cadre: func(uuid.UUID) (bool, error) { return false, nil }})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	wantIx, wantCon := shape(fresh)
	if len(wantIx) < 6 || len(wantCon) < 2 {
		t.Fatalf("the migrated log has indexes %q, constraints %q", wantIx, wantCon)
	}

	url, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgstore.Load(ctx, url, src)
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("Load copied %d entries, the store has %d", got, n)
	}
	ix, con := shape(url)
	if !reflect.DeepEqual(ix, wantIx) || !reflect.DeepEqual(con, wantCon) {
		t.Fatalf("after Load the log has\nindexes %q\nconstraints %q\nwant\n%q\n%q", ix, con, wantIx, wantCon)
	}
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var count int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM log`).Scan(&count); err != nil || count != n {
		t.Fatalf("%d entries in the log, %v; want %d", count, err, n)
	}
	_, err = c.Exec(ctx, `INSERT INTO log SELECT seq + 1000000, id, origin, household, village, town, kind, record, author, wall, logical, device, body FROM log WHERE seq = 1`)
	if err == nil {
		t.Fatal("a change logged twice was accepted after Load")
	}
}
