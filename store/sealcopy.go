package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"bangfu/seal"
)

// sealingPath is where Seal writes the sealed copy of the store at path.
func sealingPath(path string) string { return path + ".sealing" }

// sealHook is called at each stage of Seal; the crash tests kill the
// process there (export_test.go).
var sealHook = func(stage string) {}

// sealTxBytes bounds the bytes one transaction of the sealed copy writes.
const sealTxBytes = 4 << 20

// Seal sets the store's first PIN (which must pass seal.CheckPIN; the app
// checks the cadre's birthday and phone with seal.CheckPIN before): it
// makes a random data key, wraps it with the PIN, and encrypts every row,
// log entry and draft (vault.go says what stays clear). The store is
// unlocked afterwards.
//
// The encrypted store is written as a copy beside the file, synced, and
// renamed over it: the old file's freed pages would still hold the clear
// text. A crash or SIGKILL before the rename leaves the clear store as it
// was (Open removes the unfinished copy; the app asks for a PIN again); after
// it, the sealed one. Other calls wait while Seal runs.
func (db *DB) Seal(pin string) error {
	if err := seal.CheckPIN(pin); err != nil {
		return err
	}
	v := db.vault
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.sealed.Load() {
		return ErrSealed
	}
	key, err := seal.NewKey()
	if err != nil {
		return err
	}
	wrapped, err := seal.Wrap(key, pin, db.params)
	if err != nil {
		return err
	}
	c := seal.NewCipher(key)
	check := c.Seal(nil, checkText, keyCheck)

	// No transaction of the store's own runs from here to the swap: a write
	// made to the old file after the copy would be lost with it.
	h := db.bolt
	defer h.exclusive()()

	tmp := sealingPath(db.path)
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("store: seal: %w", err)
	}
	tv := &vault{}
	tv.sealed.Store(true)
	tv.cipher.Store(c)
	if err := sealedCopy(h.b, tmp, db.bopts, tv, func(meta *bolt.Bucket) error {
		if err := meta.Put(keyWrapped, wrapped); err != nil {
			return err
		}
		if err := meta.Put(keyCheck, check); err != nil {
			return err
		}
		return writeTries(meta, 0, time.Time{})
	}); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: seal: %w", err)
	}

	sealHook("copied")

	// The swap. Once the old file is closed the store is only usable again
	// once the new one is open.
	vaults.Delete(h.b)
	if err := h.b.Close(); err != nil {
		return fmt.Errorf("store: seal: %w", err)
	}
	if err := os.Rename(tmp, db.path); err != nil {
		return db.reopen(fmt.Errorf("store: seal: %w", err))
	}
	sealHook("renamed")
	if err := syncDir(filepath.Dir(db.path)); err != nil {
		return db.reopen(fmt.Errorf("store: seal: %w", err))
	}
	v.sealed.Store(true)
	if err := db.reopen(nil); err != nil {
		return err
	}
	v.cipher.Store(c)
	v.key = key
	if err := h.b.View(v.build); err != nil {
		v.cipher.Store(nil)
		return fmt.Errorf("store: seal: %w", err)
	}
	db.cache = recordCache{}
	return nil
}

// reopen opens the file again under the handle (its mutex held) and
// returns cause, or the error of opening if that failed too.
func (db *DB) reopen(cause error) error {
	b, err := bolt.Open(db.path, 0o600, db.bopts)
	if err != nil {
		return fmt.Errorf("store: reopen %s after %v: %w", db.path, cause, err)
	}
	db.bolt.b = b
	vaults.Store(b, db.vault)
	return cause
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !os.IsPermission(err) {
		return err // some platforms cannot sync a directory; rename is still atomic there
	}
	return nil
}

// sealedCopy writes src into a new file at path with rows, log bodies and
// drafts sealed by tv, without the indexes kept in memory when sealed, and
// calls meta on the new meta bucket in the last transaction.
func sealedCopy(src *bolt.DB, path string, opts *bolt.Options, tv *vault, meta func(*bolt.Bucket) error) error {
	o := *opts
	o.Timeout = 0
	o.NoSync = false // the copy must be on disk before it replaces the file
	dst, err := bolt.Open(path, 0o600, &o)
	if err != nil {
		return err
	}
	w := &copier{dst: dst}
	err = src.View(func(stx *bolt.Tx) error {
		return stx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return w.bucket([][]byte{clone(name)}, b, tv)
		})
	})
	if err == nil {
		err = w.begin()
	}
	if err == nil {
		err = meta(w.tx.Bucket(bucketMeta))
	}
	if err == nil {
		err = w.commit()
	}
	if w.tx != nil {
		w.tx.Rollback()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// copier writes into dst in transactions of at most sealTxBytes.
type copier struct {
	dst  *bolt.DB
	tx   *bolt.Tx
	size int
}

func (w *copier) begin() error {
	if w.tx != nil {
		return nil
	}
	tx, err := w.dst.Begin(true)
	w.tx, w.size = tx, 0
	return err
}

func (w *copier) commit() error {
	if w.tx == nil {
		return nil
	}
	err := w.tx.Commit()
	w.tx = nil
	return err
}

// at returns the bucket at path in the current transaction.
func (w *copier) at(path [][]byte) *bolt.Bucket {
	b := w.tx.Bucket(path[0])
	for _, p := range path[1:] {
		b = b.Bucket(p)
	}
	return b
}

// bucket copies src to path (its parent exists in dst), sealing what it
// holds as its place says.
func (w *copier) bucket(path [][]byte, src *bolt.Bucket, tv *vault) error {
	if err := w.begin(); err != nil {
		return err
	}
	var nb *bolt.Bucket
	var err error
	if len(path) == 1 {
		nb, err = w.tx.CreateBucket(path[0])
	} else {
		nb, err = w.at(path[:len(path)-1]).CreateBucket(path[len(path)-1])
	}
	if err != nil {
		return err
	}
	if err := nb.SetSequence(src.Sequence()); err != nil {
		return err
	}
	conv := converter(path, tv)
	var target *bolt.Bucket = nb
	return src.ForEach(func(k, v []byte) error {
		if v == nil {
			sub := src.Bucket(k)
			if sub == nil {
				return nil
			}
			if len(path) == 1 && string(path[0]) == string(bucketIdx) && memIndexNames[string(k)] {
				return nil // kept in memory when sealed
			}
			err := w.bucket(append(append([][]byte(nil), path...), clone(k)), sub, tv)
			target = nil // the transaction may have changed
			return err
		}
		nv := v
		if conv != nil {
			var err error
			if nv, err = conv(k, v); err != nil {
				return err
			}
		}
		if w.size+len(k)+len(nv) > sealTxBytes {
			if err := w.commit(); err != nil {
				return err
			}
			target = nil
		}
		if err := w.begin(); err != nil {
			return err
		}
		if target == nil {
			target = w.at(path)
		}
		target.FillPercent = 0.9
		w.size += len(k) + len(nv)
		return target.Put(k, nv)
	})
}

// converter returns how the values of the bucket at path are sealed, nil
// for those kept as they are.
func converter(path [][]byte, tv *vault) func(k, v []byte) ([]byte, error) {
	top := string(path[0])
	switch {
	case top == string(bucketRec) && len(path) == 2:
		kind := string(path[1])
		return func(k, v []byte) ([]byte, error) {
			r, err := decodeRow(v)
			if err != nil {
				return nil, err
			}
			b, err := r.encode()
			if err != nil {
				return nil, err
			}
			return tv.sealValue(b, rowAD(kindOf(kind), k), true)
		}
	case top == string(bucketLog) && len(path) == 1:
		return func(k, v []byte) ([]byte, error) {
			e, body, err := decodeHeader(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return nil, err
			}
			if body == nil { // the JSON form of schema 3: decoded whole
				return sealEntry(tv, &e)
			}
			s, err := tv.sealValue(body, logAD(e.Change.ID[:]), true)
			if err != nil {
				return nil, err
			}
			head := v[:len(v)-len(body)]
			return append(clone(head), s...), nil
		}
	case top == string(bucketDraft) && len(path) == 1:
		return func(k, v []byte) ([]byte, error) { return tv.sealValue(v, draftAD(k), false) }
	case top == string(bucketCursor) && len(path) == 1:
		return func(k, v []byte) ([]byte, error) { return tv.sealValue(v, cursorAD(k), false) }
	case (top == string(bucketBlob) || top == string(bucketThumb)) && len(path) == 1:
		return func(k, v []byte) ([]byte, error) { return tv.sealValue(v, blobAD(path[0], k), false) }
	case top == string(bucketLocal) && len(path) == 1:
		return func(k, v []byte) ([]byte, error) { return tv.sealValue(v, localAD(k), false) }
	}
	return nil
}
