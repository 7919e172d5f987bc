package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
)

// The server-side records of enrolment: they never sync, and live in their
// own buckets, created on first use.
//
//	enrol     SHA-256 of a normalised code -> enrolCode (JSON)
//	devices   device ID -> deviceRow (JSON)
var (
	bucketEnrol   = []byte("enrol")
	bucketDevices = []byte("devices")
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
func (db *DB) CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", domain.Errorf(domain.EINVALID, "ttl", "注册码有效期必须大于零", "the code's lifetime must be positive")
	}
	code, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("store: enrol code: %w", err)
	}
	now := db.Now()
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := load(tx, domain.KindCadre, cadre); err != nil {
			return refErr(err, "cadre")
		}
		b, err := tx.CreateBucketIfNotExists(bucketEnrol)
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
		return "", fmt.Errorf("store: enrol code for cadre %s: %w", cadre, err)
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
func (db *DB) Enroll(code string, device uuid.UUID, name string, now time.Time) (token string, cadre uuid.UUID, err error) {
	if device == uuid.Nil || device == db.device {
		return "", uuid.Nil, domain.Errorf(domain.EINVALID, "device", "设备标识无效", "the device ID is not valid")
	}
	name = strings.TrimSpace(name)
	if err := replica.CheckDeviceName(name); err != nil {
		return "", uuid.Nil, err
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", uuid.Nil, fmt.Errorf("store: enroll: %w", err)
	}
	token = tokenPrefix + device.String() + "." + base64.RawURLEncoding.EncodeToString(secret[:])
	key := hashSecret(replica.NormalizeCode(code))
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		codes, err := tx.CreateBucketIfNotExists(bucketEnrol)
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
		if _, err := load(tx, domain.KindCadre, c.Cadre); err != nil {
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
		devs, err := tx.CreateBucketIfNotExists(bucketDevices)
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
		return "", uuid.Nil, fmt.Errorf("store: enroll device %s: %w", device, err)
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
func (db *DB) Authenticate(token string) (replica.Device, error) {
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
	err = db.bolt.View(func(tx *bolt.Tx) error {
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
		err = db.updateDevice(id, func(r *deviceRow) {
			// Unless another of its tokens won meanwhile.
			if bytes.Equal(r.TokenHash, h) || slices.ContainsFunc(r.Earlier, func(e []byte) bool { return bytes.Equal(e, h) }) {
				r.TokenHash, r.Earlier = h, nil
			}
		})
		if err != nil {
			return replica.Device{}, fmt.Errorf("store: settle the token of device %s: %w", id, err)
		}
	}
	return d, err
}

// maxEarlierTokens bounds Earlier: a device enrolled again and again without
// syncing keeps only its newest few tokens.
const maxEarlierTokens = 3

func getDevice(tx *bolt.Tx, id uuid.UUID) (*deviceRow, error) {
	b := tx.Bucket(bucketDevices)
	if b == nil {
		return nil, nil
	}
	v := b.Get(id[:])
	if v == nil {
		return nil, nil
	}
	row := new(deviceRow)
	if err := json.Unmarshal(v, row); err != nil {
		return nil, fmt.Errorf("decode device %s: %w", id, err)
	}
	return row, nil
}

// updateDevice applies fn to the stored device id in one transaction.
func (db *DB) updateDevice(id uuid.UUID, fn func(*deviceRow)) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
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
func (db *DB) Revoke(device uuid.UUID, reason replica.Reason, now time.Time) error {
	if _, err := replica.ParseReason(string(reason)); err != nil {
		return fmt.Errorf("store: revoke device: %w", err)
	}
	err := db.updateDevice(device, func(r *deviceRow) {
		switch {
		case r.Revoked.IsZero():
			r.Revoked, r.Reason = now, reason
		case reason == replica.Lost && r.reason() == replica.Replaced && r.Closed.IsZero():
			r.Reason = replica.Lost
		}
	})
	if err != nil {
		return fmt.Errorf("store: revoke device: %w", err)
	}
	return nil
}

// CloseDevice ends a device revoked as replaced once it has made its last push:
// its token is refused with ErrRevoked from now on.
func (db *DB) CloseDevice(device uuid.UUID, now time.Time) error {
	err := db.updateDevice(device, func(r *deviceRow) {
		if !r.Revoked.IsZero() && r.Closed.IsZero() {
			r.Closed = now
		}
	})
	if err != nil {
		return fmt.Errorf("store: close device: %w", err)
	}
	return nil
}

// Touch records a successful sync of device at now.
func (db *DB) Touch(device uuid.UUID, now time.Time) error {
	err := db.updateDevice(device, func(r *deviceRow) {
		if now.After(r.LastSync) {
			r.LastSync = now
		}
	})
	if err != nil {
		return fmt.Errorf("store: touch device: %w", err)
	}
	return nil
}

// Devices returns the enrolled devices, revoked ones included, in order of
// enrolment.
func (db *DB) Devices() ([]replica.Device, error) {
	var out []replica.Device
	err := db.bolt.View(func(tx *bolt.Tx) error {
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

// Location is where a record belongs in the hierarchy (replica.Location).
type Location = replica.Location

// locate returns where rec belongs, reading the places and households it
// points at from tx but taking rec itself as given (it may not be stored yet).
func locate(tx *bolt.Tx, rec domain.Record) Location {
	switch r := rec.(type) {
	case *domain.Household:
		l := groupLocation(tx, r.Group)
		l.Household = r.ID
		return l
	case *domain.Place:
		var l Location
		l.Village, l.Town = placeScope(tx, r)
		if r.Level == domain.Group {
			l.Group = r.ID
		}
		return l
	case *domain.Assignment:
		if r.Role.IsPairing() {
			return householdLocation(tx, r.Target)
		}
		p, err := loadPlace(tx, r.Target)
		if err != nil {
			return Location{}
		}
		return locate(tx, p)
	case *domain.Cadre:
		return Location{}
	}
	if h := domain.HouseholdOf(rec); h != uuid.Nil {
		return householdLocation(tx, h)
	}
	return Location{}
}

// householdLocation returns the location of the stored household id; only the
// household is known when it is not stored.
func householdLocation(tx *bolt.Tx, id uuid.UUID) Location {
	if r, err := getRow(tx, domain.KindHousehold, id); err == nil && r != nil {
		if rec, err := r.record(domain.KindHousehold, id); err == nil {
			l := groupLocation(tx, rec.(*domain.Household).Group)
			l.Household = id
			return l
		}
	}
	return Location{Household: id}
}

func groupLocation(tx *bolt.Tx, group uuid.UUID) Location {
	g, err := loadPlace(tx, group)
	if err != nil {
		return Location{Group: group}
	}
	return locate(tx, g)
}

// Assigned is one of a cadre's assignments, resolved against the roster
// (replica.Assigned).
type Assigned = replica.Assigned

// Reach returns the current assignments of cadre (an ended one gives no
// scope), each with where its target is and, for a group, the group's
// current households, for a village the pairings of its cadres: what a
// server needs to work out a cadre's scope. Assignments whose target is
// missing are left out.
func (db *DB) Reach(cadre uuid.UUID) ([]Assigned, error) {
	var out []Assigned
	err := db.bolt.View(func(tx *bolt.Tx) error {
		t, err := db.newTx(tx)
		if err != nil {
			return err
		}
		pairings := map[uuid.UUID][]uuid.UUID{} // by village: a leader often holds two roles there
		var ids []uuid.UUID
		scan(tx, "assign_cadre", cadre[:], func(_ []byte, id uuid.UUID) bool {
			ids = append(ids, id)
			return true
		})
		for _, id := range ids {
			rec, err := load(tx, domain.KindAssignment, id)
			if err != nil {
				continue
			}
			a := rec.(*domain.Assignment)
			if a.Cadre != cadre || !a.Current() {
				continue
			}
			x := Assigned{Role: a.Role, Target: a.Target}
			if a.Role.IsPairing() {
				if _, err := load(tx, domain.KindHousehold, a.Target); err != nil {
					continue
				}
				x.Location = householdLocation(tx, a.Target)
			} else {
				p, err := loadPlace(tx, a.Target)
				if err != nil || p.Deleted {
					continue
				}
				x.Level, x.Location = p.Level, locate(tx, p)
				if p.Level == domain.Village {
					if pairings[p.ID] == nil {
						pairings[p.ID] = t.pairingsOfVillage(p.ID)
					}
					x.Pairings = pairings[p.ID]
				}
				if p.Level == domain.Group {
					scan(tx, "hh_group", p.ID[:], func(_ []byte, h uuid.UUID) bool {
						x.Households = append(x.Households, h)
						return true
					})
				}
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: reach of cadre %s: %w", cadre, err)
	}
	return out, nil
}

// bucketLockouts holds the server's enrolment lockouts, for the office to
// see: key the lockout's start (big-endian Unix nanoseconds) and its scope,
// value a Lockout (JSON).
var bucketLockouts = []byte("lockouts")

// RecordLockout keeps l, so that `bangfud lockouts` shows it and a restarted
// server keeps refusing until it ends.
func (db *DB) RecordLockout(l replica.Lockout) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLockouts)
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
		return fmt.Errorf("store: record lockout: %w", err)
	}
	return nil
}

// Lockouts returns the recorded enrolment lockouts that end after since,
// oldest first.
func (db *DB) Lockouts(since time.Time) ([]replica.Lockout, error) {
	var out []replica.Lockout
	err := db.bolt.View(func(tx *bolt.Tx) error {
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
		return nil, fmt.Errorf("store: lockouts: %w", err)
	}
	return out, nil
}
