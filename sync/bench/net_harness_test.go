package bench_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// serverCount counts the bytes a server's connections read and write: an
// independent measurement to hold the meter's against.
type serverCount struct {
	net.Listener
	read, written atomic.Int64
}

func (l *serverCount) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &serverConn{Conn: c, l: l}, nil
}

type serverConn struct {
	net.Conn
	l *serverCount
}

func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *serverConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.written.Add(int64(n))
	return n, err
}

// echoServer starts a server on 127.0.0.1 that reads the request body and
// answers with size bytes of noise after echoing the body's length in a
// header. It returns the server, its byte counts, the body it answers with
// and a channel that receives when a connection closes.
func echoServer(t *testing.T, size int) (*httptest.Server, *serverCount, []byte, chan struct{}) {
	t.Helper()
	body := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range body {
		body[i] = byte(r.IntN(256))
	}
	closed := make(chan struct{}, 16)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Got", strconv.FormatInt(n, 10))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc := &serverCount{Listener: l}
	srv.Listener = sc
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, sc, body, closed
}

// post sends n bytes to url through m and returns the answer's body.
func post(t *testing.T, m *meter, url string, n int) []byte {
	t.Helper()
	resp, err := m.client().Post(url, "application/octet-stream", bytes.NewReader(make([]byte, n)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Got") != strconv.Itoa(n) {
		t.Fatalf("the server got %s bytes of body, want %d", resp.Header.Get("X-Got"), n)
	}
	return got
}

// TestMeterCountsTheSocket checks the meter's counts against the server's own
// count of the same connection, and against the bodies they must contain.
func TestMeterCountsTheSocket(t *testing.T) {
	srv, sc, body, closed := echoServer(t, 10_000)
	m := newMeter(nil)
	for range 2 {
		if got := post(t, m, srv.URL, 5_000); !bytes.Equal(got, body) {
			t.Fatal("the answer's body was changed on the way")
		}
	}
	m.close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not see the connection close")
	}
	u := m.usage()
	if u.Requests != 2 || u.Dials != 1 {
		t.Errorf("requests %d, dials %d; want 2 requests on 1 connection", u.Requests, u.Dials)
	}
	if u.Sent != sc.read.Load() || u.Received != sc.written.Load() {
		t.Errorf("meter: sent %d, received %d; server: read %d, wrote %d", u.Sent, u.Received, sc.read.Load(), sc.written.Load())
	}
	// Bodies plus a request line, status line and headers each time.
	if u.Sent < 2*(5_000+50) || u.Sent > 2*(5_000+400) {
		t.Errorf("sent %d bytes for two 5,000-byte bodies", u.Sent)
	}
	if u.Received < 2*(10_000+50) || u.Received > 2*(10_000+400) {
		t.Errorf("received %d bytes for two 10,000-byte bodies", u.Received)
	}
}

// TestShaper checks that a shaped link delays each way, costs a round trip to
// open, caps the bandwidth, and delivers the bytes intact and in order.
func TestShaper(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 3 s of waiting")
	}
	const size = 32_000 // one second at 256 kbit/s
	srv, _, body, _ := echoServer(t, size)
	s := newShaper()
	m := newMeter(s)
	defer m.close()

	// A cold request: handshake, then the request up and the answer down.
	start := time.Now()
	post(t, m, srv.URL+"/small", 0)
	cold := time.Since(start)

	// A warm one with the large answer: one round trip plus the transfer.
	start = time.Now()
	got := post(t, m, srv.URL+"/large", 1000)
	warm := time.Since(start)
	if !bytes.Equal(got, body) {
		t.Fatal("the answer's body was changed on the way")
	}
	if m.usage().Dials != 1 {
		t.Errorf("%d dials, want 1 (the second request reuses the connection)", m.usage().Dials)
	}

	// Every answer carries the whole body; the bucket's burst of one packet
	// may go without waiting.
	rtt := 2 * s.delay
	transfer := time.Duration(float64(size-1500) / s.down.rate * float64(time.Second))
	wantCold := 2*rtt + transfer
	wantWarm := rtt + transfer
	t.Logf("cold %v (want ≥ %v), warm %v (want ≥ %v)", cold, wantCold, warm, wantWarm)
	if cold < wantCold {
		t.Errorf("a cold request took %v, less than two round trips (%v)", cold, wantCold)
	}
	if warm < wantWarm {
		t.Errorf("a warm request with a %d-byte answer took %v, less than %v", size, warm, wantWarm)
	}
	// Generous upper bounds: the shaper must not wait much more than it should.
	if slack := 3 * time.Second; cold > wantCold+slack || warm > wantWarm+slack {
		t.Errorf("the shaper waits too long: cold %v, warm %v", cold, warm)
	}
}
