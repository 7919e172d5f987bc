package office

import (
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// Prefix is the path the console is served under.
const Prefix = "/office/"

// cookieName is the session cookie's name.
const cookieName = "bangfu_office"

// loginCookie holds the login form's CSRF token before there is a session.
const loginCookie = "bangfu_office_login"

// SessionTTL is how long a session lasts without logging in again.
const SessionTTL = 8 * time.Hour

//go:embed templates/*.html static/*
var files embed.FS

// ExportQuery is what the office asked the workbook for.
type ExportQuery struct {
	Scope    uuid.UUID // the town or city of the account
	IDs      bool      // whole 身份证号, or masked
	From, To time.Time // visits in [From, To); zero: all
	Unit     string    // 制表单位, the office's name
	// Roster asks for the roster in the import's own layout (households,
	// members, cadres, pairings), which imports back once edited, instead
	// of the monthly workbook. It holds whole ID numbers, the households'
	// keys: only for accounts with IDs.
	Roster bool
}

// Options configure a Console.
type Options struct {
	// Logger receives failures; slog.Default() if nil.
	Logger *slog.Logger
	// Now reads the clock; time.Now if nil.
	Now func() time.Time
	// Export writes the monthly workbook; the export page is off if nil.
	Export func(w io.Writer, q ExportQuery) error
	// Import checks and applies roster files; the import page is off if nil.
	Import Importer
	// Secure marks cookies Secure (the server runs TLS).
	Secure bool
	// Store keeps the accounts, sessions and audit log and the device
	// registry, and takes the console's writes; if nil, the db given to New
	// with Registry. A server whose records live elsewhere (PostgreSQL)
	// gives New its read-only copy of them and, here, where they are kept.
	Store Store
	// Registry is the device registry when Store is nil: on bbolt,
	// server.BoltRegistry on the db given to New. One of the two is needed.
	Registry Registry
	// Fresh brings the db given to New up to date before a request reads
	// it; nil when it always is.
	Fresh func() error
	// Uploads keeps roster files between their check and their
	// confirmation; in this process's memory if nil.
	Uploads Uploads
	// Logins counts failed logins where every instance of the server sees
	// them, so that several instances do not multiply a guesser's tries;
	// in this process's memory if nil.
	Logins Logins
}

// Logins keeps the counts of failed logins per key (an address, an
// account name) for the console's limiter (pgstore.Office).
type Logins interface {
	// Wait returns how long an attempt for keys must still wait.
	Wait(keys []string, now time.Time) (time.Duration, error)
	// Fail counts a failed attempt for each key: after its n-th failure in
	// a row a key bars attempts for bar(n).
	Fail(keys []string, now time.Time, bar func(failures int) time.Duration) error
	// Succeed forgets the keys' failures.
	Succeed(keys []string) error
}

// Console is the office console: an http.Handler for Prefix.
type Console struct {
	db       *store.DB // the records, read
	st       Store
	fresh    func() error
	log      *slog.Logger
	now      func() time.Time
	export   func(w io.Writer, q ExportQuery) error
	secure   bool
	mux      *http.ServeMux
	pages    map[string]*template.Template
	limiter  *limiter
	importer Importer
	uploads  uploads
	shared   Uploads
	logins   Logins
}

// New returns the console on db.
func New(db *store.DB, opts Options) *Console {
	c := &Console{db: db, st: opts.Store, fresh: opts.Fresh, shared: opts.Uploads, logins: opts.Logins, log: opts.Logger, now: opts.Now, export: opts.Export, secure: opts.Secure,
		limiter: newLimiter(), importer: opts.Import}
	if c.st == nil {
		if opts.Registry == nil {
			panic("office: New needs Options.Store or Options.Registry")
		}
		c.st = NewBoltStore(db, opts.Registry)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.pages = map[string]*template.Template{}
	for _, p := range []string{"login", "home", "devices", "enrol", "export", "backup", "audit", "import", "accounts", "settings", "error"} {
		c.pages[p] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+p+".html"))
	}
	// The print pages stand alone: no console header on the paper.
	for _, p := range []string{"board", "cards"} {
		c.pages[p] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/"+p+".html"))
	}
	m := http.NewServeMux()
	m.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix, http.FileServerFS(files)))
	m.HandleFunc("GET "+Prefix+"login", c.loginForm)
	m.HandleFunc("POST "+Prefix+"login", c.login)
	m.HandleFunc("POST "+Prefix+"logout", c.auth(c.logout))
	m.HandleFunc("GET "+Prefix+"{$}", c.auth(c.home))
	m.HandleFunc("GET "+Prefix+"devices", c.auth(c.devices))
	m.HandleFunc("POST "+Prefix+"devices/revoke", c.auth(c.revoke))
	m.HandleFunc("POST "+Prefix+"devices/unlock", c.auth(c.unlock))
	m.HandleFunc("GET "+Prefix+"enrol", c.auth(c.enrolForm))
	m.HandleFunc("POST "+Prefix+"enrol", c.auth(c.enrol))
	m.HandleFunc("GET "+Prefix+"export", c.auth(c.exportForm))
	m.HandleFunc("GET "+Prefix+"export.xlsx", c.auth(c.exportFile))
	m.HandleFunc("GET "+Prefix+"roster.xlsx", c.auth(c.rosterFile))
	m.HandleFunc("GET "+Prefix+"backup", c.auth(c.backupPage))
	m.HandleFunc("POST "+Prefix+"backup", c.auth(c.backup))
	m.HandleFunc("POST "+Prefix+"token", c.auth(c.token))
	m.HandleFunc("GET "+Prefix+"accounts", c.auth(c.accounts))
	m.HandleFunc("POST "+Prefix+"accounts/password", c.auth(c.password))
	m.HandleFunc("POST "+Prefix+"accounts/add", c.auth(c.addAccount))
	m.HandleFunc("GET "+Prefix+"audit", c.auth(c.audit))
	m.HandleFunc("GET "+Prefix+"settings", c.auth(c.settings))
	m.HandleFunc("POST "+Prefix+"settings", c.auth(c.saveSettings))
	m.HandleFunc("GET "+Prefix+"import", c.auth(c.importForm))
	m.HandleFunc("POST "+Prefix+"import", c.auth(c.importCheck))
	m.HandleFunc("POST "+Prefix+"import/apply", c.auth(c.importApply))
	m.HandleFunc("GET "+Prefix+"import/marked", c.auth(c.importMarked))
	m.HandleFunc("GET "+Prefix+"board", c.auth(c.board))
	m.HandleFunc("GET "+Prefix+"board.pdf", c.auth(c.board))
	m.HandleFunc("GET "+Prefix+"cards", c.auth(c.cards))
	m.HandleFunc("GET "+Prefix+"cards.pdf", c.auth(c.cards))
	c.routeAPI(m)
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, domain.Errorf(domain.ENOTFOUND, "path", "没有这个页面", "there is no such page"))
	})
	c.mux = m
	return c
}

// ServeHTTP serves the console's pages.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// user is the logged-in session a request runs for.
type user struct {
	Session
	token string
}

type handler func(w http.ResponseWriter, r *http.Request, u *user)

// auth runs h for a request with a live session; a page without one
// redirects to the login page, anything else is refused. A POST must carry
// the session's CSRF token.
func (c *Console) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieName)
		var s Session
		if err == nil {
			s, err = c.st.Session(ck.Value, c.now())
		}
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, ErrSession)
			return
		}
		u := &user{Session: s, token: ck.Value}
		if err := c.refresh(); err != nil {
			c.fail(w, r, u, err)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
				c.fail(w, r, u, errCSRF)
				return
			}
		}
		h(w, r, u)
	}
}

// refresh brings the records read up to date, where they are a copy.
func (c *Console) refresh() error {
	if c.fresh == nil {
		return nil
	}
	return c.fresh()
}

var errCSRF = &domain.Error{Code: domain.EFORBIDDEN, Field: "csrf",
	Zh: "表单已失效（请刷新页面后重试）", En: "the form has expired (reload the page and try again)"}

// page is what every template gets.
type page struct {
	Title string
	User  *user
	Data  any
	Flash string
	Error string
}

func (c *Console) render(w http.ResponseWriter, name string, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.pages[name].ExecuteTemplate(w, "layout", p); err != nil {
		c.log.Error("office: render", "page", name, "err", err)
	}
}

// fail shows err as a page with the HTTP status its code maps to.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, u *user, err error) {
	status := http.StatusInternalServerError
	msg := "服务器内部错误 / internal error"
	var de *domain.Error
	if errors.As(err, &de) {
		msg = de.Zh + " / " + de.En
		switch de.Code {
		case domain.EINVALID:
			status = http.StatusBadRequest
		case domain.EUNAUTHORIZED:
			status = http.StatusUnauthorized
		case domain.EFORBIDDEN:
			status = http.StatusForbidden
		case domain.ENOTFOUND:
			status = http.StatusNotFound
		case domain.ECONFLICT:
			status = http.StatusConflict
		}
	} else {
		c.log.Error("office", "path", r.URL.Path, "err", err)
	}
	c.render(w, "error", status, page{Title: "出错了 Error", User: u, Error: msg})
}

// audit writes an administrative action of u to the audit log.
func (c *Console) record(u *user, action, target, detail string) {
	err := c.st.Audit(store.AuditEntry{At: c.now(), Account: u.Account.Name, Action: action,
		Target: target, Detail: detail, Place: u.Account.Place})
	if err != nil {
		c.log.Error("office: audit", "err", err)
	}
}

// clientIP is the address a login attempt came from.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure, MaxAge: 3600})
	c.render(w, "login", http.StatusOK, page{Title: "登录 Log in", Data: token})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ck, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ck.Value)) != 1 {
		c.fail(w, r, nil, errCSRF)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	now := c.now()
	keys := []string{"ip:" + clientIP(r), "name:" + name}
	wait := c.limiter.wait(keys, now)
	if c.logins != nil {
		if wait, err = c.logins.Wait(keys, now); err != nil {
			c.fail(w, r, nil, err)
			return
		}
	}
	if wait > 0 {
		secs := int(wait.Round(time.Second) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		c.render(w, "login", http.StatusTooManyRequests, page{Title: "登录 Log in", Data: ck.Value,
			Error: fmt.Sprintf("登录失败次数过多，请 %d 秒后再试 / too many failed logins: try again in %d s", secs, secs)})
		return
	}
	token, s, err := c.st.Login(name, r.PostFormValue("password"), SessionTTL, now)
	if err != nil {
		if c.logins == nil {
			c.limiter.fail(keys, now)
		} else if err := c.logins.Fail(keys, now, backoff); err != nil {
			c.log.Error("office: count a failed login", "err", err)
		}
		c.st.Audit(store.AuditEntry{At: now, Account: name, Action: "login-failed", Target: clientIP(r)})
		msg := "登录失败 / login failed"
		var de *domain.Error
		if errors.As(err, &de) {
			msg = de.Zh + " / " + de.En
		}
		c.render(w, "login", http.StatusUnauthorized, page{Title: "登录 Log in", Data: ck.Value, Error: msg})
		return
	}
	if c.logins == nil {
		c.limiter.succeed(keys)
	} else if err := c.logins.Succeed(keys); err != nil {
		c.log.Error("office: clear failed logins", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: Prefix, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure, Expires: s.Expires})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: Prefix, MaxAge: -1})
	c.record(&user{Session: s}, "login", clientIP(r), "")
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, u *user) {
	c.st.Logout(u.token)
	c.record(u, "logout", "", "")
	http.SetCookie(w, &http.Cookie{Name: cookieName, Path: Prefix, MaxAge: -1})
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// limiter slows down guessing: after freeFailures failed logins for a key
// (an address or an account name), each further attempt must wait twice as
// long as the one before, up to maxWait. A success clears the key.
type limiter struct {
	mu   gosync.Mutex
	keys map[string]*attempts
}

type attempts struct {
	failures int
	next     time.Time // no attempt before this
}

const (
	freeFailures = 5
	firstWait    = 2 * time.Second
	maxWait      = 15 * time.Minute
)

// backoff is how long the failures-th failed login in a row for a key
// bars further attempts.
func backoff(failures int) time.Duration {
	n := failures - freeFailures
	if n < 0 {
		return 0
	}
	return min(firstWait<<min(n, 20), maxWait)
}

func newLimiter() *limiter { return &limiter{keys: map[string]*attempts{}} }

// wait returns how long the attempt for keys must still wait.
func (l *limiter) wait(keys []string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var d time.Duration
	for _, k := range keys {
		if a := l.keys[k]; a != nil && a.next.After(now) {
			d = max(d, a.next.Sub(now))
		}
	}
	return d
}

func (l *limiter) fail(keys []string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) > 100000 { // a flood of made-up names: forget, do not grow without bound
		clear(l.keys)
	}
	for _, k := range keys {
		a := l.keys[k]
		if a == nil {
			a = &attempts{}
			l.keys[k] = a
		}
		a.failures++
		if d := backoff(a.failures); d > 0 {
			a.next = now.Add(d)
		}
	}
}

func (l *limiter) succeed(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}
