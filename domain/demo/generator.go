package demo

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// villageSpec says what village to generate.
type villageSpec struct {
	name       string
	households int
	people     int // exact number of people; 0 lets the generator choose
	farmland   int // exact farmland in tenths of a mu; 0 lets the generator choose
	groups     int // 0 lets the generator choose
	naturals   int // natural villages; 0 lets the generator choose
	// first marks 王坪村: the 市委书记 contacts it, the town lead pairs there,
	// 王兴文 lives there and it holds the deliberate gaps.
	first bool
}

// gen is the state of one generation. Everything random comes from r, so the
// same seed and now give the same data.
type gen struct {
	r              *rand.Rand
	now            time.Time
	loc            *time.Location
	start          time.Time // when the roster was entered
	gapMin, gapMax int       // days between two visits of a household
	months         int       // months of visits ending at now
	d              *Data
	town           *domain.Place
	office         *domain.Cadre // the town office cadre who entered the roster
	townLead       *domain.Cadre
	nextCounty     int // index into countyTitles
	nextTown       int // index into townSection
	idNumbers      map[string]bool
	phones         map[string]bool
}

// family is a household being generated, with what the generator knows of it.
type family struct {
	h       *domain.Household
	members []*domain.Member
	group   int
	covered bool // needs the three levels of assistance and a plan
	helper  *domain.Cadre
	pepper  int // mu of Sichuan pepper
	chicken int // free-range chickens
	crafter *domain.Member
}

// worker returns the name of a member of working age, or the head's.
func (f *family) worker() string {
	for _, m := range f.members[1:] {
		if m.Work == "外出务工" || m.Work == "务农" || m.Work == "本地务工" {
			return m.Name
		}
	}
	return f.members[0].Name
}

// village is a village being generated.
type village struct {
	spec        villageSpec
	place       *domain.Place
	naturals    []*domain.Place
	groups      []*domain.Place
	families    []*family
	groupCadres []*domain.Cadre
	teamLeader  *domain.Cadre
	teamMembers []*domain.Cadre
}

func newGen(seed int64, now time.Time, gapMin, gapMax int) *gen {
	g := &gen{
		r:         rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		now:       now,
		loc:       now.Location(),
		gapMin:    gapMin,
		gapMax:    gapMax,
		months:    6,
		d:         &Data{},
		idNumbers: map[string]bool{},
		phones:    map[string]bool{},
	}
	g.start = g.day(now.AddDate(-1, 0, -20), 9)
	return g
}

// id returns a version 4 UUID drawn from the seeded source.
func (g *gen) id() uuid.UUID {
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[:8], g.r.Uint64())
	binary.BigEndian.PutUint64(u[8:], g.r.Uint64())
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

func (g *gen) meta(created time.Time, author uuid.UUID) domain.Meta {
	return domain.Meta{ID: g.id(), Created: created, Author: author, Device: Device}
}

// day returns midnight plus hour of t's day, in now's location.
func (g *gen) day(t time.Time, hour int) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, g.loc)
}

// daysAgo returns a working hour of the day n >= 1 days before now.
func (g *gen) daysAgo(n int) time.Time {
	d := g.now.AddDate(0, 0, -n)
	t := time.Date(d.Year(), d.Month(), d.Day(), 8+g.r.IntN(10), g.r.IntN(60), 0, 0, g.loc)
	if t.After(g.now) {
		t = g.now.Add(-time.Hour)
	}
	return t
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// run generates the city, the town and the villages, then the gaps and counts.
func (g *gen) run(specs []villageSpec) {
	// The office cadre enters the roster, so it is the author of roster records.
	g.office = &domain.Cadre{Rank: domain.RankOther, Unit: "枹罕镇人民政府", Title: "镇党政综合办公室干部"}
	g.office.Meta = g.meta(g.start, uuid.Nil)
	g.office.Author = g.office.ID
	g.office.Name = g.name(g.surname(), g.chance(0.6))
	g.office.Phone = g.phone()
	g.d.Cadres = append(g.d.Cadres, g.office)

	g.d.City = g.place(domain.City, "临夏市", uuid.Nil, "622901")
	g.town = g.place(domain.Town, "枹罕镇", g.d.City.ID, "622901102")
	g.d.Town = g.town
	g.assign(g.office, domain.Office, g.town.ID, "镇办公室")
	g.townLead = g.cadre(domain.RankCounty, countyTitles[1].unit, countyTitles[1].title)
	g.assign(g.townLead, domain.TownLead, g.town.ID, "包镇领导")
	g.nextCounty = 2

	for i, s := range specs {
		v := g.village(i, s)
		if s.first {
			g.d.Village = v.place
			g.d.GroupCadre = v.groupCadres[0]
			g.d.TeamLeader = v.teamLeader
		}
	}
	g.sortGaps()
	g.count()
}

func (g *gen) place(level domain.Level, name string, parent uuid.UUID, code string) *domain.Place {
	p := &domain.Place{Meta: g.meta(g.start, g.office.ID), Level: level, Name: name, Parent: parent, Code: code}
	g.d.Places = append(g.d.Places, p)
	return p
}

func (g *gen) cadre(rank domain.Rank, unit, title string) *domain.Cadre {
	c := &domain.Cadre{
		Meta:  g.meta(g.start, g.office.ID),
		Name:  g.name(g.surname(), g.chance(0.75)),
		Phone: g.phone(),
		Rank:  rank,
		Unit:  unit,
		Title: title,
	}
	g.d.Cadres = append(g.d.Cadres, c)
	return c
}

func (g *gen) assign(c *domain.Cadre, role domain.Role, target uuid.UUID, title string) {
	g.d.Assignments = append(g.d.Assignments, &domain.Assignment{
		Meta:   g.meta(g.start, g.office.ID),
		Cadre:  c.ID,
		Role:   role,
		Target: target,
		Title:  title,
		Since:  g.start,
	})
}

func (g *gen) countyLeader() *domain.Cadre {
	t := countyTitles[g.nextCounty]
	if g.nextCounty++; g.nextCounty == len(countyTitles) {
		g.nextCounty = 4 // the principal leaders once only
	}
	return g.cadre(domain.RankCounty, t.unit, t.title)
}

func (g *gen) townSection() *domain.Cadre {
	t := townSection[g.nextTown%len(townSection)]
	g.nextTown++
	return g.cadre(domain.RankSection, "枹罕镇人民政府", t)
}

// village generates one village with its places, households, cadres and history.
func (g *gen) village(index int, s villageSpec) *village {
	v := &village{spec: s}
	h := s.households
	if s.groups == 0 {
		s.groups = min(12, max(4, int(math.Round(float64(h)/28))))
	}
	if s.naturals == 0 {
		s.naturals = max(2, (2*s.groups+2)/3)
	}
	v.place = g.place(domain.Village, s.name, g.town.ID, fmt.Sprintf("%s%03d", g.town.Code, 201+index))
	names := slices.Clone(naturalNames)
	g.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for i := range s.naturals {
		v.naturals = append(v.naturals, g.place(domain.NaturalVillage, names[i], v.place.ID, ""))
	}
	for i := range s.groups {
		v.groups = append(v.groups, g.place(domain.Group, chineseNumber(i+1)+"社", v.place.ID, ""))
	}
	g.households(v, s)
	g.cadres(v, s, index)
	for _, f := range v.families {
		if f.covered {
			g.plan(v, f)
		}
	}
	g.visits(v)
	return v
}

// households generates the village's households and their members: sizes that
// add up to the people wanted, farmland that adds up to the tenth, statuses in
// fixed proportions.
func (g *gen) households(v *village, s villageSpec) {
	n := s.households
	sizes := make([]int, n)
	people := 0
	for i := range sizes {
		sizes[i] = g.size()
		people += sizes[i]
	}
	if s.people > 0 {
		for people < s.people {
			if i := g.r.IntN(n); sizes[i] < 9 {
				sizes[i]++
				people++
			}
		}
		for people > s.people {
			if i := g.r.IntN(n); sizes[i] > 1 {
				sizes[i]--
				people--
			}
		}
	}
	farmland := s.farmland
	if farmland == 0 {
		farmland = people * (12 + g.r.IntN(7))
	}
	tenths := g.spread(farmland, sizes)

	statuses := make([]domain.Status, n)
	lifted := int(math.Round(0.35 * float64(n)))
	registered := int(math.Round(0.04 * float64(n)))
	monitored := int(math.Round(0.06 * float64(n)))
	for i := range statuses {
		switch {
		case i < lifted:
			statuses[i] = domain.Lifted
		case i < lifted+registered:
			statuses[i] = domain.Registered
		case i < lifted+registered+monitored:
			statuses[i] = domain.Monitored
		default:
			statuses[i] = domain.Ordinary
		}
	}
	g.r.Shuffle(n, func(i, j int) { statuses[i], statuses[j] = statuses[j], statuses[i] })

	wxw := -1 // 王兴文: the first covered household of 一社 in 王坪村
	if s.first {
		for i := 0; i < n/len(v.groups); i++ {
			if statuses[i] != domain.Ordinary {
				wxw = i
				break
			}
		}
		if wxw < 0 {
			j := slices.IndexFunc(statuses, func(s domain.Status) bool { return s != domain.Ordinary })
			statuses[0], statuses[j] = statuses[j], statuses[0]
			wxw = 0
		}
	}

	for i := range n {
		group := i * len(v.groups) / n
		natural := v.naturals[group*len(v.naturals)/len(v.groups)]
		f := &family{group: group, covered: statuses[i] != domain.Ordinary}
		hh := &domain.Household{
			Meta:           g.meta(g.start, g.office.ID),
			Group:          v.groups[group].ID,
			NaturalVillage: natural.ID,
			Address:        fmt.Sprintf("%s%s%d号", v.place.Name, natural.Name, 1+i-group*n/len(v.groups)),
			Status:         statuses[i],
			Farmland:       float64(tenths[i]) / 10,
			Size:           sizes[i],
		}
		f.h = hh
		g.members(f, i == wxw)
		head := f.members[0]
		hh.HeadName = head.Name
		hh.IDNumber = head.IDNumber
		if g.chance(0.95) {
			hh.Phone = g.phone()
		}
		hh.Income = g.income(f)
		switch {
		case hh.Status == domain.Monitored:
			hh.Notes = pick(g, []string{"因病存在返贫风险，纳入监测", "因灾收入下降，纳入监测", "务工收入不稳定，纳入监测"})
		case g.chance(0.06):
			hh.Notes = pick(g, []string{"低保户", "残疾人家庭", "家中有大学生", "独居老人，需经常看望"})
		}
		if g.chance(0.4) {
			f.pepper = 1 + g.r.IntN(5)
		}
		if g.chance(0.25) {
			f.chicken = 20 + 10*g.r.IntN(7)
		}
		if g.chance(0.3) {
			for _, m := range f.members {
				if age := g.now.Year() - m.BirthYear; m.Gender == "女" && age >= 18 && age <= 60 {
					f.crafter = m
					break
				}
			}
		}
		v.families = append(v.families, f)
		g.d.Households = append(g.d.Households, hh)
		g.d.Members = append(g.d.Members, f.members...)
	}
}

// size draws a household size with a mean of about 4.5.
func (g *gen) size() int {
	x := g.r.IntN(100)
	for size, cum := range []int{0, 4, 14, 28, 50, 72, 87, 95, 100} {
		if x < cum {
			return size
		}
	}
	return 8
}

// spread shares total (tenths of a mu) among households roughly by size, so
// that the shares add up exactly.
func (g *gen) spread(total int, sizes []int) []int {
	weights := make([]float64, len(sizes))
	sum := 0.0
	for i, s := range sizes {
		weights[i] = float64(s) * (0.5 + g.r.Float64())
		sum += weights[i]
	}
	out := make([]int, len(sizes))
	given := 0
	for i, w := range weights {
		out[i] = int(float64(total) * w / sum)
		given += out[i]
	}
	for i := g.r.IntN(len(out)); given < total; i = (i + 1) % len(out) {
		out[i]++
		given++
	}
	return out
}

func (g *gen) income(f *family) string {
	migrant := false
	for _, m := range f.members {
		migrant = migrant || m.Work == "外出务工"
	}
	switch {
	case migrant && g.chance(0.5):
		return "外出务工、种植养殖"
	case migrant:
		return pick(g, []string{"外出务工", "外出务工、种植花椒", "外出务工、手工制品"})
	}
	return pick(g, []string{"种植养殖", "种植花椒、养殖散养鸡", "本地务工、种植", "低保金、种植", "公益性岗位、种植"})
}

// members generates the household's members, the head first, to its size.
func (g *gen) members(f *family, wangXingwen bool) {
	size := f.h.Size
	year := g.now.Year()
	var hy int // the head's birth year
	switch {
	case size >= 6:
		hy = 1948 + g.r.IntN(21)
	case size == 1:
		hy = 1940 + g.r.IntN(36)
	default:
		hy = 1950 + g.r.IntN(41)
	}
	hy = min(hy, year-22)
	headMale := wangXingwen || g.chance(0.9)
	surname := g.surname()
	if wangXingwen {
		surname = nameChar{"王", 'w'}
	}
	add := func(relation string, surname nameChar, male bool, born int) *domain.Member {
		born = max(1925, min(born, year-1))
		m := &domain.Member{
			Meta:      g.meta(g.start, g.office.ID),
			Household: f.h.ID,
			Name:      g.name(surname, male),
			Relation:  relation,
			Gender:    "女",
			BirthYear: born,
			IDNumber:  g.idNumber(born, male),
		}
		if male {
			m.Gender = "男"
		}
		m.Health, m.Work = g.health(year-born), g.work(year-born)
		f.members = append(f.members, m)
		return m
	}
	head := add("户主", surname, headMale, hy)
	if wangXingwen {
		head.Name = "王兴文"
	}
	rem := size - 1
	if rem > 0 && headMale && (size >= 3 || g.chance(0.8)) {
		add("配偶", g.surname(), false, hy+g.r.IntN(5))
		rem--
	}
	if rem > 0 && hy >= 1968 && g.chance(0.35) {
		add("母", g.surname(), false, hy-22-g.r.IntN(9))
		rem--
		if rem > 0 && g.chance(0.4) {
			add("父", surname, true, hy-24-g.r.IntN(9))
			rem--
		}
	}
	kids := rem
	if kids > 4 {
		kids = 2 + g.r.IntN(2)
	}
	childSurname := surname
	if !headMale {
		childSurname = g.surname() // the late husband's
	}
	born := hy + 22 + g.r.IntN(6)
	var son *domain.Member
	for range kids {
		male := g.chance(0.5)
		relation := "女"
		if male {
			relation = "子"
		}
		c := add(relation, childSurname, male, born)
		if male && son == nil {
			son = c
		}
		born += 1 + g.r.IntN(4)
		rem--
	}
	if rem > 0 && son != nil && son.BirthYear <= year-22 {
		add("儿媳", g.surname(), false, son.BirthYear+g.r.IntN(3)-1)
		rem--
		gb := son.BirthYear + 22 + g.r.IntN(5)
		for ; rem > 0; rem-- {
			male := g.chance(0.5)
			relation := "孙女"
			if male {
				relation = "孙子"
			}
			add(relation, childSurname, male, max(gb, son.BirthYear+18))
			gb += 1 + g.r.IntN(3)
		}
	}
	for ; rem > 0; rem-- { // no grown son: more children
		male := g.chance(0.5)
		relation := "女"
		if male {
			relation = "子"
		}
		add(relation, childSurname, male, born)
		born += 1 + g.r.IntN(3)
	}
}

func (g *gen) health(age int) string {
	x := g.r.Float64()
	switch {
	case age >= 65 && x < 0.3:
		return "慢性病"
	case age >= 65 && x < 0.35:
		return "残疾"
	case age >= 65 && x < 0.4:
		return "大病"
	case age < 65 && x < 0.04:
		return "慢性病"
	case age < 65 && x < 0.07:
		return "残疾"
	}
	return "健康"
}

func (g *gen) work(age int) string {
	x := g.r.Float64()
	switch {
	case age < 6:
		return "学龄前"
	case age < 16:
		return "在校生"
	case age < 23 && x < 0.4:
		return "在校生"
	case age < 60 && x < 0.45:
		return "外出务工"
	case age < 60 && x < 0.75:
		return "务农"
	case age < 60 && x < 0.88:
		return "本地务工"
	case age < 60 && x < 0.94:
		return "个体经营"
	case age < 60:
		return "公益性岗位"
	case age < 75 && x < 0.6:
		return "务农"
	}
	return "赋闲"
}

func (g *gen) surname() nameChar { return pick(g, surnames) }

// name returns a full name: surname and a two-character given name. No name
// but 王兴文's has the pinyin initials wxw.
func (g *gen) name(surname nameChar, male bool) string {
	pool := femaleChars
	if male {
		pool = maleChars
	}
	for {
		a, b := pick(g, pool), pick(g, pool)
		if a.c == b.c || (surname.initial == 'w' && a.initial == 'x' && b.initial == 'w') {
			continue
		}
		return surname.c + a.c + b.c
	}
}

// idNumber returns a new resident ID number of 临夏市 (622901) for someone born
// in year: birth date, a sequence whose last digit is odd for men, and the
// check digit.
func (g *gen) idNumber(year int, male bool) string {
	for {
		seq := g.r.IntN(100)*10 + 2*g.r.IntN(5)
		if male {
			seq++
		}
		first := fmt.Sprintf("622901%04d%02d%02d%03d", year, 1+g.r.IntN(12), 1+g.r.IntN(28), seq)
		id := first + string(domain.IDCheckDigit(first))
		if !g.idNumbers[id] {
			g.idNumbers[id] = true
			return id
		}
	}
}

var phonePrefixes = []string{"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"150", "151", "152", "153", "155", "156", "157", "158", "159",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189"}

// phone returns a new 11-digit mobile number.
func (g *gen) phone() string {
	for {
		p := fmt.Sprintf("%s%08d", pick(g, phonePrefixes), g.r.IntN(100_000_000))
		if !g.phones[p] {
			g.phones[p] = true
			return p
		}
	}
}

// cadres generates the village's cadres and their assignments, the three-level
// pairings included, and records the deliberate gaps.
func (g *gen) cadres(v *village, s villageSpec, index int) {
	id := v.place.ID
	var contact *domain.Cadre
	if s.first {
		contact = g.cadre(domain.RankCounty, countyTitles[0].unit, countyTitles[0].title)
	} else {
		contact = g.countyLeader()
	}
	g.assign(contact, domain.CityContact, id, "联系村县级领导")
	lead := g.townSection()
	g.assign(lead, domain.VillageLead, id, "包村领导")
	groupLead := g.townSection()
	g.assign(groupLead, domain.GroupCadreLead, id, "驻村包社组长")

	unit := cityUnits[(index*7+14)%len(cityUnits)] // 王坪村: 临夏市乡村振兴局
	secretary := g.cadre(domain.RankSection, unit, pick(g, []string{"副局长", "四级调研员", "党组成员、副局长"}))
	g.assign(secretary, domain.FirstSecretary, id, "第一书记")
	g.assign(secretary, domain.TeamLeader, id, "驻村工作队长")
	v.teamLeader = secretary
	for range 2 {
		m := g.cadre(domain.RankOther, unit, pick(g, otherTitles[:3]))
		g.assign(m, domain.TeamMember, id, "驻村工作队员")
		v.teamMembers = append(v.teamMembers, m)
	}
	for _, t := range [][2]string{{"村党支部书记", "支部书记"}, {"村委会主任", "村委主任"}, {"村监委会主任", "村监委主任"}} {
		c := g.cadre(domain.RankOther, v.place.Name+"村民委员会", t[0])
		g.assign(c, domain.VillageCommittee, id, t[1])
	}
	for _, grp := range v.groups {
		c := g.cadre(domain.RankOther, pick(g, townUnits), pick(g, otherTitles))
		g.assign(c, domain.GroupCadre, grp.ID, "第一社长")
		v.groupCadres = append(v.groupCadres, c)
	}

	// The three levels (三级帮扶) for every covered household, in a shuffled order
	// whose first five households carry the deliberate gaps.
	var covered []*family
	for _, f := range v.families {
		if f.covered {
			covered = append(covered, f)
		}
	}
	g.r.Shuffle(len(covered), func(i, j int) { covered[i], covered[j] = covered[j], covered[i] })
	if s.first {
		for i := range 5 { // keep 王兴文 whole
			if covered[i].h.HeadName == "王兴文" {
				covered[i], covered[len(covered)-1] = covered[len(covered)-1], covered[i]
			}
		}
	}
	n := len(covered)

	county := []*domain.Cadre{contact}
	if s.first {
		county = append(county, g.townLead)
	}
	for len(county) < n/15 {
		county = append(county, g.countyLeader())
	}
	section := []*domain.Cadre{lead, groupLead, secretary}
	want := 3
	if s.first {
		want = 4
	}
	for len(section) < max(want, n/6) {
		section = append(section, g.cadre(domain.RankSection, pick(g, cityUnits), pick(g, sectionTitles)))
	}
	helpers := slices.Clone(v.teamMembers)
	for len(helpers) < max(3, n/3) {
		helpers = append(helpers, g.cadre(domain.RankOther, pick(g, cityUnits), pick(g, otherTitles)))
	}

	g.pair(covered, county, domain.PairCounty)
	if !s.first {
		g.pair(covered, section, domain.PairSection)
		g.pair(covered, helpers, domain.Helper)
		return
	}
	// Deliberate gaps: covered[0..2] have no helper, covered[3] no section-level
	// cadre, and the last section-level cadre pairs with covered[4] only.
	lone := section[len(section)-1]
	g.pair(slices.Concat(covered[:3], covered[5:]), section[:len(section)-1], domain.PairSection)
	g.pair(covered[4:5], []*domain.Cadre{lone}, domain.PairSection)
	g.pair(covered[3:], helpers, domain.Helper)
	for _, f := range covered[:3] {
		g.d.Gaps = append(g.d.Gaps, Gap{Household: f.h, Missing: []domain.Role{domain.Helper}})
	}
	g.d.Gaps = append(g.d.Gaps, Gap{Household: covered[3].h, Missing: []domain.Role{domain.PairSection}})
	g.d.Gaps = append(g.d.Gaps, Gap{Cadre: lone, Have: 1, Want: domain.DefaultQuotas().Section})
}

// pair shares households among cadres in contiguous blocks, so that each cadre
// gets len(hs)/len(cs) households or one more.
func (g *gen) pair(hs []*family, cs []*domain.Cadre, role domain.Role) {
	for i, f := range hs {
		c := cs[i*len(cs)/len(hs)]
		g.assign(c, role, f.h.ID, "")
		if role == domain.Helper {
			f.helper = c
		}
	}
}

// plan writes the household's 一户一策 with 2 to 4 measures, and the team
// leader's reviews of it.
func (g *gen) plan(v *village, f *family) {
	owner := f.helper
	if owner == nil {
		owner = v.groupCadres[f.group]
	}
	start := g.day(g.now.AddDate(0, 0, -(60+g.r.IntN(270))), 0)
	created := g.day(start.AddDate(0, 0, -g.r.IntN(4)), 10+g.r.IntN(7))
	p := &domain.Plan{
		Meta:      g.meta(created, owner.ID),
		Household: f.h.ID,
		Goal:      fmt.Sprintf(pick(g, planGoals), g.now.Year(), 6000+500*g.r.IntN(9)),
		Start:     start,
	}
	switch x := g.r.Float64(); {
	case x < 0.55:
		p.Status = domain.PlanApproved
	case x < 0.75:
		p.Status = domain.PlanSubmitted
	case x < 0.85:
		p.Status = domain.PlanReturned
	default:
		p.Status = domain.PlanDraft
	}
	g.d.Plans = append(g.d.Plans, p)

	items := g.r.Perm(len(measureMenu))
	craft := false
	count := 2 + g.r.IntN(3)
	for _, i := range items {
		if count == 0 {
			break
		}
		item := measureMenu[i]
		if item.craft && (craft || f.crafter == nil && !g.chance(0.3)) {
			continue
		}
		if (item.kind == domain.MeasureHousing || item.kind == domain.MeasureWater) && !g.chance(0.2) {
			continue
		}
		craft = craft || item.craft
		m := &domain.Measure{
			Meta:        g.meta(created, owner.ID),
			Plan:        p.ID,
			Household:   f.h.ID,
			Type:        item.kind,
			Description: item.description(g, f),
			Owner:       owner.ID,
			Target:      item.target(g, f),
			Due:         start.AddDate(0, 0, 60+g.r.IntN(300)),
		}
		m.Progress = g.progress(p, m)
		g.d.Measures = append(g.d.Measures, m)
		count--
	}

	review := func(at time.Time, verdict domain.Verdict) time.Time {
		g.d.Reviews = append(g.d.Reviews, &domain.Review{
			Meta:      g.meta(at, v.teamLeader.ID),
			Plan:      p.ID,
			Household: f.h.ID,
			Reviewer:  v.teamLeader.ID,
			Verdict:   verdict,
			Comment:   pick(g, reviewComments[verdict]),
			At:        at,
		})
		return at.AddDate(0, 0, 3+g.r.IntN(15)).Add(time.Duration(g.r.IntN(300)) * time.Minute)
	}
	at := created.AddDate(0, 0, 3+g.r.IntN(15))
	switch p.Status {
	case domain.PlanApproved:
		if g.chance(0.3) {
			at = review(at, domain.VerdictComment)
		}
		review(at, domain.VerdictApprove)
	case domain.PlanReturned:
		review(at, domain.VerdictReturn)
	case domain.PlanSubmitted:
		switch x := g.r.Float64(); {
		case x < 0.3:
			review(at, domain.VerdictReturn) // sent back, corrected, submitted again
		case x < 0.5:
			review(at, domain.VerdictComment)
		}
	}
}

// progress sets a measure's progress from its plan's state and its due date.
func (g *gen) progress(p *domain.Plan, m *domain.Measure) domain.Progress {
	x := g.r.Float64()
	switch {
	case p.Status == domain.PlanDraft:
		if x < 0.8 {
			return domain.NotStarted
		}
		return domain.InProgress
	case m.Due.Before(g.now):
		switch {
		case x < 0.7:
			return domain.Done
		case x < 0.85:
			return domain.Stuck
		}
		return domain.InProgress
	}
	switch {
	case x < 0.6:
		return domain.InProgress
	case x < 0.85:
		return domain.NotStarted
	case x < 0.95:
		return domain.Done
	}
	return domain.Stuck
}

// visits writes g.months of visits ending at now: each household about every
// gapMin to gapMax days, a few households left unvisited for 40 to 90 days,
// and the problems found on the way.
func (g *gen) visits(v *village) {
	overdue := map[*family]bool{}
	for _, i := range g.r.Perm(len(v.families))[:max(1, len(v.families)/20)] {
		if v.families[i].h.HeadName != "王兴文" {
			overdue[v.families[i]] = true
		}
	}
	horizon := g.day(g.now.AddDate(0, -g.months, 0), 0) // visits start the day after
	var days []int
	for _, f := range v.families {
		last := 1 + g.r.IntN(min(25, g.gapMax-5))
		if overdue[f] {
			last = 40 + g.r.IntN(51)
		}
		days = days[:0]
		for d := last; g.day(g.now.AddDate(0, 0, -d), 0).After(horizon); d += g.gapMin + g.r.IntN(g.gapMax-g.gapMin+1) {
			days = append(days, d)
		}
		var pending *domain.Problem
		var pendingKind problemKind
		var prev *domain.Visit
		for i := len(days) - 1; i >= 0; i-- {
			at := g.daysAgo(days[i])
			vis, p, k := g.visit(v, f, at, pending, pendingKind)
			if prev != nil && prev.FollowUp != "" {
				prev.FollowUpDone = vis.At // the next visit saw to it
			}
			prev = vis
			g.d.Visits = append(g.d.Visits, vis)
			pending, pendingKind = p, k
		}
	}
}

// visit writes one visit at at; pending is a problem found on the previous
// visit, which this one follows up. It returns the problem this visit found, if any.
func (g *gen) visit(v *village, f *family, at time.Time, pending *domain.Problem, pk problemKind) (*domain.Visit, *domain.Problem, problemKind) {
	vis := &domain.Visit{Household: f.h.ID, At: at, Type: domain.VisitRoutine}
	var notes []string
	switch x := g.r.Float64(); {
	case pending != nil:
		vis.Type = domain.VisitFollowUp
		state := "正在协调处理"
		if pending.Status == domain.ProblemResolved && !pending.ResolvedAt.After(at) {
			state = "问题已解决，群众满意"
		}
		notes = append(notes, fmt.Sprintf("回访%s情况，%s", pk.follow, state))
	case x < 0.15:
		vis.Type = domain.VisitPolicy
	case x < 0.25 && f.covered:
		vis.Type = domain.VisitPlan
		notes = append(notes, pick(g, []string{"与户主一起对照一户一策逐项查看措施进度",
			"入户核实一户一策落实情况，更新措施进度", "和帮扶责任人一起商议明年增收措施"}))
	case x < 0.255:
		vis.Type = domain.VisitUrgent
		notes = append(notes, "强降雨后入户查看房屋安全，未发现险情")
	}

	x := g.r.Float64()
	var c *domain.Cadre
	switch {
	case vis.Type == domain.VisitPlan && f.helper != nil && x < 0.6:
		c = f.helper
	case vis.Type == domain.VisitPlan || vis.Type == domain.VisitUrgent:
		c = v.teamLeader
	case x < 0.65 || (f.helper == nil && x < 0.9):
		c = v.groupCadres[f.group]
	case f.helper != nil && x < 0.93:
		c = f.helper
	case x < 0.97:
		c = v.teamLeader
	default:
		c = pick(g, v.teamMembers)
	}
	vis.Cadre = c.ID
	vis.Meta = g.meta(at, c.ID)

	notes = append(notes, g.familyNote(f))
	notes = append(notes, pick(g, talkNotes))
	if g.chance(0.3) {
		notes = append(notes, pick(g, houseNotes))
	}

	if vis.Type == domain.VisitPolicy || g.chance(0.45) {
		vis.Policies = true
		vis.Policy = pick(g, policies)
		if g.chance(0.4) {
			if second := pick(g, policies); second != vis.Policy {
				vis.Policy += "、" + second
			}
		}
	}
	switch x := g.r.Float64(); {
	case f.h.Status != domain.Ordinary && f.h.Status != domain.Lifted && x < 0.3:
		vis.Fees = domain.FeesExempt
	case x < 0.8:
		vis.Fees = domain.FeesPaid
	case x < 0.86:
		vis.Fees = domain.FeesPartly
	case x < 0.88:
		vis.Fees = domain.FeesUnpaid
	default:
		vis.Fees = domain.FeesUnknown
	}
	if g.chance(0.9) {
		vis.Water = domain.WaterSafe
		if g.chance(0.3) {
			notes = append(notes, pick(g, waterNotes))
		}
	}

	var found *domain.Problem
	var kind problemKind
	if g.chance(0.025) {
		kind = pick(g, problemKinds)
		found = g.problem(v, f, vis, c, kind)
		notes = append(notes, "发现问题："+kind.text)
		if kind.water {
			vis.Water = domain.WaterUnsafe
		}
		if kind.fees {
			vis.Fees = domain.FeesUnpaid
		}
		vis.FollowUp = "跟进" + kind.follow + "处理情况"
		vis.Due = g.day(at, 0).AddDate(0, 0, 7+g.r.IntN(8))
	} else if g.chance(0.15) {
		vis.FollowUp = pick(g, followUps)
		vis.Due = g.day(at, 0).AddDate(0, 0, 7+g.r.IntN(24))
	}
	vis.Notes = strings.Join(slices.DeleteFunc(notes, func(s string) bool { return s == "" }), "；") + "。"
	return vis, found, kind
}

// familyNote is something the visitor saw of the household's own situation.
func (g *gen) familyNote(f *family) string {
	var opts []string
	if f.pepper > 0 {
		opts = append(opts, fmt.Sprintf("家中种植花椒%d亩，长势良好", f.pepper),
			fmt.Sprintf("花椒修剪已完成，预计产干椒%d斤", f.pepper*50+10*g.r.IntN(5)))
	}
	if f.chicken > 0 {
		opts = append(opts, fmt.Sprintf("散养鸡%d只，长势良好，已通过网店售出%d只", f.chicken, 2+g.r.IntN(f.chicken/4)))
	}
	if f.crafter != nil {
		opts = append(opts, fmt.Sprintf("%s参加古枹罕手工作坊，本月制作绣花鞋垫%d双", f.crafter.Name, 5+g.r.IntN(20)))
	}
	for _, m := range f.members {
		switch {
		case m.Work == "外出务工":
			opts = append(opts, fmt.Sprintf("询问外出务工情况，%s在%s务工，月收入约%d元", m.Name, pick(g, cities), 3000+500*g.r.IntN(6)))
		case m.Health == "慢性病" || m.Health == "大病":
			opts = append(opts, fmt.Sprintf("%s患%s，按时服药，身体状况稳定", m.Name, m.Health))
		case m.Work == "在校生" && g.now.Year()-m.BirthYear >= 15:
			opts = append(opts, fmt.Sprintf("%s在校就读，已享受教育资助政策", m.Name))
		}
	}
	if len(opts) == 0 {
		return "询问家庭生产生活情况，生活稳定"
	}
	return pick(g, opts)
}

// problem writes the problem found on vis; how far it got depends on its age.
func (g *gen) problem(v *village, f *family, vis *domain.Visit, by *domain.Cadre, k problemKind) *domain.Problem {
	p := &domain.Problem{
		Meta:      g.meta(vis.At, by.ID),
		Household: f.h.ID,
		Visit:     vis.ID,
		Text:      k.text,
	}
	age := int(g.now.Sub(vis.At) / (24 * time.Hour))
	x := g.r.Float64()
	switch {
	case age < 2:
		p.Status = []domain.ProblemStatus{domain.ProblemOpen, domain.ProblemVillage}[g.r.IntN(2)]
	case age > 45 && x < 0.8, age > 10 && x < 0.4, x < 0.1:
		p.Status = domain.ProblemResolved
	case x < 0.6:
		p.Status = domain.ProblemVillage
	case x < 0.8:
		p.Status = domain.ProblemTown
	default:
		p.Status = domain.ProblemOpen
	}
	if p.Status == domain.ProblemResolved {
		p.ResolvedBy = v.groupCadres[f.group].ID
		if g.chance(0.4) {
			p.ResolvedBy = v.teamLeader.ID
		}
		p.ResolvedAt = vis.At.AddDate(0, 0, 1+g.r.IntN(min(30, age-1)))
		p.Resolution = k.resolution
	}
	if p.Status != domain.ProblemOpen && (p.Status != domain.ProblemResolved || g.chance(0.5)) {
		p.ReportedBy = by.ID
		p.ReportedAt = vis.At.Add(time.Duration(1+g.r.IntN(48)) * time.Hour)
		if p.ReportedAt.After(g.now) || p.Status == domain.ProblemResolved && p.ReportedAt.After(p.ResolvedAt) {
			p.ReportedAt = vis.At.Add(time.Hour)
		}
	}
	g.d.Problems = append(g.d.Problems, p)
	return p
}

// sortGaps puts the gaps in CheckAssistance's order: households by head, then
// cadres by name.
func (g *gen) sortGaps() {
	key := func(x Gap) (int, string, string) {
		if x.Household != nil {
			return 0, x.Household.HeadName, x.Household.ID.String()
		}
		return 1, x.Cadre.Name, x.Cadre.ID.String()
	}
	slices.SortStableFunc(g.d.Gaps, func(a, b Gap) int {
		ka, sa, ia := key(a)
		kb, sb, ib := key(b)
		if ka != kb {
			return ka - kb
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		return strings.Compare(ia, ib)
	})
}

// count fills Data.Counts from the generated records.
func (g *gen) count() {
	d := g.d
	c := Counts{Cadres: map[domain.Rank]int{}}
	for _, p := range d.Places {
		switch p.Level {
		case domain.Town:
			c.Towns++
		case domain.Village:
			c.Villages++
		case domain.NaturalVillage:
			c.NaturalVillages++
		case domain.Group:
			c.Groups++
		}
	}
	tenths := 0
	for _, h := range d.Households {
		c.Households++
		c.People += h.Size
		tenths += int(math.Round(h.Farmland * 10))
	}
	c.Farmland = float64(tenths) / 10
	for _, x := range d.Cadres {
		c.Cadres[x.Rank]++
	}
	c.Visits = len(d.Visits)
	for _, p := range d.Problems {
		if p.IsOpen() {
			c.OpenProblems++
		}
	}
	for _, p := range d.Plans {
		if p.Status == domain.PlanSubmitted {
			c.PlansAwaitingReview++
		}
	}
	d.Counts = c
}
