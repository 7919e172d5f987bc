package domain

import (
	"bytes"
	"sort"
	"time"
)

// IDBirth returns the birth date an 18-character resident ID number carries
// (its 7th to 14th digits, YYYYMMDD), midnight in loc; false when id is not
// such a number or the digits are no date.
func IDBirth(id string, loc *time.Location) (time.Time, bool) {
	if len(id) != 18 || CheckIDNumber("id_number", id) != nil {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation("20060102", id[6:14], loc)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// Born returns the member's birth date and whether its day is known: Birth
// when set, else the date in their ID number, else 1 January of BirthYear
// (day not known); the zero time when nothing says.
func (m *Member) Born(loc *time.Location) (time.Time, bool) {
	if !m.Birth.IsZero() {
		return m.Birth, true
	}
	if t, ok := IDBirth(m.IDNumber, loc); ok {
		return t, true
	}
	if m.BirthYear != 0 {
		return time.Date(m.BirthYear, 1, 1, 0, 0, 0, 0, loc), false
	}
	return time.Time{}, false
}

// Age returns the age in whole years on now's day of someone born on birth:
// with the day known (exact), birthdays count; with only the year, it is the
// difference of the years, as a roster that gives only years reckons it.
func Age(birth, now time.Time, exact bool) int {
	by, bm, bd := birth.Date()
	ny, nm, nd := now.Date()
	age := ny - by
	if exact && (nm < bm || nm == bm && nd < bd) {
		age--
	}
	return age
}

// checkBirth checks a member's birth date: not before 1900, not after today,
// in the year BirthYear says, and on the day the ID number says.
func (m *Member) checkBirth(now time.Time) error {
	if m.Birth.IsZero() {
		return nil
	}
	day := m.Birth.Format("2006-01-02")
	if m.Birth.Year() < 1900 {
		return Errorf(EINVALID, "birth", "出生日期 %s 早于 1900 年，请核对", "birth date %s is before 1900; please check it", day)
	}
	if beforeDay(now.In(m.Birth.Location()), m.Birth) {
		return Errorf(EINVALID, "birth", "出生日期 %s 晚于今天，请核对", "birth date %s is after today; please check it", day)
	}
	if m.BirthYear != 0 && m.BirthYear != m.Birth.Year() {
		return Errorf(EINVALID, "birth", "出生年份 %[2]d 与出生日期 %[1]s 不符", "birth year %[2]d does not match the birth date %[1]s", day, m.BirthYear)
	}
	if t, ok := IDBirth(m.IDNumber, m.Birth.Location()); ok && t.Format("2006-01-02") != day {
		return Errorf(EINVALID, "birth", "出生日期 %[1]s 与身份证号（%[2]s 出生）不符，请核对", "birth date %[1]s does not match the ID number (born %[2]s); please check them", day, t.Format("2006-01-02"))
	}
	return nil
}

// birthKey is the calendar day a member was born on as YYYYMMDD, for
// ordering: Birth's own day (in the zone it was entered in), else the ID
// number's date, else 1 January of BirthYear as Born reckons it; 0 when
// nothing says.
func (m *Member) birthKey() int {
	t, _ := m.Born(time.UTC)
	if t.IsZero() {
		return 0
	}
	y, mo, d := t.Date()
	return y*10000 + int(mo)*100 + d
}

// SortMembers orders a household's members as its card lists them: the head
// first (the earliest-born member whose relation is 户主, or else one named
// headName), then the others from the oldest to the youngest by their full
// birth date (Born: the date, else the ID number's, else the year), those
// with none last; equal days by name, then by ID, so the order never depends
// on the order ms came in.
func SortMembers(ms []*Member, headName string) {
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		ka, kb := a.birthKey(), b.birthKey()
		if (ka == 0) != (kb == 0) {
			return kb == 0
		}
		if ka != kb {
			return ka < kb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return bytes.Compare(a.ID[:], b.ID[:]) < 0
	})
	head := -1
	for i, m := range ms {
		if m.Relation == "户主" {
			head = i
			break
		}
	}
	if head < 0 && headName != "" {
		for i, m := range ms {
			if m.Name == headName {
				head = i
				break
			}
		}
	}
	if head > 0 {
		h := ms[head]
		copy(ms[1:head+1], ms[:head])
		ms[0] = h
	}
}
