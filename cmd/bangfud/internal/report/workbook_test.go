package report_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/domain"
)

// wantHeaders are every sheet's columns, as an office's template expects them.
var wantHeaders = map[string]string{
	report.SheetVisits:     "走访时间 镇 村 自然村 社 户主 户类型 户编号 身份证号 走访干部 同行人员 走访对象 走访类型 村情户情民情 发现问题 政策宣传 宣传内容 两费收缴 饮水安全 后续跟进 跟进期限",
	report.SheetProblems:   "发现日期 镇 村 自然村 社 户主 户类型 户编号 身份证号 问题描述 发现人 当前状态 上报人 上报日期 处理人 解决日期 处理结果 已历天数 处理经过",
	report.SheetPlans:      "镇 村 自然村 社 户主 户类型 户编号 身份证号 帮扶责任人 包社干部 计划目标 开始日期 计划状态 审核记录 措施类型 措施内容 责任人 目标 完成期限 进度",
	report.SheetPairs:      "镇 村 自然村 社 户主 户类型 户编号 身份证号 人口 电话 县级领导 县级领导电话 科级干部 科级干部电话 帮扶责任人 帮扶责任人电话 包社干部 包社干部电话",
	report.SheetSummary:    "干部 职级 单位 电话 负责户数 本期已走访户数 本期未走访户数 本人走访次数 未解决问题",
	report.SheetHouseholds: "镇 村 自然村 社 户主 户类型 户编号 身份证号 电话 县级领导 科级干部 帮扶责任人 缺少",
	report.SheetCadres:     "干部 职级 单位 职务 电话 已结对户数 应结对户数",
	report.SheetMismatches: "干部 职级 结对类型 镇 村 自然村 社 户主 户类型 户编号 身份证号",
	report.SheetCoverage:   "镇 村 社 检查项 情况",
	report.SheetHistory:    "镇 村 社 帮扶对象 干部 职责 开始日期 结束日期 结束原因",
	report.SheetPhotos:     "添加时间 拍摄时间 镇 村 自然村 社 户主 户类型 户编号 身份证号 所属 添加人 说明 大小（KB） 尺寸 照片编号（SHA-256） 缩略图",
}

var cst = time.FixedZone("CST", 8*3600)

// month is a November in two towns: 甲村 of 枹罕镇 (in scope) with a visit in
// October and one in November that found a problem later escalated to the
// town, a problem resolved in September, a returned plan; and 丙村 of
// another town (out of scope).
type month struct {
	in                report.Input
	ha, hc            *domain.Household
	helper, leader    *domain.Cadre
	escalated, closed *domain.Problem
	nov               *domain.Visit
}

func novemberInput() month {
	var m month
	city := &domain.Place{Meta: meta(), Level: domain.City, Name: "临夏市"}
	t1 := &domain.Place{Meta: meta(), Level: domain.Town, Name: "枹罕镇", Parent: city.ID}
	t2 := &domain.Place{Meta: meta(), Level: domain.Town, Name: "东区街道", Parent: city.ID}
	va := &domain.Place{Meta: meta(), Level: domain.Village, Name: "甲村", Parent: t1.ID}
	vc := &domain.Place{Meta: meta(), Level: domain.Village, Name: "丙村", Parent: t2.ID}
	nv := &domain.Place{Meta: meta(), Level: domain.NaturalVillage, Name: "阳洼", Parent: va.ID}
	ga := &domain.Place{Meta: meta(), Level: domain.Group, Name: "一社", Parent: va.ID}
	gc := &domain.Place{Meta: meta(), Level: domain.Group, Name: "一社", Parent: vc.ID}
	id := "62290119800101123" + string(domain.IDCheckDigit("62290119800101123"))
	m.ha = &domain.Household{Meta: meta(), HeadName: "马甲", Group: ga.ID, NaturalVillage: nv.ID, IDNumber: id, Phone: "13900000000", Status: domain.Registered, Size: 4}
	m.hc = &domain.Household{Meta: meta(), HeadName: "马丙", Group: gc.ID, Status: domain.Registered, Size: 2}
	m.helper = &domain.Cadre{Meta: meta(), Name: "周帮", Rank: domain.RankOther, Phone: "13800000001"}
	m.leader = &domain.Cadre{Meta: meta(), Name: "刘队", Rank: domain.RankSection, Phone: "13800000002"}
	oct := time.Date(2026, 10, 20, 9, 0, 0, 0, cst)
	m.nov = &domain.Visit{Meta: meta(), Household: m.ha.ID, Cadre: m.helper.ID, At: time.Date(2026, 11, 3, 15, 45, 0, 0, cst), Type: domain.VisitRoutine, Notes: "屋顶漏雨"}
	old := &domain.Visit{Meta: meta(), Household: m.ha.ID, Cadre: m.helper.ID, At: oct, Type: domain.VisitRoutine, Notes: "十月"}
	other := &domain.Visit{Meta: meta(), Household: m.hc.ID, Cadre: m.helper.ID, At: m.nov.At, Type: domain.VisitRoutine, Notes: "外镇"}
	m.escalated = &domain.Problem{Meta: domain.Meta{ID: uuid.New(), Created: m.nov.At}, Household: m.ha.ID, Visit: m.nov.ID, Text: "屋顶漏雨需维修",
		Status: domain.ProblemTown, ReportedBy: m.leader.ID, ReportedAt: time.Date(2026, 11, 5, 10, 0, 0, 0, cst)}
	m.closed = &domain.Problem{Meta: domain.Meta{ID: uuid.New(), Created: time.Date(2026, 9, 1, 0, 0, 0, 0, cst)}, Household: m.ha.ID, Text: "九月的问题",
		Status: domain.ProblemResolved, ResolvedBy: m.leader.ID, ResolvedAt: time.Date(2026, 9, 9, 0, 0, 0, 0, cst), Resolution: "已修"}
	plan := &domain.Plan{Meta: meta(), Household: m.ha.ID, Goal: "养鸡增收", Start: oct, Status: domain.PlanReturned}
	review := &domain.Review{Meta: meta(), Plan: plan.ID, Household: m.ha.ID, Reviewer: m.leader.ID, Verdict: domain.VerdictReturn, Comment: "补充销路", At: m.nov.At}
	m.in = report.Input{
		Places:     []*domain.Place{city, t1, t2, va, vc, nv, ga, gc},
		Households: []*domain.Household{m.ha, m.hc},
		Cadres:     []*domain.Cadre{m.helper, m.leader},
		Assignments: []*domain.Assignment{
			{Meta: meta(), Cadre: m.helper.ID, Role: domain.Helper, Target: m.ha.ID},
			{Meta: meta(), Cadre: m.helper.ID, Role: domain.Helper, Target: m.hc.ID},
			{Meta: meta(), Cadre: m.leader.ID, Role: domain.GroupCadre, Target: ga.ID},
		},
		Visits:   []*domain.Visit{m.nov, old, other},
		Plans:    []*domain.Plan{plan},
		Reviews:  []*domain.Review{review},
		Problems: []*domain.Problem{m.escalated, m.closed},
		Steps: []*domain.Step{
			{Meta: domain.Meta{ID: uuid.New()}, Problem: m.escalated.ID, Household: m.ha.ID, From: domain.ProblemVillage,
				To: domain.ProblemTown, By: m.leader.ID, At: time.Date(2026, 11, 5, 10, 0, 0, 0, cst), Note: "村里解决不了"},
			{Meta: domain.Meta{ID: uuid.New()}, Problem: m.escalated.ID, Household: m.ha.ID, From: domain.ProblemOpen,
				To: domain.ProblemVillage, By: m.helper.ID, At: time.Date(2026, 11, 4, 9, 0, 0, 0, cst)},
		},
		Quotas: domain.DefaultQuotas(),
		Scope:  t1.ID,
		From:   time.Date(2026, 11, 1, 0, 0, 0, 0, cst),
		To:     time.Date(2026, 12, 1, 0, 0, 0, 0, cst),
		Unit:   "枹罕镇办公室",
		Now:    time.Date(2026, 11, 30, 18, 0, 0, 0, cst),
	}
	return m
}

// cell reads one cell: its formatted text, its raw value and its number format.
type cellInfo struct {
	text, raw, format string
}

func cellAt(t *testing.T, f *excelize.File, sheet string, col, row int) cellInfo {
	t.Helper()
	ref, _ := excelize.CoordinatesToCellName(col, row)
	var c cellInfo
	c.text, _ = f.GetCellValue(sheet, ref)
	c.raw, _ = f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if id, err := f.GetCellStyle(sheet, ref); err == nil && id != 0 {
		if st, err := f.GetStyle(id); err == nil && st.CustomNumFmt != nil {
			c.format = *st.CustomNumFmt
		}
	}
	return c
}

// isDate reports whether c is an Excel date with the given format at day.
func isDate(c cellInfo, format string, wall time.Time) bool {
	serial, err := strconv.ParseFloat(c.raw, 64)
	if err != nil || c.format != format {
		return false
	}
	got, err := excelize.ExcelDateToTime(serial, false)
	return err == nil && got.Format("2006-01-02 15:04") == wall.Format("2006-01-02 15:04")
}

func TestWorkbookColumnsTypesAndLedger(t *testing.T) {
	m := novemberInput()
	var buf bytes.Buffer
	counts, err := report.Write(&buf, m.in)
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), " "); got != strings.Join(report.Sheets, " ") {
		t.Fatalf("sheets %s", got)
	}
	filters := map[string]bool{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm._FilterDatabase" {
			filters[d.Scope] = true
		}
	}
	h := report.HeaderRow
	for _, s := range report.Sheets {
		rows, _ := f.GetRows(s)
		if got := strings.Join(rows[h-1], " "); got != wantHeaders[s] {
			t.Errorf("%s header:\n got %s\nwant %s", s, got, wantHeaders[s])
		}
		if title := rows[0][0]; !strings.Contains(title, "2026年11月") {
			t.Errorf("%s title %q lacks the month", s, title)
		}
		if sub := rows[1][0]; !strings.Contains(sub, "制表单位：枹罕镇办公室") || !strings.Contains(sub, "制表日期：2026-11-30") {
			t.Errorf("%s title block %q", s, sub)
		}
		panes, err := f.GetPanes(s)
		if err != nil || !panes.Freeze || panes.YSplit != h {
			t.Errorf("%s: panes %+v %v, want the header frozen", s, panes, err)
		}
		if !filters[s] {
			t.Errorf("%s has no auto-filter", s)
		}
		if counts[s] != len(rows)-h {
			t.Errorf("%s: counted %d, %d rows", s, counts[s], len(rows)-h)
		}
	}

	// Visits: November's only, of this town; a real date and time; the ID
	// number masked; the problem it found named.
	if counts[report.SheetVisits] != 1 {
		t.Fatalf("visits %d, want November's one in 枹罕镇", counts[report.SheetVisits])
	}
	v := report.SheetVisits
	if c := cellAt(t, f, v, 1, h+1); !isDate(c, "yyyy-mm-dd hh:mm", time.Date(2026, 11, 3, 15, 45, 0, 0, time.UTC)) {
		t.Errorf("visit time cell %+v is not the date 2026-11-03 15:45", c)
	}
	row, _ := f.GetRows(v)
	got := row[h]
	if got[3] != "阳洼" || got[7] != m.ha.ID.String() || got[8] != "**************"+m.ha.IDNumber[14:] || got[14] != "屋顶漏雨需维修" {
		t.Errorf("visit row %q", got)
	}

	// The ledger: the escalated problem, with who escalated it and when (a
	// date); September's resolved one is not November's.
	p := report.SheetProblems
	rows, _ := f.GetRows(p)
	if len(rows) != h+1 {
		t.Fatalf("ledger rows %q", rows[h:])
	}
	lr := rows[h]
	if lr[9] != "屋顶漏雨需维修" || lr[10] != "周帮" || lr[11] != "已上报镇" || lr[12] != "刘队" || lr[17] != "27" {
		t.Errorf("ledger row %q", lr)
	}
	if c := cellAt(t, f, p, 14, h+1); !isDate(c, "yyyy-mm-dd", time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("上报日期 %+v is not the date 2026-11-05", c)
	}
	if c := cellAt(t, f, p, 18, h+1); c.raw != "27" || c.format != "" {
		t.Errorf("已历天数 %+v is not a number", c)
	}
	// Its whole history, oldest step first, in the last column.
	if want := "2026-11-04 周帮 待处理→已上报村\n2026-11-05 刘队 已上报村→已上报镇：村里解决不了"; lr[18] != want {
		t.Errorf("处理经过 %q, want %q", lr[18], want)
	}

	// The plan names the helper and the review trail.
	rows, _ = f.GetRows(report.SheetPlans)
	if pr := rows[h]; pr[8] != "周帮" || pr[9] != "刘队" || !strings.Contains(pr[13], "刘队 退回修改：补充销路") {
		t.Errorf("plan row %q", pr)
	}
	if c := cellAt(t, f, report.SheetPlans, 12, h+1); !isDate(c, "yyyy-mm-dd", time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("plan start %+v is not a date", c)
	}
	// The pairing roster holds this town's household only, with phones.
	rows, _ = f.GetRows(report.SheetPairs)
	if len(rows) != h+1 || rows[h][4] != "马甲" || rows[h][14] != "周帮" || rows[h][15] != "13800000001" || rows[h][16] != "刘队" {
		t.Errorf("pairing roster %q", rows[h:])
	}
	// The summary: 周帮 has one household here, visited; 刘队 one, with the open problem.
	rows, _ = f.GetRows(report.SheetSummary)
	sum := map[string]string{}
	for _, r := range rows[h:] {
		sum[r[0]] = strings.Join(r[4:], ",")
	}
	if sum["周帮"] != "1,1,0,1,1" || sum["刘队"] != "1,1,0,0,1" {
		t.Errorf("summary %v", sum)
	}
	if c := cellAt(t, f, report.SheetSummary, 5, h+1); c.raw != "1" {
		t.Errorf("a count %+v is not a number", c)
	}

	// The whole ID number where the account may see it.
	m.in.IDs = true
	buf.Reset()
	if _, err := report.Write(&buf, m.in); err != nil {
		t.Fatal(err)
	}
	f2, _ := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	defer f2.Close()
	if c := cellAt(t, f2, report.SheetPairs, 8, h+1); c.text != m.ha.IDNumber {
		t.Errorf("ID number %q, want it whole", c.text)
	}
}
