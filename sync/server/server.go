// Package server is the sync server of 帮扶走访: an http.Handler that enrols
// devices, syncs them and answers health checks, speaking sync/protocol.
//
// # Endpoints
//
//	POST /v1/enroll   trade a one-time code for a device token
//	POST /v1/sync     push a device's unsent changes, pull what it has not seen
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
// without them will judge it (store.Refused), so that the device sets exactly
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
// village, a town lead's town, an office's town or city.
//
// # Storage
//
// The server reads and writes through [Store], a narrow interface that
// *store.DB (bbolt, the default) satisfies; another backend can replace it.
// A Server holds no global state and nothing tied to its process, so a
// team leader's app can run one on its own store and relay for phones.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// Store is what the server needs from a replica.
type Store interface {
	// Device returns the replica's own ID, which devices record as the
	// origin of what they pull.
	Device() uuid.UUID
	// ApplyChecked applies changes received from device from in one
	// transaction, checking each against where its record is; it returns,
	// per change, why one that cannot be merged was not applied.
	ApplyChecked(from uuid.UUID, changes []domain.Change, check store.Check) ([]error, error)
	// LogWhere calls fn, in order, for the log entries after sequence after
	// that keep accepts; keep sees an entry's header (origin, scope, the
	// change's IDs, kind and stamp) before its fields are decoded.
	LogWhere(after uint64, keep func(*store.Entry) bool, fn func(store.Entry) (bool, error)) error
	// LastSeq returns the sequence of the newest log entry.
	LastSeq() (uint64, error)
	// Enroll trades a one-time code for a device token.
	Enroll(code string, device uuid.UUID, name string, now time.Time) (token string, cadre uuid.UUID, err error)
	// Authenticate returns the device a token belongs to.
	Authenticate(token string) (store.Device, error)
	// Touch records a successful sync.
	Touch(device uuid.UUID, now time.Time) error
	// Reach returns a cadre's assignments resolved against the roster.
	Reach(cadre uuid.UUID) ([]store.Assigned, error)
	// ScopePrint returns a fingerprint of the units of scope (households,
	// places, cadres) that readable accepts, and the newest log sequence.
	ScopePrint(readable func(*store.Entry) bool) (string, uint64, error)
	// State calls fn with the current state of each record readable
	// accepts after pos, record by record, and returns the newest log
	// sequence it reflects.
	State(pos store.StatePos, readable func(*store.Entry) bool, fn func(next store.StatePos, changes []domain.Change) (bool, error)) (uint64, error)
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
}

// Server is the sync server: an http.Handler.
type Server struct {
	db   Store
	log  *slog.Logger
	now  func() time.Time
	page int
	mux  *http.ServeMux
}

// New returns a server on db.
func New(db Store, opts Options) *Server {
	s := &Server{db: db, log: opts.Logger, now: opts.Now, page: opts.PageBytes}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.page <= 0 {
		s.page = protocol.PageBytes
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc(protocol.PathEnroll, s.only(http.MethodPost, s.enroll))
	s.mux.HandleFunc(protocol.PathSync, s.only(http.MethodPost, s.sync))
	s.mux.HandleFunc(protocol.PathHealth, s.only(http.MethodGet, s.health))
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
	var req protocol.EnrollRequest
	if err := protocol.ReadRequest(r, &req); err != nil {
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
	if err != nil {
		s.fail(w, r, err)
		return
	}
	note(r, "device", dev.ID.String())
	var req protocol.SyncRequest
	if err := protocol.ReadRequest(r, &req); err != nil {
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
	after, err := s.parseCursor(req.Cursor)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reach, err := s.db.Reach(dev.Cadre)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc := newScope(dev.Cadre, reach)

	resp := protocol.SyncResponse{V: protocol.Version, Acked: req.Through}
	if len(changes) > 0 {
		rejected, err := s.db.ApplyChecked(dev.ID, changes, sc.check)
		var refused *store.Refused
		if errors.As(err, &refused) {
			// Nothing was written. Name every change out of scope, so that
			// the device sets them aside and pushes the rest at once.
			ids := make([]uuid.UUID, len(refused.Indexes))
			for i, n := range refused.Indexes {
				ids[i] = changes[n].ID
			}
			note(r, "cadre", dev.Cadre.String(), "pushed", len(changes), "out_of_scope", len(ids))
			s.fail(w, r, refusal(changes[refused.Indexes[0]], ids))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for i, e := range rejected {
			if e != nil {
				resp.Rejected = append(resp.Rejected, protocol.RejectionOf(changes[i].ID, e))
			}
		}
	}

	pulled, err := s.pull(dev.ID, sc, after, &resp)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp.Now = protocol.At(s.now())
	if err := s.db.Touch(dev.ID, now); err != nil {
		s.log.Warn("cannot record last sync", "device", dev.ID, "err", err)
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
