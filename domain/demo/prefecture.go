package demo

import (
	"fmt"
	"time"

	"bangfu/domain"
)

// The shape of issue 12's prefecture: 50 towns of 20 villages of 250
// households, 250,000 households in all.
const (
	PrefectureTowns      = 50  // PrefectureTowns is the number of towns of a full prefecture.
	PrefectureVillages   = 20  // PrefectureVillages is the number of villages of each town.
	PrefectureHouseholds = 250 // PrefectureHouseholds is the number of households of each village.
)

// Prefecture returns a city of towns towns, each of villages villages of
// households households (at least 60), with a year of history ending at now
// and a visit to every household about once a month: the server's load of a
// prefecture's office, for benchmarks. Its first town is Town's 枹罕镇 and
// its first village 王坪村 (with the seed's figures when households is 252 or
// more), which holds the deliberate gaps; the other towns are built alike,
// each with its own office cadre and town lead. The visits' notes and
// follow-ups are written by NewNotes (see Data.VaryNotes), so that they
// compress as typed notes do; Village's and Town's keep the seed's phrases.
func Prefecture(seed int64, now time.Time, towns, villages, households int) *Data {
	towns, villages, households = max(towns, 1), max(villages, 1), max(households, 60)
	g := newGen(seed, now, 24, 34)
	g.months = 12
	specs := []villageSpec{wangping(min(households, WangpingHouseholds))}
	for i := 1; i < villages; i++ {
		specs = append(specs, villageSpec{name: villageName(i - 1), households: households})
	}
	g.run(specs)
	for t := 1; t < towns; t++ {
		name := townName(t)
		g.office = g.cadre(domain.RankOther, name+"人民政府", "镇党政综合办公室干部")
		g.office.Author = g.office.ID
		g.town = g.place(domain.Town, name, g.d.City.ID, fmt.Sprintf("622901%03d", 102+t))
		g.assign(g.office, domain.Office, g.town.ID, "镇办公室")
		g.townLead = g.countyLeader()
		g.assign(g.townLead, domain.TownLead, g.town.ID, "包镇领导")
		for i := range villages {
			g.village(i, villageSpec{name: villageName(i + t*villages), households: households})
		}
	}
	g.sortGaps()
	g.count()
	g.d.VaryNotes(uint64(seed))
	return g.d
}

// villageName is the name of the i-th village other than 王坪村: the list of
// names, then the list again with a number (红台二村).
func villageName(i int) string {
	name := villageNames[i%len(villageNames)]
	if n := i / len(villageNames); n > 0 {
		name = name[:len(name)-len("村")] + chineseNumber(n%99+1) + "村"
	}
	return name
}

// townNames are the towns after 枹罕镇.
var townNames = []string{"折桥镇", "城郊镇", "南龙镇", "枹罕街道", "东关街道", "八坊街道",
	"红园街道", "城北镇", "河西镇", "尹集镇", "漠泥沟镇", "麻尼寺沟镇", "刁祁镇", "北塬镇"}

// townName is the name of the t-th town, t >= 1.
func townName(t int) string {
	name := townNames[(t-1)%len(townNames)]
	if n := (t - 1) / len(townNames); n > 0 {
		return chineseNumber(n%99+1) + name
	}
	return name
}
