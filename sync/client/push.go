package client

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// keep returns the records of the rejected changes the user has still to
// see (rejected, if not nil, replaces the current list): they stay on the
// device, with their households, even out of its scope.
func (c *Client) keep(rejected []Rejected) []uuid.UUID {
	if rejected == nil {
		c.mu.Lock()
		rejected = c.status.Rejected
		c.mu.Unlock()
	}
	out := make([]uuid.UUID, 0, len(rejected))
	for _, r := range rejected {
		out = append(out, r.Record)
	}
	return out
}

// retries returns the changes set aside as out of scope to offer again
// after a catch-up (none unless one ended since they were last offered), by
// change ID, but those in tried.
func (c *Client) retries(tried map[uuid.UUID]bool, recheck bool) (map[uuid.UUID]store.Entry, error) {
	if v, err := c.db.Cursor(keyRetry); err != nil || v == "" && !recheck {
		return nil, err
	}
	return c.candidates(tried)
}

// candidates returns the changes set aside as out of scope, by change ID,
// but those in tried.
func (c *Client) candidates(tried map[uuid.UUID]bool) (map[uuid.UUID]store.Entry, error) {
	c.mu.Lock()
	rs := slices.Clone(c.status.Rejected)
	c.mu.Unlock()
	out := map[uuid.UUID]store.Entry{}
	for _, r := range rs {
		if r.Err == nil || r.Err.Code != domain.EFORBIDDEN || tried[r.Change] {
			continue
		}
		e, ok, err := c.db.EntryOf(r.Change)
		if err != nil {
			return nil, err
		}
		if ok {
			out[r.Change] = e
		}
	}
	return out, nil
}

// outbox builds the push after sequence push: the log entries not received
// from upstream nor set aside, within the page budget. through is the last
// sequence the push covers; full reports that more entries wait; sent holds
// the entries sent, by change ID.
func (c *Client) outbox(upstream uuid.UUID, push uint64) (req protocol.SyncRequest, through uint64, full bool, sent map[uuid.UUID]store.Entry, err error) {
	req = protocol.SyncRequest{V: protocol.Version}
	through = push
	sent = map[uuid.UUID]store.Entry{}
	aside := c.asideCopy()
	size := 0
	err = c.db.Log(push, func(e store.Entry) (bool, error) {
		if _, skip := aside[e.Change.ID]; skip || e.From == upstream {
			through = e.Seq
			return true, nil
		}
		w, err := protocol.FromDomain(e.Change)
		if err != nil {
			return false, fmt.Errorf("client: log entry %d: %w", e.Seq, err)
		}
		n := w.Size()
		if len(req.Changes) > 0 && size+n > protocol.PageBytes {
			full = true
			return false, nil
		}
		req.Changes = append(req.Changes, w)
		sent[e.Change.ID] = e
		size += n
		through = e.Seq
		return true, nil
	})
	req.Through = through
	return req, through, full, sent, err
}

// rejected returns the rejections kept for the user with rs, the changes
// the upstream refused in the last answer, added (the newest maxRejected).
func (c *Client) rejected(rs []protocol.Rejection, sent map[uuid.UUID]store.Entry) []Rejected {
	now := c.now()
	c.mu.Lock()
	out := append([]Rejected(nil), c.status.Rejected...)
	c.mu.Unlock()
	for _, r := range rs {
		id, _ := uuid.Parse(r.ID)
		ch := sent[id].Change
		c.log.Warn("change rejected by the server", "change", id, "kind", ch.Kind, "record", ch.Record, "reason", r.En)
		out = append(out, Rejected{Change: id, Kind: ch.Kind, Record: ch.Record, At: now, Err: r.Err()})
	}
	out = trimRejected(out)
	return out
}

// setAside sets aside the changes of the push sent that the upstream refused
// (ce: out of the device's scope, or beyond its cadre's role): they are added to the rejected changes
// with ce's words, and to the changes never to be sent, both stored in one
// transaction. It returns how many it set aside: 0 when ce names none of
// the push that is not already set aside.
func (c *Client) setAside(ce *protocol.ChangesError, sent map[uuid.UUID]store.Entry) (int, error) {
	now := c.now()
	c.mu.Lock()
	aside := maps.Clone(c.aside)
	rejected := append([]Rejected(nil), c.status.Rejected...)
	c.mu.Unlock()
	n := 0
	for _, id := range ce.Changes {
		e, ok := sent[id]
		if _, done := aside[id]; !ok || done {
			continue
		}
		aside[id] = e.Seq
		rejected = append(rejected, Rejected{Change: id, Kind: e.Change.Kind, Record: e.Change.Record, At: now, Err: ce.Err})
		n++
		c.log.Warn("change refused by the upstream set aside", "field", ce.Err.Field, "change", id, "kind", e.Change.Kind, "record", e.Change.Record, "seq", e.Seq, "reason", ce.Err.En)
	}
	if n == 0 {
		return 0, nil
	}
	rejected = trimRejected(rejected)
	rv, _ := json.Marshal(rejected)
	if err := c.db.SetCursors(map[string]string{keyAside: encodeAside(aside), keyRejected: string(rv), keyRecheck: "1"}); err != nil {
		return 0, fmt.Errorf("client: set aside changes out of scope: %w", err)
	}
	c.mu.Lock()
	c.aside, c.status.Rejected = aside, rejected
	c.mu.Unlock()
	c.publish()
	return n, nil
}

// asideEntry is a change set aside, as stored.
type asideEntry struct {
	Change uuid.UUID `json:"change"`
	Seq    uint64    `json:"seq"`
}

// loadAside reads the changes set aside.
func loadAside(db *store.DB) (map[uuid.UUID]uint64, error) {
	aside := map[uuid.UUID]uint64{}
	v, err := db.Cursor(keyAside)
	if err != nil || v == "" {
		return aside, err
	}
	var list []asideEntry
	if err := json.Unmarshal([]byte(v), &list); err != nil {
		return nil, fmt.Errorf("client: stored changes set aside: %w", err)
	}
	for _, a := range list {
		aside[a.Change] = a.Seq
	}
	return aside, nil
}

// encodeAside is the stored form of the changes set aside, in log order.
func encodeAside(aside map[uuid.UUID]uint64) string {
	if len(aside) == 0 {
		return ""
	}
	list := make([]asideEntry, 0, len(aside))
	for id, seq := range aside {
		list = append(list, asideEntry{id, seq})
	}
	slices.SortFunc(list, func(a, b asideEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	v, _ := json.Marshal(list)
	return string(v)
}

// asideCopy returns the changes set aside.
func (c *Client) asideCopy() map[uuid.UUID]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.aside)
}

// pruneAside returns the changes set aside after sequence push: those the
// push cursor will not have passed once at push. ok is false when that is
// all of them.
func (c *Client) pruneAside(push uint64) (kept map[uuid.UUID]uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept = map[uuid.UUID]uint64{}
	for id, seq := range c.aside {
		if seq > push {
			kept[id] = seq
		}
	}
	return kept, len(kept) < len(c.aside)
}

// ClearRejected forgets the rejected changes once the user has seen them. It
// waits for a sync under way, which may be adding some. Changes set aside as
// out of scope stay unsent.
func (c *Client) ClearRejected() error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	if err := c.db.SetCursor(keyRejected, ""); err != nil {
		return fmt.Errorf("client: clear rejected: %w", err)
	}
	c.mu.Lock()
	c.status.Rejected = nil
	c.mu.Unlock()
	c.publish()
	return nil
}
