package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/office"
	"bangfu/store/query"
)

func (c *cli) stats(args []string) error {
	fs := c.flags("stats", "-data DIR [-json]", `
显示花名册汇总：镇、村、自然村、社、户、人口、耕地、各职级干部、走访、待处理问题、待审核计划、
三级帮扶缺口和帮扶力量覆盖（缺少包社干部的社、缺少工作队长或联系村县级领导的村、缺少包镇领导的镇、
镇干部驻村包社比例）。
Prints the roster summary: towns, villages, natural villages, groups, households, people,
farmland, cadres by rank, visits, open problems, plans awaiting review, three-level gaps and
coverage (groups without a group cadre, villages without a work team leader or county-level
contact, towns without a lead, each town's share of cadres stationed in villages).`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	asJSON := fs.Bool("json", false, "输出 JSON / print JSON")
	server := serverFlag(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	s, cov, err := c.summary(*dir, *server)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		out := statsJSON(s)
		out.Coverage = coverageJSON(cov)
		return enc.Encode(out)
	}
	printStats(c.stdout, s, cov)
	return nil
}

// summary reads the roster summary and the coverage check from the stopped
// data directory dir, or from the running server (a city account's token).
func (c *cli) summary(dir, server string) (*query.Figures, domain.Coverage, error) {
	if server != "" {
		r, err := newRemote(server)
		if err != nil {
			return nil, domain.Coverage{}, err
		}
		var out office.APIStats
		if err := r.getJSON("stats", &out); err != nil {
			return nil, domain.Coverage{}, err
		}
		if out.Summary == nil {
			return nil, domain.Coverage{}, domain.Errorf(domain.EUNAVAILABLE, "server", "服务器的回答没有汇总", "the server's answer holds no summary")
		}
		return out.Summary, out.Coverage, nil
	}
	db, err := openExisting(dir)
	if err != nil {
		return nil, domain.Coverage{}, err
	}
	defer db.Close()
	s, err := query.Summary(db)
	if err != nil {
		return nil, domain.Coverage{}, err
	}
	cov, err := query.Coverage(db, uuid.Nil)
	return s, cov, err
}

// StatsCoverage is the coverage check (domain.CheckCoverage) in the JSON
// summary: the names of the places missing someone, and each town's share of
// cadres stationed in villages.
type StatsCoverage struct {
	GroupsWithoutCadre     []string         `json:"groups_without_group_cadre"`
	VillagesWithoutLeader  []string         `json:"villages_without_team_leader"`
	VillagesWithoutContact []string         `json:"villages_without_county_contact"`
	TownsWithoutLead       []string         `json:"towns_without_lead"`
	Stationed              []StatsStationed `json:"stationed"`
}

// StatsStationed is one town's share of cadres stationed in its villages.
type StatsStationed struct {
	Town      string `json:"town"`
	Stationed int    `json:"stationed"`
	Total     int    `json:"total"`
	Percent   int    `json:"percent"`
	Want      int    `json:"want_percent"`
	Low       bool   `json:"low"`
}

func placeNames(ps []*domain.Place) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func coverageJSON(c domain.Coverage) StatsCoverage {
	out := StatsCoverage{GroupsWithoutCadre: placeNames(c.GroupsWithoutCadre), VillagesWithoutLeader: placeNames(c.VillagesWithoutLeader),
		VillagesWithoutContact: placeNames(c.VillagesWithoutContact), TownsWithoutLead: placeNames(c.TownsWithoutLead),
		Stationed: []StatsStationed{}}
	for _, s := range c.Stationed {
		out.Stationed = append(out.Stationed, StatsStationed{Town: s.Town.Name, Stationed: s.Stationed, Total: s.Total,
			Percent: s.Percent(), Want: s.Want, Low: s.Low})
	}
	return out
}

// Stats is the JSON form of the summary printed by `bangfud stats -json`.
type Stats struct {
	Towns               int            `json:"towns"`
	Villages            int            `json:"villages"`
	NaturalVillages     int            `json:"natural_villages"`
	Groups              int            `json:"groups"`
	Households          int            `json:"households"`
	People              int            `json:"people"`
	FarmlandMu          float64        `json:"farmland_mu"`
	Cadres              int            `json:"cadres"`
	CadresByRank        map[string]int `json:"cadres_by_rank"`
	Visits              int            `json:"visits"`
	OpenProblems        int            `json:"open_problems"`
	PlansAwaitingReview int            `json:"plans_awaiting_review"`
	Gaps                StatsGaps      `json:"three_level_gaps"`
	Coverage            StatsCoverage  `json:"coverage"`
}

// StatsGaps are the three-level gaps (三级帮扶缺口) in the JSON summary.
type StatsGaps struct {
	Households     int `json:"households_missing_a_level"`
	Cadres         int `json:"cadres_under_quota"`
	RankMismatches int `json:"rank_mismatches"`
}

var ranks = []domain.Rank{domain.RankCounty, domain.RankSection, domain.RankOther}

func statsJSON(s *query.Figures) Stats {
	out := Stats{
		Towns: s.Towns, Villages: s.Villages, NaturalVillages: s.NaturalVillages, Groups: s.Groups,
		Households: s.Households, People: s.People, FarmlandMu: s.Farmland,
		CadresByRank: map[string]int{},
		Visits:       s.Visits, OpenProblems: s.OpenProblems, PlansAwaitingReview: s.AwaitingReview,
		Gaps: StatsGaps{Households: s.HouseholdGaps, Cadres: s.CadreGaps, RankMismatches: s.Mismatches},
	}
	for _, r := range ranks {
		out.CadresByRank[string(r)] = s.CadresByRank[r]
	}
	for r, n := range s.CadresByRank {
		out.CadresByRank[string(r)] = n
		out.Cadres += n
	}
	return out
}

// printStats writes the summary as a table with Chinese and English labels,
// aligned for a terminal where a Chinese character is two columns wide.
func printStats(w io.Writer, s *query.Figures, cov domain.Coverage) {
	type line struct {
		zh, en string
		value  string
	}
	n := func(v int) string { return fmt.Sprintf("%d", v) }
	lines := []line{
		{"镇", "towns", n(s.Towns)},
		{"村", "villages", n(s.Villages)},
		{"自然村", "natural villages", n(s.NaturalVillages)},
		{"社", "groups", n(s.Groups)},
		{"户", "households", n(s.Households)},
		{"人口", "people", n(s.People)},
		{"耕地（亩）", "farmland (mu)", fmt.Sprintf("%.1f", s.Farmland)},
	}
	total := 0
	for _, c := range s.CadresByRank {
		total += c
	}
	lines = append(lines, line{"干部", "cadres", n(total)})
	for _, r := range ranks {
		zh, en := domain.RankName(r)
		lines = append(lines, line{"  " + zh, "  " + en, n(s.CadresByRank[r])})
	}
	lines = append(lines,
		line{"走访", "visits", n(s.Visits)},
		line{"待处理问题", "open problems", n(s.OpenProblems)},
		line{"待审核计划", "plans awaiting review", n(s.AwaitingReview)},
		line{"三级帮扶缺口", "three-level gaps", ""},
		line{"  缺少帮扶层级的户", "  households missing a level", n(s.HouseholdGaps)},
		line{"  未达结对数的干部", "  cadres under quota", n(s.CadreGaps)},
		line{"  职级不符的结对", "  pairings of the wrong rank", n(s.Mismatches)},
		line{"帮扶力量覆盖", "coverage", ""},
	)
	list := func(ps []*domain.Place) string {
		if len(ps) == 0 {
			return "0"
		}
		return fmt.Sprintf("%d: %s", len(ps), strings.Join(placeNames(ps), "、"))
	}
	lines = append(lines,
		line{"  缺少包社干部的社", "  groups without a group cadre", list(cov.GroupsWithoutCadre)},
		line{"  缺少驻村工作队长的村", "  villages without a team leader", list(cov.VillagesWithoutLeader)},
		line{"  缺少联系村县级领导的村", "  villages without a county contact", list(cov.VillagesWithoutContact)},
		line{"  缺少包镇领导的镇", "  towns without a lead", list(cov.TownsWithoutLead)},
	)
	for _, x := range cov.Stationed {
		v := fmt.Sprintf("%d/%d %d%%", x.Stationed, x.Total, x.Percent())
		if x.Low {
			v += fmt.Sprintf(" < %d%%!", x.Want)
		}
		lines = append(lines, line{"  驻村包社比例 " + x.Town.Name, "  stationed in villages, " + x.Town.Name, v})
	}
	zw, ew, vw := width("项目"), len("item"), len("count")
	for _, l := range lines {
		zw, ew, vw = max(zw, width(l.zh)), max(ew, len(l.en)), max(vw, len(l.value))
	}
	fmt.Fprintf(w, "%s  %s  %s\n", pad("项目", zw), pad("item", ew), strings.Repeat(" ", vw-len("count"))+"count")
	fmt.Fprintf(w, "%s  %s  %s\n", strings.Repeat("-", zw), strings.Repeat("-", ew), strings.Repeat("-", vw))
	for _, l := range lines {
		fmt.Fprintf(w, "%s  %s  %s\n", pad(l.zh, zw), pad(l.en, ew), strings.Repeat(" ", vw-len(l.value))+l.value)
	}
}

// width returns the columns s takes on a terminal: two for a wide (East
// Asian) character, one for others.
func width(s string) int {
	n := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) || (r >= 0xFF00 && r <= 0xFF60) || (r >= 0x3000 && r <= 0x303F) {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func pad(s string, w int) string { return s + strings.Repeat(" ", max(0, w-width(s))) }
