// Package server is the sync server of 帮扶走访: an http.Handler that enrols
// devices, syncs them and answers health checks, speaking sync/protocol.
//
// # Endpoints
//
//	POST /v1/enroll   trade a one-time code for a device token
//	POST /v1/sync     push a device's unsent changes, pull what it has not seen
//	POST /v1/escrow   keep a device's data key, sealed (escrow.go)
//	POST /v1/escrow/release   give it back once the office has acted
//	POST /v1/audit    what a device's user did that the office must see
//	POST /v1/photos/have          which photos the server holds (photo.go)
//	HEAD|PATCH|GET /v1/photos/<hash>   a photo's upload, bytes, thumbnail
//	GET  /healthz     is the server up
//
// # A sync
//
// One request does everything: the device is authenticated by its bearer
// token, the body is read within the protocol's size limits, stamps too far
// ahead of the server's clock are refused (the device restamps and pushes
// again), and every pushed change is checked against the device's scope
// inside the transaction that applies the push: one change out of scope
// refuses the whole push (403) and nothing is written. The refusal names
// every change of the push that is out of scope, each judged as the push
// without them will judge it (replica.Refused), so that the device sets exactly
// those aside and pushes the rest at once. Changes are applied
// as received from the device, so they are never sent back to it. The answer
// acknowledges the push, lists the changes the server could not merge, and
// carries a page of the log entries after the device's cursor that are in its
// scope and did not come from it; entries out of scope are skipped from their
// header, without decoding their fields. When the records the device may read
// are not those its cursor was issued under (a new device, a reassignment, a
// household moved), the pages first carry the current state of its whole
// scope — a catch-up, see pull.go and the protocol's "Catch-up" — and the
// device removes what left it.
//
// The server merges what it is sent; it does not judge content. A change is
// rejected, alone, only when it cannot be merged: it is incomplete, or a value
// does not fit the record's type (a buggy or older app). Content rules (a
// routine visit needs notes, a visit is not in the future) are checked where
// the edit is made; a merge that refused them could refuse on one replica
// what another accepted — two edits, each valid, can merge into a record no
// single edit made — and the replicas would differ for good.
//
// # Scope
//
// A device acts for one cadre; what it may read and write follows from the
// cadre's assignments in the server's roster, worked out at every sync (see
// scope.go): a group cadre's groups and paired households, a team leader's
// village, a town lead's town, an office's town or city. Within it, every
// change is the device's own (its author is the device's cadre, its stamp
// the device's clock) and sets only fields the cadre's role may write, as
// the record kinds' declarations say (domain.Decls): a change refused for
// its role is named in the 403 as one out of scope is, with field "role".
// Changes that do not fit their kind's declaration (a field it does not
// have, a value of the wrong type, an ID used by another kind) are rejected
// alone. The approvers of plans are a parameter (Options.Approvers).
//
// # Identity and limits
//
// A device ID belongs to the first cadre that enrolled it, for good (see
// BoltRegistry.Enroll); a device revoked as lost is refused with field
// "lost" and wipes itself, one revoked as replaced makes one last push without a pull
// (sync answers "revoked": "replaced") and is then refused. Wrong enrolment
// codes are counted per address and overall and lock enrolment out for a
// while (limit.go); the lockouts are logged and kept in the store. Request
// bodies are read within a memory budget — one for enrolment, from anyone,
// one for syncs, from enrolled devices — and a body that stalls is closed.
//
// # Storage
//
// The server reads and writes through [Store], a narrow interface that
// [Bolt] satisfies (bbolt, the default: a *store.DB, the replica, and
// [BoltRegistry], the device registry in its local buckets); another
// backend can replace it.
// A Server holds no global state and nothing tied to its process, so a
// team leader's app can run one on its own store and relay for phones.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/sync/protocol"
)

// Store is what the server needs from a replica.
type Store interface {
	// Device returns the replica's own ID, which devices record as the
	// origin of what they pull.
	Device() uuid.UUID
	// ApplyGuarded applies changes received from device from in one
	// transaction, checking each with guard (see store.ApplyGuarded); it
	// returns, per change, why one that cannot be merged was not applied.
	ApplyGuarded(from uuid.UUID, changes []domain.Change, guard replica.Guard) ([]error, error)
	// LogWhere calls fn, in order, for the log entries after sequence after
	// that keep accepts; keep sees an entry's header (origin, scope, the
	// change's IDs, kind and stamp) before its fields are decoded.
	LogWhere(after uint64, keep func(*replica.Entry) bool, fn func(replica.Entry) (bool, error)) error
	// LastSeq returns the sequence of the newest log entry.
	LastSeq() (uint64, error)
	// Epoch returns the replica's epoch, which changes when its file is
	// restored from a backup (0 until then).
	Epoch() (uint64, error)
	// Enroll trades a one-time code for a device token.
	Enroll(code string, device uuid.UUID, name string, now time.Time) (token string, cadre uuid.UUID, err error)
	// Authenticate returns the device a token belongs to.
	Authenticate(token string) (replica.Device, error)
	// Touch records a successful sync.
	Touch(device uuid.UUID, now time.Time) error
	// CloseDevice ends a device revoked as replaced after its last push.
	CloseDevice(device uuid.UUID, now time.Time) error
	// Reach returns a cadre's assignments resolved against the roster.
	Reach(cadre uuid.UUID) ([]replica.Assigned, error)
	// Staff returns the cadres assigned in or under the places within and
	// to the targets at: the cadre records a device may read.
	Staff(within, at []uuid.UUID) (map[uuid.UUID]bool, error)
	// PlanApprovers returns the roles that may approve plans in a village:
	// its rules (domain.Rules.Approvers), else its town's, else the defaults.
	PlanApprovers(village uuid.UUID) ([]domain.Role, error)
	// Rules returns the rules that hold in a village (domain.Effective).
	Rules(village uuid.UUID) (domain.Rules, error)
	// Escrow keeps devices' sealed data keys.
	Escrow
	// Audit appends to the office's audit log (what devices report).
	Audit(e replica.AuditEntry) error
	// ScopePrint returns a fingerprint of the units of scope (households,
	// places, cadres) that readable accepts, and the newest log sequence.
	ScopePrint(readable func(*replica.Entry) bool) (string, uint64, error)
	// State calls fn with the current state of each record readable
	// accepts after pos, record by record, and returns the newest log
	// sequence it reflects.
	State(pos replica.StatePos, readable func(*replica.Entry) bool, fn func(next replica.StatePos, changes []domain.Change) (bool, error)) (uint64, error)
	// PhotoPlaces returns where the live photo records naming hash belong
	// (index photo_hash), one per record; none when no live photo names it.
	// A device may touch a photo's bytes only when its scope reaches one.
	PhotoPlaces(hash string) ([]replica.Location, error)
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives one line per request and the failures; slog.Default()
	// if nil.
	Logger *slog.Logger
	// Now reads the server's clock; time.Now if nil.
	Now func() time.Time
	// PageBytes is the budget of pulled changes in one answer, as
	// protocol.Change.Size counts them; protocol.PageBytes if zero. Tests
	// lower it to exercise paging.
	PageBytes int

	// EnrolPerAddress, EnrolOverall and EnrolWindow limit wrong enrolment
	// codes: after EnrolPerAddress from one address, or EnrolOverall from
	// all, within EnrolWindow, enrolment is locked for EnrolWindow (from
	// that address, or from all). Zero means the Default values.
	EnrolPerAddress, EnrolOverall int
	EnrolWindow                   time.Duration

	// BodyBudget bounds the bytes of request bodies held at once, and
	// MaxInflating the bodies decompressed at once; a body beyond either is
	// refused with protocol.ErrBusy. DefaultBodyBudget and
	// DefaultMaxInflating if zero.
	BodyBudget   int64
	MaxInflating int
	// BodyStall closes a request body that sends nothing for this long, and
	// BodyTimeout one still arriving after this long. DefaultBodyStall and
	// DefaultBodyTimeout if zero.
	BodyStall, BodyTimeout time.Duration
	// Approvers returns the roles that approve plans in a village; if nil,
	// the village's rules in the store decide (Store.PlanApprovers).
	Approvers domain.ApproverRoles
	// TouchEvery is how stale a device's recorded last sync may grow before
	// a sync records it again; DefaultTouchEvery if zero. A sync that
	// pushes nothing and finds its device's last sync recorded within it
	// writes nothing to disk.
	TouchEvery time.Duration
	// EscrowKey seals the data keys devices deposit (EscrowKeySize bytes,
	// see LoadEscrowKey); if nil, the escrow endpoints answer ErrNoEscrow.
	EscrowKey []byte
	// Photos keeps the photos' bytes (see photo.go); if nil, the photo
	// endpoints answer that this server keeps no photos.
	Photos Photos
	// PhotosPerDay and PhotoBytesPerDay cap what one device uploads in a
	// day; protocol.PhotosPerDay and protocol.PhotoBytesPerDay if zero.
	PhotosPerDay     int
	PhotoBytesPerDay int64
}

// Resource limits. Sync bodies, read only from authenticated devices, hold
// at most DefaultBodyBudget bytes of buffers at once (a full push, 32 MiB of
// JSON, fits three times), at most DefaultMaxInflating of them being
// decompressed; with the garbage their growth leaves and the decoded
// changes, which are about as large, they cost the heap at most about three
// times that, under 300 MiB, however many devices send at once. Enrolment
// bodies, from anyone, have their own budget, so that strangers cannot
// crowd out devices: each at most protocol.MaxEnrollBytes (4 KiB) of JSON,
// EnrolBodyBudget in all with at most EnrolMaxInflating decompressed at once
// (each counting protocol.InflateCost): 32 gzip bombs sent to /v1/enroll at
// once cost the heap a few MiB (TestGzipBombs measures it). A body that
// would pass a budget is refused at once with 503 "busy", never queued.
const (
	DefaultBodyBudget   = 96 << 20
	DefaultMaxInflating = 64
	EnrolBodyBudget     = 4 << 20
	EnrolMaxInflating   = 32
	DefaultBodyStall    = 30 * time.Second
	DefaultBodyTimeout  = 10 * time.Minute
)

// DefaultTouchEvery is how often, at most, the last sync of a device that
// keeps syncing is written down: the office sees it to within this, and a
// device polling every few seconds with nothing to send costs no disk
// flush. It needs no memory of its own (the device's recorded last sync
// decides), so instances of the server sharing one store agree.
const DefaultTouchEvery = 5 * time.Minute

// Server is the sync server: an http.Handler.
type Server struct {
	db          Store
	log         *slog.Logger
	now         func() time.Time
	page        int
	appr        domain.ApproverRoles
	mux         *http.ServeMux
	lim         *limiter
	budget      *protocol.Budget // for sync bodies, from authenticated devices
	enrolBudget *protocol.Budget // for enrolment bodies, from anyone
	stall       time.Duration
	bodyTimeout time.Duration
	touchEvery  time.Duration
	escrowKey   []byte
	photos      Photos
	quota       *photoQuota
	// photoMu keeps a push that writes photo records (read-locked) from
	// committing between dropPhotos' check that no record names a photo
	// and its removal (locked): a photo attached again then would name
	// bytes the server had just said it held, and removed.
	photoMu sync.RWMutex
	ups     uploads
	early   atomic.Uint64 // fields pushed before an edit they were based on (early.go)
}

// backdate returns how many days back a visit's time may be set in village:
// its rules, else the default.
func (s *Server) backdate(village uuid.UUID) int {
	r, err := s.db.Rules(village)
	if err != nil {
		s.log.Warn("cannot read the village's rules; visits may be back-dated the default days", "village", village, "err", err)
		return domain.DefaultBackdateDays
	}
	return r.Backdate()
}

// correct returns for how many days a cadre may correct their visit in
// village: its rules, else the default.
func (s *Server) correct(village uuid.UUID) int {
	r, err := s.db.Rules(village)
	if err != nil {
		s.log.Warn("cannot read the village's rules; visits may be corrected the default days", "village", village, "err", err)
		return domain.DefaultCorrectDays
	}
	return r.Correct()
}

// namesCompanions reports whether a pushed change sets a visit's companions.
func namesCompanions(changes []domain.Change) bool {
	for _, ch := range changes {
		if _, ok := ch.Fields["companions"]; ok && ch.Kind == domain.KindVisit {
			return true
		}
	}
	return false
}

// New returns a server on db.
func New(db Store, opts Options) *Server {
	s := &Server{db: db, log: opts.Logger, now: opts.Now, page: opts.PageBytes, appr: opts.Approvers, touchEvery: opts.TouchEvery}
	if len(opts.EscrowKey) == EscrowKeySize {
		s.escrowKey = opts.EscrowKey
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.appr == nil {
		s.appr = func(village uuid.UUID) []domain.Role {
			roles, err := db.PlanApprovers(village)
			if err != nil {
				s.log.Warn("cannot read who approves plans; using the defaults", "village", village, "err", err)
				return domain.DefaultApprovers()
			}
			return roles
		}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.page <= 0 {
		s.page = protocol.PageBytes
	}
	if s.touchEvery <= 0 {
		s.touchEvery = DefaultTouchEvery
	}
	s.lim = newLimiter(opts, s.log, db, s.now())
	budget, inflating := opts.BodyBudget, opts.MaxInflating
	if budget <= 0 {
		budget = DefaultBodyBudget
	}
	if inflating <= 0 {
		inflating = DefaultMaxInflating
	}
	s.budget = protocol.NewBudget(budget, inflating)
	s.enrolBudget = protocol.NewBudget(EnrolBodyBudget, EnrolMaxInflating)
	s.stall, s.bodyTimeout = opts.BodyStall, opts.BodyTimeout
	if s.stall <= 0 {
		s.stall = DefaultBodyStall
	}
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = DefaultBodyTimeout
	}
	s.photos, s.quota = opts.Photos, newPhotoQuota(opts.PhotosPerDay, opts.PhotoBytesPerDay)
	s.ups.by = map[string]*upload{}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(protocol.PathEnroll, s.only(http.MethodPost, s.enroll))
	s.mux.HandleFunc(protocol.PathSync, s.only(http.MethodPost, s.sync))
	s.mux.HandleFunc(protocol.PathEscrow, s.only(http.MethodPost, s.escrow))
	s.mux.HandleFunc(protocol.PathRelease, s.only(http.MethodPost, s.release))
	s.mux.HandleFunc(protocol.PathAudit, s.only(http.MethodPost, s.audit))
	s.mux.HandleFunc(protocol.PathHealth, s.only(http.MethodGet, s.health))
	s.mux.HandleFunc(protocol.PathPhotos, s.photo)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, domain.Errorf(domain.ENOTFOUND, "path", "没有这个地址：%s", "no such endpoint: %s", clip(r.URL.Path)))
	})
	return s
}

// ServeHTTP serves the endpoints, logging one line per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// The Date header is the server's clock, the one stamps are checked
	// against: a device refused for a fast clock restamps to it.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	ctx := context.WithValue(r.Context(), logKey{}, &reqLog{})
	r = r.WithContext(ctx)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "path", r.URL.Path, "panic", fmt.Sprint(p))
			if !rec.wrote {
				s.fail(rec, r, fmt.Errorf("panic: %v", p))
			}
		}
		l := ctx.Value(logKey{}).(*reqLog)
		attrs := append([]any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"ms", time.Since(start).Milliseconds(), "bytes", rec.bytes}, l.attrs...)
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		} else if r.URL.Path == protocol.PathHealth {
			level = slog.LevelDebug
		}
		s.log.Log(ctx, level, "request", attrs...)
	}()
	s.mux.ServeHTTP(rec, r)
}

// only refuses methods other than method.
func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			body := protocol.ErrorBodyOf(domain.Errorf(domain.EINVALID, "method",
				"请用 %s 访问 %s", "use %s for %s", method, r.URL.Path))
			protocol.WriteJSON(w, r, http.StatusMethodNotAllowed, body)
			return
		}
		h(w, r)
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	protocol.WriteJSON(w, r, http.StatusOK, protocol.Health{OK: true, V: protocol.Version})
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	addr := addrKey(r.RemoteAddr)
	if until := s.lim.allowed(addr, s.now()); !until.IsZero() {
		retryAfter(w, s.now(), until)
		note(r, "locked_until", until.UTC().Format(time.RFC3339))
		s.fail(w, r, protocol.ErrLocked)
		return
	}
	var req protocol.EnrollRequest
	release, err := s.readBody(w, r, &req, protocol.MaxEnrollBytes, s.enrolBudget)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Device == uuid.Nil {
		s.fail(w, r, domain.Errorf(domain.EINVALID, "device", "注册请求缺少设备标识（请升级应用）",
			"the enrolment request has no device ID (update the app)"))
		return
	}
	now := s.now()
	token, cadre, err := s.db.Enroll(req.Code, req.Device, req.Name, now)
	if err != nil {
		if domain.ErrorCode(err) == domain.EUNAUTHORIZED {
			// A wrong, used or expired code, or a device ID taken: what
			// someone guessing would meet.
			s.lim.fail(addr, now)
		}
		note(r, "device", req.Device.String(), "address", addr)
		s.fail(w, r, err)
		return
	}
	note(r, "device", req.Device.String(), "cadre", cadre.String(), "name", req.Name)
	protocol.WriteJSON(w, r, http.StatusOK, protocol.EnrollResponse{V: protocol.Version,
		Device: req.Device, Token: token, Cadre: cadre, Now: protocol.At(now), Server: s.db.Device()})
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) {
	token, ok := protocol.BearerToken(r)
	if !ok {
		s.fail(w, r, domain.Errorf(domain.EUNAUTHORIZED, "token", "缺少设备凭证，请先注册设备",
			"no device token; enrol the device first"))
		return
	}
	dev, err := s.db.Authenticate(token)
	// A device revoked as replaced makes one last push, and pulls nothing.
	last := errors.Is(err, replica.ErrReplaced)
	if err != nil && !last {
		s.fail(w, r, err)
		return
	}
	note(r, "device", dev.ID.String())
	var req protocol.SyncRequest
	release, err := s.readBody(w, r, &req, protocol.MaxRequestBytes, s.budget)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, err := protocol.DecodeChanges(req.Changes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	if err := protocol.CheckStamps(changes, now); err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := s.parseCursor(req.Cursor, token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reach, err := s.db.Reach(dev.Cadre)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc := newScope(dev.Cadre, dev.ID, reach, s.appr)
	sc.loadStaff = s.db.Staff
	sc.backdate = s.backdate
	sc.correct = s.correct
	if namesCompanions(changes) {
		sc.loadStaffNow() // not inside the push's transaction: see loadStaffNow
	}

	resp := protocol.SyncResponse{V: protocol.Version, Acked: req.Through}
	if len(changes) > 0 {
		guard, gone := s.photoGuard(sc.check)
		guard, early := watchEarly(dev.ID, guard)
		photos := s.photos != nil && slices.ContainsFunc(changes, func(c domain.Change) bool { return c.Kind == domain.KindPhoto })
		if photos {
			s.photoMu.RLock()
		}
		rejected, err := s.db.ApplyGuarded(dev.ID, changes, guard)
		if photos {
			s.photoMu.RUnlock()
		}
		var refused *replica.Refused
		if errors.As(err, &refused) {
			// Nothing was written. Name every change out of scope, so that
			// the device sets them aside and pushes the rest at once.
			ids := make([]uuid.UUID, len(refused.Indexes))
			for i, n := range refused.Indexes {
				ids[i] = changes[n].ID
			}
			note(r, "cadre", dev.Cadre.String(), "pushed", len(changes), "out_of_scope", len(ids))
			s.fail(w, r, refusal(changes[refused.Indexes[0]], refused.Err, ids))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.dropPhotos(*gone) // the push is committed: photos no record names go
		s.reportEarly(r, dev, *early)
		for i, e := range rejected {
			if e != nil {
				resp.Rejected = append(resp.Rejected, protocol.RejectionOf(changes[i].ID, e))
			}
		}
	}
	if last {
		// The push is applied: close the device, pull nothing.
		if err := s.db.CloseDevice(dev.ID, now); err != nil {
			s.fail(w, r, err)
			return
		}
		resp.Revoked, resp.Cursor, resp.Now = string(replica.Replaced), req.Cursor, protocol.At(s.now())
		note(r, "cadre", dev.Cadre.String(), "pushed", len(changes), "rejected", len(resp.Rejected), "closed", "replaced")
		protocol.WriteJSON(w, r, http.StatusOK, resp)
		return
	}

	pulled, err := s.pull(dev.ID, token, sc, after, entered(r), &resp)
	if err == nil {
		err = sc.staffErr
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp.Now = protocol.At(s.now())
	// Record the sync only when the recorded one has grown stale: a device
	// polling with nothing to send then reads and never writes.
	if dev.LastSync.IsZero() || now.Sub(dev.LastSync) >= s.touchEvery {
		if err := s.db.Touch(dev.ID, now); err != nil {
			s.log.Warn("cannot record last sync", "device", dev.ID, "err", err)
		}
	}
	note(r, "cadre", dev.Cadre.String(), "pushed", len(changes), "rejected", len(resp.Rejected),
		"pulled", pulled, "state", len(resp.State), "reset", resp.Reset, "settled", resp.Settled,
		"more", resp.More, "cursor", resp.Cursor)
	protocol.WriteJSON(w, r, http.StatusOK, resp)
}

// fail answers with err, logging failures of the server itself.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := domain.ErrorCode(err)
	note(r, "code", code)
	var de *domain.Error
	if errors.As(err, &de) {
		note(r, "field", de.Field, "reason", de.En)
	}
	if code == domain.EINTERNAL {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	protocol.WriteError(w, r, err)
}

// recorder remembers the status and size of an answer for the log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// reqLog collects attributes for a request's log line.
type reqLog struct{ attrs []any }

type logKey struct{}

func note(r *http.Request, kv ...any) {
	if l, ok := r.Context().Value(logKey{}).(*reqLog); ok {
		l.attrs = append(l.attrs, kv...)
	}
}

func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
