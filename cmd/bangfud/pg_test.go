package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/internal/pgtest"
)

// TestServePostgres runs two bangfud serve -db instances on one
// PostgreSQL database: the first loads the demo village, the second does
// not load it again; a phone enrolled at one syncs at the other with the
// cursor the first gave it; the office console works across the instances
// (consoleAcrossInstances); enroll -db issues a code for a cadre by name.
func TestServePostgres(t *testing.T) {
	pg, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	url, err := pg.NewDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dirA := t.TempDir()
	a := startServer(t, "-addr", "127.0.0.1:0", "-db", url, "-demo", "-data", dirA)
	codes := a.codes()
	if len(codes) != 2 || !strings.Contains(a.output(), "writing demo data") {
		t.Fatalf("the first instance: codes %v\n%s", codes, a.output())
	}
	b := startServer(t, "-addr", "127.0.0.1:0", "-db", url, "-demo", "-data", t.TempDir(),
		"-escrow-key", filepath.Join(dirA, "escrow.key"))
	if c := b.codes(); len(c) != 2 || strings.Contains(b.output(), "writing demo data") {
		t.Errorf("the second instance loaded the demo again, or printed codes %v:\n%s", c, b.output())
	}

	code, body := post(t, a.url+"/v1/enroll", "", map[string]any{"v": 1, "code": codes[0], "name": "测试手机", "device": uuid.New()})
	if code != http.StatusOK {
		t.Fatalf("enroll: %d %s", code, body)
	}
	var enrolled struct{ Token string }
	if err := json.Unmarshal(body, &enrolled); err != nil || enrolled.Token == "" {
		t.Fatalf("enroll answer %s: %v", body, err)
	}
	// A first sync at one instance, on at the other, until it has it all.
	cursor, pulled, srvs := "", 0, []*server{a, b}
	for i := 0; ; i++ {
		req, _ := json.Marshal(map[string]any{"v": 1, "cursor": cursor, "through": 0, "changes": []any{}})
		code, body := post(t, srvs[i%2].url+"/v1/sync", enrolled.Token, json.RawMessage(req))
		if code != http.StatusOK {
			t.Fatalf("sync %d at instance %d: %d %.300s", i, i%2, code, body)
		}
		var resp struct {
			Cursor         string
			More           bool
			State, Changes []json.RawMessage
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatal(err)
		}
		cursor, pulled = resp.Cursor, pulled+len(resp.State)+len(resp.Changes)
		if !resp.More {
			break
		}
		if i == 50 {
			t.Fatal("the first sync does not end")
		}
	}
	if pulled < 252 {
		t.Errorf("the group cadre's phone pulled %d changes", pulled)
	}

	consoleAcrossInstances(t, url, a, b)

	r := must(t, "enroll", "-db", url, "-cadre", "刘荣生")
	if !strings.Contains(r.stdout, "注册码 / enrolment code:") {
		t.Errorf("enroll -db: %s", r)
	}
	for _, s := range srvs {
		if code := s.stop(syscall.SIGTERM); code != 0 {
			t.Errorf("serve -db exited %d after SIGTERM:\n%s", code, s.output())
		}
	}
}

// TestEscrowAcrossInstances deposits a phone's data key through one serve
// -db instance and releases it through another: the instances share the
// escrow key file. An instance started without that file, or with another
// key, refuses to start, and the database holds no key that opens a
// deposit.
func TestEscrowAcrossInstances(t *testing.T) {
	pg, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	url, err := pg.NewDB(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dirA := t.TempDir()
	a := startServer(t, "-addr", "127.0.0.1:0", "-db", url, "-demo", "-data", dirA)
	codes := a.codes()
	if len(codes) != 2 {
		t.Fatalf("codes %v\n%s", codes, a.output())
	}
	keyFile := filepath.Join(dirA, "escrow.key")
	escrowKey, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	// Started with an escrow key of its own, or none, an instance would
	// seal keys no other instance opens: it does not start.
	other := filepath.Join(t.TempDir(), "escrow.key")
	if err := os.WriteFile(other, make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	bare := t.TempDir()
	for _, args := range [][]string{{"-data", bare}, {"-escrow-key", other}} {
		r := run(t, append([]string{"serve", "-addr", "127.0.0.1:0", "-db", url}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "escrow key") || !strings.Contains(r.stderr, "保管密钥") {
			t.Errorf("serve -db %v with another escrow key: %s", args, r)
		}
	}
	if _, err := os.Stat(filepath.Join(bare, "escrow.key")); err == nil {
		t.Error("a refused instance made an escrow key")
	}
	b := startServer(t, "-addr", "127.0.0.1:0", "-db", url, "-data", t.TempDir(), "-escrow-key", keyFile)

	device := uuid.New()
	code, body := post(t, a.url+"/v1/enroll", "", map[string]any{"v": 1, "code": codes[0], "name": "测试手机", "device": device})
	if code != http.StatusOK {
		t.Fatalf("enroll: %d %s", code, body)
	}
	var enrolled struct{ Token string }
	if err := json.Unmarshal(body, &enrolled); err != nil || enrolled.Token == "" {
		t.Fatalf("enroll answer %s: %v", body, err)
	}
	dataKey := []byte("0123456789abcdef0123456789abcdef")
	if code, body := post(t, a.url+"/v1/escrow", enrolled.Token, map[string]any{"v": 1, "key": dataKey}); code != http.StatusOK {
		t.Fatalf("deposit at A: %d %s", code, body)
	}
	// The database holds the sealed key and the escrow key's ID, neither
	// the data key nor the escrow key.
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var sealed, id []byte
	if err := conn.QueryRow(context.Background(), `SELECT sealed FROM escrow WHERE device = $1`, device.String()).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(context.Background(), `SELECT id FROM escrow_key`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{sealed, id} {
		if bytes.Contains(b, dataKey) || bytes.Contains(b, escrowKey) {
			t.Errorf("the database holds a key in the clear: %x", b)
		}
	}

	// A forgotten PIN: the office issues an unlock code on the database,
	// the locked phone sends it with its ID to the other instance.
	r := must(t, "unlock", "-db", url, device.String())
	unlock := regexp.MustCompile(`解锁码 / unlock code: (\S+)`).FindStringSubmatch(r.stdout)
	if unlock == nil {
		t.Fatalf("unlock -db: %s", r)
	}
	code, body = post(t, b.url+"/v1/escrow/release", "", map[string]any{"v": 1, "device": device, "code": unlock[1]})
	if code != http.StatusOK {
		t.Fatalf("release at B: %d %s\n%s", code, body, b.output())
	}
	var released struct{ Key []byte }
	if err := json.Unmarshal(body, &released); err != nil || !bytes.Equal(released.Key, dataKey) {
		t.Fatalf("B released %x (%v), want the key deposited at A", released.Key, err)
	}
	// Used up: the same code releases nothing at A.
	if code, body := post(t, a.url+"/v1/escrow/release", "", map[string]any{"v": 1, "device": device, "code": unlock[1]}); code == http.StatusOK {
		t.Errorf("the unlock code released the key twice: %s", body)
	}
	var audited int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM audit WHERE action = 'unlock-code'`).Scan(&audited); err != nil || audited != 1 {
		t.Errorf("unlock -db audited %d times (%v)", audited, err)
	}
	for _, s := range []*server{a, b} {
		if code := s.stop(syscall.SIGTERM); code != 0 {
			t.Errorf("serve -db exited %d after SIGTERM:\n%s", code, s.output())
		}
	}
}

// consoleAcrossInstances uses the office console of two serve -db
// instances a and b on one database: an account made with account add -db
// logs in at A and its session is valid at B; B's overview shows the demo
// village from its mirror; an enrolment code made at A enrols a phone
// through B; the phone revoked at B is refused at A; settings saved and a
// roster imported at B are A's; both instances' audit pages show what was
// done; failed logins at A bar a guess at B.
func consoleAcrossInstances(t *testing.T, url string, a, b *server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	add := exec.CommandContext(ctx, bin, "account", "add", "-db", url, "-name", "city", "-place", "临夏市", "-display", "市办", "-ids")
	add.Stdin = strings.NewReader("a long enough password\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("account add -db: %v\n%s", err, out)
	}
	if out := must(t, "account", "list", "-db", url).stdout; !strings.Contains(out, "临夏市") || !strings.Contains(out, "市办") {
		t.Fatalf("account list -db:\n%s", out)
	}
	jarA, _ := cookiejar.New(nil)
	jarB, _ := cookiejar.New(nil)
	ca, cb := &http.Client{Jar: jarA}, &http.Client{Jar: jarB}
	get := func(c *http.Client, s *server, path string) string {
		t.Helper()
		resp, err := c.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	csrfRe := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	postForm := func(c *http.Client, s *server, path string, form neturl.Values) string {
		t.Helper()
		resp, err := c.PostForm(s.url+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d\n%s", path, resp.StatusCode, body)
		}
		return string(body)
	}
	login := get(ca, a, "/office/login")
	postForm(ca, a, "/office/login", neturl.Values{"csrf": {csrfRe.FindStringSubmatch(login)[1]},
		"name": {"city"}, "password": {"a long enough password"}})
	au, _ := neturl.Parse(a.url + "/office/")
	bu, _ := neturl.Parse(b.url + "/office/")
	jarB.SetCookies(bu, jarA.Cookies(au))
	home := get(cb, b, "/office/")
	if !strings.Contains(home, "王坪村") || !strings.Contains(home, "252") || !strings.Contains(home, "市办") {
		t.Fatalf("B's overview, with A's session, lacks the demo village or the account:\n%s", home)
	}

	// An enrolment code made at A enrols a phone through B.
	enrol := get(ca, a, "/office/enrol")
	m := regexp.MustCompile(`<option value="([0-9a-f-]{36})">刘荣生`).FindStringSubmatch(enrol)
	if m == nil {
		t.Fatalf("the enrol page lacks the cadre 刘荣生:\n%s", enrol)
	}
	page := postForm(ca, a, "/office/enrol", neturl.Values{"csrf": {csrfRe.FindStringSubmatch(enrol)[1]}, "cadre": {m[1]}})
	code := regexp.MustCompile(`id="code">([2-9A-Z]{4}-[2-9A-Z]{4})<`).FindStringSubmatch(page)
	if code == nil {
		t.Fatalf("no enrolment code on the page:\n%s", page)
	}
	device := uuid.New()
	status, body := post(t, b.url+"/v1/enroll", "", map[string]any{"v": 1, "code": code[1], "name": "办公室登记的手机", "device": device})
	if status != http.StatusOK {
		t.Fatalf("enrol through B with A's code: %d %s", status, body)
	}
	var enrolled struct{ Token string }
	if err := json.Unmarshal(body, &enrolled); err != nil || enrolled.Token == "" {
		t.Fatalf("enroll answer %s: %v", body, err)
	}
	sync := func(s *server) (int, []byte) {
		return post(t, s.url+"/v1/sync", enrolled.Token, map[string]any{"v": 1, "cursor": "", "through": 0, "changes": []any{}})
	}
	if status, body := sync(a); status != http.StatusOK {
		t.Fatalf("the phone syncs at A: %d %.300s", status, body)
	}

	// Revoked at B, refused at A.
	devices := get(cb, b, "/office/devices")
	if !strings.Contains(devices, "办公室登记的手机") {
		t.Fatalf("B's devices page lacks the phone:\n%s", devices)
	}
	postForm(cb, b, "/office/devices/revoke", neturl.Values{"csrf": {csrfRe.FindStringSubmatch(devices)[1]},
		"device": {device.String()}, "reason": {"lost"}})
	if status, body := sync(a); status != http.StatusUnauthorized {
		t.Errorf("the phone revoked at B syncs at A: %d %.300s", status, body)
	}

	// Settings saved at B are A's: they go through the shared log.
	settings := get(cb, b, "/office/settings")
	form := neturl.Values{"csrf": {csrfRe.FindStringSubmatch(settings)[1]}}
	for _, in := range regexp.MustCompile(`<input type="(?:hidden|number)" name="([a-z_]+)"[^>]*value="([^"]*)"`).FindAllStringSubmatch(settings, -1) {
		if in[1] != "csrf" {
			form.Set(in[1], in[2])
		}
	}
	for _, sel := range regexp.MustCompile(`<input type="checkbox" name="([a-z_]+)" value="([^"]*)" checked`).FindAllStringSubmatch(settings, -1) {
		form.Add(sel[1], sel[2])
	}
	form.Set("overdue_days", "23")
	postForm(cb, b, "/office/settings", form)
	if got := get(ca, a, "/office/settings?place="+form.Get("place")); !strings.Contains(got, `value="23"`) {
		t.Errorf("A's settings page lacks the rules saved at B (form %v):\n%s", form, got)
	}

	// A roster checked at B and confirmed at A (a load balancer may send
	// them to either) is on both overviews: the file was kept in the
	// database, the records went into the shared log. A bad file's marked
	// copy downloads from either.
	c := logIn(t, b.url, "city", "a long enough password")
	bad, err := os.ReadFile(filepath.Join("testdata", "roster_bad.csv"))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`href="(/office/import/marked\?token=[^"]+)"`).FindStringSubmatch(c.upload("roster_bad.csv", bad))
	if link == nil {
		t.Fatal("no link to the marked workbook at B")
	}
	if marked := c.do(c.c.Get(a.url + strings.ReplaceAll(link[1], "&amp;", "&"))); !strings.HasPrefix(marked, "PK") {
		t.Errorf("the marked workbook made at B, from A: %.200q", marked)
	}
	good, err := os.ReadFile(filepath.Join("testdata", "roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	page = c.upload("roster.csv", good)
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)
	if tok == nil {
		t.Fatalf("the roster cannot be applied at B:\n%s", page)
	}
	if page = c.do(c.c.PostForm(a.url+"/office/import/apply", neturl.Values{"csrf": {c.csrf}, "token": {tok[1]}})); !strings.Contains(page, `id="applied"`) {
		t.Fatalf("checked at B, not applied at A:\n%s", page)
	}
	for _, s := range []*server{a, b} {
		if home := c.do(c.c.Get(s.url + "/office/")); !strings.Contains(home, "李家村") {
			t.Errorf("the imported village is not on the overview of %s", s.url)
		}
	}

	// The monthly workbook, from B's mirror.
	if xlsx := get(cb, b, "/office/export.xlsx"); !strings.HasPrefix(xlsx, "PK") || len(xlsx) < 10000 {
		t.Errorf("the workbook from B: %d bytes", len(xlsx))
	}

	// The console's backup is bbolt's: on PostgreSQL it says what to use.
	resp, err := cb.PostForm(b.url+"/office/backup", neturl.Values{"csrf": {csrfRe.FindStringSubmatch(home)[1]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "pg_dump") {
		t.Errorf("backup on PostgreSQL: %d %s", resp.StatusCode, body)
	}

	// Both instances' audit pages show what was done at either (below),
	// and failed logins at A slow down the guesser at B.
	guess := func(s *server) int {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		g := &http.Client{Jar: jar}
		resp, err := g.Get(s.url + "/office/login")
		if err != nil {
			t.Fatal(err)
		}
		form, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp, err = g.PostForm(s.url+"/office/login", neturl.Values{"csrf": {csrfRe.FindStringSubmatch(string(form))[1]},
			"name": {"city"}, "password": {"not the password"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 5 {
		if code := guess(a); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d at A: %d", i+1, code)
		}
	}
	if code := guess(b); code != http.StatusTooManyRequests {
		t.Errorf("a guess at B after 5 failures at A: %d, want 429", code)
	}
	for _, s := range []*server{a, b} {
		audit := get(map[*server]*http.Client{a: ca, b: cb}[s], s, "/office/audit")
		for _, want := range []string{"登录 log in", "生成注册码 enrolment code", "注销设备 revoke device", "办公室登记的手机", "市办", "roster.csv"} {
			if !strings.Contains(audit, want) {
				t.Errorf("the audit page at %s lacks %q:\n%s", s.url, want, audit)
			}
		}
	}
}
