package store

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"bangfu/domain"
	"bangfu/replica"
)

// The server's escrow of devices' data keys, for a cadre who forgot the
// app's PIN: a device deposits its data key, sealed by the server (the
// store sees only the sealed bytes, see sync/server), and takes it back
// once the office has acted. Like enrolment, it never syncs.
//
//	escrow    device ID -> escrowRow (JSON)
var bucketEscrow = []byte("escrow")

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
func liveDevice(tx *bolt.Tx, device uuid.UUID) (*deviceRow, error) {
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

func getEscrow(tx *bolt.Tx, device uuid.UUID) (*escrowRow, error) {
	b := tx.Bucket(bucketEscrow)
	if b == nil {
		return nil, nil
	}
	v := b.Get(device[:])
	if v == nil {
		return nil, nil
	}
	row := new(escrowRow)
	if err := json.Unmarshal(v, row); err != nil {
		return nil, fmt.Errorf("decode escrow of %s: %w", device, err)
	}
	return row, nil
}

func putEscrow(tx *bolt.Tx, device uuid.UUID, row *escrowRow) error {
	b, err := tx.CreateBucketIfNotExists(bucketEscrow)
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
func grantEscrow(tx *bolt.Tx, device uuid.UUID, now time.Time) error {
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
func (db *DB) Deposit(device uuid.UUID, sealed []byte, now time.Time) error {
	if len(sealed) == 0 || len(sealed) > replica.MaxSealedKey {
		return domain.Errorf(domain.EINVALID, "key", "数据密钥的长度不对", "the data key has the wrong length")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
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
		return fmt.Errorf("store: deposit the key of device %s: %w", device, err)
	}
	return nil
}

// IssueUnlock issues a one-time code with which device, enrolled, not
// revoked and holding a deposit, takes its data key back (Release), valid
// for ttl; a new code replaces an outstanding one. The code looks like an
// enrolment code ("7QK4-M2PX"); only its SHA-256 is kept.
func (db *DB) IssueUnlock(device uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", domain.Errorf(domain.EINVALID, "ttl", "解锁码有效期必须大于零", "the code's lifetime must be positive")
	}
	code, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("store: unlock code: %w", err)
	}
	now := db.Now()
	err = db.bolt.Update(func(tx *bolt.Tx) error {
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
		return "", fmt.Errorf("store: unlock code for device %s: %w", device, err)
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
func (db *DB) Release(device, cadre uuid.UUID, code string, now time.Time) (sealed []byte, how string, err error) {
	var wrong bool
	err = db.bolt.Update(func(tx *bolt.Tx) error {
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
		return auditTx(tx, AuditEntry{At: now, Action: "release-key", Target: dev.Name + " (" + short(device) + ")",
			Detail: how})
	})
	if err == nil && wrong {
		err = replica.ErrUnlockCode
	}
	if err != nil {
		return nil, "", fmt.Errorf("store: release the key of device %s: %w", device, err)
	}
	return sealed, how, nil
}
