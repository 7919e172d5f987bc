package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/seal"
)

// Encryption at rest (see pin.go for the API).
//
// A sealed store holds, in meta, the data key wrapped by the PIN (keyWrapped),
// a value sealed by the data key that proves a key right (keyCheck) and the
// wrong-PIN count (keyTries). With the key in memory (unlocked) it seals,
// with XChaCha20-Poly1305 and a random nonce each (package seal):
//
//	rec/<kind>   every row whole: sealedMark, then seal(row, "rec" kind 0 id)
//	log          every entry's JSON body (fields, bases): the binary header
//	             (IDs, stamp, kind: no content) stays clear, so that Pending
//	             counts and a scan can skip by header; then sealedMark,
//	             seal(body, "log" change ID)
//	draft        every draft: seal(draft, "draft" 0 key)
//	cursor       every sync cursor: seal(value, "cursor" 0 name) — the
//	             sync account's token among them
//
// The associated data is the value's place: a value copied under another
// record, change or draft fails to open. The indexes that hold people's
// names, phones and ID tails (memIndexes: hh_search, member_name) are not
// written to the file at all: they are built in memory at unlock
// (memindex.go) and kept up to date by the commits that change them. The
// other indexes hold only IDs and times. What stays clear: IDs, stamps,
// kinds, index keys of IDs and times, cursor names, settings, the device
// ID — enough to count and order records, not to read who they are about.
//
// A store that was never sealed works as before, in clear: a server's, or a
// device whose PIN has not been set yet.

// sealedMark is the first byte of a sealed row or log body. Clear rows start
// with rowBinary or '{'.
const sealedMark = 0xE5

// ErrNeedPIN is returned by every read and write of a sealed store while it
// is locked: the app asks for the PIN, and sync waits until then.
var ErrNeedPIN = &domain.Error{Code: domain.EFORBIDDEN, Field: "pin",
	Zh: "应用已锁定，请输入 PIN 码解锁", En: "the app is locked; enter the PIN to unlock it"}

// errClearInSealed is a value that should be sealed but is not.
var errClearInSealed = &domain.Error{Code: domain.EINTERNAL,
	Zh: "加密的数据文件中有未加密的数据", En: "unencrypted data in an encrypted store"}

// vault is a DB's encryption state.
type vault struct {
	sealed atomic.Bool
	cipher atomic.Pointer[seal.Cipher] // nil while locked
	mu     sync.Mutex                  // Unlock, Lock, Seal, ChangePIN: one at a time
	key    seal.Key                    // valid while cipher is set
	mem    memIndexes                  // the indexes kept in memory when sealed
	// migrateFrom is the schema version of a sealed file opened locked,
	// whose migration waits for the key (0: none).
	migrateFrom uint32
}

// ready returns ErrNeedPIN if the store is sealed and locked.
func (v *vault) ready() error {
	if v.sealed.Load() && v.cipher.Load() == nil {
		return ErrNeedPIN
	}
	return nil
}

// vaults finds the vault of a transaction's database: the codecs are handed a
// *bolt.Tx, not the DB.
var vaults sync.Map // *bolt.DB -> *vault

// vaultOf returns the vault of tx's database; a never-sealed one for a
// database not opened by Open (tests' raw bbolt files).
func vaultOf(tx *bolt.Tx) *vault {
	if v, ok := vaults.Load(tx.DB()); ok {
		return v.(*vault)
	}
	return &noVault
}

var noVault vault

// sealValue returns plain sealed with ad when the store is sealed, plain
// itself otherwise. Writing to a sealed, locked store is ErrNeedPIN.
func (v *vault) sealValue(plain, ad []byte, mark bool) ([]byte, error) {
	if !v.sealed.Load() {
		return plain, nil
	}
	c := v.cipher.Load()
	if c == nil {
		return nil, ErrNeedPIN
	}
	var dst []byte
	if mark {
		dst = make([]byte, 1, 1+len(plain)+seal.Overhead)
		dst[0] = sealedMark
	} else {
		dst = make([]byte, 0, len(plain)+seal.Overhead)
	}
	return c.Seal(dst, plain, ad), nil
}

// openValue is sealValue's inverse.
func (v *vault) openValue(b, ad []byte, mark bool) ([]byte, error) {
	if !v.sealed.Load() {
		return b, nil
	}
	c := v.cipher.Load()
	if c == nil {
		return nil, ErrNeedPIN
	}
	if mark {
		if len(b) == 0 || b[0] != sealedMark {
			return nil, errClearInSealed
		}
		b = b[1:]
	}
	return c.Open(nil, b, ad)
}

// The associated data of each kind of sealed value.
func rowAD(kind domain.Kind, id []byte) []byte {
	ad := make([]byte, 0, 4+len(kind)+1+16)
	ad = append(ad, "rec\x00"...)
	ad = append(ad, kind...)
	ad = append(ad, 0)
	return append(ad, id...)
}

func logAD(change []byte) []byte { return append([]byte("log\x00"), change...) }

func draftAD(key []byte) []byte { return append([]byte("draft\x00"), key...) }

// putDraft stores a draft, sealed when the store is.
func putDraft(tx *bolt.Tx, key string, data []byte) error {
	v, err := vaultOf(tx).sealValue(data, draftAD([]byte(key)), false)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketDraft).Put([]byte(key), clone(v))
}

// getDraft returns a copy of a draft, opened when the store is sealed, or nil.
func getDraft(tx *bolt.Tx, key string) ([]byte, error) {
	b := tx.Bucket(bucketDraft).Get([]byte(key))
	if b == nil {
		return nil, nil
	}
	out, err := vaultOf(tx).openValue(b, draftAD([]byte(key)), false)
	if err != nil {
		return nil, err
	}
	return clone(out), nil
}

// putCursor stores a sync cursor, sealed when the store is: the device's
// sync account (with its token, which would let the file's finder pull the
// whole scope from the server) and the server's refusals are cursors.
func putCursor(tx *bolt.Tx, name, value string) error {
	v, err := vaultOf(tx).sealValue([]byte(value), cursorAD([]byte(name)), false)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketCursor).Put([]byte(name), v)
}

// getCursor returns a copy of a sync cursor's value, nil if none.
func getCursor(tx *bolt.Tx, name string) ([]byte, error) {
	b := tx.Bucket(bucketCursor).Get([]byte(name))
	if b == nil {
		return nil, nil
	}
	out, err := vaultOf(tx).openValue(b, cursorAD([]byte(name)), false)
	if err != nil {
		return nil, fmt.Errorf("cursor %s: %w", name, err)
	}
	return clone(out), nil
}

func cursorAD(name []byte) []byte { return append([]byte("cursor\x00"), name...) }

// handle is the DB's bbolt database behind the lock: while a sealed store
// is locked every transaction is refused with ErrNeedPIN. Seal replaces the
// file under it (the swap takes mu exclusively).
type handle struct {
	mu sync.RWMutex
	b  *bolt.DB
	v  *vault
	// before runs first in every write transaction but holding's
	// (DB.settleHeld).
	before func(*bolt.Tx) error
}

// View runs a read transaction unless the store is locked.
func (h *handle) View(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if err := h.v.ready(); err != nil {
		return err
	}
	return h.b.View(fn)
}

// Update runs a write transaction unless the store is locked.
func (h *handle) Update(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if err := h.v.ready(); err != nil {
		return err
	}
	if h.before == nil {
		return h.b.Update(fn)
	}
	return h.b.Update(func(tx *bolt.Tx) error {
		if err := h.before(tx); err != nil {
			return err
		}
		return fn(tx)
	})
}

// holding is Update without before: for the parts of a pulled page, which
// may leave index keys held (held.go).
func (h *handle) holding(fn func(*bolt.Tx) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if err := h.v.ready(); err != nil {
		return err
	}
	return h.b.Update(fn)
}

// raw returns the bbolt database, for what works while locked (the PIN's
// own state).
func (h *handle) raw() *bolt.DB {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.b
}

// exclusive waits until no transaction runs and holds new ones back until
// the returned function is called. It polls TryLock rather than Lock: a
// waiting Lock would block the inner View of a transaction that nests one,
// and that transaction would never end.
func (h *handle) exclusive() (release func()) {
	for !h.mu.TryLock() {
		time.Sleep(100 * time.Microsecond)
	}
	return h.mu.Unlock
}

// Close closes the database.
func (h *handle) Close() error {
	defer h.exclusive()()
	vaults.Delete(h.b)
	return h.b.Close()
}

// isNeedPIN reports whether err is ErrNeedPIN.
func isNeedPIN(err error) bool { return errors.Is(err, ErrNeedPIN) }

// openRow decodes a stored row of kind with id, opening it first when the
// store is sealed.
func openRow(tx *bolt.Tx, kind domain.Kind, id, b []byte) (*row, error) {
	if v := vaultOf(tx); v.sealed.Load() {
		plain, err := v.openValue(b, rowAD(kind, id), true)
		if err != nil {
			return nil, fmt.Errorf("row %s %x: %w", kind, id, err)
		}
		b = plain
	}
	return decodeRow(b)
}

// sealRow encodes a row of kind with id for storing, sealed when the store is.
func sealRow(tx *bolt.Tx, kind domain.Kind, id []byte, r *row) ([]byte, error) {
	b, err := r.encode()
	if err != nil {
		return nil, err
	}
	return vaultOf(tx).sealValue(b, rowAD(kind, id), true)
}

// sealEntry encodes a log entry for storing: its body sealed when the store
// is, its header (IDs, stamp, kind) in clear.
func sealEntry(v *vault, e *Entry) ([]byte, error) {
	if !v.sealed.Load() {
		return encodeEntry(e)
	}
	c := v.cipher.Load()
	if c == nil {
		return nil, ErrNeedPIN
	}
	body, err := appendBody(make([]byte, 0, bodySize(&e.Change)), &e.Change)
	if err != nil {
		return nil, err
	}
	b := appendHead(make([]byte, 0, headSize(&e.Change)+1+len(body)+seal.Overhead), e)
	b = append(b, sealedMark)
	return c.Seal(b, body, logAD(e.Change.ID[:])), nil
}

// openBody is decodeBody for a body that is sealed when the store is.
func openBody(v *vault, e *Entry, body []byte) error {
	if body != nil && v.sealed.Load() {
		plain, err := v.openValue(body, logAD(e.Change.ID[:]), true)
		if err != nil {
			return fmt.Errorf("log entry %d: %w", e.Seq, err)
		}
		body = plain
	}
	return decodeBody(e, body)
}

// openEntry is decodeEntry for an entry whose body is sealed when the store
// is.
func openEntry(v *vault, seq uint64, b []byte) (Entry, error) {
	e, body, err := decodeHeader(seq, b)
	if err != nil {
		return Entry{}, err
	}
	return e, openBody(v, &e, body)
}

func kindOf(s string) domain.Kind { return domain.Kind(s) }
