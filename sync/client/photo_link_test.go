package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// link shapes a device's connections like a slow mobile network: every
// byte, both ways, waits its turn at rate bytes a second and then the
// one-way delay (there is no undelayed first packet); opening a connection
// costs a round trip; at most a bandwidth-delay product waits unsent on the
// device's side (what a real socket buffers), and it is lost if the
// connection is cut. With cutEvery set, each connection is cut that long
// after it was opened.
type link struct {
	rate     float64       // bytes per second, each way
	delay    time.Duration // one way
	cutEvery time.Duration // 0: never
	queue    int           // bytes waiting to go up at most

	cuts  atomic.Int64
	dials atomic.Int64
}

// mobile returns a 256 kbit/s link with a 600 ms round trip, cut every
// cutEvery (0: never).
func mobile(cutEvery time.Duration) *link {
	l := &link{rate: 256_000 / 8, delay: 300 * time.Millisecond, cutEvery: cutEvery}
	l.queue = int(l.rate * (2 * l.delay).Seconds()) // the bandwidth-delay product
	return l
}

// client returns an HTTP client whose connections go through l.
func (l *link) client(wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	tr := &http.Transport{DialContext: l.dial, MaxIdleConnsPerHost: 2, ForceAttemptHTTP2: false}
	var rt http.RoundTripper = tr
	if wrap != nil {
		rt = wrap(tr)
	}
	return &http.Client{Transport: rt, Timeout: 5 * time.Minute}
}

func (l *link) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	raw, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	l.dials.Add(1)
	select { // SYN, SYN-ACK
	case <-time.After(2 * l.delay):
	case <-ctx.Done():
		raw.Close()
		return nil, ctx.Err()
	}
	c := &shaped{Conn: raw, l: l, up: newPipe(), down: newPipe()}
	go c.upLoop()
	go c.downLoop()
	if l.cutEvery > 0 {
		c.cut = time.AfterFunc(l.cutEvery, func() {
			l.cuts.Add(1)
			c.Close()
		})
	}
	return c, nil
}

var errCut = errors.New("link: connection cut")

// piece is bytes on their way, due at at.
type piece struct {
	b  []byte
	at time.Time
}

// pipe is one direction of a shaped connection.
type pipe struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []piece
	queued int
	last   time.Time // when the last queued byte has left the sender
	closed bool
}

func newPipe() *pipe {
	p := &pipe{}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// push queues b behind what waits, waiting while more than max bytes do
// (max 0: no bound).
func (p *pipe) push(b []byte, l *link, max int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for max > 0 && p.queued >= max && !p.closed {
		p.cond.Wait()
	}
	if p.closed {
		return errCut
	}
	now := time.Now()
	start := p.last
	if start.Before(now) {
		start = now
	}
	p.last = start.Add(time.Duration(float64(len(b)) / l.rate * float64(time.Second)))
	p.q = append(p.q, piece{b: append([]byte(nil), b...), at: p.last.Add(l.delay)})
	p.queued += len(b)
	p.cond.Broadcast()
	return nil
}

// pop returns the next piece once it is due; nil once closed (what had not
// arrived is lost).
func (p *pipe) pop() []byte {
	p.mu.Lock()
	for len(p.q) == 0 && !p.closed {
		p.cond.Wait()
	}
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	next := p.q[0]
	p.mu.Unlock()
	if d := time.Until(next.at); d > 0 {
		time.Sleep(d)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.q = p.q[1:]
	p.queued -= len(next.b)
	p.cond.Broadcast()
	return next.b
}

func (p *pipe) close() {
	p.mu.Lock()
	p.closed = true
	p.q = nil
	p.cond.Broadcast()
	p.mu.Unlock()
}

// shaped is a connection through a link.
type shaped struct {
	net.Conn
	l        *link
	up, down *pipe
	cut      *time.Timer
	rest     []byte // of the piece being read
	once     sync.Once
}

const mtu = 1460

func (c *shaped) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), mtu)
		if err := c.up.push(b[:k], c.l, c.l.queue); err != nil {
			return n, err
		}
		n += k
		b = b[k:]
	}
	return n, nil
}

func (c *shaped) upLoop() {
	for {
		b := c.up.pop()
		if b == nil {
			return
		}
		if _, err := c.Conn.Write(b); err != nil {
			c.Close()
			return
		}
	}
}

func (c *shaped) downLoop() {
	buf := make([]byte, mtu)
	for {
		n, err := c.Conn.Read(buf)
		if n > 0 {
			if c.down.push(buf[:n], c.l, 0) != nil {
				return
			}
		}
		if err != nil {
			// The server closed: what is on its way still arrives.
			c.down.push(nil, c.l, 0)
			return
		}
	}
}

func (c *shaped) Read(b []byte) (int, error) {
	if len(c.rest) == 0 {
		p := c.down.pop()
		if p == nil {
			return 0, errCut
		}
		if len(p) == 0 {
			return 0, io.EOF // the server's end
		}
		c.rest = p
	}
	n := copy(b, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}

func (c *shaped) Close() error {
	c.once.Do(func() {
		if c.cut != nil {
			c.cut.Stop()
		}
		c.up.close()
		c.down.close()
		c.Conn.Close()
	})
	return nil
}

// SetDeadline and the like are not shaped; the transport sets none here.
func (c *shaped) SetDeadline(t time.Time) error      { return nil }
func (c *shaped) SetReadDeadline(t time.Time) error  { return nil }
func (c *shaped) SetWriteDeadline(t time.Time) error { return nil }
