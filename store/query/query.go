package query

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// HouseholdRow is one line of a household list.
type HouseholdRow struct {
	ID           uuid.UUID
	HeadName     string
	Phone        string
	IDTail       string // last four characters of the head's ID number
	Group        uuid.UUID
	GroupName    string // e.g. 一社
	Village      uuid.UUID
	Status       domain.Status
	Size         int
	LastVisit    time.Time // zero if never visited
	DaysSince    int       // whole days since LastVisit at now; -1 if never visited
	Overdue      bool      // never visited, or DaysSince >= store.Settings.OverdueDays
	OpenProblems int
	Key          string // search key: name, pinyin initials, full pinyin, phone, ID tail (lower case)
}

// MyHouseholds returns the households cadre is responsible for — those of the
// groups where they are group cadre (包社干部), plus those they are paired
// with as county-level leader, section-level cadre or helper — overdue first:
// never visited first, then most days since the last visit, then by name.
func MyHouseholds(db *store.DB, cadre uuid.UUID, now time.Time) ([]HouseholdRow, error) {
	var out []HouseholdRow
	err := view(db, func(r *reader) error {
		out = r.rows(r.householdsOf(cadre), now)
		return nil
	})
	return out, err
}

// GroupHouseholds returns the households of a group (社), in the order of
// MyHouseholds.
func GroupHouseholds(db *store.DB, group uuid.UUID, now time.Time) ([]HouseholdRow, error) {
	var out []HouseholdRow
	err := view(db, func(r *reader) error {
		out = r.rows(r.householdsOfGroup(group), now)
		return nil
	})
	return out, err
}

// VillageHouseholds returns the households of a village, in the order of
// MyHouseholds.
func VillageHouseholds(db *store.DB, village uuid.UUID, now time.Time) ([]HouseholdRow, error) {
	var out []HouseholdRow
	err := view(db, func(r *reader) error {
		out = r.rows(r.householdsOfVillage(village), now)
		return nil
	})
	return out, err
}

// view runs fn in a read transaction with a reader over it.
func view(db *store.DB, fn func(*reader) error) error {
	return db.View(func(t *store.Tx) error { return fn(newReader(t)) })
}

// reader answers the queries' questions within one transaction, caching the
// places and cadres it decodes. Everything it returns is a decoded copy.
type reader struct {
	tx     *store.Tx
	places map[uuid.UUID]*domain.Place
	cadres map[uuid.UUID]*domain.Cadre
}

func newReader(t *store.Tx) *reader {
	return &reader{tx: t, places: map[uuid.UUID]*domain.Place{}, cadres: map[uuid.UUID]*domain.Cadre{}}
}

// get returns the live record of kind with id, or nil.
func (r *reader) get(kind domain.Kind, id uuid.UUID) domain.Record {
	if id == uuid.Nil {
		return nil
	}
	rec, err := r.tx.Get(kind, id)
	if err != nil {
		return nil
	}
	return rec
}

// place returns a live place, or nil.
func (r *reader) place(id uuid.UUID) *domain.Place {
	if p, ok := r.places[id]; ok {
		return p
	}
	var p *domain.Place
	if rec := r.get(domain.KindPlace, id); rec != nil {
		p = rec.(*domain.Place)
	}
	r.places[id] = p
	return p
}

// cadre returns a live cadre, or nil.
func (r *reader) cadre(id uuid.UUID) *domain.Cadre {
	if c, ok := r.cadres[id]; ok {
		return c
	}
	var c *domain.Cadre
	if rec := r.get(domain.KindCadre, id); rec != nil {
		c = rec.(*domain.Cadre)
	}
	r.cadres[id] = c
	return c
}

// household returns a live household, or nil.
func (r *reader) household(id uuid.UUID) *domain.Household {
	if rec := r.get(domain.KindHousehold, id); rec != nil {
		return rec.(*domain.Household)
	}
	return nil
}

// ids returns the record IDs under prefix in index name, in key order.
func (r *reader) ids(name string, prefix []byte) []uuid.UUID {
	var out []uuid.UUID
	r.tx.Scan(name, prefix, func(_ []byte, id uuid.UUID) bool {
		out = append(out, id)
		return true
	})
	return out
}

// children returns the live places under parent at level, by name.
func (r *reader) children(parent uuid.UUID, level domain.Level) []*domain.Place {
	var out []*domain.Place
	for _, id := range r.ids("place_parent", parent[:]) {
		if p := r.place(id); p != nil && p.Level == level {
			out = append(out, p)
		}
	}
	sortPlaces(out)
	return out
}

// groupsOf returns the groups (社) of a village, by name.
func (r *reader) groupsOf(village uuid.UUID) []*domain.Place {
	return r.children(village, domain.Group)
}

// villageOf returns the village a group belongs to, uuid.Nil if unknown.
func (r *reader) villageOf(group uuid.UUID) uuid.UUID {
	if g := r.place(group); g != nil {
		if v := r.place(g.Parent); v != nil && v.Level == domain.Village {
			return v.ID
		}
	}
	return uuid.Nil
}

// householdVillage returns the village of a household, uuid.Nil if unknown.
func (r *reader) householdVillage(id uuid.UUID) uuid.UUID {
	if h := r.household(id); h != nil {
		return r.villageOf(h.Group)
	}
	return uuid.Nil
}

// householdsOfGroup returns the IDs of a group's households.
func (r *reader) householdsOfGroup(group uuid.UUID) []uuid.UUID {
	return r.ids("hh_group", group[:])
}

// householdsOfVillage returns the IDs of a village's households, group by group.
func (r *reader) householdsOfVillage(village uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	for _, g := range r.groupsOf(village) {
		out = append(out, r.householdsOfGroup(g.ID)...)
	}
	return out
}

// assignmentsOf returns the current assignments of a cadre
// (domain.Assignment.Current).
func (r *reader) assignmentsOf(cadre uuid.UUID) []*domain.Assignment {
	return r.assignments("assign_cadre", cadre, false)
}

// assignmentsTo returns the current assignments whose target is id.
func (r *reader) assignmentsTo(id uuid.UUID) []*domain.Assignment {
	return r.assignments("assign_target", id, false)
}

// assignments returns the live assignments under prefix id in index name,
// those that ended only if ended is set.
func (r *reader) assignments(name string, id uuid.UUID, ended bool) []*domain.Assignment {
	var out []*domain.Assignment
	for _, aid := range r.ids(name, id[:]) {
		if rec := r.get(domain.KindAssignment, aid); rec != nil {
			if a := rec.(*domain.Assignment); ended || a.Current() {
				out = append(out, a)
			}
		}
	}
	return out
}

// householdsOf returns the IDs of the households a cadre is responsible for:
// those of their groups and those they are paired with, each once. A deleted
// cadre has none; a cadre whose record has not arrived yet has those of their
// assignments.
func (r *reader) householdsOf(cadre uuid.UUID) []uuid.UUID {
	if st, ok, err := r.tx.State(domain.KindCadre, cadre, "deleted"); err != nil || (ok && string(st.Value) == "true") {
		return nil
	}
	seen := map[uuid.UUID]bool{}
	var out []uuid.UUID
	add := func(id uuid.UUID) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, a := range r.assignmentsOf(cadre) {
		switch {
		case a.Role == domain.GroupCadre:
			for _, id := range r.householdsOfGroup(a.Target) {
				add(id)
			}
		case a.Role.IsPairing():
			add(a.Target)
		}
	}
	return out
}

// lastVisit returns the time of a household's latest visit, read from the
// visit_hh index (newest first), zero if it was never visited.
func (r *reader) lastVisit(household uuid.UUID) time.Time {
	var last time.Time
	r.tx.Scan("visit_hh", household[:], func(k []byte, _ uuid.UUID) bool {
		last = newestTime(k[16:24])
		return false
	})
	return last
}

// visitsSince counts the visits under prefix in a visit index (keys: prefix,
// newest time, ID) made at or after since.
func (r *reader) visitsSince(index string, prefix []byte, since time.Time) int {
	n := 0
	r.tx.Scan(index, prefix, func(k []byte, _ uuid.UUID) bool {
		if newestTime(k[len(prefix) : len(prefix)+8]).Before(since) {
			return false
		}
		n++
		return true
	})
	return n
}

// newestTime decodes a time encoded by newest.
func newestTime(b []byte) time.Time {
	return time.UnixMilli(int64(math.MaxUint64 - binary.BigEndian.Uint64(b)))
}

// openProblems counts a household's open problems.
func (r *reader) openProblems(household uuid.UUID) int {
	n := 0
	r.tx.Scan("problem_open_hh", household[:], func([]byte, uuid.UUID) bool { n++; return true })
	return n
}

// memberNames returns the names of a household's members other than the head.
func (r *reader) memberNames(h *domain.Household) []string {
	var names []string
	head := store.Normalize(h.HeadName)
	r.tx.Scan("member_name", h.ID[:], func(k []byte, _ uuid.UUID) bool {
		if len(k) >= 33 {
			if n := string(k[16 : len(k)-17]); n != head {
				names = append(names, n)
			}
		}
		return true
	})
	return names
}

// row returns the list line of a household at now.
func (r *reader) row(h *domain.Household, now time.Time) HouseholdRow {
	row := HouseholdRow{
		ID:           h.ID,
		HeadName:     h.HeadName,
		Phone:        h.Phone,
		IDTail:       store.IDTail(h.IDNumber),
		Group:        h.Group,
		Status:       h.Status,
		Size:         h.Size,
		DaysSince:    -1,
		OpenProblems: r.openProblems(h.ID),
		Key:          store.SearchKey(h.HeadName, h.Phone, h.IDNumber) + memberKey(r.memberNames(h)),
	}
	if g := r.place(h.Group); g != nil {
		row.GroupName = g.Name
		row.Village = r.villageOf(g.ID)
	}
	if last := r.lastVisit(h.ID); !last.IsZero() {
		row.LastVisit = last.In(now.Location())
		row.DaysSince = daysSince(last, now)
	}
	row.Overdue = row.DaysSince < 0 || row.DaysSince >= r.tx.Rules(row.Village).OverdueDays
	return row
}

// rows returns the list lines of the live households among ids, sorted.
func (r *reader) rows(ids []uuid.UUID, now time.Time) []HouseholdRow {
	out := make([]HouseholdRow, 0, len(ids))
	for _, id := range ids {
		if h := r.household(id); h != nil {
			out = append(out, r.row(h, now))
		}
	}
	sortRows(out)
	return out
}

// daysSince returns the whole days from t to now, 0 if t is later; -1 for a
// zero t.
func daysSince(t, now time.Time) int {
	if t.IsZero() {
		return -1
	}
	d := now.Sub(t)
	if d < 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
}

// sortRows sorts household rows overdue first (see MyHouseholds).
func sortRows(rows []HouseholdRow) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		return lessRow(a.DaysSince, b.DaysSince, a.HeadName, b.HeadName, a.ID, b.ID)
	})
}

// sortPlaces sorts places by name, a leading number in numeric order (二社
// before 十社, 2 before 10), then by ID.
func sortPlaces(ps []*domain.Place) {
	sort.Slice(ps, func(i, j int) bool {
		if c := compareNames(ps[i].Name, ps[j].Name); c != 0 {
			return c < 0
		}
		return string(ps[i].ID[:]) < string(ps[j].ID[:])
	})
}

// compareNames compares place names, a leading number (Arabic or Chinese
// numerals) by its value.
func compareNames(a, b string) int {
	na, ra, oka := leadingNumber(a)
	nb, rb, okb := leadingNumber(b)
	if oka && okb && na != nb {
		if na < nb {
			return -1
		}
		return 1
	}
	if oka && okb && ra != rb {
		return strings.Compare(ra, rb)
	}
	return strings.Compare(a, b)
}

var cnDigits = map[rune]int{'〇': 0, '零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}

// leadingNumber reads a number in Arabic or Chinese numerals (up to 九百九十九)
// at the start of s and returns it with the rest of s.
func leadingNumber(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 9 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i > 0 {
		return n, s[i:], true
	}
	total, cur := 0, 0
	for j, r := range s {
		if d, isDigit := cnDigits[r]; isDigit {
			cur = d
		} else if r == '十' || r == '百' {
			if cur == 0 {
				cur = 1
			}
			if r == '十' {
				total += cur * 10
			} else {
				total += cur * 100
			}
			cur = 0
		} else {
			return total + cur, s[j:], j > 0
		}
	}
	return total + cur, "", s != ""
}

// monthStart returns the first instant of now's calendar month, in now's zone.
func monthStart(now time.Time) time.Time {
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
}

// notFoundErr wraps a not-found error with the query that met it.
func notFoundErr(what string, kind domain.Kind, id uuid.UUID) error {
	return fmt.Errorf("query: %s: %w", what, store.NotFound(kind, id))
}
