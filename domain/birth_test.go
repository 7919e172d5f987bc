package domain_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"bangfu/domain"
)

// TestMemberBirth: a full birth date is checked (not before 1900, not after
// today, in its BirthYear, on the day the ID number says), and Born and Age
// read it, the ID number's date or the year alone.
func TestMemberBirth(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	now := time.Date(2025, 3, 12, 9, 30, 0, 0, cst)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, cst) }
	member := func(f func(*domain.Member)) *domain.Member {
		m := &domain.Member{Household: id(3), Name: "马秀兰", Relation: "配偶", Gender: "女"}
		f(m)
		return m
	}
	for _, tc := range []struct {
		name  string
		m     *domain.Member
		field string // "" when valid
	}{
		{"a date", member(func(m *domain.Member) { m.Birth, m.BirthYear = day(1970, 3, 12), 1970 }), ""},
		{"born today", member(func(m *domain.Member) { m.Birth = day(2025, 3, 12) }), ""},
		{"the date of the ID number", member(func(m *domain.Member) { m.Birth, m.IDNumber = day(1949, 12, 31), idX }), ""},
		{"born tomorrow", member(func(m *domain.Member) { m.Birth = day(2025, 3, 13) }), "birth"},
		{"born before 1900", member(func(m *domain.Member) { m.Birth = day(1899, 12, 31) }), "birth"},
		{"another year", member(func(m *domain.Member) { m.Birth, m.BirthYear = day(1970, 3, 12), 1971 }), "birth"},
		{"not the ID number's date", member(func(m *domain.Member) { m.Birth, m.IDNumber = day(1949, 12, 30), idX }), "birth"},
	} {
		err := tc.m.Validate(now)
		if got := fieldOf(err); got != tc.field {
			t.Errorf("%s: %v, want field %q", tc.name, err, tc.field)
		}
	}

	for _, tc := range []struct {
		name  string
		m     *domain.Member
		born  string
		exact bool
		age   int
	}{
		{"the day before the birthday", member(func(m *domain.Member) { m.Birth = day(1970, 3, 13) }), "1970-03-13", true, 54},
		{"on the birthday", member(func(m *domain.Member) { m.Birth = day(1970, 3, 12) }), "1970-03-12", true, 55},
		{"from the ID number", member(func(m *domain.Member) { m.IDNumber = idX }), "1949-12-31", true, 75},
		{"the year alone", member(func(m *domain.Member) { m.BirthYear = 1970 }), "1970-01-01", false, 55},
	} {
		b, exact := tc.m.Born(cst)
		if got := b.Format("2006-01-02"); got != tc.born || exact != tc.exact {
			t.Errorf("%s: born %s (exact %v), want %s (%v)", tc.name, got, exact, tc.born, tc.exact)
		}
		if got := domain.Age(b, now, exact); got != tc.age {
			t.Errorf("%s: age %d, want %d", tc.name, got, tc.age)
		}
	}
	if b, _ := member(func(*domain.Member) {}).Born(cst); !b.IsZero() {
		t.Errorf("nothing known: born %v", b)
	}
}

func fieldOf(err error) string {
	if e, ok := err.(*domain.Error); ok {
		return e.Field
	}
	if err != nil {
		return "?"
	}
	return ""
}

// TestSortMembers: the head first, then by full birth date, those with no
// date last, same days by name then ID — the same order from every input
// order (each rotation and the reverse).
func TestSortMembers(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, cst) }
	lo, hi := id(5), id(6)
	if bytes.Compare(lo[:], hi[:]) > 0 {
		lo, hi = hi, lo
	}
	want := []*domain.Member{
		{Meta: domain.Meta{ID: id(9)}, Name: "马福", Relation: "户主", Birth: day(1980, 1, 1)},
		{Meta: domain.Meta{ID: id(2)}, Name: "马母", Relation: "母", BirthYear: 1949},        // 1949-01-01
		{Meta: domain.Meta{ID: id(3)}, Name: "马父", Relation: "父", IDNumber: idX},          // 1949-12-31
		{Meta: domain.Meta{ID: id(4)}, Name: "马乙", Relation: "子", Birth: day(2005, 3, 1)}, // same day: by name (U+4E59 < U+7532),
		{Meta: domain.Meta{ID: lo}, Name: "马甲", Relation: "子", Birth: day(2005, 3, 1)},    // then by ID
		{Meta: domain.Meta{ID: hi}, Name: "马甲", Relation: "子", Birth: day(2005, 3, 1)},
		{Meta: domain.Meta{ID: id(7)}, Name: "马丙", Relation: "女", Birth: day(2005, 11, 30).UTC()}, // the day in its own zone: 29 Nov UTC
		{Meta: domain.Meta{ID: id(1)}, Name: "马丁", Relation: "孙子"},
	}
	for r := 0; r < 2*len(want); r++ {
		in := make([]*domain.Member, len(want))
		for i := range want {
			in[i] = want[(i+r)%len(want)]
		}
		if r >= len(want) {
			slices.Reverse(in)
		}
		domain.SortMembers(in, "")
		for i := range in {
			if in[i] != want[i] {
				t.Fatalf("input order %d: position %d is %s %v, want %s %v", r, i, in[i].Name, in[i].ID, want[i].Name, want[i].ID)
			}
		}
	}
	// With no 户主, the member named like the head comes first.
	ms := []*domain.Member{{Name: "甲", BirthYear: 1950}, {Name: "乙", BirthYear: 1960}, {Name: "丙", BirthYear: 1970}}
	domain.SortMembers(ms, "丙")
	if ms[0].Name != "丙" || ms[1].Name != "甲" || ms[2].Name != "乙" {
		t.Errorf("head by name: %s %s %s", ms[0].Name, ms[1].Name, ms[2].Name)
	}
}
