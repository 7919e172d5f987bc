package office_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/office"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server"
)

const password = "correct horse battery"

func TestMain(m *testing.M) {
	// Cheap hashes: the tests log in dozens of times, under -race too.
	office.BcryptCost = bcrypt.MinCost
	os.Exit(m.Run())
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a store with the demo village's town and a second town, an account
// for each town and one for the city, and a device enrolled in each town.
type env struct {
	t        *testing.T
	db       *store.DB
	reg      *server.BoltRegistry // the device registry in db
	acc      *office.BoltAccounts // the accounts in db
	clock    *fakeClock
	srv      *httptest.Server
	demo     *demo.Data
	city     *domain.Place
	town2    *domain.Place
	devA     uuid.UUID // the demo group cadre's phone, in the demo town
	devB     uuid.UUID // a phone in the second town
	cadreB   *domain.Cadre
	exported []office.ExportQuery
}

func newEnv(t *testing.T) *env {
	t.Helper()
	now := time.Now()
	path := filepath.Join(t.TempDir(), "bangfu.db")
	if err := os.WriteFile(path, demoStore(t), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, reg: server.NewBoltRegistry(db), acc: office.NewBoltAccounts(db), clock: &fakeClock{t: now}, demo: demoOnce.data}
	var town1 *domain.Place
	for _, p := range e.demo.Places {
		switch p.Level {
		case domain.City:
			e.city = p
		case domain.Town:
			town1 = p
		}
	}
	meta := func() domain.Meta { return domain.Meta{ID: uuid.New(), Created: now} }
	e.town2 = &domain.Place{Meta: meta(), Level: domain.Town, Name: "东区街道", Parent: e.city.ID}
	village := &domain.Place{Meta: meta(), Level: domain.Village, Name: "红园村", Parent: e.town2.ID}
	group := &domain.Place{Meta: meta(), Level: domain.Group, Name: "一社", Parent: village.ID}
	hh := &domain.Household{Meta: meta(), HeadName: "马红园", Group: group.ID, Status: domain.Registered, Size: 3}
	e.cadreB = &domain.Cadre{Meta: meta(), Name: "丁东区", Rank: domain.RankOther, Phone: "13900000001"}
	as := &domain.Assignment{Meta: meta(), Cadre: e.cadreB.ID, Role: domain.GroupCadre, Target: group.ID, Since: now}
	if err := db.Put(uuid.Nil, e.town2, village, group, hh, e.cadreB, as); err != nil {
		t.Fatal(err)
	}
	for _, a := range []office.Account{
		{Name: "fuhan", Display: "枹罕镇办", Place: town1.ID},
		{Name: "dongqu", Display: "东区办", Place: e.town2.ID},
		{Name: "city", Display: "市办", Place: e.city.ID, IDs: true},
	} {
		if err := e.acc.CreateAccount(a, password); err != nil {
			t.Fatal(err)
		}
	}
	e.devA = e.enrol(e.demo.GroupCadre.ID, "马兴文的手机")
	e.devB = e.enrol(e.cadreB.ID, "丁东区的手机")
	e.srv = httptest.NewServer(office.New(db, office.Options{Now: e.clock.Now, Registry: e.reg,
		Export: func(w io.Writer, q office.ExportQuery) error {
			e.exported = append(e.exported, q)
			_, err := w.Write([]byte("PK-workbook"))
			return err
		}}))
	t.Cleanup(e.srv.Close)
	return e
}

// demoOnce is the demo village written once, copied for each test.
var demoOnce struct {
	gosync.Once
	data *demo.Data
	file []byte
	err  error
}

func demoStore(t *testing.T) []byte {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "office-demo-")
		if err != nil {
			demoOnce.err = err
			return
		}
		defer os.RemoveAll(dir)
		db, err := store.Open(filepath.Join(dir, "bangfu.db"), &store.Options{NoSync: true})
		if err != nil {
			demoOnce.err = err
			return
		}
		demoOnce.data = demo.Village(1, time.Now())
		if demoOnce.err = db.Put(uuid.Nil, demoOnce.data.Records()...); demoOnce.err == nil {
			var buf bytes.Buffer
			_, demoOnce.err = db.Backup(&buf)
			demoOnce.file = buf.Bytes()
		}
		db.Close()
	})
	if demoOnce.err != nil {
		t.Fatal(demoOnce.err)
	}
	return demoOnce.file
}

func (e *env) enrol(cadre uuid.UUID, name string) uuid.UUID {
	code, err := e.reg.CreateEnrolCode(cadre, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	dev := uuid.New()
	if _, _, err := e.reg.Enroll(code, dev, name, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	return dev
}

// browser is a client with its own cookies that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(body)
}

// login logs in as name and fails the test unless it works.
func (b *browser) login(name string) {
	b.e.t.Helper()
	if status, body := b.tryLogin(name, password); status != http.StatusSeeOther || body != office.Prefix {
		b.e.t.Fatalf("login %s: %d %s", name, status, body)
	}
	b.get(office.Prefix) // picks up the session's CSRF token
}

func (b *browser) tryLogin(name, pw string) (int, string) {
	b.get(office.Prefix + "login")
	return b.post(office.Prefix+"login", url.Values{"csrf": {b.csrf}, "name": {name}, "password": {pw}})
}

func (e *env) revoked(dev uuid.UUID) bool {
	devs, err := e.reg.Devices()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range devs {
		if d.ID == dev {
			return !d.Revoked.IsZero()
		}
	}
	e.t.Fatalf("device %s not found", dev)
	return false
}

func TestNothingWithoutSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, p := range []string{"", "devices", "enrol", "export", "export.xlsx?month=2026-11", "roster.xlsx", "backup", "audit", "settings"} {
		status, where := b.get(office.Prefix + p)
		if status != http.StatusSeeOther || where != office.Prefix+"login" {
			t.Errorf("GET %s without a session: %d %q, want a redirect to the login page", p, status, where)
		}
	}
	for _, p := range []string{"devices/revoke", "enrol", "backup", "logout", "settings"} {
		form := url.Values{"csrf": {"x"}, "device": {e.devA.String()}, "reason": {"lost"}, "cadre": {e.demo.GroupCadre.ID.String()}}
		if status, body := b.post(office.Prefix+p, form); status != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %d, want 401\n%s", p, status, body)
		}
	}
	// A made-up session cookie is no better.
	u, _ := url.Parse(e.srv.URL + office.Prefix)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "bangfu_office", Value: "bfs1.made-up", Path: office.Prefix}})
	if status, _ := b.get(office.Prefix + "devices"); status != http.StatusSeeOther {
		t.Errorf("GET devices with a forged session: %d, want a redirect", status)
	}
	if e.revoked(e.devA) {
		t.Error("a request without a session revoked a device")
	}
	if len(e.exported) != 0 {
		t.Error("a request without a session exported")
	}
}

func TestCSRFRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("fuhan")
	for _, token := range []string{"", "wrong"} {
		status, _ := b.post(office.Prefix+"devices/revoke", url.Values{"csrf": {token}, "device": {e.devA.String()}, "reason": {"lost"}})
		if status != http.StatusForbidden {
			t.Errorf("revoke with csrf %q: %d, want 403", token, status)
		}
	}
	if e.revoked(e.devA) {
		t.Fatal("a POST without the CSRF token revoked a device")
	}
	// The login form has its own token: a login posted from elsewhere is refused.
	other := e.browser()
	if status, _ := other.post(office.Prefix+"login", url.Values{"name": {"fuhan"}, "password": {password}}); status != http.StatusForbidden {
		t.Errorf("login without the form's token: %d, want 403", status)
	}
	// With the token it works, and the audit log says who, what and why.
	status, where := b.post(office.Prefix+"devices/revoke", url.Values{"csrf": {b.csrf}, "device": {e.devA.String()}, "reason": {"lost"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(where, office.Prefix+"devices") {
		t.Fatalf("revoke: %d %s", status, where)
	}
	if !e.revoked(e.devA) {
		t.Fatal("the device was not revoked")
	}
	_, audit := b.get(office.Prefix + "audit")
	for _, want := range []string{"fuhan", "注销设备", "丢失", e.devA.String()} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
}

func TestOtherTownSeesNothing(t *testing.T) {
	e := newEnv(t)
	town1 := e.browser()
	town1.login("fuhan")
	town1.post(office.Prefix+"enrol", url.Values{"csrf": {town1.csrf}, "cadre": {e.demo.GroupCadre.ID.String()}})

	b := e.browser()
	b.login("dongqu")
	pages := map[string]string{}
	for _, p := range []string{"", "devices", "enrol", "audit"} {
		status, body := b.get(office.Prefix + p)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", p, status)
		}
		pages[p] = body
	}
	for p, body := range pages {
		for _, secret := range []string{"王坪村", e.devA.String()[:8], e.demo.GroupCadre.Name, "fuhan"} {
			if strings.Contains(body, secret) {
				t.Errorf("the second town's office sees %q on %q", secret, p)
			}
		}
	}
	if !strings.Contains(pages["devices"], e.devB.String()[:8]) || !strings.Contains(pages[""], "红园村") {
		t.Error("the second town's office does not see its own device and village")
	}
	// Nor can it act on the first town's device or cadre.
	if status, _ := b.post(office.Prefix+"devices/revoke", url.Values{"csrf": {b.csrf}, "device": {e.devA.String()}, "reason": {"lost"}}); status != http.StatusNotFound {
		t.Errorf("revoking another town's device: %d, want 404", status)
	}
	if e.revoked(e.devA) {
		t.Fatal("another town's office revoked a device")
	}
	if status, body := b.post(office.Prefix+"enrol", url.Values{"csrf": {b.csrf}, "cadre": {e.demo.GroupCadre.ID.String()}}); status != http.StatusNotFound {
		t.Errorf("enrolling another town's cadre: %d, want 404\n%s", status, body)
	}
	if status, _ := b.post(office.Prefix+"backup", url.Values{"csrf": {b.csrf}}); status != http.StatusForbidden {
		t.Errorf("a town office downloading the whole city's backup: %d, want 403", status)
	}
	// The export asks for this town's scope only, masked.
	b.get(office.Prefix + "export.xlsx?month=2026-11")
	if len(e.exported) != 1 || e.exported[0].Scope != e.town2.ID || e.exported[0].IDs {
		t.Errorf("export query %+v, want the second town, masked", e.exported)
	}
	// The roster that imports back holds whole ID numbers: not for a masked
	// account.
	if status, body := b.get(office.Prefix + "roster.xlsx"); status != http.StatusForbidden || !strings.Contains(body, "身份证号") {
		t.Errorf("a masked account downloading the roster: %d, want 403\n%s", status, body)
	}
	if len(e.exported) != 1 {
		t.Errorf("a masked account's roster download reached the export: %+v", e.exported)
	}
	// The city sees both towns.
	c := e.browser()
	c.login("city")
	if status, _ := c.get(office.Prefix + "roster.xlsx"); status != http.StatusOK || len(e.exported) != 2 ||
		!e.exported[1].Roster || !e.exported[1].IDs || e.exported[1].Scope != e.city.ID {
		t.Errorf("the city's roster download: %d, export queries %+v", status, e.exported)
	}
	e.exported = e.exported[:1]
	_, devs := c.get(office.Prefix + "devices")
	if !strings.Contains(devs, e.devA.String()[:8]) || !strings.Contains(devs, e.devB.String()[:8]) {
		t.Error("the city office does not see every device")
	}
}

func TestBruteForceSlowed(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for i := range 5 {
		if status, _ := b.tryLogin("fuhan", "wrong password "+string(rune('a'+i))); status != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d, want 401", i+1, status)
		}
	}
	// The sixth attempt waits, even with the right password.
	status, body := b.tryLogin("fuhan", password)
	if status != http.StatusTooManyRequests {
		t.Fatalf("login after 5 failures: %d, want 429\n%s", status, body)
	}
	// Another name from the same address waits too.
	if status, _ := b.tryLogin("city", password); status != http.StatusTooManyRequests {
		t.Errorf("another name from the same address: %d, want 429", status)
	}
	e.clock.Add(3 * time.Second)
	b.login("fuhan")
	// Each further failure doubles the wait.
	c := e.browser()
	for range 5 {
		c.tryLogin("city", "nope nope nope")
	}
	e.clock.Add(3 * time.Second) // past the first wait
	c.tryLogin("city", "still wrong!")
	e.clock.Add(3 * time.Second) // not past the second (4 s)
	if status, _ := c.tryLogin("city", password); status != http.StatusTooManyRequests {
		t.Errorf("the second wait is not longer than the first: %d", status)
	}
}

func TestEnrolAndBackup(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("city")
	status, body := b.post(office.Prefix+"enrol", url.Values{"csrf": {b.csrf}, "cadre": {e.cadreB.ID.String()}})
	if status != http.StatusOK {
		t.Fatalf("enrol: %d\n%s", status, body)
	}
	m := regexp.MustCompile(`id="code">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no code on the page:\n%s", body)
	}
	if _, cadre, err := e.reg.Enroll(m[1], uuid.New(), "新手机", time.Now()); err != nil || cadre != e.cadreB.ID {
		t.Fatalf("the code from the console does not enrol: %v %v", cadre, err)
	}

	resp, err := b.c.PostForm(e.srv.URL+office.Prefix+"backup", url.Values{"csrf": {b.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), ".db") {
		t.Fatalf("backup: %d %v", resp.StatusCode, resp.Header)
	}
	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := store.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	want, _ := e.db.LastSeq()
	got, _ := restored.LastSeq()
	if got != want || got == 0 {
		t.Errorf("the backup's log ends at %d, the server's at %d", got, want)
	}
}

func TestBoardAndCards(t *testing.T) {
	e := newEnv(t)
	var village, group *domain.Place
	for _, p := range e.demo.Places {
		if p.Level == domain.Village && village == nil {
			village = p
		}
		if p.Level == domain.Group && p.Name == "一社" {
			group = p
		}
	}
	b := e.browser()
	b.login("fuhan")
	status, page := b.get(office.Prefix + "board?village=" + village.ID.String())
	if status != http.StatusOK {
		t.Fatalf("board: %d", status)
	}
	gc := e.demo.GroupCadre
	for _, want := range []string{village.Name + "岗位监督栏", "村两委", "驻村工作队", "包社干部", gc.Name, gc.Phone, "@page"} {
		if !strings.Contains(page, want) {
			t.Errorf("the board lacks %q", want)
		}
	}
	if _, a3 := b.get(office.Prefix + "board?paper=A3&village=" + village.ID.String()); !strings.Contains(a3, "size: A3 landscape") {
		t.Error("the board does not print on A3 when asked")
	}
	resp, err := b.c.Get(e.srv.URL + office.Prefix + "board.pdf?village=" + village.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(pdf, []byte("%PDF-")) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("board.pdf: %d %q", resp.StatusCode, pdf[:min(len(pdf), 8)])
	}
	status, page = b.get(office.Prefix + "cards?village=" + village.ID.String() + "&group=" + group.ID.String())
	if status != http.StatusOK {
		t.Fatalf("cards: %d", status)
	}
	households := 0
	for _, h := range e.demo.Households {
		if h.Group == group.ID {
			households++
		}
	}
	if n := strings.Count(page, `<section class="card">`); n != households || households == 0 {
		t.Errorf("%d cards for the %d households of 一社", n, households)
	}
	// Another town's office cannot print this village.
	o := e.browser()
	o.login("dongqu")
	for _, p := range []string{"board", "board.pdf", "cards"} {
		if status, _ := o.get(office.Prefix + p + "?village=" + village.ID.String()); status != http.StatusNotFound {
			t.Errorf("another town's %s: %d, want 404", p, status)
		}
	}
}

func TestAPIOnlyWithToken(t *testing.T) {
	e := newEnv(t)
	call := func(token, method, path, body string) int {
		req, _ := http.NewRequest(method, e.srv.URL+office.APIPrefix+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	revoke := `{"device":"` + e.devA.String() + `","reason":"lost"}`
	for _, tok := range []string{"", "bfa1.made-up", "bfs1.a-session-is-no-token"} {
		if s := call(tok, "GET", "devices", ""); s != http.StatusUnauthorized {
			t.Errorf("devices with token %q: %d", tok, s)
		}
		if s := call(tok, "POST", "revoke", revoke); s != http.StatusUnauthorized {
			t.Errorf("revoke with token %q: %d", tok, s)
		}
	}
	// A logged-in browser's cookie does not open the API (so no CSRF there).
	b := e.browser()
	b.login("fuhan")
	req, _ := http.NewRequest("POST", e.srv.URL+office.APIPrefix+"revoke", strings.NewReader(revoke))
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the API with a session cookie: %d", resp.StatusCode)
	}
	town2, _ := e.acc.CreateToken("dongqu", time.Now())
	if s := call(town2, "POST", "revoke", revoke); s != http.StatusNotFound {
		t.Errorf("another town's token revoking: %d, want 404", s)
	}
	if s := call(town2, "GET", "backup", ""); s != http.StatusForbidden {
		t.Errorf("a town's token downloading the backup: %d, want 403", s)
	}
	if e.revoked(e.devA) {
		t.Fatal("revoked without the right token")
	}
	town1, _ := e.acc.CreateToken("fuhan", time.Now())
	if s := call(town1, "POST", "revoke", revoke); s != http.StatusOK || !e.revoked(e.devA) {
		t.Errorf("revoke with the town's token: %d", s)
	}
	if err := e.acc.DisableAccount("fuhan", time.Now()); err != nil {
		t.Fatal(err)
	}
	if s := call(town1, "GET", "devices", ""); s != http.StatusUnauthorized {
		t.Errorf("a disabled account's token: %d", s)
	}
}

func TestAccountsPage(t *testing.T) {
	e := newEnv(t)
	town := e.browser()
	town.login("dongqu")
	_, page := town.get(office.Prefix + "accounts")
	if !strings.Contains(page, "dongqu") || strings.Contains(page, "fuhan") || strings.Contains(page, `action="/office/accounts/add"`) {
		t.Errorf("a town office's accounts page:\n%s", page)
	}
	if status, _ := town.post(office.Prefix+"accounts/add", url.Values{"csrf": {town.csrf}, "name": {"x"},
		"place": {e.town2.ID.String()}, "password": {"long enough pw"}}); status != http.StatusForbidden {
		t.Errorf("a town office making accounts: %d", status)
	}
	// A wrong current password changes nothing; the right one logs out.
	if status, _ := town.post(office.Prefix+"accounts/password", url.Values{"csrf": {town.csrf}, "old": {"wrong one!"},
		"new": {"a new password"}, "again": {"a new password"}}); status != http.StatusUnauthorized {
		t.Errorf("password change with a wrong current one: %d", status)
	}
	status, where := town.post(office.Prefix+"accounts/password", url.Values{"csrf": {town.csrf}, "old": {password},
		"new": {"a new password"}, "again": {"a new password"}})
	if status != http.StatusSeeOther || where != office.Prefix+"login" {
		t.Fatalf("password change: %d %s", status, where)
	}
	if status, _ := town.get(office.Prefix + "devices"); status != http.StatusSeeOther {
		t.Error("the session survived the password change")
	}
	if err := e.acc.CheckPassword("dongqu", "a new password"); err != nil {
		t.Error(err)
	}
	city := e.browser()
	city.login("city")
	if status, where := city.post(office.Prefix+"accounts/add", url.Values{"csrf": {city.csrf}, "name": {"dongqu2"},
		"display": {"东区二号"}, "place": {e.town2.ID.String()}, "password": {"long enough pw"}}); status != http.StatusSeeOther {
		t.Fatalf("the city making an account: %d %s", status, where)
	}
	n := e.browser()
	if status, _ := n.tryLogin("dongqu2", "long enough pw"); status != http.StatusSeeOther {
		t.Fatalf("the new account cannot log in: %d", status)
	}
	if _, page := n.get(office.Prefix); !strings.Contains(page, "红园村") || strings.Contains(page, "王坪村") {
		t.Error("the new account does not see its town only")
	}
}

// reason returns why dev was revoked, as the device registry holds it.
func (e *env) reason(dev uuid.UUID) replica.Reason {
	devs, err := e.reg.Devices()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, d := range devs {
		if d.ID == dev {
			return d.Reason
		}
	}
	e.t.Fatalf("device %s not found", dev)
	return ""
}

// TestRevokeKeepsReason: the reason chosen in the console or given to the API
// reaches the device registry (which decides whether the phone wipes), not
// only the audit log.
func TestRevokeKeepsReason(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("fuhan")
	if status, where := b.post(office.Prefix+"devices/revoke", url.Values{"csrf": {b.csrf}, "device": {e.devA.String()}, "reason": {"replaced"}}); status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", status, where)
	}
	if r := e.reason(e.devA); r != replica.Replaced {
		t.Errorf("console revoke as replaced: the device holds reason %q", r)
	}
	tok, err := e.acc.CreateToken("city", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+office.APIPrefix+"revoke", strings.NewReader(`{"device":"`+e.devB.String()+`","reason":"replaced"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API revoke: %d", resp.StatusCode)
	}
	if r := e.reason(e.devB); r != replica.Replaced {
		t.Errorf("API revoke as replaced: the device holds reason %q", r)
	}
	// A replaced phone that goes missing before its last push is declared lost.
	if status, _ := b.post(office.Prefix+"devices/revoke", url.Values{"csrf": {b.csrf}, "device": {e.devA.String()}, "reason": {"lost"}}); status != http.StatusSeeOther {
		t.Fatalf("revoke as lost: %d", status)
	}
	if r := e.reason(e.devA); r != replica.Lost {
		t.Errorf("console revoke as lost after replaced: the device holds reason %q", r)
	}
}

// TestAPIBoardAndCards: the API prints a village's board and cards by the
// village's name, within the token's scope only.
func TestAPIBoardAndCards(t *testing.T) {
	e := newEnv(t)
	get := func(tok, path string) (int, []byte) {
		req, _ := http.NewRequest("GET", e.srv.URL+office.APIPrefix+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	town1, _ := e.acc.CreateToken("fuhan", time.Now())
	town2, _ := e.acc.CreateToken("dongqu", time.Now())
	v := url.QueryEscape(e.demo.Village.Name)
	for _, p := range []string{"board.pdf?village=" + v, "cards.pdf?village=" + v + "&group=" + url.QueryEscape("一社"),
		"board.pdf?village=" + e.demo.Village.ID.String()} {
		if s, b := get(town1, p); s != http.StatusOK || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s with the town's token: %d %.80s", p, s, b)
		}
		if s, _ := get(town2, p); s != http.StatusNotFound {
			t.Errorf("%s with another town's token: %d, want 404", p, s)
		}
	}
	if s, _ := get("", "board.pdf?village="+v); s != http.StatusUnauthorized {
		t.Errorf("board.pdf without a token: %d", s)
	}
}

// TestSettings: a town office changes its village's rules on the settings
// page; the place's record holds them (so devices receive them by sync), the
// overview's gaps follow, bad values are refused with a clear message, the
// form needs its CSRF token, and another town's office can neither see nor
// change them.
func TestSettings(t *testing.T) {
	e := newEnv(t)
	v := e.demo.Village.ID.String()
	gapsRe := regexp.MustCompile(`<td class="n">(\d+)</td>\s*<td><a href="/office/board\?village=` + v)
	gaps := func(b *browser) string {
		_, home := b.get(office.Prefix)
		m := gapsRe.FindStringSubmatch(home)
		if m == nil {
			t.Fatalf("the overview has no gaps for the village:\n%s", home)
		}
		return m[1]
	}
	b := e.browser()
	b.login("fuhan")
	before := gaps(b)
	status, page := b.get(office.Prefix + "settings?place=" + v)
	if status != http.StatusOK || !strings.Contains(page, `name="county"`) || !strings.Contains(page, "王坪村") {
		t.Fatalf("settings page: %d\n%s", status, page)
	}
	form := func(county, overdue string) url.Values {
		return url.Values{"csrf": {b.csrf}, "place": {v}, "county": {county}, "section": {"2"}, "other": {"1"},
			"stationed": {"80"}, "overdue_days": {overdue}, "backdate_days": {"10"}, "correct_days": {"5"}, "photos": {"4"}, "statuses": {"registered", "lifted", "monitored"},
			"approvers": {"first_secretary", "team_leader"}}
	}
	for _, bad := range []struct{ county, overdue, want string }{
		{"3", "0", "走访提醒天数应在 1 到 365 之间"},
		{"abc", "30", "应是整数"},
		{"101", "30", "结对户数应在 0 到 100 之间"},
	} {
		if status, body := b.post(office.Prefix+"settings", form(bad.county, bad.overdue)); status != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("county %s overdue %s: %d, want 400 with %q", bad.county, bad.overdue, status, bad.want)
		}
	}
	noCSRF := form("9", "30")
	noCSRF.Del("csrf")
	if status, _ := b.post(office.Prefix+"settings", noCSRF); status != http.StatusForbidden {
		t.Errorf("settings without the CSRF token: %d, want 403", status)
	}
	other := e.browser()
	other.login("dongqu")
	if status, _ := other.get(office.Prefix + "settings?place=" + v); status != http.StatusNotFound {
		t.Errorf("another town reading the village's settings: %d, want 404", status)
	}
	f2 := form("9", "30")
	f2.Set("csrf", other.csrf)
	if status, _ := other.post(office.Prefix+"settings", f2); status != http.StatusNotFound {
		t.Errorf("another town changing the village's settings: %d, want 404", status)
	}
	if r, _ := e.db.Rules(e.demo.Village.ID); r.County == 9 {
		t.Fatal("another town's office changed the village's rules")
	}
	// Ordinary households now need the three levels too: more gaps.
	save := form("9", "45")
	save["statuses"] = append(save["statuses"], "ordinary")
	if status, where := b.post(office.Prefix+"settings", save); status != http.StatusSeeOther || !strings.Contains(where, "saved=1") {
		t.Fatalf("save: %d %s", status, where)
	}
	r, err := e.db.Rules(e.demo.Village.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := e.db.Get(domain.KindPlace, e.demo.Village.ID)
	if r.County != 9 || r.OverdueDays != 45 || r.BackdateDays != 10 || r.CorrectDays != 5 || r.PhotoLimit() != 4 || rec.(*domain.Place).Rules == nil {
		t.Errorf("the village's rules after saving: %+v", r)
	}
	if after := gaps(b); after == before {
		t.Errorf("the overview's gaps stay %s after ordinary households need the three levels", after)
	}
	_, audit := b.get(office.Prefix + "audit")
	if !strings.Contains(audit, "修改帮扶规则") || !strings.Contains(audit, "county=9") {
		t.Error("the audit log lacks the settings change")
	}
	// Back to the inherited rules.
	if status, _ := b.post(office.Prefix+"settings", url.Values{"csrf": {b.csrf}, "place": {v}, "inherit": {"1"}}); status != http.StatusSeeOther {
		t.Fatalf("inherit: %d", status)
	}
	if r, _ := e.db.Rules(e.demo.Village.ID); r.County == 9 || gaps(b) != before {
		t.Errorf("after inheriting again: %+v, gaps %s (before %s)", r, gaps(b), before)
	}
}

// TestUnlockCode: a town office makes an unlock code for a device of its
// town whose key the server keeps, shown on the page and not in a URL; a
// device of another town is unknown to it; the audit log records it.
func TestUnlockCode(t *testing.T) {
	e := newEnv(t)
	if err := e.reg.Deposit(e.devA, []byte("sealed"), time.Now()); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("fuhan")
	if status, _ := b.post(office.Prefix+"devices/unlock", url.Values{"csrf": {b.csrf}, "device": {e.devB.String()}}); status != http.StatusNotFound {
		t.Errorf("an unlock code for another town's device: %d, want 404", status)
	}
	status, body := b.post(office.Prefix+"devices/unlock", url.Values{"csrf": {b.csrf}, "device": {e.devA.String()}})
	m := regexp.MustCompile(`unlock code for device [^:]*: ([0-9A-Z]{4}-[0-9A-Z]{4})`).FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("unlock: %d, no code in the page", status)
	}
	if sealed, _, err := e.reg.Release(e.devA, uuid.Nil, m[1], time.Now()); err != nil || string(sealed) != "sealed" {
		t.Errorf("the code does not release the key: %v", err)
	}
	if status, _ := b.post(office.Prefix+"devices/unlock", url.Values{"device": {e.devA.String()}}); status != http.StatusForbidden {
		t.Errorf("an unlock code without the form's token: %d, want 403", status)
	}
	_, audit := b.get(office.Prefix + "audit")
	if !strings.Contains(audit, "生成解锁码") || !strings.Contains(audit, e.devA.String()) {
		t.Error("the audit log lacks the unlock code")
	}

	// The API (bangfud unlock -server): the same, by ID prefix.
	api := func(token, body string) (int, office.APICode) {
		req, _ := http.NewRequest("POST", e.srv.URL+office.APIPrefix+"unlock", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c office.APICode
		json.NewDecoder(resp.Body).Decode(&c)
		return resp.StatusCode, c
	}
	town1, _ := e.acc.CreateToken("fuhan", time.Now())
	if s, _ := api(town1, `{"device":"`+e.devB.String()[:8]+`"}`); s != http.StatusNotFound {
		t.Errorf("an API unlock code for another town's device: %d, want 404", s)
	}
	s, c := api(town1, `{"device":"`+e.devA.String()[:8]+`"}`)
	if s != http.StatusOK || c.Cadre != e.demo.GroupCadre.ID {
		t.Fatalf("API unlock: %d %+v", s, c)
	}
	if _, _, err := e.reg.Release(e.devA, uuid.Nil, c.Code, time.Now()); err != nil {
		t.Errorf("the API's code does not release the key: %v", err)
	}
}
