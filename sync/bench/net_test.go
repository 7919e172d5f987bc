package bench_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// usage is what one device put on the wire.
type usage struct {
	Requests int64 // HTTP requests sent
	Sent     int64 // bytes written to sockets: request lines, headers, bodies
	Received int64 // bytes read from sockets: status lines, headers, bodies
	Dials    int64 // connections opened
}

// Bytes returns the bytes both ways.
func (u usage) Bytes() int64 { return u.Sent + u.Received }

// add returns the sum of u and v.
func (u usage) add(v usage) usage {
	return usage{Requests: u.Requests + v.Requests, Sent: u.Sent + v.Sent,
		Received: u.Received + v.Received, Dials: u.Dials + v.Dials}
}

// sub returns the usage between an earlier snapshot and u.
func (u usage) sub(before usage) usage {
	return usage{Requests: u.Requests - before.Requests, Sent: u.Sent - before.Sent,
		Received: u.Received - before.Received, Dials: u.Dials - before.Dials}
}

// meter is one device's network: an http.RoundTripper over its own
// http.Transport, whose connections count every byte they read and write,
// optionally through a shaper. The transport keeps connections alive between
// syncs, as a device's does.
type meter struct {
	transport *http.Transport
	requests  atomic.Int64
	sent      atomic.Int64
	received  atomic.Int64
	dials     atomic.Int64
}

// newMeter returns a meter dialling directly, or through s when s is not nil.
func newMeter(s *shaper) *meter {
	m := &meter{}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	m.transport = &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if s != nil {
				if err := s.handshake(ctx); err != nil {
					return nil, err
				}
			}
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			m.dials.Add(1)
			var conn net.Conn = &countingConn{Conn: c, m: m}
			if s != nil {
				conn = s.wrap(conn)
			}
			return conn, nil
		},
		// The protocol asks for gzip itself and reads it itself; the
		// transport must not add or strip anything.
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}
	return m
}

// RoundTrip counts the request and sends it.
func (m *meter) RoundTrip(r *http.Request) (*http.Response, error) {
	m.requests.Add(1)
	return m.transport.RoundTrip(r)
}

// client returns an http.Client that goes through m.
func (m *meter) client() *http.Client { return &http.Client{Transport: m} }

// usage returns what the device has put on the wire so far.
func (m *meter) usage() usage {
	return usage{Requests: m.requests.Load(), Sent: m.sent.Load(), Received: m.received.Load(), Dials: m.dials.Load()}
}

// close drops the idle connections, so that the next request dials afresh.
func (m *meter) close() { m.transport.CloseIdleConnections() }

// countingConn counts the bytes that cross a socket, below any shaping.
type countingConn struct {
	net.Conn
	m *meter
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.m.received.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.m.sent.Add(int64(n))
	return n, err
}

// shaper is a weak mobile link: every byte arrives delay after it was sent,
// and each direction carries at most rate bytes a second (a token bucket
// with a burst of one packet). Opening a connection costs one round trip, as
// a TCP handshake does. The buckets are shared by all connections of one
// device, as its radio is.
type shaper struct {
	delay    time.Duration
	up, down *bucket
}

// newShaper returns the link of the issue: 300 ms each way, 256 kbit/s.
func newShaper() *shaper {
	const rate = 256_000 / 8 // bytes per second
	return &shaper{delay: 300 * time.Millisecond, up: newBucket(rate, 1500), down: newBucket(rate, 1500)}
}

// handshake waits the round trip a connection takes to open.
func (s *shaper) handshake(ctx context.Context) error {
	t := time.NewTimer(2 * s.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bucket is a token bucket: tokens are bytes, earned at rate a second up to
// burst. Taking more than there are leaves a debt that paces later takers.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// take takes n bytes' worth of tokens at now and returns how long until the
// last of those bytes has gone through.
func (b *bucket) take(now time.Time, n int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// chunk is bytes in flight on a shaped link, due at the far end at due.
type chunk struct {
	b   []byte
	due time.Time
	err error // the end of the stream, after the bytes before it
}

// shapedConn carries a connection's bytes over a shaper: what is written is
// paced by the up bucket and handed to the socket delay later; what the
// socket yields is paced by the down bucket and readable delay later.
type shapedConn struct {
	net.Conn
	s       *shaper
	out     chan chunk // written, waiting to be sent
	in      chan chunk // received, waiting to be read
	closed  chan struct{}
	once    sync.Once
	wmu     sync.Mutex
	werr    error
	cur     []byte // the rest of the chunk being read
	rerr    error
	lastDue time.Time // of the latest chunk queued on in
}

func (s *shaper) wrap(c net.Conn) net.Conn {
	sc := &shapedConn{Conn: c, s: s, out: make(chan chunk, 4096), in: make(chan chunk, 4096), closed: make(chan struct{})}
	go sc.send()
	go sc.receive()
	return sc
}

// sleepUntil waits until t, or until the connection is closed.
func (c *shapedConn) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-c.closed:
		return false
	}
}

func (c *shapedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	err := c.werr
	c.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	now := time.Now()
	wait := c.s.up.take(now, len(p))
	select {
	case c.out <- chunk{b: append([]byte(nil), p...), due: now.Add(wait + c.s.delay)}:
	case <-c.closed:
		return 0, net.ErrClosed
	}
	// The sender is held back by the link, as by a full socket buffer.
	if !c.sleepUntil(now.Add(wait)) {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

// send hands written bytes to the socket when they are due.
func (c *shapedConn) send() {
	for {
		select {
		case ch := <-c.out:
			if !c.sleepUntil(ch.due) {
				return
			}
			if _, err := c.Conn.Write(ch.b); err != nil {
				c.wmu.Lock()
				c.werr = err
				c.wmu.Unlock()
				return
			}
		case <-c.closed:
			return
		}
	}
}

// receive reads the socket and queues what arrives, due after the link's
// pacing and delay.
func (c *shapedConn) receive() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Conn.Read(buf)
		now := time.Now()
		var ch chunk
		if n > 0 {
			ch = chunk{b: append([]byte(nil), buf[:n]...), due: now.Add(c.s.down.take(now, n) + c.s.delay)}
		} else if err != nil {
			ch = chunk{err: err, due: now.Add(c.s.delay)}
		} else {
			continue
		}
		if ch.due.Before(c.lastDue) {
			ch.due = c.lastDue
		}
		c.lastDue = ch.due
		select {
		case c.in <- ch:
		case <-c.closed:
			return
		}
		if n > 0 && err != nil {
			select {
			case c.in <- chunk{err: err, due: ch.due}:
			case <-c.closed:
			}
			return
		}
		if err != nil {
			return
		}
	}
}

func (c *shapedConn) Read(p []byte) (int, error) {
	if len(c.cur) == 0 {
		if c.rerr != nil {
			return 0, c.rerr
		}
		var ch chunk
		select {
		case ch = <-c.in:
		case <-c.closed:
			return 0, net.ErrClosed
		}
		if !c.sleepUntil(ch.due) {
			return 0, net.ErrClosed
		}
		if ch.err != nil {
			c.rerr = ch.err
			return 0, ch.err
		}
		c.cur = ch.b
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

func (c *shapedConn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		close(c.closed)
		err = c.Conn.Close()
	})
	return err
}

// errShaped is returned for deadlines, which the shaper does not model.
var errShaped = errors.New("bench: deadlines are not supported on a shaped connection")

func (c *shapedConn) SetDeadline(t time.Time) error {
	if t.IsZero() {
		return c.Conn.SetDeadline(t)
	}
	return errShaped
}

func (c *shapedConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		return c.Conn.SetReadDeadline(t)
	}
	return errShaped
}

func (c *shapedConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return c.Conn.SetWriteDeadline(t)
	}
	return errShaped
}
