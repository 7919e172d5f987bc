package store

import (
	"slices"

	bolt "go.etcd.io/bbolt"
)

// SetSealHook sets the function Seal calls at each of its stages ("copied":
// the sealed copy is written, the clear file not replaced yet; "renamed":
// replaced), so that a crash test can kill the process there.
func SetSealHook(fn func(stage string)) { sealHook = fn }

// Settle writes the index keys a pulled page's parts hold (held.go).
func (db *DB) Settle() error { return db.settle() }

// BoltStats returns bbolt's statistics of the open file (pages written).
func (db *DB) BoltStats() bolt.Stats { return db.bolt.raw().Stats() }

// SetStateDecodeAll makes State decode every record to judge it (the
// reference its cheaper reading of the household field is compared with).
func SetStateDecodeAll(on bool) { stateDecodeAll = on }

// IndexNames returns the names of every secondary index (index.go).
func IndexNames() []string {
	var out []string
	for _, ixs := range indexes {
		for _, ix := range ixs {
			out = append(out, ix.name)
		}
	}
	slices.Sort(out)
	return out
}
