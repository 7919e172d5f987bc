package client

import (
	"fmt"
	"maps"
	"sync"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Status returns the current status, with the count of changes waiting.
func (c *Client) Status() Status {
	c.mu.Lock()
	s := c.status
	s.Rejected = append([]Rejected(nil), s.Rejected...)
	upstream := c.acct.Server
	aside := maps.Clone(c.aside)
	c.mu.Unlock()
	s.Pending, s.PendingErr = c.pending(upstream, aside)
	c.photoStatus(&s)
	return s
}

// pending counts the changes waiting to be sent to upstream, less those set
// aside (never to be sent). A count that cannot be read is an error, never
// 0: sign-out relies on it.
func (c *Client) pending(upstream uuid.UUID, aside map[uuid.UUID]uint64) (int, error) {
	push, _, err := c.cursors()
	if err != nil {
		return 0, fmt.Errorf("client: count the changes waiting: %w", err)
	}
	n, err := c.db.Pending(upstream, push)
	if err != nil {
		return 0, fmt.Errorf("client: count the changes waiting: %w", err)
	}
	for _, seq := range aside {
		if seq > push {
			n-- // set aside: never to be sent
		}
	}
	return n, nil
}

// Subscribe returns a channel that receives the status whenever it changes,
// and a function that ends the subscription. The channel holds only the
// latest status: a slow reader skips to it, and the client never waits for
// a reader.
func (c *Client) Subscribe() (<-chan Status, func()) {
	ch := make(chan Status, 1)
	c.mu.Lock()
	c.subs[ch] = struct{}{}
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			delete(c.subs, ch)
			c.mu.Unlock()
		})
	}
}

// publish sends the current status to every subscriber.
func (c *Client) publish() {
	s := c.Status()
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.subs {
		select {
		case <-ch: // drop the stale one
		default:
		}
		select {
		case ch <- s:
		default:
		}
	}
}

func (c *Client) setErr(err error) {
	c.mu.Lock()
	c.status.Err = err
	c.status.Reachable = domain.ErrorCode(err) != domain.EUNAVAILABLE
	c.mu.Unlock()
	c.publish()
}

func (c *Client) setReachable(ok bool) {
	c.mu.Lock()
	changed := c.status.Reachable != ok
	c.status.Reachable = ok
	c.mu.Unlock()
	if changed {
		c.publish()
	}
}
