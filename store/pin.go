package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/seal"
)

var (
	keyWrapped = []byte("seal_wrapped") // the data key wrapped by the PIN
	keyCheck   = []byte("seal_check")   // checkText sealed by the data key
	keyTries   = []byte("seal_tries")   // wrong PINs in a row (uint32 BE), then the last one's wall ms (int64 BE)
)

// checkText is what keyCheck holds sealed: a key that opens it is the
// store's data key.
var checkText = []byte("bangfu data key")

// MaxPINTries is how many wrong PINs in a row lock the store out: after
// them only UnlockWithKey (the data key escrowed with the office) opens it.
const MaxPINTries = 10

// FreePINTries is how many wrong PINs in a row cost nothing more than a
// retry; each further one makes the next try wait (PINDelay).
const FreePINTries = 3

// PINDelay returns how long after the failed-th wrong PIN in a row the
// next try must wait: nothing for the first FreePINTries, then 30 s, 1, 2,
// 5, 15 and 30 minutes.
func PINDelay(failed int) time.Duration {
	delays := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute}
	switch i := failed - FreePINTries - 1; {
	case i < 0:
		return 0
	case i < len(delays):
		return delays[i]
	default:
		return delays[len(delays)-1]
	}
}

// ErrLockedOut is returned by Unlock after MaxPINTries wrong PINs in a
// row, whatever the PIN: the office releases the device's escrowed data key
// (UnlockWithKey), or the device is enrolled again.
var ErrLockedOut = &domain.Error{Code: domain.EFORBIDDEN, Field: "pin",
	Zh: fmt.Sprintf("PIN 码连续错误 %d 次，应用已锁定：请联系乡镇办公室取得解锁码", MaxPINTries),
	En: fmt.Sprintf("%d wrong PINs in a row: the app is locked; ask the township office for an unlock code", MaxPINTries)}

// ErrNotSealed is returned by the PIN's methods on a store without a PIN.
var ErrNotSealed = &domain.Error{Code: domain.ECONFLICT, Field: "pin",
	Zh: "尚未设置 PIN 码", En: "no PIN has been set"}

// ErrSealed is returned by Seal on a store that has a PIN already.
var ErrSealed = &domain.Error{Code: domain.ECONFLICT, Field: "pin",
	Zh: "已设置过 PIN 码", En: "a PIN has been set already"}

// ErrWrongKey is returned by UnlockWithKey for a key that is not the store's.
var ErrWrongKey = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "key",
	Zh: "解锁码不属于这台设备的数据", En: "the unlock key does not belong to this device's data"}

// PINState is what the PIN screen shows: wrong PINs so far and until when
// the next must wait.
type PINState struct {
	Failed    int       // wrong PINs in a row
	Last      time.Time // when the last wrong PIN was entered (zero if none)
	Until     time.Time // no PIN is tried before this (zero: at once)
	LockedOut bool      // MaxPINTries reached: only UnlockWithKey opens the store
}

// TriesLeft returns how many wrong PINs remain before the lock-out.
func (s PINState) TriesLeft() int { return MaxPINTries - s.Failed }

func readTries(meta *bolt.Bucket) PINState {
	var s PINState
	if v := meta.Get(keyTries); len(v) == 12 {
		s.Failed = int(binary.BigEndian.Uint32(v))
		if ms := int64(binary.BigEndian.Uint64(v[4:])); ms != 0 {
			s.Last = time.UnixMilli(ms)
		}
	}
	if d := PINDelay(s.Failed); d > 0 {
		s.Until = s.Last.Add(d)
	}
	s.LockedOut = s.Failed >= MaxPINTries
	return s
}

func writeTries(meta *bolt.Bucket, failed int, last time.Time) error {
	v := binary.BigEndian.AppendUint32(nil, uint32(failed))
	var ms int64
	if !last.IsZero() {
		ms = last.UnixMilli()
	}
	return meta.Put(keyTries, binary.BigEndian.AppendUint64(v, uint64(ms)))
}

// Sealed reports whether the store is encrypted: a PIN has been set.
func (db *DB) Sealed() bool { return db.vault.sealed.Load() }

// Locked reports whether the store is sealed and its key is not in memory:
// every read and write is refused with ErrNeedPIN until Unlock.
func (db *DB) Locked() bool { return db.vault.ready() != nil }

// PINState returns the wrong-PIN count and wait, kept in the store so that a
// restarted app keeps them. It works while locked.
func (db *DB) PINState() (PINState, error) {
	var s PINState
	err := db.bolt.raw().View(func(tx *bolt.Tx) error {
		s = readTries(tx.Bucket(bucketMeta))
		return nil
	})
	return s, err
}

// Unlock opens a sealed store with its PIN at time now. The wrong-PIN count
// is written before the PIN is checked, so quitting the app mid-check does
// not escape it. After FreePINTries wrong PINs each try must wait
// (PINDelay; an error with code EUNAVAILABLE says how long); after
// MaxPINTries Unlock returns ErrLockedOut whatever the PIN. A wrong PIN is
// seal.ErrWrongPIN. Unlocking an unlocked store checks the PIN all the same.
func (db *DB) Unlock(pin string, now time.Time) error {
	v := db.vault
	v.mu.Lock()
	defer v.mu.Unlock()
	key, err := db.tryPIN(pin, now)
	if err != nil {
		return fmt.Errorf("store: unlock: %w", err)
	}
	clearTries := func(meta *bolt.Bucket) error { return writeTries(meta, 0, time.Time{}) }
	if err := db.open(key, clearTries); err != nil {
		return fmt.Errorf("store: unlock: %w", err)
	}
	return nil
}

// tryPIN counts a try of pin at now, and returns the data key it unwraps;
// the caller clears the count in the transaction that uses the key. The
// vault's mutex is held.
func (db *DB) tryPIN(pin string, now time.Time) (seal.Key, error) {
	if !db.vault.sealed.Load() {
		return seal.Key{}, ErrNotSealed
	}
	var wrapped []byte
	raw := db.bolt.raw()
	err := raw.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		before := readTries(meta)
		switch {
		case before.LockedOut:
			return ErrLockedOut
		case now.Before(before.Until):
			return waitError(before.Until.Sub(now))
		}
		wrapped = clone(meta.Get(keyWrapped))
		return writeTries(meta, before.Failed+1, now)
	})
	if err != nil {
		return seal.Key{}, err
	}
	return seal.Unwrap(wrapped, pin)
}

func waitError(d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	wait := fmt.Sprintf("%d 秒", secs)
	waitEn := fmt.Sprintf("%d s", secs)
	if secs >= 60 {
		mins := (secs + 59) / 60
		wait, waitEn = fmt.Sprintf("%d 分钟", mins), fmt.Sprintf("%d min", mins)
	}
	return domain.Errorf(domain.EUNAVAILABLE, "pin",
		"PIN 码错误次数过多，请 %[1]s 后再试", "too many wrong PINs; try again in %[2]s", wait, waitEn)
}

// open puts key in memory after checking it is the store's, builds the
// in-memory indexes and runs a migration that waited for the key, with also
// in the same transaction. The vault's mutex is held.
func (db *DB) open(key seal.Key, also func(meta *bolt.Bucket) error) error {
	v := db.vault
	c := seal.NewCipher(key)
	return db.bolt.raw().Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if _, err := c.Open(nil, meta.Get(keyCheck), keyCheck); err != nil {
			return ErrWrongKey
		}
		v.cipher.Store(c)
		v.key = key
		ok := false
		defer func() {
			if !ok {
				v.cipher.Store(nil)
				v.key = seal.Key{}
				v.mem.reset()
			}
		}()
		if v.migrateFrom != 0 {
			if err := migrate(tx, v.migrateFrom); err != nil {
				return fmt.Errorf("migrate from schema %d: %w", v.migrateFrom, err)
			}
			if err := meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		if err := v.build(tx); err != nil {
			return err
		}
		// Keys of an unfinished page the store was locked with.
		if err := db.settleHeld(tx); err != nil {
			return fmt.Errorf("rebuild the keys of an unfinished page: %w", err)
		}
		if also != nil {
			if err := also(meta); err != nil {
				return err
			}
		}
		ok = true
		tx.OnCommit(func() { v.migrateFrom = 0 })
		return nil
	})
}

// Lock forgets the data key and the in-memory indexes: until Unlock every
// read and write is refused with ErrNeedPIN. The app locks after it has
// been in the background a while. Locking a store without a PIN does
// nothing.
func (db *DB) Lock() {
	v := db.vault
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.sealed.Load() {
		return
	}
	// Wait for transactions under way: they may be reading with the key.
	release := db.bolt.exclusive()
	v.cipher.Store(nil)
	v.key = seal.Key{}
	release()
	v.mem.mu.Lock()
	v.mem.sets, v.mem.snaps = nil, nil
	v.mem.mu.Unlock()
}

// ChangePIN wraps the data key with a new PIN. Only the wrapped key is
// rewritten, none of the data. old is checked as Unlock checks it (it counts
// as a try, and waits and locks out as Unlock does); newPIN must pass
// seal.CheckPIN. It does not unlock a locked store.
func (db *DB) ChangePIN(old, newPIN string, now time.Time) error {
	if err := seal.CheckPIN(newPIN); err != nil {
		return err
	}
	v := db.vault
	v.mu.Lock()
	defer v.mu.Unlock()
	key, err := db.tryPIN(old, now)
	if err != nil {
		return fmt.Errorf("store: change PIN: %w", err)
	}
	if err := db.rewrap(key, newPIN); err != nil {
		return fmt.Errorf("store: change PIN: %w", err)
	}
	return nil
}

// rewrap stores key wrapped by pin. The vault's mutex is held.
func (db *DB) rewrap(key seal.Key, pin string) error {
	w, err := seal.Wrap(key, pin, db.params)
	if err != nil {
		return err
	}
	return db.bolt.raw().Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyWrapped, w); err != nil {
			return err
		}
		return writeTries(meta, 0, time.Time{})
	})
}

// DataKey returns the store's data key, for the office to keep (escrow) so
// that a forgotten PIN loses nothing: UnlockWithKey opens the store with it.
// The store must be unlocked.
func (db *DB) DataKey() (seal.Key, error) {
	v := db.vault
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.sealed.Load() {
		return seal.Key{}, ErrNotSealed
	}
	if v.cipher.Load() == nil {
		return seal.Key{}, ErrNeedPIN
	}
	return v.key, nil
}

// UnlockWithKey opens a sealed store with its data key (released by the
// office after the cadre forgot the PIN or was locked out) and sets newPIN,
// which must pass seal.CheckPIN. The wrong-PIN count is cleared. Nothing
// of the store is lost: changes not yet synced are still there to send.
func (db *DB) UnlockWithKey(key seal.Key, newPIN string) error {
	if err := seal.CheckPIN(newPIN); err != nil {
		return err
	}
	v := db.vault
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.sealed.Load() {
		return ErrNotSealed
	}
	w, err := seal.Wrap(key, newPIN, db.params)
	if err != nil {
		return err
	}
	err = db.open(key, func(meta *bolt.Bucket) error {
		if err := meta.Put(keyWrapped, w); err != nil {
			return err
		}
		return writeTries(meta, 0, time.Time{})
	})
	if err != nil {
		return fmt.Errorf("store: unlock with key: %w", err)
	}
	return nil
}
