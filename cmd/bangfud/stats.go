package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"bangfu/domain"
	"bangfu/store"
)

func (c *cli) stats(args []string) error {
	fs := c.flags("stats", "-data DIR [-json]", `
显示花名册汇总：镇、村、自然村、社、户、人口、耕地、各职级干部、走访、待处理问题、待审核计划和三级帮扶缺口。
Prints the roster summary: towns, villages, natural villages, groups, households, people,
farmland, cadres by rank, visits, open problems, plans awaiting review and three-level gaps.`, lockedHelp)
	dir := dataFlag(fs)
	asJSON := fs.Bool("json", false, "输出 JSON / print JSON")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := db.Summary()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(statsJSON(s))
	}
	printStats(c.stdout, s)
	return nil
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
}

// StatsGaps are the three-level gaps (三级帮扶缺口) in the JSON summary.
type StatsGaps struct {
	Households     int `json:"households_missing_a_level"`
	Cadres         int `json:"cadres_under_quota"`
	RankMismatches int `json:"rank_mismatches"`
}

var ranks = []domain.Rank{domain.RankCounty, domain.RankSection, domain.RankOther}

func statsJSON(s *store.Summary) Stats {
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
func printStats(w io.Writer, s *store.Summary) {
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
	)
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
