package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/seal"
)

// SchemaVersion is the layout version this code writes. Opening a file of an
// older version migrates it (see migrate.go); a newer one is refused.
const SchemaVersion = 8

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = &domain.Error{
	Code: domain.EUNAVAILABLE,
	Zh:   "数据库正被另一个程序使用（是否已有一个帮扶走访或服务器在运行？）",
	En:   "the database is in use by another process (is another Bangfu app or server running?)",
}

// ErrNewerSchema is returned by Open for a file written by a newer version.
var ErrNewerSchema = &domain.Error{
	Code: domain.EINVALID,
	Zh:   "数据文件来自更新的版本，请升级本程序",
	En:   "the data file was written by a newer version; please upgrade",
}

var (
	bucketMeta   = []byte("meta")
	bucketLog    = []byte("log")
	bucketSeen   = []byte("seen")
	bucketCursor = []byte("cursor")
	bucketRec    = []byte("rec")
	bucketIdx    = []byte("idx")
	bucketDraft  = []byte("draft")

	keySchema   = []byte("schema")
	keyDevice   = []byte("device")
	keyClock    = []byte("clock")
	keyOffset   = []byte("offset")
	keySettings = []byte("settings")
)

// Options configure Open.
type Options struct {
	// Device is the replica's device ID. If zero, the ID stored in the file is
	// used, or a new one is made for a new file. A non-zero Device that differs
	// from the stored one is an error: a file belongs to one device.
	Device uuid.UUID
	// Now reads the wall clock; time.Now if nil. Tests inject a clock.
	Now func() time.Time
	// Timeout bounds the wait for the file lock; 1 s if zero.
	Timeout time.Duration
	// NoSync skips fsync on commit. Only for benchmarks and bulk imports that
	// can be redone.
	NoSync bool
	// PINParams are the Argon2id costs of wrapping the data key by a PIN
	// (pin.go); seal.DefaultParams if nil. Tests make them cheap.
	PINParams *seal.Params
	// Early, if not nil, is called after each commit that merged a change
	// received from another replica before an edit it was based on, once per
	// such field (see replica.Early and domain.ArrivedEarly). The merge is
	// not changed by it. It runs after the commit, before the method that
	// merged returns, and must not call the DB. Tests fail on it where
	// delivery is in causal order; a server logs it.
	Early func(replica.Early)
}

// DB is one replica's database. It is safe for concurrent use.
type DB struct {
	bolt   *handle // refuses transactions while a sealed store is locked (vault.go)
	vault  *vault
	params seal.Params   // for wrapping the data key
	bopts  *bolt.Options // to open the file again after Seal replaced it
	clock  *domain.Clock
	device uuid.UUID
	now    func() time.Time
	path   string
	cache  recordCache // decoded records for read transactions (cache.go)
	places placeCache  // the places ScopePrint decoded (cache.go)
	early  func(replica.Early)
	held   *heldKeys // index keys of a pulled page not yet written (held.go)
}

// initialMmap is the size bbolt maps a store at first (see Open). On
// Windows bbolt grows the file itself to the mapped size, so there a store
// starts small and remaps as before.
func initialMmap() int {
	if runtime.GOOS == "windows" {
		return 0
	}
	return 64 << 20
}

// Open opens or creates the database at path.
func Open(path string, opt *Options) (*DB, error) {
	if opt == nil {
		opt = &Options{}
	}
	timeout := opt.Timeout
	if timeout == 0 {
		timeout = time.Second
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// InitialMmapSize: bbolt maps the file in doubling steps from 32 KiB, and
	// each step in a write transaction copies every node the transaction has
	// touched out of the old map (node.dereference): a first pull of 10,000
	// visits remapped a dozen times in its one transaction. Address space,
	// not memory; the file itself grows as before (on Linux and Android;
	// see initialMmap for Windows).
	bopts := &bolt.Options{Timeout: timeout, NoSync: opt.NoSync, InitialMmapSize: initialMmap()}
	b, err := bolt.Open(path, 0o600, bopts)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("store: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	v := &vault{}
	db := &DB{bolt: &handle{b: b, v: v}, vault: v, params: seal.DefaultParams, bopts: bopts, now: now, path: path, early: opt.Early,
		held: newHeldKeys()}
	db.bolt.before = db.settleHeld
	if opt.PINParams != nil {
		db.params = *opt.PINParams
	}
	vaults.Store(b, v)
	if err := db.init(opt.Device); err != nil {
		db.bolt.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// A Seal that did not finish left its copy (sealcopy.go): the file
	// itself is the store as it was.
	if err := os.Remove(sealingPath(path)); err != nil && !os.IsNotExist(err) {
		db.bolt.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

func (db *DB) init(device uuid.UUID) error {
	return db.bolt.raw().Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		version := uint32(0)
		if v := meta.Get(keySchema); v != nil {
			version = binary.BigEndian.Uint32(v)
		}
		fresh := version == 0 && meta.Get(keyDevice) == nil
		switch {
		case version > SchemaVersion:
			return ErrNewerSchema
		case fresh:
			version = SchemaVersion
		}
		for _, name := range [][]byte{bucketLog, bucketSeen, bucketCursor, bucketRec, bucketIdx, bucketDraft, bucketLocal,
			bucketBlob, bucketThumb, bucketBlobSent, bucketBlobDraft} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		sealed := meta.Get(keyWrapped) != nil
		db.vault.sealed.Store(sealed)
		if version < SchemaVersion && sealed {
			// The rows cannot be read without the key: the migration
			// runs in the transaction that unlocks (pin.go).
			db.vault.migrateFrom = version
		} else if version < SchemaVersion {
			if err := migrate(tx, version); err != nil {
				return fmt.Errorf("migrate from schema %d: %w", version, err)
			}
		}
		if db.vault.migrateFrom == 0 {
			if err := meta.Put(keySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion)); err != nil {
				return err
			}
		}
		// Keys held by a page that never finished (held.go): rebuilt now, or
		// by the transaction that unlocks a sealed store.
		if meta.Get(keyHeldSince) != nil {
			if sealed {
				db.held.repair.Store(true)
			} else if err := repairHeld(tx); err != nil {
				return fmt.Errorf("rebuild the keys of an unfinished page: %w", err)
			}
		}

		stored := meta.Get(keyDevice)
		switch {
		case stored != nil && device != uuid.Nil && !equalBytes(stored, device[:]):
			return &domain.Error{Code: domain.EINVALID,
				Zh: "数据文件属于另一台设备", En: "the data file belongs to another device"}
		case stored != nil:
			copy(device[:], stored)
		case device == uuid.Nil:
			device = uuid.New()
			fallthrough
		default:
			if err := meta.Put(keyDevice, device[:]); err != nil {
				return err
			}
		}
		db.device = device
		db.clock = domain.NewClock(device, db.now)
		if v := meta.Get(keyClock); v != nil {
			if s, err := domain.ParseStamp(string(v)); err == nil {
				db.clock.Reset(s)
			}
		}
		if v := meta.Get(keyOffset); len(v) == 8 {
			db.clock.SetOffset(time.Duration(int64(binary.BigEndian.Uint64(v))))
		}
		return nil
	})
}

func equalBytes(a, b []byte) bool { return string(a) == string(b) }

// Close closes the database, writing the keys a pulled page holds first.
// (A locked store cannot: they are rebuilt when it is unlocked again.)
func (db *DB) Close() error {
	db.settle()
	return db.bolt.Close()
}

// Path returns the file's path.
func (db *DB) Path() string { return db.path }

// Device returns the replica's device ID.
func (db *DB) Device() uuid.UUID { return db.device }

// Clock returns the replica's hybrid logical clock.
func (db *DB) Clock() *domain.Clock { return db.clock }

// Now returns the replica's corrected wall time.
func (db *DB) Now() time.Time { return db.clock.Wall() }

// SetClockOffset sets the correction of the replica's clock (see
// domain.Clock.SetOffset) and stores it, so that a replica opened again reads
// corrected time from the start, before it can sync: a phone whose clock is
// hours off keeps stamping close to true time across restarts. A device sets
// it from its upstream's time at every sync.
func (db *DB) SetClockOffset(d time.Duration) error {
	old := db.clock.Offset()
	db.clock.SetOffset(d)
	err := db.bolt.Update(func(tx *bolt.Tx) error { return db.saveClock(tx) })
	if err != nil {
		db.clock.SetOffset(old)
		return fmt.Errorf("store: set clock offset: %w", err)
	}
	return nil
}

// saveClock persists the clock's latest stamp and its offset in tx, so that a
// restarted replica never issues a stamp it issued before, and reads the
// time as corrected when it was closed (Restamp corrects the offset in the
// transaction that restamps).
func (db *DB) saveClock(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(keyClock, []byte(db.clock.Last().String())); err != nil {
		return err
	}
	return meta.Put(keyOffset, binary.BigEndian.AppendUint64(nil, uint64(db.clock.Offset())))
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// cloneValues returns a function that copies each value of f, all into one
// allocation: a record's fields are stored together and live as long.
func cloneValues(f domain.Fields) func([]byte) []byte {
	n := 0
	for _, v := range f {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	return func(v []byte) []byte {
		if v == nil {
			return nil
		}
		if len(buf)+len(v) > cap(buf) { // a value not of f
			return clone(v)
		}
		buf = append(buf, v...)
		return buf[len(buf)-len(v) : len(buf) : len(buf)]
	}
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
