package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/replica"
	"bangfu/store"
)

// The office console's storage on PostgreSQL (office.Store): accounts,
// sessions and API tokens in tables every instance shares, with bbolt's
// meaning (office/boltaccounts.go); the registry and the audit log the sync
// server already keeps here; records the console saves pushed into the
// shared log (Replica.Put). What the console reads it reads from the
// instance's mirror.

// Office is the office console's storage on a replica.
type Office struct {
	r *Replica
}

// Office returns the console's storage on r.
func (r *Replica) Office() *Office { return &Office{r: r} }

// Token prefixes, store's, so that a token means the same whatever keeps it.
const (
	sessionPrefix = "bfs1."
	apiPrefix     = "bfa1."
)

func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func noAccount(name string) error {
	return domain.Errorf(domain.ENOTFOUND, "account", "没有账号“%[1]s”", "there is no account %[1]q", name)
}

// CreateAccount adds an office account with password; the place must be a
// town or city on the roster. An existing name is refused (ECONFLICT).
func (o *Office) CreateAccount(a office.Account, password string) error {
	if err := office.CheckAccountName(a.Name); err != nil {
		return err
	}
	hash, err := office.HashPassword(password)
	if err != nil {
		return err
	}
	mirror, err := o.r.Mirror()
	if err != nil {
		return fmt.Errorf("pgstore: create account %s: %w", a.Name, err)
	}
	rec, err := mirror.Get(domain.KindPlace, a.Place)
	if p, ok := rec.(*domain.Place); err != nil || !ok || (p.Level != domain.Town && p.Level != domain.City) {
		return domain.Errorf(domain.EINVALID, "place", "账号的范围必须是名册中的一个镇或市", "an account's scope must be a town or city on the roster")
	}
	if a.Created.IsZero() {
		a.Created = o.r.Now()
	}
	_, err = o.r.pool.Exec(context.Background(), `INSERT INTO office_accounts (name, display, place, ids, hash, created)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.Name, a.Display, a.Place.String(), a.IDs, hash, nanos(a.Created))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" { // unique_violation
		return domain.Errorf(domain.ECONFLICT, "name", "账号“%[1]s”已存在", "the account %[1]q exists already", a.Name)
	}
	if err != nil {
		return fmt.Errorf("pgstore: create account %s: %w", a.Name, err)
	}
	return nil
}

// changeAccount runs sql (an UPDATE of office_accounts with $1 the name)
// and ends the account's sessions, in one transaction.
func (o *Office) changeAccount(what, name, sql string, args ...any) error {
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, o.r.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, append([]any{name}, args...)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return noAccount(name)
		}
		_, err = tx.Exec(ctx, `DELETE FROM office_sessions WHERE account = $1`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: %s %s: %w", what, name, err)
	}
	return nil
}

// SetPassword replaces an account's password and ends its sessions.
func (o *Office) SetPassword(name, password string) error {
	hash, err := office.HashPassword(password)
	if err != nil {
		return err
	}
	return o.changeAccount("set password of", name, `UPDATE office_accounts SET hash = $2 WHERE name = $1`, hash)
}

// DisableAccount stops an account from logging in and ends its sessions.
func (o *Office) DisableAccount(name string, now time.Time) error {
	return o.changeAccount("disable account", name,
		`UPDATE office_accounts SET disabled = CASE WHEN disabled = 0 THEN $2 ELSE disabled END WHERE name = $1`, nanos(now))
}

const accountColumns = `name, display, place::text, ids, created, disabled`

func scanAccount(s pgx.Row, more ...any) (office.Account, error) {
	var a office.Account
	var place string
	var created, disabled int64
	if err := s.Scan(append([]any{&a.Name, &a.Display, &place, &a.IDs, &created, &disabled}, more...)...); err != nil {
		return a, err
	}
	a.Place, _ = uuid.Parse(place)
	a.Created, a.Disabled = fromNanos(created), fromNanos(disabled)
	return a, nil
}

// Accounts returns the office accounts by name.
func (o *Office) Accounts() ([]office.Account, error) {
	rows, err := o.r.pool.Query(context.Background(), `SELECT `+accountColumns+` FROM office_accounts ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: accounts: %w", err)
	}
	defer rows.Close()
	var out []office.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// checkPassword returns the live account name if password is its own, and
// office.ErrLogin for an unknown name, a wrong password or a disabled
// account alike.
func (o *Office) checkPassword(name, password string) (office.Account, error) {
	var hash []byte
	a, err := scanAccount(o.r.pool.QueryRow(context.Background(),
		`SELECT `+accountColumns+`, hash FROM office_accounts WHERE name = $1`, name), &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("pgstore: check password of %s: %w", name, err)
	}
	if !office.PasswordMatches(hash, password) || !a.Disabled.IsZero() {
		return office.Account{}, office.ErrLogin
	}
	return a, nil
}

// CheckPassword reports whether password is that of the live account
// name: nil, or office.ErrLogin.
func (o *Office) CheckPassword(name, password string) error {
	_, err := o.checkPassword(name, password)
	return err
}

// Login checks name and password and starts a session valid for ttl, kept
// in the database so that every instance knows it.
func (o *Office) Login(name, password string, ttl time.Duration, now time.Time) (string, office.Session, error) {
	a, err := o.checkPassword(name, password)
	if err != nil {
		return "", office.Session{}, err
	}
	token := sessionPrefix + randomText(32)
	s := office.Session{Account: a, CSRF: randomText(24), Expires: now.Add(ttl)}
	ctx := context.Background()
	err = pgx.BeginFunc(ctx, o.r.pool, func(tx pgx.Tx) error {
		// Sweep expired sessions while here.
		if _, err := tx.Exec(ctx, `DELETE FROM office_sessions WHERE expires <= $1`, nanos(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO office_sessions (hash, account, csrf, created, expires) VALUES ($1, $2, $3, $4, $5)`,
			hashSecret(token), name, s.CSRF, nanos(now), nanos(s.Expires))
		return err
	})
	if err != nil {
		return "", office.Session{}, fmt.Errorf("pgstore: login %s: %w", name, err)
	}
	return token, s, nil
}

// Session returns the live session of token: office.ErrSession if it is
// unknown, expired, or its account disabled.
func (o *Office) Session(token string, now time.Time) (office.Session, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return office.Session{}, office.ErrSession
	}
	var s office.Session
	var expires int64
	a, err := scanAccount(o.r.pool.QueryRow(context.Background(), `SELECT a.name, a.display, a.place::text, a.ids, a.created, a.disabled,
		s.csrf, s.expires FROM office_sessions s JOIN office_accounts a ON a.name = s.account WHERE s.hash = $1`,
		hashSecret(token)), &s.CSRF, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return office.Session{}, office.ErrSession
	}
	if err != nil {
		return office.Session{}, fmt.Errorf("pgstore: session: %w", err)
	}
	s.Account, s.Expires = a, fromNanos(expires)
	if !now.Before(s.Expires) || !a.Disabled.IsZero() {
		return office.Session{}, office.ErrSession
	}
	return s, nil
}

// Logout ends the session of token.
func (o *Office) Logout(token string) error {
	_, err := o.r.pool.Exec(context.Background(), `DELETE FROM office_sessions WHERE hash = $1`, hashSecret(token))
	if err != nil {
		return fmt.Errorf("pgstore: logout: %w", err)
	}
	return nil
}

// CreateToken makes an API token for an account; only its hash is kept.
func (o *Office) CreateToken(name string, now time.Time) (string, error) {
	token := apiPrefix + randomText(32)
	tag, err := o.r.pool.Exec(context.Background(), `INSERT INTO office_tokens (hash, account, created)
		SELECT $1, name, $3 FROM office_accounts WHERE name = $2`, hashSecret(token), name, nanos(now))
	if err == nil && tag.RowsAffected() == 0 {
		err = noAccount(name)
	}
	if err != nil {
		return "", fmt.Errorf("pgstore: token for %s: %w", name, err)
	}
	return token, nil
}

// RevokeTokens ends every API token of an account.
func (o *Office) RevokeTokens(name string) error {
	_, err := o.r.pool.Exec(context.Background(), `DELETE FROM office_tokens WHERE account = $1`, name)
	if err != nil {
		return fmt.Errorf("pgstore: revoke tokens of %s: %w", name, err)
	}
	return nil
}

// TokenAccount returns the account an API token belongs to:
// office.ErrSession if the token is unknown or its account disabled.
func (o *Office) TokenAccount(token string) (office.Account, error) {
	if !strings.HasPrefix(token, apiPrefix) {
		return office.Account{}, office.ErrSession
	}
	a, err := scanAccount(o.r.pool.QueryRow(context.Background(), `SELECT a.name, a.display, a.place::text, a.ids, a.created, a.disabled
		FROM office_tokens t JOIN office_accounts a ON a.name = t.account WHERE t.hash = $1`, hashSecret(token)))
	if errors.Is(err, pgx.ErrNoRows) {
		return office.Account{}, office.ErrSession
	}
	if err != nil {
		return office.Account{}, fmt.Errorf("pgstore: token: %w", err)
	}
	if !a.Disabled.IsZero() {
		return office.Account{}, office.ErrSession
	}
	return a, nil
}

// Audit appends e to the audit log.
func (o *Office) Audit(e store.AuditEntry) error { return o.r.Audit(e) }

// AuditLog returns up to limit entries of the audit log that keep accepts,
// newest first, reading the log a page at a time.
func (o *Office) AuditLog(limit int, keep func(store.AuditEntry) bool) ([]store.AuditEntry, error) {
	const page = 500
	var out []store.AuditEntry
	before := int64(1<<63 - 1)
	for len(out) < limit {
		rows, err := o.r.pool.Query(context.Background(), `SELECT seq, at, account, action, target, detail, place::text
			FROM audit WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, page)
		if err != nil {
			return nil, fmt.Errorf("pgstore: audit log: %w", err)
		}
		n := 0
		for rows.Next() {
			var e store.AuditEntry
			var at int64
			var place string
			if err := rows.Scan(&e.Seq, &at, &e.Account, &e.Action, &e.Target, &e.Detail, &place); err != nil {
				rows.Close()
				return nil, fmt.Errorf("pgstore: audit log: %w", err)
			}
			n++
			before = int64(e.Seq)
			e.At = time.Unix(0, at)
			e.Place, _ = uuid.Parse(place)
			if len(out) < limit && (keep == nil || keep(e)) {
				out = append(out, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("pgstore: audit log: %w", err)
		}
		if n < page {
			break
		}
	}
	return out, nil
}

// Devices returns the enrolled devices.
func (o *Office) Devices() ([]replica.Device, error) { return o.r.Devices() }

// Revoke refuses a device from now on.
func (o *Office) Revoke(device uuid.UUID, reason replica.Reason, now time.Time) error {
	return o.r.Revoke(device, reason, now)
}

// IssueUnlock issues a one-time unlock code for a device's escrowed key.
func (o *Office) IssueUnlock(device uuid.UUID, ttl time.Duration) (string, error) {
	return o.r.IssueUnlock(device, ttl)
}

// CreateEnrolCode issues a one-time enrolment code for a cadre.
func (o *Office) CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error) {
	return o.r.CreateEnrolCode(cadre, ttl)
}

// ErrNoBackup answers the console's backup on PostgreSQL: the database is
// backed up as any PostgreSQL database is.
var ErrNoBackup = &domain.Error{Code: domain.EINVALID, Field: "backup",
	Zh: "PostgreSQL 服务器的数据库请用 pg_dump 备份（管理后台只备份 bbolt 服务器）",
	En: "back up a PostgreSQL server's database with pg_dump (the console backs up bbolt servers only)"}

// Backup refuses: see ErrNoBackup.
func (o *Office) Backup(io.Writer) (int64, error) { return 0, ErrNoBackup }

// Put saves records edited by author into the shared log (Replica.Put).
func (o *Office) Put(author uuid.UUID, recs ...domain.Record) error { return o.r.Put(author, recs...) }

// maxUploads is how many roster files waiting for confirmation an account
// keeps, as the console does in memory: an older one is uploaded again.
const maxUploads = 3

// PutUpload keeps a roster file between its check and its confirmation
// (office.Uploads), under the hash of token, until expires. Expired files
// go, and so does the account's oldest beyond maxUploads.
func (o *Office) PutUpload(token, account, name string, data, marked []byte, expires, now time.Time) error {
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, o.r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM office_uploads WHERE expires < $1`, nanos(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM office_uploads WHERE hash IN (SELECT hash FROM office_uploads
			WHERE account = $1 ORDER BY created DESC OFFSET $2)`, account, maxUploads-1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO office_uploads (hash, account, name, data, marked, created, expires)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, hashSecret(token), account, name, data, marked, nanos(now), nanos(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: keep upload %s: %w", name, err)
	}
	return nil
}

// Upload returns the live upload of token made by account; ok false if
// there is none.
func (o *Office) Upload(token, account string, now time.Time) (name string, data, marked []byte, ok bool, err error) {
	err = o.r.pool.QueryRow(context.Background(), `SELECT name, data, marked FROM office_uploads
		WHERE hash = $1 AND account = $2 AND expires >= $3`, hashSecret(token), account, nanos(now)).Scan(&name, &data, &marked)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, nil, false, nil
	}
	if err != nil {
		return "", nil, nil, false, fmt.Errorf("pgstore: upload: %w", err)
	}
	return name, data, marked, true, nil
}

// MarkUpload replaces the marked copy of the upload of token.
func (o *Office) MarkUpload(token string, marked []byte) error {
	_, err := o.r.pool.Exec(context.Background(), `UPDATE office_uploads SET marked = $2 WHERE hash = $1`, hashSecret(token), marked)
	if err != nil {
		return fmt.Errorf("pgstore: mark upload: %w", err)
	}
	return nil
}

// DropUpload forgets the upload of token.
func (o *Office) DropUpload(token string) error {
	_, err := o.r.pool.Exec(context.Background(), `DELETE FROM office_uploads WHERE hash = $1`, hashSecret(token))
	if err != nil {
		return fmt.Errorf("pgstore: drop upload: %w", err)
	}
	return nil
}

// forgetLogins is how long a key's failed logins are kept after its last.
const forgetLogins = 24 * time.Hour

// Wait returns how long a login attempt for keys must still wait
// (office.Logins): failures at any instance count.
func (o *Office) Wait(keys []string, now time.Time) (time.Duration, error) {
	var next int64
	err := o.r.pool.QueryRow(context.Background(), `SELECT coalesce(max(next), 0) FROM office_logins WHERE key = ANY($1)`, keys).Scan(&next)
	if err != nil {
		return 0, fmt.Errorf("pgstore: failed logins: %w", err)
	}
	if d := time.Duration(next - now.UnixNano()); next != 0 && d > 0 {
		return d, nil
	}
	return 0, nil
}

// Fail counts a failed login for each key; after its n-th failure in a
// row a key bars attempts for bar(n). Keys without a failure for a day
// are forgotten.
func (o *Office) Fail(keys []string, now time.Time, bar func(failures int) time.Duration) error {
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, o.r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM office_logins WHERE last < $1`, nanos(now.Add(-forgetLogins))); err != nil {
			return err
		}
		for _, k := range keys {
			var n int
			err := tx.QueryRow(ctx, `INSERT INTO office_logins (key, failures, next, last) VALUES ($1, 1, 0, $2)
				ON CONFLICT (key) DO UPDATE SET failures = office_logins.failures + 1, last = $2
				RETURNING failures`, k, nanos(now)).Scan(&n)
			if err != nil {
				return err
			}
			if d := bar(n); d > 0 {
				if _, err := tx.Exec(ctx, `UPDATE office_logins SET next = $2 WHERE key = $1`, k, nanos(now.Add(d))); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: count a failed login: %w", err)
	}
	return nil
}

// Succeed forgets the keys' failed logins.
func (o *Office) Succeed(keys []string) error {
	_, err := o.r.pool.Exec(context.Background(), `DELETE FROM office_logins WHERE key = ANY($1)`, keys)
	if err != nil {
		return fmt.Errorf("pgstore: clear failed logins: %w", err)
	}
	return nil
}
