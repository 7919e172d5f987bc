package client_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"bangfu/sync/client"
	"bangfu/sync/synctest"
)

// closingProxy forwards connections to addr and closes each one, without
// forwarding, as soon as a second request arrives on it after an answer:
// a server that closes an idle keep-alive connection just as the client
// reuses it (it does so when it restarts or shuts idle connections).
type closingProxy struct {
	ln     net.Listener
	addr   string
	closed atomic.Int32
}

func newClosingProxy(t *testing.T, addr string) *closingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &closingProxy{ln: ln, addr: addr}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *closingProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.addr)
	if err != nil {
		return
	}
	defer s.Close()
	var answered atomic.Bool
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := s.Read(buf)
			if n > 0 {
				answered.Store(true)
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if answered.Load() {
				p.closed.Add(1)
				return // the next request on a used connection: closed unanswered
			}
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestSyncOverClosedIdleConnection: a sync whose request goes out on a
// keep-alive connection the server closed meanwhile is sent again on a new
// one (the sync is idempotent: pushed changes are applied once by ID, the
// pull is read from the cursor), rather than failing with "cannot reach
// the server" on every phone once after each server restart.
func TestSyncOverClosedIdleConnection(t *testing.T) {
	srv, w := setup(t)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newClosingProxy(t, u.Host)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, proxy.ln.Addr().String())
	}
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{HTTP: &http.Client{Transport: tr}}, nil)
	if err := phone.Sync(); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	for i := range 3 {
		visit(t, phone, w.Group(w.G1)[i], "入户走访：家中有人，饮水正常")
		if err := phone.Sync(); err != nil {
			t.Fatalf("sync %d: %v", i+2, err)
		}
	}
	if proxy.closed.Load() == 0 {
		t.Fatal("no request went out on a connection the server had closed")
	}
	if st := phone.Client.Status(); st.Pending != 0 {
		t.Fatalf("%d changes wait after four syncs", st.Pending)
	}
}
