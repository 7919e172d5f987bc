// Package report writes the office's monthly workbook for bangfud export and
// the console: the visits of a month (or any date range), the problem ledger
// (问题台账), the household plans (一户一策) with their measures, helper and
// review trail, the pairing roster (结对帮扶花名册), a per-cadre summary, and
// the three-level assistance check (三级帮扶) — households missing a level,
// cadres under quota, pairings held by a cadre of the wrong rank — as sheets
// of one XLSX file with Chinese headers.
//
// Every sheet starts with a title block (the sheet's title and period, then
// 制表单位 and 制表日期) above the header row (HeaderRow), which is frozen
// and carries an auto-filter; dates are Excel dates, counts numbers.
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
	SheetProblems   = "问题台账"
	SheetPlans      = "一户一策"
	SheetPairs      = "结对帮扶花名册"
	SheetSummary    = "干部走访汇总"
	SheetHouseholds = "缺少帮扶层级的户"
	SheetCadres     = "未达结对数的干部"
	SheetMismatches = "职级不符的结对"
	SheetCoverage   = "帮扶力量覆盖"
	SheetHistory    = "帮扶力量调整记录"
)

// Sheets lists the sheet names in the workbook's order.
var Sheets = []string{SheetVisits, SheetProblems, SheetPlans, SheetPairs, SheetSummary, SheetHouseholds, SheetCadres, SheetMismatches,
	SheetCoverage, SheetHistory, SheetPhotos}

// HeaderRow is the row (from 1) of every sheet's column headers; the rows
// above it are the title block, the data start below it.
const HeaderRow = 3

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
	Problems    []*domain.Problem
	Steps       []*domain.Step // the problems' histories
	Reviews     []*domain.Review
	Members     []*domain.Member // for whom a visit met (走访对象)
	Photos      []*domain.Photo  // the photos sheet (SheetPhotos)
	Quotas      domain.Quotas
	// Village, if not empty, limits the report to the villages of that name:
	// their households' visits, plans and gaps, and the cadres with an
	// assignment there.
	Village string
	// Scope, if not zero, limits the report to a town or city (the office's
	// own): households under it, and cadres with an assignment there.
	Scope uuid.UUID
	// From and To limit visits to [From, To), and the problem ledger to the
	// problems found before To and not resolved before From; zero is open.
	From, To time.Time
	// IDs shows whole 身份证号; otherwise all but the last four characters
	// are masked (domain.MaskID), as on the phone's screens.
	IDs bool
	// Unit is the 制表单位 of the title block; Now the 制表日期 (time.Now if zero).
	Unit string
	Now  time.Time

	// Thumb returns the thumbnail of the photo named hash, nil if there is
	// none; if Thumb is nil the photos sheet embeds no pictures.
	Thumb func(hash string) []byte
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
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	counts := Counts{}
	for i, s := range r.sheets() {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			return nil, err
		}
		if err := r.writeSheet(f, st, s); err != nil {
			return nil, fmt.Errorf("report: sheet %s: %w", s.name, err)
		}
		counts[s.name] = len(s.rows)
	}
	ps, thumbs := r.photoSheet()
	if _, err := f.NewSheet(ps.name); err != nil {
		return nil, err
	}
	if err := r.writePhotoSheet(f, st, ps, thumbs); err != nil {
		return nil, fmt.Errorf("report: sheet %s: %w", ps.name, err)
	}
	counts[ps.name] = len(ps.rows)
	if err := f.Write(w); err != nil {
		return nil, fmt.Errorf("report: write: %w", err)
	}
	return counts, nil
}

// sheet is one sheet's content.
type sheet struct {
	name   string
	title  string // the title line; the sheet's name if empty
	header []string
	widths []float64
	rows   [][]any // string, int, float64, or date (a day) and stamp (a time)
}

// date is a day written as an Excel date (yyyy-mm-dd); stamp a time written
// as an Excel date and time. Both are in China's time zone.
type (
	date  time.Time
	stamp time.Time
)

func dayOf(t time.Time) any {
	if t.IsZero() {
		return ""
	}
	return date(t)
}

func stampOf(t time.Time) any {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

// excelTime is t's wall time in China as a zone-less time, which excelize
// writes as the Excel serial of that wall time.
func excelTime(t time.Time) time.Time {
	c := t.In(China)
	return time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
}

type styles struct{ title, sub, head, date, stamp int }

func newStyles(f *excelize.File) (*styles, error) {
	var s styles
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	day, minute := "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	s.sub = mk(&excelize.Style{Font: &excelize.Font{Color: "555555"}})
	s.head = mk(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}})
	s.date = mk(&excelize.Style{CustomNumFmt: &day})
	s.stamp = mk(&excelize.Style{CustomNumFmt: &minute})
	return &s, err
}

func (r *report) writeSheet(f *excelize.File, st *styles, s sheet) error {
	sw, err := f.NewStreamWriter(s.name)
	if err != nil {
		return err
	}
	for i, w := range s.widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	top := fmt.Sprintf("A%d", HeaderRow+1)
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: HeaderRow, TopLeftCell: top, ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	title := s.title
	if title == "" {
		title = s.name
	}
	if p := r.period(); p != "" {
		title += "（" + p + "）"
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: title}}, excelize.RowOpts{Height: 22}); err != nil {
		return err
	}
	unit := r.in.Unit
	if unit == "" {
		unit = "—"
	}
	sub := fmt.Sprintf("制表单位：%s　　制表日期：%s", unit, r.now.In(China).Format("2006-01-02"))
	if err := sw.SetRow("A2", []any{excelize.Cell{StyleID: st.sub, Value: sub}}); err != nil {
		return err
	}
	head := make([]any, len(s.header))
	for i, h := range s.header {
		head[i] = excelize.Cell{StyleID: st.head, Value: h}
	}
	if err := sw.SetRow(fmt.Sprintf("A%d", HeaderRow), head); err != nil {
		return err
	}
	for i, row := range s.rows {
		out := make([]any, len(row))
		for j, v := range row {
			switch v := v.(type) {
			case date:
				out[j] = excelize.Cell{StyleID: st.date, Value: excelTime(time.Time(v)).Truncate(24 * time.Hour)}
			case stamp:
				out[j] = excelize.Cell{StyleID: st.stamp, Value: excelTime(time.Time(v))}
			default:
				out[j] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, HeaderRow+1+i)
		if err := sw.SetRow(cell, out); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	last, _ := excelize.CoordinatesToCellName(len(s.header), HeaderRow+max(len(s.rows), 1))
	return f.AutoFilter(s.name, fmt.Sprintf("A%d:%s", HeaderRow, last), nil)
}

// period names the report's date range in words, "" for all dates.
func (r *report) period() string {
	from, to := r.in.From, r.in.To
	switch {
	case from.IsZero() && to.IsZero():
		return ""
	case !from.IsZero() && !to.IsZero() && from.In(China).Day() == 1 && to.In(China).Equal(from.In(China).AddDate(0, 1, 0)):
		return from.In(China).Format("2006年1月")
	}
	s := "至今"
	if !to.IsZero() {
		s = to.Add(-time.Nanosecond).In(China).Format("2006-01-02")
	}
	if !from.IsZero() {
		return from.In(China).Format("2006-01-02") + " 至 " + s
	}
	return "截至 " + s
}

// report holds the input indexed for lookups.
type report struct {
	in         Input
	now        time.Time
	places     map[uuid.UUID]*domain.Place
	cadres     map[uuid.UUID]*domain.Cadre
	households map[uuid.UUID]*domain.Household
	inScope    map[uuid.UUID]bool // households in the report's villages and scope
	pairs      map[uuid.UUID]map[domain.Role][]*domain.Cadre
	groupCadre map[uuid.UUID][]*domain.Cadre // by group
	visits     []*domain.Visit               // in scope and range, newest first
}

func newReport(in Input) (*report, error) {
	r := &report{in: in, now: in.Now, places: map[uuid.UUID]*domain.Place{}, cadres: map[uuid.UUID]*domain.Cadre{},
		households: map[uuid.UUID]*domain.Household{}, inScope: map[uuid.UUID]bool{},
		pairs: map[uuid.UUID]map[domain.Role][]*domain.Cadre{}, groupCadre: map[uuid.UUID][]*domain.Cadre{}}
	if r.now.IsZero() {
		r.now = time.Now()
	}
	for _, p := range in.Places {
		r.places[p.ID] = p
	}
	for _, c := range in.Cadres {
		r.cadres[c.ID] = c
	}
	villages := map[uuid.UUID]bool{}
	for _, p := range in.Places {
		if p.Level == domain.Village && (in.Village == "" || p.Name == in.Village) && r.within(p.ID) {
			villages[p.ID] = true
		}
	}
	if in.Village != "" && len(villages) == 0 {
		return nil, domain.Errorf(domain.ENOTFOUND, "village", "没有名为“%[1]s”的村", "there is no village named %[1]q", in.Village)
	}
	for _, h := range in.Households {
		r.households[h.ID] = h
		if villages[r.villageOf(h).ID] {
			r.inScope[h.ID] = true
		}
	}
	for _, a := range in.Assignments {
		c := r.cadres[a.Cadre]
		if c == nil || !a.Current() || !c.Current() {
			continue // the roster and the checks count only what is current
		}
		switch {
		case a.Role.IsPairing():
			if r.pairs[a.Target] == nil {
				r.pairs[a.Target] = map[domain.Role][]*domain.Cadre{}
			}
			r.pairs[a.Target][a.Role] = append(r.pairs[a.Target][a.Role], c)
		case a.Role == domain.GroupCadre:
			r.groupCadre[a.Target] = append(r.groupCadre[a.Target], c)
		}
	}
	for _, v := range in.Visits {
		if r.inScope[v.Household] && r.inRange(v.At) {
			r.visits = append(r.visits, v)
		}
	}
	sort.Slice(r.visits, func(i, j int) bool {
		a, b := r.visits[i], r.visits[j]
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		return a.ID.String() < b.ID.String()
	})
	return r, nil
}

// within reports whether a place is under the report's scope.
func (r *report) within(id uuid.UUID) bool { return domain.Under(r.places, id, r.in.Scope) }

func (r *report) inRange(t time.Time) bool {
	return (r.in.From.IsZero() || !t.Before(r.in.From)) && (r.in.To.IsZero() || t.Before(r.in.To))
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

// cadreNames returns the names of cadres, joined by "、".
func (r *report) cadreNames(ids []uuid.UUID) string {
	var out []string
	for _, id := range ids {
		if n := r.cadreName(id); n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "、")
}

func (r *report) cadreName(id uuid.UUID) string {
	if c := r.cadres[id]; c != nil {
		return c.Name
	}
	return ""
}

func (r *report) idNumber(h *domain.Household) string {
	if r.in.IDs {
		return h.IDNumber
	}
	return domain.MaskID(h.IDNumber)
}

// HouseholdCode is the household's number in the workbook (户编号): its ID in
// the system, which stays the same across renames and moves.
func HouseholdCode(id uuid.UUID) string { return id.String() }

// householdCols are the columns that place a household.
func (r *report) householdCols(id uuid.UUID) []any {
	h := r.households[id]
	if h == nil {
		return []any{"", "", "", "", "", ""}
	}
	v := r.villageOf(h)
	st, _ := domain.StatusName(h.Status)
	nv := ""
	if h.NaturalVillage != uuid.Nil {
		nv = r.place(h.NaturalVillage).Name
	}
	return []any{r.place(v.Parent).Name, v.Name, nv, r.place(h.Group).Name, h.HeadName, st}
}

// idCols are a household's 户编号 and 身份证号.
func (r *report) idCols(id uuid.UUID) []any {
	h := r.households[id]
	if h == nil {
		return []any{"", ""}
	}
	return []any{HouseholdCode(h.ID), r.idNumber(h)}
}

// sortKey orders rows by town, village, group, head.
func (r *report) sortKey(id uuid.UUID) string {
	c := r.householdCols(id)
	return strings.Join(strs([]any{c[0], c[1], c[3], c[4]}), "\x00") + "\x00" + id.String()
}

func strs(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

var placeHeader = []string{"镇", "村", "自然村", "社", "户主", "户类型"}
var placeWidths = []float64{10, 10, 10, 8, 10, 14}
var idHeader = []string{"户编号", "身份证号"}
var idWidths = []float64{38, 21}

func cat[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func (r *report) sheets() []sheet {
	return []sheet{r.visitSheet(), r.problems(), r.plans(), r.pairRoster(), r.summary(),
		r.householdGaps(), r.cadreGaps(), r.mismatches(), r.coverage(), r.history()}
}

func (r *report) visitSheet() sheet {
	s := sheet{name: SheetVisits, title: "入户走访记录",
		header: cat([]string{"走访时间"}, placeHeader, idHeader,
			[]string{"走访干部", "同行人员", "走访对象", "走访类型", "村情户情民情", "发现问题", "政策宣传", "宣传内容", "两费收缴", "饮水安全", "后续跟进", "跟进期限"}),
		widths: cat([]float64{17}, placeWidths, idWidths, []float64{10, 16, 12, 10, 50, 36, 8, 24, 10, 10, 30, 12}),
	}
	members := map[uuid.UUID]*domain.Member{}
	for _, m := range r.in.Members {
		members[m.ID] = m
	}
	met := func(v *domain.Visit) string {
		switch m := members[v.Met]; {
		case v.Absent:
			return "未遇到"
		case m != nil && m.Relation != "":
			return m.Name + "（" + m.Relation + "）"
		case m != nil:
			return m.Name
		}
		return ""
	}
	found := map[uuid.UUID][]string{}
	for _, p := range r.in.Problems {
		if p.Visit != uuid.Nil && !p.Deleted {
			found[p.Visit] = append(found[p.Visit], p.Text)
		}
	}
	for _, v := range r.visits {
		kind, _ := domain.VisitKindName(v.Type)
		probs := found[v.ID]
		sort.Strings(probs)
		row := cat([]any{stamp(v.At)}, r.householdCols(v.Household), r.idCols(v.Household),
			[]any{r.cadreName(v.Cadre), r.cadreNames(v.Companions), met(v), kind, v.Notes, strings.Join(probs, "；"), yesNo(v.Policies), v.Policy,
				feesName(v.Fees), waterName(v.Water), v.FollowUp, dayOf(v.Due)})
		s.rows = append(s.rows, row)
	}
	return s
}

// problems is the ledger: every problem in scope found before the range
// ends and not resolved before it starts, with what its record holds of
// its history (found, escalated, resolved) and, in its last column, every
// step it took (处理经过: who, when, from → to, note), oldest first.
func (r *report) problems() sheet {
	s := sheet{name: SheetProblems, title: "问题台账",
		header: cat([]string{"发现日期"}, placeHeader, idHeader,
			[]string{"问题描述", "发现人", "当前状态", "上报人", "上报日期", "处理人", "解决日期", "处理结果", "已历天数", "处理经过"}),
		widths: cat([]float64{12}, placeWidths, idWidths, []float64{40, 10, 10, 10, 12, 10, 12, 30, 10, 50}),
	}
	steps := map[uuid.UUID][]*domain.Step{}
	for _, st := range r.in.Steps {
		if !st.Deleted {
			steps[st.Problem] = append(steps[st.Problem], st)
		}
	}
	visits := map[uuid.UUID]*domain.Visit{}
	for _, v := range r.in.Visits {
		visits[v.ID] = v
	}
	type item struct {
		p     *domain.Problem
		found time.Time
		by    uuid.UUID
	}
	var items []item
	for _, p := range r.in.Problems {
		if p.Deleted || !r.inScope[p.Household] {
			continue
		}
		it := item{p: p, found: p.Created, by: p.Author}
		if v := visits[p.Visit]; v != nil {
			it.found, it.by = v.At, v.Cadre
		}
		if !r.in.To.IsZero() && !it.found.Before(r.in.To) {
			continue
		}
		if !r.in.From.IsZero() && p.Status == domain.ProblemResolved && p.ResolvedAt.Before(r.in.From) {
			continue
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool {
		if !items[i].found.Equal(items[j].found) {
			return items[i].found.Before(items[j].found)
		}
		return items[i].p.ID.String() < items[j].p.ID.String()
	})
	for _, it := range items {
		p := it.p
		status, _ := domain.ProblemStatusName(p.Status)
		end := r.now
		if p.Status == domain.ProblemResolved && !p.ResolvedAt.IsZero() {
			end = p.ResolvedAt
		}
		days := 0
		if !it.found.IsZero() && end.After(it.found) {
			days = int(end.Sub(it.found).Hours() / 24)
		}
		var reported, resolved any = "", ""
		if !p.ReportedAt.IsZero() {
			reported = date(p.ReportedAt)
		}
		if !p.ResolvedAt.IsZero() {
			resolved = date(p.ResolvedAt)
		}
		s.rows = append(s.rows, cat([]any{dayOf(it.found)}, r.householdCols(p.Household), r.idCols(p.Household),
			[]any{p.Text, r.cadreName(it.by), status, r.cadreName(p.ReportedBy), reported,
				r.cadreName(p.ResolvedBy), resolved, p.Resolution, days, r.stepLines(steps[p.ID])}))
	}
	return s
}

// stepLines is a problem's steps as lines, oldest first:
// "2026-11-05 刘队 待处理→已上报镇：村里解决不了".
func (r *report) stepLines(steps []*domain.Step) string {
	sort.Slice(steps, func(i, j int) bool {
		if !steps[i].At.Equal(steps[j].At) {
			return steps[i].At.Before(steps[j].At)
		}
		return steps[i].ID.String() < steps[j].ID.String()
	})
	lines := make([]string, 0, len(steps))
	for _, st := range steps {
		from, _ := domain.ProblemStatusName(st.From)
		to, _ := domain.ProblemStatusName(st.To)
		line := st.At.In(China).Format("2006-01-02") + " " + r.cadreName(st.By) + " " + from + "→" + to
		if st.Note != "" {
			line += "：" + st.Note
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
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

func verdictName(v domain.Verdict) string {
	switch v {
	case domain.VerdictApprove:
		return "审核通过"
	case domain.VerdictReturn:
		return "退回修改"
	}
	return "批注"
}

// names joins cadres' names.
func names(cs []*domain.Cadre) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return strings.Join(out, "、")
}

// plans writes one row per measure, and one row for a plan without measures;
// each row names the household's helper and carries the plan's review trail.
func (r *report) plans() sheet {
	s := sheet{name: SheetPlans, title: "一户一策（脱贫攻坚计划）",
		header: cat(placeHeader, idHeader, []string{"帮扶责任人", "包社干部", "计划目标", "开始日期", "计划状态", "审核记录",
			"措施类型", "措施内容", "责任人", "目标", "完成期限", "进度"}),
		widths: cat(placeWidths, idWidths, []float64{10, 10, 30, 12, 10, 40, 12, 40, 10, 24, 12, 10}),
	}
	measures := map[uuid.UUID][]*domain.Measure{}
	for _, m := range r.in.Measures {
		if !m.Deleted {
			measures[m.Plan] = append(measures[m.Plan], m)
		}
	}
	reviews := map[uuid.UUID][]*domain.Review{}
	for _, rv := range r.in.Reviews {
		if !rv.Deleted {
			reviews[rv.Plan] = append(reviews[rv.Plan], rv)
		}
	}
	var plans []*domain.Plan
	for _, p := range r.in.Plans {
		if r.inScope[p.Household] && !p.Deleted {
			plans = append(plans, p)
		}
	}
	sort.Slice(plans, func(i, j int) bool { return r.sortKey(plans[i].Household) < r.sortKey(plans[j].Household) })
	for _, p := range plans {
		status, _ := domain.PlanStatusName(p.Status)
		rvs := reviews[p.ID]
		sort.Slice(rvs, func(i, j int) bool { return rvs[i].At.Before(rvs[j].At) })
		var trail []string
		for _, rv := range rvs {
			line := rv.At.In(China).Format("2006-01-02") + " " + r.cadreName(rv.Reviewer) + " " + verdictName(rv.Verdict)
			if rv.Comment != "" {
				line += "：" + rv.Comment
			}
			trail = append(trail, line)
		}
		var gc []*domain.Cadre
		if h := r.households[p.Household]; h != nil {
			gc = r.groupCadre[h.Group]
		}
		head := cat(r.householdCols(p.Household), r.idCols(p.Household),
			[]any{names(r.pairs[p.Household][domain.Helper]), names(gc), p.Goal, dayOf(p.Start), status, strings.Join(trail, "\n")})
		ms := measures[p.ID]
		sort.Slice(ms, func(i, j int) bool {
			if !ms[i].Due.Equal(ms[j].Due) {
				return ms[i].Due.Before(ms[j].Due)
			}
			return ms[i].ID.String() < ms[j].ID.String()
		})
		if len(ms) == 0 {
			s.rows = append(s.rows, cat(head, []any{"", "", "", "", "", ""}))
		}
		for _, m := range ms {
			kind, _ := domain.MeasureKindName(m.Type)
			prog, _ := domain.ProgressName(m.Progress)
			s.rows = append(s.rows, cat(head, []any{kind, m.Description, r.cadreName(m.Owner), m.Target, dayOf(m.Due), prog}))
		}
	}
	return s
}

// pairRoster is the 结对帮扶花名册: every household in scope with its
// county leader, section cadre, helper and group cadre and their phones.
func (r *report) pairRoster() sheet {
	s := sheet{name: SheetPairs, title: "结对帮扶花名册",
		header: cat(placeHeader, idHeader, []string{"人口", "电话",
			"县级领导", "县级领导电话", "科级干部", "科级干部电话", "帮扶责任人", "帮扶责任人电话", "包社干部", "包社干部电话"}),
		widths: cat(placeWidths, idWidths, []float64{6, 14, 10, 14, 10, 14, 10, 14, 10, 14}),
	}
	var hs []*domain.Household
	for _, h := range r.in.Households {
		if r.inScope[h.ID] && !h.Deleted {
			hs = append(hs, h)
		}
	}
	sort.Slice(hs, func(i, j int) bool { return r.sortKey(hs[i].ID) < r.sortKey(hs[j].ID) })
	who := func(cs []*domain.Cadre) (string, string) {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
		var n, p []string
		for _, c := range cs {
			n, p = append(n, c.Name), append(p, c.Phone)
		}
		return strings.Join(n, "、"), strings.Join(p, "、")
	}
	for _, h := range hs {
		row := cat(r.householdCols(h.ID), r.idCols(h.ID), []any{h.Size, h.Phone})
		for _, role := range []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper} {
			n, p := who(r.pairs[h.ID][role])
			row = append(row, n, p)
		}
		n, p := who(r.groupCadre[h.Group])
		s.rows = append(s.rows, append(row, n, p))
	}
	return s
}

// summary is one row per cadre with households in scope: how many, how many
// visited in the period (by anyone), how many not, the cadre's own visits,
// and the open problems of their households.
func (r *report) summary() sheet {
	s := sheet{name: SheetSummary, title: "干部走访汇总",
		header: []string{"干部", "职级", "单位", "电话", "负责户数", "本期已走访户数", "本期未走访户数", "本人走访次数", "未解决问题"},
		widths: []float64{10, 14, 24, 14, 10, 14, 14, 12, 12},
	}
	mine := map[uuid.UUID]map[uuid.UUID]bool{}
	add := func(c *domain.Cadre, h uuid.UUID) {
		if mine[c.ID] == nil {
			mine[c.ID] = map[uuid.UUID]bool{}
		}
		mine[c.ID][h] = true
	}
	for h, roles := range r.pairs {
		if !r.inScope[h] {
			continue
		}
		for _, cs := range roles {
			for _, c := range cs {
				add(c, h)
			}
		}
	}
	for _, h := range r.in.Households {
		if r.inScope[h.ID] {
			for _, c := range r.groupCadre[h.Group] {
				add(c, h.ID)
			}
		}
	}
	visited := map[uuid.UUID]bool{}
	own := map[uuid.UUID]int{}
	for _, v := range r.visits {
		visited[v.Household] = true
		own[v.Cadre]++
	}
	open := map[uuid.UUID]int{}
	for _, p := range r.in.Problems {
		if p.IsOpen() {
			open[p.Household]++
		}
	}
	var cadres []*domain.Cadre
	for id := range mine {
		cadres = append(cadres, r.cadres[id])
	}
	sort.Slice(cadres, func(i, j int) bool {
		if cadres[i].Name != cadres[j].Name {
			return cadres[i].Name < cadres[j].Name
		}
		return cadres[i].ID.String() < cadres[j].ID.String()
	})
	for _, c := range cadres {
		n, seen, probs := len(mine[c.ID]), 0, 0
		for h := range mine[c.ID] {
			if visited[h] {
				seen++
			}
			probs += open[h]
		}
		rank, _ := domain.RankName(c.Rank)
		s.rows = append(s.rows, []any{c.Name, rank, c.Unit, c.Phone, n, seen, n - seen, own[c.ID], probs})
	}
	return s
}

func (r *report) gaps() domain.Gaps {
	return domain.CheckAssistance(domain.Roster{Households: r.in.Households, Cadres: r.in.Cadres,
		Assignments: r.in.Assignments}, r.in.Quotas)
}

func (r *report) householdGaps() sheet {
	s := sheet{name: SheetHouseholds, title: "缺少帮扶层级的户",
		header: cat(placeHeader, idHeader, []string{"电话", "县级领导", "科级干部", "帮扶责任人", "缺少"}),
		widths: cat(placeWidths, idWidths, []float64{14, 10, 10, 10, 36}),
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
		row := cat(r.householdCols(g.Household.ID), r.idCols(g.Household.ID), []any{g.Household.Phone})
		for _, role := range []domain.Role{domain.PairCounty, domain.PairSection, domain.Helper} {
			row = append(row, names(r.pairs[g.Household.ID][role]))
		}
		s.rows = append(s.rows, append(row, strings.Join(missing, "、")))
	}
	return s
}

// cadresInScope returns the cadres with an assignment in the report's
// villages and scope; nil means every cadre (no filter).
func (r *report) cadresInScope() map[uuid.UUID]bool {
	if r.in.Village == "" && r.in.Scope == uuid.Nil {
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
			if (r.in.Village == "" || (p.Level == domain.Village && p.Name == r.in.Village)) && r.within(p.ID) {
				in[a.Cadre] = true
			}
		}
	}
	return in
}

func (r *report) cadreGaps() sheet {
	s := sheet{name: SheetCadres, title: "未达结对数的干部",
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
	s := sheet{name: SheetMismatches, title: "职级不符的结对",
		header: cat([]string{"干部", "职级", "结对类型"}, placeHeader, idHeader),
		widths: cat([]float64{10, 14, 18}, placeWidths, idWidths),
	}
	for _, m := range r.gaps().Mismatches {
		if !r.inScope[m.Assignment.Target] {
			continue
		}
		rank, _ := domain.RankName(m.Cadre.Rank)
		role, _ := domain.RoleName(m.Assignment.Role)
		s.rows = append(s.rows, cat([]any{m.Cadre.Name, rank, role}, r.householdCols(m.Assignment.Target), r.idCols(m.Assignment.Target)))
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
	s := sheet{name: SheetCoverage, title: "帮扶力量覆盖检查",
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
	s := sheet{name: SheetHistory, title: "帮扶力量调整记录",
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
		key += "\x00" + a.Since.Format("2006-01-02") + a.ID.String()
		items = append(items, item{key, append(cols, r.cadreName(a.Cadre), role, dayOf(a.Since), dayOf(a.Until), a.EndReason)})
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
		c := r.householdCols(h.ID) // 镇, 村, 自然村, 社, 户主, …
		s.rows = append(s.rows, []any{c[0], c[1], c[3], c[4], "", "户" + zh, "", dayOf(h.ExitOn), h.ExitReason})
	}
	scope := r.cadresInScope()
	for _, c := range r.in.Cadres {
		if c.Left == "" || (scope != nil && !scope[c.ID]) {
			continue
		}
		zh, _ := domain.DepartureName(c.Left)
		s.rows = append(s.rows, []any{"", "", "", "", c.Name, "干部" + zh, "", dayOf(c.LeftOn), c.LeftReason})
	}
	return s
}
