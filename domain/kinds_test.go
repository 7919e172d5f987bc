package domain_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
)

// TestDeclsMatchStructs checks that every kind's declaration names exactly
// the JSON fields of its struct, so that the table cannot drift from the
// types it declares.
func TestDeclsMatchStructs(t *testing.T) {
	if len(domain.Decls) != len(domain.Kinds) {
		t.Fatalf("%d declarations, %d kinds", len(domain.Decls), len(domain.Kinds))
	}
	for _, d := range domain.Decls {
		rec, err := domain.New(d.Kind)
		if err != nil || rec.Kind() != d.Kind {
			t.Fatalf("New(%s) = %v, %v", d.Kind, rec, err)
		}
		f, err := domain.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, fd := range append(slices.Clone(d.Fields), domain.MetaFields...) {
			got = append(got, fd.Name)
			if fd.Type == domain.TEnum && len(fd.Values) == 0 {
				t.Errorf("%s.%s: an enum without values", d.Kind, fd.Name)
			}
		}
		var want []string
		for k := range f {
			want = append(want, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: declared fields %v, struct fields %v", d.Kind, got, want)
		}
		if (d.Scope == domain.ByHousehold) != (d.Household != nil) {
			t.Errorf("%s: scoped by household without a Household func, or the reverse", d.Kind)
		}
		// Every field of a record as Encode writes it passes its declared type.
		ch := domain.Change{Kind: d.Kind, Fields: f}
		if err := domain.CheckFields(ch, false); err != nil {
			t.Errorf("%s: the empty record's own fields fail: %v", d.Kind, err)
		}
		if zh, en := domain.KindName(d.Kind); zh != d.Zh || en != d.En {
			t.Errorf("KindName(%s) = %s, %s", d.Kind, zh, en)
		}
	}
	if d := reflect.TypeOf(domain.Decl{}); d.NumField() == 0 {
		t.Fatal("no Decl")
	}
}

func TestCheckFields(t *testing.T) {
	id := `"` + uuid.NewString() + `"`
	visit := func(kv ...string) domain.Change {
		f := domain.Fields{}
		for i := 0; i < len(kv); i += 2 {
			f[kv[i]] = json.RawMessage(kv[i+1])
		}
		return domain.Change{Kind: domain.KindVisit, Fields: f}
	}
	for _, tc := range []struct {
		name   string
		ch     domain.Change
		create bool
		want   string // "" for no error, else a word of the English message
	}{
		{"notes", visit("notes", `"看了"`), false, ""},
		{"unknown field", visit("zzz_not_a_visit_field", `"x"`), false, "no field"},
		{"id_number on a visit", visit("id_number", `"x"`), false, "no field"},
		{"long name", visit(strings.Repeat("字", 30), `"x"`), false, "no field"},
		{"string for bool", visit("policies", `"yes"`), false, "true or false"},
		{"number for string", visit("notes", `3`), false, "string"},
		{"bad time", visit("at", `"yesterday"`), false, "RFC 3339"},
		{"bad uuid", visit("cadre", `"not-a-uuid"`), false, "UUID"},
		{"null id", visit("cadre", `null`), false, "ID"},
		{"enum", visit("type", `"party"`), false, "allowed"},
		{"empty enum allowed", visit("fees", `""`), false, ""},
		{"invalid utf-8 value", visit("notes", "\"\xff\xfe\""), false, "UTF-8"},
		{"overlong utf-8 value", visit("notes", "\"\xc0\xaf\""), false, "UTF-8"},
		{"invalid utf-8 name", visit("no\xfftes", `"x"`), false, "UTF-8"},
		{"create without household", visit("notes", `"x"`, "cadre", id, "at", `"2025-03-01T08:00:00Z"`), true, "lacks field"},
		{"create", visit("household", id, "cadre", id, "at", `"2025-03-01T08:00:00Z"`), true, ""},
		{"unknown kind", domain.Change{Kind: "thing", Fields: domain.Fields{"a": json.RawMessage(`1`)}}, false, "unknown record kind"},
		{"int", domain.Change{Kind: domain.KindHousehold, Fields: domain.Fields{"size": json.RawMessage(`3.5`)}}, false, "integer"},
		{"number", domain.Change{Kind: domain.KindHousehold, Fields: domain.Fields{"farmland": json.RawMessage(`3.5`)}}, false, ""},
	} {
		err := domain.CheckFields(tc.ch, tc.create)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error saying %q", tc.name, err, tc.want)
		case err != nil && domain.ErrorCode(err) != domain.EINVALID:
			t.Errorf("%s: code %s", tc.name, domain.ErrorCode(err))
		}
	}
}
