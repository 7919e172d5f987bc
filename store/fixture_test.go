package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
)

// cst is China Standard Time, the zone the app runs in.
var cst = time.FixedZone("CST", 8*3600)

// fixtureNow is "now" for the small fixture village: a Saturday morning in June.
var fixtureNow = time.Date(2024, 6, 15, 10, 0, 0, 0, cst)

// clockAt returns a wall clock fixed at t, for Options.Now.
func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// mustOpen opens a new store in a temporary directory, its clock fixed at
// fixtureNow, and closes it when the test ends.
func mustOpen(tb testing.TB) *store.DB {
	tb.Helper()
	return mustOpenAt(tb, filepath.Join(tb.TempDir(), "bangfu.db"), fixtureNow)
}

// mustOpenAt opens the store at path with its clock fixed at now.
func mustOpenAt(tb testing.TB, path string, now time.Time) *store.DB {
	tb.Helper()
	db, err := store.Open(path, &store.Options{Now: clockAt(now)})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mustPut saves records or fails the test.
func mustPut(tb testing.TB, db *store.DB, author uuid.UUID, recs ...domain.Record) {
	tb.Helper()
	if err := db.Put(author, recs...); err != nil {
		tb.Fatalf("put: %v", err)
	}
}

// idNumber returns a valid 18-character ID number from Linxia (6229...) whose
// last four characters end in tail (three digits).
func idNumber(birth, tail string) string {
	first := "622901" + birth + tail
	return first + string(domain.IDCheckDigit(first))
}

// village is a small village written through the public API: two groups, five
// households, five cadres, visits, problems, a plan and its review. The
// numbers the tests check are recounted from these fields, never typed twice.
type village struct {
	now                     time.Time
	office                  uuid.UUID // the author of the roster
	city, town, vil         *domain.Place
	north, south            *domain.Place // natural villages
	g1, g2                  *domain.Place // 一社, 二社
	li, ma, zhang, he, zhao *domain.Cadre
	// households: 王兴文, 马玉兰, 张海军 in 一社; 王小红, 韩东生 in 二社
	wang, mayu, zhanghj, wangxh, han *domain.Household
	members                          []*domain.Member // of 王兴文, in the order they were written
	assignments                      []*domain.Assignment
	visits                           []*domain.Visit
	problems                         []*domain.Problem // [0] open (王兴文), [1] resolved (马玉兰), [2] open (王小红)
	plan                             *domain.Plan      // 王兴文's, submitted
	measures                         []*domain.Measure
	reviews                          []*domain.Review
}

// households returns the fixture's households.
func (v *village) households() []*domain.Household {
	return []*domain.Household{v.wang, v.mayu, v.zhanghj, v.wangxh, v.han}
}

// daysAgo returns the fixture's now minus d days.
func (v *village) daysAgo(d int) time.Time { return v.now.AddDate(0, 0, -d) }

// buildVillage writes the fixture village into db, whose clock reads now.
func buildVillage(tb testing.TB, db *store.DB, now time.Time) *village {
	tb.Helper()
	v := &village{now: now, office: uuid.MustParse("00000000-0000-4000-8000-00000000000f")}
	put := func(recs ...domain.Record) { tb.Helper(); mustPut(tb, db, v.office, recs...) }

	v.city = &domain.Place{Level: domain.City, Name: "临夏市"}
	put(v.city)
	v.town = &domain.Place{Level: domain.Town, Name: "枹罕镇", Parent: v.city.ID}
	put(v.town)
	v.vil = &domain.Place{Level: domain.Village, Name: "王坪村", Parent: v.town.ID}
	put(v.vil)
	v.north = &domain.Place{Level: domain.NaturalVillage, Name: "阳洼", Parent: v.vil.ID}
	v.south = &domain.Place{Level: domain.NaturalVillage, Name: "大湾", Parent: v.vil.ID}
	v.g1 = &domain.Place{Level: domain.Group, Name: "一社", Parent: v.vil.ID}
	v.g2 = &domain.Place{Level: domain.Group, Name: "二社", Parent: v.vil.ID}
	put(v.north, v.south, v.g1, v.g2)

	v.li = &domain.Cadre{Name: "李建国", Rank: domain.RankOther, Phone: "13909301001", Unit: "枹罕镇人民政府", Title: "干部"}
	v.ma = &domain.Cadre{Name: "马福林", Rank: domain.RankCounty, Unit: "临夏市人民政府", Title: "副市长"}
	v.zhang = &domain.Cadre{Name: "张志明", Rank: domain.RankSection, Unit: "临夏市农业农村局", Title: "局长"}
	v.he = &domain.Cadre{Name: "何秀英", Rank: domain.RankOther, Phone: "13909301004", Unit: "枹罕镇社会保障服务中心"}
	v.zhao = &domain.Cadre{Name: "赵德明", Rank: domain.RankSection, Unit: "临夏市财政局", Title: "第一书记"}
	put(v.li, v.ma, v.zhang, v.he, v.zhao)

	v.wang = &domain.Household{HeadName: "王兴文", Phone: "13800000001", IDNumber: idNumber("19700312", "123"),
		Group: v.g1.ID, NaturalVillage: v.north.ID, Address: "阳洼 12 号", Status: domain.Registered,
		Farmland: 6.2, Size: 4, Income: "种植、务工"}
	v.mayu = &domain.Household{HeadName: "马玉兰", Phone: "13800000002", IDNumber: idNumber("19650101", "456"),
		Group: v.g1.ID, NaturalVillage: v.north.ID, Status: domain.Lifted, Farmland: 4.5, Size: 3}
	v.zhanghj = &domain.Household{HeadName: "张海军", Phone: "13800000003", Group: v.g1.ID,
		NaturalVillage: v.south.ID, Status: domain.Monitored, Farmland: 8, Size: 5}
	v.wangxh = &domain.Household{HeadName: "王小红", Phone: "09305551234", IDNumber: idNumber("19801120", "789"),
		Group: v.g2.ID, NaturalVillage: v.south.ID, Status: domain.Registered, Farmland: 3.7, Size: 2}
	v.han = &domain.Household{HeadName: "韩东生", Group: v.g2.ID, Status: domain.Ordinary, Farmland: 10.1, Size: 6}
	put(v.wang, v.mayu, v.zhanghj, v.wangxh, v.han)

	// Members of 王兴文, written out of order: the card sorts them.
	v.members = []*domain.Member{
		{Household: v.wang.ID, Name: "王小军", Relation: "子", Gender: "男", BirthYear: 2000, Work: "外出务工"},
		{Household: v.wang.ID, Name: "王兴文", Relation: "户主", Gender: "男", BirthYear: 1970, IDNumber: v.wang.IDNumber, Work: "务农"},
		{Household: v.wang.ID, Name: "刘桂兰", Relation: "母", Gender: "女", BirthYear: 1945, Health: "慢性病"},
		{Household: v.wang.ID, Name: "马秀英", Relation: "配偶", Gender: "女", BirthYear: 1972, Work: "务农"},
	}
	for _, m := range v.members {
		put(m)
	}

	assign := func(c *domain.Cadre, role domain.Role, target uuid.UUID) {
		a := &domain.Assignment{Cadre: c.ID, Role: role, Target: target, Since: now.AddDate(-1, 0, 0)}
		put(a)
		v.assignments = append(v.assignments, a)
	}
	assign(v.li, domain.GroupCadre, v.g1.ID)
	assign(v.he, domain.GroupCadre, v.g2.ID)
	assign(v.zhao, domain.TeamLeader, v.vil.ID)
	assign(v.ma, domain.PairCounty, v.wang.ID)
	assign(v.zhang, domain.PairSection, v.wang.ID)
	assign(v.li, domain.Helper, v.wang.ID)
	assign(v.ma, domain.PairCounty, v.mayu.ID)
	assign(v.zhang, domain.PairSection, v.mayu.ID)
	assign(v.he, domain.Helper, v.mayu.ID)
	assign(v.ma, domain.PairCounty, v.wangxh.ID)
	assign(v.zhao, domain.PairSection, v.wangxh.ID)
	assign(v.li, domain.Helper, v.wangxh.ID) // 李建国 helps a household of 二社 too
	// 张海军 (monitored) has no pairing at all: a gap of three levels.

	visit := func(c *domain.Cadre, h *domain.Household, at time.Time, notes string) *domain.Visit {
		x := &domain.Visit{Household: h.ID, Cadre: c.ID, At: at, Type: domain.VisitRoutine, Notes: notes,
			Fees: domain.FeesPaid, Water: domain.WaterSafe}
		mustPut(tb, db, c.ID, x)
		v.visits = append(v.visits, x)
		return x
	}
	visit(v.li, v.wang, v.daysAgo(40), "了解春耕情况，种子化肥已备齐。")
	v1 := visit(v.li, v.wang, v.daysAgo(3), "母亲慢性病复诊，药费报销待跟进。")
	visit(v.he, v.mayu, v.daysAgo(35).Add(-2*time.Hour), "家中养殖散养鸡 30 只，长势良好。")
	v3 := visit(v.he, v.wangxh, v.daysAgo(10), "房屋后墙有裂缝，需上报。")
	visit(v.zhao, v.wangxh, v.daysAgo(1), "复核房屋情况。")

	v.problems = []*domain.Problem{
		{Household: v.wang.ID, Visit: v1.ID, Text: "医保报销材料不全", Status: domain.ProblemOpen},
		{Household: v.mayu.ID, Text: "饮水管道冻裂", Status: domain.ProblemResolved, ResolvedBy: v.he.ID,
			ResolvedAt: v.daysAgo(20), Resolution: "已更换管道"},
		{Household: v.wangxh.ID, Visit: v3.ID, Text: "房屋后墙裂缝", Status: domain.ProblemVillage,
			ReportedBy: v.he.ID, ReportedAt: v.daysAgo(9)},
	}
	v.problems[0].Created = v.daysAgo(3)
	v.problems[1].Created = v.daysAgo(30)
	v.problems[2].Created = v.daysAgo(10)
	for _, p := range v.problems {
		mustPut(tb, db, v.he.ID, p)
	}

	v.plan = &domain.Plan{Household: v.wang.ID, Goal: "年内人均纯收入超过 8000 元", Start: v.daysAgo(60), Status: domain.PlanSubmitted}
	put(v.plan)
	v.measures = []*domain.Measure{
		{Plan: v.plan.ID, Household: v.wang.ID, Type: domain.MeasureFarming, Description: "种植花椒 2 亩",
			Owner: v.li.ID, Target: "年增收 3000 元", Due: v.now.AddDate(0, 4, 0), Progress: domain.InProgress},
		{Plan: v.plan.ID, Household: v.wang.ID, Type: domain.MeasureTraining, Description: "参加厨师技能培训",
			Owner: v.zhang.ID, Target: "取得初级证书", Due: v.now.AddDate(0, 1, 0), Progress: domain.Done},
		{Plan: v.plan.ID, Household: v.wang.ID, Type: domain.MeasureHandicraft, Description: "妻子加入古枹罕手工作坊绣鞋垫",
			Owner: v.li.ID, Target: "每月 20 双", Due: v.now.AddDate(0, 2, 0), Progress: domain.NotStarted},
	}
	for _, m := range v.measures {
		put(m)
	}
	v.reviews = []*domain.Review{
		{Plan: v.plan.ID, Household: v.wang.ID, Reviewer: v.zhao.ID, Verdict: domain.VerdictComment,
			Comment: "花椒种植面积可再扩大", At: v.daysAgo(20)},
		{Plan: v.plan.ID, Household: v.wang.ID, Reviewer: v.zhao.ID, Verdict: domain.VerdictComment,
			Comment: "请补充务工收入测算", At: v.daysAgo(5)},
	}
	for _, r := range v.reviews {
		mustPut(tb, db, v.zhao.ID, r)
	}
	return v
}

// must fails the test on a non-nil error.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// names returns the head names of rows, for messages.
func names(rows []store.HouseholdRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.HeadName
	}
	return out
}
