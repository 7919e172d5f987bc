package main_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
	"bangfu/store/query"
	"bangfu/sync/client"
)

// account runs `bangfud account add` with the password on stdin.
func addAccount(t *testing.T, dir, name, place, password string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"account", "add", "-data", dir, "-name", name, "-place", place}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bangfud %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestConsoleOnServePort: the console runs in the server, on its port, on
// the store the server holds, with an account made on the command line.
func TestConsoleOnServePort(t *testing.T) {
	dir := demoDir(t)
	if r := run(t, "account", "add", "-data", dir, "-name", "x", "-place", "没有这个镇"); r.code == 0 {
		t.Fatalf("an account for an unknown place was made: %s", r)
	}
	addAccount(t, dir, "city", "临夏市", "a long enough password", "-display", "市办")
	if out := must(t, "account", "list", "-data", dir).stdout; !strings.Contains(out, "临夏市") || !strings.Contains(out, "市办") {
		t.Fatalf("account list:\n%s", out)
	}
	s := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) string {
		resp, err := c.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	// "/" leads a browser to the login page; the sync server still answers.
	if page := get("/"); !strings.Contains(page, "登录") {
		t.Fatalf("GET / does not lead to the login page:\n%s", page)
	}
	if h := get("/healthz"); !strings.Contains(h, "ok") {
		t.Fatalf("healthz: %s", h)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(get("/office/login"))
	resp, err := c.PostForm(s.url+"/office/login", neturl.Values{"csrf": {m[1]}, "name": {"city"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if home := get("/office/"); !strings.Contains(home, "王坪村") || !strings.Contains(home, "252") {
		t.Fatalf("the console's overview lacks the demo village:\n%s", home)
	}
	// The workbook from the console: every sheet, ID numbers masked for an
	// account without -ids.
	f, err := excelize.OpenReader(strings.NewReader(get("/office/export.xlsx")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if len(f.GetSheetList()) != len(report.Sheets) {
		t.Errorf("console workbook sheets %v", f.GetSheetList())
	}
	roster, _ := f.GetRows(report.SheetPairs)
	if len(roster) != report.HeaderRow+252 {
		t.Fatalf("the console's pairing roster has %d rows", len(roster))
	}
	for _, r := range roster[report.HeaderRow:] {
		if id := r[7]; id != "" && !strings.HasPrefix(id, "**************") {
			t.Fatalf("an ID number %q is not masked", id)
		}
	}
}

// TestLedgerHoldsProblemEscalatedFromPhone: a group cadre's phone records a
// visit that finds a problem and escalates it to the town; it syncs through
// the real server; the month's workbook lists the problem in the ledger
// (问题台账) with who found it, who escalated it, when, and its state, and
// the visit names the problem it found.
func TestLedgerHoldsProblemEscalatedFromPhone(t *testing.T) {
	dir := demoDir(t)
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir, "-demo")
	codes := srv.codes()
	if len(codes) == 0 {
		t.Fatalf("no enrolment code:\n%s", srv.output())
	}
	phone, err := store.Open(filepath.Join(t.TempDir(), "phone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	c, err := client.New(phone, client.Options{URL: srv.url})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Enroll(ctx, srv.url, codes[0], "测试手机"); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	cadre := c.Status().Cadre
	now := phone.Now()
	mine, err := query.MyHouseholds(phone, cadre, now)
	if err != nil || len(mine) == 0 {
		t.Fatalf("the phone holds no households of its cadre: %v", err)
	}
	h := mine[0]
	visit := &domain.Visit{Meta: domain.Meta{ID: uuid.New()}, Household: h.ID, Cadre: cadre, At: now.Add(-time.Hour),
		Type: domain.VisitRoutine, Notes: "院墙开裂，户主担心雨季倒塌"}
	problem := &domain.Problem{Meta: domain.Meta{ID: uuid.New()}, Household: h.ID, Visit: visit.ID,
		Text: "院墙开裂需加固（手机上报）", Status: domain.ProblemTown, ReportedBy: cadre, ReportedAt: now}
	if err := phone.Put(cadre, visit, problem); err != nil {
		t.Fatal(err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := c.Status().Pending; n != 0 {
		t.Fatalf("%d changes not pushed", n)
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("server exit %d", code)
	}

	out := filepath.Join(t.TempDir(), "月报.xlsx")
	must(t, "export", "-data", dir, "-o", out, "-month", now.In(report.China).Format("2006-01"))
	rows := sheetRows(t, out)
	cadreName := ""
	db := openDB(t, dir)
	if r, err := db.Get(domain.KindCadre, cadre); err == nil {
		cadreName = r.(*domain.Cadre).Name
	}
	db.Close()
	var found []string
	for _, r := range rows["问题台账"][1:] {
		if len(r) > 9 && r[9] == problem.Text {
			found = r
		}
	}
	if found == nil {
		t.Fatalf("the ledger lacks the problem escalated from the phone; it has %d rows", len(rows["问题台账"])-1)
	}
	if found[5] != h.HeadName || found[7] != h.ID.String() || found[10] != cadreName || found[11] != "已上报镇" ||
		found[12] != cadreName || found[13] != now.In(report.China).Format("2006-01-02") {
		t.Errorf("ledger row %q (cadre %s)", found, cadreName)
	}
	var visitRow []string
	notes, found2 := slices.Index(rows["走访记录"][0], "村情户情民情"), slices.Index(rows["走访记录"][0], "发现问题")
	for _, r := range rows["走访记录"][1:] {
		if notes >= 0 && len(r) > notes && r[notes] == visit.Notes {
			visitRow = r
		}
	}
	if visitRow == nil || found2 < 0 || len(visitRow) <= found2 || visitRow[found2] != problem.Text {
		t.Errorf("the visit row %q does not name the problem it found", visitRow)
	}
}

// runEnv runs the binary with extra environment variables.
func runEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// token makes an API token for an account on a stopped data directory.
func token(t *testing.T, dir, name string) []string {
	t.Helper()
	return []string{"BANGFUD_TOKEN=" + strings.TrimSpace(must(t, "account", "token", "-data", dir, "-name", name).stdout)}
}

// TestBackupOfRunningServerAndRestore: bangfud backup -server copies the
// running server's store through the console API; bangfud restore puts it
// back on the stopped server with a new epoch, keeping the store it replaces.
func TestBackupOfRunningServerAndRestore(t *testing.T) {
	dir := demoDir(t)
	addAccount(t, dir, "city", "临夏市", "a long enough password", "-ids")
	addAccount(t, dir, "citymasked", "临夏市", "a long enough password")
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password")
	city, town := token(t, dir, "city"), token(t, dir, "fuhan")
	masked := token(t, dir, "citymasked")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	out := filepath.Join(t.TempDir(), "backup.db")
	if r := run(t, "backup", "-data", dir, "-o", out); r.code != 3 {
		t.Errorf("backup -data of a running server: %s", r)
	}
	if r := runEnv(t, town, "backup", "-server", srv.url, "-o", out); r.code == 0 {
		t.Errorf("a town account downloaded the whole city: %s", r)
	}
	if r := runEnv(t, masked, "backup", "-server", srv.url, "-o", out); r.code == 0 || !strings.Contains(r.stderr, "whole ID") {
		t.Errorf("a city account without whole IDs downloaded a backup: %s", r)
	}
	if r := runEnv(t, []string{"BANGFUD_TOKEN=bfa1.made-up"}, "backup", "-server", srv.url, "-o", out); r.code == 0 {
		t.Errorf("a made-up token downloaded a backup: %s", r)
	}
	if r := runEnv(t, city, "backup", "-server", srv.url, "-o", out); r.code != 0 {
		t.Fatalf("backup -server: %s", r)
	}
	if r := run(t, "restore", "-data", dir, out); r.code != 3 {
		t.Errorf("restore on a running server: %s", r)
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	db := openDB(t, dir)
	want, _ := db.LastSeq()
	db.Close()
	r := must(t, "restore", "-data", dir, out)
	if !strings.Contains(r.stdout, "before-restore") {
		t.Errorf("restore does not say where the old store is kept:\n%s", r.stdout)
	}
	db = openDB(t, dir)
	defer db.Close()
	got, _ := db.LastSeq()
	epoch, _ := db.Epoch()
	if got != want || epoch == 0 {
		t.Errorf("restored log to %d (want %d), epoch %d (want a new one)", got, want, epoch)
	}
	if accts, _ := office.NewBoltAccounts(db).Accounts(); len(accts) != 3 {
		t.Errorf("the restored store has %d accounts", len(accts))
	}
}

// TestBoardAndCardsPDF: the PDFs hold their Chinese and their digits as
// text (checked with pdftotext when poppler-utils is installed).
func TestBoardAndCardsPDF(t *testing.T) {
	dir := demoDir(t)
	out := t.TempDir()
	board, cards := filepath.Join(out, "board.pdf"), filepath.Join(out, "cards.pdf")
	must(t, "board", "-data", dir, "-village", "王坪村", "-o", board)
	must(t, "cards", "-data", dir, "-village", "王坪村", "-group", "一社", "-o", cards)
	if r := run(t, "cards", "-data", dir, "-village", "王坪村", "-group", "十九社", "-o", cards); r.code != 1 {
		t.Errorf("cards of an unknown group: %s", r)
	}
	db := openDB(t, dir)
	var phone string
	db.Each(domain.KindCadre, func(r domain.Record) error {
		if c := r.(*domain.Cadre); c.Name == "罗华春" {
			phone = c.Phone
		}
		return nil
	})
	db.Close()
	for _, f := range []string{board, cards} {
		b, err := os.ReadFile(f)
		if err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Fatalf("%s is not a PDF: %v", f, err)
		}
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed: the text of the PDFs is not checked")
	}
	text := func(f string) string {
		out, err := exec.Command("pdftotext", "-layout", f, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	bt := text(board)
	for _, want := range []string{"王坪村岗位监督栏", "村两委", "包社干部", "一社", "罗华春", phone} {
		if !strings.Contains(bt, want) {
			t.Errorf("the board PDF lacks %q:\n%s", want, bt)
		}
	}
	if ct := text(cards); strings.Count(ct, "帮扶明白卡") != 28 || !strings.Contains(ct, "罗华春") || !strings.Contains(ct, phone) {
		t.Errorf("the cards PDF of 一社 (28 households) holds %d cards:\n%.600s", strings.Count(ct, "帮扶明白卡"), ct)
	}
}

// console is a logged-in client of a running server's console.
type console struct {
	t    *testing.T
	url  string
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func logIn(t *testing.T, url, name, password string) *console {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &console{t: t, url: url, c: &http.Client{Jar: jar}}
	m := csrfField.FindStringSubmatch(c.get("/office/login"))
	c.csrf = m[1]
	home := c.do(c.c.PostForm(url+"/office/login", neturl.Values{"csrf": {c.csrf}, "name": {name}, "password": {password}}))
	m = csrfField.FindStringSubmatch(home)
	if m == nil {
		t.Fatalf("login as %s failed:\n%s", name, home)
	}
	c.csrf = m[1]
	return c
}

func (c *console) do(resp *http.Response, err error) string {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("%s %s: %d\n%s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b)
	}
	return string(b)
}

func (c *console) get(path string) string { return c.do(c.c.Get(c.url + path)) }

// upload posts a roster file to the import page.
func (c *console) upload(name string, data []byte) string {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", c.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return c.do(c.c.Post(c.url+"/office/import", mw.FormDataContentType(), &body))
}

// TestConsoleImport: a town office uploads a roster with bad rows, sees
// them and downloads the file with the bad rows marked; a good roster is
// checked, then applied on confirmation, while the server runs; a roster
// reaching into another town is refused.
func TestConsoleImport(t *testing.T) {
	dir := demoDir(t)
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	c := logIn(t, srv.url, "fuhan", "a long enough password")

	bad, _ := os.ReadFile(filepath.Join("testdata", "roster_bad.csv"))
	page := c.upload("roster_bad.csv", bad)
	if !strings.Contains(page, "有问题的行") || !strings.Contains(page, "第 3 行") {
		t.Fatalf("the bad rows are not shown:\n%s", page)
	}
	if strings.Contains(page, `id="apply"`) {
		t.Fatal("a roster with bad rows can be applied")
	}
	link := regexp.MustCompile(`href="(/office/import/marked\?token=[^"]+)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatalf("no link to the marked workbook:\n%s", page)
	}
	f, err := excelize.OpenReader(strings.NewReader(c.get(strings.ReplaceAll(link[1], "&amp;", "&"))))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	f.Close()
	if len(rows) < 3 || !strings.Contains(rows[2][len(rows[2])-1], "户主") {
		t.Errorf("line 3 of the marked workbook does not say what is wrong: %q", rows[2])
	}

	good, _ := os.ReadFile(filepath.Join("testdata", "roster.csv"))
	page = c.upload("roster.csv", good)
	m := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the good roster cannot be applied:\n%s", page)
	}
	page = c.do(c.c.PostForm(srv.url+"/office/import/apply", neturl.Values{"csrf": {c.csrf}, "token": {m[1]}}))
	if !strings.Contains(page, `id="applied"`) {
		t.Fatalf("not applied:\n%s", page)
	}
	if home := c.get("/office/"); !strings.Contains(home, "李家村") {
		t.Error("the imported village is not on the overview")
	}

	other := "户主,村,镇,社,户类型,人口\n马外镇,外镇村,东区街道,一社,一般户,3\n"
	if page := c.upload("other.csv", []byte(other)); !strings.Contains(page, "辖区以外") || strings.Contains(page, `id="apply"`) {
		t.Errorf("a roster of another town is not refused:\n%s", page)
	}
	if audit := c.get("/office/audit"); !strings.Contains(audit, "导入花名册") || !strings.Contains(audit, "roster.csv") {
		t.Error("the import is not in the audit log")
	}
}

// TestCLIThroughAPI: enroll, devices, revoke, import and export work
// against the running server with an account's token, within its scope.
func TestCLIThroughAPI(t *testing.T) {
	dir := demoDir(t)
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password")
	tok := token(t, dir, "fuhan")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir, "-demo")
	codes := srv.codes()
	if len(codes) == 0 {
		t.Fatal("no code")
	}
	// A phone enrols, so there is a device to list and revoke.
	phone, err := store.Open(filepath.Join(t.TempDir(), "phone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Close()
	c, _ := client.New(phone, client.Options{URL: srv.url})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Enroll(ctx, srv.url, codes[0], "测试手机"); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "devices", "-server", srv.url); r.code != 2 || !strings.Contains(r.stderr, "BANGFUD_TOKEN") {
		t.Errorf("-server without a token: %s", r)
	}
	r := runEnv(t, tok, "enroll", "-server", srv.url, "-cadre", "刘荣生")
	if r.code != 0 || !regexp.MustCompile(`enrolment code: [2-9A-Z]{4}-[2-9A-Z]{4}`).MatchString(r.stdout) {
		t.Fatalf("enroll -server: %s", r)
	}
	r = runEnv(t, tok, "devices", "-server", srv.url)
	id := phone.Device().String()
	if r.code != 0 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "测试手机") {
		t.Fatalf("devices -server: %s", r)
	}
	if r = runEnv(t, tok, "revoke", "-server", srv.url, "-reason", "replaced", id[:8]); r.code != 0 {
		t.Fatalf("revoke -server: %s", r)
	}
	if err := c.Sync(ctx); err == nil {
		t.Error("the revoked phone still syncs")
	}
	if r = runEnv(t, tok, "import", "-server", srv.url, "-dry-run", filepath.Join("testdata", "roster_bad.csv")); r.code != 1 || !strings.Contains(r.stdout, "第 3 行") {
		t.Errorf("import -server of a bad roster: %s", r)
	}
	if r = runEnv(t, tok, "import", "-server", srv.url, filepath.Join("testdata", "roster.csv")); r.code != 0 || !strings.Contains(r.stdout, "records written") {
		t.Errorf("import -server: %s", r)
	}
	out := filepath.Join(t.TempDir(), "m.xlsx")
	if r = runEnv(t, tok, "export", "-server", srv.url, "-month", time.Now().Format("2006-01"), "-o", out); r.code != 0 {
		t.Fatalf("export -server: %s", r)
	}
	rows := sheetRows(t, out)
	found := false
	for _, row := range rows["结对帮扶花名册"] {
		if len(row) > 4 && row[4] == "马德福" { // imported just now
			found = true
		}
	}
	if !found {
		t.Error("the export through the API lacks the household imported through it")
	}
	// The board and the cards, printed by the running server.
	board, cards := filepath.Join(t.TempDir(), "b.pdf"), filepath.Join(t.TempDir(), "c.pdf")
	if r = runEnv(t, tok, "board", "-server", srv.url, "-village", "王坪村", "-o", board); r.code != 0 {
		t.Fatalf("board -server: %s", r)
	}
	if r = runEnv(t, tok, "cards", "-server", srv.url, "-village", "王坪村", "-group", "一社", "-o", cards); r.code != 0 {
		t.Fatalf("cards -server: %s", r)
	}
	for _, f := range []string{board, cards} {
		if b, err := os.ReadFile(f); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) {
			t.Errorf("%s is no PDF: %v", f, err)
		}
	}
	if r = runEnv(t, tok, "cards", "-server", srv.url, "-village", "王坪村", "-group", "九十九社", "-o", cards); r.code == 0 || !strings.Contains(r.stderr, "九十九社") {
		t.Errorf("cards -server of a group that is not there: %s", r)
	}
	srv.stop(syscall.SIGTERM)
	db := openDB(t, dir)
	defer db.Close()
	log, _ := db.AuditLog(50, nil)
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+":"+e.Detail)
	}
	all := strings.Join(actions, " ")
	for _, want := range []string{"revoke:replaced", "enrol:api", "import:"} {
		if !strings.Contains(all, want) {
			t.Errorf("the audit log lacks %q: %s", want, all)
		}
	}
}

// TestStatsThroughAPI: stats -server prints what stats prints on the stopped
// data directory, for a city account; a town account is refused (the summary
// covers the whole city).
func TestStatsThroughAPI(t *testing.T) {
	dir := demoDir(t)
	addAccount(t, dir, "city", "临夏市", "a long enough password")
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password")
	city, town := token(t, dir, "city"), token(t, dir, "fuhan")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	remoteJSON := runEnv(t, city, "stats", "-server", srv.url, "-json")
	remoteText := runEnv(t, city, "stats", "-server", srv.url)
	refused := runEnv(t, town, "stats", "-server", srv.url)
	srv.stop(syscall.SIGTERM)
	if remoteJSON.code != 0 || remoteText.code != 0 {
		t.Fatalf("stats -server:\n%s\n%s", remoteJSON, remoteText)
	}
	if local := must(t, "stats", "-data", dir, "-json"); local.stdout != remoteJSON.stdout {
		t.Errorf("stats -json through the API differs from the data directory's:\n%s\n---\n%s", remoteJSON.stdout, local.stdout)
	}
	if local := must(t, "stats", "-data", dir); local.stdout != remoteText.stdout || !strings.Contains(local.stdout, "枹罕镇") {
		t.Errorf("stats through the API differs from the data directory's:\n%s\n---\n%s", remoteText.stdout, local.stdout)
	}
	if refused.code == 0 || !strings.Contains(refused.stderr, "市级账号") {
		t.Errorf("a town account's stats -server: %s", refused)
	}
}

// TestAccountThroughAPI: account list, add and disable work against the
// running server; add and disable need a city account; passwd and token do
// not take -server.
func TestAccountThroughAPI(t *testing.T) {
	dir := demoDir(t)
	addAccount(t, dir, "city", "临夏市", "a long enough password")
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password")
	city, town := token(t, dir, "city"), token(t, dir, "fuhan")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	add := func(env []string, name string) result {
		t.Helper()
		cmd := exec.Command(bin, "account", "add", "-server", srv.url, "-name", name, "-place", "枹罕镇", "-display", "新来的")
		cmd.Env = append(os.Environ(), env...)
		cmd.Stdin = strings.NewReader("another long password\n")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		return r
	}
	if r := add(town, "byTown"); r.code == 0 || !strings.Contains(r.stderr, "市级账号") {
		t.Errorf("a town account adding an account through the API: %s", r)
	}
	if r := add(city, "xinlai"); r.code != 0 || !strings.Contains(r.stdout, "xinlai（新来的，枹罕镇）") {
		t.Fatalf("account add -server: %s", r)
	}
	if r := runEnv(t, town, "account", "list", "-server", srv.url); r.code != 0 || !strings.Contains(r.stdout, "xinlai") || strings.Contains(r.stdout, "city") {
		t.Errorf("account list -server as the town: %s", r)
	}
	if r := runEnv(t, town, "account", "disable", "-server", srv.url, "-name", "xinlai"); r.code == 0 {
		t.Errorf("a town account disabled an account: %s", r)
	}
	if r := runEnv(t, city, "account", "disable", "-server", srv.url, "-name", "xinlai"); r.code != 0 {
		t.Errorf("account disable -server: %s", r)
	}
	if r := runEnv(t, city, "account", "list", "-server", srv.url); r.code != 0 || !strings.Contains(r.stdout, "已停用") {
		t.Errorf("account list -server after disabling: %s", r)
	}
	if r := runEnv(t, city, "account", "token", "-server", srv.url, "-name", "fuhan"); r.code != 2 {
		t.Errorf("account token -server: %s", r)
	}
	srv.stop(syscall.SIGTERM)
	db := openDB(t, dir)
	defer db.Close()
	if err := office.NewBoltAccounts(db).CheckPassword("xinlai", "another long password"); err == nil {
		t.Error("the disabled account still logs in")
	}
	accts, _ := office.NewBoltAccounts(db).Accounts()
	made := false
	for _, a := range accts {
		made = made || (a.Name == "xinlai" && !a.Disabled.IsZero())
	}
	if !made {
		t.Error("the account made through the API is not in the store, disabled")
	}
}

// TestRosterThroughServer: an office that may see whole ID numbers downloads
// its roster from the running server, edits one household's phone in Excel
// and imports it back: the check finds exactly that change, and applying it
// writes one record. An office without -ids gets no roster.
func TestRosterThroughServer(t *testing.T) {
	dir := demoDir(t)
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password", "-ids")
	addAccount(t, dir, "masked", "枹罕镇", "a long enough password")
	tok, masked := token(t, dir, "fuhan"), token(t, dir, "masked")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	out := filepath.Join(t.TempDir(), "花名册.xlsx")
	if r := runEnv(t, masked, "roster", "-server", srv.url, "-o", out); r.code == 0 || !strings.Contains(r.stderr, "身份证号") {
		t.Errorf("roster -server for an account without -ids: %s", r)
	}
	if r := runEnv(t, tok, "roster", "-server", srv.url, "-o", out); r.code != 0 {
		t.Fatalf("roster -server: %s", r)
	}
	r := runEnv(t, tok, "import", "-server", srv.url, "-dry-run", out)
	if r.code != 0 || !strings.Contains(r.stdout, "check passed: 0 records") {
		t.Fatalf("the downloaded roster imported unchanged is not a no-op: %s", r)
	}

	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("农户")
	if err != nil || len(rows) < 2 {
		t.Fatalf("the roster's 农户 sheet: %v, %d rows", err, len(rows))
	}
	col := slices.Index(rows[0], "电话")
	if col < 0 {
		t.Fatalf("no 电话 column in %q", rows[0])
	}
	cell, _ := excelize.CoordinatesToCellName(col+1, 2)
	must2(t, f.SetCellValue("农户", cell, "13900001234"))
	must2(t, f.Save())
	f.Close()

	r = runEnv(t, tok, "import", "-server", srv.url, "-dry-run", out)
	if r.code != 0 || !strings.Contains(r.stdout, "新增农户 0 户，更新 1 户") || !strings.Contains(r.stdout, "check passed: 1 records") {
		t.Fatalf("the edited roster's check: %s", r)
	}
	if r = runEnv(t, tok, "import", "-server", srv.url, out); r.code != 0 || !strings.Contains(r.stdout, "1 records written") {
		t.Fatalf("the edited roster's import: %s", r)
	}
	if r = runEnv(t, tok, "import", "-server", srv.url, "-dry-run", out); r.code != 0 || !strings.Contains(r.stdout, "check passed: 0 records") {
		t.Errorf("the edited roster imported a second time is not a no-op: %s", r)
	}
	if r = runEnv(t, tok, "roster", "-server", srv.url, "-o", out); r.code != 0 {
		t.Fatalf("roster -server again: %s", r)
	}
	if f, err = excelize.OpenFile(out); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v, _ := f.GetCellValue("农户", cell); v != "13900001234" {
		t.Errorf("the roster downloaded after the import has %s = %q, want the new phone", cell, v)
	}
}

// runIn runs the binary with stdin and extra environment variables.
func runIn(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEncryptedBackup: backup -encrypt writes a file that holds none of the
// demo's ID numbers, names or phones; restore asks for the passphrase,
// refuses a wrong one and restores with the right one.
func TestEncryptedBackup(t *testing.T) {
	dir := demoDir(t)
	db := openDB(t, dir)
	var secrets []string
	db.Each(domain.KindHousehold, func(r domain.Record) error {
		if h := r.(*domain.Household); len(secrets) < 30 {
			secrets = append(secrets, h.IDNumber, h.HeadName, h.Phone)
		}
		return nil
	})
	want, _ := db.LastSeq()
	db.Close()
	out := filepath.Join(t.TempDir(), "backup.vault")
	if r := runIn(t, "short\n", nil, "backup", "-data", dir, "-o", out, "-encrypt"); r.code != 2 {
		t.Errorf("a short passphrase: %s", r)
	}
	const pass = "县里保管的备份口令 2026"
	if r := runIn(t, pass+"\n", nil, "backup", "-data", dir, "-o", out, "-encrypt"); r.code != 0 || !strings.Contains(r.stdout, "encrypted") {
		t.Fatalf("backup -encrypt: %s", r)
	}
	file, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s != "" && bytes.Contains(file, []byte(s)) {
			t.Errorf("the encrypted backup holds %q", s)
		}
	}
	if r := runIn(t, "a wrong passphrase\n", nil, "restore", "-data", dir, out); r.code == 0 || !strings.Contains(r.stderr, "passphrase is wrong") {
		t.Errorf("restore with a wrong passphrase: %s", r)
	}
	if r := runIn(t, pass+"\n", nil, "restore", "-data", dir, out); r.code != 0 {
		t.Fatalf("restore: %s", r)
	}
	db = openDB(t, dir)
	defer db.Close()
	if got, _ := db.LastSeq(); got != want {
		t.Errorf("restored log to %d, want %d", got, want)
	}
}
