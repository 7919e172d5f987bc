// Package client syncs a device's store with its upstream (the sync server,
// or a team leader's tablet acting as one) over sync/protocol.
//
// # A sync
//
// [Client.Sync] is one HTTP round trip in the common case: it sends the
// changes made on the device since the push cursor (everything in the log not
// received from the upstream) with the pull cursor; then, in one store
// transaction ([store.DB.ApplyPull]), it applies the changes in the answer as
// received from the upstream, advances the push cursor to what the upstream
// acknowledged and the pull cursor to the answer's, and keeps the changes the
// upstream rejected; and it sets the clock's offset from the upstream's time
// ([store.DB.SetClockOffset]). When the answer says more changes
// wait, or the device had more to push than fits a page, it goes round again
// at once. When the upstream refuses the push because the device's clock ran
// fast, the device restamps its unsent changes to the upstream's clock and
// pushes again, once.
//
// # Changes out of scope or beyond the cadre's role
//
// A change the device may no longer send — a cadre's offline edit of a
// household whose group was given to another cadre meanwhile (field
// "scope"), or an edit the cadre's role does not allow, such as their own
// rank or a plan's approval (field "role") — makes the upstream refuse the
// whole push (403), naming every such change of it; every 403 naming
// changes is handled alike, whatever its field. The device sets exactly those aside: they join the rejected
// changes in [Status.Rejected] with the upstream's words, and are never sent
// again (ClearRejected forgets the list, not that); they stay in the log,
// and their records stay as edited here — nothing is deleted. Then it pushes
// again at once without them, in the same Sync, so the rest of its work (new
// visits of households still in its scope) is not held up behind them. A
// push refused without naming changes (an older upstream) is a permanent
// error, as before.
//
// A sync cut off at any point — a request lost, an answer lost, the app
// killed — leaves the cursors where they were or further, never beyond what
// is durable on both sides, so the next sync simply does it again: change IDs
// make a second application harmless, on both sides. What is still written on
// its own is harmless to lose: the clock offset (measured again at the next
// sync), the time of the last sync (shown only), and the push cursor moved
// past entries just pulled (the next sync walks them again and sends none).
//
// # After the server is restored from a backup
//
// A restored server has lost what was synced after its backup, and its
// cursors carry a new epoch: it refuses the device's pull cursor
// (protocol.ErrCursor). The device then pulls from the start and pushes its
// whole log again (entries made here or received from its own downstream);
// the server applies what it lost and skips by change ID what it has, so
// nothing the device wrote is lost and nothing is repeated. What a device
// only received from the server (another device's change the server lost)
// is pushed again by that device, not by this one.
//
// # In the background
//
// [Client.Run] syncs when asked ([Client.Trigger]), periodically, and on its
// own when the upstream becomes reachable again after a failure: it probes
// GET /healthz with exponential backoff and jitter, capped. Transient failures
// (no network, a server error, an answer cut short) are retried that way;
// permanent ones (a revoked device, a change out of scope, a refused request)
// stop the background syncing until the user asks again, and reach the user
// through [Client.Status] in plain words, Chinese or English.
//
// # Photos
//
// A photo's record syncs like any other change; its JPEG follows, after the
// records, in a photo phase of the same Sync (see photos.go and
// docs/ARCHITECTURE.md): resumable uploads from the upstream's offset that
// yield to records between 64 KiB chunks, then thumbnails; full JPEGs come
// only through [Client.FetchPhoto]. [Status] counts the photos and bytes
// waiting as they go.
//
// # What the device stores
//
// The account (server URL, token, cadre, the upstream's ID), the cursors,
// the changes the upstream rejected and those set aside as out of scope are
// kept in the store's cursor bucket, so they survive a restart; the clock offset is kept by the store itself, which
// restores it when it opens.
package client

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// Names in the store's cursor bucket. The account (token, cadre) is not a
// cursor: it is kept in the store's local state (store.KeyAccount), never
// replicated.
const (
	keyPush     = "sync.push"
	keyPull     = "sync.pull"
	keyLast     = "sync.last"
	keyOffset   = "sync.offset" // clients before the store kept the offset
	keyRejected = "sync.rejected"
	keyAside    = "sync.aside"
	keyRetry    = "sync.retry" // "1": offer the changes set aside again
	// keyRecheck "1": offer the changes set aside again in the next sync,
	// once: they were set aside since it was last done (see sync).
	keyRecheck = "sync.recheck"
	keyAudit   = "sync.audit" // the last audit entry sent to the server
)

// maxRounds bounds the round trips of one Sync; a sync that needs more
// continues at the next one.
const maxRounds = 1000

// maxRejected bounds the changes kept for the user that the upstream could
// not merge; those set aside as out of scope are all kept (they are the
// user's work, offered again after each catch-up).
const maxRejected = 100

// ErrLost is returned by Sync when the server says the device was reported
// lost (protocol.ErrLost): the app wipes the local store and returns to
// enrolment. It matches the server's answer with errors.Is.
var ErrLost = protocol.ErrLost

// ErrReplaced is returned by Sync after the last push of a device revoked as
// replaced (protocol.ErrReplaced): what it held reached the server, and its
// token no longer works.
var ErrReplaced = protocol.ErrReplaced

// trimRejected keeps the newest maxRejected of the changes that could not
// be merged, and every change set aside.
func trimRejected(rs []Rejected) []Rejected {
	n := 0
	for _, r := range rs {
		if r.Err == nil || r.Err.Code != domain.EFORBIDDEN {
			n++
		}
	}
	if n <= maxRejected {
		return rs
	}
	drop := n - maxRejected
	out := make([]Rejected, 0, len(rs)-drop)
	for _, r := range rs {
		if drop > 0 && (r.Err == nil || r.Err.Code != domain.EFORBIDDEN) {
			drop--
			continue
		}
		out = append(out, r)
	}
	return out
}

// ErrNotEnrolled is returned by Sync on a device that has not enrolled.
var ErrNotEnrolled = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "enrol",
	Zh: "本设备尚未注册，请输入服务器地址和注册码", En: "this device is not enrolled yet; enter the server address and an enrolment code"}

// Options configure a Client. The zero value is usable once the device has
// enrolled.
type Options struct {
	// URL is the upstream's base URL (e.g. "https://sync.example.cn"). If
	// empty, the URL stored at enrolment is used.
	URL string
	// Token is the device token. If empty, the token stored at enrolment.
	Token string
	// HTTP sends the requests; a client with a 5-minute timeout if nil.
	// Tests give one whose Transport injects faults.
	HTTP *http.Client
	// Now reads the time shown as the last sync; the store's corrected
	// clock if nil.
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the wait between attempts after a
	// transient failure: it doubles from MinBackoff (2 s if zero) up to
	// MaxBackoff (5 min if zero), with jitter.
	MinBackoff, MaxBackoff time.Duration
	// Interval is how often Run syncs while all is well; 5 min if zero,
	// never if negative (only when asked).
	Interval time.Duration
	// Logger receives what the client does; slog.Default() if nil.
	Logger *slog.Logger
	// Seed seeds the backoff jitter; 0 picks one at random.
	Seed uint64
}

// Status is what the user sees of sync.
type Status struct {
	Enrolled bool      // the device has an account
	Server   string    // the upstream's URL
	Cadre    uuid.UUID // the cadre the device acts for
	LastSync time.Time // the last successful sync; zero if none
	Pending  int       // changes waiting to be sent; meaningless if PendingErr is set
	// PendingErr is why the count of changes waiting could not be read: then
	// nobody knows whether anything waits, and Pending is not a count.
	PendingErr error
	Reachable  bool       // the upstream answered the last attempt
	Syncing    bool       // a sync is under way
	Err        error      // the last failure; nil after a success
	Rejected   []Rejected // changes the upstream could not merge, oldest first

	// The photos' bytes (records travel first, then these): how many JPEGs
	// wait to go up and how many of their bytes, as they go; whether an
	// upload is under way; the last failure of the photos' phase; the
	// photos the upstream refused for good, with its reason; and, after the
	// upstream's daily limit, when uploads resume.
	PhotosWaiting     int
	PhotoBytesLeft    int64
	PhotoSending      bool
	PhotoErr          error
	PhotosRefused     []RefusedPhoto
	PhotosPausedUntil time.Time
}

// Message returns the last failure in words for a person, in lang ("zh" or
// "en"), or "" when the last sync succeeded.
func (s Status) Message(lang string) string { return domain.Message(s.Err, lang) }

// Rejected is a pushed change the upstream did not take, and why: it could
// not merge it — it set no fields, or a value of the wrong type, a fault of
// the app that made it, since the upstream merges every well-typed change and
// leaves content rules to the device where the edit is made — or the change
// is outside the device's scope (Err has code domain.EFORBIDDEN; the device
// keeps the change but never sends it again).
type Rejected struct {
	Change uuid.UUID     `json:"change"`
	Kind   domain.Kind   `json:"kind"`
	Record uuid.UUID     `json:"record"`
	At     time.Time     `json:"at"`
	Err    *domain.Error `json:"err"`
}

// Client syncs one store with its upstream. Its methods are safe for
// concurrent use.
type Client struct {
	db   *store.DB
	opts Options
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	syncMu  sync.Mutex    // one sync at a time
	trigger chan struct{} // Trigger -> Run

	mu      sync.Mutex // guards what follows
	acct    account
	status  Status
	aside   map[uuid.UUID]uint64 // changes out of scope, never to be sent -> log sequence
	subs    map[chan Status]struct{}
	rng     *rand.Rand
	running bool
	photos  photoState
}

// New returns a client for db. It reads the stored account, cursors and
// rejections; it does no I/O on the network.
func New(db *store.DB, opts Options) (*Client, error) {
	c := &Client{db: db, opts: opts, http: opts.HTTP, log: opts.Logger, now: opts.Now,
		trigger: make(chan struct{}, 1), subs: map[chan Status]struct{}{}}
	if c.http == nil {
		c.http = &http.Client{Timeout: 5 * time.Minute}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = db.Now
	}
	if c.opts.MinBackoff <= 0 {
		c.opts.MinBackoff = 2 * time.Second
	}
	if c.opts.MaxBackoff <= 0 {
		c.opts.MaxBackoff = 5 * time.Minute
	}
	if c.opts.MaxBackoff < c.opts.MinBackoff {
		c.opts.MaxBackoff = c.opts.MinBackoff
	}
	if c.opts.Interval == 0 {
		c.opts.Interval = 5 * time.Minute
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	c.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	if v, err := db.Local(store.KeyAccount); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	} else if v != "" {
		if err := json.Unmarshal([]byte(v), &c.acct); err != nil {
			return nil, fmt.Errorf("client: stored account: %w", err)
		}
	}
	if opts.URL != "" {
		c.acct.URL = strings.TrimRight(opts.URL, "/")
	}
	if opts.Token != "" {
		c.acct.Token = opts.Token
	}
	if c.acct.Server == uuid.Nil && c.acct.URL != "" {
		c.acct.Server = uuid.NewSHA1(urlSpace, []byte(c.acct.URL))
	}
	if v, _ := db.Cursor(keyOffset); v != "" {
		// An offset stored by an older client: the store keeps it now.
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			if err := db.SetClockOffset(time.Duration(ms) * time.Millisecond); err != nil {
				return nil, fmt.Errorf("client: %w", err)
			}
		}
		if err := db.SetCursor(keyOffset, ""); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	if v, _ := db.Cursor(keyLast); v != "" {
		c.status.LastSync, _ = time.Parse(time.RFC3339Nano, v)
	}
	if v, _ := db.Cursor(keyRejected); v != "" {
		json.Unmarshal([]byte(v), &c.status.Rejected)
	}
	aside, err := loadAside(db)
	if err != nil {
		return nil, err
	}
	c.aside = aside
	c.status.Enrolled = c.acct.Token != "" && c.acct.URL != ""
	c.status.Server, c.status.Cadre = c.acct.URL, c.acct.Cadre
	return c, nil
}

// Upstream returns the ID of the upstream replica: changes received from it
// are recorded with this origin and never pushed back.
func (c *Client) Upstream() uuid.UUID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.acct.Server
}
