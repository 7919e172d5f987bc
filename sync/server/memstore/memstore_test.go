package memstore_test

import (
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/memstore"
	"bangfu/sync/server/registrytest"
	"bangfu/sync/server/storagetest"
	"bangfu/sync/synctest"
)

// TestStore runs the storage's conformance suite on the model: the handles
// are one Store, as the instances of a bbolt server are one process.
func TestStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, n int) []server.Store {
		m := memstore.New(memstore.Options{})
		hs := make([]server.Store, n)
		for i := range hs {
			hs[i] = m
		}
		return hs
	})
}

// TestRegistry runs the registry's conformance suite on the model, its
// roster the one synctest builds, replayed from a bbolt store's log.
func TestRegistry(t *testing.T) {
	registrytest.Run(t, func(t *testing.T, clock *registrytest.Clock) (server.Registry, uuid.UUID, uuid.UUID) {
		db, err := store.Open(filepath.Join(t.TempDir(), "world.db"), &store.Options{Now: clock.Now, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		w, err := synctest.BuildWorld(db, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		m := memstore.New(memstore.Options{Now: clock.Now})
		if err := memstore.Replay(m, db, nil); err != nil {
			t.Fatal(err)
		}
		return m, w.Cadre1.ID, w.Cadre2.ID
	})
}
