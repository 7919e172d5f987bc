package store_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// TestEndingsCountOnlyWhatIsCurrent ends a pairing, moves a household out and
// retires a cadre, and checks that every query counts only what is current
// while History keeps it all.
func TestEndingsCountOnlyWhatIsCurrent(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	day := fixtureNow.AddDate(0, 0, -1)

	// 李建国 stops helping 王小红 (帮扶力量调整); 何秀英 takes over.
	var old *domain.Assignment
	for _, a := range v.Assignments {
		if a.Cadre == v.Li.ID && a.Role == domain.Helper && a.Target == v.Wangxh.ID {
			old = a
		}
	}
	old.End(day, "帮扶力量调整")
	mustPut(t, db, v.Office, old)
	mustPut(t, db, v.Office, &domain.Assignment{Cadre: v.He.ID, Role: domain.Helper, Target: v.Wangxh.ID, Since: day})

	rows, err := query.MyHouseholds(db, v.Li.ID, fixtureNow)
	must(t, err)
	wantNames(t, "李建国's households after the adjustment", rows, "张海军", "马玉兰", "王兴文")
	card, err := query.Card(db, v.Wangxh.ID, fixtureNow)
	must(t, err)
	var helpers []string
	for _, h := range card.Helpers {
		if h.Role == domain.Helper {
			helpers = append(helpers, h.Cadre.Name)
		}
	}
	if !slices.Equal(helpers, []string{"何秀英"}) {
		t.Errorf("王小红's helpers %v, want only 何秀英", helpers)
	}
	reach, err := db.Reach(v.Li.ID)
	must(t, err)
	for _, a := range reach {
		if a.Target == v.Wangxh.ID {
			t.Errorf("the ended pairing still gives 李建国 a reach to 王小红")
		}
	}

	// 王兴文 moves out: gone from lists and checks, kept in the history.
	wang := *v.Wang
	wang.Exit, wang.ExitOn, wang.ExitReason = domain.MovedOut, day, "全家迁往兰州"
	mustPut(t, db, v.Office, &wang)
	rows, err = query.VillageHouseholds(db, v.Vil.ID, fixtureNow)
	must(t, err)
	wantNames(t, "village after 王兴文 moved out", rows, "张海军", "韩东生", "马玉兰", "王小红")
	g, err := query.Assistance(db, v.Vil.ID)
	must(t, err)
	for _, x := range g.Households {
		if x.Household.ID == v.Wang.ID {
			t.Errorf("a household that moved out is a gap: %+v", x)
		}
	}
	s, err := query.Summary(db)
	must(t, err)
	if s.Households != 4 || s.People != 3+5+2+6 {
		t.Errorf("summary counts %d households, %d people; want 4, 16", s.Households, s.People)
	}

	// 张志明 retires: no longer under quota, no longer a helper on any card.
	zhang := *v.Zhang
	zhang.Left, zhang.LeftOn, zhang.LeftReason = domain.Retired, day, "到龄退休"
	mustPut(t, db, v.Office, &zhang)
	g, err = query.Assistance(db, v.Vil.ID)
	must(t, err)
	for _, x := range g.Cadres {
		if x.Cadre.ID == v.Zhang.ID {
			t.Errorf("a retired cadre is under quota: %+v", x)
		}
	}
	card, err = query.Card(db, v.Mayu.ID, fixtureNow)
	must(t, err)
	for _, h := range card.Helpers {
		if h.Cadre.ID == v.Zhang.ID {
			t.Errorf("a retired cadre is still on 马玉兰's card")
		}
	}

	h, err := query.History(db, v.Vil.ID)
	must(t, err)
	if len(h.Adjustments) != len(v.Assignments)+1 {
		t.Errorf("history has %d assignments, want %d (every one, ended included)", len(h.Adjustments), len(v.Assignments)+1)
	}
	var ended []string
	for _, a := range h.Adjustments {
		if !a.Assignment.Until.IsZero() {
			ended = append(ended, a.Cadre.Name+"/"+a.TargetName()+"/"+a.Assignment.EndReason)
		}
	}
	if !slices.Equal(ended, []string{"李建国/王小红/帮扶力量调整"}) {
		t.Errorf("ended assignments %v", ended)
	}
	if len(h.Households) != 1 || h.Households[0].ID != v.Wang.ID {
		t.Errorf("households that left: %v, want 王兴文", h.Households)
	}
	if len(h.Cadres) != 1 || h.Cadres[0].ID != v.Zhang.ID {
		t.Errorf("cadres that left: %v, want 张志明", h.Cadres)
	}
}

// TestCardFormerMembers: a member who died or moved away is listed apart.
func TestCardFormerMembers(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	m := *v.Members[2] // 刘桂兰, the mother
	m.Gone, m.GoneOn = domain.Deceased, fixtureNow.AddDate(0, -1, 0)
	mustPut(t, db, v.Office, &m)
	card, err := query.Card(db, v.Wang.ID, fixtureNow)
	must(t, err)
	if len(card.Members) != 3 || len(card.FormerMembers) != 1 || card.FormerMembers[0].Name != "刘桂兰" {
		t.Errorf("members %d, former %v; want 3 and 刘桂兰", len(card.Members), card.FormerMembers)
	}
}

// TestCoverage: the fixture village has no group cadre missing but no
// county-level contact, and its town no lead.
func TestCoverage(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	c, err := query.Coverage(db, v.Vil.ID)
	must(t, err)
	if len(c.GroupsWithoutCadre) != 0 || len(c.VillagesWithoutLeader) != 0 || len(c.VillagesWithoutContact) != 1 ||
		len(c.TownsWithoutLead) != 1 || len(c.Stationed) != 0 {
		t.Errorf("coverage %+v", c)
	}
	// 何秀英's group assignment ends: 二社 has no group cadre.
	for _, a := range v.Assignments {
		if a.Cadre == v.He.ID && a.Role == domain.GroupCadre {
			a.End(fixtureNow, "调离")
			mustPut(t, db, v.Office, a)
		}
	}
	c, err = query.Coverage(db, uuid.Nil)
	must(t, err)
	if len(c.GroupsWithoutCadre) != 1 || c.GroupsWithoutCadre[0].ID != v.G2.ID {
		t.Errorf("groups without a cadre %v, want 二社", c.GroupsWithoutCadre)
	}
	if len(c.Stationed) != 1 || c.Stationed[0].Stationed != 1 || c.Stationed[0].Total != 1 {
		t.Errorf("stationed %+v, want 1 of 1 in 枹罕镇", c.Stationed)
	}
}

// TestReachPairingsOfVillage: a team leader's reach carries the pairings of
// every cadre of the village, those in other villages included.
func TestReachPairingsOfVillage(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	other := &domain.Place{Level: domain.Village, Name: "罗家湾村", Parent: v.Town.ID}
	mustPut(t, db, v.Office, other)
	og := &domain.Place{Level: domain.Group, Name: "一社", Parent: other.ID}
	mustPut(t, db, v.Office, og)
	far := &domain.Household{HeadName: "罗小平", Group: og.ID, Status: domain.Registered, Size: 3}
	mustPut(t, db, v.Office, far)
	elsewhere := &domain.Assignment{Cadre: v.Ma.ID, Role: domain.PairCounty, Target: far.ID}
	stranger := &domain.Cadre{Name: "罗县长", Rank: domain.RankCounty}
	mustPut(t, db, v.Office, elsewhere)
	mustPut(t, db, v.Office, stranger)
	notOurs := &domain.Assignment{Cadre: stranger.ID, Role: domain.PairCounty, Target: far.ID}
	mustPut(t, db, v.Office, notOurs)

	reach, err := db.Reach(v.Zhao.ID)
	must(t, err)
	var pairings []uuid.UUID
	for _, a := range reach {
		if a.Role == domain.TeamLeader {
			pairings = a.Pairings
		}
	}
	if !slices.Contains(pairings, elsewhere.ID) {
		t.Errorf("the team leader's reach lacks 马福林's pairing in 罗家湾村")
	}
	if slices.Contains(pairings, notOurs.ID) {
		t.Errorf("the team leader's reach has a pairing of a cadre of another village")
	}
	// The village's check counts it: 马福林 has 3 households now.
	g, err := query.Assistance(db, v.Vil.ID)
	must(t, err)
	for _, x := range g.Cadres {
		if x.Cadre.ID == v.Ma.ID {
			t.Errorf("马福林 under quota: %d of %d", x.Have, x.Want)
		}
	}
}

// TestReachDutiesOfVillage: a team leader's reach also carries the current
// duties outside the village of every cadre of the village — not an ended
// one, not a duty in the village (its roster is read anyway), not a duty of
// a cadre who works elsewhere only — so that the tablet judges retiring such
// a cadre as the server does.
func TestReachDutiesOfVillage(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	other := &domain.Place{Level: domain.Village, Name: "罗家湾村", Parent: v.Town.ID}
	mustPut(t, db, v.Office, other)
	og := &domain.Place{Level: domain.Group, Name: "一社", Parent: other.ID}
	stranger := &domain.Cadre{Name: "罗社长", Rank: domain.RankOther}
	mustPut(t, db, v.Office, og, stranger)
	since := fixtureNow.AddDate(-1, 0, 0)
	there := &domain.Assignment{Cadre: v.He.ID, Role: domain.TeamMember, Target: other.ID, Since: since}
	ended := &domain.Assignment{Cadre: v.He.ID, Role: domain.GroupCadre, Target: og.ID, Since: since,
		Until: fixtureNow.AddDate(0, -1, 0), EndReason: "帮扶力量调整"}
	notOurs := &domain.Assignment{Cadre: stranger.ID, Role: domain.GroupCadre, Target: og.ID, Since: since}
	mustPut(t, db, v.Office, there, ended, notOurs)
	var here []uuid.UUID // 何秀英's duties in the village
	for _, a := range v.Assignments {
		if a.Cadre == v.He.ID && !a.Role.IsPairing() {
			here = append(here, a.ID)
		}
	}
	if len(here) == 0 {
		t.Fatal("何秀英 has no duty in the village")
	}
	pairings := func() []uuid.UUID {
		t.Helper()
		reach, err := db.Reach(v.Zhao.ID)
		must(t, err)
		for _, a := range reach {
			if a.Level == domain.Village && a.Target == v.Vil.ID {
				return a.Pairings
			}
		}
		t.Fatal("赵德明 does not reach the village")
		return nil
	}
	got := pairings()
	if !slices.Contains(got, there.ID) {
		t.Errorf("the team leader's reach lacks 何秀英's duty in 罗家湾村")
	}
	if slices.Contains(got, ended.ID) {
		t.Errorf("the team leader's reach has 何秀英's ended duty in 罗家湾村")
	}
	if slices.Contains(got, notOurs.ID) {
		t.Errorf("the team leader's reach has a duty of a cadre of another village")
	}
	for _, id := range here {
		if slices.Contains(got, id) {
			t.Errorf("the team leader's reach names 何秀英's duty %s in the village itself", id)
		}
	}
	// Ended, it leaves the set.
	there.End(fixtureNow, "帮扶力量调整")
	mustPut(t, db, v.Office, there)
	if slices.Contains(pairings(), there.ID) {
		t.Errorf("the team leader's reach keeps 何秀英's duty in 罗家湾村 once ended")
	}
}

// TestRulesLiveInTheData: a town's rules hold in its villages, a village's
// own rules over its town's, and the replica's settings only where neither
// sets any; the overdue threshold, the quotas and the approvers all follow.
func TestRulesLiveInTheData(t *testing.T) {
	db := mustOpen(t)
	v := buildVillage(t, db, fixtureNow)
	overdue := func() []string {
		rows, err := query.VillageHouseholds(db, v.Vil.ID, fixtureNow)
		must(t, err)
		var out []string
		for _, r := range rows {
			if r.Overdue {
				out = append(out, r.HeadName)
			}
		}
		return out
	}
	quotaOf := func(c *domain.Cadre) int {
		g, err := query.Assistance(db, v.Vil.ID)
		must(t, err)
		for _, x := range g.Cadres {
			if x.Cadre.ID == c.ID {
				return x.Want
			}
		}
		return -1 // not under quota
	}
	// Replica defaults: 30 days; 马福林 (county) pairs with 3 of 3.
	if got := overdue(); !slices.Equal(got, []string{"张海军", "韩东生", "马玉兰"}) {
		t.Errorf("overdue at 30 days: %v", got)
	}
	if q := quotaOf(v.Ma); q != -1 {
		t.Errorf("马福林 under quota %d with the defaults", q)
	}
	if a, err := db.PlanApprovers(v.Vil.ID); err != nil || !slices.Equal(a, domain.DefaultApprovers()) {
		t.Errorf("default approvers %v, %v", a, err)
	}

	// The town: 4 county households, 60 days, town leads approve.
	town := *v.Town
	town.Rules = &domain.Rules{County: 4, Section: 2, Other: 1, Statuses: []domain.Status{domain.Registered, domain.Lifted, domain.Monitored},
		Stationed: 80, OverdueDays: 60, Approvers: []domain.Role{domain.TownLead}}
	mustPut(t, db, v.Office, &town)
	if got := overdue(); !slices.Equal(got, []string{"张海军", "韩东生"}) {
		t.Errorf("overdue at the town's 60 days: %v", got)
	}
	if q := quotaOf(v.Ma); q != 4 {
		t.Errorf("马福林's quota under the town's rules: %d, want 4", q)
	}
	if a, _ := db.PlanApprovers(v.Vil.ID); !slices.Equal(a, []domain.Role{domain.TownLead}) {
		t.Errorf("approvers under the town's rules: %v", a)
	}

	// The village's own rules win.
	vil := *v.Vil
	r := domain.DefaultRules()
	r.OverdueDays = 2
	vil.Rules = &r
	mustPut(t, db, v.Office, &vil)
	if got := overdue(); len(got) != 4 || !slices.Contains(got, "王兴文") {
		t.Errorf("overdue at the village's 2 days: %v, want 王兴文 (3 days) too", got)
	}
	if q := quotaOf(v.Ma); q != -1 {
		t.Errorf("马福林 under quota %d under the village's own rules", q)
	}

	// Bad rules are refused.
	bad := vil
	br := r
	br.Approvers = []domain.Role{domain.Helper}
	bad.Rules = &br
	if err := db.Put(v.Office, &bad); err == nil {
		t.Error("a helper as approver was accepted")
	}
}
