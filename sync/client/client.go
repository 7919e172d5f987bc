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
// # What the device stores
//
// The account (server URL, token, cadre, the upstream's ID), the cursors,
// the changes the upstream rejected and those set aside as out of scope are
// kept in the store's cursor bucket, so they survive a restart; the clock offset is kept by the store itself, which
// restores it when it opens.
package client

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// Names in the store's cursor bucket.
const (
	keyAccount  = "sync.account"
	keyPush     = "sync.push"
	keyPull     = "sync.pull"
	keyLast     = "sync.last"
	keyOffset   = "sync.offset" // clients before the store kept the offset
	keyRejected = "sync.rejected"
	keyAside    = "sync.aside"
	keyRetry    = "sync.retry" // "1": offer the changes set aside again
	keyAudit    = "sync.audit" // the last audit entry sent to the server
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

// account is what enrolment stores.
type account struct {
	URL    string    `json:"url"`
	Token  string    `json:"token"`
	Cadre  uuid.UUID `json:"cadre"`
	Server uuid.UUID `json:"server"`
}

// urlSpace derives an upstream ID from its URL for a client given a token
// without enrolling (the upstream's ID is learnt at enrolment).
var urlSpace = uuid.MustParse("a4f1e7c2-3b5d-4e8f-9a60-2c7d1b3e5f48")

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

	if v, err := db.Cursor(keyAccount); err != nil {
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

// Enroll trades a one-time code for a device token at the server at url, and
// stores the account. name is how people will recognise the device. Enrolling
// with another server starts its cursors afresh, so everything the device
// holds that did not come from the new server is pushed to it.
func (c *Client) Enroll(ctx context.Context, url, code, name string) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	url = strings.TrimRight(strings.TrimSpace(url), "/")
	body := protocol.EnrollRequest{V: protocol.Version, Code: strings.TrimSpace(code), Name: strings.TrimSpace(name), Device: c.db.Device()}
	if err := body.Validate(); err != nil {
		return err
	}
	var resp protocol.EnrollResponse
	t0 := c.raw()
	if _, err := c.do(ctx, http.MethodPost, url+protocol.PathEnroll, "", &body, &resp); err != nil {
		c.setErr(err)
		return err
	}
	if resp.Device != c.db.Device() {
		err := domain.Errorf(domain.EINVALID, "device", "服务器的注册回复与本设备不符", "the server's enrolment answer is for another device")
		c.setErr(err)
		return err
	}
	server := resp.Server
	if server == uuid.Nil {
		server = uuid.NewSHA1(urlSpace, []byte(url))
	}
	acct := account{URL: url, Token: resp.Token, Cadre: resp.Cadre, Server: server}
	c.mu.Lock()
	prev := c.acct.Server
	c.mu.Unlock()
	v, _ := json.Marshal(acct)
	state := map[string]string{keyAccount: string(v)}
	if prev != server {
		// Another upstream, another scope: what was out of scope at the
		// old one is offered to the new one.
		state[keyPush], state[keyPull], state[keyAside] = "", "", ""
	}
	if err := c.db.SetCursors(state); err != nil {
		return fmt.Errorf("client: enroll: %w", err)
	}
	c.setOffset(resp.Now.Time, t0, c.raw())
	c.mu.Lock()
	c.acct = acct
	if prev != server {
		c.aside = map[uuid.UUID]uint64{}
	}
	c.status.Enrolled, c.status.Server, c.status.Cadre = true, url, resp.Cadre
	c.status.Err, c.status.Reachable = nil, true
	c.mu.Unlock()
	c.log.Info("enrolled", "server", url, "cadre", resp.Cadre, "device", c.db.Device())
	c.publish()
	c.Trigger()
	return nil
}

// sendAudit sends the store's audit entries the server has not had (the
// reveals of whole ID numbers) after a sync; a failure waits for the next.
func (c *Client) sendAudit(ctx context.Context, acct account) {
	v, err := c.db.Cursor(keyAudit)
	if err != nil {
		return
	}
	after, _ := strconv.ParseUint(v, 10, 64)
	for {
		es, err := c.db.AuditSince(after, protocol.MaxAuditEntries)
		if err != nil || len(es) == 0 {
			return
		}
		req := protocol.AuditRequest{V: protocol.Version}
		for _, e := range es {
			if slices.Contains(protocol.AuditActions, e.Action) { // not what the replica logs as an upstream
				req.Entries = append(req.Entries, protocol.AuditEntry{At: protocol.At(e.At), Action: e.Action, Target: e.Target, Detail: e.Detail})
			}
		}
		var resp protocol.EscrowResponse
		if len(req.Entries) > 0 {
			if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathAudit, acct.Token, &req, &resp); err != nil {
				c.log.Warn("cannot send the audit entries", "err", err)
				return
			}
		}
		after = es[len(es)-1].Seq
		if err := c.db.SetCursor(keyAudit, strconv.FormatUint(after, 10)); err != nil {
			return
		}
	}
}

// errNoAccount is returned by Deposit and Recover on a device not enrolled.
var errNoAccount = domain.Errorf(domain.EUNAUTHORIZED, "token", "设备尚未注册，请先注册设备", "this device is not enrolled; enrol it first")

// Deposit sends the device's data key (the key its store is encrypted with)
// to the server, which keeps it sealed under a key of its own and gives it
// back only to this device, once the township office has unlocked it
// (Recover): a cadre who forgets the app's PIN then loses nothing that was
// never synced. The key is never written anywhere by the client.
func (c *Client) Deposit(ctx context.Context, key []byte) error {
	c.mu.Lock()
	acct := c.acct
	c.mu.Unlock()
	if acct.Token == "" || acct.URL == "" {
		return errNoAccount
	}
	body := protocol.EscrowRequest{V: protocol.Version, Key: key}
	if err := body.Validate(); err != nil {
		return err
	}
	var resp protocol.EscrowResponse
	if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathEscrow, acct.Token, &body, &resp); err != nil {
		return fmt.Errorf("client: deposit the data key: %w", err)
	}
	c.log.Info("data key deposited with the server", "server", acct.URL)
	return nil
}

// Recover asks the server for the data key this device deposited. The
// server gives it only once the township office has acted: code is the
// unlock code it issued for this device, or empty when it enrolled the
// device again (Enroll with a new enrolment code first). What allowed it
// is used up. The caller clears the key when it has unlocked the store.
func (c *Client) Recover(ctx context.Context, code string) ([]byte, error) {
	c.mu.Lock()
	acct := c.acct
	c.mu.Unlock()
	if acct.Token == "" || acct.URL == "" {
		return nil, errNoAccount
	}
	body := protocol.ReleaseRequest{V: protocol.Version, Code: strings.TrimSpace(code)}
	if err := body.Validate(); err != nil {
		return nil, err
	}
	var resp protocol.ReleaseResponse
	if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathRelease, acct.Token, &body, &resp); err != nil {
		return nil, fmt.Errorf("client: recover the data key: %w", err)
	}
	c.log.Warn("data key recovered from the server", "server", acct.URL, "by_code", body.Code != "")
	return resp.Key, nil
}

// RecoverKey takes a locked device's data key back from the server at url,
// without the device's store (locked, it cannot be read): code is the unlock
// code the township office issued for device, or a new enrolment code for
// its cadre. An unlock code is tried first; if the server does not know it
// as one, the code enrols device again (named name) and the key is asked
// for with the new token, which the re-enrolment allows; enrolled says so.
// After unlocking the store, call Enroll with the same code and the
// device's real name: a retry of an enrolment keeps it, and stores the
// account. hc is the HTTP client (http.DefaultClient if nil).
func RecoverKey(ctx context.Context, hc *http.Client, url string, device uuid.UUID, name, code string) (key []byte, enrolled bool, err error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{http: hc, log: slog.Default()}
	url = strings.TrimRight(strings.TrimSpace(url), "/")
	code = strings.TrimSpace(code)
	body := protocol.ReleaseRequest{V: protocol.Version, Device: device, Code: code}
	if err := body.Validate(); err != nil {
		return nil, false, err
	}
	var resp protocol.ReleaseResponse
	_, err = c.do(ctx, http.MethodPost, url+protocol.PathRelease, "", &body, &resp)
	if err == nil {
		return resp.Key, false, nil
	}
	if !errors.Is(err, store.ErrUnlockCode) {
		return nil, false, err
	}
	unlockErr := err
	enrol := protocol.EnrollRequest{V: protocol.Version, Code: code, Name: name, Device: device}
	if err := enrol.Validate(); err != nil {
		return nil, false, unlockErr
	}
	var er protocol.EnrollResponse
	if _, err := c.do(ctx, http.MethodPost, url+protocol.PathEnroll, "", &enrol, &er); err != nil {
		if errors.Is(err, store.ErrCodeUnknown) {
			return nil, false, unlockErr // neither kind of code: say the unlock code is wrong
		}
		return nil, false, err
	}
	body.Device, body.Code = uuid.Nil, ""
	if _, err := c.do(ctx, http.MethodPost, url+protocol.PathRelease, er.Token, &body, &resp); err != nil {
		return nil, true, err
	}
	return resp.Key, true, nil
}

// SignOut forgets the device token and cadre, keeping the server's address
// and the cursors, so that enrolling again with the same server carries on
// where it stopped. It refuses while changes wait to be sent: sync first.
func (c *Client) SignOut() error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	upstream, aside := c.acct.Server, maps.Clone(c.aside)
	c.mu.Unlock()
	n, err := c.pending(upstream, aside)
	if err != nil {
		c.log.Error("sign out: cannot count the changes waiting", "err", err)
		return domain.Errorf(domain.EUNAVAILABLE, "pending", "无法读取未同步的更改数，未退出：%v",
			"cannot read how many changes wait to be synced, so not signing out: %v", err)
	}
	if n > 0 {
		return domain.Errorf(domain.ECONFLICT, "pending", "还有 %d 条更改未同步，请先同步再退出",
			"%d changes have not been synced yet; sync before signing out", n)
	}
	c.mu.Lock()
	acct := account{URL: c.acct.URL, Server: c.acct.Server}
	c.mu.Unlock()
	v, _ := json.Marshal(acct)
	if err := c.db.SetCursor(keyAccount, string(v)); err != nil {
		return fmt.Errorf("client: sign out: %w", err)
	}
	c.mu.Lock()
	c.acct = acct
	c.status.Enrolled, c.status.Cadre, c.status.Err = false, uuid.Nil, nil
	c.mu.Unlock()
	c.log.Info("signed out", "server", acct.URL)
	c.publish()
	return nil
}

// Sync syncs once with the upstream (see the package documentation) and
// returns the failure, if any, which Status reports too.
func (c *Client) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	c.status.Syncing = true
	acct := c.acct
	c.mu.Unlock()
	c.publish()

	err := c.sync(ctx, acct)

	c.mu.Lock()
	c.status.Syncing = false
	c.mu.Unlock()
	if err != nil {
		c.setErr(err)
		return err
	}
	c.sendAudit(ctx, acct)
	now := c.now()
	c.db.SetCursor(keyLast, now.Format(time.RFC3339Nano))
	c.mu.Lock()
	c.status.LastSync, c.status.Err, c.status.Reachable = now, nil, true
	c.mu.Unlock()
	c.publish()
	return nil
}

func (c *Client) sync(ctx context.Context, acct account) error {
	if acct.Token == "" || acct.URL == "" {
		return ErrNotEnrolled
	}
	restamped, cursorReset := false, false
	tried := map[uuid.UUID]bool{} // changes set aside offered again in this sync and refused again
	for round := 1; ; round++ {
		push, pull, err := c.cursors()
		if err != nil {
			return err
		}
		req, through, full, sent, err := c.outbox(acct.Server, push)
		if err != nil {
			return err
		}
		// After a catch-up the device's scope is new: the changes set aside
		// as out of scope are offered again, so that those back in scope
		// reach the server rather than differ from it for good.
		retry, err := c.retries(tried)
		if err != nil {
			return err
		}
		// In log order and before the newer changes: an edit is judged
		// after the creation of its record.
		offer := slices.SortedFunc(maps.Values(retry), func(a, b store.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
		if len(offer) > 0 {
			wire := make([]protocol.Change, 0, len(offer)+len(req.Changes))
			for _, e := range offer {
				w, err := protocol.FromDomain(e.Change)
				if err != nil {
					return fmt.Errorf("client: change set aside %s: %w", e.Change.ID, err)
				}
				wire = append(wire, w)
				sent[e.Change.ID] = e
			}
			req.Changes = append(wire, req.Changes...)
		}
		req.Cursor = pull
		var resp protocol.SyncResponse
		t0 := c.raw()
		h, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathSync, acct.Token, &req, &resp)
		t1 := c.raw()
		var outside *protocol.ChangesError
		switch {
		case domain.ErrorCode(err) == domain.EFORBIDDEN && errors.As(err, &outside):
			// Nothing of the push was applied. Set aside the changes named
			// and push the rest at once. Each time sets aside at least one
			// change of the push, or drops one offered again, so this ends.
			again := 0
			fresh := &protocol.ChangesError{Err: outside.Err}
			for _, id := range outside.Changes {
				e, ok := retry[id]
				if !ok {
					fresh.Changes = append(fresh.Changes, id)
					continue
				}
				if !tried[id] {
					tried[id] = true
					again++
					c.log.Debug("change set aside still out of scope", "change", id, "record", e.Change.Record)
				}
			}
			for _, id := range fresh.Changes {
				tried[id] = true // set aside in this sync: not offered again in it
			}
			n, aerr := c.setAside(fresh, sent)
			if aerr == nil && n+again == 0 {
				return err
			}
			if aerr != nil {
				return aerr
			}
			continue
		case errors.Is(err, protocol.ErrClockAhead) && !restamped:
			restamped = true
			date, derr := http.ParseTime(h.Get("Date"))
			if derr != nil {
				return err
			}
			// Restamp also corrects and stores the clock's offset.
			n, rerr := c.db.Restamp(push, date)
			if rerr != nil {
				return rerr
			}
			c.log.Warn("clock ahead of the server: restamped unsent changes", "changes", n, "offset", c.db.Clock().Offset())
			continue
		case errors.Is(err, protocol.ErrCursor) && !cursorReset:
			// The server does not know the cursor: it is another server, or
			// its database was restored from a backup and lost what came
			// after. Pull from the start, and push again everything made
			// here: what the server has already it skips by change ID, what
			// it lost it gets back. The push is refused together with the
			// cursor, so nothing of it was applied.
			cursorReset = true
			c.log.Warn("the server cannot resume from the pull cursor: pulling from the start and pushing everything made here again")
			if err := c.db.SetCursors(map[string]string{keyPull: "", keyPush: "0"}); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}

		acked := min(resp.Acked, through)
		changes, err := protocol.DecodeChanges(resp.Changes)
		if err != nil {
			return err
		}
		stateChanges, err := protocol.DecodeChanges(resp.State)
		if err != nil {
			return err
		}
		if resp.Revoked != "" {
			// The device was replaced: this push was its last and is
			// acknowledged; nothing is pulled.
			changes, stateChanges, resp.Cursor, resp.More, full = nil, nil, pull, false, false
			resp.Reset, resp.Settled = false, false
		}
		// The pulled changes, the cursors and the rejections: one
		// transaction, so a crash keeps all of the answer or none of it
		// (and none is harmless: the same push and pull are redone).
		state := map[string]string{}
		var aside map[uuid.UUID]uint64 // the changes set aside, once state is stored
		if acked > push {
			state[keyPush] = strconv.FormatUint(acked, 10)
			// Changes set aside that the push cursor passes are never
			// walked again: forget them, in the same transaction.
			if kept, ok := c.pruneAside(acked); ok {
				state[keyAside], aside = encodeAside(kept), kept
			}
		}
		if resp.Cursor != pull {
			state[keyPull] = resp.Cursor
		}
		var rejected []Rejected
		if len(resp.Rejected) > 0 {
			rejected = c.rejected(resp.Rejected, sent)
		}
		if len(retry) > 0 {
			// The changes offered again are applied: no longer refused.
			if rejected == nil {
				c.mu.Lock()
				rejected = slices.Clone(c.status.Rejected)
				c.mu.Unlock()
			}
			rejected = slices.DeleteFunc(rejected, func(r Rejected) bool { _, ok := retry[r.Change]; return ok })
			if rejected == nil {
				rejected = []Rejected{}
			}
			kept := maps.Clone(aside)
			if kept == nil {
				kept = c.asideCopy()
			}
			for id := range retry {
				delete(kept, id)
			}
			state[keyAside], aside = encodeAside(kept), kept
			c.log.Info("changes set aside are back in scope and sent", "changes", len(retry))
		}
		if rejected != nil {
			v, _ := json.Marshal(rejected)
			state[keyRejected] = string(v)
		}
		again := false // changes set aside before the catch-up to offer now
		if resp.Settled {
			next, err := c.candidates(tried)
			if err != nil {
				return err
			}
			again = len(next) > 0
			state[keyRetry] = map[bool]string{true: "1"}[again]
		} else if retryOn, _ := c.db.Cursor(keyRetry); retryOn != "" {
			state[keyRetry] = "" // offered (or refused again): until the next catch-up
		}
		idle := len(changes) == 0 && len(stateChanges) == 0 && len(state) == 0 && !resp.Reset && !resp.Settled && len(retry) == 0
		if idle {
			// Nothing to write, unless records wait to leave.
			n, err := c.db.Leaving()
			if err != nil {
				return err
			}
			idle = n == 0
		}
		if !idle {
			// Besides the page, a sync may remove records that left the
			// device's scope once nothing keeps them.
			page := store.Page{Reset: resp.Reset, State: stateChanges, Changes: changes, Settled: resp.Settled,
				Unsent: max(acked, push), Keep: c.keep(rejected), Cursors: state}
			for _, e := range retry {
				page.Back = append(page.Back, e.Change.Record)
			}
			rej, removed, err := c.db.ApplyPage(acct.Server, page)
			if err != nil {
				return err
			}
			all := append(stateChanges[:len(stateChanges):len(stateChanges)], changes...)
			for i, e := range rej {
				if e != nil {
					c.log.Warn("pulled change not applied", "change", all[i].ID, "kind", all[i].Kind, "err", e)
				}
			}
			if removed > 0 || resp.Reset || resp.Settled {
				c.log.Info("scope caught up", "reset", resp.Reset, "settled", resp.Settled, "state", len(stateChanges), "removed", removed)
			}
		}
		if rejected != nil || aside != nil {
			c.mu.Lock()
			if rejected != nil {
				c.status.Rejected = rejected
			}
			if aside != nil {
				c.aside = aside
			}
			c.mu.Unlock()
		}
		c.setOffset(resp.Now.Time, t0, t1)
		if resp.Revoked != "" {
			c.log.Warn("this device has been replaced: last push made", "pushed", len(req.Changes), "acked", acked)
			return ErrReplaced
		}
		c.log.Debug("synced", "round", round, "pushed", len(req.Changes), "acked", acked,
			"rejected", len(resp.Rejected), "pulled", len(changes), "more", resp.More)
		if !resp.More && !full {
			// Applying the pull may have recorded conflicts here (and the
			// user may have edited meanwhile): send those now rather than
			// leave them waiting after a sync that looked complete.
			last, waiting, err := c.received(acct.Server, max(acked, push), c.asideCopy())
			if err != nil {
				return err
			}
			if waiting == 0 && last > max(acked, push) {
				// Only what was just pulled follows: the push cursor can
				// pass it, so the next sync and Status need not walk it.
				// Written on its own: if it is lost, the next sync walks
				// those entries again and sends none of them.
				if err := c.db.SetCursor(keyPush, strconv.FormatUint(last, 10)); err != nil {
					return err
				}
			}
			// A catch-up that just settled: offer the changes set aside at
			// once, those back in scope need not wait for the next sync.
			if (waiting == 0 && !again) || round >= maxRounds {
				return nil
			}
		}
		if round >= maxRounds {
			return domain.Errorf(domain.EUNAVAILABLE, "rounds", "同步尚未完成，稍后继续", "sync has not finished yet; it will continue later")
		}
		if resp.Cursor == pull && acked <= push && round > 1 && len(retry) == 0 {
			return domain.Errorf(domain.EINTERNAL, "cursor", "同步没有进展，请稍后重试", "sync is making no progress; try again later")
		}
	}
}

// keep returns the records of the rejected changes the user has still to
// see (rejected, if not nil, replaces the current list): they stay on the
// device, with their households, even out of its scope.
func (c *Client) keep(rejected []Rejected) []uuid.UUID {
	if rejected == nil {
		c.mu.Lock()
		rejected = c.status.Rejected
		c.mu.Unlock()
	}
	out := make([]uuid.UUID, 0, len(rejected))
	for _, r := range rejected {
		out = append(out, r.Record)
	}
	return out
}

// retries returns the changes set aside as out of scope to offer again
// after a catch-up (none unless one ended since they were last offered), by
// change ID, but those in tried.
func (c *Client) retries(tried map[uuid.UUID]bool) (map[uuid.UUID]store.Entry, error) {
	if v, err := c.db.Cursor(keyRetry); err != nil || v == "" {
		return nil, err
	}
	return c.candidates(tried)
}

// candidates returns the changes set aside as out of scope, by change ID,
// but those in tried.
func (c *Client) candidates(tried map[uuid.UUID]bool) (map[uuid.UUID]store.Entry, error) {
	c.mu.Lock()
	rs := slices.Clone(c.status.Rejected)
	c.mu.Unlock()
	out := map[uuid.UUID]store.Entry{}
	for _, r := range rs {
		if r.Err == nil || r.Err.Code != domain.EFORBIDDEN || tried[r.Change] {
			continue
		}
		e, ok, err := c.db.EntryOf(r.Change)
		if err != nil {
			return nil, err
		}
		if ok {
			out[r.Change] = e
		}
	}
	return out, nil
}

// cursors returns the stored push and pull cursors.
func (c *Client) cursors() (push uint64, pull string, err error) {
	v, err := c.db.Cursor(keyPush)
	if err != nil {
		return 0, "", err
	}
	if v != "" {
		if push, err = strconv.ParseUint(v, 10, 64); err != nil {
			return 0, "", fmt.Errorf("client: stored push cursor %q: %w", v, err)
		}
	}
	pull, err = c.db.Cursor(keyPull)
	return push, pull, err
}

// outbox builds the push after sequence push: the log entries not received
// from upstream nor set aside, within the page budget. through is the last
// sequence the push covers; full reports that more entries wait; sent holds
// the entries sent, by change ID.
func (c *Client) outbox(upstream uuid.UUID, push uint64) (req protocol.SyncRequest, through uint64, full bool, sent map[uuid.UUID]store.Entry, err error) {
	req = protocol.SyncRequest{V: protocol.Version}
	through = push
	sent = map[uuid.UUID]store.Entry{}
	aside := c.asideCopy()
	size := 0
	err = c.db.Log(push, func(e store.Entry) (bool, error) {
		if _, skip := aside[e.Change.ID]; skip || e.From == upstream {
			through = e.Seq
			return true, nil
		}
		w, err := protocol.FromDomain(e.Change)
		if err != nil {
			return false, fmt.Errorf("client: log entry %d: %w", e.Seq, err)
		}
		n := w.Size()
		if len(req.Changes) > 0 && size+n > protocol.PageBytes {
			full = true
			return false, nil
		}
		req.Changes = append(req.Changes, w)
		sent[e.Change.ID] = e
		size += n
		through = e.Seq
		return true, nil
	})
	req.Through = through
	return req, through, full, sent, err
}

// received walks the log after sequence after: last is the sequence of the
// last entry before the first one to push, and waiting counts those to push
// (neither received from upstream nor set aside).
func (c *Client) received(upstream uuid.UUID, after uint64, aside map[uuid.UUID]uint64) (last uint64, waiting int, err error) {
	last = after
	// From the entries' headers alone: a first sync leaves thousands.
	err = c.db.LogWhere(after, func(e *store.Entry) bool {
		if _, skip := aside[e.Change.ID]; !skip && e.From != upstream {
			waiting++
		} else if waiting == 0 {
			last = e.Seq
		}
		return false
	}, nil)
	return last, waiting, err
}

// rejected returns the rejections kept for the user with rs, the changes
// the upstream refused in the last answer, added (the newest maxRejected).
func (c *Client) rejected(rs []protocol.Rejection, sent map[uuid.UUID]store.Entry) []Rejected {
	now := c.now()
	c.mu.Lock()
	out := append([]Rejected(nil), c.status.Rejected...)
	c.mu.Unlock()
	for _, r := range rs {
		id, _ := uuid.Parse(r.ID)
		ch := sent[id].Change
		c.log.Warn("change rejected by the server", "change", id, "kind", ch.Kind, "record", ch.Record, "reason", r.En)
		out = append(out, Rejected{Change: id, Kind: ch.Kind, Record: ch.Record, At: now, Err: r.Err()})
	}
	out = trimRejected(out)
	return out
}

// setAside sets aside the changes of the push sent that the upstream refused
// (ce: out of the device's scope, or beyond its cadre's role): they are added to the rejected changes
// with ce's words, and to the changes never to be sent, both stored in one
// transaction. It returns how many it set aside: 0 when ce names none of
// the push that is not already set aside.
func (c *Client) setAside(ce *protocol.ChangesError, sent map[uuid.UUID]store.Entry) (int, error) {
	now := c.now()
	c.mu.Lock()
	aside := maps.Clone(c.aside)
	rejected := append([]Rejected(nil), c.status.Rejected...)
	c.mu.Unlock()
	n := 0
	for _, id := range ce.Changes {
		e, ok := sent[id]
		if _, done := aside[id]; !ok || done {
			continue
		}
		aside[id] = e.Seq
		rejected = append(rejected, Rejected{Change: id, Kind: e.Change.Kind, Record: e.Change.Record, At: now, Err: ce.Err})
		n++
		c.log.Warn("change refused by the upstream set aside", "field", ce.Err.Field, "change", id, "kind", e.Change.Kind, "record", e.Change.Record, "seq", e.Seq, "reason", ce.Err.En)
	}
	if n == 0 {
		return 0, nil
	}
	rejected = trimRejected(rejected)
	rv, _ := json.Marshal(rejected)
	if err := c.db.SetCursors(map[string]string{keyAside: encodeAside(aside), keyRejected: string(rv)}); err != nil {
		return 0, fmt.Errorf("client: set aside changes out of scope: %w", err)
	}
	c.mu.Lock()
	c.aside, c.status.Rejected = aside, rejected
	c.mu.Unlock()
	c.publish()
	return n, nil
}

// asideEntry is a change set aside, as stored.
type asideEntry struct {
	Change uuid.UUID `json:"change"`
	Seq    uint64    `json:"seq"`
}

// loadAside reads the changes set aside.
func loadAside(db *store.DB) (map[uuid.UUID]uint64, error) {
	aside := map[uuid.UUID]uint64{}
	v, err := db.Cursor(keyAside)
	if err != nil || v == "" {
		return aside, err
	}
	var list []asideEntry
	if err := json.Unmarshal([]byte(v), &list); err != nil {
		return nil, fmt.Errorf("client: stored changes set aside: %w", err)
	}
	for _, a := range list {
		aside[a.Change] = a.Seq
	}
	return aside, nil
}

// encodeAside is the stored form of the changes set aside, in log order.
func encodeAside(aside map[uuid.UUID]uint64) string {
	if len(aside) == 0 {
		return ""
	}
	list := make([]asideEntry, 0, len(aside))
	for id, seq := range aside {
		list = append(list, asideEntry{id, seq})
	}
	slices.SortFunc(list, func(a, b asideEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	v, _ := json.Marshal(list)
	return string(v)
}

// asideCopy returns the changes set aside.
func (c *Client) asideCopy() map[uuid.UUID]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.aside)
}

// pruneAside returns the changes set aside after sequence push: those the
// push cursor will not have passed once at push. ok is false when that is
// all of them.
func (c *Client) pruneAside(push uint64) (kept map[uuid.UUID]uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept = map[uuid.UUID]uint64{}
	for id, seq := range c.aside {
		if seq > push {
			kept[id] = seq
		}
	}
	return kept, len(kept) < len(c.aside)
}

// ClearRejected forgets the rejected changes once the user has seen them. It
// waits for a sync under way, which may be adding some. Changes set aside as
// out of scope stay unsent.
func (c *Client) ClearRejected() error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if err := c.db.SetCursor(keyRejected, ""); err != nil {
		return fmt.Errorf("client: clear rejected: %w", err)
	}
	c.mu.Lock()
	c.status.Rejected = nil
	c.mu.Unlock()
	c.publish()
	return nil
}

// raw returns the device's own clock, without the offset.
func (c *Client) raw() time.Time {
	clk := c.db.Clock()
	return clk.Wall().Add(-clk.Offset())
}

// setOffset sets the clock offset from the upstream's time now, read between
// t0 and t1 on the device's own clock.
func (c *Client) setOffset(now, t0, t1 time.Time) {
	if now.IsZero() {
		return
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	if err := c.db.SetClockOffset(now.Sub(mid).Round(time.Millisecond)); err != nil {
		c.log.Warn("cannot save the clock offset", "err", err)
	}
}

// do sends one request and reads the answer into out. Network failures are
// EUNAVAILABLE errors in plain words. It returns the answer's header, also
// for an error answer.
func (c *Client) do(ctx context.Context, method, url, token string, in, out any) (http.Header, error) {
	req, err := protocol.NewRequest(ctx, method, url, token, in)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.log.Debug("request failed", "url", url, "err", err)
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Field: "network",
			Zh: "无法连接服务器，请检查网络后重试", En: "cannot reach the server; check the network and try again"}
	}
	return resp.Header, protocol.ReadResponse(resp, out)
}

// probe reports whether the upstream answers GET /healthz.
func (c *Client) probe(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var h protocol.Health
	_, err := c.do(ctx, http.MethodGet, url+protocol.PathHealth, "", nil, &h)
	return err == nil && h.OK
}

// Trigger asks Run to sync now. It never blocks.
func (c *Client) Trigger() {
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// Run syncs in the background until ctx is done: when triggered,
// every Interval, and, after a transient failure, as soon as a probe finds
// the upstream reachable again (probing with exponential backoff and
// jitter). After a permanent failure it waits for Trigger. Run is meant to be
// started once, in its own goroutine.
func (c *Client) Run(ctx context.Context) {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		panic("client: Run called twice")
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()

	const (
		idle    = iota // synced: next at Interval
		backoff        // transient failure: probe after a backoff
		stopped        // permanent failure or not enrolled: wait for Trigger
	)
	state, attempt := idle, 0
	var wait <-chan time.Time
	var timer *time.Timer
	arm := func(d time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		if d < 0 {
			wait = nil
			return
		}
		timer = time.NewTimer(d)
		wait = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	syncNow := func() {
		err := c.Sync(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			state, attempt = idle, 0
			arm(c.opts.Interval)
		case protocol.Transient(err):
			state = backoff
			attempt++
			arm(c.backoff(attempt))
		default:
			state = stopped
			c.log.Warn("sync stopped until asked again", "err", err)
			arm(-1)
		}
	}
	if c.Status().Enrolled {
		select {
		case <-c.trigger: // the first sync answers it
		default:
		}
		syncNow()
	} else {
		state = stopped
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.trigger:
			syncNow()
		case <-wait:
			if state != backoff {
				syncNow()
				continue
			}
			c.mu.Lock()
			url := c.acct.URL
			c.mu.Unlock()
			if c.probe(ctx, url) {
				c.setReachable(true)
				syncNow()
				continue
			}
			if ctx.Err() != nil {
				return
			}
			c.setReachable(false)
			attempt++
			arm(c.backoff(attempt))
		}
	}
}

// backoff returns the wait before attempt n (from 1): MinBackoff doubled
// n-1 times, capped at MaxBackoff, then jittered to between half and all of
// it, so that devices that failed together do not come back together.
func (c *Client) backoff(n int) time.Duration {
	d := c.opts.MinBackoff
	for i := 1; i < n && d < c.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.opts.MaxBackoff)
	c.mu.Lock()
	j := time.Duration(c.rng.Int64N(int64(d/2) + 1))
	c.mu.Unlock()
	return d/2 + j
}

// Status returns the current status, with the count of changes waiting.
func (c *Client) Status() Status {
	c.mu.Lock()
	s := c.status
	s.Rejected = append([]Rejected(nil), s.Rejected...)
	upstream := c.acct.Server
	aside := maps.Clone(c.aside)
	c.mu.Unlock()
	s.Pending, s.PendingErr = c.pending(upstream, aside)
	return s
}

// pending counts the changes waiting to be sent to upstream, less those set
// aside (never to be sent). A count that cannot be read is an error, never
// 0: sign-out relies on it.
func (c *Client) pending(upstream uuid.UUID, aside map[uuid.UUID]uint64) (int, error) {
	push, _, err := c.cursors()
	if err != nil {
		return 0, fmt.Errorf("client: count the changes waiting: %w", err)
	}
	n, err := c.db.Pending(upstream, push)
	if err != nil {
		return 0, fmt.Errorf("client: count the changes waiting: %w", err)
	}
	for _, seq := range aside {
		if seq > push {
			n-- // set aside: never to be sent
		}
	}
	return n, nil
}

// Subscribe returns a channel that receives the status whenever it changes,
// and a function that ends the subscription. The channel holds only the
// latest status: a slow reader skips to it, and the client never waits for
// a reader.
func (c *Client) Subscribe() (<-chan Status, func()) {
	ch := make(chan Status, 1)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.subs, ch)
			c.mu.Unlock()
		})
	}
}

// publish sends the current status to every subscriber.
func (c *Client) publish() {
	s := c.Status()
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case <-ch: // drop the stale one
		default:
		}
		select {
		case ch <- s:
		default:
		}
	}
}

func (c *Client) setErr(err error) {
	c.mu.Lock()
	c.status.Err = err
	c.status.Reachable = domain.ErrorCode(err) != domain.EUNAVAILABLE
	c.mu.Unlock()
	c.publish()
}

func (c *Client) setReachable(ok bool) {
	c.mu.Lock()
	changed := c.status.Reachable != ok
	c.status.Reachable = ok
	c.mu.Unlock()
	if changed {
		c.publish()
	}
}
