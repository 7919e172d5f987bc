package pgstore

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
)

// maxUnlockTries is store's: wrong unlock codes a device may send before
// the code stops working.
const maxUnlockTries = 5

// live locks device's row in tx and returns its cadre, refusing a device
// not enrolled or revoked.
func live(ctx context.Context, tx pgx.Tx, device uuid.UUID) (*row, error) {
	r, err := scanRow(tx.QueryRow(ctx, `SELECT `+rowColumns+` FROM devices WHERE id = $1 FOR UPDATE`, device.String()))
	if err != nil {
		return nil, err
	}
	switch {
	case r == nil:
		return nil, notEnrolled(device)
	case r.revoked == 0:
		return r, nil
	case r.reasonOr() == replica.Lost:
		return nil, replica.ErrLost
	}
	return nil, replica.ErrRevoked
}

// Deposit keeps device's sealed data key, as server.BoltRegistry.Deposit does.
func (db *DB) Deposit(device uuid.UUID, sealed []byte, now time.Time) error {
	if len(sealed) == 0 || len(sealed) > replica.MaxSealedKey {
		return domain.Errorf(domain.EINVALID, "key", "数据密钥的长度不对", "the data key has the wrong length")
	}
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := live(ctx, tx, device)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO escrow (device, cadre, sealed, deposited) VALUES ($1, $2, $3, $4)
			ON CONFLICT (device) DO UPDATE SET sealed = $3, deposited = $4,
				granted = CASE WHEN escrow.cadre = $2 THEN escrow.granted ELSE 0 END,
				unlock = CASE WHEN escrow.cadre = $2 THEN escrow.unlock ELSE NULL END,
				cadre = $2`,
			device.String(), r.cadre.String(), sealed, nanos(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: deposit the key of device %s: %w", device, err)
	}
	return nil
}

// IssueUnlock issues a one-time unlock code for device, as
// server.BoltRegistry.IssueUnlock does.
func (db *DB) IssueUnlock(device uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", replica.ErrUnlockTTL
	}
	code, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("pgstore: unlock code: %w", err)
	}
	now := db.opt.Now()
	ctx := context.Background()
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := live(ctx, tx, device); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE escrow SET unlock = $2, expires = $3, tries = 0 WHERE device = $1`,
			device.String(), hashSecret(replica.NormalizeCode(code)), nanos(now.Add(ttl)))
		if err == nil && tag.RowsAffected() == 0 {
			return replica.ErrNoDeposit
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("pgstore: unlock code for device %s: %w", device, err)
	}
	return code, nil
}

// Release returns device's sealed key to it once the office has acted, as
// server.BoltRegistry.Release does. PostgreSQL keeps no audit log: the server logs
// every release and refusal.
func (db *DB) Release(device, cadre uuid.UUID, code string, now time.Time) ([]byte, string, error) {
	ctx := context.Background()
	var sealed []byte
	var how string
	wrong := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		r, err := live(ctx, tx, device)
		if err != nil {
			return err
		}
		var owner string
		var granted, expires int64
		var unlock []byte
		var tries int
		err = tx.QueryRow(ctx, `SELECT cadre::text, sealed, granted, unlock, expires, tries FROM escrow WHERE device = $1 FOR UPDATE`,
			device.String()).Scan(&owner, &sealed, &granted, &unlock, &expires, &tries)
		if errors.Is(err, pgx.ErrNoRows) {
			return replica.ErrNoDeposit
		}
		if err != nil {
			return err
		}
		if cadre == uuid.Nil {
			if code == "" {
				return replica.ErrUnlockCode
			}
			cadre = r.cadre
		}
		if owner != cadre.String() || r.cadre != cadre {
			return replica.ErrEscrowCadre
		}
		switch {
		case code != "":
			ok := unlock != nil && nanos(now) < expires && tries < maxUnlockTries &&
				subtle.ConstantTimeCompare(hashSecret(replica.NormalizeCode(code)), unlock) == 1
			if !ok {
				if unlock == nil {
					return replica.ErrUnlockCode
				}
				wrong = true
				_, err := tx.Exec(ctx, `UPDATE escrow SET tries = tries + 1,
					unlock = CASE WHEN tries + 1 >= $2 THEN NULL ELSE unlock END WHERE device = $1`, device.String(), maxUnlockTries)
				return err
			}
			how = "unlock code"
		case granted != 0:
			how = "re-enrolment"
		default:
			return replica.ErrNoGrant
		}
		_, err = tx.Exec(ctx, `UPDATE escrow SET granted = 0, unlock = NULL, expires = 0, tries = 0, released = $2 WHERE device = $1`,
			device.String(), nanos(now))
		return err
	})
	if err == nil && wrong {
		err = replica.ErrUnlockCode
	}
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: release the key of device %s: %w", device, err)
	}
	return sealed, how, nil
}

// Audit appends e to the audit log, as store.DB.Audit does.
func (db *DB) Audit(e store.AuditEntry) error {
	_, err := db.pool.Exec(context.Background(), `INSERT INTO audit (at, account, action, target, detail, place)
		VALUES ($1, $2, $3, $4, $5, $6)`, nanos(e.At), e.Account, e.Action, e.Target, e.Detail, e.Place.String())
	if err != nil {
		return fmt.Errorf("pgstore: audit: %w", err)
	}
	return nil
}

// AuditLog returns the newest limit entries of the audit log, newest first.
func (db *DB) AuditLog(limit int) ([]store.AuditEntry, error) {
	rows, err := db.pool.Query(context.Background(), `SELECT seq, at, account, action, target, detail, place
		FROM audit ORDER BY seq DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		var place string
		if err := rows.Scan(&e.Seq, &at, &e.Account, &e.Action, &e.Target, &e.Detail, &place); err != nil {
			return nil, fmt.Errorf("pgstore: audit log: %w", err)
		}
		e.At = time.Unix(0, at)
		e.Place, _ = uuid.Parse(place)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ErrEscrowKey is returned by UseEscrowKey when the database's escrow
// belongs to another escrow key.
var ErrEscrowKey = &domain.Error{Code: domain.ECONFLICT, Field: "escrow-key",
	Zh: "此数据库的数据密钥由另一个保管密钥加密：请把第一个实例的保管密钥文件复制过来，用 -escrow-key 指定",
	En: "this database's data keys are sealed under another escrow key: copy the first instance's escrow key file here and name it with -escrow-key"}

// EscrowKeyID returns the ID of the escrow key the database's sealed keys
// are sealed under, or nil if no instance has used one yet.
func (db *DB) EscrowKeyID() ([]byte, error) {
	var id []byte
	err := db.pool.QueryRow(context.Background(), `SELECT id FROM escrow_key`).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: escrow key: %w", err)
	}
	return id, nil
}

// UseEscrowKey records id (server.EscrowKeyID of an instance's escrow
// key) as the database's escrow key if it has none, and returns
// ErrEscrowKey if it has another: every instance must seal and open the
// data keys with the same key, which the database names but never holds.
func (db *DB) UseEscrowKey(id []byte) error {
	if len(id) == 0 {
		return errors.New("pgstore: use an escrow key: empty ID")
	}
	ctx := context.Background()
	var have []byte
	err := db.pool.QueryRow(ctx, `INSERT INTO escrow_key (id, adopted) VALUES ($1, $2)
		ON CONFLICT (one) DO UPDATE SET one = escrow_key.one RETURNING id`, id, nanos(db.opt.Now())).Scan(&have)
	if err != nil {
		return fmt.Errorf("pgstore: use an escrow key: %w", err)
	}
	if subtle.ConstantTimeCompare(have, id) != 1 {
		return ErrEscrowKey
	}
	return nil
}
