package client

import (
	"log/slog"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// A pulled page is applied in parts as it arrives (protocol.ReadSync hands
// over its changes one by one), so that a first sync of thousands of records
// never holds the whole page: each part of at most partChanges changes or
// partBytes of values is merged in a transaction of its own
// (store.DB.ApplyPart), and the last part goes with the cursors, the
// acknowledgement and the catch-up's marks in one transaction
// (store.DB.ApplyPage), as a whole page did. A crash in between leaves
// merged changes behind an unmoved cursor: the page is pulled again and what
// was merged is skipped by change ID.
//
// The parts are merged by a goroutine of their own while the next one is
// read off the wire and decoded: on a fast link a first pull takes as long
// as its merge, not as its decoding and merge one after the other. The
// hand-over waits while a part is being merged, so at most two parts are in
// memory: the one merged and the one read.
//
// Merged state is another matter when the page does not end: the records
// of a catch-up came into the device's scope, and the cursor that says so
// did not arrive. Should the scope change back before the next sync (a
// group given by mistake and taken back), the fingerprint the old cursor
// names would be the server's again, and nothing would name as left what
// the part brought. So before the first part with state is merged, the
// pull cursor is cleared: a page that ends stores its own, and one that
// does not leaves the device to pull its whole scope again (a catch-up
// with a reset, which removes what it does not send).
const (
	partChanges = 1000
	partBytes   = 1 << 20
)

// pager collects the changes of a page and hands full parts to its
// applier. Its methods are called from one goroutine (ReadSync's); done
// must be called once the page is read, whatever happened.
type pager struct {
	db   *store.DB
	from uuid.UUID
	log  *slog.Logger

	state, changes []domain.Change // not yet handed over
	bytes          int             // of the values not yet handed over
	held           []store.Ref     // records whose state went in a part
	nState, nTail  int             // received, in all
	doubt          bool            // state merged before the page's cursor: the pull cursor is cleared

	parts  chan part  // to the applier; nil until the first part
	free   chan part  // merged parts, their slices to fill again
	failed chan error // the applier's error, once it stops
	err    error      // the applier's error, once received
}

// part is what one ApplyPart merges.
type part struct{ state, changes []domain.Change }

// add takes the next change of the page (state true for its State).
func (p *pager) add(state bool, c domain.Change) error {
	if p.full() && (!state || len(p.state) == 0 || !sameRecord(p.state[len(p.state)-1], c)) {
		// A record's state stays in one part.
		if err := p.flush(); err != nil {
			return err
		}
	}
	for _, v := range c.Fields {
		p.bytes += len(v)
	}
	if state {
		p.state = append(p.state, c)
		p.nState++
	} else {
		p.changes = append(p.changes, c)
		p.nTail++
	}
	return nil
}

func (p *pager) full() bool {
	return len(p.state)+len(p.changes) >= partChanges || p.bytes >= partBytes
}

func sameRecord(a, b domain.Change) bool { return a.Record == b.Record && a.Kind == b.Kind }

// flush hands the changes collected to the applier as one part, once it
// has merged the part before. It returns the applier's error if it failed.
func (p *pager) flush() error {
	if len(p.state)+len(p.changes) == 0 {
		return p.err
	}
	if len(p.state) > 0 && !p.doubt {
		if err := p.db.SetCursor(keyPull, ""); err != nil {
			return err
		}
		p.doubt = true
	}
	if p.parts == nil {
		p.parts, p.free, p.failed = make(chan part), make(chan part, 2), make(chan error, 1)
		go p.apply()
	}
	select {
	case p.err = <-p.failed:
		return p.err
	default:
	}
	select {
	case p.parts <- part{state: p.state, changes: p.changes}:
	case p.err = <-p.failed:
		return p.err
	}
	for i, c := range p.state {
		if i == 0 || !sameRecord(p.state[i-1], c) {
			p.held = append(p.held, store.Ref{Kind: c.Kind, ID: c.Record})
		}
	}
	// The applier holds the part's slices now: the next part fills those
	// of one merged before.
	p.state, p.changes, p.bytes = nil, nil, 0
	select {
	case pt := <-p.free:
		p.state, p.changes = pt.state, pt.changes
	default:
	}
	return nil
}

// apply merges the parts handed over, in order, until the channel closes
// or a merge fails.
func (p *pager) apply() {
	var err error
	for pt := range p.parts {
		if err != nil {
			continue // drained: done closes the channel
		}
		var rej []error
		if rej, err = p.db.ApplyPart(p.from, pt.state, pt.changes); err != nil {
			p.failed <- err
			continue
		}
		p.logRejected(rej, pt.state, pt.changes)
		clear(pt.state)
		clear(pt.changes)
		select {
		case p.free <- part{state: pt.state[:0], changes: pt.changes[:0]}:
		default:
		}
	}
	close(p.failed)
}

// done waits until every part handed over is merged, and returns the first
// error of the merge. What was not handed over stays in state and changes.
func (p *pager) done() error {
	if p.parts == nil {
		return p.err
	}
	close(p.parts)
	p.parts = nil
	for err := range p.failed {
		p.err = err
	}
	return p.err
}

// logRejected logs the pulled changes not applied: rej has one slot per
// change, state's first.
func (p *pager) logRejected(rej []error, state, changes []domain.Change) {
	for i, e := range rej {
		if e == nil {
			continue
		}
		var ch domain.Change
		if i < len(state) {
			ch = state[i]
		} else {
			ch = changes[i-len(state)]
		}
		p.log.Warn("pulled change not applied", "change", ch.ID, "kind", ch.Kind, "err", e)
	}
}
