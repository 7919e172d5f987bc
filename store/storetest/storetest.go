// Package storetest holds what the tests of store and of the packages built on
// it share: a store opened on a temporary directory with a fixed clock, and a
// small village written through the public API.
package storetest

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/store/query"
)

// CST is China Standard Time, the zone the app runs in.
var CST = time.FixedZone("CST", 8*3600)

// Now is "now" for the small fixture village: a Saturday morning in June.
var Now = time.Date(2024, 6, 15, 10, 0, 0, 0, CST)

// ClockAt returns a wall clock fixed at t, for Options.Now.
func ClockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// MustOpen opens a new store in a temporary directory, its clock fixed at
// Now, and closes it when the test ends.
func MustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	return MustOpenAt(tb, filepath.Join(tb.TempDir(), "bangfu.db"), Now)
}

// MustOpenAt opens the store at path with its clock fixed at now. The
// tests that use it deliver changes in causal order, and assert it: a
// change merged before an edit it was based on (store.Options.Early) fails
// the test. A test that delivers out of order opens its store itself.
func MustOpenAt(tb testing.TB, path string, now time.Time) *store.DB {
	tb.Helper()
	db, err := store.Open(path, &store.Options{Now: ClockAt(now), Early: func(e replica.Early) {
		tb.Errorf("%s: merged out of causal order: %v", filepath.Base(path), e)
	}})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustPut saves records or fails the test.
func MustPut(tb testing.TB, db *store.DB, author uuid.UUID, recs ...domain.Record) {
	tb.Helper()
	if err := db.Put(author, recs...); err != nil {
		tb.Fatalf("put: %v", err)
	}
}

// IDNumber returns a valid 18-character ID number from Linxia (6229...) whose
// last four characters end in tail (three digits).
func IDNumber(birth, tail string) string {
	first := "622901" + birth + tail
	return first + string(domain.IDCheckDigit(first))
}

// Village is a small village written through the public API: two groups, five
// households, five cadres, visits, problems, a plan and its review. The
// numbers the tests check are recounted from these fields, never typed twice.
type Village struct {
	Now                     time.Time
	Office                  uuid.UUID // the author of the roster
	City, Town, Vil         *domain.Place
	North, South            *domain.Place // natural villages
	G1, G2                  *domain.Place // 一社, 二社
	Li, Ma, Zhang, He, Zhao *domain.Cadre
	// households: 王兴文, 马玉兰, 张海军 in 一社; 王小红, 韩东生 in 二社
	Wang, Mayu, Zhanghj, Wangxh, Han *domain.Household
	Members                          []*domain.Member // of 王兴文, in the order they were written
	Assignments                      []*domain.Assignment
	Visits                           []*domain.Visit
	Problems                         []*domain.Problem // [0] open (王兴文), [1] resolved (马玉兰), [2] open (王小红)
	Plan                             *domain.Plan      // 王兴文's, submitted
	Measures                         []*domain.Measure
	Reviews                          []*domain.Review
}

// Households returns the fixture's households.
func (v *Village) Households() []*domain.Household {
	return []*domain.Household{v.Wang, v.Mayu, v.Zhanghj, v.Wangxh, v.Han}
}

// DaysAgo returns the fixture's now minus d days.
func (v *Village) DaysAgo(d int) time.Time { return v.Now.AddDate(0, 0, -d) }

// BuildVillage writes the fixture village into db, whose clock reads now.
func BuildVillage(tb testing.TB, db *store.DB, now time.Time) *Village {
	tb.Helper()
	v := &Village{Now: now, Office: uuid.MustParse("00000000-0000-4000-8000-00000000000f")}
	put := func(recs ...domain.Record) { tb.Helper(); MustPut(tb, db, v.Office, recs...) }

	v.City = &domain.Place{Level: domain.City, Name: "临夏市"}
	put(v.City)
	v.Town = &domain.Place{Level: domain.Town, Name: "枹罕镇", Parent: v.City.ID}
	put(v.Town)
	v.Vil = &domain.Place{Level: domain.Village, Name: "王坪村", Parent: v.Town.ID}
	put(v.Vil)
	v.North = &domain.Place{Level: domain.NaturalVillage, Name: "阳洼", Parent: v.Vil.ID}
	v.South = &domain.Place{Level: domain.NaturalVillage, Name: "大湾", Parent: v.Vil.ID}
	v.G1 = &domain.Place{Level: domain.Group, Name: "一社", Parent: v.Vil.ID}
	v.G2 = &domain.Place{Level: domain.Group, Name: "二社", Parent: v.Vil.ID}
	put(v.North, v.South, v.G1, v.G2)

	v.Li = &domain.Cadre{Name: "李建国", Rank: domain.RankOther, Phone: "13909301001", Unit: "枹罕镇人民政府", Title: "干部"}
	v.Ma = &domain.Cadre{Name: "马福林", Rank: domain.RankCounty, Unit: "临夏市人民政府", Title: "副市长"}
	v.Zhang = &domain.Cadre{Name: "张志明", Rank: domain.RankSection, Unit: "临夏市农业农村局", Title: "局长"}
	v.He = &domain.Cadre{Name: "何秀英", Rank: domain.RankOther, Phone: "13909301004", Unit: "枹罕镇社会保障服务中心"}
	v.Zhao = &domain.Cadre{Name: "赵德明", Rank: domain.RankSection, Unit: "临夏市财政局", Title: "第一书记"}
	put(v.Li, v.Ma, v.Zhang, v.He, v.Zhao)

	v.Wang = &domain.Household{HeadName: "王兴文", Phone: "13800000001", IDNumber: IDNumber("19700312", "123"),
		Group: v.G1.ID, NaturalVillage: v.North.ID, Address: "阳洼 12 号", Status: domain.Registered,
		Farmland: 6.2, Size: 4, Income: "种植、务工"}
	v.Mayu = &domain.Household{HeadName: "马玉兰", Phone: "13800000002", IDNumber: IDNumber("19650101", "456"),
		Group: v.G1.ID, NaturalVillage: v.North.ID, Status: domain.Lifted, Farmland: 4.5, Size: 3}
	v.Zhanghj = &domain.Household{HeadName: "张海军", Phone: "13800000003", Group: v.G1.ID,
		NaturalVillage: v.South.ID, Status: domain.Monitored, Farmland: 8, Size: 5}
	v.Wangxh = &domain.Household{HeadName: "王小红", Phone: "09305551234", IDNumber: IDNumber("19801120", "789"),
		Group: v.G2.ID, NaturalVillage: v.South.ID, Status: domain.Registered, Farmland: 3.7, Size: 2}
	v.Han = &domain.Household{HeadName: "韩东生", Group: v.G2.ID, Status: domain.Ordinary, Farmland: 10.1, Size: 6}
	put(v.Wang, v.Mayu, v.Zhanghj, v.Wangxh, v.Han)

	// Members of 王兴文, written out of order: the card sorts them.
	v.Members = []*domain.Member{
		{Household: v.Wang.ID, Name: "王小军", Relation: "子", Gender: "男", BirthYear: 2000, Work: "外出务工"},
		{Household: v.Wang.ID, Name: "王兴文", Relation: "户主", Gender: "男", BirthYear: 1970, IDNumber: v.Wang.IDNumber, Work: "务农"},
		{Household: v.Wang.ID, Name: "刘桂兰", Relation: "母", Gender: "女", BirthYear: 1945, Health: "慢性病"},
		{Household: v.Wang.ID, Name: "马秀英", Relation: "配偶", Gender: "女", BirthYear: 1972, Work: "务农"},
	}
	for _, m := range v.Members {
		put(m)
	}

	assign := func(c *domain.Cadre, role domain.Role, target uuid.UUID) {
		a := &domain.Assignment{Cadre: c.ID, Role: role, Target: target, Since: now.AddDate(-1, 0, 0)}
		put(a)
		v.Assignments = append(v.Assignments, a)
	}
	assign(v.Li, domain.GroupCadre, v.G1.ID)
	assign(v.He, domain.GroupCadre, v.G2.ID)
	assign(v.Zhao, domain.TeamLeader, v.Vil.ID)
	assign(v.Ma, domain.PairCounty, v.Wang.ID)
	assign(v.Zhang, domain.PairSection, v.Wang.ID)
	assign(v.Li, domain.Helper, v.Wang.ID)
	assign(v.Ma, domain.PairCounty, v.Mayu.ID)
	assign(v.Zhang, domain.PairSection, v.Mayu.ID)
	assign(v.He, domain.Helper, v.Mayu.ID)
	assign(v.Ma, domain.PairCounty, v.Wangxh.ID)
	assign(v.Zhao, domain.PairSection, v.Wangxh.ID)
	assign(v.Li, domain.Helper, v.Wangxh.ID) // 李建国 helps a household of 二社 too
	// 张海军 (monitored) has no pairing at all: a gap of three levels.

	visit := func(c *domain.Cadre, h *domain.Household, at time.Time, notes string) *domain.Visit {
		x := &domain.Visit{Household: h.ID, Cadre: c.ID, At: at, Type: domain.VisitRoutine, Notes: notes,
			Fees: domain.FeesPaid, Water: domain.WaterSafe}
		MustPut(tb, db, c.ID, x)
		v.Visits = append(v.Visits, x)
		return x
	}
	visit(v.Li, v.Wang, v.DaysAgo(40), "了解春耕情况，种子化肥已备齐。")
	v1 := visit(v.Li, v.Wang, v.DaysAgo(3), "母亲慢性病复诊，药费报销待跟进。")
	visit(v.He, v.Mayu, v.DaysAgo(35).Add(-2*time.Hour), "家中养殖散养鸡 30 只，长势良好。")
	v3 := visit(v.He, v.Wangxh, v.DaysAgo(10), "房屋后墙有裂缝，需上报。")
	visit(v.Zhao, v.Wangxh, v.DaysAgo(1), "复核房屋情况。")

	v.Problems = []*domain.Problem{
		{Household: v.Wang.ID, Visit: v1.ID, Text: "医保报销材料不全", Status: domain.ProblemOpen},
		{Household: v.Mayu.ID, Text: "饮水管道冻裂", Status: domain.ProblemResolved, ResolvedBy: v.He.ID,
			ResolvedAt: v.DaysAgo(20), Resolution: "已更换管道"},
		{Household: v.Wangxh.ID, Visit: v3.ID, Text: "房屋后墙裂缝", Status: domain.ProblemVillage,
			ReportedBy: v.He.ID, ReportedAt: v.DaysAgo(9)},
	}
	v.Problems[0].Created = v.DaysAgo(3)
	v.Problems[1].Created = v.DaysAgo(30)
	v.Problems[2].Created = v.DaysAgo(10)
	for _, p := range v.Problems {
		MustPut(tb, db, v.He.ID, p)
	}

	v.Plan = &domain.Plan{Household: v.Wang.ID, Goal: "年内人均纯收入超过 8000 元", Start: v.DaysAgo(60), Status: domain.PlanSubmitted}
	put(v.Plan)
	v.Measures = []*domain.Measure{
		{Plan: v.Plan.ID, Household: v.Wang.ID, Type: domain.MeasureFarming, Description: "种植花椒 2 亩",
			Owner: v.Li.ID, Target: "年增收 3000 元", Due: v.Now.AddDate(0, 4, 0), Progress: domain.InProgress},
		{Plan: v.Plan.ID, Household: v.Wang.ID, Type: domain.MeasureTraining, Description: "参加厨师技能培训",
			Owner: v.Zhang.ID, Target: "取得初级证书", Due: v.Now.AddDate(0, 1, 0), Progress: domain.Done},
		{Plan: v.Plan.ID, Household: v.Wang.ID, Type: domain.MeasureHandicraft, Description: "妻子加入古枹罕手工作坊绣鞋垫",
			Owner: v.Li.ID, Target: "每月 20 双", Due: v.Now.AddDate(0, 2, 0), Progress: domain.NotStarted},
	}
	for _, m := range v.Measures {
		put(m)
	}
	v.Reviews = []*domain.Review{
		{Plan: v.Plan.ID, Household: v.Wang.ID, Reviewer: v.Zhao.ID, Verdict: domain.VerdictComment,
			Comment: "花椒种植面积可再扩大", At: v.DaysAgo(20)},
		{Plan: v.Plan.ID, Household: v.Wang.ID, Reviewer: v.Zhao.ID, Verdict: domain.VerdictComment,
			Comment: "请补充务工收入测算", At: v.DaysAgo(5)},
	}
	for _, r := range v.Reviews {
		MustPut(tb, db, v.Zhao.ID, r)
	}
	return v
}

// Must fails the test on a non-nil error.
func Must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// SameFields reports the fields in which got and want differ.
func SameFields(tb testing.TB, got, want domain.Record) []string {
	tb.Helper()
	gf, err := domain.Encode(got)
	Must(tb, err)
	wf, err := domain.Encode(want)
	Must(tb, err)
	var diff []string
	for k, w := range wf {
		g, ok := gf[k]
		if !ok || compactJSON(tb, g) != compactJSON(tb, w) {
			diff = append(diff, k+": "+string(g)+" != "+string(w))
		}
	}
	for k := range gf {
		if _, ok := wf[k]; !ok {
			diff = append(diff, k+": unexpected")
		}
	}
	return diff
}

// compactJSON returns v in compact form, for comparing field values.
func compactJSON(tb testing.TB, v json.RawMessage) string {
	tb.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		tb.Fatalf("compact %s: %v", v, err)
	}
	return b.String()
}

// Names returns the head names of rows, for messages.
func Names(rows []query.HouseholdRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.HeadName
	}
	return out
}

// WantNames fails the test unless rows are the households of the head names
// want, in that order.
func WantNames(t *testing.T, what string, rows []query.HouseholdRow, want ...string) {
	t.Helper()
	if got := Names(rows); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
