package server

import (
	"maps"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
)

// watchEarly wraps guard so that it also notes, in the list returned, every
// field of a change it lets through that arrives before an edit it was
// based on (domain.ArrivedEarly): the guard sees each change just before it
// is merged, the storage as the push's earlier changes left it, so what it
// notes is what the merge finds, whatever the storage (bbolt, the
// PostgreSQL mirror, the model). The list counts only once the push is
// committed: a refused push writes nothing.
func watchEarly(from uuid.UUID, guard replica.Guard) (replica.Guard, *[]replica.Early) {
	early := new([]replica.Early)
	return func(p *replica.Proposal) error {
		if err := guard(p); err != nil {
			return err
		}
		ch := p.Change
		for _, name := range slices.Sorted(maps.Keys(ch.Fields)) {
			cur, has := p.State(name)
			if !domain.ArrivedEarly(cur, has, ch.Base[name]) {
				continue
			}
			in := domain.FieldState{Value: ch.Fields[name], Stamp: ch.Stamp, Author: ch.Author}
			var conflict uuid.UUID
			if _, lost := domain.MergeField(cur, has, in, ch.Base[name]); lost != nil && ch.Kind != domain.KindConflict {
				conflict = domain.ConflictID(ch.Record, name, lost.Stamp)
			}
			*early = append(*early, replica.NewEarly(from, ch, name, cur.Stamp, conflict))
		}
		return nil
	}, early
}

// reportEarly logs, once their push is committed, the fields a device
// pushed before an edit they were based on, and counts them (Early). The
// merge kept the same winner every replica keeps, but took the value held
// as concurrent: the conflict it names, and the one the awaited edit will
// make when it arrives, are artefacts of the order of arrival that a team
// leader may settle either way. An upstream that delivers in order never
// causes one; a change set aside and pushed later, or a relay, can.
func (s *Server) reportEarly(r *http.Request, dev replica.Device, early []replica.Early) {
	if len(early) == 0 {
		return
	}
	s.early.Add(uint64(len(early)))
	note(r, "early", len(early))
	for _, e := range early {
		s.log.Warn("a pushed change arrived before an edit it was based on; the conflict it made may not be real",
			"device", dev.ID, "cadre", dev.Cadre, "change", e.Change, "origin", e.Device,
			"kind", e.Kind, "record", e.Record, "field", e.Field,
			"base", e.Base.String(), "held", e.Held.String(), "conflict", e.Conflict)
	}
}

// Early returns how many fields of pushed changes this server has merged
// before an edit they were based on since it started (see reportEarly).
func (s *Server) Early() uint64 { return s.early.Load() }
