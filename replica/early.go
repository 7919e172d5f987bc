package replica

import (
	"fmt"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Early is one field of a change that a replica merged before an edit it
// was based on (domain.ArrivedEarly): the change's editor saw the field at
// Base, and the replica held it at Held, older. The merge went on as
// always (the same winner on every replica); the value held was taken as
// concurrent with the change and, if it differed, kept as the conflict
// Conflict, which a replica merging in causal order would not have made,
// and the edit at Base, when it arrives, will lose to the change as
// concurrent too. See domain.MergeField on causal order.
type Early struct {
	From     uuid.UUID    // the replica the change came from; uuid.Nil if made here
	Change   uuid.UUID    // the change's ID
	Device   uuid.UUID    // the device that made it (its stamp's)
	Kind     domain.Kind  // its record's kind
	Record   uuid.UUID    // its record
	Field    string       // the field
	Base     domain.Stamp // the stamp its editor saw: an edit not merged here yet
	Held     domain.Stamp // the stamp the replica held, older than Base
	Conflict uuid.UUID    // the conflict the merge recorded for the value held; uuid.Nil if none
}

// NewEarly describes field of ch, received from from, merged while the
// replica held the field at held; conflict is the conflict the merge
// recorded, if any.
func NewEarly(from uuid.UUID, ch domain.Change, field string, held domain.Stamp, conflict uuid.UUID) Early {
	return Early{From: from, Change: ch.ID, Device: ch.Stamp.Device, Kind: ch.Kind, Record: ch.Record,
		Field: field, Base: ch.Base[field], Held: held, Conflict: conflict}
}

// String describes e for logs and test failures.
func (e Early) String() string {
	return fmt.Sprintf("change %s (device %s) set %s %s field %q seen at %s while %s was held: it arrived before that edit",
		e.Change, e.Device, e.Kind, e.Record, e.Field, e.Base, e.Held)
}
