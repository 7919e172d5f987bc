package query

import (
	"bytes"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"bangfu/store"
)

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
		part, rest, _ := strings.Cut(key, store.KeySep)
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
// the head: their names, lower case, each after store.KeySep. HouseholdRow.Key ends
// with them, so that a list searched in memory finds a household by any
// member's name.
func memberKey(names []string) string {
	var b strings.Builder
	for _, n := range names {
		if n = store.Normalize(n); n != "" {
			b.WriteString(store.KeySep)
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
		key = store.SearchKey(row.HeadName, row.Phone, row.IDTail)
	}
	return matchKey(key, store.Normalize(query))
}

// Search returns the households matching query (see Match) within village
// (uuid.Nil: everywhere), at most limit of them (limit <= 0: all), in the
// order of MyHouseholds: never visited first, then most days since the last
// visit, then by name.
//
// It walks the search index, which holds every household's search text, and
// decodes only the households it returns.
func Search(db *store.DB, village uuid.UUID, query string, now time.Time, limit int) ([]HouseholdRow, error) {
	q := store.Normalize(query)
	var out []HouseholdRow
	err := view(db, func(r *reader) error {
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
		r.tx.Scan("hh_search", nil, func(k []byte, id uuid.UUID) bool {
			if len(k) < 33 || k[len(k)-33] != 0 {
				return true
			}
			if groups != nil && !groups[uuid.UUID(k[len(k)-32:len(k)-16])] {
				return true
			}
			text := string(k[:len(k)-33])
			if !matchKey(text, q) || seen[id] {
				return true
			}
			name, _, _ := strings.Cut(text, store.KeySep)
			seen[id] = true
			hits = append(hits, hit{id: id, name: name, days: daysSince(r.lastVisit(id), now)})
			return true
		})
		// Then the households whose members' names match (names are
		// Chinese: a query in letters or digits cannot match them).
		if hasWide(q) {
			r.tx.Scan("member_name", nil, func(k []byte, _ uuid.UUID) bool {
				if len(k) < 33 || !strings.Contains(undash(string(k[16:len(k)-17])), undash(q)) {
					return true
				}
				id := uuid.UUID(k[:16])
				if seen[id] {
					return true
				}
				hh := r.household(id)
				if hh == nil || groups != nil && !groups[hh.Group] {
					return true
				}
				seen[id] = true
				hits = append(hits, hit{id: id, name: store.Normalize(hh.HeadName), days: daysSince(r.lastVisit(id), now)})
				return true
			})
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
