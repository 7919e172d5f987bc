package replica

import (
	"github.com/google/uuid"

	"bangfu/domain"
)

// Proposal is a change received from another replica as a [Guard] sees it,
// inside the transaction that would apply it: where its record is and will
// be, the record as stored and as the change would leave it, and read access
// to the other records as the earlier changes of the batch left them.
type Proposal struct {
	Change  domain.Change
	Existed bool          // the record is stored
	Before  Location      // where it is; zero when new
	After   Location      // where it will be
	Old     domain.Record // as stored; nil when new
	New     domain.Record // with the change's fields set over the stored ones
	reader  Reader
}

// Reader reads the storage that would apply a Proposal, as the earlier
// changes of its push left it: each storage implements it over what it
// holds (store over its bbolt transaction, sync/server/memstore over its
// maps).
type Reader interface {
	// Record returns the live record of kind with id and where it is, or
	// false when there is none.
	Record(kind domain.Kind, id uuid.UUID) (domain.Record, Location, bool)
	// State returns the stored state of a field of the record of kind with
	// id, deleted records included; false when the record or the field is
	// not stored.
	State(kind domain.Kind, id uuid.UUID, field string) (domain.FieldState, bool)
	// Duties returns the stored assignments of cadre (deleted ones left
	// out), current and ended, each with where its target is.
	Duties(cadre uuid.UUID) []Duty
}

// NewProposal returns p, whose exported fields the caller has set, reading
// the storage through r.
func NewProposal(p Proposal, r Reader) *Proposal {
	p.reader = r
	return &p
}

// Record returns the stored record of kind with id and where it is, or
// false when there is none.
func (p *Proposal) Record(kind domain.Kind, id uuid.UUID) (domain.Record, Location, bool) {
	return p.reader.Record(kind, id)
}

// State returns the stored state of a field of the record, false when the
// record or the field is not stored.
func (p *Proposal) State(field string) (domain.FieldState, bool) {
	return p.reader.State(p.Change.Kind, p.Change.Record, field)
}

// StateOf returns the stored state of field of the record of kind with id.
func (p *Proposal) StateOf(kind domain.Kind, id uuid.UUID, field string) (domain.FieldState, bool) {
	return p.reader.State(kind, id, field)
}

// Duties returns the stored assignments of cadre (deleted ones left out),
// current and ended, each with where its target is: what a guard needs to
// decide whether a lead may retire the cadre or change their rank, which
// touches every place the cadre works.
func (p *Proposal) Duties(cadre uuid.UUID) []Duty { return p.reader.Duties(cadre) }

// Guard decides whether a change received from another replica may be
// applied. An error with code domain.EINVALID rejects that change alone (it
// is listed in rejected, as a change that cannot be merged is); any other
// error refuses the batch (see [Refused]).
type Guard func(p *Proposal) error
