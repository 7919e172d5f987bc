package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"

	"bangfu/internal/pgtest"
	"bangfu/sync/server"
	"bangfu/sync/server/pgstore"
	"bangfu/sync/server/registrytest"
	"bangfu/sync/server/storetest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) {
	var err error
	if pg, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
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
	storetest.Run(t, func(t *testing.T, n int) []server.Store {
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
