package roster_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"bangfu/cmd/bangfud/internal/roster"
)

// TestMark: the bad rows of a bad roster, CSV or XLSX, come back red with
// their reasons in the last column, and the marked workbook reads back as
// the same tables (the reason column is ignored).
func TestMark(t *testing.T) {
	for _, name := range []string{"roster_bad.csv", "roster_bad.xlsx"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "testdata", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tables, bad, err := roster.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			res := roster.Plan(tables, roster.Snapshot{}, time.Now())
			bad = append(bad, res.Bad...)
			if len(bad) == 0 {
				t.Fatal("the bad roster has no bad rows")
			}
			marked, err := roster.Mark(name, data, bad)
			if err != nil {
				t.Fatal(err)
			}
			f, err := excelize.OpenReader(bytes.NewReader(marked))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, b := range bad {
				if b.Line == 0 {
					continue
				}
				sheet := b.Sheet
				if sheet == "" {
					sheet = f.GetSheetName(0)
				}
				rows, _ := f.GetRows(sheet)
				row := rows[b.Line-1]
				if last := row[len(row)-1]; !strings.Contains(last, b.Err.Zh) {
					t.Errorf("%s line %d: last cell %q lacks %q", sheet, b.Line, last, b.Err.Zh)
				}
				id, _ := f.GetCellStyle(sheet, "A"+strconv.Itoa(b.Line))
				st, _ := f.GetStyle(id)
				if st == nil || len(st.Fill.Color) == 0 || st.Fill.Color[0] != "FFC7CE" {
					t.Errorf("%s line %d is not filled red", sheet, b.Line)
				}
			}
			// The marked workbook reads back: same tables, no new bad rows
			// from the reason column.
			again, bad2, err := roster.ReadXLSX(bytes.NewReader(marked))
			if err != nil {
				t.Fatal(err)
			}
			rows := func(ts []roster.Table) (n int) {
				for _, t := range ts {
					n += len(t.Rows)
				}
				return n
			}
			if rows(again) != rows(tables) || len(bad2) > len(bad) {
				t.Errorf("read back %d rows (%d bad), want %d rows", rows(again), len(bad2), rows(tables))
			}
		})
	}
}

// TestMarkAmbiguousMove: an XLSX row with neither 户编号 nor ID number that
// names the head of a household of another 社 of the village is refused,
// and the marked workbook gives the reason beside it in both languages.
func TestMarkAmbiguousMove(t *testing.T) {
	snap := &roster.Snapshot{}
	if res := apply(t, snap, base); len(res.Bad) != 0 {
		t.Fatalf("base: %v", res.Bad)
	}
	f := excelize.NewFile()
	for i, row := range [][]any{{"户主", "社", "村", "户类型", "人口"}, {"马兴文", "二社", "王坪村", "一般户", 3}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	tables, bad, err := roster.ReadXLSX(bytes.NewReader(buf.Bytes()))
	if err != nil || len(bad) != 0 {
		t.Fatal(err, bad)
	}
	res := roster.Plan(tables, *snap, now)
	if len(res.Bad) != 1 || len(res.Records) != 0 {
		t.Fatalf("bad rows %v, records %d; want the row refused", res.Bad, len(res.Records))
	}
	marked, err := roster.Mark("roster.xlsx", buf.Bytes(), res.Bad)
	if err != nil {
		t.Fatal(err)
	}
	m, err := excelize.OpenReader(bytes.NewReader(marked))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rows, _ := m.GetRows("Sheet1")
	last := rows[1][len(rows[1])-1]
	for _, want := range []string{"一社已有户主为“马兴文”的户", "请在“原社”列填写“一社”", "ambiguous"} {
		if !strings.Contains(last, want) {
			t.Errorf("the marked row's reason %q lacks %q", last, want)
		}
	}
}
