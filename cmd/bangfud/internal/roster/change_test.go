package roster_test

import (
	"strings"
	"testing"

	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
)

// apply plans text against snap and folds the result into it, as a store
// would.
func apply(t *testing.T, snap *roster.Snapshot, text string) *roster.Result {
	t.Helper()
	tables, bad := readCSV(t, text)
	if len(bad) != 0 {
		t.Fatalf("bad: %v", bad)
	}
	res := roster.Plan(tables, *snap, now)
	if len(res.Bad) != 0 {
		return res
	}
	for _, rec := range res.Records {
		switch r := rec.(type) {
		case *domain.Place:
			snap.Places = append(snap.Places, r)
		case *domain.Household:
			snap.Households = upsert(snap.Households, r)
		case *domain.Cadre:
			snap.Cadres = upsert(snap.Cadres, r)
		case *domain.Member:
			snap.Members = upsert(snap.Members, r)
		case *domain.Assignment:
			snap.Assignments = upsert(snap.Assignments, r)
		}
	}
	return res
}

func upsert[T interface{ Metadata() *domain.Meta }](list []T, rec T) []T {
	for i, x := range list {
		if x.Metadata().ID == rec.Metadata().ID {
			list[i] = rec
			return list
		}
	}
	return append(list, rec)
}

const base = "户主,社,村,镇,市,户类型,人口,身份证号\n" +
	"马兴文,一社,王坪村,枹罕镇,临夏市,贫困户,5,\n" +
	"干部,职级,电话\n" +
	"周建国,county,13800931001\n" +
	"李明,other,13800931002\n" +
	"王芳,other,13800931003\n" +
	"干部,职责,村,户主\n" +
	"李明,帮扶责任人,王坪村,马兴文\n"

// TestPlanChanges: members as a table, a new helper ending the old pairing,
// an explicit ending, and the same file twice being a no-op.
func TestPlanChanges(t *testing.T) {
	snap := &roster.Snapshot{}
	if res := apply(t, snap, base); len(res.Bad) != 0 || res.NewAssignments != 1 {
		t.Fatalf("base: %+v", res)
	}
	idn := "62290119700312123"
	idn += string(domain.IDCheckDigit(idn))
	for _, tc := range []struct {
		name                  string
		text                  string
		added, changed, ended int
		bad                   string
	}{
		{name: "members", text: "户主,村,成员姓名,与户主关系,性别,出生日期,健康状况,文化程度,从业情况\n" +
			"马兴文,王坪村,马兴文,户主,男,1968-03-02,健康,小学,务农\n" +
			"马兴文,王坪村,马小花,女,女,2001,健康,高中,外出务工\n", added: 2},
		{name: "a member dies", text: "户主,村,成员姓名,成员状态,结束日期\n马兴文,王坪村,马兴文,已故,2025-05-01\n", changed: 1},
		{name: "a new helper ends the old pairing", text: "干部,职责,村,户主\n王芳,帮扶责任人,王坪村,马兴文\n", added: 1, ended: 1},
		{name: "two helpers in one file", text: "干部,职责,村,户主\n周建国,帮扶责任人,王坪村,马兴文\n李明,帮扶责任人,王坪村,马兴文\n",
			bad: "两名帮扶责任人"},
		{name: "an ending before the start", text: "干部,职责,村,户主,结束日期\n王芳,帮扶责任人,王坪村,马兴文,2025-05-20\n", bad: "早于"},
		{name: "an ending row", text: "干部,职责,村,户主,结束日期,结束原因\n王芳,帮扶责任人,王坪村,马兴文,2025-06-02,调离\n", ended: 1},
		{name: "the ending again", text: "干部,职责,村,户主,结束日期,结束原因\n王芳,帮扶责任人,王坪村,马兴文,2025-06-02,调离\n"},
		{name: "a retired cadre gets no new duty", text: "干部,职级,在岗状态,离岗日期\n周建国,county,退休,2025-05-30\n" +
			"干部,职责,村,户主\n周建国,县级结对,王坪村,马兴文\n", bad: "周建国已退休"},
		{name: "a new household with an ID number", text: "户主,社,村,身份证号,户类型,人口\n张德明,一社,王坪村," + idn + ",一般户,2\n", added: 1},
		{name: "it moves to another group", text: "户主,社,村,身份证号\n张德明,二社,王坪村," + idn + "\n", changed: 1},
		{name: "a household moves out", text: "户主,社,村,户状态,变动日期,变动原因\n马兴文,一社,王坪村,迁出,2025-05-31,迁往兰州\n", changed: 1},
		{name: "a bad date", text: "户主,社,村,户状态,变动日期\n马兴文,一社,王坪村,迁出,31/05/2025\n", bad: "日期"},
		{name: "a birth date", text: "户主,村,成员姓名,出生日期\n马兴文,王坪村,马小花,2001年5月4日\n", changed: 1},
		{name: "the year alone keeps the date", text: "户主,村,成员姓名,出生日期\n马兴文,王坪村,马小花,2001\n"},
		{name: "the same date written otherwise", text: "户主,村,成员姓名,出生日期\n马兴文,王坪村,马小花,20010504\n"},
		{name: "a birth date in the future", text: "户主,村,成员姓名,出生日期\n马兴文,王坪村,马小花,2025-06-02\n", bad: "晚于今天"},
		{name: "no such day", text: "户主,村,成员姓名,出生日期\n马兴文,王坪村,马小花,2001-02-30\n", bad: "无法识别"},
		{name: "a household without an ID number", text: "户主,社,村,户类型,人口\n何三宝,一社,王坪村,一般户,3\n", added: 1},
		{name: "a namesake in another group is ambiguous", text: "户主,社,村,户类型,人口\n何三宝,二社,王坪村,一般户,3\n",
			bad: "一社已有户主为“何三宝”的户，本行没有户编号和身份证号，无法判断"},
		{name: "a move from a group that lacks the head", text: "户主,社,原社,村\n何三宝,二社,三社,王坪村\n", bad: "三社"},
		{name: "it moves by 原社", text: "户主,社,原社,村\n何三宝,二社,一社,王坪村\n", changed: 1},
		{name: "and back by 原社, with its size", text: "户主,社,原社,村,人口\n何三宝,一社,二社,王坪村,4\n", changed: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := apply(t, snap, tc.text)
			if tc.bad != "" {
				if len(res.Bad) == 0 || !strings.Contains(res.Bad[0].Error(), tc.bad) {
					t.Fatalf("bad rows %v, want one saying %q", res.Bad, tc.bad)
				}
				return
			}
			if len(res.Bad) != 0 {
				t.Fatalf("bad rows: %v", res.Bad)
			}
			ops := map[string]int{}
			for _, ch := range res.Changes {
				ops[ch.Op]++
			}
			if ops["added"] != tc.added || ops["changed"] != tc.changed || ops["ended"] != tc.ended {
				t.Errorf("changes %v (%v), want %d added, %d changed, %d ended", ops, res.Changes, tc.added, tc.changed, tc.ended)
			}
			// The same file twice is a no-op.
			if again := apply(t, snap, tc.text); len(again.Records) != 0 || len(again.Changes) != 0 {
				t.Errorf("the same file again writes %d records: %v", len(again.Records), again.Changes)
			}
		})
	}
	helpers := 0
	for _, a := range snap.Assignments {
		if a.Role == domain.Helper && a.Current() {
			helpers++
		}
	}
	if helpers != 0 {
		t.Errorf("%d current helpers after the household moved out, want 0", helpers)
	}
	var moved []string
	for _, h := range snap.Households {
		if h.HeadName == "张德明" {
			for _, p := range snap.Places {
				if p.ID == h.Group {
					moved = append(moved, p.Name)
				}
			}
		}
	}
	if len(moved) != 1 || moved[0] != "二社" {
		t.Errorf("张德明's household is in %v, want one in 二社", moved)
	}
	for _, m := range snap.Members {
		if m.Name == "马小花" && (m.Birth.Format("2006-01-02") != "2001-05-04" || m.BirthYear != 2001) {
			t.Errorf("马小花 born %v (%d), want 2001-05-04", m.Birth, m.BirthYear)
		}
	}
	var he []*domain.Household
	for _, h := range snap.Households {
		if h.HeadName == "何三宝" {
			he = append(he, h)
		}
	}
	if len(he) != 1 || he[0].Size != 4 {
		t.Errorf("何三宝's households: %+v, want one of 4 people", he)
	}
}
