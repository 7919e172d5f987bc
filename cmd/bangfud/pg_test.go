package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"bangfu/internal/pgtest"
)

// TestServePostgres runs two bangfud serve -db instances on one
// PostgreSQL database: the first loads the demo village, the second does
// not load it again; a phone enrolled at one syncs at the other with the
// cursor the first gave it; enroll -db issues a code for a cadre by name.
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

	// The console is not served on PostgreSQL: a browser is told so.
	resp, err := http.Get(b.url + "/office/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(page), "enroll -db") || !strings.Contains(string(page), "办公室管理后台") {
		t.Errorf("GET /office/ on PostgreSQL: %d %s", resp.StatusCode, page)
	}

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
