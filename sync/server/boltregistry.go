package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
)

// BoltRegistry is the Registry (and the lockouts, see limit.go) on the
// server's bbolt file: buckets of local state in the store (store.Tx.Bucket),
// never logged and never replicated, written in transactions that read the
// roster (an enrolment's cadre must be on it) and append to the audit log (a
// released key). The buckets and their encodings are those store itself
// kept before the registry moved here, so a server's file reads the same
// (TestBoltRegistryReadsOldFile).
type BoltRegistry struct{ db *store.DB }

// NewBoltRegistry returns the registry kept in db.
func NewBoltRegistry(db *store.DB) *BoltRegistry { return &BoltRegistry{db: db} }

// Bolt is the server's storage on one bbolt file: the replica (store.DB)
// and the registry in its local buckets. It is a Store and a Registry.
type Bolt struct {
	*store.DB
	*BoltRegistry
}

// NewBolt returns the storage of a server on db.
func NewBolt(db *store.DB) Bolt { return Bolt{DB: db, BoltRegistry: NewBoltRegistry(db)} }

var (
	_ Store    = Bolt{}
	_ Registry = (*BoltRegistry)(nil)
)

func short(id uuid.UUID) string { return id.String()[:8] }

// The server-side records of enrolment: they never sync, and live in their
// own buckets, created on first use.
//
//	enrol     SHA-256 of a normalised code -> enrolCode (JSON)
//	devices   device ID -> deviceRow (JSON)
const (
	bucketEnrol   = "enrol"
	bucketDevices = "devices"
)

// tokenPrefix starts every device token, so a token is recognisable in a
// log line or a bug report and a future format can be told apart.
const tokenPrefix = "bft1."

// deviceRow is a device's stored form: the token is kept only as its hash.
// Rows written before reasons were kept decode with an empty Reason and a
// zero Closed, which mean Lost and not closed: no migration is needed.
type deviceRow struct {
	Cadre     uuid.UUID `json:"cadre"`
	Name      string    `json:"name"`
	TokenHash []byte    `json:"token_hash"`
	// Earlier holds the hashes of the tokens of this device's earlier
	// enrolments (a retry, a new code) that no sync has superseded yet: an
	// answer can be lost or a request delivered twice, so the device may hold
	// any of them. The first token used wins and the others stop working.
	Earlier  [][]byte       `json:"earlier,omitempty"`
	Enrolled time.Time      `json:"enrolled"`
	LastSync time.Time      `json:"last_sync"`
	Revoked  time.Time      `json:"revoked"`
	Reason   replica.Reason `json:"reason,omitempty"`
	Closed   time.Time      `json:"closed,omitzero"`
}

func (r *deviceRow) device(id uuid.UUID) replica.Device {
	return replica.Device{ID: id, Cadre: r.Cadre, Name: r.Name, Enrolled: r.Enrolled, LastSync: r.LastSync,
		Revoked: r.Revoked, Reason: r.Reason, Closed: r.Closed}
}

// reason returns why the revoked device was revoked, Lost for rows older
// than reasons.
func (r *deviceRow) reason() replica.Reason {
	if r.Reason == "" {
		return replica.Lost
	}
	return r.Reason
}

// enrolCode is a one-time code's stored form.
type enrolCode struct {
	Cadre   uuid.UUID `json:"cadre"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Used    time.Time `json:"used"`   // zero until used
	Device  uuid.UUID `json:"device"` // the device that used it
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// CreateEnrolCode issues a one-time code that enrols one device for cadre,
// valid for ttl. The code is eight characters in two groups ("7QK4-M2PX"),
// from an alphabet without look-alikes; only its SHA-256 is stored.
func (r *BoltRegistry) CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", replica.ErrCodeTTL
	}
	code, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("registry: enrol code: %w", err)
	}
	now := r.db.Now()
	err = r.db.Update(func(tx *store.Tx) error {
		if _, err := tx.Get(domain.KindCadre, cadre); err != nil {
			return fieldErr(err, "cadre")
		}
		b, err := tx.CreateBucket(bucketEnrol)
		if err != nil {
			return err
		}
		v, err := json.Marshal(enrolCode{Cadre: cadre, Created: now, Expires: now.Add(ttl)})
		if err != nil {
			return err
		}
		return b.Put(hashSecret(replica.NormalizeCode(code)), v)
	})
	if err != nil {
		return "", fmt.Errorf("registry: enrol code for cadre %s: %w", cadre, err)
	}
	return code, nil
}

// Enroll trades a one-time code for a device token: it binds device, named
// name, to the code's cadre, marks the code used, and returns the token (only
// its hash is kept) and the cadre.
//
// A device ID belongs to the first cadre that enrolled it, for good: an ID
// that another cadre's device holds, or that was revoked (by anyone), is
// refused with ErrDeviceTaken, and the device must make a new ID (the app
// does so when it starts afresh). The same cadre's live device may enrol
// again with a new code: it gets a new token that replaces the old one.
//
// The same code and the same device within the code's life get the same
// identity back, with a fresh token that replaces the first: an enrolment
// whose answer was lost costs nothing. The code is still used up for any
// other device (ErrCodeUsed).
func (r *BoltRegistry) Enroll(code string, device uuid.UUID, name string, now time.Time) (token string, cadre uuid.UUID, err error) {
	if device == uuid.Nil || device == r.db.Device() {
		return "", uuid.Nil, domain.Errorf(domain.EINVALID, "device", "设备标识无效", "the device ID is not valid")
	}
	name = strings.TrimSpace(name)
	if err := replica.CheckDeviceName(name); err != nil {
		return "", uuid.Nil, err
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", uuid.Nil, fmt.Errorf("registry: enroll: %w", err)
	}
	token = tokenPrefix + device.String() + "." + base64.RawURLEncoding.EncodeToString(secret[:])
	key := hashSecret(replica.NormalizeCode(code))
	err = r.db.Update(func(tx *store.Tx) error {
		codes, err := tx.CreateBucket(bucketEnrol)
		if err != nil {
			return err
		}
		v := codes.Get(key)
		if v == nil {
			return replica.ErrCodeUnknown
		}
		var c enrolCode
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode enrol code: %w", err)
		}
		retry := false
		switch {
		case !c.Used.IsZero() && c.Device != device:
			return replica.ErrCodeUsed
		case !now.Before(c.Expires):
			return replica.ErrCodeExpired
		case !c.Used.IsZero():
			retry = true
		}
		if _, err := tx.Get(domain.KindCadre, c.Cadre); err != nil {
			return domain.Errorf(domain.EUNAUTHORIZED, "cadre", "注册码所属的干部已不在名册中",
				"the cadre this code was issued for is no longer on the roster")
		}
		old, err := getDevice(tx, device)
		if err != nil {
			return err
		}
		if old != nil && (old.Cadre != c.Cadre || !old.Revoked.IsZero()) {
			return replica.ErrDeviceTaken
		}
		if retry && old == nil {
			// The code was used by this device, whose row is gone: no
			// identity to give back.
			return replica.ErrCodeUsed
		}
		if !retry {
			c.Used, c.Device = now, device
			if v, err = json.Marshal(c); err != nil {
				return err
			}
			if err := codes.Put(key, v); err != nil {
				return err
			}
		}
		devs, err := tx.CreateBucket(bucketDevices)
		if err != nil {
			return err
		}
		row := deviceRow{Cadre: c.Cadre, Name: name, TokenHash: hashSecret(token), Enrolled: now}
		if old != nil {
			// The same cadre's device again: a new token, the rest kept.
			// The earlier tokens stay valid until one of the tokens is used
			// (the device may never have received this answer).
			row.Enrolled, row.LastSync = old.Enrolled, old.LastSync
			if !retry {
				// The office enrolled it again: the key it deposited
				// may go back to it (a forgotten PIN, see Release).
				if err := grantEscrow(tx, device, now); err != nil {
					return err
				}
			}
			row.Earlier = append(old.Earlier, old.TokenHash)
			if n := len(row.Earlier); n > maxEarlierTokens {
				row.Earlier = row.Earlier[n-maxEarlierTokens:]
			}
		}
		if v, err = json.Marshal(row); err != nil {
			return err
		}
		cadre = c.Cadre
		return devs.Put(device[:], v)
	})
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("registry: enroll device %s: %w", device, err)
	}
	return token, cadre, nil
}

// Authenticate returns the device a token belongs to. The token's hash is
// compared with the stored one in constant time. An unknown token is
// ErrTokenUnknown; a device revoked as lost is ErrLost; a device revoked as
// replaced is ErrReplaced, returned with the device, until it is closed, and
// ErrRevoked from then on.
//
// When the device was enrolled more than once (a retried enrolment, a new
// code), the token of any of those enrolments is accepted until one is
// used: the first one used becomes the device's only token.
func (r *BoltRegistry) Authenticate(token string) (replica.Device, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(rest) < 37 || rest[36] != '.' {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	id, err := uuid.Parse(rest[:36])
	if err != nil {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	var d replica.Device
	h := hashSecret(token)
	settle := false // the token is one of several: make it the only one
	err = r.db.View(func(tx *store.Tx) error {
		row, err := getDevice(tx, id)
		if err != nil {
			return err
		}
		if row == nil {
			return replica.ErrTokenUnknown
		}
		ok := subtle.ConstantTimeCompare(h, row.TokenHash) == 1
		for _, e := range row.Earlier {
			ok = subtle.ConstantTimeCompare(h, e) == 1 || ok
		}
		if !ok {
			return replica.ErrTokenUnknown
		}
		settle = len(row.Earlier) > 0 && row.Revoked.IsZero()
		d = row.device(id)
		switch {
		case row.Revoked.IsZero():
			return nil
		case row.reason() == replica.Lost:
			d = replica.Device{}
			return replica.ErrLost
		case row.Closed.IsZero():
			return replica.ErrReplaced
		}
		d = replica.Device{}
		return replica.ErrRevoked
	})
	if err == nil && settle {
		err = r.updateDevice(id, func(r *deviceRow) {
			// Unless another of its tokens won meanwhile.
			if bytes.Equal(r.TokenHash, h) || slices.ContainsFunc(r.Earlier, func(e []byte) bool { return bytes.Equal(e, h) }) {
				r.TokenHash, r.Earlier = h, nil
			}
		})
		if err != nil {
			return replica.Device{}, fmt.Errorf("registry: settle the token of device %s: %w", id, err)
		}
	}
	return d, err
}

// maxEarlierTokens bounds Earlier: a device enrolled again and again without
// syncing keeps only its newest few tokens.
const maxEarlierTokens = 3

func getDevice(tx *store.Tx, id uuid.UUID) (*deviceRow, error) {
	return getRow[deviceRow](tx, bucketDevices, id, "device")
}

// getRow reads the JSON row of id in the local bucket name: nil when the
// bucket or the row is not there.
func getRow[T any](tx *store.Tx, name string, id uuid.UUID, what string) (*T, error) {
	b := tx.Bucket(name)
	if b == nil {
		return nil, nil
	}
	v := b.Get(id[:])
	if v == nil {
		return nil, nil
	}
	row := new(T)
	if err := json.Unmarshal(v, row); err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", what, id, err)
	}
	return row, nil
}

// updateDevice applies fn to the stored device id in one transaction.
func (r *BoltRegistry) updateDevice(id uuid.UUID, fn func(*deviceRow)) error {
	return r.db.Update(func(tx *store.Tx) error {
		row, err := getDevice(tx, id)
		if err != nil {
			return err
		}
		if row == nil {
			return &domain.Error{Code: domain.ENOTFOUND, Field: "device",
				Zh: fmt.Sprintf("设备 %s 未注册", short(id)), En: fmt.Sprintf("device %s is not enrolled", short(id))}
		}
		fn(row)
		v, err := json.Marshal(row)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDevices).Put(id[:], v)
	})
}

// Revoke stops a device for reason: its token is refused from now on (a
// device revoked as Replaced may push once more first, see Authenticate).
// Its records stay. Revoking is final: the device's ID cannot enrol again,
// for any cadre; a device that is found or reused starts afresh with a new ID.
// Revoking a revoked device again changes nothing, except that a device
// replaced but not yet closed may be declared lost after all (the old phone
// went missing before its last push).
func (r *BoltRegistry) Revoke(device uuid.UUID, reason replica.Reason, now time.Time) error {
	if _, err := replica.ParseReason(string(reason)); err != nil {
		return fmt.Errorf("registry: revoke device: %w", err)
	}
	err := r.updateDevice(device, func(r *deviceRow) {
		switch {
		case r.Revoked.IsZero():
			r.Revoked, r.Reason = now, reason
		case reason == replica.Lost && r.reason() == replica.Replaced && r.Closed.IsZero():
			r.Reason = replica.Lost
		}
	})
	if err != nil {
		return fmt.Errorf("registry: revoke device: %w", err)
	}
	return nil
}

// CloseDevice ends a device revoked as replaced once it has made its last push:
// its token is refused with ErrRevoked from now on.
func (r *BoltRegistry) CloseDevice(device uuid.UUID, now time.Time) error {
	err := r.updateDevice(device, func(r *deviceRow) {
		if !r.Revoked.IsZero() && r.Closed.IsZero() {
			r.Closed = now
		}
	})
	if err != nil {
		return fmt.Errorf("registry: close device: %w", err)
	}
	return nil
}

// Touch records a successful sync of device at now.
func (r *BoltRegistry) Touch(device uuid.UUID, now time.Time) error {
	err := r.updateDevice(device, func(r *deviceRow) {
		if now.After(r.LastSync) {
			r.LastSync = now
		}
	})
	if err != nil {
		return fmt.Errorf("registry: touch device: %w", err)
	}
	return nil
}

// Devices returns the enrolled devices, revoked ones included, in order of
// enrolment.
func (r *BoltRegistry) Devices() ([]replica.Device, error) {
	var out []replica.Device
	err := r.db.View(func(tx *store.Tx) error {
		b := tx.Bucket(bucketDevices)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var row deviceRow
			if err := json.Unmarshal(v, &row); err != nil {
				return fmt.Errorf("decode device: %w", err)
			}
			out = append(out, row.device(uuid.UUID(k)))
			return nil
		})
	})
	slices.SortFunc(out, func(a, b replica.Device) int {
		if c := a.Enrolled.Compare(b.Enrolled); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return out, err
}

// bucketLockouts holds the server's enrolment lockouts, for the office to
// see: key the lockout's start (big-endian Unix nanoseconds) and its scope,
// value a Lockout (JSON).
const bucketLockouts = "lockouts"

// RecordLockout keeps l, so that `bangfud lockouts` shows it and a restarted
// server keeps refusing until it ends.
func (r *BoltRegistry) RecordLockout(l replica.Lockout) error {
	err := r.db.Update(func(tx *store.Tx) error {
		b, err := tx.CreateBucket(bucketLockouts)
		if err != nil {
			return err
		}
		v, err := json.Marshal(l)
		if err != nil {
			return err
		}
		key := binary.BigEndian.AppendUint64(nil, uint64(l.From.UnixNano()))
		return b.Put(append(key, l.Address...), v)
	})
	if err != nil {
		return fmt.Errorf("registry: record lockout: %w", err)
	}
	return nil
}

// Lockouts returns the recorded enrolment lockouts that end after since,
// oldest first.
func (r *BoltRegistry) Lockouts(since time.Time) ([]replica.Lockout, error) {
	var out []replica.Lockout
	err := r.db.View(func(tx *store.Tx) error {
		b := tx.Bucket(bucketLockouts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var l replica.Lockout
			if err := json.Unmarshal(v, &l); err != nil {
				return fmt.Errorf("decode lockout: %w", err)
			}
			if l.Until.After(since) {
				out = append(out, l)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: lockouts: %w", err)
	}
	return out, nil
}

// The server's escrow of devices' data keys, for a cadre who forgot the
// app's PIN: a device deposits its data key, sealed by the server (the
// store sees only the sealed bytes, see sync/server), and takes it back
// once the office has acted. Like enrolment, it never syncs.
//
//	escrow    device ID -> escrowRow (JSON)
const bucketEscrow = "escrow"

// maxUnlockTries is how many wrong unlock codes a device may send before
// the code it was issued stops working.
const maxUnlockTries = 5

// escrowRow is a device's deposit and what the office has done about it.
type escrowRow struct {
	Cadre     uuid.UUID `json:"cadre"`
	Sealed    []byte    `json:"sealed"`
	Deposited time.Time `json:"deposited"`
	// Granted is when the office enrolled the device again after the
	// deposit (zero if it has not since the last release): that lets the
	// device take its key back without a code.
	Granted time.Time `json:"granted,omitzero"`
	// Unlock is the SHA-256 of the unlock code the office issued for the
	// device, nil if none is outstanding; it works until Expires, for
	// fewer than maxUnlockTries wrong tries.
	Unlock   []byte    `json:"unlock,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
	Tries    int       `json:"tries,omitempty"`
	Released time.Time `json:"released,omitzero"`
}

// liveDevice returns device's row, refusing one not enrolled or revoked.
func liveDevice(tx *store.Tx, device uuid.UUID) (*deviceRow, error) {
	row, err := getDevice(tx, device)
	if err != nil {
		return nil, err
	}
	if row == nil {
		return nil, &domain.Error{Code: domain.ENOTFOUND, Field: "device",
			Zh: fmt.Sprintf("设备 %s 未注册", short(device)), En: fmt.Sprintf("device %s is not enrolled", short(device))}
	}
	if !row.Revoked.IsZero() {
		if row.reason() == replica.Lost {
			return nil, replica.ErrLost
		}
		return nil, replica.ErrRevoked
	}
	return row, nil
}

func getEscrow(tx *store.Tx, device uuid.UUID) (*escrowRow, error) {
	return getRow[escrowRow](tx, bucketEscrow, device, "escrow of")
}

func putEscrow(tx *store.Tx, device uuid.UUID, row *escrowRow) error {
	b, err := tx.CreateBucket(bucketEscrow)
	if err != nil {
		return err
	}
	v, err := json.Marshal(row)
	if err != nil {
		return err
	}
	return b.Put(device[:], v)
}

// grantEscrow records that the office enrolled device again: its deposit,
// if any, may be released without a code.
func grantEscrow(tx *store.Tx, device uuid.UUID, now time.Time) error {
	row, err := getEscrow(tx, device)
	if err != nil || row == nil {
		return err
	}
	row.Granted = now
	return putEscrow(tx, device, row)
}

// Deposit keeps sealed, device's data key as the server sealed it, for
// device, which must be enrolled and not revoked; it replaces an earlier
// deposit, keeping what the office has granted. The store never sees the
// key itself.
func (r *BoltRegistry) Deposit(device uuid.UUID, sealed []byte, now time.Time) error {
	if len(sealed) == 0 || len(sealed) > replica.MaxSealedKey {
		return domain.Errorf(domain.EINVALID, "key", "数据密钥的长度不对", "the data key has the wrong length")
	}
	err := r.db.Update(func(tx *store.Tx) error {
		dev, err := liveDevice(tx, device)
		if err != nil {
			return err
		}
		row, err := getEscrow(tx, device)
		if err != nil {
			return err
		}
		if row == nil || row.Cadre != dev.Cadre {
			row = &escrowRow{}
		}
		row.Cadre, row.Sealed, row.Deposited = dev.Cadre, append([]byte(nil), sealed...), now
		return putEscrow(tx, device, row)
	})
	if err != nil {
		return fmt.Errorf("registry: deposit the key of device %s: %w", device, err)
	}
	return nil
}

// IssueUnlock issues a one-time code with which device, enrolled, not
// revoked and holding a deposit, takes its data key back (Release), valid
// for ttl; a new code replaces an outstanding one. The code looks like an
// enrolment code ("7QK4-M2PX"); only its SHA-256 is kept.
func (r *BoltRegistry) IssueUnlock(device uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", replica.ErrUnlockTTL
	}
	code, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("registry: unlock code: %w", err)
	}
	now := r.db.Now()
	err = r.db.Update(func(tx *store.Tx) error {
		if _, err := liveDevice(tx, device); err != nil {
			return err
		}
		row, err := getEscrow(tx, device)
		if err != nil {
			return err
		}
		if row == nil {
			return replica.ErrNoDeposit
		}
		row.Unlock, row.Expires, row.Tries = hashSecret(replica.NormalizeCode(code)), now.Add(ttl), 0
		return putEscrow(tx, device, row)
	})
	if err != nil {
		return "", fmt.Errorf("registry: unlock code for device %s: %w", device, err)
	}
	return code, nil
}

// Release returns device's sealed data key to the device, which acts for
// cadre, once the office has acted: code is the unlock code issued for it
// (IssueUnlock), or, with code empty, the device was enrolled again since
// its deposit. The device must be enrolled and not revoked, and the deposit
// must be cadre's. What allowed the release is used up, and the release is
// written to the audit log in the same transaction; how is
// "unlock code" or "re-enrolment". A wrong code counts: after
// maxUnlockTries the code stops working. A locked phone cannot read its own
// token: it asks with cadre uuid.Nil and a code, which stands for the
// device's own cadre (the code was issued for the device alone).
func (r *BoltRegistry) Release(device, cadre uuid.UUID, code string, now time.Time) (sealed []byte, how string, err error) {
	var wrong bool
	err = r.db.Update(func(tx *store.Tx) error {
		dev, err := liveDevice(tx, device)
		if err != nil {
			return err
		}
		row, err := getEscrow(tx, device)
		if err != nil {
			return err
		}
		if row == nil {
			return replica.ErrNoDeposit
		}
		if cadre == uuid.Nil {
			if code == "" {
				return replica.ErrUnlockCode
			}
			cadre = dev.Cadre
		}
		if row.Cadre != cadre || dev.Cadre != cadre {
			return replica.ErrEscrowCadre
		}
		switch {
		case code != "":
			ok := row.Unlock != nil && now.Before(row.Expires) && row.Tries < maxUnlockTries &&
				subtle.ConstantTimeCompare(hashSecret(replica.NormalizeCode(code)), row.Unlock) == 1
			if !ok {
				if row.Unlock != nil {
					row.Tries++
					if row.Tries >= maxUnlockTries {
						row.Unlock = nil
					}
					wrong = true
					return putEscrow(tx, device, row)
				}
				return replica.ErrUnlockCode
			}
			how = "unlock code"
		case !row.Granted.IsZero():
			how = "re-enrolment"
		default:
			return replica.ErrNoGrant
		}
		sealed = append([]byte(nil), row.Sealed...)
		row.Granted, row.Unlock, row.Expires, row.Tries, row.Released = time.Time{}, nil, time.Time{}, 0, now
		if err := putEscrow(tx, device, row); err != nil {
			return err
		}
		return tx.Audit(replica.AuditEntry{At: now, Action: "release-key", Target: dev.Name + " (" + short(device) + ")",
			Detail: how})
	})
	if err == nil && wrong {
		err = replica.ErrUnlockCode
	}
	if err != nil {
		return nil, "", fmt.Errorf("registry: release the key of device %s: %w", device, err)
	}
	return sealed, how, nil
}

// fieldErr names field in err when it is a record not found: the cadre of
// a code is not on the roster.
func fieldErr(err error, field string) error {
	var e *domain.Error
	if errors.As(err, &e) && e.Code == domain.ENOTFOUND {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
