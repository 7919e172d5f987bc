package domain_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// roster builds a three-level roster with readable names and stable IDs.
type roster struct {
	domain.Roster
	households map[string]*domain.Household
	cadres     map[string]*domain.Cadre
	n          int
}

func newRoster() *roster {
	return &roster{households: map[string]*domain.Household{}, cadres: map[string]*domain.Cadre{}}
}

func (r *roster) nextID() uuid.UUID {
	r.n++
	return uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "roster/%d", r.n))
}

func (r *roster) household(name string, s domain.Status) *domain.Household {
	h := &domain.Household{Meta: domain.Meta{ID: r.nextID()}, HeadName: name, Status: s, Group: id(2), Size: 3}
	r.households[name] = h
	r.Households = append(r.Households, h)
	return h
}

func (r *roster) cadre(name string, rank domain.Rank) *domain.Cadre {
	c := &domain.Cadre{Meta: domain.Meta{ID: r.nextID()}, Name: name, Rank: rank}
	r.cadres[name] = c
	r.Cadres = append(r.Cadres, c)
	return c
}

func (r *roster) pair(cadre string, role domain.Role, households ...string) {
	for _, h := range households {
		r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: r.nextID()},
			Cadre: r.cadres[cadre].ID, Role: role, Target: r.households[h].ID})
	}
}

// assignment returns the assignment of cadre to household in role.
func (r *roster) assignment(cadre string, role domain.Role, household string) *domain.Assignment {
	for _, a := range r.Assignments {
		if a.Cadre == r.cadres[cadre].ID && a.Role == role && a.Target == r.households[household].ID {
			return a
		}
	}
	return nil
}

func (r *roster) without(a *domain.Assignment) domain.Roster {
	out := r.Roster
	out.Assignments = slices.DeleteFunc(slices.Clone(r.Assignments), func(x *domain.Assignment) bool { return x == a })
	return out
}

// complete is the seed's rules met exactly: six registered poor households
// (王坪村), two county-level leaders with three each, three section-level
// cadres with two each, and a helper for every household.
func complete() *roster {
	r := newRoster()
	for _, h := range []string{"马有福", "王兴文", "李正清", "张成林", "韩国强", "杨桂芳"} {
		r.household(h, domain.Registered)
	}
	r.cadre("县领导甲", domain.RankCounty)
	r.cadre("县领导乙", domain.RankCounty)
	r.cadre("科级甲", domain.RankSection)
	r.cadre("科级乙", domain.RankSection)
	r.cadre("科级丙", domain.RankSection)
	r.pair("县领导甲", domain.PairCounty, "马有福", "王兴文", "李正清")
	r.pair("县领导乙", domain.PairCounty, "张成林", "韩国强", "杨桂芳")
	r.pair("科级甲", domain.PairSection, "马有福", "王兴文")
	r.pair("科级乙", domain.PairSection, "李正清", "张成林")
	r.pair("科级丙", domain.PairSection, "韩国强", "杨桂芳")
	for i, h := range []string{"马有福", "王兴文", "李正清", "张成林", "韩国强", "杨桂芳"} {
		name := fmt.Sprintf("帮扶人%d", i+1)
		r.cadre(name, domain.RankOther)
		r.pair(name, domain.Helper, h)
	}
	// Village officers with no pairing: not under any quota.
	for _, name := range []string{"支部书记", "村委主任"} {
		r.cadre(name, domain.RankOther)
		r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: r.nextID()},
			Cadre: r.cadres[name].ID, Role: domain.VillageCommittee, Target: id(1), Title: name})
	}
	return r
}

type householdWant struct {
	head    string
	missing []domain.Role
}

type cadreWant struct {
	name       string
	have, want int
}

func checkGaps(t *testing.T, what string, g domain.Gaps, households []householdWant, cadres []cadreWant) {
	t.Helper()
	var gotH []householdWant
	for _, h := range g.Households {
		gotH = append(gotH, householdWant{h.Household.HeadName, h.Missing})
	}
	var gotC []cadreWant
	for _, c := range g.Cadres {
		gotC = append(gotC, cadreWant{c.Cadre.Name, c.Have, c.Want})
	}
	if !reflect.DeepEqual(gotH, households) {
		t.Errorf("%s: household gaps %v, want %v", what, gotH, households)
	}
	if !reflect.DeepEqual(gotC, cadres) {
		t.Errorf("%s: cadre gaps %v, want %v", what, gotC, cadres)
	}
}

func TestCheckAssistanceComplete(t *testing.T) {
	r := complete()
	g := domain.CheckAssistance(r.Roster, domain.DefaultQuotas())
	if !g.Empty() {
		t.Errorf("a complete roster has gaps: %+v", g)
	}
	checkGaps(t, "complete", g, nil, nil)
	if len(g.Mismatches) != 0 {
		t.Errorf("complete roster: mismatches %+v", g.Mismatches)
	}
}

// TestCheckAssistanceEachLevelMissing removes each pairing of the complete
// roster in turn: that household lacks exactly that level, and the cadre who
// held it falls under quota (an "other" cadre too, at 0 of 1). Ending it
// (帮扶力量调整) or deleting it counts as no assignment.
func TestCheckAssistanceEachLevelMissing(t *testing.T) {
	r := complete()
	q := domain.DefaultQuotas()
	for _, a := range r.Assignments {
		if !a.Role.IsPairing() {
			continue
		}
		var head, cadre string
		var rank domain.Rank
		for name, h := range r.households {
			if h.ID == a.Target {
				head = name
			}
		}
		for name, c := range r.cadres {
			if c.ID == a.Cadre {
				cadre, rank = name, c.Rank
			}
		}
		what := fmt.Sprintf("without %s's %s pairing with %s", cadre, a.Role, head)
		var cadres []cadreWant
		switch rank {
		case domain.RankCounty:
			cadres = []cadreWant{{cadre, 2, 3}}
		case domain.RankSection:
			cadres = []cadreWant{{cadre, 1, 2}}
		case domain.RankOther:
			cadres = []cadreWant{{cadre, 0, 1}} // the seed asks at least one of each
		}
		g := domain.CheckAssistance(r.without(a), q)
		checkGaps(t, what, g, []householdWant{{head, []domain.Role{a.Role}}}, cadres)

		// A deleted assignment counts as no assignment.
		a.Deleted = true
		checkGaps(t, what+" (deleted)", domain.CheckAssistance(r.Roster, q), []householdWant{{head, []domain.Role{a.Role}}}, cadres)
		a.Deleted = false
		// So does an ended one.
		a.End(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), "帮扶力量调整")
		checkGaps(t, what+" (ended)", domain.CheckAssistance(r.Roster, q), []householdWant{{head, []domain.Role{a.Role}}}, cadres)
		a.Until, a.EndReason = time.Time{}, ""
	}
}

func TestCheckAssistanceCountyUnderQuota(t *testing.T) {
	r := complete()
	r.household("新户", domain.Registered)
	r.cadre("县领导丙", domain.RankCounty)
	r.cadre("科级丁", domain.RankSection)
	r.cadre("帮扶人7", domain.RankOther)
	r.pair("县领导丙", domain.PairCounty, "新户")
	r.pair("科级丁", domain.PairSection, "新户")
	r.pair("帮扶人7", domain.Helper, "新户")
	// The new county-level leader also pairs with two more, one of them lifted
	// out of poverty (still followed: 脱贫不脱帮扶).
	r.household("已脱贫户", domain.Lifted)
	r.pair("县领导丙", domain.PairCounty, "马有福", "已脱贫户")
	r.pair("科级丁", domain.PairSection, "已脱贫户")
	r.pair("帮扶人7", domain.Helper, "已脱贫户")
	checkGaps(t, "three households", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), nil, nil)

	a := r.assignment("县领导丙", domain.PairCounty, "马有福")
	g := domain.CheckAssistance(r.without(a), domain.DefaultQuotas())
	checkGaps(t, "two households", g, nil, []cadreWant{{"县领导丙", 2, 3}})
	if len(g.Cadres) == 1 && g.Cadres[0].Cadre != r.cadres["县领导丙"] {
		t.Errorf("the gap points at %p, not the roster's cadre", g.Cadres[0].Cadre)
	}
}

func TestCheckAssistanceQuotas(t *testing.T) {
	r := complete()
	cases := []struct {
		name   string
		q      domain.Quotas
		cadres []cadreWant
	}{
		{"seed 3/2/1", domain.DefaultQuotas(), nil},
		{"5/3/1", domain.Quotas{County: 5, Section: 3, Other: 1, Statuses: []domain.Status{domain.Registered}}, []cadreWant{
			{"县领导乙", 3, 5}, {"县领导甲", 3, 5}, {"科级丙", 2, 3}, {"科级乙", 2, 3}, {"科级甲", 2, 3},
		}},
		{"3/2/2", domain.Quotas{County: 3, Section: 2, Other: 2, Statuses: []domain.Status{domain.Registered}}, []cadreWant{
			{"帮扶人1", 1, 2}, {"帮扶人2", 1, 2}, {"帮扶人3", 1, 2}, {"帮扶人4", 1, 2}, {"帮扶人5", 1, 2}, {"帮扶人6", 1, 2},
		}},
		{"0/0/0", domain.Quotas{Statuses: []domain.Status{domain.Registered}}, nil},
	}
	for _, tc := range cases {
		checkGaps(t, tc.name, domain.CheckAssistance(r.Roster, tc.q), nil, tc.cadres)
	}

	// Statuses say which households are held to the three levels.
	onlyLifted := domain.Quotas{County: 3, Section: 2, Other: 1, Statuses: []domain.Status{domain.Lifted}}
	r.household("已脱贫户", domain.Lifted)
	g := domain.CheckAssistance(r.Roster, onlyLifted)
	checkGaps(t, "only lifted households", g,
		[]householdWant{{"已脱贫户", []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper}}},
		[]cadreWant{{"县领导乙", 0, 3}, {"县领导甲", 0, 3}, {"帮扶人1", 0, 1}, {"帮扶人2", 0, 1}, {"帮扶人3", 0, 1},
			{"帮扶人4", 0, 1}, {"帮扶人5", 0, 1}, {"帮扶人6", 0, 1}, {"科级丙", 0, 2}, {"科级乙", 0, 2}, {"科级甲", 0, 2}})
}

func TestQuota(t *testing.T) {
	q := domain.Quotas{County: 5, Section: 3, Other: 1}
	for _, tc := range []struct {
		rank domain.Rank
		want int
	}{{domain.RankCounty, 5}, {domain.RankSection, 3}, {domain.RankOther, 1}, {"", 1}} {
		if got := q.Quota(tc.rank); got != tc.want {
			t.Errorf("Quota(%q) = %d, want %d", tc.rank, got, tc.want)
		}
	}
	d := domain.DefaultQuotas()
	if d.County != 3 || d.Section != 2 || d.Other != 1 {
		t.Errorf("DefaultQuotas = %+v, want the seed's 3/2/1", d)
	}
	for _, s := range []domain.Status{domain.Registered, domain.Lifted, domain.Monitored} {
		if !slices.Contains(d.Statuses, s) {
			t.Errorf("DefaultQuotas does not cover %s households", s)
		}
	}
	if slices.Contains(d.Statuses, domain.Ordinary) {
		t.Errorf("DefaultQuotas covers ordinary households")
	}
}

func TestCheckAssistanceOrdinaryHouseholds(t *testing.T) {
	r := complete()
	r.household("一般户甲", domain.Ordinary)
	r.household("一般户乙", domain.Ordinary)
	r.household("一般户丙", domain.Ordinary)
	checkGaps(t, "unpaired ordinary households", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), nil, nil)

	// Pairings with ordinary households do not count towards a quota.
	r.cadre("县领导丙", domain.RankCounty)
	r.pair("县领导丙", domain.PairCounty, "一般户甲", "一般户乙", "一般户丙")
	checkGaps(t, "county leader with ordinary households only", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()),
		nil, []cadreWant{{"县领导丙", 0, 3}})
}

func TestCheckAssistanceDeletedRecords(t *testing.T) {
	r := complete()
	// A deleted household is not checked.
	gone := r.household("已迁出", domain.Registered)
	gone.Deleted = true
	checkGaps(t, "deleted household", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), nil, nil)

	// A deleted cadre's pairings do not count, and the cadre is not reported.
	r.cadres["科级甲"].Deleted = true
	checkGaps(t, "deleted cadre", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()),
		[]householdWant{{"王兴文", []domain.Role{domain.PairSection}}, {"马有福", []domain.Role{domain.PairSection}}}, nil)
}

func TestCheckAssistanceMissingAll(t *testing.T) {
	r := complete()
	r.household("新户", domain.Monitored)
	checkGaps(t, "new monitored household", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()),
		[]householdWant{{"新户", []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper}}}, nil)
}

func TestCheckAssistanceRankMismatch(t *testing.T) {
	r := complete()
	// 科级甲 (section level) takes over 县领导甲's county pairing with 马有福.
	a := r.assignment("县领导甲", domain.PairCounty, "马有福")
	a.Cadre = r.cadres["科级甲"].ID
	// A county-level leader as someone's helper is fine.
	helper := r.assignment("帮扶人2", domain.Helper, "王兴文")
	helper.Cadre = r.cadres["县领导乙"].ID

	g := domain.CheckAssistance(r.Roster, domain.DefaultQuotas())
	if len(g.Mismatches) != 1 {
		t.Fatalf("mismatches %+v, want one", g.Mismatches)
	}
	m := g.Mismatches[0]
	if m.Assignment != a || m.Cadre != r.cadres["科级甲"] {
		t.Errorf("mismatch %+v, want the county pairing held by 科级甲", m)
	}
	// The household still has its county level (held by the wrong rank, which
	// the mismatch reports); 县领导甲 is now under quota, 帮扶人2 pairs with
	// no one, which the seed's "at least one" flags.
	checkGaps(t, "mismatch", g, nil, []cadreWant{{"县领导甲", 2, 3}, {"帮扶人2", 0, 1}})
	if g.Empty() {
		t.Error("Empty() with a mismatch")
	}

	// A section pairing held by a county-level leader is a mismatch too.
	r2 := complete()
	s := r2.assignment("科级乙", domain.PairSection, "张成林")
	s.Cadre = r2.cadres["县领导乙"].ID
	g2 := domain.CheckAssistance(r2.Roster, domain.DefaultQuotas())
	if len(g2.Mismatches) != 1 || g2.Mismatches[0].Assignment != s {
		t.Errorf("section pairing held by a county leader: mismatches %+v", g2.Mismatches)
	}
}

func TestCheckAssistanceUnpairedCadres(t *testing.T) {
	r := complete()
	r.cadre("县领导丙", domain.RankCounty)
	r.cadre("科级丁", domain.RankSection)
	r.cadre("党员干部", domain.RankOther)
	r.cadre("办公室干部", domain.RankOther)
	r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: id(503)},
		Cadre: r.cadres["办公室干部"].ID, Role: domain.Office, Target: id(3)})
	// The seed asks every cadre to pair with at least one household: an other
	// cadre with no pairing is flagged, unless their only duty is the office
	// or the village committee.
	checkGaps(t, "unpaired cadres", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), nil,
		[]cadreWant{{"党员干部", 0, 1}, {"县领导丙", 0, 3}, {"科级丁", 0, 2}})
}

func TestCheckAssistanceNonPairingRoles(t *testing.T) {
	r := complete()
	// A group cadre assignment points at a place, not a household: not a pairing.
	r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: id(500)},
		Cadre: r.cadres["支部书记"].ID, Role: domain.GroupCadre, Target: id(2)})
	// A pairing with an unknown cadre is ignored.
	r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: id(501)},
		Cadre: id(502), Role: domain.PairCounty, Target: r.households["马有福"].ID})
	// The village officer who is also a group cadre holds only local duties.
	checkGaps(t, "non-pairing roles", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), nil, nil)
	// A work team member is one of the helpers, and must pair.
	r.Assignments = append(r.Assignments, &domain.Assignment{Meta: domain.Meta{ID: id(503)},
		Cadre: r.cadres["村委主任"].ID, Role: domain.TeamMember, Target: id(1)})
	checkGaps(t, "team member", domain.CheckAssistance(r.Roster, domain.DefaultQuotas()), nil,
		[]cadreWant{{"村委主任", 0, 1}})
}

// TestCheckAssistanceDeterministic: the same roster in any order gives the
// same result, sorted by head of household and cadre name.
func TestCheckAssistanceDeterministic(t *testing.T) {
	r := newRoster()
	for i := range 20 {
		r.household(fmt.Sprintf("户%02d", 19-i), domain.Registered)
	}
	r.household("同名", domain.Registered)
	r.household("同名", domain.Registered)
	for i := range 6 {
		r.cadre(fmt.Sprintf("干部%d", 5-i), []domain.Rank{domain.RankCounty, domain.RankSection}[i%2])
	}
	r.pair("干部5", domain.PairCounty, "户00", "户01")
	r.pair("干部4", domain.PairSection, "户02")
	r.pair("干部4", domain.PairCounty, "户03")  // mismatch
	r.pair("干部3", domain.PairSection, "户03") // mismatch
	want := domain.CheckAssistance(r.Roster, domain.DefaultQuotas())
	if len(want.Households) != 22 || len(want.Cadres) != 5 || len(want.Mismatches) != 2 {
		t.Fatalf("gaps: %d households, %d cadres, %d mismatches", len(want.Households), len(want.Cadres), len(want.Mismatches))
	}
	for i := 1; i < len(want.Households); i++ {
		a, b := want.Households[i-1].Household, want.Households[i].Household
		if a.HeadName > b.HeadName || a.HeadName == b.HeadName && a.ID.String() > b.ID.String() {
			t.Errorf("households out of order: %s before %s", a.HeadName, b.HeadName)
		}
	}
	for i := 1; i < len(want.Cadres); i++ {
		if a, b := want.Cadres[i-1].Cadre.Name, want.Cadres[i].Cadre.Name; strings.Compare(a, b) > 0 {
			t.Errorf("cadres out of order: %s before %s", a, b)
		}
	}
	rng := rand.New(rand.NewSource(2))
	for range 20 {
		shuffled := domain.Roster{
			Households:  slices.Clone(r.Households),
			Cadres:      slices.Clone(r.Cadres),
			Assignments: slices.Clone(r.Assignments),
		}
		rng.Shuffle(len(shuffled.Households), reflect.Swapper(shuffled.Households))
		rng.Shuffle(len(shuffled.Cadres), reflect.Swapper(shuffled.Cadres))
		rng.Shuffle(len(shuffled.Assignments), reflect.Swapper(shuffled.Assignments))
		if got := domain.CheckAssistance(shuffled, domain.DefaultQuotas()); !reflect.DeepEqual(got, want) {
			t.Fatalf("a shuffled roster gives different gaps")
		}
	}
}
