package domain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Change is one edit of one record: the fields it sets, stamped with the
// editor's clock. A change is made once, where the edit happens, and travels
// unchanged; its ID makes applying it again harmless.
type Change struct {
	ID     uuid.UUID        // unique; a retried push carries the same ID
	Kind   Kind             // the record's kind
	Record uuid.UUID        // the record's ID
	Author uuid.UUID        // the cadre who made the edit
	Stamp  Stamp            // when, by whose clock; Stamp.Device is the origin device
	Fields Fields           // the fields set, with their new values
	Base   map[string]Stamp // per field, the stamp the editor saw; absent for a new field
}

// FieldState is one field of a record as a replica holds it.
type FieldState struct {
	Value  json.RawMessage
	Stamp  Stamp
	Author uuid.UUID
}

// MergeField merges an incoming value into the current state of one field.
// has says whether the replica holds the field at all; base is the stamp the
// incoming editor saw for it.
//
// The higher stamp wins. The incoming edit is concurrent with the current value
// when its editor did not see that value (base differs from cur.Stamp); then
// the losing value, if it differs from the winner, is returned as lost, to be
// kept as a Conflict. Sequential edits never conflict. The rule is symmetric
// in the sense that matters: whatever order two concurrent edits arrive in, the
// same value wins and the same value is lost.
//
// An edit whose editor saw the current value normally carries a higher stamp
// (the editor's clock observed it). If it does not — the editor's clock
// ignored a stamp too far ahead, see Clock.Observe — it still loses, so that
// every replica keeps the same winner, but it is returned as lost rather than
// dropped: no edit disappears without a trace.
//
// MergeField assumes edits arrive in causal order: an edit arrives after
// every edit its editor saw (its base). One upstream whose log is in order
// never delivers an edit first; a change set aside and offered again later,
// a relay, or a server restored from a backup that lost A while another
// device had built B on it, can. An edit B made on A that arrives before A
// finds the replica still at the value C0 that A replaced; B is then taken
// as concurrent with C0 (C0 "lost") and A, arriving next, as concurrent
// with B (A "lost") — two conflicts that a replica merging A first does
// not record (the value held is B's everywhere all the same).
//
// The assumption is asserted, not enforced: [ArrivedEarly] tells such a B
// at merge time (its base is newer than the stamp held: the held stamp
// only grows), and the replica engines (store, the server's model in
// sync/server/memstore) report it as a replica.Early, which the server
// logs and counts and the simulations (TestFaults, TestModel, the store's
// tests) treat as a failure where delivery is in order. The merge itself
// is unchanged, so every replica keeps the same winner and makes the same
// conflict records whatever order it saw: a mark on the conflict would
// differ between a replica that saw B early and one that got C0 after B
// (the same conflict, C0 lost to B, made without any early arrival).
// Refusing such a B until A arrives is not safe: a base the upstream will
// never hold (the edit at it rejected for good, or rewritten by
// store.DB.Restamp after the upstream already had it under its first
// stamp) would hold B back for ever. Keeping B's base in the row would
// hide the second conflict but not tell whether the first is real (it is
// when A's own base was not C0's stamp).
func MergeField(cur FieldState, has bool, in FieldState, base Stamp) (next FieldState, lost *FieldState) {
	if !has {
		return in, nil
	}
	if in.Stamp == cur.Stamp {
		return cur, nil // the same edit again
	}
	winner, loser := cur, in
	if in.Stamp.After(cur.Stamp) {
		winner, loser = in, cur
	}
	sequential := base == cur.Stamp && winner.Stamp == in.Stamp
	if !sequential && !jsonEqual(winner.Value, loser.Value) {
		l := loser
		return winner, &l
	}
	return winner, nil
}

// ArrivedEarly reports whether an incoming edit whose editor saw base for a
// field arrives before the edit it was based on: the replica holds the field
// (has) at cur, and base is newer than cur.Stamp. The stamp a replica holds
// for a field only grows, so the edit at base has not been merged here yet
// (see MergeField on causal order). A field the replica does not hold at all
// tells nothing: its record may have come into the replica's scope with this
// very edit.
func ArrivedEarly(cur FieldState, has bool, base Stamp) bool {
	return has && base.After(cur.Stamp)
}

func jsonEqual(a, b json.RawMessage) bool { return bytes.Equal(compact(a), compact(b)) }

// Conflict keeps a value that lost to a concurrent edit, so that a team leader
// can see both and choose. Replicas that detect the same loss make the same
// conflict: its ID is derived from the losing edit (ConflictID).
type Conflict struct {
	Meta
	Household    uuid.UUID       `json:"household"` // for scoping; uuid.Nil for roster records
	RecordKind   Kind            `json:"record_kind"`
	Record       uuid.UUID       `json:"record"`
	Field        string          `json:"field"`
	Winner       json.RawMessage `json:"winner"`
	WinnerStamp  string          `json:"winner_stamp"`
	WinnerAuthor uuid.UUID       `json:"winner_author"`
	Loser        json.RawMessage `json:"loser"`
	LoserStamp   string          `json:"loser_stamp"`
	LoserAuthor  uuid.UUID       `json:"loser_author"`
	Resolved     bool            `json:"resolved"`
	ResolvedBy   uuid.UUID       `json:"resolved_by"`
	ResolvedAt   time.Time       `json:"resolved_at"`
}

// Kind returns KindConflict.
func (*Conflict) Kind() Kind { return KindConflict }

// Validate checks the conflict on its own.
func (c *Conflict) Validate(time.Time) error {
	if c.Record == uuid.Nil || c.Field == "" {
		return Errorf(EINVALID, "record", "冲突记录不完整", "the conflict record is incomplete")
	}
	if c.Resolved && c.ResolvedBy == uuid.Nil {
		return Errorf(EINVALID, "resolved_by", "请记录处理人", "record who resolved the conflict")
	}
	return nil
}

var conflictSpace = uuid.MustParse("6f1c3b7e-52a4-4c1e-9a55-1b0c6d2f8e01")

// ConflictID returns the ID of the conflict that keeps the value of field in
// record written at stamp lost: the same on every replica.
func ConflictID(record uuid.UUID, field string, lost Stamp) uuid.UUID {
	b := make([]byte, 0, 16+len(field)+12+16)
	b = append(b, record[:]...)
	b = append(b, field...)
	b = binary.BigEndian.AppendUint64(b, uint64(lost.Wall))
	b = binary.BigEndian.AppendUint32(b, lost.Logical)
	b = append(b, lost.Device[:]...)
	return uuid.NewSHA1(conflictSpace, b)
}

// NewConflict describes a lost value of field in a record of kind, household
// being the household the record belongs to (for scoping). The conflict's
// fields are stamped with the winner's stamp by the replica that records it, so
// two replicas that saw different winners converge on the later one.
func NewConflict(kind Kind, record, household uuid.UUID, field string, winner, lost FieldState) *Conflict {
	return &Conflict{
		Meta: Meta{
			ID:      ConflictID(record, field, lost.Stamp),
			Created: winner.Stamp.Time(),
			Author:  winner.Author,
			Device:  winner.Stamp.Device,
		},
		Household:    household,
		RecordKind:   kind,
		Record:       record,
		Field:        field,
		Winner:       winner.Value,
		WinnerStamp:  winner.Stamp.String(),
		WinnerAuthor: winner.Author,
		Loser:        lost.Value,
		LoserStamp:   lost.Stamp.String(),
		LoserAuthor:  lost.Author,
	}
}

// ConflictChange returns the change that creates c on a replica, stamped with
// the winning edit's stamp. Its ID is derived from the conflict and the winner,
// so replicas that detect the same loss make the same change, and a replica
// that receives it from another applies it once.
func ConflictChange(c *Conflict, winner Stamp) (Change, error) {
	f, err := Encode(c)
	if err != nil {
		return Change{}, err
	}
	return Change{
		ID:     uuid.NewSHA1(conflictSpace, append(c.ID[:], winner.String()...)),
		Kind:   KindConflict,
		Record: c.ID,
		Author: c.Author,
		Stamp:  winner,
		Fields: f,
	}, nil
}
