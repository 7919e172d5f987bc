package report_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/domain"
)

func meta() domain.Meta { return domain.Meta{ID: uuid.New()} }

// twoVillages is a roster of two villages with a household each; the
// household of 甲村 has a visit and a plan with two measures, that of 乙村 a
// plan without measures; a county-level cadre pairs only with 甲村's.
func twoVillages() report.Input {
	town := &domain.Place{Meta: meta(), Level: domain.Town, Name: "枹罕镇"}
	a := &domain.Place{Meta: meta(), Level: domain.Village, Name: "甲村", Parent: town.ID}
	b := &domain.Place{Meta: meta(), Level: domain.Village, Name: "乙村", Parent: town.ID}
	ga := &domain.Place{Meta: meta(), Level: domain.Group, Name: "一社", Parent: a.ID}
	gb := &domain.Place{Meta: meta(), Level: domain.Group, Name: "一社", Parent: b.ID}
	ha := &domain.Household{Meta: meta(), HeadName: "马甲", Group: ga.ID, Status: domain.Registered, Size: 3}
	hb := &domain.Household{Meta: meta(), HeadName: "马乙", Group: gb.ID, Status: domain.Registered, Size: 2}
	c := &domain.Cadre{Meta: meta(), Name: "周县", Rank: domain.RankCounty}
	companion := &domain.Cadre{Meta: meta(), Name: "马同行", Rank: domain.RankOther} // the household's helper, along on the visit
	at := time.Date(2025, 5, 1, 2, 30, 0, 0, time.UTC)
	pa := &domain.Plan{Meta: meta(), Household: ha.ID, Goal: "养鸡增收", Start: at, Status: domain.PlanSubmitted}
	pb := &domain.Plan{Meta: meta(), Household: hb.ID, Goal: "务工", Start: at, Status: domain.PlanDraft}
	return report.Input{
		Places:     []*domain.Place{town, a, b, ga, gb},
		Households: []*domain.Household{ha, hb},
		Cadres:     []*domain.Cadre{c, companion},
		Assignments: []*domain.Assignment{{Meta: meta(), Cadre: c.ID, Role: domain.PairCounty, Target: ha.ID},
			{Meta: meta(), Cadre: companion.ID, Role: domain.Helper, Target: ha.ID}},
		Visits: []*domain.Visit{{Meta: meta(), Household: ha.ID, Cadre: c.ID, At: at, Type: domain.VisitRoutine, Notes: "家中无人",
			Companions: []uuid.UUID{companion.ID}, Absent: true}},
		Plans: []*domain.Plan{pa, pb},
		Measures: []*domain.Measure{
			{Meta: meta(), Plan: pa.ID, Household: ha.ID, Type: domain.MeasureFarming, Description: "散养鸡 50 只", Due: at.AddDate(0, 3, 0), Progress: domain.InProgress},
			{Meta: meta(), Plan: pa.ID, Household: ha.ID, Type: domain.MeasureEcommerce, Description: "网上卖鸡蛋", Due: at.AddDate(0, 1, 0), Progress: domain.NotStarted},
		},
		Quotas: domain.DefaultQuotas(),
	}
}

func read(t *testing.T, b []byte) map[string][][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][][]string{}
	for i, name := range f.GetSheetList() {
		if name != report.Sheets[i] {
			t.Errorf("sheet %d is %s, want %s", i, name, report.Sheets[i])
		}
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = rows[report.HeaderRow-1:] // the header first

	}
	return out
}

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	counts, err := report.Write(&buf, twoVillages())
	if err != nil {
		t.Fatal(err)
	}
	rows := read(t, buf.Bytes())
	want := map[string]int{report.SheetVisits: 1, report.SheetProblems: 0, report.SheetPlans: 3, report.SheetPairs: 2,
		report.SheetSummary: 2, report.SheetHouseholds: 2, report.SheetCadres: 1, report.SheetMismatches: 0}
	for sheet, n := range want {
		if counts[sheet] != n || len(rows[sheet]) != n+1 {
			t.Errorf("%s: counted %d, %d rows read back; want %d data rows", sheet, counts[sheet], len(rows[sheet]), n)
		}
	}
	// Times in China's zone; measures by due date; the plan without measures
	// has a row of its own.
	if v := rows[report.SheetVisits][1]; v[0] != "2025-05-01 10:30" || v[2] != "甲村" || v[9] != "周县" || v[10] != "马同行" || v[11] != "未遇到" || v[12] != "日常走访" {
		t.Errorf("visit row = %v", v)
	}
	plans := rows[report.SheetPlans]
	if plans[1][4] != "马乙" || plans[2][15] != "网上卖鸡蛋" || plans[3][15] != "散养鸡 50 只" || plans[3][19] != "进行中" {
		t.Errorf("plan rows = %v", plans[1:])
	}
	if g := rows[report.SheetCadres][1]; g[0] != "周县" || g[5] != "1" || g[6] != "3" {
		t.Errorf("cadre gap row = %v", g)
	}
}

func TestWriteOneVillage(t *testing.T) {
	in := twoVillages()
	in.Village = "乙村"
	var buf bytes.Buffer
	counts, err := report.Write(&buf, in)
	if err != nil {
		t.Fatal(err)
	}
	// 乙村 has no visit, one plan without measures, one household with no
	// helper at all, and no cadre assigned there.
	want := report.Counts{report.SheetVisits: 0, report.SheetPlans: 1, report.SheetPairs: 1, report.SheetHouseholds: 1, report.SheetCadres: 0, report.SheetMismatches: 0}
	for sheet, n := range want {
		if counts[sheet] != n {
			t.Errorf("%s: %d rows, want %d", sheet, counts[sheet], n)
		}
	}
	if row := read(t, buf.Bytes())[report.SheetHouseholds][1]; row[4] != "马乙" || row[12] == "" {
		t.Errorf("household gap row = %v", row)
	}

	in.Village = "丙村"
	if _, err := report.Write(&buf, in); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("unknown village: %v", err)
	}
}
