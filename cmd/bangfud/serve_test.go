package main_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// server is a running `bangfud serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
}

// lockedBuffer appends to a buffer under the server's mutex.
type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (b lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// startServer runs bangfud serve with args and waits for its
// "listening on http://ADDR" line.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{t: t, done: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	s.cmd.Stdout = lockedBuffer{&s.mu, &s.stdout}
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		pw.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`^listening on (https?://\S+)$`)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			if m := re.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case s.url = <-found:
	case <-s.done:
		t.Fatalf("serve exited before listening:\n%s", s.output())
	case <-time.After(time.Minute):
		t.Fatalf("serve did not listen within a minute:\n%s", s.output())
	}
	return s
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "stdout:\n" + s.stdout.String() + "\nstderr:\n" + s.stderr.String()
}

// codes returns the enrolment codes printed on stdout, waiting a little for
// two of them: stdout is copied by another goroutine than the one that saw
// the "listening on" line of stderr.
func (s *server) codes() []string {
	re := regexp.MustCompile(`one-time enrolment code: ([2-9A-Z]{4}-[2-9A-Z]{4})`)
	var out []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s.mu.Lock()
		out = out[:0]
		for _, m := range re.FindAllStringSubmatch(s.stdout.String(), -1) {
			out = append(out, m[1])
		}
		s.mu.Unlock()
		if len(out) >= 2 {
			break
		}
	}
	return out
}

// stop sends sig and waits for the server to exit; it returns the exit code.
func (s *server) stop(sig syscall.Signal) int {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
	return s.wait()
}

func (s *server) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("serve did not exit within 30 s:\n%s", s.output())
	}
	return s.cmd.ProcessState.ExitCode()
}

func post(t *testing.T, url, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir, "-demo", "-log-level", "debug")

	resp, err := http.Get(srv.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	health, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(health), `"ok":true`) {
		t.Fatalf("/healthz: %d %s", resp.StatusCode, health)
	}

	// -demo printed the server URL and a code for each of the two roles.
	codes := srv.codes()
	if len(codes) != 2 {
		t.Fatalf("codes %v, want two:\n%s", codes, srv.output())
	}
	if out := srv.output(); !strings.Contains(out, srv.url) || !strings.Contains(out, "group cadre") || !strings.Contains(out, "team leader") {
		t.Errorf("the demo banner lacks the URL or the roles:\n%s", out)
	}

	// A phone enrols with the group cadre's code.
	device := uuid.New()
	code, body := post(t, srv.url+"/v1/enroll", "", map[string]any{"v": 1, "code": codes[0], "name": "测试手机", "device": device})
	if code != http.StatusOK {
		t.Fatalf("enroll: %d %s", code, body)
	}
	var enrolled struct{ Token string }
	if err := json.Unmarshal(body, &enrolled); err != nil || enrolled.Token == "" {
		t.Fatalf("enroll answer %s: %v", body, err)
	}

	// An admin command against the running server's directory fails fast.
	r := run(t, "devices", "-data", dir)
	if r.code != 3 || !strings.Contains(r.stderr, "服务器正在运行") || !strings.Contains(r.stderr, "the server is running") || r.took > 5*time.Second {
		t.Errorf("devices while the server runs: %s", r)
	}

	// The pull cursor's form that names the scope a catch-up came from
	// after its state, sent malformed as anyone could: refused with the
	// cursor at fault (a huge one too); one naming a scope the server does not know is
	// answered, as if the catch-up's window were reflected.
	code, body = post(t, srv.url+"/v1/sync", enrolled.Token, map[string]any{"v": 1, "cursor": "", "through": 0, "changes": []any{}})
	var first struct{ Cursor string }
	if err := json.Unmarshal(body, &first); code != http.StatusOK || err != nil || !strings.Contains(first.Cursor, "@") {
		t.Fatalf("first sync: %d %.300s", code, body)
	}
	seq, _, _ := strings.Cut(first.Cursor, "~")
	tag := seq[strings.Index(seq, "@"):] // "@" and the server's tag
	for _, c := range []struct {
		cursor string
		status int
	}{
		{"1" + tag + "~x~~0~y", http.StatusBadRequest},
		{"1" + tag + "~x~~2~", http.StatusBadRequest},
		{"1" + tag + "~x~~2~" + strings.Repeat("y", 64<<10), http.StatusBadRequest}, // too long
		{"1" + tag + "~made-up~~2~made-up", http.StatusOK},
	} {
		code, body := post(t, srv.url+"/v1/sync", enrolled.Token, map[string]any{"v": 1, "cursor": c.cursor, "through": 0, "changes": []any{}})
		if code != c.status || c.status != http.StatusOK && !bytes.Contains(body, []byte(`"cursor"`)) || c.status == http.StatusOK && bytes.Contains(body, []byte("made-up")) {
			t.Errorf("sync with cursor %.40q: %d %.200s, want %d", c.cursor, code, body, c.status)
		}
	}

	// A sync in flight when SIGTERM arrives is finished before the server
	// exits: send half the request, signal, then the rest.
	syncBody := []byte(`{"v":1,"cursor":"","through":0,"changes":[]}`)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		enrolled.Token, len(syncBody))
	conn.Write(syncBody[:10])
	time.Sleep(200 * time.Millisecond) // the server is reading the body
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(srv.output(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown after SIGTERM:\n%s", srv.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case <-srv.done:
		t.Fatalf("the server exited with a sync in flight:\n%s", srv.output())
	default:
	}
	if _, err := http.Get(srv.url + "/healthz"); err == nil {
		t.Errorf("the server took a new connection after SIGTERM")
	}
	conn.Write(syncBody[10:])
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	answer, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the sync in flight got no answer: %v\n%s", err, srv.output())
	}
	pulled, _ := io.ReadAll(answer.Body)
	answer.Body.Close()
	if answer.StatusCode != http.StatusOK || !bytes.Contains(pulled, []byte(`"cursor"`)) {
		t.Errorf("the sync in flight: %d %.300s", answer.StatusCode, pulled)
	}
	if code := srv.wait(); code != 0 {
		t.Errorf("serve exited %d after SIGTERM:\n%s", code, srv.output())
	}
	if !strings.Contains(srv.output(), "server stopped") {
		t.Errorf("no clean stop in the log:\n%s", srv.output())
	}

	// The data survived, and the device is listed with its sync.
	if s := readStats(t, dir); s.Households != 252 || s.People != 1140 || s.Groups != 9 {
		t.Errorf("stats after shutdown = %+v", s)
	}
	list := must(t, "devices", "-data", dir).stdout
	line := ""
	for _, l := range strings.Split(list, "\n") {
		if strings.HasPrefix(l, device.String()) {
			line = l
		}
	}
	if !strings.Contains(line, "测试手机") || !strings.Contains(line, "active") || strings.Contains(line, "never") {
		t.Errorf("devices lists the phone as %q:\n%s", line, list)
	}

	// Revoke it by a prefix of its ID.
	if r := must(t, "revoke", "-data", dir, "-reason", "lost", device.String()[:13]); !strings.Contains(r.stdout, device.String()) {
		t.Errorf("revoke: %s", r)
	}
	list = must(t, "devices", "-data", dir).stdout
	if !regexp.MustCompile(device.String() + `.*revoked`).MatchString(list) {
		t.Errorf("devices after revoke:\n%s", list)
	}
	if r := run(t, "revoke", "-data", dir, "-reason", "replaced", uuid.NewString()); r.code != 1 || !strings.Contains(r.stderr, "no device") {
		t.Errorf("revoke of an unknown device: %s", r)
	}

	// Restarted, the server keeps the data (no second demo), prints fresh
	// codes, and refuses the revoked phone.
	srv = startServer(t, "-addr", "127.0.0.1:0", "-data", dir, "-demo")
	if c := srv.codes(); len(c) != 2 || c[0] == codes[0] {
		t.Errorf("codes after restart %v (before %v)", c, codes)
	}
	if strings.Contains(srv.output(), "writing demo data") {
		t.Errorf("the demo was loaded into a full store:\n%s", srv.output())
	}
	if code, body := post(t, srv.url+"/v1/sync", enrolled.Token, json.RawMessage(syncBody)); code != http.StatusUnauthorized {
		t.Errorf("sync of a revoked device: %d %s", code, body)
	}
	if code := srv.stop(syscall.SIGINT); code != 0 {
		t.Errorf("serve exited %d after SIGINT:\n%s", code, srv.output())
	}
	if s := readStats(t, dir); s.Households != 252 {
		t.Errorf("households after a restart = %d", s.Households)
	}
}

func TestServeRefusesSecondServer(t *testing.T) {
	dir := demoDir(t)
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir)
	r := run(t, "serve", "-addr", "127.0.0.1:0", "-data", dir)
	if r.code != 3 || !strings.Contains(r.stderr, "stop it first") {
		t.Errorf("a second server on the same data: %s", r)
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, srv.output())
	}
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bangfud test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)

	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", dir, "-tls-cert", certFile, "-tls-key", keyFile)
	if !strings.HasPrefix(srv.url, "https://") {
		t.Fatalf("TLS server URL %s", srv.url)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.url + "/healthz")
	if err != nil {
		t.Fatalf("healthz over TLS: %v\n%s", err, srv.output())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz over TLS: %d", resp.StatusCode)
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(srv.url, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("the TLS server answered plain HTTP with success")
		}
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, srv.output())
	}
}

func TestAdminCommandsNeedAStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "empty")
	for _, args := range [][]string{{"stats"}, {"devices"}, {"enroll", "-cadre", "x"}, {"export", "-o", filepath.Join(t.TempDir(), "x.xlsx")}} {
		r := run(t, append(append(args[:1:1], "-data", dir), args[1:]...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "no store in") {
			t.Errorf("%s on a directory without a store: %s", args[0], r)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a command created %s", dir)
	}
}

func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-tls-cert", "x.pem"},
		{"-log-level", "loud"},
		{"extra"},
	} {
		if r := run(t, append([]string{"serve", "-data", t.TempDir()}, args...)...); r.code != 2 {
			t.Errorf("serve %v: %s", args, r)
		}
	}
}

// TestServeClosesStalledHeaders: `bangfud serve` closes connections whose
// request headers never finish (its ReadHeaderTimeout, 10 s), and answers
// others meanwhile. (Issue 7, finding 7; stalled bodies: sync/server's
// TestStalledBodies.)
func TestServeClosesStalledHeaders(t *testing.T) {
	srv := startServer(t, "-addr", "127.0.0.1:0", "-data", t.TempDir())
	addr := strings.TrimPrefix(srv.url, "http://")
	conns := make([]net.Conn, 100)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /v1/enroll HTTP/1.1\r\nHost: x\r\n")
		conns[i] = c
	}
	started := time.Now()
	if resp, err := http.Get(srv.url + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz while headers stall: %v", err)
	} else {
		resp.Body.Close()
	}
	open := 0
	for _, c := range conns {
		c.SetReadDeadline(started.Add(25 * time.Second))
		_, err := io.Copy(io.Discard, c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			open++
		}
	}
	if open > 0 {
		t.Errorf("%d of %d connections with stalled headers still open after %v", open, len(conns), time.Since(started).Round(time.Second))
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited %d:\n%s", code, srv.output())
	}
}
