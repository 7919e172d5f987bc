package domain

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Decoding records without a JSON round trip.
//
// Decode used to marshal a record's fields into one JSON object and
// unmarshal that into the record's struct: a first sync decodes every record
// it receives at least once, and the round trip (sorting, compacting and
// scanning every value twice, through reflection) was the largest cost of
// applying it. decodeFast sets each field from its value directly, with
// plain code for the common shapes — strings without escapes, booleans,
// integers, UUIDs and times — and json.Unmarshal of the value alone for the
// rest. Whenever it cannot be sure to do exactly what the round trip does (a
// key that matches a field only case-insensitively, a value it cannot read),
// it gives up and Decode takes the round trip, so results and errors are the
// same either way (TestDecodeFastMatchesJSON compares them).

// fieldPlan is how one JSON key of a record is set.
type fieldPlan struct {
	index []int     // of the struct field, through embedded structs
	shape fieldKind // what fast path its type takes
}

type fieldKind int

const (
	shapeOther  fieldKind = iota // json.Unmarshal of the value alone
	shapeString                  // a string type without its own decoding
	shapeBool
	shapeInt
	shapeUUID
	shapeTime
	shapeUUIDs // []uuid.UUID
)

// recordPlan maps a record type's JSON keys to its fields; nil when the
// type has a shape decodeFast does not handle (it then always round-trips).
type recordPlan struct {
	fields map[string]fieldPlan
	lower  map[string]bool // the keys lowercased, to spot case-insensitive matches
}

var plans sync.Map // reflect.Type -> *recordPlan

var (
	typeUUID      = reflect.TypeFor[uuid.UUID]()
	typeUUIDs     = reflect.TypeFor[[]uuid.UUID]()
	typeTime      = reflect.TypeFor[time.Time]()
	typeJSONUnm   = reflect.TypeFor[json.Unmarshaler]()
	typeTextUnm   = reflect.TypeFor[encoding.TextUnmarshaler]()
	errFastReject = &Error{Code: EINVALID, Field: "fields"} // never returned: means "take the round trip"
)

func planOf(t reflect.Type) *recordPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*recordPlan)
	}
	p := &recordPlan{fields: map[string]fieldPlan{}, lower: map[string]bool{}}
	if !p.add(t, nil) {
		p = nil
	}
	plans.Store(t, p)
	return p
}

// add records the fields of struct type t (reached through index), as
// encoding/json names them. It reports false for what it does not mirror
// exactly: ",string" options, names given twice, embedded pointers or
// non-struct embeddings, unexported embedded structs.
func (p *recordPlan) add(t reflect.Type, index []int) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(","+opts+",", ",string,") {
			return false
		}
		idx := append(append([]int(nil), index...), i)
		if f.Anonymous {
			if name != "" || f.Type.Kind() != reflect.Struct || !f.IsExported() {
				return false
			}
			if !p.add(f.Type, idx) {
				return false
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := p.fields[name]; dup || p.lower[strings.ToLower(name)] {
			return false
		}
		p.fields[name] = fieldPlan{index: idx, shape: shapeFor(f.Type)}
		p.lower[strings.ToLower(name)] = true
	}
	return true
}

func shapeFor(t reflect.Type) fieldKind {
	switch t {
	case typeUUID:
		return shapeUUID
	case typeUUIDs:
		return shapeUUIDs
	case typeTime:
		return shapeTime
	}
	pt := reflect.PointerTo(t)
	if t.Implements(typeJSONUnm) || pt.Implements(typeJSONUnm) || t.Implements(typeTextUnm) || pt.Implements(typeTextUnm) {
		return shapeOther
	}
	switch t.Kind() {
	case reflect.String:
		return shapeString
	case reflect.Bool:
		return shapeBool
	case reflect.Int, reflect.Int64, reflect.Int32:
		return shapeInt
	}
	return shapeOther
}

// decodeFast sets the fields of r (a pointer to a record struct) from f, or
// returns errFastReject when Decode must take the round trip.
func decodeFast(r Record, f Fields) error {
	rv := reflect.ValueOf(r).Elem()
	p := planOf(rv.Type())
	if p == nil {
		return errFastReject
	}
	for name, v := range f {
		fp, ok := p.fields[name]
		if !ok {
			// A key that only folds to a field's name: the round trip
			// decides which wins, and in what order; Unicode folding too.
			if p.lower[strings.ToLower(name)] || !isASCII(name) || !json.Valid(v) {
				return errFastReject
			}
			continue
		}
		if len(v) == 0 {
			return errFastReject
		}
		fv := rv.FieldByIndex(fp.index)
		if !setFast(fv, fp.shape, v) {
			if err := json.Unmarshal(v, fv.Addr().Interface()); err != nil {
				return errFastReject
			}
		}
	}
	return nil
}

// setFast sets fv from v when v has the plain form of shape, and reports
// whether it did.
func setFast(fv reflect.Value, shape fieldKind, v []byte) bool {
	switch shape {
	case shapeString:
		s, ok := plainString(v)
		if ok {
			fv.SetString(s)
		}
		return ok
	case shapeBool:
		switch string(v) {
		case "true":
			fv.SetBool(true)
		case "false":
			fv.SetBool(false)
		default:
			return false
		}
		return true
	case shapeInt:
		if !plainInt(v) {
			return false
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || fv.OverflowInt(n) {
			return false
		}
		fv.SetInt(n)
		return true
	case shapeUUID:
		if len(v) != 38 || v[0] != '"' || v[37] != '"' {
			return false
		}
		id, err := uuid.ParseBytes(v[1:37])
		if err != nil {
			return false
		}
		*fv.Addr().Interface().(*uuid.UUID) = id // no boxing of the array
		return true
	case shapeUUIDs:
		// null, or a list of UUIDs in their plain form without spaces.
		if string(v) == "null" {
			fv.SetZero()
			return true
		}
		if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
			return false
		}
		in := v[1 : len(v)-1]
		ids := make([]uuid.UUID, 0, (len(in)+1)/39)
		for len(in) > 0 {
			if len(in) < 38 || in[0] != '"' || in[37] != '"' || (len(in) > 38 && in[38] != ',') {
				return false
			}
			id, err := uuid.ParseBytes(in[1:37])
			if err != nil {
				return false
			}
			ids = append(ids, id)
			if in = in[38:]; len(in) > 0 {
				if in = in[1:]; len(in) == 0 { // a trailing comma
					return false
				}
			}
		}
		*fv.Addr().Interface().(*[]uuid.UUID) = ids
		return true
	case shapeTime:
		// What encoding/json does with a time: hand it the raw value.
		t := fv.Addr().Interface().(*time.Time)
		return t.UnmarshalJSON(v) == nil
	}
	return false
}

// plainString returns the text of a JSON string without escapes, control
// characters or invalid UTF-8: exactly what encoding/json would decode.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	for _, c := range in {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

// plainInt reports whether v is a JSON integer: an optional minus, then 0
// or digits not starting with 0.
func plainInt(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 19 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	return len(bytes.TrimLeft(v, "0123456789")) == 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// IsCompact reports whether the JSON text b has no whitespace outside its
// strings: what json.Compact would leave as it is. It does not check that b
// is JSON; a caller that knows it is can skip compacting it.
func IsCompact(b []byte) bool {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}
