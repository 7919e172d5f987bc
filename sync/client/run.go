package client

import (
	"context"
	"time"

	"bangfu/sync/protocol"
)

// Trigger asks Run to sync now. It never blocks.
func (c *Client) Trigger() {
	c.photos.triggers.Add(1) // an upload under way yields (photos.go)
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// Run syncs in the background until ctx is done: when triggered,
// every Interval, and, after a transient failure, as soon as a probe finds
// the upstream reachable again (probing with exponential backoff and
// jitter). After a permanent failure it waits for Trigger. Run is meant to be
// started once, in its own goroutine.
func (c *Client) Run(ctx context.Context) {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		panic("client: Run called twice")
	}
	c.running = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
	}()

	const (
		idle    = iota // synced: next at Interval
		backoff        // transient failure: probe after a backoff
		stopped        // permanent failure or not enrolled: wait for Trigger
	)
	state, attempt := idle, 0
	var wait <-chan time.Time
	var timer *time.Timer
	arm := func(d time.Duration) {
		if timer != nil {
			timer.Stop()
		}
		if d < 0 {
			wait = nil
			return
		}
		timer = time.NewTimer(d)
		wait = timer.C
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	syncNow := func() {
		err := c.Sync(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			state, attempt = idle, 0
			arm(c.opts.Interval)
		case protocol.Transient(err):
			state = backoff
			attempt++
			arm(c.backoff(attempt))
		default:
			state = stopped
			c.log.Warn("sync stopped until asked again", "err", err)
			arm(-1)
		}
	}
	if c.Status().Enrolled {
		select {
		case <-c.trigger: // the first sync answers it
		default:
		}
		syncNow()
	} else {
		state = stopped
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.trigger:
			syncNow()
		case <-wait:
			if state != backoff {
				syncNow()
				continue
			}
			c.mu.Lock()
			url := c.acct.URL
			c.mu.Unlock()
			if c.probe(ctx, url) {
				c.setReachable(true)
				syncNow()
				continue
			}
			if ctx.Err() != nil {
				return
			}
			c.setReachable(false)
			attempt++
			arm(c.backoff(attempt))
		}
	}
}

// backoff returns the wait before attempt n (from 1): MinBackoff doubled
// n-1 times, capped at MaxBackoff, then jittered to between half and all of
// it, so that devices that failed together do not come back together.
func (c *Client) backoff(n int) time.Duration {
	d := c.opts.MinBackoff
	for i := 1; i < n && d < c.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.opts.MaxBackoff)
	c.mu.Lock()
	j := time.Duration(c.rng.Int64N(int64(d/2) + 1))
	c.mu.Unlock()
	return d/2 + j
}
