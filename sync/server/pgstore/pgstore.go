// Package pgstore keeps the sync server's records in PostgreSQL, so that
// several instances of bangfud on one database serve the same devices.
//
// It holds the enrolment registry (DB, a server.Registry: codes, devices,
// tokens, revocation) and the replica (Replica, a server.Store: the log,
// indexed by the partitions devices pull, and pushes serialised across
// instances; see replica.go). Its schema is migrated on Open from the
// migrations compiled into the binary, under an advisory lock so that
// instances starting together migrate once.
//
// Times are kept as Unix nanoseconds (bigint), so that what is read back
// equals what was written, as with bbolt.
package pgstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"bangfu/domain"
	"bangfu/replica"
)

// migrations are applied in order, each once; append, never edit.
var migrations = []string{
	`CREATE TABLE enrol_codes (
		hash    bytea PRIMARY KEY,
		cadre   uuid NOT NULL,
		created bigint NOT NULL,
		expires bigint NOT NULL,
		used    bigint NOT NULL DEFAULT 0,
		device  uuid
	);
	CREATE TABLE devices (
		id         uuid PRIMARY KEY,
		cadre      uuid NOT NULL,
		name       text NOT NULL,
		token_hash bytea NOT NULL,
		earlier    bytea[] NOT NULL DEFAULT '{}',
		enrolled   bigint NOT NULL,
		last_sync  bigint NOT NULL DEFAULT 0,
		revoked    bigint NOT NULL DEFAULT 0,
		reason     text NOT NULL DEFAULT '',
		closed     bigint NOT NULL DEFAULT 0
	);`,
	// The replica: its ID, shared by every instance, and the log (see
	// replica.go), indexed by the partitions devices pull.
	`CREATE TABLE replica (
		one   boolean PRIMARY KEY DEFAULT true CHECK (one),
		id    uuid NOT NULL,
		epoch bigint NOT NULL DEFAULT 0
	);
	CREATE TABLE log (
		seq       bigint PRIMARY KEY,
		id        uuid NOT NULL UNIQUE,
		origin    uuid NOT NULL,
		household uuid NOT NULL,
		village   uuid NOT NULL,
		town      uuid NOT NULL,
		kind      text NOT NULL,
		record    uuid NOT NULL,
		author    uuid NOT NULL,
		wall      bigint NOT NULL,
		logical   bigint NOT NULL,
		device    uuid NOT NULL,
		body      bytea NOT NULL
	);
	CREATE INDEX log_household ON log (household, village, seq);
	CREATE INDEX log_village ON log (village, seq);
	CREATE INDEX log_town ON log (town, seq);
	CREATE INDEX log_record ON log (record, seq);
	CREATE INDEX log_city ON log (seq) WHERE kind <> 'cadre'
		AND household = '00000000-0000-0000-0000-000000000000'
		AND village = '00000000-0000-0000-0000-000000000000'
		AND town = '00000000-0000-0000-0000-000000000000';`,
	// The escrow of devices' sealed data keys (see store/escrow.go).
	`CREATE TABLE escrow (
		device    uuid PRIMARY KEY REFERENCES devices (id),
		cadre     uuid NOT NULL,
		sealed    bytea NOT NULL,
		deposited bigint NOT NULL,
		granted   bigint NOT NULL DEFAULT 0,
		unlock    bytea,
		expires   bigint NOT NULL DEFAULT 0,
		tries     int NOT NULL DEFAULT 0,
		released  bigint NOT NULL DEFAULT 0
	);`,
	// The audit log of what devices report (the reveal of a whole ID
	// number, a key released), as store's audit bucket.
	`CREATE TABLE audit (
		seq     bigserial PRIMARY KEY,
		at      bigint NOT NULL,
		account text NOT NULL,
		action  text NOT NULL,
		target  text NOT NULL,
		detail  text NOT NULL,
		place   uuid NOT NULL
	);`,
	// Which escrow key sealed the keys in escrow: its ID (a MAC made
	// with it, see server.EscrowKeyID), never the key, so that every
	// instance uses the same key and a copy of the database alone opens
	// nothing (see escrow.go).
	`CREATE TABLE escrow_key (
		one     boolean PRIMARY KEY DEFAULT true CHECK (one),
		id      bytea NOT NULL,
		adopted bigint NOT NULL
	);`,
	// The units behind the scope fingerprints handed out (see
	// store/scopeunits.go), so that any instance can send a device whose
	// scope grew only what entered it.
	`CREATE TABLE scopes (
		print bytea PRIMARY KEY,
		at    bigint NOT NULL,
		units bytea NOT NULL
	);
	CREATE INDEX scopes_at ON scopes (at);`,
	// The office console's accounts, their sessions and API tokens (see
	// office/boltaccounts.go and office.go), shared so that a login at one
	// instance is valid at every other; roster files between their check
	// and their confirmation, which may reach another instance; failed
	// logins, counted once for every instance.
	`CREATE TABLE office_accounts (
		name     text PRIMARY KEY,
		display  text NOT NULL,
		place    uuid NOT NULL,
		ids      boolean NOT NULL,
		hash     bytea NOT NULL,
		created  bigint NOT NULL,
		disabled bigint NOT NULL DEFAULT 0
	);
	CREATE TABLE office_sessions (
		hash    bytea PRIMARY KEY,
		account text NOT NULL REFERENCES office_accounts (name),
		csrf    text NOT NULL,
		created bigint NOT NULL,
		expires bigint NOT NULL
	);
	CREATE INDEX office_sessions_account ON office_sessions (account);
	CREATE INDEX office_sessions_expires ON office_sessions (expires);
	CREATE TABLE office_tokens (
		hash    bytea PRIMARY KEY,
		account text NOT NULL REFERENCES office_accounts (name),
		created bigint NOT NULL
	);
	CREATE INDEX office_tokens_account ON office_tokens (account);
	CREATE TABLE office_uploads (
		hash    bytea PRIMARY KEY,
		account text NOT NULL,
		name    text NOT NULL,
		data    bytea NOT NULL,
		marked  bytea,
		created bigint NOT NULL,
		expires bigint NOT NULL
	);
	CREATE INDEX office_uploads_account ON office_uploads (account);
	CREATE TABLE office_logins (
		key      text PRIMARY KEY,
		failures int NOT NULL,
		next     bigint NOT NULL,
		last     bigint NOT NULL
	);
	CREATE INDEX office_logins_last ON office_logins (last);`,
}

// migrationLock is the advisory lock key held while migrating.
const migrationLock = 0x62616e6766750001

// Options configure a DB.
type Options struct {
	// Server is the server's own ID, which no device may enrol as.
	Server uuid.UUID
	// Now reads the clock for issuing codes; time.Now if nil.
	Now func() time.Time
	// Cadre reports whether a cadre is on the roster: a code is issued,
	// and used, only for one that is. Required.
	Cadre func(uuid.UUID) (bool, error)
}

// DB is the server's storage in PostgreSQL.
type DB struct {
	pool *pgxpool.Pool
	opt  Options
}

// Open connects to the database at url (postgres://…) and migrates its
// schema.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	if opt.Cadre == nil {
		return nil, errors.New("pgstore: Options.Cadre is required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	db := &DB{pool: pool, opt: opt}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the connections.
func (db *DB) Close() { db.pool.Close() }

func (db *DB) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock)); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS bangfu_schema (version int NOT NULL)`); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM bangfu_schema`).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO bangfu_schema VALUES (0)`); err != nil {
				return fmt.Errorf("pgstore: migrate: %w", err)
			}
		case err != nil:
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("pgstore: the database's schema (version %d) is newer than this bangfud's (%d): upgrade bangfud", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("pgstore: migration %d: %w", i+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE bangfu_schema SET version = $1`, len(migrations))
		return err
	})
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// tokenPrefix is store's, so that a token is the same whatever keeps it.
const tokenPrefix = "bft1."

// maxEarlierTokens is store's bound on a device's unsettled tokens.
const maxEarlierTokens = 3

// CreateEnrolCode issues a one-time code for cadre, valid for ttl.
func (db *DB) CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", replica.ErrCodeTTL
	}
	ok, err := db.opt.Cadre(cadre)
	if err != nil {
		return "", fmt.Errorf("pgstore: enrol code: %w", err)
	}
	if !ok {
		return "", domain.Errorf(domain.ENOTFOUND, "cadre", "干部不在名册中", "the cadre is not on the roster")
	}
	code, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("pgstore: enrol code: %w", err)
	}
	now := db.opt.Now()
	_, err = db.pool.Exec(context.Background(),
		`INSERT INTO enrol_codes (hash, cadre, created, expires) VALUES ($1, $2, $3, $4)`,
		hashSecret(replica.NormalizeCode(code)), cadre.String(), nanos(now), nanos(now.Add(ttl)))
	if err != nil {
		return "", fmt.Errorf("pgstore: enrol code for cadre %s: %w", cadre, err)
	}
	return code, nil
}

// row is a device's stored form.
type row struct {
	cadre     uuid.UUID
	name      string
	tokenHash []byte
	earlier   [][]byte
	enrolled  int64
	lastSync  int64
	revoked   int64
	reason    string
	closed    int64
}

func (r *row) device(id uuid.UUID) replica.Device {
	return replica.Device{ID: id, Cadre: r.cadre, Name: r.name, Enrolled: fromNanos(r.enrolled),
		LastSync: fromNanos(r.lastSync), Revoked: fromNanos(r.revoked), Reason: replica.Reason(r.reason),
		Closed: fromNanos(r.closed)}
}

func (r *row) reasonOr() replica.Reason {
	if r.reason == "" {
		return replica.Lost
	}
	return replica.Reason(r.reason)
}

const rowColumns = `cadre::text, name, token_hash, earlier, enrolled, last_sync, revoked, reason, closed`

func scanRow(s pgx.Row) (*row, error) {
	var r row
	var cadre string
	err := s.Scan(&cadre, &r.name, &r.tokenHash, &r.earlier, &r.enrolled, &r.lastSync, &r.revoked, &r.reason, &r.closed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.cadre, err = uuid.Parse(cadre); err != nil {
		return nil, err
	}
	return &r, nil
}

// Enroll trades a one-time code for a device token, as server.BoltRegistry.Enroll
// does: the code's row is locked for the transaction, so that two
// instances given the same code at once enrol one device.
func (db *DB) Enroll(code string, device uuid.UUID, name string, now time.Time) (string, uuid.UUID, error) {
	if device == uuid.Nil || device == db.opt.Server {
		return "", uuid.Nil, domain.Errorf(domain.EINVALID, "device", "设备标识无效", "the device ID is not valid")
	}
	name = strings.TrimSpace(name)
	if err := replica.CheckDeviceName(name); err != nil {
		return "", uuid.Nil, err
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", uuid.Nil, fmt.Errorf("pgstore: enroll: %w", err)
	}
	token := tokenPrefix + device.String() + "." + base64.RawURLEncoding.EncodeToString(secret[:])
	key := hashSecret(replica.NormalizeCode(code))
	var cadre uuid.UUID
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var cadreText string
		var expires, used int64
		var usedBy *string
		err := tx.QueryRow(ctx, `SELECT cadre::text, expires, used, device::text FROM enrol_codes WHERE hash = $1 FOR UPDATE`, key).
			Scan(&cadreText, &expires, &used, &usedBy)
		if errors.Is(err, pgx.ErrNoRows) {
			return replica.ErrCodeUnknown
		}
		if err != nil {
			return err
		}
		c, err := uuid.Parse(cadreText)
		if err != nil {
			return err
		}
		retry := false
		switch {
		case used != 0 && (usedBy == nil || *usedBy != device.String()):
			return replica.ErrCodeUsed
		case nanos(now) >= expires:
			return replica.ErrCodeExpired
		case used != 0:
			retry = true
		}
		ok, err := db.opt.Cadre(c)
		if err != nil {
			return err
		}
		if !ok {
			return domain.Errorf(domain.EUNAUTHORIZED, "cadre", "注册码所属的干部已不在名册中",
				"the cadre this code was issued for is no longer on the roster")
		}
		old, err := scanRow(tx.QueryRow(ctx, `SELECT `+rowColumns+` FROM devices WHERE id = $1 FOR UPDATE`, device.String()))
		if err != nil {
			return err
		}
		if old != nil && (old.cadre != c || old.revoked != 0) {
			return replica.ErrDeviceTaken
		}
		if retry && old == nil {
			return replica.ErrCodeUsed
		}
		if !retry {
			if _, err := tx.Exec(ctx, `UPDATE enrol_codes SET used = $2, device = $3 WHERE hash = $1`, key, nanos(now), device.String()); err != nil {
				return err
			}
		}
		cadre = c
		h := hashSecret(token)
		if old == nil {
			_, err = tx.Exec(ctx, `INSERT INTO devices (id, cadre, name, token_hash, enrolled) VALUES ($1, $2, $3, $4, $5)`,
				device.String(), c.String(), name, h, nanos(now))
			return err
		}
		// The same cadre's device again: a new token, the earlier ones
		// valid until one of them is used.
		earlier := append(old.earlier, old.tokenHash)
		if n := len(earlier); n > maxEarlierTokens {
			earlier = earlier[n-maxEarlierTokens:]
		}
		if _, err = tx.Exec(ctx, `UPDATE devices SET name = $2, token_hash = $3, earlier = $4 WHERE id = $1`,
			device.String(), name, h, earlier); err != nil {
			return err
		}
		if !retry {
			// The office enrolled it again: its deposited key may go back.
			_, err = tx.Exec(ctx, `UPDATE escrow SET granted = $2 WHERE device = $1`, device.String(), nanos(now))
		}
		return err
	})
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("pgstore: enroll device %s: %w", device, err)
	}
	return token, cadre, nil
}

// Authenticate returns the device a token belongs to, as
// server.BoltRegistry.Authenticate does.
func (db *DB) Authenticate(token string) (replica.Device, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok || len(rest) < 37 || rest[36] != '.' {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	id, err := uuid.Parse(rest[:36])
	if err != nil {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	ctx := context.Background()
	r, err := scanRow(db.pool.QueryRow(ctx, `SELECT `+rowColumns+` FROM devices WHERE id = $1`, id.String()))
	if err != nil {
		return replica.Device{}, fmt.Errorf("pgstore: authenticate: %w", err)
	}
	if r == nil {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	h := hashSecret(token)
	ok = subtle.ConstantTimeCompare(h, r.tokenHash) == 1
	for _, e := range r.earlier {
		ok = subtle.ConstantTimeCompare(h, e) == 1 || ok
	}
	if !ok {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	d := r.device(id)
	switch {
	case r.revoked == 0:
	case r.reasonOr() == replica.Lost:
		return replica.Device{}, replica.ErrLost
	case r.closed == 0:
		return d, replica.ErrReplaced
	default:
		return replica.Device{}, replica.ErrRevoked
	}
	if len(r.earlier) > 0 {
		// The first of its tokens used becomes its only one, unless another
		// won meanwhile (on this instance or another).
		_, err := db.pool.Exec(ctx, `UPDATE devices SET token_hash = $2, earlier = '{}'
			WHERE id = $1 AND revoked = 0 AND (token_hash = $2 OR $2 = ANY(earlier))`, id.String(), h)
		if err != nil {
			return replica.Device{}, fmt.Errorf("pgstore: settle the token of device %s: %w", id, err)
		}
	}
	return d, nil
}

func notEnrolled(id uuid.UUID) error {
	s := id.String()[:8]
	return &domain.Error{Code: domain.ENOTFOUND, Field: "device",
		Zh: fmt.Sprintf("设备 %s 未注册", s), En: fmt.Sprintf("device %s is not enrolled", s)}
}

// update runs one statement on device id, failing if it is not enrolled.
func (db *DB) update(what string, id uuid.UUID, sql string, args ...any) error {
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM devices WHERE id = $1 FOR UPDATE`, id.String()).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return notEnrolled(id)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, sql, append([]any{id.String()}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	return nil
}

// Revoke stops a device for reason, as server.BoltRegistry.Revoke does.
func (db *DB) Revoke(device uuid.UUID, reason replica.Reason, now time.Time) error {
	if _, err := replica.ParseReason(string(reason)); err != nil {
		return fmt.Errorf("pgstore: revoke device: %w", err)
	}
	return db.update("revoke device", device, `UPDATE devices SET
		reason = CASE WHEN revoked = 0 THEN $3
			WHEN $3 = 'lost' AND reason = 'replaced' AND closed = 0 THEN 'lost' ELSE reason END,
		revoked = CASE WHEN revoked = 0 THEN $2 ELSE revoked END
		WHERE id = $1`, nanos(now), string(reason))
}

// CloseDevice ends a device revoked as replaced after its last push.
func (db *DB) CloseDevice(device uuid.UUID, now time.Time) error {
	return db.update("close device", device,
		`UPDATE devices SET closed = $2 WHERE id = $1 AND revoked <> 0 AND closed = 0`, nanos(now))
}

// Touch records a successful sync of device at now.
func (db *DB) Touch(device uuid.UUID, now time.Time) error {
	return db.update("touch device", device,
		`UPDATE devices SET last_sync = $2 WHERE id = $1 AND last_sync < $2`, nanos(now))
}

// Devices returns the enrolled devices in order of enrolment.
func (db *DB) Devices() ([]replica.Device, error) {
	ctx := context.Background()
	rows, err := db.pool.Query(ctx, `SELECT id::text, `+rowColumns+` FROM devices ORDER BY enrolled, id`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: devices: %w", err)
	}
	defer rows.Close()
	var out []replica.Device
	for rows.Next() {
		var id, cadre string
		var r row
		if err := rows.Scan(&id, &cadre, &r.name, &r.tokenHash, &r.earlier, &r.enrolled, &r.lastSync, &r.revoked, &r.reason, &r.closed); err != nil {
			return nil, fmt.Errorf("pgstore: devices: %w", err)
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, err
		}
		if r.cadre, err = uuid.Parse(cadre); err != nil {
			return nil, err
		}
		out = append(out, r.device(u))
	}
	return out, rows.Err()
}

// Now reads the DB's clock.
func (db *DB) Now() time.Time { return db.opt.Now() }
