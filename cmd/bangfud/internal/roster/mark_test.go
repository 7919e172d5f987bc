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
