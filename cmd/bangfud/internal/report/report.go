// Package report writes the office's monthly workbook for bangfud export: the
// visits, the household plans (一户一策) with their measures, and the
// three-level assistance check (三级帮扶) — households missing a level, cadres
// under quota, pairings held by a cadre of the wrong rank — as sheets of one
// XLSX file with Chinese headers.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/domain"
)

// The sheet names, in the workbook's order.
const (
	SheetVisits     = "走访记录"
	SheetPlans      = "一户一策"
	SheetHouseholds = "缺少帮扶层级的户"
	SheetCadres     = "未达结对数的干部"
	SheetMismatches = "职级不符的结对"
	SheetCoverage   = "帮扶力量覆盖"
	SheetHistory    = "帮扶力量调整记录"
)

// Sheets lists the sheet names in the workbook's order.
var Sheets = []string{SheetVisits, SheetPlans, SheetHouseholds, SheetCadres, SheetMismatches, SheetCoverage, SheetHistory}

// China is the time zone dates are written in (UTC+8).
var China = time.FixedZone("CST", 8*3600)

// Input is what a report is made from: the live records of a store.
type Input struct {
	Places      []*domain.Place
	Cadres      []*domain.Cadre
	Households  []*domain.Household
	Assignments []*domain.Assignment
	Visits      []*domain.Visit
	Plans       []*domain.Plan
	Measures    []*domain.Measure
	Quotas      domain.Quotas
	// Village, if not empty, limits the report to the villages of that name:
	// their households' visits, plans and gaps, and the cadres with an
	// assignment there.
	Village string
}

// Counts are the data rows written to each sheet, by sheet name.
type Counts map[string]int

// Write writes the workbook to w and returns its data row counts.
func Write(w io.Writer, in Input) (Counts, error) {
	r, err := newReport(in)
	if err != nil {
		return nil, err
	}
	f := excelize.NewFile()
	defer f.Close()
	counts := Counts{}
	for i, s := range r.sheets() {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return nil, err
		}
		if err := writeSheet(f, s); err != nil {
			return nil, fmt.Errorf("report: sheet %s: %w", s.name, err)
		}
		counts[s.name] = len(s.rows)
	}
	if err := f.Write(w); err != nil {
		return nil, fmt.Errorf("report: write: %w", err)
	}
	return counts, nil
}

// sheet is one sheet's content.
type sheet struct {
	name   string
	header []string
	widths []float64
	rows   [][]any
}

func writeSheet(f *excelize.File, s sheet) error {
	sw, err := f.NewStreamWriter(s.name)
	if err != nil {
		return err
	}
	for i, w := range s.widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	if err != nil {
		return err
	}
	head := make([]any, len(s.header))
	for i, h := range s.header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for i, row := range s.rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// report holds the input indexed for lookups.
type report struct {
	in         Input
	places     map[uuid.UUID]*domain.Place
	cadres     map[uuid.UUID]*domain.Cadre
	households map[uuid.UUID]*domain.Household
	inScope    map[uuid.UUID]bool // households in the report's villages
}

func newReport(in Input) (*report, error) {
	r := &report{in: in, places: map[uuid.UUID]*domain.Place{}, cadres: map[uuid.UUID]*domain.Cadre{},
		households: map[uuid.UUID]*domain.Household{}, inScope: map[uuid.UUID]bool{}}
	for _, p := range in.Places {
		r.places[p.ID] = p
	}
	for _, c := range in.Cadres {
		r.cadres[c.ID] = c
	}
	villages := map[uuid.UUID]bool{}
	for _, p := range in.Places {
		if p.Level == domain.Village && (in.Village == "" || p.Name == in.Village) {
			villages[p.ID] = true
		}
	}
	if in.Village != "" && len(villages) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "village", "没有名为“%[1]s”的村", "there is no village named %[1]q", in.Village)
	}
	for _, h := range in.Households {
		r.households[h.ID] = h
		if in.Village == "" || villages[r.villageOf(h).ID] {
			r.inScope[h.ID] = true
		}
	}
	return r, nil
}

// none stands for a missing place.
var none = &domain.Place{}

func (r *report) place(id uuid.UUID) *domain.Place {
	if p := r.places[id]; p != nil {
		return p
	}
	return none
}

func (r *report) villageOf(h *domain.Household) *domain.Place {
	return r.place(r.place(h.Group).Parent)
}

func (r *report) cadreName(id uuid.UUID) string {
	if c := r.cadres[id]; c != nil {
		return c.Name
	}
	return ""
}

// householdCols are the columns that place a household.
func (r *report) householdCols(id uuid.UUID) []any {
	h := r.households[id]
	if h == nil {
		return []any{"", "", "", "", ""}
	}
	v := r.villageOf(h)
	st, _ := domain.StatusName(h.Status)
	return []any{r.place(v.Parent).Name, v.Name, r.place(h.Group).Name, h.HeadName, st}
}

// sortKey orders rows by town, village, group, head.
func (r *report) sortKey(id uuid.UUID) string {
	return strings.Join(strs(r.householdCols(id)[:4]), "\x00") + "\x00" + id.String()
}

func strs(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(China).Format("2006-01-02")
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

var placeHeader = []string{"镇", "村", "社", "户主", "户类型"}
var placeWidths = []float64{10, 10, 8, 10, 14}

func (r *report) sheets() []sheet {
	return []sheet{r.visits(), r.plans(), r.householdGaps(), r.cadreGaps(), r.mismatches(), r.coverage(), r.history()}
}

func (r *report) visits() sheet {
	s := sheet{name: SheetVisits,
		header: append([]string{"走访时间"}, append(append([]string{}, placeHeader...),
			"走访干部", "走访类型", "村情户情民情", "政策宣传", "宣传内容", "两费收缴", "饮水安全", "后续跟进", "跟进期限")...),
		widths: append([]float64{17}, append(append([]float64{}, placeWidths...), 10, 10, 50, 8, 24, 10, 10, 30, 12)...),
	}
	var visits []*domain.Visit
	for _, v := range r.in.Visits {
		if r.inScope[v.Household] {
			visits = append(visits, v)
		}
	}
	sort.Slice(visits, func(i, j int) bool {
		if !visits[i].At.Equal(visits[j].At) {
			return visits[i].At.After(visits[j].At)
		}
		return visits[i].ID.String() < visits[j].ID.String()
	})
	for _, v := range visits {
		kind, _ := domain.VisitKindName(v.Type)
		row := []any{v.At.In(China).Format("2006-01-02 15:04")}
		row = append(row, r.householdCols(v.Household)...)
		row = append(row, r.cadreName(v.Cadre), kind, v.Notes, yesNo(v.Policies), v.Policy,
			feesName(v.Fees), waterName(v.Water), v.FollowUp, day(v.Due))
		s.rows = append(s.rows, row)
	}
	return s
}

func feesName(f domain.Fees) string {
	switch f {
	case domain.FeesPaid:
		return "已缴清"
	case domain.FeesPartly:
		return "部分缴纳"
	case domain.FeesUnpaid:
		return "未缴"
	case domain.FeesExempt:
		return "免缴/代缴"
	}
	return "未询问"
}

func waterName(w domain.Water) string {
	switch w {
	case domain.WaterSafe:
		return "安全"
	case domain.WaterUnsafe:
		return "不安全"
	}
	return "未检查"
}

// plans writes one row per measure, and one row for a plan without measures.
func (r *report) plans() sheet {
	s := sheet{name: SheetPlans,
		header: append(append([]string{}, placeHeader...),
			"计划目标", "开始日期", "计划状态", "措施类型", "措施内容", "责任人", "目标", "完成期限", "进度"),
		widths: append(append([]float64{}, placeWidths...), 30, 12, 10, 12, 40, 10, 24, 12, 10),
	}
	measures := map[uuid.UUID][]*domain.Measure{}
	for _, m := range r.in.Measures {
		measures[m.Plan] = append(measures[m.Plan], m)
	}
	var plans []*domain.Plan
	for _, p := range r.in.Plans {
		if r.inScope[p.Household] {
			plans = append(plans, p)
		}
	}
	sort.Slice(plans, func(i, j int) bool { return r.sortKey(plans[i].Household) < r.sortKey(plans[j].Household) })
	for _, p := range plans {
		status, _ := domain.PlanStatusName(p.Status)
		head := append(r.householdCols(p.Household), p.Goal, day(p.Start), status)
		ms := measures[p.ID]
		sort.Slice(ms, func(i, j int) bool {
			if !ms[i].Due.Equal(ms[j].Due) {
				return ms[i].Due.Before(ms[j].Due)
			}
			return ms[i].ID.String() < ms[j].ID.String()
		})
		if len(ms) == 0 {
			s.rows = append(s.rows, append(head, "", "", "", "", "", ""))
		}
		for _, m := range ms {
			kind, _ := domain.MeasureKindName(m.Type)
			prog, _ := domain.ProgressName(m.Progress)
			row := append(append([]any{}, head...), kind, m.Description, r.cadreName(m.Owner), m.Target, day(m.Due), prog)
			s.rows = append(s.rows, row)
		}
	}
	return s
}

func (r *report) gaps() domain.Gaps {
	return domain.CheckAssistance(domain.Roster{Households: r.in.Households, Cadres: r.in.Cadres,
		Assignments: r.in.Assignments}, r.in.Quotas)
}

func (r *report) householdGaps() sheet {
	s := sheet{name: SheetHouseholds,
		header: append(append([]string{}, placeHeader...), "电话", "县级领导", "科级干部", "帮扶责任人", "缺少"),
		widths: append(append([]float64{}, placeWidths...), 14, 10, 10, 10, 36),
	}
	helpers := map[uuid.UUID]map[domain.Role][]string{}
	for _, a := range r.in.Assignments {
		if c := r.cadres[a.Cadre]; a.Role.IsPairing() && a.Current() && c != nil && c.Current() {
			if helpers[a.Target] == nil {
				helpers[a.Target] = map[domain.Role][]string{}
			}
			helpers[a.Target][a.Role] = append(helpers[a.Target][a.Role], r.cadreName(a.Cadre))
		}
	}
	gaps := r.gaps().Households
	sort.SliceStable(gaps, func(i, j int) bool {
		return r.sortKey(gaps[i].Household.ID) < r.sortKey(gaps[j].Household.ID)
	})
	for _, g := range gaps {
		if !r.inScope[g.Household.ID] {
			continue
		}
		var missing []string
		for _, role := range g.Missing {
			zh, _ := domain.RoleName(role)
			missing = append(missing, zh)
		}
		row := append(r.householdCols(g.Household.ID), g.Household.Phone)
		for _, role := range []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper} {
			names := helpers[g.Household.ID][role]
			sort.Strings(names)
			row = append(row, strings.Join(names, "、"))
		}
		s.rows = append(s.rows, append(row, strings.Join(missing, "、")))
	}
	return s
}

// cadresInScope returns the cadres with an assignment in the report's
// villages; nil means every cadre (no village filter).
func (r *report) cadresInScope() map[uuid.UUID]bool {
	if r.in.Village == "" {
		return nil
	}
	in := map[uuid.UUID]bool{}
	for _, a := range r.in.Assignments {
		switch {
		case r.inScope[a.Target]:
			in[a.Cadre] = true
		case r.places[a.Target] != nil:
			p := r.places[a.Target]
			if p.Level == domain.Group || p.Level == domain.NaturalVillage {
				p = r.place(p.Parent)
			}
			if p.Level == domain.Village && p.Name == r.in.Village {
				in[a.Cadre] = true
			}
		}
	}
	return in
}

func (r *report) cadreGaps() sheet {
	s := sheet{name: SheetCadres,
		header: []string{"干部", "职级", "单位", "职务", "电话", "已结对户数", "应结对户数"},
		widths: []float64{10, 14, 24, 20, 14, 12, 12},
	}
	scope := r.cadresInScope()
	for _, g := range r.gaps().Cadres {
		if scope != nil && !scope[g.Cadre.ID] {
			continue
		}
		rank, _ := domain.RankName(g.Cadre.Rank)
		s.rows = append(s.rows, []any{g.Cadre.Name, rank, g.Cadre.Unit, g.Cadre.Title, g.Cadre.Phone, g.Have, g.Want})
	}
	return s
}

func (r *report) mismatches() sheet {
	s := sheet{name: SheetMismatches,
		header: append([]string{"干部", "职级", "结对类型"}, placeHeader...),
		widths: append([]float64{10, 14, 18}, placeWidths...),
	}
	for _, m := range r.gaps().Mismatches {
		if !r.inScope[m.Assignment.Target] {
			continue
		}
		rank, _ := domain.RankName(m.Cadre.Rank)
		role, _ := domain.RoleName(m.Assignment.Role)
		s.rows = append(s.rows, append([]any{m.Cadre.Name, rank, role}, r.householdCols(m.Assignment.Target)...))
	}
	return s
}

// inVillage reports whether place p is the report's village or in it (every
// place when the report is not limited to a village).
func (r *report) inVillage(p *domain.Place) bool {
	if r.in.Village == "" {
		return true
	}
	for i := 0; p != nil && p != none && i < 8; i, p = i+1, r.place(p.Parent) {
		if p.Level == domain.Village {
			return p.Name == r.in.Village
		}
	}
	return false
}

// coverage lists what domain.CheckCoverage finds: 社 without a group cadre,
// villages without a work team leader or county-level contact, towns without
// a lead, and each town's share of cadres stationed in villages (every town,
// flagged when under the quota).
func (r *report) coverage() sheet {
	s := sheet{name: SheetCoverage,
		header: []string{"镇", "村", "社", "检查项", "情况"},
		widths: []float64{10, 10, 8, 28, 30},
	}
	c := domain.CheckCoverage(r.in.Places, domain.Roster{Cadres: r.in.Cadres, Assignments: r.in.Assignments}, r.in.Quotas)
	row := func(p *domain.Place, what, finding string) {
		var town, village, group string
		for i, q := 0, p; q != nil && q != none && i < 8; i, q = i+1, r.place(q.Parent) {
			switch q.Level {
			case domain.Town:
				town = q.Name
			case domain.Village:
				village = q.Name
			case domain.Group:
				group = q.Name
			}
		}
		s.rows = append(s.rows, []any{town, village, group, what, finding})
	}
	for _, p := range c.TownsWithoutLead {
		if r.in.Village == "" {
			row(p, "包镇领导", "缺少")
		}
	}
	for _, p := range c.VillagesWithoutLeader {
		if r.inVillage(p) {
			row(p, "驻村工作队长", "缺少")
		}
	}
	for _, p := range c.VillagesWithoutContact {
		if r.inVillage(p) {
			row(p, "联系村县级领导", "缺少")
		}
	}
	for _, p := range c.GroupsWithoutCadre {
		if r.inVillage(p) {
			row(p, "包社干部（第一社长）", "缺少")
		}
	}
	for _, x := range c.Stationed {
		if r.in.Village != "" {
			break
		}
		finding := fmt.Sprintf("%d/%d（%d%%），达标", x.Stationed, x.Total, x.Percent())
		if x.Low {
			finding = fmt.Sprintf("%d/%d（%d%%），低于 %d%%", x.Stationed, x.Total, x.Percent(), x.Want)
		}
		row(x.Town, "镇干部驻村包社比例", finding)
	}
	return s
}

// history is the 帮扶力量调整记录: every assignment, current and ended, with
// its dates and the reason it ended, then the households that left and the
// cadres who retired or were transferred.
func (r *report) history() sheet {
	s := sheet{name: SheetHistory,
		header: []string{"镇", "村", "社", "帮扶对象", "干部", "职责", "开始日期", "结束日期", "结束原因"},
		widths: []float64{10, 10, 8, 12, 10, 18, 12, 12, 30},
	}
	type item struct {
		key string
		row []any
	}
	var items []item
	for _, a := range r.in.Assignments {
		role, _ := domain.RoleName(a.Role)
		var cols []any
		var key string
		if a.Role.IsPairing() {
			if !r.inScope[a.Target] {
				continue
			}
			cols = r.householdCols(a.Target)[:4]
			key = r.sortKey(a.Target)
		} else {
			p := r.place(a.Target)
			if p == none || !r.inVillage(p) {
				continue
			}
			var town, village, group string
			for i, q := 0, p; q != nil && q != none && i < 8; i, q = i+1, r.place(q.Parent) {
				switch q.Level {
				case domain.Town:
					town = q.Name
				case domain.Village:
					village = q.Name
				case domain.Group:
					group = q.Name
				}
			}
			cols = []any{town, village, group, p.Name}
			key = strings.Join(strs(cols), "\x00")
		}
		key += "\x00" + day(a.Since) + a.ID.String()
		items = append(items, item{key, append(cols, r.cadreName(a.Cadre), role, day(a.Since), day(a.Until), a.EndReason)})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].key < items[j].key })
	for _, it := range items {
		s.rows = append(s.rows, it.row)
	}
	for _, h := range r.in.Households {
		if h.Exit == "" || !r.inScope[h.ID] {
			continue
		}
		zh, _ := domain.ExitName(h.Exit)
		s.rows = append(s.rows, append(r.householdCols(h.ID)[:4], "", "户"+zh, "", day(h.ExitOn), h.ExitReason))
	}
	scope := r.cadresInScope()
	for _, c := range r.in.Cadres {
		if c.Left == "" || (scope != nil && !scope[c.ID]) {
			continue
		}
		zh, _ := domain.DepartureName(c.Left)
		s.rows = append(s.rows, []any{"", "", "", "", c.Name, "干部" + zh, "", day(c.LeftOn), c.LeftReason})
	}
	return s
}
