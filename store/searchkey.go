package store

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// KeySep separates the parts of a search key: the name, its pinyin initials,
// its full pinyin, the phone and the ID tail. A query never contains it, so a
// match never spans two parts.
const KeySep = "\x1f"

// SearchKey returns the text a household is found by: the head's name, the
// initials and the full pinyin of the name, the phone and the last four
// characters of the ID number, in lower case, separated by KeySep. It is
// stored in the hh_search index and in query.HouseholdRow.Key.
func SearchKey(name, phone, idNumber string) string {
	name = Normalize(name)
	var initials, full strings.Builder
	args := pinyin.NewArgs()
	first := true
	for _, r := range name {
		if r < unicode.MaxASCII {
			// Latin letters and digits stand for themselves.
			initials.WriteRune(r)
			full.WriteRune(r)
			continue
		}
		py := surnameReadings[r]
		if !first || py == "" {
			py = nameReadings[r]
		}
		first = false
		if py == "" {
			if ps := pinyin.SinglePinyin(r, args); len(ps) > 0 {
				py = ps[0]
			}
		}
		if py == "" {
			continue
		}
		initials.WriteByte(py[0])
		full.WriteString(py)
	}
	return strings.Join([]string{name, initials.String(), full.String(), Normalize(phone), Normalize(IDTail(idNumber))}, KeySep)
}

// The readings of characters whose usual reading in a name differs from the
// first one go-pinyin gives: anywhere in a name, and as a surname (the first
// character).
var (
	nameReadings    = map[rune]string{'长': "chang"}
	surnameReadings = map[rune]string{'曾': "zeng", '单': "shan", '解': "xie", '仇': "qiu", '朴': "piao",
		'查': "zha", '区': "ou", '乐': "yue", '覃': "qin", '缪': "miao", '盖': "ge", '种': "chong",
		'翟': "zhai", '召': "shao"}
)

// idTail returns the last four characters of an ID number.
func IDTail(id string) string {
	if len(id) <= 4 {
		return id
	}
	return id[len(id)-4:]
}

// Normalize lowers q and drops spaces and control characters, so that
// "Wang Xing Wen" and "wangxingwen" are the same query.
func Normalize(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for _, r := range q {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
