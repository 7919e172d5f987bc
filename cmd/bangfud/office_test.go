package main_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
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
	resp, err := c.PostForm(s.url+"/office/login", url.Values{"csrf": {m[1]}, "name": {"city"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if home := get("/office/"); !strings.Contains(home, "王坪村") || !strings.Contains(home, "252") {
		t.Fatalf("the console's overview lacks the demo village:\n%s", home)
	}
}
