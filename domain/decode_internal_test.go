package domain

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestDecodeFastMatchesJSON decodes random fields of every kind — well
// formed, and with values of the wrong type, nulls, escapes, odd UUID and
// number forms, invalid JSON, unknown and miscased keys — both ways, and
// wants the same record or the same error from Decode as from the JSON
// round trip.
func TestDecodeFastMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2))
	n := 4000
	if testing.Short() {
		n = 400
	}
	fast := 0
	for i := range n {
		kind := Kinds[i%len(Kinds)]
		rec, _ := New(kind)
		fill(r, reflect.ValueOf(rec).Elem())
		f, err := Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			mutate(r, f)
		}
		id := uuid.New()
		got, gotErr := Decode(kind, id, f)
		want, wantErr := decodeJSON(kind, id, f)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%s %v: Decode error %v, round trip %v", kind, f, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %v:\nDecode     %+v\nround trip %+v", kind, f, got, want)
		}
		rec2, _ := New(kind)
		if decodeFast(rec2, f) == nil {
			fast++
		}
	}
	// The fast path must be the common one, or it is not worth having.
	if fast < n/3 {
		t.Errorf("fast path taken %d times of %d", fast, n)
	}
}

// fill sets every exported field of v to a random value of its type.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[uuid.UUID]():
		v.Set(reflect.ValueOf(uuid.New()))
		return
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.UnixMilli(r.Int64N(4e12)).In(time.FixedZone("", 3600*r.IntN(12)))))
		return
	case reflect.TypeFor[json.RawMessage]():
		v.SetBytes([]byte(fmt.Sprintf(`{"a":%d}`, r.IntN(100))))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i))
			}
		}
	case reflect.String:
		v.SetString(pick(r, []string{"", "走访", "a\"b", "tab\there", "line\nbreak", "<&>", "plain text", "\u2028", "ok"}))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(r.Int64N(2000) - 1000)
	case reflect.Float64:
		v.SetFloat(r.Float64() * 100)
	case reflect.Pointer:
		if r.IntN(2) == 0 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		n := r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range r.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(r, k)
			fill(r, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// oddValues are values of every shape, valid JSON or not.
var oddValues = []string{
	`null`, `true`, `false`, `0`, `-0`, `01`, `1.5`, `1e3`, `-12`, `99999999999999999999`, `+1`,
	`""`, `"x"`, `"a\u0062c"`, `"\ud800"`, `"bad` + "\xff" + `"`, `"走访"`, `"2024-01-02T03:04:05Z"`,
	`"2024-01-02T03:04:05.123+08:00"`, `"2024-13-02T03:04:05Z"`, `"0c8e3a0e-4a5b-4f7e-9d2a-1b2c3d4e5f60"`,
	`"0C8E3A0E-4A5B-4F7E-9D2A-1B2C3D4E5F60"`, `"{0c8e3a0e-4a5b-4f7e-9d2a-1b2c3d4e5f60}"`,
	`"0c8e3a0e4a5b4f7e9d2a1b2c3d4e5f60"`, `"0c8e3a0e-4a5b-4f7e-9d2a-1b2c3d4e5f6\u0030"`,
	`[]`, `["0c8e3a0e-4a5b-4f7e-9d2a-1b2c3d4e5f60"]`, `{}`, `{"a":1}`, `[1,2]`, ``, ` 1 `, `1,"x":2`, `"a"b"`, `tru`, `{`,
}

// mutate spoils f in one to three random ways.
func mutate(r *rand.Rand, f Fields) {
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range f {
			if !yield(k) {
				return
			}
		}
	})
	for range 1 + r.IntN(3) {
		switch r.IntN(5) {
		case 0, 1: // another value for a field
			f[pick(r, names)] = json.RawMessage(pick(r, oddValues))
		case 2: // an unknown key
			f[pick(r, []string{"extra", "x_y", "名字", "ſize"})] = json.RawMessage(pick(r, oddValues))
		case 3: // a key in other case
			name := pick(r, names)
			f[strings.ToUpper(name[:1])+name[1:]] = json.RawMessage(pick(r, oddValues))
		case 4: // a value removed
			delete(f, pick(r, names))
		}
	}
}
