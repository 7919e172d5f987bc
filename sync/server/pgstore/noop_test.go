package pgstore_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
)

// TestNoOpSyncWritesNothing is sync/server's test of that name on
// PostgreSQL: a device syncing with nothing to send changes no row of the
// database — every table's row versions (xmin, ctid) are as they were, so
// nothing was inserted, updated or deleted and no WAL record of a row was
// written — and leaves the instance's mirror file as it was, until the
// recorded last sync is TouchEvery old and is written again.
func TestNoOpSyncWritesNothing(t *testing.T) {
	needPG(t)
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	}
	advance := func(d time.Duration) {
		mu.Lock()
		clock = clock.Add(d)
		mu.Unlock()
	}
	ctx := context.Background()
	d := demo.Town(1, time.Now().Add(-time.Hour), 60) // 王坪村 with 60 households
	src := filepath.Join(t.TempDir(), "village.db")
	if err := loadBolt(src, d); err != nil {
		t.Fatal(err)
	}
	url, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadInto(ctx, url, src); err != nil {
		t.Fatal(err)
	}
	mirror := filepath.Join(t.TempDir(), "mirror.db")
	rep, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{Mirror: mirror})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	h := httptest.NewServer(server.New(rep, server.Options{Logger: quiet, Now: now, TouchEvery: 10 * time.Minute}))
	defer h.Close()

	id := uuid.New()
	dev := &rawDevice{id: id, cadre: d.GroupCadre.ID, clock: domain.NewClock(id, time.Now), http: h.Client()}
	code, err := rep.CreateEnrolCode(d.GroupCadre.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.enroll(ctx, h.URL, code); err != nil {
		t.Fatal(err)
	}
	if err := dev.sync(ctx, h.URL, nil); err != nil { // pulls everything: the syncs below are no-ops
		t.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows := func() string {
		t.Helper()
		r, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(r, pgx.RowTo[string])
		if err != nil || len(tables) == 0 {
			t.Fatalf("tables %v: %v", tables, err)
		}
		var b strings.Builder
		for _, name := range tables {
			var v string
			q := fmt.Sprintf(`SELECT count(*) || ':' || coalesce(string_agg(xmin::text || ctid::text, ',' ORDER BY ctid), '') FROM %s`,
				pgx.Identifier{name}.Sanitize())
			if err := conn.QueryRow(ctx, q).Scan(&v); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s\n", name, v)
		}
		return b.String()
	}
	file := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(mirror)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	same := func(a, b os.FileInfo) bool { return a.ModTime().Equal(b.ModTime()) && a.Size() == b.Size() }

	before, mirrorBefore := rows(), file()
	time.Sleep(20 * time.Millisecond) // past the file system's clock granularity
	for range 5 {
		advance(time.Minute)
		if err := dev.sync(ctx, h.URL, nil); err != nil {
			t.Fatal(err)
		}
	}
	if after := rows(); after != before {
		t.Errorf("no-op syncs wrote rows:\n%s\nthen\n%s", before, after)
	}
	if after := file(); !same(mirrorBefore, after) {
		t.Errorf("no-op syncs wrote to the mirror: %v %d bytes, then %v %d bytes",
			mirrorBefore.ModTime(), mirrorBefore.Size(), after.ModTime(), after.Size())
	}

	// Once the recorded sync is TouchEvery old, a sync records it again:
	// the check above would see that write.
	advance(6 * time.Minute)
	if err := dev.sync(ctx, h.URL, nil); err != nil {
		t.Fatal(err)
	}
	if after := rows(); after == before {
		t.Error("a sync after TouchEvery did not record the last sync")
	}
	devs, err := rep.Devices()
	if err != nil || len(devs) != 1 || !devs[0].LastSync.Equal(now()) {
		t.Errorf("devices %+v, now %v: %v", devs, now(), err)
	}
	// And a push writes too.
	dev.households = []uuid.UUID{d.Households[0].ID}
	before = rows()
	if err := dev.sync(ctx, h.URL, dev.visits(1)); err != nil {
		t.Fatal(err)
	}
	if rows() == before {
		t.Error("a push wrote no row")
	}
}

// loadInto loads the bbolt store at path into the database at url.
func loadInto(ctx context.Context, url, path string) error {
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = pgstore.Load(ctx, url, db)
	return err
}
