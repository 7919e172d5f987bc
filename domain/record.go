package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Kind names a record type. It is part of the wire format: never rename one.
type Kind string

// The record kinds.
const (
	KindPlace      Kind = "place"
	KindHousehold  Kind = "household"
	KindMember     Kind = "member"
	KindCadre      Kind = "cadre"
	KindAssignment Kind = "assignment"
	KindVisit      Kind = "visit"
	KindProblem    Kind = "problem"
	KindPlan       Kind = "plan"
	KindMeasure    Kind = "measure"
	KindReview     Kind = "review"
	KindConflict   Kind = "conflict"
	KindStep       Kind = "step"
	KindPhoto      Kind = "photo"
)

// KindName returns the Chinese and English names of a record kind, as a
// sentence names one record ("这条走访记录", "this visit"), from its
// declaration.
func KindName(k Kind) (zh, en string) {
	if d := Declared(k); d != nil {
		return d.Zh, d.En
	}
	return string(k), string(k)
}

// Kinds lists every kind, in the order a roster is best applied (parents first).
var Kinds = func() []Kind {
	ks := make([]Kind, len(Decls))
	for i, d := range Decls {
		ks[i] = d.Kind
	}
	return ks
}()

// Meta is what every record carries besides its content.
type Meta struct {
	ID      uuid.UUID `json:"-"`                 // made where the record is created
	Created time.Time `json:"created"`           // when it was created
	Updated time.Time `json:"-"`                 // wall time of its latest change; kept by the store
	Author  uuid.UUID `json:"author"`            // the cadre who created it
	Device  uuid.UUID `json:"device"`            // the device it was created on
	Deleted bool      `json:"deleted,omitempty"` // tombstone: hidden from queries, kept for sync
}

// Metadata returns m itself, so that every record exposes its Meta.
func (m *Meta) Metadata() *Meta { return m }

// Record is any of the record types.
type Record interface {
	Kind() Kind
	Metadata() *Meta
	// Validate checks the record on its own; now bounds times in the future.
	Validate(now time.Time) error
}

// New returns a new, empty record of the given kind.
func New(kind Kind) (Record, error) {
	if d := Declared(kind); d != nil {
		return d.New(), nil
	}
	return nil, Errorf(EINVALID, "kind", "未知的记录类型 %q", "unknown record kind %q", kind)
}

// Fields is a record's content as named JSON values: the unit in which edits
// travel and merge. The names are the JSON tags of the record's struct.
type Fields map[string]json.RawMessage

// Encode returns the fields of r. Meta.ID and Meta.Updated are not fields.
func Encode(r Record) (Fields, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("domain: encode %s: %w", r.Kind(), err)
	}
	var f Fields
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("domain: encode %s: %w", r.Kind(), err)
	}
	if _, ok := f["deleted"]; !ok {
		f["deleted"] = json.RawMessage("false")
	}
	return f, nil
}

// Decode builds a record of kind with id from its fields. Unknown fields are
// ignored, so that an older app can read records written by a newer one.
func Decode(kind Kind, id uuid.UUID, f Fields) (Record, error) {
	r, err := New(kind)
	if err != nil {
		return nil, err
	}
	if decodeFast(r, f) == nil {
		r.Metadata().ID = id
		return r, nil
	}
	return decodeJSON(kind, id, f)
}

// decodeJSON is Decode through one JSON object: what decodeFast must agree
// with, and what decides whenever it cannot.
func decodeJSON(kind Kind, id uuid.UUID, f Fields) (Record, error) {
	r, err := New(kind)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("domain: decode %s %s: %w", kind, id, err)
	}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("domain: decode %s %s: %w", kind, id, err)
	}
	r.Metadata().ID = id
	return r, nil
}

// Diff returns the fields of next that differ from prev (all of next when prev
// is nil). Values are compared as JSON text.
func Diff(prev, next Fields) Fields {
	d := Fields{}
	for k, v := range next {
		if old, ok := prev[k]; !ok || !bytes.Equal(compact(old), compact(v)) {
			d[k] = v
		}
	}
	return d
}

func compact(b json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

// HouseholdOf returns the household a record belongs to, for scoping, as
// its kind declares (Decl.Household): the household itself, or the household
// field of a member, visit, problem, plan, measure, review or conflict. It
// returns uuid.Nil for roster records (places, cadres, assignments), whose
// scope follows from their targets.
func HouseholdOf(r Record) uuid.UUID {
	if d := Declared(r.Kind()); d != nil && d.Household != nil {
		return d.Household(r)
	}
	return uuid.Nil
}
