// Package demo generates deterministic demo data: the village of 王坪村 with the
// figures of the seed (6 natural villages, 9 groups, 252 households, 1,140
// people, 1,592.4 mu of farmland), its town 枹罕镇 and city 临夏市, the cadres of
// the four-level assistance linkage with their pairings, six months of visits,
// problems found on them, and a plan (一户一策) for every household that needs
// one. Town generates a whole town of that kind for benchmarks.
//
// The same seed and time always give the same records, UUIDs included: the
// generator reads no clock and draws everything from one seeded source. Names,
// ID numbers and phone numbers are synthetic. The pairings satisfy the
// three-level rules (三级帮扶) except for a few deliberate gaps, listed in
// Data.Gaps, so that a team leader's gap list has something to show.
//
// The generator returns records; saving them is the caller's business
// (Data.Records lists them in an order safe to apply).
package demo

import (
	"math"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// Device is the device every demo record is created on.
var Device = uuid.MustParse("de300000-0000-4000-8000-000000000001")

// Data is a generated roster with its history.
type Data struct {
	City, Town, Village *domain.Place   // 临夏市, 枹罕镇, 王坪村 (for Town: the town's first village)
	Places              []*domain.Place // all places, parents first
	Cadres              []*domain.Cadre
	Assignments         []*domain.Assignment
	Households          []*domain.Household
	Members             []*domain.Member
	Visits              []*domain.Visit
	Problems            []*domain.Problem
	Plans               []*domain.Plan
	Measures            []*domain.Measure
	Reviews             []*domain.Review
	GroupCadre          *domain.Cadre // a demo 包社干部 of 一社 of 王坪村 (for the README's enrolment code)
	TeamLeader          *domain.Cadre // the demo 第一书记兼驻村工作队长 of 王坪村
	Gaps                []Gap         // the deliberate three-level gaps, in CheckAssistance's order
	Counts              Counts        // the generator's own counts
}

// Gap is one deliberate hole in the three-level assistance (三级帮扶): either a
// household missing some levels, or a cadre paired with fewer households than
// their rank's quota (domain.DefaultQuotas).
type Gap struct {
	Household *domain.Household // the household missing levels; nil for a cadre gap
	Missing   []domain.Role     // the pairing roles the household lacks
	Cadre     *domain.Cadre     // the cadre under quota; nil for a household gap
	Have      int               // households the cadre pairs with
	Want      int               // the quota of the cadre's rank
}

// Counts are the generator's own figures, for tests and the stats command to
// check against.
type Counts struct {
	Towns               int
	Villages            int
	NaturalVillages     int
	Groups              int
	Households          int
	People              int                 // sum of Household.Size, equal to the number of members
	Farmland            float64             // mu, exact to a tenth
	Cadres              map[domain.Rank]int // cadres by rank
	Visits              int
	OpenProblems        int // problems not resolved
	PlansAwaitingReview int // plans submitted for review
}

// Records returns every record, in an order safe to apply: places, cadres,
// households, members, assignments, plans, measures, reviews, visits, problems
// (the order of domain.Kinds).
func (d *Data) Records() []domain.Record {
	n := len(d.Places) + len(d.Cadres) + len(d.Households) + len(d.Members) + len(d.Assignments) +
		len(d.Plans) + len(d.Measures) + len(d.Reviews) + len(d.Visits) + len(d.Problems)
	out := make([]domain.Record, 0, n)
	out = appendRecords(out, d.Places)
	out = appendRecords(out, d.Cadres)
	out = appendRecords(out, d.Households)
	out = appendRecords(out, d.Members)
	out = appendRecords(out, d.Assignments)
	out = appendRecords(out, d.Plans)
	out = appendRecords(out, d.Measures)
	out = appendRecords(out, d.Reviews)
	out = appendRecords(out, d.Visits)
	return appendRecords(out, d.Problems)
}

func appendRecords[R domain.Record](out []domain.Record, rs []R) []domain.Record {
	for _, r := range rs {
		out = append(out, r)
	}
	return out
}

// The figures of 王坪村 in the seed.
const (
	WangpingHouseholds      = 252   // WangpingHouseholds is the number of households (户).
	WangpingPeople          = 1140  // WangpingPeople is the number of people (人).
	WangpingFarmlandTenths  = 15924 // WangpingFarmlandTenths is the farmland in tenths of a mu: 1,592.4 mu.
	WangpingNaturalVillages = 6     // WangpingNaturalVillages is the number of natural villages (自然村).
	WangpingGroups          = 9     // WangpingGroups is the number of groups (社).
)

// Village returns 王坪村 with the seed's figures, its town and city, and six
// months of history ending at now.
func Village(seed int64, now time.Time) *Data {
	g := newGen(seed, now, 24, 34)
	g.run([]villageSpec{wangping(WangpingHouseholds)})
	return g.d
}

// Town returns a whole town of about households households (at least 60) over
// villages of about 250 households each, with the same kinds of records as
// Village but fewer visits per household (about one every two months). Its
// first village is 王坪村, with the seed's figures whenever households is at
// least 300, and it holds the deliberate gaps.
func Town(seed int64, now time.Time, households int) *Data {
	households = max(households, 60)
	g := newGen(seed, now, 50, 70)
	var specs []villageSpec
	if households < 300 {
		specs = append(specs, wangping(households))
	} else {
		specs = append(specs, wangping(WangpingHouseholds))
		rest := households - WangpingHouseholds
		n := max(1, int(math.Round(float64(rest)/250)))
		for i := range n {
			h := rest / n
			if i < rest%n {
				h++
			}
			name := villageNames[i%len(villageNames)]
			if i >= len(villageNames) {
				name = name[:len(name)-len("村")] + chineseNumber(i/len(villageNames)+1) + "村"
			}
			specs = append(specs, villageSpec{name: name, households: h})
		}
	}
	g.run(specs)
	return g.d
}

// wangping is 王坪村 with h households; with the seed's 252 it has exactly the
// seed's people and farmland.
func wangping(h int) villageSpec {
	people := int(math.Round(float64(h) * WangpingPeople / WangpingHouseholds))
	return villageSpec{
		name:       "王坪村",
		households: h,
		people:     people,
		farmland:   int(math.Round(float64(people) * WangpingFarmlandTenths / WangpingPeople)),
		groups:     WangpingGroups,
		naturals:   WangpingNaturalVillages,
		first:      true,
	}
}
