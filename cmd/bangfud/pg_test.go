package main_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/google/uuid"

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
	a := startServer(t, "-addr", "127.0.0.1:0", "-db", url, "-demo", "-data", t.TempDir())
	codes := a.codes()
	if len(codes) != 2 || !strings.Contains(a.output(), "writing demo data") {
		t.Fatalf("the first instance: codes %v\n%s", codes, a.output())
	}
	b := startServer(t, "-addr", "127.0.0.1:0", "-db", url, "-demo", "-data", t.TempDir())
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
