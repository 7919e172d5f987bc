package store

import (
	"bytes"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/mozillazg/go-pinyin"
	bolt "go.etcd.io/bbolt"
)

// keySep separates the parts of a search key: the name, its pinyin initials,
// its full pinyin, the phone and the ID tail. A query never contains it, so a
// match never spans two parts.
const keySep = "\x1f"

// searchKey returns the text a household is found by: the head's name, the
// initials and the full pinyin of the name, the phone and the last four
// characters of the ID number, in lower case, separated by keySep. It is
// stored in the hh_search index and in HouseholdRow.Key.
func searchKey(name, phone, idNumber string) string {
	name = normalize(name)
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
	return strings.Join([]string{name, initials.String(), full.String(), normalize(phone), normalize(idTail(idNumber))}, keySep)
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
func idTail(id string) string {
	if len(id) <= 4 {
		return id
	}
	return id[len(id)-4:]
}

// normalize lowers q and drops spaces and control characters, so that
// "Wang Xing Wen" and "wangxingwen" are the same query.
func normalize(q string) string {
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

// matchKey reports whether the normalized query q is a substring of one part
// of a search key.
// Dashes are ignored: a phone stored as 138-9301-2345 is found by 1389301
// and the other way round.
func matchKey(key, q string) bool {
	if q == "" {
		return true
	}
	q = undash(q)
	if q == "" {
		return true
	}
	for key != "" {
		part, rest, _ := strings.Cut(key, keySep)
		if strings.Contains(undash(part), q) {
			return true
		}
		key = rest
	}
	return false
}

// undash drops the dashes of s (allocating only when there are some).
func undash(s string) string {
	if strings.IndexByte(s, '-') < 0 {
		return s
	}
	return strings.ReplaceAll(s, "-", "")
}

// memberKey returns the search key parts of a household's members other than
// the head: their names, lower case, each after keySep. HouseholdRow.Key ends
// with them, so that a list searched in memory finds a household by any
// member's name.
func memberKey(names []string) string {
	var b strings.Builder
	for _, n := range names {
		if n = normalize(n); n != "" {
			b.WriteString(keySep)
			b.WriteString(n)
		}
	}
	return b.String()
}

// Match reports whether row matches a query typed in a search box: a
// substring of the name, of the pinyin initials (typing "wxw" finds 王兴文), of
// the full pinyin, of the phone, of the ID tail, or of a member's name. Case,
// spaces and dashes are ignored. The empty query matches everything.
func Match(row HouseholdRow, query string) bool {
	key := row.Key
	if key == "" {
		key = searchKey(row.HeadName, row.Phone, row.IDTail)
	}
	return matchKey(key, normalize(query))
}

// Search returns the households matching query (see Match) within village
// (uuid.Nil: everywhere), at most limit of them (limit <= 0: all), in the
// order of MyHouseholds: never visited first, then most days since the last
// visit, then by name.
//
// It walks the search index, which holds every household's search text, and
// decodes only the households it returns.
func (db *DB) Search(village uuid.UUID, query string, now time.Time, limit int) ([]HouseholdRow, error) {
	q := normalize(query)
	var out []HouseholdRow
	err := db.bolt.View(func(tx *bolt.Tx) error {
		r, err := db.newReader(tx)
		if err != nil {
			return err
		}
		var groups map[uuid.UUID]bool
		if village != uuid.Nil {
			groups = map[uuid.UUID]bool{}
			for _, g := range r.groupsOf(village) {
				groups[g.ID] = true
			}
		}
		type hit struct {
			id   uuid.UUID
			name string
			days int // -1: never visited
		}
		var hits []hit
		seen := map[uuid.UUID]bool{}
		b := indexOf(tx, "hh_search")
		if b == nil {
			return nil
		}
		c := b.cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 33 || k[len(k)-33] != 0 {
				continue
			}
			if groups != nil && !groups[uuid.UUID(k[len(k)-32:len(k)-16])] {
				continue
			}
			text := string(k[:len(k)-33])
			if !matchKey(text, q) {
				continue
			}
			name, _, _ := strings.Cut(text, keySep)
			id := uuid.UUID(k[len(k)-16:])
			if seen[id] {
				continue
			}
			seen[id] = true
			hits = append(hits, hit{id: id, name: name, days: daysSince(r.lastVisit(id), now)})
		}
		// Then the households whose members' names match (names are
		// Chinese: a query in letters or digits cannot match them).
		if mb := indexOf(tx, "member_name"); mb != nil && hasWide(q) {
			mc := mb.cursor()
			for k, _ := mc.First(); k != nil; k, _ = mc.Next() {
				if len(k) < 33 || !strings.Contains(undash(string(k[16:len(k)-17])), undash(q)) {
					continue
				}
				id := uuid.UUID(k[:16])
				if seen[id] {
					continue
				}
				hh := r.household(id)
				if hh == nil || groups != nil && !groups[hh.Group] {
					continue
				}
				seen[id] = true
				hits = append(hits, hit{id: id, name: normalize(hh.HeadName), days: daysSince(r.lastVisit(id), now)})
			}
		}
		// Order by what the index and visit_hh hold, then decode only the
		// first limit households.
		sort.Slice(hits, func(i, j int) bool {
			a, b := &hits[i], &hits[j]
			return lessRow(a.days, b.days, a.name, b.name, a.id, b.id)
		})
		if limit > 0 && len(hits) > limit {
			hits = hits[:limit]
		}
		for _, h := range hits {
			hh := r.household(h.id)
			if hh == nil {
				continue
			}
			out = append(out, r.row(hh, now))
		}
		// The index holds the name in normalized (lower) case: sort again
		// by the rows' own names so the order matches the lists exactly.
		sortRows(out)
		return nil
	})
	return out, err
}

// lessRow orders households overdue first: never visited (days -1), then
// most whole days since the last visit, then by name, then by ID.
func lessRow(da, db int, nameA, nameB string, idA, idB uuid.UUID) bool {
	if (da < 0) != (db < 0) {
		return da < 0
	}
	if da != db {
		return da > db
	}
	if nameA != nameB {
		return nameA < nameB
	}
	return bytes.Compare(idA[:], idB[:]) < 0
}

// hasWide reports whether s holds a character beyond ASCII (a Chinese name).
func hasWide(s string) bool {
	for _, r := range s {
		if r >= unicode.MaxASCII {
			return true
		}
	}
	return false
}
