package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
)

// Catch-up of what entered a scope (server side).
//
// A fingerprint (ScopePrint) tells a server that a device's readable units
// changed, not how. To send a device whose scope only grew the records that
// came into it rather than its whole scope, a server remembers the units
// behind each fingerprint it hands out (RememberScope): when a device's
// cursor names a fingerprint whose units are all still readable, the
// records it holds are those of these units, and the server sends the
// current state of the others only (HeldUnder says which a device holds).
// A fingerprint not remembered (a new device, one forgotten after
// scopeKeep, an older server's cursor) or a scope that also lost units
// takes the whole catch-up, as before. What left the scope is named to
// the device (HeldUnder, and not readable now), which removes it.
//
//	scopes   fingerprint -> unix seconds it was last remembered (8 bytes),
//	         then its units (16 bytes each, sorted)
var bucketScopes = []byte("scopes")

// scopeKeep is how long a fingerprint is remembered after a device last
// synced under it; scopeRefresh how old its time may grow before a sync
// under it writes it again.
const (
	scopeKeep    = 180 * 24 * time.Hour
	scopeRefresh = 7 * 24 * time.Hour
)

// ScopeUnits is ScopePrint that also returns the units the fingerprint is
// made of — the IDs of the readable places, live households, pairings
// readable without their household, duties readable without their place
// and cadres — sorted.
func (db *DB) ScopeUnits(readable func(*Entry) bool) (print string, last uint64, units []uuid.UUID, err error) {
	print, last, units, err = db.scopeUnits(nil, readable, true)
	slices.SortFunc(units, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return print, last, units, err
}

// ScopeUnitsIn is ScopeUnits walking only the units in (see Within).
func (db *DB) ScopeUnitsIn(in Within, readable func(*Entry) bool) (print string, last uint64, units []uuid.UUID, err error) {
	print, last, units, err = db.scopeUnits(&in, readable, true)
	slices.SortFunc(units, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return print, last, units, err
}

// RememberScope records units (sorted, as ScopeUnits returns them) as
// those of fingerprint print, at now, unless they were recorded less than
// scopeRefresh ago; it forgets fingerprints not recorded for scopeKeep.
func (db *DB) RememberScope(print string, units []uuid.UUID, now time.Time) error {
	fresh := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketScopes); b != nil {
			if v := b.Get([]byte(print)); len(v) >= 8 {
				at := time.Unix(int64(binary.BigEndian.Uint64(v)), 0)
				fresh = now.Sub(at) < scopeRefresh
			}
		}
		return nil
	})
	if err != nil || fresh {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketScopes)
		if err != nil {
			return err
		}
		var old [][]byte
		b.ForEach(func(k, v []byte) error {
			if len(v) < 8 || now.Sub(time.Unix(int64(binary.BigEndian.Uint64(v)), 0)) > scopeKeep {
				old = append(old, slices.Clone(k))
			}
			return nil
		})
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		v := make([]byte, 8, 8+16*len(units))
		binary.BigEndian.PutUint64(v, uint64(now.Unix()))
		for _, u := range units {
			v = append(v, u[:]...)
		}
		return b.Put([]byte(print), v)
	})
	if err != nil {
		return fmt.Errorf("store: remember scope %s: %w", print, err)
	}
	return nil
}

// ScopeUnitsOf returns the units remembered for fingerprint print, and
// whether they are.
func (db *DB) ScopeUnitsOf(print string) ([]uuid.UUID, bool, error) {
	var units []uuid.UUID
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScopes)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(print))
		if len(v) < 8 || (len(v)-8)%16 != 0 {
			return nil
		}
		ok = true
		units = make([]uuid.UUID, 0, (len(v)-8)/16)
		for i := 8; i < len(v); i += 16 {
			units = append(units, uuid.UUID(v[i:i+16]))
		}
		return nil
	})
	return units, ok, err
}

// HeldUnder returns whether a device whose scope was made of units (as
// ScopeUnits returns them) held the record whose log entry header is e: its
// own unit (a place, household, cross-village pairing or duty, or cadre) was
// readable, or, for the others, the unit whose header it shares — its
// household, else the village or town it belongs to (a place's header is its
// village and town). A record without any header is readable by every
// device, and was held.
func HeldUnder(units []uuid.UUID) func(e *Entry) bool {
	in := make(map[uuid.UUID]bool, len(units))
	for _, u := range units {
		in[u] = true
	}
	return func(e *Entry) bool {
		switch {
		case in[e.Change.Record]:
			return true
		case e.Change.Kind == domain.KindCadre:
			return false
		case e.Household != uuid.Nil:
			return in[e.Household]
		case e.Village != uuid.Nil:
			return in[e.Village]
		case e.Town != uuid.Nil:
			return in[e.Town]
		}
		return true
	}
}

// HeldWithin returns where the records HeldUnder(units) accepts can be (see
// Within, for StateIn): a catch-up of what entered a scope walks these with
// the scope's own, to name what left it.
func HeldWithin(units []uuid.UUID) Within {
	set := make(map[uuid.UUID]bool, len(units))
	for _, u := range units {
		set[u] = true
	}
	// A unit is a household, a pairing or duty, a cadre or a place: the
	// records of a household it names, the assignment or cadre itself, and the roster
	// of a village or town it names.
	return Within{Households: units, Pairings: units, Cadres: units, RosterVillages: set, RosterTowns: set}
}
