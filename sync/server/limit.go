package server

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"bangfu/replica"
	"bangfu/sync/protocol"
)

// Enrolment limits. Codes are 8 characters of 31 (31^8 ≈ 8.5e11 codes).
// With the defaults, an attacker is allowed at most 60 wrong codes an hour
// in all, from however many addresses: in the 72 hours a code lives that is
// 4,320 guesses, and against 75 live codes the chance that one of them hits
// is at most 4,320 × 75 / 31^8 ≈ 3.8e-7, one in 2.6 million. A cadre who
// mistypes is locked out only after 10 wrong codes from the same address in
// an hour.
const (
	DefaultEnrolPerAddress = 10        // wrong codes from one address per EnrolWindow
	DefaultEnrolOverall    = 60        // wrong codes from all addresses per EnrolWindow
	DefaultEnrolWindow     = time.Hour // the window, and how long a lockout lasts
)

// maxTracked bounds the addresses whose failures are remembered; beyond it
// the oldest are forgotten (the overall limit still counts them).
const maxTracked = 10000

// lockoutStore is what a Store offers, optionally, to keep lockouts where
// the office sees them (`bangfud lockouts`) and a restarted server finds them.
type lockoutStore interface {
	RecordLockout(replica.Lockout) error
	Lockouts(since time.Time) ([]replica.Lockout, error)
}

// limiter counts wrong enrolment codes per address and overall, in a sliding
// window, and locks enrolment out when either passes its limit.
type limiter struct {
	perAddr, overall int
	window           time.Duration
	log              *slog.Logger
	db               lockoutStore // nil if the store does not keep them

	mu     sync.Mutex
	fails  map[string][]time.Time // per address, oldest first
	all    []time.Time
	locked map[string]time.Time // address -> until; "" for everyone
}

func newLimiter(o Options, log *slog.Logger, db Store, now time.Time) *limiter {
	l := &limiter{perAddr: o.EnrolPerAddress, overall: o.EnrolOverall, window: o.EnrolWindow, log: log,
		fails: map[string][]time.Time{}, locked: map[string]time.Time{}}
	if l.perAddr <= 0 {
		l.perAddr = DefaultEnrolPerAddress
	}
	if l.overall <= 0 {
		l.overall = DefaultEnrolOverall
	}
	if l.window <= 0 {
		l.window = DefaultEnrolWindow
	}
	if ls, ok := db.(lockoutStore); ok {
		l.db = ls
		// Lockouts in force survive a restart.
		if active, err := ls.Lockouts(now); err == nil {
			for _, lo := range active {
				if lo.Until.After(l.locked[lo.Address]) {
					l.locked[lo.Address] = lo.Until
				}
			}
		} else {
			log.Warn("cannot read enrolment lockouts", "err", err)
		}
	}
	return l
}

// addrKey is the key of a remote address: the IP, or for IPv6 its /64, as
// one device can take any address in its network's /64.
func addrKey(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// allowed returns when enrolment from addr is locked until, or the zero time
// if it is not.
func (l *limiter) allowed(addr string, now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	until := l.locked[""]
	if u := l.locked[addr]; u.After(until) {
		until = u
	}
	if !until.After(now) {
		return time.Time{}
	}
	return until
}

// fail counts a wrong code from addr at now, locking out addr or everyone
// when a limit is passed.
func (l *limiter) fail(addr string, now time.Time) {
	cut := now.Add(-l.window)
	l.mu.Lock()
	f := prune(append(l.fails[addr], now), cut)
	l.fails[addr] = f
	l.all = prune(append(l.all, now), cut)
	if len(l.fails) > maxTracked {
		for k := range l.fails {
			if k != addr {
				delete(l.fails, k)
			}
			if len(l.fails) <= maxTracked/2 {
				break
			}
		}
	}
	for k, until := range l.locked {
		if !until.After(now) {
			delete(l.locked, k) // ended
		}
	}
	var out []replica.Lockout
	if len(f) >= l.perAddr && !l.locked[addr].After(now) {
		l.locked[addr] = now.Add(l.window)
		out = append(out, replica.Lockout{Address: addr, From: now, Until: now.Add(l.window), Failures: len(f)})
		delete(l.fails, addr)
	}
	if len(l.all) >= l.overall && !l.locked[""].After(now) {
		l.locked[""] = now.Add(l.window)
		out = append(out, replica.Lockout{From: now, Until: now.Add(l.window), Failures: len(l.all)})
		l.all = nil
	}
	l.mu.Unlock()
	for _, lo := range out {
		who := lo.Address
		if who == "" {
			who = "every address"
		}
		l.log.Warn("enrolment locked: too many wrong codes", "address", who, "failures", lo.Failures,
			"until", lo.Until.UTC().Format(time.RFC3339))
		if l.db != nil {
			if err := l.db.RecordLockout(lo); err != nil {
				l.log.Error("cannot record enrolment lockout", "err", err)
			}
		}
	}
}

func prune(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// retryAfter sets the Retry-After header of an answer for until.
func retryAfter(w http.ResponseWriter, now, until time.Time) {
	secs := int(until.Sub(now).Seconds()) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// bodyWatch closes a request body that stalls: before each read it sets the
// connection's read deadline to stall from now, and never past end, so a
// body that sends nothing for stall (or is still arriving at end) fails with
// a timeout and its connection is closed.
type bodyWatch struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	end   time.Time
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	d := time.Now().Add(b.stall)
	if d.After(b.end) {
		d = b.end
	}
	b.rc.SetReadDeadline(d) // not every writer supports it: then no deadline
	return b.body.Read(p)
}

func (b *bodyWatch) Close() error { return b.body.Close() }

// done lifts the deadline once the body is read, so that a long handler
// does not time out the connection under it.
func (b *bodyWatch) done() { b.rc.SetReadDeadline(time.Time{}) }

// readBody reads the body of r into v, at most maxPlain bytes of JSON,
// within the server's memory budget and body deadlines. release gives the
// memory back once the request is handled.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, v any, maxPlain int64, b *protocol.Budget) (release func(), err error) {
	watch := &bodyWatch{body: r.Body, rc: http.NewResponseController(w), stall: s.stall, end: time.Now().Add(s.bodyTimeout)}
	r.Body = watch
	release, err = protocol.ReadRequestWithin(r, v, maxPlain, b)
	if err == nil {
		watch.done()
	}
	return release, err
}
