package protocol

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"bangfu/domain"
)

// encoding/json matches object keys to struct fields without regard to case
// and lets a repeated key overwrite the first. JSON itself is case-sensitive,
// and a second implementation must not come to rely on Go's leniency, so a
// server also checks every key of a request against the shape of the type
// it decodes into: exact names, no repeats (in maps too).

// shape is what checkKeys expects of an object: the keys of a struct, each
// with the shape of its value, or, if open, any keys (a map) with values
// left unchecked. A nil *shape checks nothing.
type shape struct {
	keys map[string]*shape
	open bool
}

var shapes sync.Map // reflect.Type -> *shape

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// shapeOf returns the shape of the JSON that decodes into t.
func shapeOf(t reflect.Type) *shape {
	if t == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	var s *shape
	pt := reflect.PointerTo(t)
	switch {
	case pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler):
		// decodes itself
	case t.Kind() == reflect.Struct:
		s = &shape{keys: map[string]*shape{}}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				s = nil // promoted fields: not used by the wire types
				break
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s.keys[name] = shapeOf(f.Type)
		}
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
		s = shapeOf(t.Elem()) // an array's elements
	case t.Kind() == reflect.Map:
		s = &shape{open: true}
	}
	shapes.Store(t, s)
	return s
}

// checkKeys checks the keys of data, one JSON value already accepted by
// encoding/json, against s.
func checkKeys(data []byte, s *shape) error {
	if s == nil {
		return nil
	}
	k := keyChecker{b: data}
	return k.value(s)
}

// keyChecker walks JSON text known to be valid.
type keyChecker struct {
	b []byte
	i int
}

func (k *keyChecker) ws() {
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case ' ', '\t', '\n', '\r':
			k.i++
		default:
			return
		}
	}
}

// value checks the value at k.i against s and moves past it.
func (k *keyChecker) value(s *shape) error {
	k.ws()
	if s == nil {
		k.skip()
		return nil
	}
	switch k.b[k.i] {
	case '{':
		return k.object(s)
	case '[':
		k.i++
		for {
			k.ws()
			switch k.b[k.i] {
			case ']':
				k.i++
				return nil
			case ',':
				k.i++
			}
			if err := k.value(s); err != nil {
				return err
			}
		}
	}
	k.skip()
	return nil
}

func (k *keyChecker) object(s *shape) error {
	k.i++ // {
	// An object has few keys: a linear search beats a map.
	var seen [][]byte
	for {
		k.ws()
		switch k.b[k.i] {
		case '}':
			k.i++
			return nil
		case ',':
			k.i++
			k.ws()
		}
		start := k.i
		k.str()
		key := unquote(k.b[start:k.i])
		for _, prev := range seen {
			if bytes.Equal(prev, key) {
				return domain.Errorf(domain.EINVALID, "body", "字段 %q 重复出现", "duplicate field %q", clip(string(key)))
			}
		}
		seen = append(seen, key)
		var child *shape
		if !s.open {
			c, ok := s.keys[string(key)]
			if !ok {
				return domain.Errorf(domain.EINVALID, "body",
					"未知字段 %q（字段名区分大小写）", "unknown field %q (names are case-sensitive)", clip(string(key)))
			}
			child = c
		}
		k.ws()
		k.i++ // :
		if err := k.value(child); err != nil {
			return err
		}
	}
}

// str moves past the string at k.i.
func (k *keyChecker) str() {
	k.i++ // "
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case '\\':
			k.i += 2
		case '"':
			k.i++
			return
		default:
			k.i++
		}
	}
}

// skip moves past the value at k.i.
func (k *keyChecker) skip() {
	k.ws()
	depth := 0
	for k.i < len(k.b) {
		switch k.b[k.i] {
		case '"':
			k.str()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return // the end of the enclosing value
			}
			depth--
			if depth == 0 {
				k.i++
				return
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return
			}
		}
		k.i++
	}
}

// unquote returns the text of raw, a valid JSON string.
func unquote(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	var s string
	json.Unmarshal(raw, &s) // valid: encoding/json accepted it
	return []byte(s)
}
