package client

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// Sync syncs once with the upstream (see the package documentation) and
// returns the failure, if any, which Status reports too.
func (c *Client) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	c.status.Syncing = true
	acct := c.acct
	c.mu.Unlock()
	c.publish()

	err := c.sync(ctx, acct)

	c.mu.Lock()
	c.status.Syncing = false
	c.mu.Unlock()
	if err != nil {
		c.setErr(err)
		return err
	}
	c.sendAudit(ctx, acct)
	now := c.now()
	c.db.SetCursor(keyLast, now.Format(time.RFC3339Nano))
	c.mu.Lock()
	c.status.LastSync, c.status.Err, c.status.Reachable = now, nil, true
	c.mu.Unlock()
	c.publish()
	// The photos' bytes follow the records (photos.go).
	if err := c.syncPhotos(ctx, acct); err != nil {
		c.setErr(err)
		return err
	}
	return nil
}

func (c *Client) sync(ctx context.Context, acct account) error {
	if acct.Token == "" || acct.URL == "" {
		return ErrNotEnrolled
	}
	restamped, cursorReset := false, false
	tried := map[uuid.UUID]bool{} // changes set aside offered again in this sync and refused again
	// Changes set aside in an earlier sync are offered again once in this
	// one, whatever its answer: the scope that refused them may have
	// changed back before the device saw it change (the answer that would
	// have shown it lost), and then no catch-up comes to offer them again.
	v, err := c.db.Cursor(keyRecheck)
	if err != nil {
		return err
	}
	recheck := v != ""
	asideNow := false // changes set aside in this sync: offered again in the next
	for round := 1; ; round++ {
		push, pull, err := c.cursors()
		if err != nil {
			return err
		}
		req, through, full, sent, err := c.outbox(acct.Server, push)
		if err != nil {
			return err
		}
		// After a catch-up the device's scope is new: the changes set aside
		// as out of scope are offered again, so that those back in scope
		// reach the server rather than differ from it for good.
		retry, err := c.retries(tried, recheck)
		if err != nil {
			return err
		}
		// In log order and before the newer changes: an edit is judged
		// after the creation of its record.
		offer := slices.SortedFunc(maps.Values(retry), func(a, b store.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
		if len(offer) > 0 {
			wire := make([]protocol.Change, 0, len(offer)+len(req.Changes))
			for _, e := range offer {
				w, err := protocol.FromDomain(e.Change)
				if err != nil {
					return fmt.Errorf("client: change set aside %s: %w", e.Change.ID, err)
				}
				wire = append(wire, w)
				sent[e.Change.ID] = e
			}
			req.Changes = append(wire, req.Changes...)
		}
		req.Cursor = pull
		var resp protocol.SyncResponse
		pg := &pager{db: c.db, from: acct.Server, log: c.log}
		t0 := c.raw()
		h, err := c.send(ctx, http.MethodPost, acct.URL+protocol.PathSync, acct.Token, &req, func(r *http.Response) error {
			return protocol.ReadSync(r, &resp, pg.add)
		})
		// Every part handed over is merged before anything else happens,
		// whatever the answer was: the last part follows them.
		if derr := pg.done(); err == nil {
			err = derr
		}
		t1 := c.raw()
		var outside *protocol.ChangesError
		switch {
		case domain.ErrorCode(err) == domain.EFORBIDDEN && errors.As(err, &outside):
			// Nothing of the push was applied. Set aside the changes named
			// and push the rest at once. Each time sets aside at least one
			// change of the push, or drops one offered again, so this ends.
			again := 0
			fresh := &protocol.ChangesError{Err: outside.Err}
			for _, id := range outside.Changes {
				e, ok := retry[id]
				if !ok {
					fresh.Changes = append(fresh.Changes, id)
					continue
				}
				if !tried[id] {
					tried[id] = true
					again++
					c.log.Debug("change set aside still out of scope", "change", id, "record", e.Change.Record)
				}
			}
			for _, id := range fresh.Changes {
				tried[id] = true // set aside in this sync: not offered again in it
			}
			n, aerr := c.setAside(fresh, sent)
			asideNow = asideNow || n > 0
			if aerr == nil && n+again == 0 {
				return err
			}
			if aerr != nil {
				return aerr
			}
			continue
		case errors.Is(err, protocol.ErrClockAhead) && !restamped:
			restamped = true
			date, derr := http.ParseTime(h.Get("Date"))
			if derr != nil {
				return err
			}
			// Restamp also corrects and stores the clock's offset.
			n, rerr := c.db.Restamp(push, date)
			if rerr != nil {
				return rerr
			}
			c.log.Warn("clock ahead of the server: restamped unsent changes", "changes", n, "offset", c.db.Clock().Offset())
			continue
		case errors.Is(err, protocol.ErrCursor) && !cursorReset:
			// The server does not know the cursor: it is another server, or
			// its database was restored from a backup and lost what came
			// after. Pull from the start, and push again everything made
			// here: what the server has already it skips by change ID, what
			// it lost it gets back. The push is refused together with the
			// cursor, so nothing of it was applied.
			cursorReset = true
			c.log.Warn("the server cannot resume from the pull cursor: pulling from the start and pushing everything made here again")
			if err := c.db.SetCursors(map[string]string{keyPull: "", keyPush: "0"}); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}

		acked := min(resp.Acked, through)
		// What was not handed over as it arrived (an answer in another
		// order) follows what was, as the page's last part.
		changes, err := protocol.DecodeChanges(resp.Changes)
		if err != nil {
			return err
		}
		stateChanges, err := protocol.DecodeChanges(resp.State)
		if err != nil {
			return err
		}
		changes = append(pg.changes, changes...)
		stateChanges = append(pg.state, stateChanges...)
		pulled, pulledState := len(changes)+pg.nTail-len(pg.changes), len(stateChanges)+pg.nState-len(pg.state)
		if resp.Revoked != "" {
			// The device was replaced: this push was its last and is
			// acknowledged; nothing is pulled.
			changes, stateChanges, resp.Cursor, resp.More, full = nil, nil, pull, false, false
			resp.Reset, resp.Settled = false, false
		}
		// The pulled changes, the cursors and the rejections: one
		// transaction, so a crash keeps all of the answer or none of it
		// (and none is harmless: the same push and pull are redone).
		state := map[string]string{}
		var aside map[uuid.UUID]uint64 // the changes set aside, once state is stored
		if acked > push {
			state[keyPush] = strconv.FormatUint(acked, 10)
			// Changes set aside that the push cursor passes are never
			// walked again: forget them, in the same transaction.
			if kept, ok := c.pruneAside(acked); ok {
				state[keyAside], aside = encodeAside(kept), kept
			}
		}
		if resp.Cursor != pull || pg.doubt {
			state[keyPull] = resp.Cursor
		}
		var rejected []Rejected
		if len(resp.Rejected) > 0 {
			rejected = c.rejected(resp.Rejected, sent)
		}
		if len(retry) > 0 {
			// The changes offered again are applied: no longer refused.
			if rejected == nil {
				c.mu.Lock()
				rejected = slices.Clone(c.status.Rejected)
				c.mu.Unlock()
			}
			rejected = slices.DeleteFunc(rejected, func(r Rejected) bool { _, ok := retry[r.Change]; return ok })
			if rejected == nil {
				rejected = []Rejected{}
			}
			kept := maps.Clone(aside)
			if kept == nil {
				kept = c.asideCopy()
			}
			for id := range retry {
				delete(kept, id)
			}
			state[keyAside], aside = encodeAside(kept), kept
			c.log.Info("changes set aside are back in scope and sent", "changes", len(retry))
		}
		if rejected != nil {
			v, _ := json.Marshal(rejected)
			state[keyRejected] = string(v)
		}
		again := false // changes set aside before the catch-up to offer now
		if resp.Settled {
			next, err := c.candidates(tried)
			if err != nil {
				return err
			}
			again = len(next) > 0
			state[keyRetry] = map[bool]string{true: "1"}[again]
		} else if retryOn, _ := c.db.Cursor(keyRetry); retryOn != "" {
			state[keyRetry] = "" // offered (or refused again): until the next catch-up
		}
		if recheck && !asideNow {
			state[keyRecheck] = "" // offered once; a new refusal sets it again
		}
		recheck = false
		idle := pulled == 0 && pulledState == 0 && len(resp.Left) == 0 && len(state) == 0 && !resp.Reset && !resp.Settled && len(retry) == 0
		if idle {
			// Nothing to write, unless records wait to leave.
			n, err := c.db.Leaving()
			if err != nil {
				return err
			}
			idle = n == 0
		}
		if !idle {
			// Besides the page, a sync may remove records that left the
			// device's scope once nothing keeps them.
			page := store.Page{Reset: resp.Reset, State: stateChanges, Changes: changes, Settled: resp.Settled,
				Unsent: max(acked, push), Keep: c.keep(rejected), Cursors: state, Held: pg.held}
			// A page of a catch-up that goes on holds state or names what
			// left (each holds at least one); one that ends is Settled.
			page.Continues = resp.More && !resp.Settled && (pulledState > 0 || len(resp.Left) > 0)
			if resp.Revoked == "" && len(resp.Left) > 0 {
				for _, l := range resp.Left {
					id, _ := uuid.Parse(l.Record) // checked by Validate
					page.Left = append(page.Left, store.Ref{Kind: l.Kind, ID: id})
				}
				// The changes set aside: those the push cursor has not
				// passed yet, and those whose refusal is still shown.
				as := aside
				if as == nil {
					as = c.asideCopy()
				}
				page.Aside = slices.Collect(maps.Keys(as))
				shown := rejected
				if shown == nil {
					c.mu.Lock()
					shown = slices.Clone(c.status.Rejected)
					c.mu.Unlock()
				}
				for _, r := range shown {
					page.Aside = append(page.Aside, r.Change)
				}
			}
			rej, removed, err := c.db.ApplyPage(acct.Server, page)
			if err != nil {
				return err
			}
			pg.logRejected(rej, stateChanges, changes)
			if removed > 0 || resp.Reset || resp.Settled {
				c.log.Info("scope caught up", "reset", resp.Reset, "settled", resp.Settled, "state", pulledState, "removed", removed)
			}
		}
		if rejected != nil || aside != nil {
			c.mu.Lock()
			if rejected != nil {
				c.status.Rejected = rejected
			}
			if aside != nil {
				c.aside = aside
			}
			c.mu.Unlock()
		}
		c.setOffset(resp.Now.Time, t0, t1)
		if resp.Revoked != "" {
			c.log.Warn("this device has been replaced: last push made", "pushed", len(req.Changes), "acked", acked)
			return ErrReplaced
		}
		c.log.Debug("synced", "round", round, "pushed", len(req.Changes), "acked", acked,
			"rejected", len(resp.Rejected), "pulled", pulled, "more", resp.More)
		if !resp.More && !full {
			// Applying the pull may have recorded conflicts here (and the
			// user may have edited meanwhile): send those now rather than
			// leave them waiting after a sync that looked complete.
			last, waiting, err := c.received(acct.Server, max(acked, push), c.asideCopy())
			if err != nil {
				return err
			}
			if waiting == 0 && last > max(acked, push) {
				// Only what was just pulled follows: the push cursor can
				// pass it, so the next sync and Status need not walk it.
				// Written on its own: if it is lost, the next sync walks
				// those entries again and sends none of them.
				if err := c.db.SetCursor(keyPush, strconv.FormatUint(last, 10)); err != nil {
					return err
				}
			}
			// A catch-up that just settled: offer the changes set aside at
			// once, those back in scope need not wait for the next sync.
			if (waiting == 0 && !again) || round >= maxRounds {
				return nil
			}
		}
		if round >= maxRounds {
			return domain.Errorf(domain.EUNAVAILABLE, "rounds", "同步尚未完成，稍后继续", "sync has not finished yet; it will continue later")
		}
		if resp.Cursor == pull && acked <= push && round > 1 && len(retry) == 0 {
			return domain.Errorf(domain.EINTERNAL, "cursor", "同步没有进展，请稍后重试", "sync is making no progress; try again later")
		}
	}
}
