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
const (
	partChanges = 1000
	partBytes   = 1 << 20
)

// pager collects the changes of a page and applies full parts.
type pager struct {
	db   *store.DB
	from uuid.UUID
	log  *slog.Logger

	state, changes []domain.Change // not yet applied
	bytes          int             // of the values not yet applied
	held           []store.Ref     // records whose state went in a part
	nState, nTail  int             // received, in all
}

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

// flush applies the changes collected as one part.
func (p *pager) flush() error {
	if len(p.state)+len(p.changes) == 0 {
		return nil
	}
	rej, err := p.db.ApplyPart(p.from, p.state, p.changes)
	if err != nil {
		return err
	}
	p.logRejected(rej, p.state, p.changes)
	for i, c := range p.state {
		if i == 0 || !sameRecord(p.state[i-1], c) {
			p.held = append(p.held, store.Ref{Kind: c.Kind, ID: c.Record})
		}
	}
	clear(p.state)
	clear(p.changes)
	p.state, p.changes, p.bytes = p.state[:0], p.changes[:0], 0
	return nil
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
