package replica

import (
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Entry is one change in a replica's log, with where it came from and the
// places it belongs to, so that a server can decide who may pull it without
// reading the record.
type Entry struct {
	Seq       uint64        // the replica's own sequence, from 1
	From      uuid.UUID     // the replica it was received from; uuid.Nil if made here
	Household uuid.UUID     // the household the record belongs to, if any
	Village   uuid.UUID     // the village it belongs to, if any
	Town      uuid.UUID     // the town it belongs to, if any
	Change    domain.Change // the change itself
}

// StatePos is where a walk of the current state resumes: after record After
// of kind domain.Kinds[Kind]. The zero StatePos is the start; Done reports
// the end.
type StatePos struct {
	Kind  int
	After uuid.UUID
}

// Done reports whether p is past the last record.
func (p StatePos) Done() bool { return p.Kind >= len(domain.Kinds) }

// String encodes p as "<kind index>.<32 hex>", the form ParseStatePos reads.
func (p StatePos) String() string {
	return fmt.Sprintf("%d.%s", p.Kind, hex.EncodeToString(p.After[:]))
}

// ParseStatePos reads what StatePos.String wrote.
func ParseStatePos(s string) (StatePos, bool) {
	var p StatePos
	var h string
	if n, err := fmt.Sscanf(s, "%d.%32s", &p.Kind, &h); n != 2 || err != nil || p.Kind < 0 || p.Kind > len(domain.Kinds) {
		return StatePos{}, false
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 {
		return StatePos{}, false
	}
	copy(p.After[:], b)
	return p, true
}

// Refused is the error ApplyChecked returns when its check refused changes:
// the index in the batch of every one refused, and the check's error for the
// first. Nothing of the batch was written. Each change was judged as the
// batch without the refused ones would judge it — against the state the
// accepted changes before it leave — so the batch less those changes is
// accepted whole.
type Refused struct {
	Indexes []int
	Err     error
}

func (e *Refused) Error() string {
	return fmt.Sprintf("%d of the changes refused: %v", len(e.Indexes), e.Err)
}

// Unwrap returns the check's error for the first refused change.
func (e *Refused) Unwrap() error { return e.Err }
