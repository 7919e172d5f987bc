package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/internal/pgtest"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
	"bangfu/sync/server/registrytest"
	"bangfu/sync/server/storagetest"
	"bangfu/sync/synctest"
)

var pg *pgtest.Server

// missing is why there is no PostgreSQL to test on: its binaries are not
// installed (pgtest.ErrMissing), and every test skips.
var missing error

func TestMain(m *testing.M) {
	if url := os.Getenv(mirrorChildEnv); url != "" {
		mirrorChild(url) // a child process of TestKilledInstanceMirror
		return
	}
	var err error
	pg, err = pgtest.Start()
	switch {
	case errors.Is(err, pgtest.ErrMissing):
		missing = err
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if pg != nil {
		pg.Stop()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	for _, dir := range benchDirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// needPG skips tb when PostgreSQL is not installed.
func needPG(tb testing.TB) {
	tb.Helper()
	if missing != nil {
		tb.Skip(missing)
	}
}

// open returns a DB on a new database whose roster is cadres.
func open(t *testing.T, opt pgstore.Options, cadres ...uuid.UUID) (*pgstore.DB, string) {
	t.Helper()
	url, err := pg.NewDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	opt.Cadre = func(id uuid.UUID) (bool, error) {
		for _, c := range cadres {
			if c == id {
				return true, nil
			}
		}
		return false, nil
	}
	db, err := pgstore.Open(context.Background(), url, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db, url
}

// TestRegistry runs the registry's conformance suite on PostgreSQL.
func TestRegistry(t *testing.T) {
	needPG(t)
	registrytest.Run(t, func(t *testing.T, clock *registrytest.Clock) (server.Registry, uuid.UUID, uuid.UUID) {
		a, b := uuid.New(), uuid.New()
		db, _ := open(t, pgstore.Options{Server: uuid.New(), Now: clock.Now}, a, b)
		return db, a, b
	})
}

// TestInstances checks that instances opening one database at once migrate
// it once, and that one code given to two instances at once enrols one
// device.
func TestInstances(t *testing.T) {
	needPG(t)
	cadre := uuid.New()
	first, url := open(t, pgstore.Options{}, cadre)
	var wg sync.WaitGroup
	dbs := make([]*pgstore.DB, 4)
	errs := make([]error, len(dbs))
	for i := range dbs {
		wg.Go(func() {
			dbs[i], errs[i] = pgstore.Open(context.Background(), url, pgstore.Options{Cadre: func(uuid.UUID) (bool, error) { return true, nil }})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	code, err := first.CreateEnrolCode(cadre, 3600e9)
	if err != nil {
		t.Fatal(err)
	}
	enrolled := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() { _, _, enrolled[i] = db.Enroll(code, uuid.New(), "手机", first.Now()) })
	}
	wg.Wait()
	ok := 0
	for _, err := range enrolled {
		if err == nil {
			ok++
		}
	}
	devs, err := first.Devices()
	if ok != 1 || err != nil || len(devs) != 1 {
		t.Errorf("one code at four instances enrolled %d (%v), devices %d %v", ok, enrolled, len(devs), err)
	}
}

// TestStore runs the storage's conformance suite on PostgreSQL: each handle
// is a replica of its own on one database, as bangfud instances are.
func TestStore(t *testing.T) {
	needPG(t)
	storagetest.Run(t, func(t *testing.T, n int) []server.Store {
		url, err := pg.NewDB(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		hs := make([]server.Store, n)
		for i := range hs {
			r, err := pgstore.OpenReplica(context.Background(), url, pgstore.ReplicaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Close)
			hs[i] = r
		}
		return hs
	})
}

// TestMirror checks an instance's mirror file across restarts: one left
// behind the shared log catches up, and one of another database is built
// again from this one's log.
func TestMirror(t *testing.T) {
	needPG(t)
	ctx := context.Background()
	url, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mirror.db")
	a, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{Mirror: path})
	if err != nil {
		t.Fatal(err)
	}
	w := world(t, a)
	a.Close()
	// Another instance writes while the first is down.
	b, err := pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ch := domain.Change{ID: uuid.New(), Kind: domain.KindCadre, Record: w.Cadre1.ID, Author: w.Admin,
		Stamp: domain.Stamp{Wall: time.Now().UnixMilli(), Device: uuid.New()}, Fields: domain.Fields{"phone": []byte(`"13900000000"`)}}
	if _, err := b.ApplyGuarded(ch.Stamp.Device, []domain.Change{ch}, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := b.LastSeq()
	a, err = pgstore.OpenReplica(ctx, url, pgstore.ReplicaOptions{Mirror: path})
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Mirror()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := m.LastSeq(); got != want {
		t.Errorf("the mirror reopened reflects %d entries, want %d", got, want)
	}
	if r, err := m.Get(domain.KindCadre, w.Cadre1.ID); err != nil || r.(*domain.Cadre).Phone != "13900000000" {
		t.Errorf("the mirror reopened misses the edit made meanwhile: %v", err)
	}
	a.Close()
	// The same file given to an instance of another database.
	other, err := pg.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgstore.OpenReplica(ctx, other, pgstore.ReplicaOptions{Mirror: path})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m, err := c.Mirror(); err != nil {
		t.Fatal(err)
	} else if n, _ := m.LastSeq(); n != 0 || m.Device() != c.Device() {
		t.Errorf("a mirror of another database was kept: %d entries, device %s, want 0 and %s", n, m.Device(), c.Device())
	}
}

// world writes the sync tests' roster through r, as pushes.
func world(t *testing.T, r *pgstore.Replica) *synctest.World {
	t.Helper()
	src, err := store.Open(filepath.Join(t.TempDir(), "world.db"), &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w, err := synctest.BuildWorld(src, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var chs []domain.Change
	err = src.Log(0, func(e store.Entry) (bool, error) { chs = append(chs, e.Change); return true, nil })
	if err == nil {
		_, err = r.ApplyGuarded(src.Device(), chs, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAudit checks that what devices report (through server.Store's Audit)
// is kept in the database, newest first, for every instance to read.
func TestAudit(t *testing.T) {
	needPG(t)
	db, _ := open(t, pgstore.Options{})
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	place := uuid.New()
	for i, action := range []string{"reveal_id", "key_released"} {
		e := store.AuditEntry{At: at.Add(time.Duration(i) * time.Minute), Account: "设备 1a2b", Action: action,
			Target: "马兴文户", Detail: "身份证号", Place: place}
		if err := db.Audit(e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.AuditLog(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Action != "key_released" || got[1].Action != "reveal_id" {
		t.Fatalf("audit log: %+v", got)
	}
	if !got[1].At.Equal(at) || got[1].Target != "马兴文户" || got[1].Place != place || got[1].Account != "设备 1a2b" {
		t.Errorf("entry read back differs: %+v", got[1])
	}
}

// TestEscrowKey checks that the database names one escrow key: the first
// instance's; another instance with the same key agrees, one with another
// key is refused; the key itself is never in the database.
func TestEscrowKey(t *testing.T) {
	needPG(t)
	a, url := open(t, pgstore.Options{})
	b, err := pgstore.Open(context.Background(), url, pgstore.Options{Cadre: func(uuid.UUID) (bool, error) { return false, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if id, err := a.EscrowKeyID(); id != nil || err != nil {
		t.Fatalf("a new database names escrow key %x (%v)", id, err)
	}
	key, other := make([]byte, server.EscrowKeySize), make([]byte, server.EscrowKeySize)
	key[0], other[0] = 1, 2
	if err := a.UseEscrowKey(server.EscrowKeyID(key)); err != nil {
		t.Fatal(err)
	}
	if err := b.UseEscrowKey(server.EscrowKeyID(key)); err != nil {
		t.Errorf("the same key at another instance: %v", err)
	}
	if err := b.UseEscrowKey(server.EscrowKeyID(other)); !errors.Is(err, pgstore.ErrEscrowKey) {
		t.Errorf("another key: %v, want ErrEscrowKey", err)
	}
	id, err := b.EscrowKeyID()
	if err != nil || string(id) != string(server.EscrowKeyID(key)) || string(id) == string(key) {
		t.Errorf("the database names %x (%v)", id, err)
	}
}
