package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
)

// The interfaces below are what the screens need of the local replica. Each
// screen calls one of them; *store.DB satisfies them all (see Store).

// Writer saves records edited by a cadre, several in one transaction.
type Writer interface {
	Put(author uuid.UUID, recs ...domain.Record) error
}

// Lister lists the households a cadre is responsible for, overdue first.
type Lister interface {
	MyHouseholds(cadre uuid.UUID, now time.Time) ([]store.HouseholdRow, error)
}

// VillageLister lists the households of a group or a whole village.
type VillageLister interface {
	GroupHouseholds(group uuid.UUID, now time.Time) ([]store.HouseholdRow, error)
	VillageHouseholds(village uuid.UUID, now time.Time) ([]store.HouseholdRow, error)
	// Search with village uuid.Nil and an empty query lists every household
	// the replica holds: a town lead's whole town.
	Search(village uuid.UUID, query string, now time.Time, limit int) ([]store.HouseholdRow, error)
}

// CardReader reads a household card (一口清).
type CardReader interface {
	Card(household uuid.UUID, now time.Time) (*store.Card, error)
}

// Drafts keeps unsynced scratch text, such as a visit being typed, and saves
// the records a draft becomes together with the draft's removal.
type Drafts interface {
	SaveDraft(key string, data []byte) error
	Draft(key string) ([]byte, error)
	DraftKeys(prefix string) ([]string, error)
	DeleteDraft(key string) error
	PutDraft(author uuid.UUID, key string, recs ...domain.Record) error
}

// SettingsStore reads and writes the replica's settings.
type SettingsStore interface {
	Settings() (store.Settings, error)
	SetSettings(s store.Settings) error
}

// Roster answers who the signed-in cadre is and what they lead.
type Roster interface {
	Get(kind domain.Kind, id uuid.UUID) (domain.Record, error)
	Assignments(cadre uuid.UUID) ([]*domain.Assignment, error)
	Places(level domain.Level, parent uuid.UUID) ([]*domain.Place, error)
	Cadres() ([]*domain.Cadre, error)
}

// Leader holds the team leader's queries over a village.
type Leader interface {
	Overview(village uuid.UUID, now time.Time) (*store.Overview, error)
	OpenProblems(village uuid.UUID, now time.Time) ([]store.ProblemRow, error)
	PlansAwaitingReview(village uuid.UUID, now time.Time) ([]store.PlanRow, error)
	Assistance(village uuid.UUID) (domain.Gaps, error)
	// Coverage and History are the roster's coverage checks and its
	// history (帮扶力量调整记录) in a village (history.go).
	Coverage(village uuid.UUID) (domain.Coverage, error)
	History(village uuid.UUID) (*store.History, error)
	// Rules are the rules in force in a village (rules.go).
	Rules(village uuid.UUID) (domain.Rules, error)
	// StatusRequests are the households whose status a cadre asked to
	// change (requests.go).
	StatusRequests(village uuid.UUID) ([]*domain.Household, error)
	CadreActivity(village uuid.UUID, now time.Time) ([]store.CadreRow, error)
	Conflicts(village uuid.UUID, open bool) ([]store.ConflictRow, error)
	ResolveConflict(author, conflict uuid.UUID, keepLoser bool) error
}

// Store is everything the app needs of the local replica. *store.DB is one.
type Store interface {
	Writer
	Lister
	VillageLister
	CardReader
	Drafts
	SettingsStore
	Roster
	Leader
	// Now is the replica's corrected wall clock.
	Now() time.Time
	// Device is the replica's device ID.
	Device() uuid.UUID
	// Locker is the PIN (pin.go).
	Locker
	// Audit writes to the replica's audit log, which the sync client sends
	// to the server's (a whole ID number revealed on screen).
	Audit(e store.AuditEntry) error
}

var _ Store = (*store.DB)(nil)

// Syncer is the device's sync client; *client.Client is one. Status reads the
// store, so the app calls it off the UI goroutine.
type Syncer interface {
	Enroll(ctx context.Context, url, code, name string) error
	Sync(ctx context.Context) error
	Run(ctx context.Context)
	Trigger()
	Status() client.Status
	Subscribe() (<-chan client.Status, func())
	// SignOut forgets the enrolment; it refuses while changes wait.
	SignOut() error
	// Deposit gives the store's data key to the server to keep for a
	// forgotten PIN.
	Deposit(ctx context.Context, key []byte) error
}

var _ Syncer = (*client.Client)(nil)
