package roster

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// MarkColumn is the header of the column Mark adds to a marked workbook.
const MarkColumn = "错误原因 / error"

// Mark returns the roster file data (named name, .csv or .xlsx) as an XLSX
// workbook in which every row of bad is filled red and carries its reasons in
// a last column, MarkColumn, so that a clerk fixes the rows in Excel and
// imports the workbook again. A CSV becomes one sheet, "花名册". Problems with
// the whole file (no line) are listed above the first row.
func Mark(name string, data []byte, bad []*FileError) ([]byte, error) {
	var f *excelize.File
	if strings.HasSuffix(strings.ToLower(name), ".xlsx") || strings.HasSuffix(strings.ToLower(name), ".xlsm") {
		var err error
		if f, err = excelize.OpenReader(bytes.NewReader(data), xlsxOptions()); err != nil {
			return nil, fmt.Errorf("roster: mark: %w", err)
		}
	} else {
		var err error
		if f, err = csvWorkbook(data); err != nil {
			return nil, err
		}
	}
	defer f.Close()
	red, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFC7CE"}},
		Font: &excelize.Font{Color: "9C0006"}})
	if err != nil {
		return nil, err
	}
	type key struct {
		sheet string
		line  int
	}
	reasons := map[key][]string{}
	var whole []string
	for _, b := range bad {
		if b.Line == 0 {
			whole = append(whole, b.Err.Zh+" / "+b.Err.En)
			continue
		}
		sheet := b.Sheet
		if sheet == "" {
			sheet = f.GetSheetName(0)
		}
		k := key{sheet, b.Line}
		reasons[k] = append(reasons[k], b.Err.Zh+" / "+b.Err.En)
	}
	width := map[string]int{}
	for _, s := range f.GetSheetList() {
		rows, err := f.GetRows(s)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			width[s] = max(width[s], len(r))
		}
	}
	keys := make([]key, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].sheet != keys[j].sheet {
			return keys[i].sheet < keys[j].sheet
		}
		return keys[i].line < keys[j].line
	})
	for _, k := range keys {
		if _, err := f.GetSheetIndex(k.sheet); err != nil {
			continue
		}
		col := width[k.sheet] + 1
		last, _ := excelize.CoordinatesToCellName(col, k.line)
		first, _ := excelize.CoordinatesToCellName(1, k.line)
		if err := f.SetCellStr(k.sheet, last, strings.Join(reasons[k], "；")); err != nil {
			return nil, err
		}
		if err := f.SetCellStyle(k.sheet, first, last, red); err != nil {
			return nil, err
		}
	}
	// The error column's header: on the first header row above a bad row.
	for s, w := range width {
		for _, k := range keys {
			if k.sheet == s {
				head, _ := excelize.CoordinatesToCellName(w+1, headerAbove(f, s, k.line))
				f.SetCellStr(s, head, MarkColumn)
				f.SetColWidth(s, colName(w+1), colName(w+1), 60)
				break
			}
		}
	}
	if len(whole) > 0 {
		s := f.GetSheetName(0)
		if err := f.InsertRows(s, 1, 1); err != nil {
			return nil, err
		}
		f.SetCellStr(s, "A1", strings.Join(whole, "；"))
		f.SetCellStyle(s, "A1", "A1", red)
	}
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func colName(n int) string {
	s, _ := excelize.ColumnNumberToName(n)
	return s
}

// headerAbove returns the row of the header above line: the nearest row
// above whose cells name a table; 1 if none does.
func headerAbove(f *excelize.File, sheet string, line int) int {
	rows, _ := f.GetRows(sheet)
	for i := min(line-1, len(rows)) - 1; i >= 0; i-- {
		if _, _, _, ok := headerKeys(rows[i]); ok {
			return i + 1
		}
	}
	return 1
}

// csvWorkbook puts a CSV file into a workbook, one CSV line to one row, so
// that a row's number is the line number the import reported.
func csvWorkbook(data []byte) (*excelize.File, error) {
	b := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		u, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return nil, fmt.Errorf("roster: mark: %w", err)
		}
		b = u
	}
	f := excelize.NewFile()
	sheet := "花名册"
	f.SetSheetName("Sheet1", sheet)
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // the rows read so far; the error is reported as the file's
		}
		line, _ := cr.FieldPos(0)
		cells := make([]any, len(rec))
		for i, c := range rec {
			cells[i] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, line)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			return nil, err
		}
	}
	return f, nil
}
