package office

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"bangfu/domain"
	"bangfu/store"
)

// BoltAccounts keeps the console's accounts, sessions and API tokens in a
// store.DB's local buckets (store.Tx.Bucket), on a server's bbolt file: the
// buckets and encodings store itself kept before they moved here. With the
// store's audit log and the device registry it is the console's Store on
// bbolt (Options.Registry).
type BoltAccounts struct{ db *store.DB }

// NewBoltAccounts returns the accounts kept in db.
func NewBoltAccounts(db *store.DB) *BoltAccounts { return &BoltAccounts{db: db} }

// The office console's records on the server: accounts of office staff,
// their sessions and the audit log of what they did. Like enrolment they
// never sync: they live in their own buckets, created on first use, and no
// log entry is written for them.
//
//	office_accounts   account name -> accountRec (JSON)
//	office_sessions   SHA-256 of a session token -> sessionRec (JSON)
const (
	bucketAccounts = "office_accounts"
	bucketSessions = "office_sessions"
)

// sessionPrefix starts every console session token.
const sessionPrefix = "bfs1."

type accountRec struct {
	Display  string    `json:"display"`
	Place    uuid.UUID `json:"place"`
	IDs      bool      `json:"ids"`
	Hash     []byte    `json:"hash"` // bcrypt
	Created  time.Time `json:"created"`
	Disabled time.Time `json:"disabled"`
}

func (r *accountRec) account(name string) Account {
	return Account{Name: name, Display: r.Display, Place: r.Place, IDs: r.IDs, Created: r.Created, Disabled: r.Disabled}
}

type sessionRec struct {
	Account string    `json:"account"`
	CSRF    string    `json:"csrf"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// CreateAccount adds an office account with password; the place must be a
// stored town or city. An existing name is refused (ECONFLICT).
func (ba *BoltAccounts) CreateAccount(a Account, password string) error {
	if err := checkAccountName(a.Name); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = ba.db.Update(func(tx *store.Tx) error {
		rec, err := tx.Get(domain.KindPlace, a.Place)
		if p, ok := rec.(*domain.Place); err != nil || !ok || (p.Level != domain.Town && p.Level != domain.City) {
			return domain.Errorf(domain.EINVALID, "place", "账号的范围必须是名册中的一个镇或市", "an account's scope must be a town or city on the roster")
		}
		b, err := tx.CreateBucket(bucketAccounts)
		if err != nil {
			return err
		}
		if b.Get([]byte(a.Name)) != nil {
			return domain.Errorf(domain.ECONFLICT, "name", "账号“%[1]s”已存在", "the account %[1]q exists already", a.Name)
		}
		if a.Created.IsZero() {
			a.Created = ba.db.Now()
		}
		v, err := json.Marshal(accountRec{Display: a.Display, Place: a.Place, IDs: a.IDs, Hash: hash, Created: a.Created})
		if err != nil {
			return err
		}
		return b.Put([]byte(a.Name), v)
	})
	if err != nil {
		return fmt.Errorf("office: create account %s: %w", a.Name, err)
	}
	return nil
}

// SetPassword replaces an account's password and ends its sessions.
func (ba *BoltAccounts) SetPassword(name, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = ba.db.Update(func(tx *store.Tx) error {
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
		return fmt.Errorf("office: set password of %s: %w", name, err)
	}
	return nil
}

// DisableAccount stops an account from logging in and ends its sessions.
func (ba *BoltAccounts) DisableAccount(name string, now time.Time) error {
	err := ba.db.Update(func(tx *store.Tx) error {
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
		return fmt.Errorf("office: disable account %s: %w", name, err)
	}
	return nil
}

// Accounts returns the office accounts by name.
func (ba *BoltAccounts) Accounts() ([]Account, error) {
	var out []Account
	err := ba.db.View(func(tx *store.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var row accountRec
			if err := json.Unmarshal(v, &row); err != nil {
				return fmt.Errorf("decode account %s: %w", k, err)
			}
			out = append(out, row.account(string(k)))
			return nil
		})
	})
	return out, err
}

func getAccount(tx *store.Tx, name string) (*accountRec, error) {
	b := tx.Bucket(bucketAccounts)
	var v []byte
	if b != nil {
		v = b.Get([]byte(name))
	}
	if v == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "account", "没有账号“%[1]s”", "there is no account %[1]q", name)
	}
	row := new(accountRec)
	if err := json.Unmarshal(v, row); err != nil {
		return nil, fmt.Errorf("decode account %s: %w", name, err)
	}
	return row, nil
}

func putAccount(tx *store.Tx, name string, row *accountRec) error {
	v, err := json.Marshal(row)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAccounts).Put([]byte(name), v)
}

func endSessions(tx *store.Tx, name string) error {
	b := tx.Bucket(bucketSessions)
	if b == nil {
		return nil
	}
	var dead [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var s sessionRec
		if json.Unmarshal(v, &s) != nil || s.Account == name {
			dead = append(dead, bytes.Clone(k))
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

// Login checks name and password and starts a session valid for ttl. It
// returns the session token (for a cookie) and the session. Any failure is
// ErrLogin; rate limiting is the caller's (it knows the client's address).
func (ba *BoltAccounts) Login(name, password string, ttl time.Duration, now time.Time) (string, Session, error) {
	row, err := ba.checkPassword(name, password)
	if err != nil {
		return "", Session{}, err
	}
	token := sessionPrefix + randomText(32)
	s := sessionRec{Account: name, CSRF: randomText(24), Created: now, Expires: now.Add(ttl)}
	err = ba.db.Update(func(tx *store.Tx) error {
		b, err := tx.CreateBucket(bucketSessions)
		if err != nil {
			return err
		}
		// Sweep expired sessions while here.
		var dead [][]byte
		b.ForEach(func(k, v []byte) error {
			var old sessionRec
			if json.Unmarshal(v, &old) != nil || !now.Before(old.Expires) {
				dead = append(dead, bytes.Clone(k))
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
		return "", Session{}, fmt.Errorf("office: login %s: %w", name, err)
	}
	return token, Session{Account: row.account(name), CSRF: s.CSRF, Expires: s.Expires}, nil
}

// CheckPassword reports whether password is that of the live account
// name: nil, or ErrLogin.
func (ba *BoltAccounts) CheckPassword(name, password string) error {
	_, err := ba.checkPassword(name, password)
	return err
}

func (ba *BoltAccounts) checkPassword(name, password string) (*accountRec, error) {
	var row *accountRec
	err := ba.db.View(func(tx *store.Tx) error {
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
func (ba *BoltAccounts) Session(token string, now time.Time) (Session, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return Session{}, ErrSession
	}
	var out Session
	err := ba.db.View(func(tx *store.Tx) error {
		v := secretRow(tx, bucketSessions, token)
		if v == nil {
			return ErrSession
		}
		var s sessionRec
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
func (ba *BoltAccounts) Logout(token string) error {
	return ba.db.Update(func(tx *store.Tx) error {
		if b := tx.Bucket(bucketSessions); b != nil {
			return b.Delete(hashSecret(token))
		}
		return nil
	})
}

func randomText(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// bucketTokens holds the API tokens of office accounts, for the command
// line against a running server: SHA-256 of the token -> tokenRec (JSON).
const bucketTokens = "office_tokens"

// apiPrefix starts every office API token.
const apiPrefix = "bfa1."

type tokenRec struct {
	Account string    `json:"account"`
	Created time.Time `json:"created"`
}

// CreateToken makes an API token for an account: the command line presents
// it to a running server's console API in place of a password. Only its
// hash is kept; DisableAccount and SetPassword do not end it, RevokeTokens
// does.
func (ba *BoltAccounts) CreateToken(name string, now time.Time) (string, error) {
	token := apiPrefix + randomText(32)
	err := ba.db.Update(func(tx *store.Tx) error {
		if _, err := getAccount(tx, name); err != nil {
			return err
		}
		b, err := tx.CreateBucket(bucketTokens)
		if err != nil {
			return err
		}
		v, err := json.Marshal(tokenRec{Account: name, Created: now})
		if err != nil {
			return err
		}
		return b.Put(hashSecret(token), v)
	})
	if err != nil {
		return "", fmt.Errorf("office: token for %s: %w", name, err)
	}
	return token, nil
}

// RevokeTokens ends every API token of an account.
func (ba *BoltAccounts) RevokeTokens(name string) error {
	return ba.db.Update(func(tx *store.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		var dead [][]byte
		b.ForEach(func(k, v []byte) error {
			var t tokenRec
			if json.Unmarshal(v, &t) != nil || t.Account == name {
				dead = append(dead, bytes.Clone(k))
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
func (ba *BoltAccounts) TokenAccount(token string) (Account, error) {
	if !strings.HasPrefix(token, apiPrefix) {
		return Account{}, ErrSession
	}
	var out Account
	err := ba.db.View(func(tx *store.Tx) error {
		v := secretRow(tx, bucketTokens, token)
		if v == nil {
			return ErrSession
		}
		var t tokenRec
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
func secretRow(tx *store.Tx, bucket, secret string) []byte {
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
