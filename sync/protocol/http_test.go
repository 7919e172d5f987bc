package protocol_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

// echo is a tiny sync endpoint: it reads the request with ReadRequest and
// answers with the changes it received, acknowledging them.
type echo struct {
	srv  *httptest.Server
	last atomic.Pointer[http.Header] // headers of the last request
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	e := &echo{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		e.last.Store(&h)
		var req protocol.SyncRequest
		if err := protocol.ReadRequest(r, &req); err != nil {
			protocol.WriteError(w, r, err)
			return
		}
		protocol.WriteJSON(w, r, http.StatusOK, protocol.SyncResponse{V: protocol.Version, Now: protocol.At(now),
			Acked: req.Through, Changes: req.Changes, Cursor: req.Cursor + "+"})
	}))
	t.Cleanup(e.srv.Close)
	if !strings.HasPrefix(e.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, not on 127.0.0.1", e.srv.URL)
	}
	return e
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// post sends body as is with the given headers, and returns the status and
// what ReadResponse makes of the answer.
func post(t *testing.T, url string, body io.Reader, length int64, header map[string]string) (int, protocol.SyncResponse, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+protocol.PathSync, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{ExpectContinueTimeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out protocol.SyncResponse
	err = protocol.ReadResponse(resp, &out)
	return resp.StatusCode, out, err
}

// change returns the JSON of a golden change with one key replaced.
func change(key string, value any) string {
	c, _ := protocol.Marshal(goldenChanges()[1])
	var m map[string]any
	json.Unmarshal(c, &m)
	m[key] = value
	b, _ := json.Marshal(m)
	return string(b)
}

func syncBody(changes ...string) string {
	return `{"v":1,"cursor":"c1","through":9,"changes":[` + strings.Join(changes, ",") + `]}`
}

// TestRejections sends bad requests to a real server on 127.0.0.1 and checks
// each is refused with 400 and a reason in both languages.
func TestRejections(t *testing.T) {
	e := newEcho(t)
	long := strings.Repeat("长", 22) // 66 bytes
	tests := []struct {
		name   string
		body   string
		header map[string]string
		field  string
		reason string // in the English message
		is     error
	}{
		{"malformed JSON", `{"v":1,"cursor":"c1","through":`, nil, "body", "malformed JSON", nil},
		{"not an object", `[1,2,3]`, nil, "body", "cannot unmarshal array", nil},
		{"data after the object", syncBody() + `{}`, nil, "body", "after top-level value", nil},
		{"empty body", ``, nil, "body", "empty body", nil},
		{"unknown field", `{"v":1,"cursor":"","through":0,"changes":[],"photos":[]}`, nil, "body", `unknown field "photos"`, nil},
		{"key in another case", `{"v":1,"Cursor":"","through":0,"changes":[]}`, nil, "body", `unknown field "Cursor"`, nil},
		{"change key in another case", syncBody(strings.Replace(change("kind", "visit"), `"stamp"`, `"Stamp"`, 1)), nil, "body", `unknown field "Stamp"`, nil},
		{"repeated key", `{"v":1,"cursor":"a","cursor":"b","through":0,"changes":[]}`, nil, "body", `duplicate field "cursor"`, nil},
		{"repeated field", syncBody(strings.Replace(change("fields", map[string]any{"notes": 1}), `"fields":{"notes":1}`, `"fields":{"notes":1,"notes":2}`, 1)), nil, "body", `duplicate field "notes"`, nil},
		{"wrong type", `{"v":1,"cursor":"","through":-1,"changes":[]}`, nil, "body", "cannot unmarshal number -1", nil},
		{"newer version", `{"v":2,"cursor":"","through":0,"changes":[],"photos":[]}`, nil, "v", "version 2 is newer", protocol.ErrVersion},
		{"newer version, v1 shape", `{"v":2,"cursor":"","through":0,"changes":[]}`, nil, "v", "version 2 is newer", protocol.ErrVersion},
		{"version before 1", `{"v":-1,"cursor":"","through":0,"changes":[]}`, nil, "v", "version -1 is no longer supported", protocol.ErrVersion},
		{"version not an integer", `{"v":"1","cursor":"","through":0,"changes":[]}`, nil, "body", "cannot unmarshal string", nil},
		{"no version", `{"cursor":"","through":0,"changes":[]}`, nil, "v", `missing protocol version`, protocol.ErrVersion},
		{"bad UUID", syncBody(change("id", "not-a-uuid")), nil, "id", `id is not a valid UUID: "not-a-uuid"`, nil},
		{"uppercase UUID", syncBody(change("record", strings.ToUpper(id("r").String()))), nil, "record", "record is not a valid UUID", nil},
		{"nil record", syncBody(change("record", "00000000-0000-0000-0000-000000000000")), nil, "record", "must not be all zeros", nil},
		{"bad author", syncBody(change("author", "马兴文")), nil, "author", "author is not a valid UUID", nil},
		{"bad stamp", syncBody(change("stamp", "yesterday")), nil, "stamp", `change 0: bad stamp "yesterday"`, nil},
		{"stamp with leading zero", syncBody(change("stamp", "01740817740125.3."+tablet.String())), nil, "stamp", "bad stamp", nil},
		{"bad base stamp", syncBody(change("base", map[string]string{"progress": "1.2"})), nil, "base", `bad stamp "1.2"`, nil},
		{"unknown kind", syncBody(change("kind", "video")), nil, "kind", `unknown record kind "video"`, nil},
		{"empty field name", syncBody(change("fields", map[string]any{"": 1})), nil, "fields", `bad field name ""`, nil},
		{"long field name", syncBody(change("fields", map[string]any{long: 1})), nil, "fields", "bad field name", nil},
		{"changes through 0", `{"v":1,"cursor":"","through":0,"changes":[` + change("kind", "visit") + `]}`, nil, "through", "through = 0", nil},
		{"long cursor", `{"v":1,"cursor":"` + strings.Repeat("c", protocol.MaxCursorBytes+1) + `","through":0,"changes":[]}`, nil, "cursor", "too long", protocol.ErrCursor},
		{"not JSON content", syncBody(), map[string]string{"Content-Type": "text/plain"}, "content-type", `not "text/plain"`, nil},
		{"unknown encoding", syncBody(), map[string]string{"Content-Encoding": "br"}, "content-encoding", `unsupported Content-Encoding "br"`, nil},
		{"not gzip", syncBody(), map[string]string{"Content-Encoding": "gzip"}, "body", "gzip: invalid header", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, compressed := range []bool{false, true} {
				body := []byte(tt.body)
				h := map[string]string{}
				for k, v := range tt.header {
					h[k] = v
				}
				if compressed {
					if h["Content-Encoding"] != "" {
						continue
					}
					body, h["Content-Encoding"] = gz(t, body), "gzip"
				}
				status, _, err := post(t, e.srv.URL, bytes.NewReader(body), int64(len(body)), h)
				if status != http.StatusBadRequest {
					t.Errorf("gzip %v: status %d, want 400 (%v)", compressed, status, err)
				}
				checkInvalid(t, err, tt.field)
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("%v does not match %v", err, tt.is)
				}
				if e := new(domain.Error); errors.As(err, &e) && !strings.Contains(e.En, tt.reason) {
					t.Errorf("reason %q does not say %q", e.En, tt.reason)
				}
				if protocol.Transient(err) {
					t.Errorf("%v is transient", err)
				}
			}
		})
	}
}

// TestErrorGolden checks that a refused stamp is answered with exactly the
// golden error body.
func TestErrorGolden(t *testing.T) {
	e := newEcho(t)
	body := syncBody(change("stamp", "yesterday"))
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+protocol.PathSync, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req) // the transport decompresses
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if want := readGolden(t, "error.json"); !bytes.Equal(got, want) {
		t.Errorf("error body:\ngot:  %s\nwant: %s", got, want)
	}
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// zeros reads as n zero bytes without holding them.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// counting counts the bytes read through it.
type counting struct {
	r io.Reader
	n atomic.Int64
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestSizeCaps(t *testing.T) {
	e := newEcho(t)
	tooLarge := func(t *testing.T, status int, err error) {
		t.Helper()
		if status != http.StatusBadRequest {
			t.Errorf("status %d, want 400", status)
		}
		checkInvalid(t, err, "size")
		if !errors.Is(err, protocol.ErrTooLarge) {
			t.Errorf("%v does not match ErrTooLarge", err)
		}
	}

	t.Run("plain body over the cap, length unknown", func(t *testing.T) {
		// A JSON string one byte longer than the cap allows, sent chunked:
		// the server reads it to the cap and stops.
		head := `{"v":1,"cursor":"`
		body := io.MultiReader(strings.NewReader(head), &zeros{protocol.MaxRequestBytes + 1 - int64(len(head))})
		status, _, err := post(t, e.srv.URL, body, -1, nil)
		tooLarge(t, status, err)
	})
	t.Run("plain body at the cap", func(t *testing.T) {
		head, tail := `{"v":1,"cursor":"","through":0,"changes":[]}`, ""
		pad := protocol.MaxRequestBytes - len(head) - len(tail)
		body := head + strings.Repeat(" ", pad) + tail
		status, resp, err := post(t, e.srv.URL, strings.NewReader(body), -1, nil)
		if err != nil || status != http.StatusOK || resp.Cursor != "+" {
			t.Errorf("a body of exactly MaxRequestBytes: status %d, %v", status, err)
		}
	})
	t.Run("declared length over the cap is refused unread", func(t *testing.T) {
		c := &counting{r: &zeros{protocol.MaxRequestBytes + 1}}
		status, _, err := post(t, e.srv.URL, c, protocol.MaxRequestBytes+1, map[string]string{"Expect": "100-continue"})
		tooLarge(t, status, err)
		if n := c.n.Load(); n > 0 {
			t.Errorf("the client sent %d bytes of a body the server refused by its length", n)
		}
	})
	t.Run("compressed body over the wire cap", func(t *testing.T) {
		// Stored (uncompressed) deflate blocks: as large as the data.
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
		zw.Write(bytes.Repeat([]byte(" "), protocol.MaxCompressedBytes+1024))
		zw.Close()
		z := buf.Bytes()[:protocol.MaxCompressedBytes+1]
		status, _, err := post(t, e.srv.URL, bytes.NewReader(z), -1, map[string]string{"Content-Encoding": "gzip"})
		tooLarge(t, status, err)
	})
	t.Run("gzip bomb", func(t *testing.T) {
		// 1 GiB of JSON whitespace in 64 gzip members of 16 MiB: about 1 MiB
		// on the wire, well within MaxCompressedBytes.
		member := gz(t, bytes.Repeat([]byte(" "), 16<<20))
		bomb := append(gz(t, []byte(`{"v":1,"cursor":"",`)), bytes.Repeat(member, 64)...)
		if len(bomb) > protocol.MaxCompressedBytes {
			t.Fatalf("bomb is %d bytes compressed", len(bomb))
		}
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		status, _, err := post(t, e.srv.URL, bytes.NewReader(bomb), int64(len(bomb)), map[string]string{"Content-Encoding": "gzip"})
		runtime.ReadMemStats(&after)
		tooLarge(t, status, err)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("gzip bomb: %d KiB compressed, 1 GiB inflated; %d MiB allocated while refusing it", len(bomb)>>10, alloc>>20)
		if alloc > 8*protocol.MaxRequestBytes { // a quarter of the bomb; growing the buffer costs 2-3 times the cap, more under -race
			t.Errorf("refusing a gzip bomb allocated %d MiB", alloc>>20)
		}
	})
}

func TestNewRequestRefusesTooLarge(t *testing.T) {
	big := protocol.SyncRequest{V: 1, Cursor: "c", Through: 1}
	c := goldenChanges()[0]
	c.Fields = map[string]json.RawMessage{"notes": json.RawMessage(`"` + strings.Repeat("x", protocol.MaxRequestBytes) + `"`)}
	big.Changes = []protocol.Change{c}
	_, err := protocol.NewRequest(context.Background(), http.MethodPost, "http://127.0.0.1:1/v1/sync", "t", big)
	if !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("NewRequest with a %d MiB body: %v", protocol.MaxRequestBytes>>20, err)
	}
	_, err = protocol.NewRequest(context.Background(), http.MethodPost, "192.168.1.10:8080/v1/sync", "t", nil)
	checkInvalid(t, err, "url")
}

// TestSyncOverHTTP sends the golden request with NewRequest through a real
// server and reads the answer with ReadResponse.
func TestSyncOverHTTP(t *testing.T) {
	e := newEcho(t)
	in := protocol.SyncRequest{V: protocol.Version, Cursor: "c1.4211", Through: 57, Changes: goldenChanges()}
	req, err := protocol.NewRequest(context.Background(), http.MethodPost, e.srv.URL+protocol.PathSync, "tok en", in)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer headers: %v", resp.Header)
	}
	if resp.Header.Get("Date") == "" {
		t.Error("no Date header: the device could not correct its clock after ErrClockAhead")
	}
	var out protocol.SyncResponse
	if err := protocol.ReadResponse(resp, &out); err != nil {
		t.Fatal(err)
	}
	h := *e.last.Load()
	if h.Get("Content-Encoding") != "gzip" || h.Get("Authorization") != "Bearer tok en" {
		t.Errorf("request headers: %v", h)
	}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header = h
	if tok, ok := protocol.BearerToken(r); !ok || tok != "tok en" {
		t.Errorf("BearerToken = %q, %v", tok, ok)
	}
	want := protocol.SyncResponse{V: 1, Now: protocol.At(now), Acked: 57, Changes: in.Changes, Cursor: "c1.4211+"}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("answer:\ngot:  %+v\nwant: %+v", out, want)
	}

	// A no-op sync travels uncompressed both ways: too small to gain.
	req, _ = protocol.NewRequest(context.Background(), http.MethodPost, e.srv.URL+protocol.PathSync, "t",
		protocol.SyncRequest{V: protocol.Version, Cursor: "c1.4242", Through: 57})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a no-op sync is compressed: request %q, answer %q", req.Header.Get("Content-Encoding"), resp.Header.Get("Content-Encoding"))
	}
	if err := protocol.ReadResponse(resp, &out); err != nil || out.Changes == nil || len(out.Changes) != 0 || out.Cursor != "c1.4242+" {
		t.Errorf("no-op answer %+v, %v", out, err)
	}
}

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "Bearer ": "", "": "",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", h)
		got, ok := protocol.BearerToken(r)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}

func TestAcceptEncoding(t *testing.T) {
	big := protocol.Health{OK: true, V: 1}
	payload := struct {
		protocol.Health
		Pad string `json:"pad"`
	}{big, strings.Repeat("帮扶", 200)}
	for ae, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false,
		"*": true, "gzip;q=0, *": false, "br": false, "x-gzip": true, "identity": false,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if ae != "" {
			r.Header.Set("Accept-Encoding", ae)
		}
		w := httptest.NewRecorder()
		if err := protocol.WriteJSON(w, r, http.StatusOK, payload); err != nil {
			t.Fatal(err)
		}
		if got := w.Header().Get("Content-Encoding") == "gzip"; got != want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", ae, got, want)
		}
		if w.Header().Get("Content-Length") != fmt.Sprint(w.Body.Len()) {
			t.Errorf("Content-Length %s for %d bytes", w.Header().Get("Content-Length"), w.Body.Len())
		}
	}
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{domain.Errorf(domain.EINVALID, "", "错", "bad"), 400},
		{domain.Errorf(domain.EUNAUTHORIZED, "", "错", "bad"), 401},
		{domain.Errorf(domain.EFORBIDDEN, "", "错", "bad"), 403},
		{domain.ErrNotFound, 404},
		{fmt.Errorf("server: load visit: %w", domain.ErrNotFound), 404},
		{domain.Errorf(domain.ECONFLICT, "", "错", "bad"), 409},
		{domain.Errorf(domain.EUNAVAILABLE, "", "错", "bad"), 503},
		{domain.Errorf(domain.EINTERNAL, "", "错", "bad"), 500},
		{domain.Errorf("teapot", "", "错", "bad"), 500},
		{errors.New("disk full"), 500},
	}
	for _, tt := range tests {
		if got := protocol.StatusCode(tt.err); got != tt.want {
			t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestClientErrors checks what a client makes of every kind of answer a real
// server, a proxy or a Wi-Fi login page can give.
func TestClientErrors(t *testing.T) {
	var handler atomic.Pointer[http.HandlerFunc]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load())(w, r) }))
	defer srv.Close()
	tests := []struct {
		name      string
		h         http.HandlerFunc
		code      string
		transient bool
		is        error
	}{
		{"unauthorized", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, domain.Errorf(domain.EUNAUTHORIZED, "token", "设备已被注销", "the device was revoked"))
		}, domain.EUNAUTHORIZED, false, nil},
		{"forbidden", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, domain.Errorf(domain.EFORBIDDEN, "", "无权修改其他社的农户", "not your group's household"))
		}, domain.EFORBIDDEN, false, nil},
		{"clock ahead", func(w http.ResponseWriter, r *http.Request) {
			c := changeOf(t, samples()[0])
			c.Stamp.Wall = now.Add(time.Hour).UnixMilli()
			protocol.WriteError(w, r, protocol.CheckStamps([]domain.Change{c}, now))
		}, domain.EINVALID, false, protocol.ErrClockAhead},
		{"internal", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, errors.New("bbolt: /srv/bangfu/data.db: input/output error"))
		}, domain.EINTERNAL, true, nil},
		{"unavailable", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, domain.Errorf(domain.EUNAVAILABLE, "", "服务器正在关闭", "the server is shutting down"))
		}, domain.EUNAVAILABLE, true, nil},
		{"proxy 502", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}, domain.EUNAVAILABLE, true, nil},
		{"rate limited 429", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTooManyRequests)
		}, domain.EUNAVAILABLE, true, nil},
		{"proxy 413", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}, domain.EINVALID, false, nil},
		{"wrong address 404", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, domain.ENOTFOUND, false, nil},
		{"Wi-Fi login page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html>请先登录 Wi-Fi</html>")
		}, domain.EUNAVAILABLE, true, nil},
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "500")
			io.WriteString(w, `{"v":1,"now":"2025-03-01T08:30:00.125Z","acked":5`)
		}, domain.EUNAVAILABLE, true, nil},
		{"gzip cut short", func(w http.ResponseWriter, r *http.Request) {
			z := gz(t, readGolden(t, "sync_response.json"))
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(z[:len(z)/2]) // chunked, ended early but cleanly
		}, domain.EUNAVAILABLE, true, nil},
		{"newer server", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteJSON(w, r, 200, map[string]any{"v": 2, "now": "2025-03-01T08:30:00.125Z", "pages": 3})
		}, domain.EINVALID, false, protocol.ErrVersion},
		{"bad rejection from the server", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteJSON(w, r, 200, protocol.SyncResponse{V: 1, Now: protocol.At(now), Cursor: "c",
				Rejected: []protocol.Rejection{{ID: "visit 1", Code: "invalid", Zh: "错", En: "bad"}}})
		}, domain.EINVALID, false, nil},
		{"unknown kind from the server", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteJSON(w, r, 200, json.RawMessage(`{"v":1,"now":"2025-03-01T08:30:00.125Z","acked":0,"changes":[`+change("kind", "video")+`],"cursor":"c","more":false}`))
		}, domain.EINVALID, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handler.Store(&tt.h)
			req, err := protocol.NewRequest(context.Background(), http.MethodPost, srv.URL+protocol.PathSync, "t",
				protocol.SyncRequest{V: 1})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.code == domain.EUNAUTHORIZED && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			var out protocol.SyncResponse
			err = protocol.ReadResponse(resp, &out)
			var e *domain.Error
			if !errors.As(err, &e) {
				t.Fatalf("ReadResponse: %v (%T), want a *domain.Error", err, err)
			}
			if e.Code != tt.code {
				t.Errorf("code %q, want %q: %v", e.Code, tt.code, e)
			}
			checkBilingual(t, e)
			if protocol.Transient(err) != tt.transient {
				t.Errorf("Transient(%v) = %v, want %v", err, !tt.transient, tt.transient)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%v does not match %v", err, tt.is)
			}
			if strings.Contains(e.Zh+e.En, "bbolt") {
				t.Errorf("internal detail reached the client: %v", e)
			}
		})
	}
}

func TestTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	req, _ := protocol.NewRequest(context.Background(), http.MethodGet, url+protocol.PathHealth, "", nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil || !protocol.Transient(err) {
		t.Errorf("connection refused: Transient(%v) = false", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ = protocol.NewRequest(ctx, http.MethodGet, url+protocol.PathHealth, "", nil)
	_, err = http.DefaultClient.Do(req)
	if err == nil || protocol.Transient(err) {
		t.Errorf("cancelled: Transient(%v) = true", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	req, _ = protocol.NewRequest(ctx, http.MethodGet, url+protocol.PathHealth, "", nil)
	if _, err = http.DefaultClient.Do(req); err == nil || !protocol.Transient(err) {
		t.Errorf("timed out: Transient(%v) = false", err)
	}
	if protocol.Transient(nil) {
		t.Error("Transient(nil)")
	}
}

func TestErrorBodyHidesInternals(t *testing.T) {
	b := protocol.ErrorBodyOf(fmt.Errorf("store: open /var/lib/bangfu/secret.db: %w", errors.New("permission denied")))
	if b.Error.Code != domain.EINTERNAL || strings.Contains(b.Error.Zh+b.Error.En, "secret") {
		t.Errorf("internal error body: %+v", b)
	}
	wrapped := fmt.Errorf("server: apply: %w", domain.Errorf(domain.EFORBIDDEN, "record", "无权修改", "not allowed"))
	b = protocol.ErrorBodyOf(wrapped)
	if b.Err().Code != domain.EFORBIDDEN || b.Err().Field != "record" || b.Err().En != "not allowed" {
		t.Errorf("wrapped domain error body: %+v", b)
	}
}

func TestHealthAndEnroll(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+protocol.PathHealth, func(w http.ResponseWriter, r *http.Request) {
		protocol.WriteJSON(w, r, http.StatusOK, protocol.Health{OK: true, V: protocol.Version})
	})
	mux.HandleFunc("POST "+protocol.PathEnroll, func(w http.ResponseWriter, r *http.Request) {
		var req protocol.EnrollRequest
		if err := protocol.ReadRequest(r, &req); err != nil {
			protocol.WriteError(w, r, err)
			return
		}
		protocol.WriteJSON(w, r, http.StatusOK, protocol.EnrollResponse{V: protocol.Version, Device: phone, Token: "t." + req.Code, Cadre: cadre, Now: protocol.At(now)})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path string, in, out any) error {
		req, err := protocol.NewRequest(context.Background(), method, srv.URL+path, "", in)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return protocol.ReadResponse(resp, out)
	}
	var h protocol.Health
	if err := do(http.MethodGet, protocol.PathHealth, nil, &h); err != nil || h != (protocol.Health{OK: true, V: 1}) {
		t.Errorf("health: %+v, %v", h, err)
	}
	var er protocol.EnrollResponse
	if err := do(http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{V: 1, Code: "7QK4", Name: "马兴文的手机", Device: phone}, &er); err != nil {
		t.Fatal(err)
	}
	if er.Token != "t.7QK4" || er.Device != phone || !er.Now.Equal(now) {
		t.Errorf("enrol: %+v", er)
	}
	err := do(http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{V: 1, Code: " ", Name: "手机"}, &er)
	checkInvalid(t, err, "code")
	err = do(http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{V: 1, Code: "7QK4", Device: phone}, &er)
	checkInvalid(t, err, "name")
	err = do(http.MethodPost, protocol.PathEnroll, protocol.EnrollRequest{V: 1, Code: "7QK4", Name: "手机"}, &er)
	checkInvalid(t, err, "device")
}

// TestChangesError: a push refused for some of its changes names them in
// the error body; the client gets them back as a *protocol.ChangesError that
// is still the *domain.Error (code, field, words, not transient). A list it
// cannot read whole, or an empty one, names nothing: the error stays the
// error of the whole push, as from an older server.
func TestChangesError(t *testing.T) {
	a, b := id("change: visit"), id("change: delete problem")
	refusal := domain.Errorf(domain.EFORBIDDEN, "scope", "超出您的负责范围：不能修改", "outside your responsibilities: may not change")
	tests := []struct {
		name string
		h    http.HandlerFunc
		want []uuid.UUID // nil: no ChangesError
	}{
		{"two changes", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, fmt.Errorf("server: push: %w", &protocol.ChangesError{Err: refusal, Changes: []uuid.UUID{a, b}}))
		}, []uuid.UUID{a, b}},
		{"golden body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write(readGolden(t, "error_scope.json"))
		}, []uuid.UUID{a, b}},
		{"older server", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, refusal)
		}, nil},
		{"empty list", func(w http.ResponseWriter, r *http.Request) {
			protocol.WriteError(w, r, &protocol.ChangesError{Err: refusal})
		}, nil},
		{"a bad ID in the list", func(w http.ResponseWriter, r *http.Request) {
			body := protocol.ErrorBodyOf(refusal)
			body.Error.Changes = []string{a.String(), "visit 1"}
			protocol.WriteJSON(w, r, http.StatusForbidden, body)
		}, nil},
		{"a zero ID in the list", func(w http.ResponseWriter, r *http.Request) {
			body := protocol.ErrorBodyOf(refusal)
			body.Error.Changes = []string{uuid.Nil.String()}
			protocol.WriteJSON(w, r, http.StatusForbidden, body)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			req, err := protocol.NewRequest(context.Background(), http.MethodPost, srv.URL+protocol.PathSync, "t", protocol.SyncRequest{V: 1})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d", resp.StatusCode)
			}
			err = protocol.ReadResponse(resp, new(protocol.SyncResponse))
			if domain.ErrorCode(err) != domain.EFORBIDDEN || !errors.Is(err, &domain.Error{Code: domain.EFORBIDDEN, Field: "scope"}) || protocol.Transient(err) {
				t.Errorf("error %v (%T): code %q", err, err, domain.ErrorCode(err))
			}
			if !strings.HasPrefix(domain.Message(err, "zh"), "超出您的负责范围") || !strings.HasPrefix(domain.Message(err, "en"), "outside your responsibilities") {
				t.Errorf("words: %q / %q", domain.Message(err, "zh"), domain.Message(err, "en"))
			}
			var ce *protocol.ChangesError
			got := errors.As(err, &ce)
			if tt.want == nil {
				if got {
					t.Errorf("names changes %v, want none", ce.Changes)
				}
				return
			}
			if !got || !reflect.DeepEqual(ce.Changes, tt.want) || ce.Err.Code != domain.EFORBIDDEN {
				t.Errorf("ChangesError %+v (%v), want changes %v", ce, got, tt.want)
			}
		})
	}
}
