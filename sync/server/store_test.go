package server_test

import (
	"path/filepath"
	"testing"

	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/storagetest"
)

// TestStore runs the storage's conformance suite on bbolt: the handles are
// one store.DB, as the instances of a bbolt server are one process.
func TestStore(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, n int) []server.Store {
		db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		hs := make([]server.Store, n)
		for i := range hs {
			hs[i] = server.NewBolt(db)
		}
		return hs
	})
}
