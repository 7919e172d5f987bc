package office

import (
	"io"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
)

// Accounts keeps the console's office accounts, their sessions and API
// tokens, and the audit log (BoltAccounts and store.DB on bbolt; on PostgreSQL, tables every
// instance shares, so that a login at one instance is valid at another).
type Accounts interface {
	CreateAccount(a Account, password string) error
	SetPassword(name, password string) error
	DisableAccount(name string, now time.Time) error
	Accounts() ([]Account, error)
	Login(name, password string, ttl time.Duration, now time.Time) (string, Session, error)
	CheckPassword(name, password string) error
	Session(token string, now time.Time) (Session, error)
	Logout(token string) error
	CreateToken(name string, now time.Time) (string, error)
	RevokeTokens(name string) error
	TokenAccount(token string) (Account, error)
	Audit(e store.AuditEntry) error
	AuditLog(limit int, keep func(store.AuditEntry) bool) ([]store.AuditEntry, error)
}

// Registry is the device registry the console administers.
type Registry interface {
	Devices() ([]replica.Device, error)
	Revoke(device uuid.UUID, reason replica.Reason, now time.Time) error
	IssueUnlock(device uuid.UUID, ttl time.Duration) (string, error)
	CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error)
}

// Store is everything the console keeps or changes: accounts, the registry,
// the records it writes (settings) and the backup. What it reads — places,
// cadres, households, visits — it reads from the *store.DB given to New.
type Store interface {
	Accounts
	Registry
	// Put saves records edited by author, as store.DB.Put does.
	Put(author uuid.UUID, recs ...domain.Record) error
	// Backup writes a consistent copy of the server's database to w.
	Backup(w io.Writer) (int64, error)
}

// boltStore is the Store of a server on one bbolt file: the records, the
// audit log and the backup in the store, the accounts in its local buckets
// (BoltAccounts), and the registry kept there too (server.BoltRegistry),
// given to New as Options.Registry.
type boltStore struct {
	*store.DB
	*BoltAccounts
	Registry
}

var _ Store = boltStore{}

// NewBoltStore returns the console's Store on a server's bbolt file: db,
// with reg, the device registry kept in it (server.BoltRegistry).
func NewBoltStore(db *store.DB, reg Registry) Store {
	return boltStore{DB: db, BoltAccounts: NewBoltAccounts(db), Registry: reg}
}
