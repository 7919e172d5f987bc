package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	gosync "sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"bangfu/domain"
	"bangfu/replica"
)

// The office console's records on the server: accounts of office staff,
// their sessions and the audit log of what they did. Like enrolment they
// never sync: they live in their own buckets, created on first use, and no
// log entry is written for them.
//
//	office_accounts   account name -> accountRow (JSON)
//	office_sessions   SHA-256 of a session token -> sessionRow (JSON)
//	office_audit      sequence (big-endian uint64) -> AuditEntry (JSON)
var (
	bucketAccounts = []byte("office_accounts")
	bucketSessions = []byte("office_sessions")
	bucketAudit    = []byte("office_audit")
)

// sessionPrefix starts every console session token.
const sessionPrefix = "bfs1."

// MinPassword is the shortest password an office account may have.
const MinPassword = 10

// BcryptCost is the cost of the password hashes made from now on. Tests
// lower it to bcrypt.MinCost; everything else leaves it at the default.
var BcryptCost = bcrypt.DefaultCost

// Account is a member of a town's or the city's office staff who uses the
// console. Its scope is a place like a device's: an account for a town sees
// that town, one for the city everything.
type Account struct {
	Name     string    // login name, e.g. "fuhan-office"
	Display  string    // the person's name, shown in the audit log
	Place    uuid.UUID // the town or city the account administers
	IDs      bool      // may see whole 身份证号 (else they are masked)
	Created  time.Time
	Disabled time.Time // zero while the account may log in
}

type accountRow struct {
	Display  string    `json:"display"`
	Place    uuid.UUID `json:"place"`
	IDs      bool      `json:"ids"`
	Hash     []byte    `json:"hash"` // bcrypt
	Created  time.Time `json:"created"`
	Disabled time.Time `json:"disabled"`
}

func (r *accountRow) account(name string) Account {
	return Account{Name: name, Display: r.Display, Place: r.Place, IDs: r.IDs, Created: r.Created, Disabled: r.Disabled}
}

type sessionRow struct {
	Account string    `json:"account"`
	CSRF    string    `json:"csrf"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// Session is a logged-in console session.
type Session struct {
	Account Account
	CSRF    string // the token every form of this session must carry
	Expires time.Time
}

// AuditEntry is one administrative action in the console's audit log
// (replica.AuditEntry).
type AuditEntry = replica.AuditEntry

// Errors of console accounts.
var (
	// ErrLogin is returned for an unknown name or a wrong password alike, so
	// that a guesser cannot tell which.
	ErrLogin = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "password",
		Zh: "用户名或密码不正确", En: "the name or the password is not correct"}
	// ErrSession is returned for a session token that is unknown or expired.
	ErrSession = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "session",
		Zh: "请先登录（登录已过期）", En: "log in first (the session has expired)"}
)

func checkAccountName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/\\") || !utf8.ValidString(name) {
		return domain.Errorf(domain.EINVALID, "name", "账号名须为 1–64 个字符，不含空格和斜杠",
			"an account name has 1 to 64 characters, without spaces or slashes")
	}
	return nil
}

// CheckAccountName checks an office account's name as CreateAccount does,
// for the accounts kept elsewhere (sync/server/pgstore).
func CheckAccountName(name string) error { return checkAccountName(name) }

// HashPassword checks a new password's length and returns its bcrypt hash,
// as CreateAccount and SetPassword keep it.
func HashPassword(password string) ([]byte, error) {
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, domain.Errorf(domain.EINVALID, "password", "密码至少 %[1]d 个字符", "a password needs at least %[1]d characters", MinPassword)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "password", "密码不可用：%[1]v", "the password cannot be used: %[1]v", err)
	}
	return hash, nil
}

// PasswordMatches reports whether password is the one hash was made from.
// A nil hash (an unknown name) is compared against a made-up one, so that
// a wrong name costs the time a wrong password does.
func PasswordMatches(hash []byte, password string) bool {
	if hash == nil {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}

// CreateAccount adds an office account with password; the place must be a
// stored town or city. An existing name is refused (ECONFLICT).
func (db *DB) CreateAccount(a Account, password string) error {
	if err := checkAccountName(a.Name); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		p, err := loadPlace(tx, a.Place)
		if err != nil || (p.Level != domain.Town && p.Level != domain.City) {
			return domain.Errorf(domain.EINVALID, "place", "账号的范围必须是名册中的一个镇或市", "an account's scope must be a town or city on the roster")
		}
		b, err := tx.CreateBucketIfNotExists(bucketAccounts)
		if err != nil {
			return err
		}
		if b.Get([]byte(a.Name)) != nil {
			return domain.Errorf(domain.ECONFLICT, "name", "账号“%[1]s”已存在", "the account %[1]q exists already", a.Name)
		}
		if a.Created.IsZero() {
			a.Created = db.Now()
		}
		v, err := json.Marshal(accountRow{Display: a.Display, Place: a.Place, IDs: a.IDs, Hash: hash, Created: a.Created})
		if err != nil {
			return err
		}
		return b.Put([]byte(a.Name), v)
	})
	if err != nil {
		return fmt.Errorf("store: create account %s: %w", a.Name, err)
	}
	return nil
}

// SetPassword replaces an account's password and ends its sessions.
func (db *DB) SetPassword(name, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		row, err := getAccount(tx, name)
		if err != nil {
			return err
		}
		row.Hash = hash
		if err := putAccount(tx, name, row); err != nil {
			return err
		}
		return endSessions(tx, name)
	})
	if err != nil {
		return fmt.Errorf("store: set password of %s: %w", name, err)
	}
	return nil
}

// DisableAccount stops an account from logging in and ends its sessions.
func (db *DB) DisableAccount(name string, now time.Time) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		row, err := getAccount(tx, name)
		if err != nil {
			return err
		}
		if row.Disabled.IsZero() {
			row.Disabled = now
		}
		if err := putAccount(tx, name, row); err != nil {
			return err
		}
		return endSessions(tx, name)
	})
	if err != nil {
		return fmt.Errorf("store: disable account %s: %w", name, err)
	}
	return nil
}

// Accounts returns the office accounts by name.
func (db *DB) Accounts() ([]Account, error) {
	var out []Account
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var row accountRow
			if err := json.Unmarshal(v, &row); err != nil {
				return fmt.Errorf("decode account %s: %w", k, err)
			}
			out = append(out, row.account(string(k)))
			return nil
		})
	})
	return out, err
}

func getAccount(tx *bolt.Tx, name string) (*accountRow, error) {
	b := tx.Bucket(bucketAccounts)
	var v []byte
	if b != nil {
		v = b.Get([]byte(name))
	}
	if v == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "account", "没有账号“%[1]s”", "there is no account %[1]q", name)
	}
	row := new(accountRow)
	if err := json.Unmarshal(v, row); err != nil {
		return nil, fmt.Errorf("decode account %s: %w", name, err)
	}
	return row, nil
}

func putAccount(tx *bolt.Tx, name string, row *accountRow) error {
	v, err := json.Marshal(row)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAccounts).Put([]byte(name), v)
}

func endSessions(tx *bolt.Tx, name string) error {
	b := tx.Bucket(bucketSessions)
	if b == nil {
		return nil
	}
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s sessionRow
		if json.Unmarshal(v, &s) != nil || s.Account == name {
			dead = append(dead, clone(k))
		}
		return nil
	})
	for _, k := range dead {
		if err == nil {
			err = b.Delete(k)
		}
	}
	return err
}

// dummyHash is compared against when the name is unknown, so that a wrong
// name costs the same time as a wrong password.
// It is made on first use, so that a phone's store never pays for it.
var dummyHash = gosync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), BcryptCost)
	return h
})

// Login checks name and password and starts a session valid for ttl. It
// returns the session token (for a cookie) and the session. Any failure is
// ErrLogin; rate limiting is the caller's (it knows the client's address).
func (db *DB) Login(name, password string, ttl time.Duration, now time.Time) (string, Session, error) {
	row, err := db.checkPassword(name, password)
	if err != nil {
		return "", Session{}, err
	}
	token := sessionPrefix + randomText(32)
	s := sessionRow{Account: name, CSRF: randomText(24), Created: now, Expires: now.Add(ttl)}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return err
		}
		// Sweep expired sessions while here.
		var dead [][]byte
		b.ForEach(func(k, v []byte) error {
			var old sessionRow
			if json.Unmarshal(v, &old) != nil || !now.Before(old.Expires) {
				dead = append(dead, clone(k))
			}
			return nil
		})
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		v, err := json.Marshal(s)
		if err != nil {
			return err
		}
		return b.Put(hashSecret(token), v)
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("store: login %s: %w", name, err)
	}
	return token, Session{Account: row.account(name), CSRF: s.CSRF, Expires: s.Expires}, nil
}

// CheckPassword reports whether password is that of the live account
// name: nil, or ErrLogin.
func (db *DB) CheckPassword(name, password string) error {
	_, err := db.checkPassword(name, password)
	return err
}

func (db *DB) checkPassword(name, password string) (*accountRow, error) {
	var row *accountRow
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		row, err = getAccount(tx, name)
		return err
	})
	if err != nil {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, ErrLogin
	}
	if bcrypt.CompareHashAndPassword(row.Hash, []byte(password)) != nil || !row.Disabled.IsZero() {
		return nil, ErrLogin
	}
	return row, nil
}

// Session returns the live session of token: ErrSession if it is unknown,
// expired, or its account disabled.
func (db *DB) Session(token string, now time.Time) (Session, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return Session{}, ErrSession
	}
	var out Session
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := secretRow(tx, bucketSessions, token)
		if v == nil {
			return ErrSession
		}
		var s sessionRow
		if err := json.Unmarshal(v, &s); err != nil || !now.Before(s.Expires) {
			return ErrSession
		}
		row, err := getAccount(tx, s.Account)
		if err != nil || !row.Disabled.IsZero() {
			return ErrSession
		}
		out = Session{Account: row.account(s.Account), CSRF: s.CSRF, Expires: s.Expires}
		return nil
	})
	return out, err
}

// Logout ends the session of token.
func (db *DB) Logout(token string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSessions); b != nil {
			return b.Delete(hashSecret(token))
		}
		return nil
	})
}

// Audit appends e to the audit log.
func (db *DB) Audit(e AuditEntry) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error { return auditTx(tx, e) })
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// auditTx appends e to the audit log in tx.
func auditTx(tx *bolt.Tx, e AuditEntry) error {
	b, err := tx.CreateBucketIfNotExists(bucketAudit)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// AuditLog returns up to limit entries of the audit log that keep accepts,
// newest first.
func (db *DB) AuditLog(limit int, keep func(AuditEntry) bool) ([]AuditEntry, error) {
	var out []AuditEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode audit entry: %w", err)
			}
			e.Seq = binary.BigEndian.Uint64(k)
			if keep == nil || keep(e) {
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// Within reports whether place is scope or lies under it (a village of a
// town, a group of that village): whether an account of scope may see it.
// An unknown place is within nothing.
func (db *DB) Within(place, scope uuid.UUID) bool {
	in := false
	db.bolt.View(func(tx *bolt.Tx) error {
		id := place
		for range 8 {
			if id == scope {
				in = true
				return nil
			}
			p, err := loadPlace(tx, id)
			if err != nil || p.Parent == uuid.Nil {
				return nil
			}
			id = p.Parent
		}
		return nil
	})
	return in
}

func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// bucketTokens holds the API tokens of office accounts, for the command
// line against a running server: SHA-256 of the token -> tokenRow (JSON).
var bucketTokens = []byte("office_tokens")

// apiPrefix starts every office API token.
const apiPrefix = "bfa1."

type tokenRow struct {
	Account string    `json:"account"`
	Created time.Time `json:"created"`
}

// CreateToken makes an API token for an account: the command line presents
// it to a running server's console API in place of a password. Only its
// hash is kept; DisableAccount and SetPassword do not end it, RevokeTokens
// does.
func (db *DB) CreateToken(name string, now time.Time) (string, error) {
	token := apiPrefix + randomText(32)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if _, err := getAccount(tx, name); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return err
		}
		v, err := json.Marshal(tokenRow{Account: name, Created: now})
		if err != nil {
			return err
		}
		return b.Put(hashSecret(token), v)
	})
	if err != nil {
		return "", fmt.Errorf("store: token for %s: %w", name, err)
	}
	return token, nil
}

// RevokeTokens ends every API token of an account.
func (db *DB) RevokeTokens(name string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		var dead [][]byte
		b.ForEach(func(k, v []byte) error {
			var t tokenRow
			if json.Unmarshal(v, &t) != nil || t.Account == name {
				dead = append(dead, clone(k))
			}
			return nil
		})
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// TokenAccount returns the account an API token belongs to: ErrSession if
// the token is unknown or its account disabled.
func (db *DB) TokenAccount(token string) (Account, error) {
	if !strings.HasPrefix(token, apiPrefix) {
		return Account{}, ErrSession
	}
	var out Account
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := secretRow(tx, bucketTokens, token)
		if v == nil {
			return ErrSession
		}
		var t tokenRow
		if err := json.Unmarshal(v, &t); err != nil {
			return ErrSession
		}
		row, err := getAccount(tx, t.Account)
		if err != nil || !row.Disabled.IsZero() {
			return ErrSession
		}
		out = row.account(t.Account)
		return nil
	})
	return out, err
}

// secretRow returns the row kept under the hash of a secret (a session or an
// API token) in bucket, or nil when there is none.
func secretRow(tx *bolt.Tx, bucket []byte, secret string) []byte {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.Get(hashSecret(secret))
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
