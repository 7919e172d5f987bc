package server_test

import (
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/registrytest"
	"bangfu/sync/synctest"
)

// TestRegistryBolt runs the registry's conformance suite on bbolt.
func TestRegistryBolt(t *testing.T) {
	registrytest.Run(t, func(t *testing.T, clock *registrytest.Clock) (server.Registry, uuid.UUID, uuid.UUID) {
		db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{Now: clock.Now, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		w, err := synctest.BuildWorld(db, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return db, w.Cadre1.ID, w.Cadre2.ID
	})
}
