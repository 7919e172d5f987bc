package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"bangfu/store"
	"bangfu/sync/client"
)

// chromium returns the path of a headless-capable Chromium. Without one the
// browser tests fail, unless BANGFU_NO_BROWSER=1 says to skip them.
func chromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("BANGFU_NO_BROWSER") == "1" {
		t.Skip("BANGFU_NO_BROWSER=1: the browser tests are skipped")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: install it (scripts/setup.sh test does) or set BANGFU_NO_BROWSER=1")
	return ""
}

// browserCtx starts a headless Chromium with a fresh profile.
func browserCtx(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// shoot saves a screenshot of the page: into docs/screenshots when
// BANGFU_SCREENSHOTS=1 (to refresh the README's), else into the test's
// temporary directory.
func shoot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(90)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), png, 0o644)
	})
}

// fetch downloads path in the page's session (its cookies) and returns the body.
func fetch(ctx context.Context, path string) ([]byte, error) {
	js := `fetch(` + "`" + path + "`" + `).then(r => r.arrayBuffer()).then(b => {
		let s = ""; const a = new Uint8Array(b);
		for (let i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
		return btoa(s);
	})`
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(b64)
}

// attr reads an attribute of the first element sel matches.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(sel, name))
	if err != nil || !r.Exists {
		t.Fatalf("%s[%s]: %v", sel, name, err)
	}
	return r.Value
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real server on the demo village while a phone keeps syncing: log in, enrol
// a cadre, import a roster with bad rows and download the marked workbook,
// revoke the phone (its next syncs are refused), print the 岗位监督栏.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browserCtx(t)
	shots := t.TempDir()
	if os.Getenv("BANGFU_SCREENSHOTS") == "1" {
		shots = filepath.Join("..", "..", "docs", "screenshots")
	}
	dir := demoDir(t)
	addAccount(t, dir, "fuhan", "枹罕镇", "a long enough password", "-display", "枹罕镇办公室")
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir, "-demo")
	codes := srv.codes()
	if len(codes) == 0 {
		t.Fatalf("no enrolment code:\n%s", srv.output())
	}

	// A phone that syncs every 100 ms until the test ends.
	phoneDB, err := store.Open(filepath.Join(t.TempDir(), "phone.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer phoneDB.Close()
	phone, err := client.New(phoneDB, client.Options{URL: srv.url})
	if err != nil {
		t.Fatal(err)
	}
	if err := phone.Enroll(ctx, srv.url, codes[0], "马的手机"); err != nil {
		t.Fatal(err)
	}
	var mu gosync.Mutex
	var synced, refused int
	var lastErr error
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			err := phone.Sync(context.Background())
			mu.Lock()
			if err == nil {
				synced++
			} else if errors.Is(err, client.ErrLost) {
				// Revoked as lost: the phone is told to wipe, not only refused.
				refused++
			}
			lastErr = err
			mu.Unlock()
		}
	}()
	defer func() { close(stop); <-done }()
	counts := func() (int, int, error) { mu.Lock(); defer mu.Unlock(); return synced, refused, lastErr }

	base := srv.url + "/office/"
	do(t, ctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible(`input[name=name]`),
		shoot(shots, "office-login.png"),
		chromedp.SendKeys(`input[name=name]`, "fuhan"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`a[href^="/office/board"]`),
		shoot(shots, "office-home.png"),
	)
	boardHref := attr(t, ctx, `a[href^="/office/board"]`, "href")

	// The settings page: ordinary households need the three levels too; the
	// overview's gaps grow.
	gapCell := `tbody tr:first-child td:nth-child(9)`
	gapsBefore := text(t, ctx, gapCell)
	do(t, ctx,
		chromedp.Navigate(base+"settings"),
		chromedp.WaitVisible(`#rule-county`),
		chromedp.Click(`input[name=statuses][value=ordinary]`),
		chromedp.Click(`#save`),
		chromedp.WaitVisible(`p.flash`),
		shoot(shots, "office-settings.png"),
		chromedp.Navigate(base),
		chromedp.WaitVisible(gapCell),
	)
	if after := text(t, ctx, gapCell); after == gapsBefore {
		t.Errorf("the overview's gaps stay %s after changing the rules in the browser", after)
	}

	do(t, ctx, chromedp.Navigate(base+"enrol"), chromedp.WaitVisible(`select[name=cadre]`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector("select[name=cadre]").selectedIndex = 1`)); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Submit(`select[name=cadre]`), chromedp.WaitVisible(`#code`), shoot(shots, "office-enrol.png"))
	if code := text(t, ctx, `#code`); len(strings.ReplaceAll(code, "-", "")) != 8 {
		t.Errorf("enrolment code %q", code)
	}

	do(t, ctx,
		chromedp.Navigate(base+"import"),
		chromedp.WaitVisible(`input[type=file]`),
		chromedp.SetUploadFiles(`input[type=file]`, []string{mustAbs(t, filepath.Join("testdata", "roster_bad.csv"))}),
		chromedp.Submit(`input[type=file]`),
		chromedp.WaitVisible(`#marked`),
		shoot(shots, "office-import.png"),
	)
	marked, err := fetch(ctx, attr(t, ctx, `#marked`, "href"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(marked))
	if err != nil {
		t.Fatalf("the marked workbook does not open: %v", err)
	}
	rows, _ := f.GetRows(f.GetSheetName(0))
	f.Close()
	if len(rows) < 3 || !strings.Contains(rows[2][len(rows[2])-1], "户主") {
		t.Errorf("the marked workbook's line 3: %q", rows[2])
	}

	// The phone syncs; the office revokes it as lost; its syncs are refused
	// with ErrLost (the answer on which the app wipes the phone).
	deadline := time.Now().Add(20 * time.Second)
	for n, _, _ := counts(); n < 3; n, _, _ = counts() {
		if time.Now().After(deadline) {
			_, _, e := counts()
			t.Fatalf("the phone does not sync: %v", e)
		}
		time.Sleep(50 * time.Millisecond)
	}
	row := "#dev-" + phoneDB.Device().String()[:8]
	do(t, ctx,
		chromedp.Navigate(base+"devices"),
		chromedp.WaitVisible(row+` select[name=reason]`),
		shoot(shots, "office-devices.png"),
		chromedp.SetValue(row+` select[name=reason]`, "lost"),
		chromedp.Submit(row+` select[name=reason]`),
		chromedp.WaitVisible(row+` .revoked`),
	)
	deadline = time.Now().Add(20 * time.Second)
	for _, r, _ := counts(); r < 2; _, r, _ = counts() {
		if time.Now().After(deadline) {
			_, _, e := counts()
			t.Fatalf("the revoked phone is not refused: last %v", e)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The board, printed by the browser.
	do(t, ctx, chromedp.Navigate(srv.url+boardHref), chromedp.WaitVisible(`h1`), shoot(shots, "office-board.png"))
	title := text(t, ctx, `h1`)
	printed, err := chromedp.Run(ctx, chromedp.PrintToPDF(func(p *page.PrintToPDFParams) {
		yes := true
		p.PreferCSSPageSize, p.PrintBackground = &yes, &yes
	}))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(base+"audit"), chromedp.WaitVisible(`table`), shoot(shots, "office-audit.png"))

	// At phone width no page is wider than the screen (a wide table scrolls
	// in its own box).
	do(t, ctx, chromedp.EmulateViewport(400, 800))
	for _, p := range []string{"", "devices", "enrol", "import", "settings", "export", "backup", "audit", "accounts"} {
		do(t, ctx, chromedp.Navigate(base+p), chromedp.WaitVisible(`main`))
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if wide > 400 {
			t.Errorf("/office/%s at 400 px is %d px wide", p, wide)
		}
		if p == "" || p == "settings" || p == "devices" || p == "export" {
			do(t, ctx, shoot(shots, "office-phone-"+map[string]string{"": "home"}[p]+p+".png"))
		}
	}
	if title != "王坪村岗位监督栏" || !bytes.HasPrefix(printed, []byte("%PDF-")) {
		t.Errorf("board title %q, printed %d bytes", title, len(printed))
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		pdf := filepath.Join(t.TempDir(), "board.pdf")
		os.WriteFile(pdf, printed, 0o600)
		out, _ := exec.Command("pdftotext", pdf, "-").Output()
		if !strings.Contains(string(out), "岗位监督栏") || !strings.Contains(string(out), "包社干部") {
			t.Errorf("the printed board lacks its text:\n%s", out)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
