package demo_test

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/domain/demo"

	"github.com/google/uuid"
)

var (
	cst = time.FixedZone("CST", 8*3600)
	now = time.Date(2025, 6, 15, 10, 30, 0, 0, cst)
)

// cases are the generations most tests check: the village at a few seeds and
// times (just after midnight, late at night, another zone), and a small town.
func cases() []struct {
	name string
	now  time.Time
	d    *demo.Data
} {
	type c = struct {
		name string
		now  time.Time
		d    *demo.Data
	}
	early := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
	late := time.Date(2024, 3, 31, 23, 59, 0, 0, cst)
	return []c{
		{"village/1", now, demo.Village(1, now)},
		{"village/42/early", early, demo.Village(42, early)},
		{"village/-7/late", late, demo.Village(-7, late)},
		{"town/3/900", now, demo.Town(3, now, 900)},
		{"town/5/100", late, demo.Town(5, late, 100)},
	}
}

func TestDeterministic(t *testing.T) {
	a, b := demo.Village(11, now), demo.Village(11, now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed and time differ")
	}
	if !reflect.DeepEqual(demo.Town(11, now, 700), demo.Town(11, now, 700)) {
		t.Fatal("two towns with the same seed and time differ")
	}
	c := demo.Village(12, now)
	if c.Households[0].ID == a.Households[0].ID || reflect.DeepEqual(heads(a), heads(c)) {
		t.Fatal("a different seed gives the same village")
	}
	// The figures do not depend on the seed.
	if a.Counts.Households != c.Counts.Households || a.Counts.People != c.Counts.People || a.Counts.Farmland != c.Counts.Farmland {
		t.Errorf("figures differ between seeds: %+v and %+v", a.Counts, c.Counts)
	}
}

func heads(d *demo.Data) []string {
	var out []string
	for _, h := range d.Households {
		out = append(out, h.HeadName)
	}
	return out
}

func TestWangpingFigures(t *testing.T) {
	d := demo.Village(1, now)
	if d.City.Name != "临夏市" || d.City.Level != domain.City || d.City.Parent != uuid.Nil {
		t.Errorf("city = %+v", d.City)
	}
	if d.Town.Name != "枹罕镇" || d.Town.Level != domain.Town || d.Town.Parent != d.City.ID {
		t.Errorf("town = %+v", d.Town)
	}
	if d.Village.Name != "王坪村" || d.Village.Level != domain.Village || d.Village.Parent != d.Town.ID {
		t.Errorf("village = %+v", d.Village)
	}
	var naturals, groups []string
	for _, p := range d.Places {
		if p.Parent != d.Village.ID {
			continue
		}
		switch p.Level {
		case domain.NaturalVillage:
			naturals = append(naturals, p.Name)
		case domain.Group:
			groups = append(groups, p.Name)
		default:
			t.Errorf("unexpected place %s (%s) under the village", p.Name, p.Level)
		}
	}
	if len(naturals) != 6 || len(d.Places) != 3+6+9 {
		t.Errorf("natural villages = %v; places = %d", naturals, len(d.Places))
	}
	want := []string{"一社", "二社", "三社", "四社", "五社", "六社", "七社", "八社", "九社"}
	if !slices.Equal(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}
	if len(d.Households) != 252 {
		t.Errorf("households = %d, want 252", len(d.Households))
	}
	people, tenths := 0, 0
	statuses := map[domain.Status]int{}
	for _, h := range d.Households {
		people += h.Size
		tenths += int(math.Round(h.Farmland * 10))
		if h.Farmland*10 != math.Round(h.Farmland*10) {
			t.Errorf("farmland %v is not in tenths of a mu", h.Farmland)
		}
		statuses[h.Status]++
	}
	if people != 1140 || len(d.Members) != 1140 {
		t.Errorf("people = %d, members = %d, want 1140", people, len(d.Members))
	}
	if tenths != 15924 || d.Counts.Farmland != 1592.4 {
		t.Errorf("farmland = %d tenths, counted %v, want 1592.4 mu", tenths, d.Counts.Farmland)
	}
	for _, s := range []domain.Status{domain.Registered, domain.Lifted, domain.Monitored, domain.Ordinary} {
		if statuses[s] == 0 {
			t.Errorf("no %s households", s)
		}
	}
	if l := statuses[domain.Lifted]; l <= statuses[domain.Registered]+statuses[domain.Monitored] {
		t.Errorf("lifted households (%d) are not most of the followed ones: %v", l, statuses)
	}
	want2 := demo.Counts{Towns: 1, Villages: 1, NaturalVillages: 6, Groups: 9, Households: 252, People: 1140, Farmland: 1592.4}
	got := d.Counts
	got.Cadres, got.Visits, got.OpenProblems, got.PlansAwaitingReview = nil, 0, 0, 0
	if !reflect.DeepEqual(got, want2) {
		t.Errorf("counts = %+v, want %+v", got, want2)
	}
}

func TestRecordsValidate(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			rs := c.d.Records()
			cadres := map[uuid.UUID]bool{}
			for _, x := range c.d.Cadres {
				cadres[x.ID] = true
			}
			ids := map[uuid.UUID]bool{}
			for _, r := range rs {
				m := r.Metadata()
				if err := r.Validate(c.now); err != nil {
					t.Errorf("%s %s: %v", r.Kind(), m.ID, err)
				}
				if m.ID == uuid.Nil || ids[m.ID] {
					t.Errorf("%s: missing or repeated ID %s", r.Kind(), m.ID)
				}
				ids[m.ID] = true
				if m.ID.Version() != 4 || m.ID.Variant() != uuid.RFC4122 {
					t.Errorf("%s %s: not a version 4 UUID", r.Kind(), m.ID)
				}
				if m.Created.IsZero() || m.Created.After(c.now) || m.Created.Before(c.now.AddDate(-2, 0, 0)) {
					t.Errorf("%s %s: implausible creation time %v", r.Kind(), m.ID, m.Created)
				}
				if !cadres[m.Author] {
					t.Errorf("%s %s: author %s is not a cadre", r.Kind(), m.ID, m.Author)
				}
				if m.Device != demo.Device || m.Deleted {
					t.Errorf("%s %s: device %s, deleted %v", r.Kind(), m.ID, m.Device, m.Deleted)
				}
			}
		})
	}
}

func TestRecordsOrder(t *testing.T) {
	d := demo.Village(1, now)
	rs := d.Records()
	n := len(d.Places) + len(d.Cadres) + len(d.Households) + len(d.Members) + len(d.Assignments) +
		len(d.Plans) + len(d.Measures) + len(d.Reviews) + len(d.Visits) + len(d.Problems)
	if len(rs) != n {
		t.Fatalf("Records has %d records, the slices %d", len(rs), n)
	}
	rank := map[domain.Kind]int{}
	for i, k := range domain.Kinds {
		rank[k] = i
	}
	for i := 1; i < len(rs); i++ {
		if rank[rs[i].Kind()] < rank[rs[i-1].Kind()] {
			t.Fatalf("record %d (%s) comes after a %s", i, rs[i].Kind(), rs[i-1].Kind())
		}
	}
	seen := map[uuid.UUID]bool{}
	for _, p := range d.Places {
		if p.Level != domain.City && !seen[p.Parent] {
			t.Errorf("place %s comes before its parent", p.Name)
		}
		seen[p.ID] = true
	}
}

func TestReferences(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) { checkReferences(t, c.d) })
	}
}

func checkReferences(t *testing.T, d *demo.Data) {
	places := map[uuid.UUID]*domain.Place{}
	for _, p := range d.Places {
		places[p.ID] = p
		if p.Level == domain.City {
			continue
		}
		parent := places[p.Parent]
		if parent == nil {
			t.Errorf("place %s: parent missing", p.Name)
		} else if err := p.ValidParent(parent); err != nil {
			t.Errorf("place %s: %v", p.Name, err)
		}
	}
	households := map[uuid.UUID]*domain.Household{}
	for _, h := range d.Households {
		households[h.ID] = h
		g, nv := places[h.Group], places[h.NaturalVillage]
		switch {
		case g == nil || g.Level != domain.Group:
			t.Errorf("household %s: group %s is not a group", h.HeadName, h.Group)
		case places[g.Parent].Parent != d.Town.ID:
			t.Errorf("household %s: group %s is not under a village of the town", h.HeadName, g.Name)
		case nv == nil || nv.Level != domain.NaturalVillage || nv.Parent != g.Parent:
			t.Errorf("household %s: natural village is not in its village", h.HeadName)
		case !strings.HasPrefix(h.Address, places[g.Parent].Name):
			t.Errorf("household %s: address %q is not in its village", h.HeadName, h.Address)
		}
	}
	if d.Village == nil || places[d.Village.ID] != d.Village {
		t.Fatal("Data.Village is not among the places")
	}

	members := map[uuid.UUID][]*domain.Member{}
	for _, m := range d.Members {
		if households[m.Household] == nil {
			t.Errorf("member %s: household missing", m.Name)
		}
		members[m.Household] = append(members[m.Household], m)
	}
	for _, h := range d.Households {
		ms := members[h.ID]
		if len(ms) != h.Size {
			t.Errorf("household %s: size %d, %d members", h.HeadName, h.Size, len(ms))
		}
		heads := 0
		for _, m := range ms {
			if m.Relation == "户主" {
				heads++
				if m.Name != h.HeadName || m.IDNumber != h.IDNumber {
					t.Errorf("household %s: head member is %s %s", h.HeadName, m.Name, m.IDNumber)
				}
			}
		}
		if heads != 1 {
			t.Errorf("household %s: %d heads", h.HeadName, heads)
		}
	}

	cadres := map[uuid.UUID]*domain.Cadre{}
	for _, c := range d.Cadres {
		cadres[c.ID] = c
	}
	for _, a := range d.Assignments {
		if cadres[a.Cadre] == nil {
			t.Errorf("assignment %s: cadre missing", a.ID)
		}
		if a.Role.IsPairing() {
			h := households[a.Target]
			if h == nil {
				t.Errorf("assignment %s (%s): household missing", a.ID, a.Role)
			} else if h.Status == domain.Ordinary {
				t.Errorf("assignment %s pairs with an ordinary household", a.ID)
			}
			continue
		}
		p := places[a.Target]
		switch {
		case p == nil:
			t.Errorf("assignment %s (%s): place missing", a.ID, a.Role)
		case a.Role == domain.Office && (p.Level == domain.Town || p.Level == domain.City):
		case p.Level != a.Role.TargetLevel():
			t.Errorf("assignment %s (%s): target is a %s", a.ID, a.Role, p.Level)
		}
	}

	visits := map[uuid.UUID]*domain.Visit{}
	for _, v := range d.Visits {
		visits[v.ID] = v
		if households[v.Household] == nil || cadres[v.Cadre] == nil {
			t.Errorf("visit %s: household or cadre missing", v.ID)
		}
		if v.Author != v.Cadre {
			t.Errorf("visit %s: written by %s, not by the visitor", v.ID, v.Author)
		}
	}
	for _, p := range d.Problems {
		v := visits[p.Visit]
		if v == nil || v.Household != p.Household {
			t.Errorf("problem %s: visit missing or of another household", p.ID)
			continue
		}
		for _, id := range []uuid.UUID{p.ReportedBy, p.ResolvedBy} {
			if id != uuid.Nil && cadres[id] == nil {
				t.Errorf("problem %s: cadre %s missing", p.ID, id)
			}
		}
		if !p.ReportedAt.IsZero() && p.ReportedAt.Before(v.At) || !p.ResolvedAt.IsZero() && p.ResolvedAt.Before(v.At) {
			t.Errorf("problem %s: reported or resolved before it was found", p.ID)
		}
		if !p.ReportedAt.IsZero() && !p.ResolvedAt.IsZero() && p.ResolvedAt.Before(p.ReportedAt) {
			t.Errorf("problem %s: resolved before it was reported", p.ID)
		}
	}

	plans := map[uuid.UUID]*domain.Plan{}
	planOf := map[uuid.UUID]int{}
	for _, p := range d.Plans {
		plans[p.ID] = p
		h := households[p.Household]
		if h == nil || h.Status == domain.Ordinary {
			t.Errorf("plan %s: household missing or ordinary", p.ID)
		}
		planOf[p.Household]++
	}
	for _, h := range d.Households {
		if want := b2i(h.Status != domain.Ordinary); planOf[h.ID] != want {
			t.Errorf("household %s (%s) has %d plans", h.HeadName, h.Status, planOf[h.ID])
		}
	}
	measures := map[uuid.UUID]int{}
	for _, m := range d.Measures {
		p := plans[m.Plan]
		if p == nil || p.Household != m.Household {
			t.Errorf("measure %s: plan missing or of another household", m.ID)
			continue
		}
		if err := m.CheckDue(p); err != nil {
			t.Errorf("measure %s: %v", m.ID, err)
		}
		if cadres[m.Owner] == nil {
			t.Errorf("measure %s: owner missing", m.ID)
		}
		measures[m.Plan]++
	}
	for _, p := range d.Plans {
		if n := measures[p.ID]; n < 2 || n > 4 {
			t.Errorf("plan %s has %d measures", p.ID, n)
		}
	}
	for _, r := range d.Reviews {
		p := plans[r.Plan]
		if p == nil || p.Household != r.Household || cadres[r.Reviewer] == nil {
			t.Errorf("review %s: plan or reviewer missing", r.ID)
			continue
		}
		if r.At.Before(p.Created) {
			t.Errorf("review %s: before the plan was written", r.ID)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRoles(t *testing.T) {
	d := demo.Village(1, now)
	byRole := map[domain.Role][]*domain.Assignment{}
	for _, a := range d.Assignments {
		byRole[a.Role] = append(byRole[a.Role], a)
	}
	one := func(role domain.Role, target uuid.UUID) *domain.Assignment {
		t.Helper()
		as := byRole[role]
		if len(as) != 1 || as[0].Target != target {
			t.Fatalf("%s: %d assignments", role, len(as))
		}
		return as[0]
	}
	cadre := map[uuid.UUID]*domain.Cadre{}
	for _, c := range d.Cadres {
		cadre[c.ID] = c
	}
	if c := cadre[one(domain.TownLead, d.Town.ID).Cadre]; c.Rank != domain.RankCounty {
		t.Errorf("town lead %s is %s", c.Name, c.Rank)
	}
	if c := cadre[one(domain.CityContact, d.Village.ID).Cadre]; c.Rank != domain.RankCounty || c.Title != "市委书记" {
		t.Errorf("city contact %s is %s %s", c.Name, c.Rank, c.Title)
	}
	one(domain.VillageLead, d.Village.ID)
	one(domain.GroupCadreLead, d.Village.ID)
	if one(domain.FirstSecretary, d.Village.ID).Cadre != d.TeamLeader.ID || one(domain.TeamLeader, d.Village.ID).Cadre != d.TeamLeader.ID {
		t.Error("the first secretary and the team leader are not Data.TeamLeader")
	}
	if len(byRole[domain.TeamMember]) == 0 {
		t.Error("no work team members")
	}
	var titles []string
	for _, a := range byRole[domain.VillageCommittee] {
		titles = append(titles, a.Title)
	}
	if !slices.Equal(titles, []string{"支部书记", "村委主任", "村监委主任"}) {
		t.Errorf("village committee = %v", titles)
	}
	groups := map[uuid.UUID]string{}
	for _, p := range d.Places {
		if p.Level == domain.Group {
			groups[p.ID] = p.Name
		}
	}
	perGroup := map[uuid.UUID]int{}
	for _, a := range byRole[domain.GroupCadre] {
		perGroup[a.Target]++
		if a.Cadre == d.GroupCadre.ID && groups[a.Target] != "一社" {
			t.Errorf("Data.GroupCadre is the group cadre of %s", groups[a.Target])
		}
	}
	for id, name := range groups {
		if perGroup[id] != 1 {
			t.Errorf("%s has %d group cadres", name, perGroup[id])
		}
	}
	for _, c := range d.Cadres {
		if c.Unit == "" || c.Title == "" || len(c.Phone) != 11 {
			t.Errorf("cadre %s: unit %q, title %q, phone %q", c.Name, c.Unit, c.Title, c.Phone)
		}
	}
}

func TestAssistanceGaps(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			got := domain.CheckAssistance(domain.Roster{Households: d.Households, Cadres: d.Cadres, Assignments: d.Assignments}, domain.DefaultQuotas())
			if len(got.Mismatches) != 0 {
				t.Errorf("%d rank mismatches", len(got.Mismatches))
			}
			var want []demo.Gap
			for _, g := range got.Households {
				want = append(want, demo.Gap{Household: g.Household, Missing: g.Missing})
			}
			for _, g := range got.Cadres {
				want = append(want, demo.Gap{Cadre: g.Cadre, Have: g.Have, Want: g.Want})
			}
			if !reflect.DeepEqual(d.Gaps, want) {
				t.Errorf("Data.Gaps:\n%s\nCheckAssistance:\n%s", describe(d.Gaps), describe(want))
			}
			var helper, section, cadres int
			for _, g := range d.Gaps {
				switch {
				case g.Cadre != nil:
					cadres++
				case slices.Equal(g.Missing, []domain.Role{domain.Helper}):
					helper++
				case slices.Equal(g.Missing, []domain.Role{domain.PairSection}):
					section++
				}
			}
			if helper != 3 || section != 1 || cadres != 1 || len(d.Gaps) != 5 {
				t.Errorf("gaps: %d without helper, %d without section cadre, %d cadres under quota, %d in all",
					helper, section, cadres, len(d.Gaps))
			}
		})
	}
}

func describe(gs []demo.Gap) string {
	var b strings.Builder
	for _, g := range gs {
		if g.Household != nil {
			b.WriteString("  household " + g.Household.HeadName + " " + g.Household.ID.String() + " missing " + roles(g.Missing) + "\n")
		} else {
			b.WriteString("  cadre " + g.Cadre.Name + " " + strconv.Itoa(g.Have) + "/" + strconv.Itoa(g.Want) + "\n")
		}
	}
	return b.String()
}

func roles(rs []domain.Role) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r))
	}
	return strings.Join(s, ",")
}

func TestVisits(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			d, now := c.d, c.now
			start := now.AddDate(0, -6, 0)
			first, last := now, start
			byHousehold := map[uuid.UUID][]time.Time{}
			for _, v := range d.Visits {
				if v.At.After(now) || v.At.Before(start) {
					t.Errorf("visit at %v is outside the six months before %v", v.At, now)
				}
				if v.At.Before(first) {
					first = v.At
				}
				if v.At.After(last) {
					last = v.At
				}
				if strings.TrimSpace(v.Notes) == "" {
					t.Errorf("visit %s has no notes", v.ID)
				}
				byHousehold[v.Household] = append(byHousehold[v.Household], v.At)
			}
			if first.After(start.AddDate(0, 0, 20)) || last.Before(now.AddDate(0, 0, -7)) {
				t.Errorf("visits span %v to %v, not six months ending at %v", first, last, now)
			}
			overdue := 0
			for _, h := range d.Households {
				ts := byHousehold[h.ID]
				if len(ts) == 0 {
					t.Errorf("household %s never visited", h.HeadName)
					continue
				}
				slices.SortFunc(ts, time.Time.Compare)
				since := now.Sub(ts[len(ts)-1])
				switch {
				case since > 91*24*time.Hour:
					t.Errorf("household %s last visited %v ago", h.HeadName, since)
				case since > 39*24*time.Hour:
					overdue++
				}
			}
			if overdue < 3 || overdue > len(d.Households)/10 {
				t.Errorf("%d of %d households overdue (no visit in 40 to 90 days)", overdue, len(d.Households))
			}
		})
	}
}

func TestVillageHistory(t *testing.T) {
	d := demo.Village(1, now)
	// Roughly monthly: about six visits per household.
	if per := float64(len(d.Visits)) / float64(len(d.Households)); per < 5 || per > 8 {
		t.Errorf("%.1f visits per household", per)
	}
	kinds := map[domain.VisitKind]int{}
	var policy, fees, water, follow int
	for _, v := range d.Visits {
		kinds[v.Type]++
		policy += b2i(v.Policies && v.Policy != "")
		fees += b2i(v.Fees != domain.FeesUnknown)
		water += b2i(v.Water != domain.WaterUnknown)
		follow += b2i(v.FollowUp != "" && !v.Due.IsZero())
	}
	for _, k := range domain.VisitKinds {
		if kinds[k] == 0 {
			t.Errorf("no %s visits", k)
		}
	}
	if policy == 0 || fees == 0 || water == 0 || follow == 0 {
		t.Errorf("policies %d, fees %d, water %d, follow-ups %d", policy, fees, water, follow)
	}
	problems := map[domain.ProblemStatus]int{}
	for _, p := range d.Problems {
		problems[p.Status]++
	}
	for _, s := range []domain.ProblemStatus{domain.ProblemOpen, domain.ProblemVillage, domain.ProblemTown, domain.ProblemResolved} {
		if problems[s] == 0 {
			t.Errorf("no %s problems: %v", s, problems)
		}
	}
	plans := map[domain.PlanStatus]int{}
	for _, p := range d.Plans {
		plans[p.Status]++
	}
	for _, s := range []domain.PlanStatus{domain.PlanDraft, domain.PlanSubmitted, domain.PlanApproved, domain.PlanReturned} {
		if plans[s] == 0 {
			t.Errorf("no %s plans: %v", s, plans)
		}
	}
	verdicts := map[domain.Verdict]int{}
	for _, r := range d.Reviews {
		verdicts[r.Verdict]++
		if r.Reviewer != d.TeamLeader.ID {
			t.Errorf("review %s not by the team leader", r.ID)
		}
	}
	if len(verdicts) != 3 {
		t.Errorf("verdicts = %v", verdicts)
	}
	measures := map[domain.MeasureKind]int{}
	progress := map[domain.Progress]int{}
	for _, m := range d.Measures {
		measures[m.Type]++
		progress[m.Progress]++
	}
	for _, k := range []domain.MeasureKind{domain.MeasureHandicraft, domain.MeasureFarming, domain.MeasureEcommerce,
		domain.MeasureTraining, domain.MeasureDividend, domain.MeasureMigrant} {
		if measures[k] == 0 {
			t.Errorf("no %s measures", k)
		}
	}
	if len(progress) != 4 {
		t.Errorf("progress = %v", progress)
	}
	text := ""
	for _, m := range d.Measures {
		text += m.Description + m.Target
	}
	for _, s := range []string{"手工布鞋", "绣花鞋垫", "十字绣", "古枹罕手工作坊", "散养鸡", "花椒", "野生蜂蜜"} {
		if !strings.Contains(text, s) {
			t.Errorf("no measure mentions %s", s)
		}
	}
}

func TestWangXingwen(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			heads, people := 0, 0
			for _, h := range c.d.Households {
				heads += b2i(h.HeadName == "王兴文")
			}
			for _, m := range c.d.Members {
				if m.Name == "王兴文" {
					people++
					if m.Relation != "户主" || m.Gender != "男" {
						t.Errorf("王兴文 is %s, %s", m.Relation, m.Gender)
					}
				}
			}
			for _, x := range c.d.Cadres {
				people += b2i(x.Name == "王兴文")
			}
			if heads != 1 || people != 1 {
				t.Errorf("%d heads and %d people named 王兴文", heads, people)
			}
		})
	}
}

func TestPeople(t *testing.T) {
	d := demo.Town(9, now, 2000)
	ids := map[string]bool{}
	for _, m := range d.Members {
		id := m.IDNumber
		if len(id) != 18 || !strings.HasPrefix(id, "622901") || ids[id] {
			t.Fatalf("%s: ID number %q is not a new 临夏市 number", m.Name, id)
		}
		ids[id] = true
		if y, _ := strconv.Atoi(id[6:10]); y != m.BirthYear {
			t.Errorf("%s: born %d, ID number says %d", m.Name, m.BirthYear, y)
		}
		if male := (id[16]-'0')%2 == 1; male != (m.Gender == "男") {
			t.Errorf("%s (%s): ID number %s has the other gender", m.Name, m.Gender, id)
		}
		if n := []rune(m.Name); len(n) != 3 {
			t.Errorf("name %q is not a surname and a two-character given name", m.Name)
		}
		if m.Relation != "户主" && m.Relation != "配偶" && m.Relation != "子" && m.Relation != "女" && m.Relation != "父" &&
			m.Relation != "母" && m.Relation != "儿媳" && m.Relation != "孙子" && m.Relation != "孙女" {
			t.Errorf("%s: relation %q", m.Name, m.Relation)
		}
		if m.Health == "" || m.Work == "" {
			t.Errorf("%s: health %q, work %q", m.Name, m.Health, m.Work)
		}
		if age := now.Year() - m.BirthYear; (m.Relation == "户主" && age < 18) || age > 100 || age < 1 {
			t.Errorf("%s (%s) is %d", m.Name, m.Relation, age)
		}
	}
	phones := map[string]bool{}
	check := func(who, p string) {
		if p == "" {
			return
		}
		if len(p) != 11 || !(strings.HasPrefix(p, "13") || strings.HasPrefix(p, "15") || strings.HasPrefix(p, "18")) || phones[p] {
			t.Errorf("%s: phone %q", who, p)
		}
		phones[p] = true
	}
	for _, h := range d.Households {
		check(h.HeadName, h.Phone)
	}
	for _, c := range d.Cadres {
		check(c.Name, c.Phone)
	}
}

func TestCounts(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			want := demo.Counts{Cadres: map[domain.Rank]int{}}
			for _, p := range d.Places {
				switch p.Level {
				case domain.Town:
					want.Towns++
				case domain.Village:
					want.Villages++
				case domain.NaturalVillage:
					want.NaturalVillages++
				case domain.Group:
					want.Groups++
				}
			}
			tenths := 0.0
			for _, h := range d.Households {
				want.Households++
				want.People += h.Size
				tenths += math.Round(h.Farmland * 10)
			}
			want.Farmland = tenths / 10
			for _, x := range d.Cadres {
				want.Cadres[x.Rank]++
			}
			want.Visits = len(d.Visits)
			for _, p := range d.Problems {
				want.OpenProblems += b2i(p.Status != domain.ProblemResolved)
			}
			for _, p := range d.Plans {
				want.PlansAwaitingReview += b2i(p.Status == domain.PlanSubmitted)
			}
			if !reflect.DeepEqual(d.Counts, want) {
				t.Errorf("Counts = %+v\nrecount = %+v", d.Counts, want)
			}
			if want.People != len(d.Members) {
				t.Errorf("people %d, members %d", want.People, len(d.Members))
			}
			for _, r := range []domain.Rank{domain.RankCounty, domain.RankSection, domain.RankOther} {
				if want.Cadres[r] == 0 {
					t.Errorf("no %s cadres", r)
				}
			}
		})
	}
}

func TestTown(t *testing.T) {
	d := demo.Town(1, now, 5000)
	if n := len(d.Households); n != 5000 {
		t.Errorf("households = %d, want 5000", n)
	}
	if v := d.Counts.Villages; v < 18 || v > 22 {
		t.Errorf("villages = %d, want about 20", v)
	}
	if d.Places[2] != d.Village || d.Village.Name != "王坪村" {
		t.Errorf("the first village is %s", d.Places[2].Name)
	}
	names := map[string]bool{}
	households, people := 0, 0
	for _, p := range d.Places {
		if p.Level == domain.Village {
			if names[p.Name] {
				t.Errorf("two villages named %s", p.Name)
			}
			names[p.Name] = true
		}
	}
	groups := map[uuid.UUID]bool{}
	for _, p := range d.Places {
		if p.Level == domain.Group && p.Parent == d.Village.ID {
			groups[p.ID] = true
		}
	}
	for _, h := range d.Households {
		if groups[h.Group] {
			households++
			people += h.Size
		}
	}
	if households != 252 || people != 1140 {
		t.Errorf("王坪村 in the town: %d households, %d people", households, people)
	}
	checkReferences(t, d)
}

func BenchmarkTown5000(b *testing.B) {
	for b.Loop() {
		demo.Town(1, now, 5000)
	}
}

func BenchmarkVillage(b *testing.B) {
	for b.Loop() {
		demo.Village(1, now)
	}
}
