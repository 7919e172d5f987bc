package roster_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
)

var now = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

func readCSV(t *testing.T, text string) ([]roster.Table, []*roster.FileError) {
	t.Helper()
	tables, bad, err := roster.ReadCSV(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return tables, bad
}

func TestReadCSVTables(t *testing.T) {
	text := "\ufeff王坪村花名册\n" +
		"序号,户主,社,村,户类型,人口,耕地（亩）\n" +
		"1,马兴文,一社,王坪村,贫困户,5,6.5\n" +
		",,,,,,\n" +
		"Cadre,Rank,Phone\n" +
		"周建国,county,13800931001\n" +
		"cadre,role,village\n" +
		"周建国,team_leader,王坪村\n"
	tables, bad := readCSV(t, text)
	if len(bad) != 0 {
		t.Fatalf("bad: %v", bad)
	}
	if len(tables) != 3 {
		t.Fatalf("%d tables, want 3", len(tables))
	}
	kinds := []roster.TableKind{roster.Households, roster.Cadres, roster.Assignments}
	lines := []int{2, 5, 7}
	for i, tb := range tables {
		if tb.Kind != kinds[i] || tb.Line != lines[i] || len(tb.Rows) != 1 {
			t.Errorf("table %d: kind %v line %d rows %d", i, tb.Kind, tb.Line, len(tb.Rows))
		}
	}
	h := tables[0].Rows[0]
	if h.Line != 3 || h.Get("head") != "马兴文" || h.Get("farmland") != "6.5" || h.Get("group") != "一社" {
		t.Errorf("household row = %+v", h)
	}
	if c := tables[1].Rows[0]; c.Get("cadre") != "周建国" || c.Get("rank") != "county" || c.Line != 6 {
		t.Errorf("cadre row = %+v", c)
	}
}

func TestReadCSVGBK(t *testing.T) {
	utf := "户主,社,村,户类型,人口\n马兴文,一社,王坪村,一般户,3\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(utf))
	if err != nil {
		t.Fatal(err)
	}
	tables, bad, err := roster.ReadCSV(bytes.NewReader(gbk))
	if err != nil || len(bad) != 0 || len(tables) != 1 {
		t.Fatalf("tables %d, bad %v, err %v", len(tables), bad, err)
	}
	if got := tables[0].Rows[0].Get("head"); got != "马兴文" {
		t.Errorf("head = %q, want 马兴文", got)
	}
}

func TestReadCSVBadHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
		line             int
	}{
		{"unknown column", "户主,社,村,户口本号\n马兴文,一社,王坪村,123\n", "户口本号", 1},
		{"no table kind", "社,村\n一社,王坪村\n", "户主", 1},
		{"duplicate column", "户主,社,村,户主姓名\n马兴文,一社,王坪村,马兴文\n", "两次", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tables, bad := readCSV(t, tc.text)
			if len(bad) == 0 {
				t.Fatalf("no error; tables %+v", tables)
			}
			if bad[0].Line != tc.line || !strings.Contains(bad[0].Error(), tc.want) {
				t.Errorf("error %q at line %d, want %q at line %d", bad[0], bad[0].Line, tc.want, tc.line)
			}
			for _, tb := range tables {
				if len(tb.Rows) > 0 {
					t.Errorf("rows of a bad header were read: %+v", tb.Rows)
				}
			}
		})
	}
}

// existing is a small stored roster: one city, town and village with a group,
// one household, and two cadres who share a name.
func existing() (roster.Snapshot, map[string]uuid.UUID) {
	ids := map[string]uuid.UUID{}
	mk := func(name string) domain.Meta {
		ids[name] = uuid.New()
		return domain.Meta{ID: ids[name]}
	}
	city := &domain.Place{Meta: mk("city"), Level: domain.City, Name: "临夏市"}
	town := &domain.Place{Meta: mk("town"), Level: domain.Town, Name: "枹罕镇", Parent: city.ID}
	village := &domain.Place{Meta: mk("village"), Level: domain.Village, Name: "王坪村", Parent: town.ID}
	group := &domain.Place{Meta: mk("group"), Level: domain.Group, Name: "一社", Parent: village.ID}
	h := &domain.Household{Meta: mk("household"), HeadName: "马兴文", Group: group.ID, Status: domain.Registered, Size: 4, Farmland: 5}
	c1 := &domain.Cadre{Meta: mk("cadre1"), Name: "马强", Rank: domain.RankOther, Phone: "13800000001"}
	c2 := &domain.Cadre{Meta: mk("cadre2"), Name: "马强", Rank: domain.RankSection, Phone: "13800000002"}
	return roster.Snapshot{
		Places:     []*domain.Place{city, town, village, group},
		Households: []*domain.Household{h},
		Cadres:     []*domain.Cadre{c1, c2},
	}, ids
}

func plan(t *testing.T, text string) (*roster.Result, map[string]uuid.UUID) {
	t.Helper()
	tables, bad := readCSV(t, text)
	if len(bad) != 0 {
		t.Fatalf("bad header: %v", bad)
	}
	s, ids := existing()
	return roster.Plan(tables, s, now), ids
}

func TestPlanUpdatesAndCreates(t *testing.T) {
	res, ids := plan(t, "户主,社,村,人口,耕地,户类型\n"+
		"马兴文,一社,王坪村,5,,\n"+ // the stored household: size changes, the rest stays
		"马福,二社,王坪村,3,1.5,监测户\n") // a new household in a new group
	if len(res.Bad) != 0 {
		t.Fatalf("bad rows: %v", res.Bad)
	}
	if res.UpdatedHouseholds != 1 || res.NewHouseholds != 1 || len(res.NewPlaces) != 1 || res.NewPlaces[0].Name != "二社" {
		t.Fatalf("result: %+v", res)
	}
	var updated *domain.Household
	for _, r := range res.Records {
		if h, ok := r.(*domain.Household); ok && h.ID == ids["household"] {
			updated = h
		}
	}
	if updated == nil || updated.Size != 5 || updated.Farmland != 5 || updated.Status != domain.Registered {
		t.Errorf("updated household = %+v", updated)
	}
	// Places come before the households that use them.
	if _, ok := res.Records[0].(*domain.Place); !ok {
		t.Errorf("first record is a %s, want the new group", res.Records[0].Kind())
	}
}

func TestPlanRowErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"namesake cadre without phone", "干部,职责,村\n马强,驻村工作队员,王坪村\n", "2 名干部叫“马强”"},
		{"namesake cadre with phone", "干部,干部电话,职责,村\n马强,13800000009,驻村工作队员,王坪村\n", "找不到电话为 13800000009"},
		{"village unknown for an assignment", "干部,干部电话,职责,村\n马强,13800000001,驻村工作队员,李家村\n", "村“李家村”不存在"},
		{"new village without town", "户主,社,村,户类型,人口\n马福,一社,李家村,一般户,3\n", "请填写“镇”列"},
		{"new town without city column, one city", "户主,社,村,镇,户类型,人口\n马福,一社,李家村,新镇,一般户,3\n", ""},
		{"new household without size", "户主,社,村,户类型\n马福,一社,王坪村,一般户\n", "家庭人口"},
		{"pairing of the wrong rank", "干部,干部电话,职责,村,户主\n马强,13800000001,科级结对,王坪村,马兴文\n", "不能承担科级干部结对"},
		{"unknown role", "干部,干部电话,职责,村\n马强,13800000001,打酱油,王坪村\n", "职责“打酱油”无法识别"},
		{"ID number stored as a number", "户主,社,村,户类型,人口,身份证号\n马福,一社,王坪村,一般户,3,6.2290119650312E+17\n", "设为文本"},
		{"cell beyond the header", "户主,社,村,户类型,人口\n马福,一社,王坪村,一般户,3,多余\n", "超出表头"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := plan(t, tc.text)
			if tc.want == "" {
				if len(res.Bad) != 0 {
					t.Errorf("bad rows: %v", res.Bad)
				}
				return
			}
			if len(res.Bad) != 1 {
				t.Fatalf("bad rows %v, want one with %q", res.Bad, tc.want)
			}
			if !strings.Contains(res.Bad[0].Error(), tc.want) || res.Bad[0].Line != 2 {
				t.Errorf("got %q at line %d, want %q at line 2", res.Bad[0], res.Bad[0].Line, tc.want)
			}
			if res.Bad[0].Err.En == "" || res.Bad[0].Err.Zh == res.Bad[0].Err.En {
				t.Errorf("%q lacks an English or a Chinese message", res.Bad[0])
			}
		})
	}
}

func TestPlanSameFileReferences(t *testing.T) {
	res, ids := plan(t, "干部,干部电话,职责,村,户主\n"+
		"马强,13800000002,科级结对,王坪村,马兴文\n"+
		"新干部,,帮扶责任人,王坪村,马福\n"+
		"\n干部,职级\n新干部,其他党员干部\n"+
		"\n户主,社,村,户类型,人口\n马福,一社,王坪村,一般户,3\n")
	if len(res.Bad) != 0 {
		t.Fatalf("bad rows: %v", res.Bad)
	}
	if res.NewAssignments != 2 || res.NewCadres != 1 || res.NewHouseholds != 1 {
		t.Fatalf("result %+v", res)
	}
	// Assignments come last, after the household and cadre they name.
	last := res.Records[len(res.Records)-1].(*domain.Assignment)
	first := res.Records[len(res.Records)-2].(*domain.Assignment)
	if first.Cadre != ids["cadre2"] || first.Target != ids["household"] || first.Role != domain.PairSection {
		t.Errorf("first assignment = %+v", first)
	}
	if last.Role != domain.Helper || last.Cadre == ids["cadre1"] || last.Cadre == ids["cadre2"] {
		t.Errorf("second assignment = %+v", last)
	}
}

// TestReadXLSXBounded: a workbook with more rows than MaxRows, or that
// unpacks to more than MaxUnzip, is refused with a clear error instead of
// being read into memory whole (a 2.5 MB upload unpacking to 700 MB made a
// running server grow without bound).
func TestReadXLSXBounded(t *testing.T) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"户主", "社", "电话"})
	for i := 2; i <= 2000; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		sw.SetRow(cell, []any{"马某某", "一社", "13900000000"})
	}
	sw.Flush()
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tables, _, err := roster.ReadXLSX(bytes.NewReader(buf.Bytes()))
	if err != nil || len(tables) != 1 || len(tables[0].Rows) != 1999 {
		t.Fatalf("within the limits: %v, %d tables", err, len(tables))
	}
	defer func(rows int, unzip int64) { roster.MaxRows, roster.MaxUnzip = rows, unzip }(roster.MaxRows, roster.MaxUnzip)
	roster.MaxRows = 1000
	if _, _, err := roster.ReadXLSX(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "too many rows") {
		t.Errorf("2000 rows with MaxRows 1000: %v", err)
	}
	roster.MaxRows, roster.MaxUnzip = 1_000_000, 20<<10
	if _, _, err := roster.ReadXLSX(bytes.NewReader(buf.Bytes())); err == nil || !strings.Contains(err.Error(), "too large unpacked") {
		t.Errorf("unpacking past MaxUnzip: %v", err)
	}
}
