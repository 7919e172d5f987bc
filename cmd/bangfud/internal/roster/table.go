package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"bangfu/domain"
)

// TableKind says what a table lists.
type TableKind int

// The table kinds, told apart by their header row.
const (
	Households  TableKind = iota + 1 // 户: has a 户主 column and no 职责 column
	Cadres                           // 干部: has a 职级 column and neither 户主 nor 职责
	Assignments                      // 结对与职责: has a 职责 column
	Members                          // 家庭成员: has a 成员姓名 column and no 职责 column
)

// Name returns the Chinese and English names of the table kind.
func (k TableKind) Name() (zh, en string) {
	switch k {
	case Households:
		return "农户", "households"
	case Cadres:
		return "干部", "cadres"
	case Assignments:
		return "结对与职责", "pairings and assignments"
	case Members:
		return "家庭成员", "household members"
	}
	return "?", "?"
}

// Table is one table of a roster file: a header row followed by data rows.
type Table struct {
	Kind   TableKind
	Sheet  string // the worksheet of an XLSX file; "" for CSV
	Line   int    // the header's line (CSV) or row (XLSX) number
	Column []string
	Rows   []Row
}

// Row is one data row with where it came from.
type Row struct {
	Sheet string            // the worksheet, "" for CSV
	Line  int               // 1-based line (CSV) or row (XLSX) number
	Cells map[string]string // canonical column key -> trimmed cell text
}

// Where returns the place of the row in its file, in Chinese and English.
func (r Row) Where() (zh, en string) {
	return where(r.Sheet, r.Line)
}

func where(sheet string, line int) (zh, en string) {
	if sheet == "" {
		return fmt.Sprintf("第 %d 行", line), fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("工作表“%s”第 %d 行", sheet, line), fmt.Sprintf("sheet %q row %d", sheet, line)
}

// Get returns the cell of column key, "" if absent.
func (r Row) Get(key string) string { return r.Cells[key] }

// column is one known column: its canonical key and the headers that name it.
type column struct {
	key     string
	zh, en  string // the header shown in help and errors
	aliases []string
}

// columns lists every header the importer understands. Matching ignores case,
// spaces and a parenthesised unit such as "（亩）".
var columns = []column{
	{"head", "户主", "head", []string{"户主", "户主姓名", "head", "head_name", "headname"}},
	{"phone", "电话", "phone", []string{"电话", "联系电话", "手机", "手机号", "phone", "mobile"}},
	{"id_number", "身份证号", "id_number", []string{"身份证号", "身份证号码", "身份证", "id_number", "idnumber", "id"}},
	// head_id is the head's ID number: the same as id_number in a households
	// or assignments table, the household's key in a members table.
	{"head_id", "户主身份证号", "head_id", []string{"户主身份证号", "户主身份证号码", "head_id"}},
	// household_code is the household's number in the system (户编号, its
	// record ID, as the roster and the monthly workbook export it): it finds
	// the household whatever its row says of head, group or ID number, so
	// that a household without an ID number can be moved or renamed.
	{"household_code", "户编号", "household_code", []string{"户编号", "户id", "household_code", "household_id"}},
	// from_group is the 社 a household moves from (原社), in the row's
	// village: with neither 户编号 nor 身份证号, the household is found by
	// its head there.
	{"from_group", "原社", "from_group", []string{"原社", "原村民小组", "迁出社", "from_group"}},
	{"city", "市", "city", []string{"市", "市州", "city"}},
	{"town", "镇", "town", []string{"镇", "乡镇", "镇街道", "镇/街道", "街道", "town"}},
	{"village", "村", "village", []string{"村", "行政村", "村名", "village"}},
	{"natural_village", "自然村", "natural_village", []string{"自然村", "natural_village", "naturalvillage"}},
	{"group", "社", "group", []string{"社", "村民小组", "小组", "组", "group"}},
	{"status", "户类型", "status", []string{"户类型", "户类别", "户属性", "status"}},
	{"farmland", "耕地", "farmland", []string{"耕地", "耕地面积", "farmland"}},
	{"size", "人口", "size", []string{"人口", "家庭人口", "人口数", "size"}},
	{"address", "地址", "address", []string{"地址", "住址", "address"}},
	{"income", "收入来源", "income", []string{"收入来源", "主要收入来源", "income"}},
	{"notes", "备注", "notes", []string{"备注", "notes", "note"}},
	{"cadre", "干部", "cadre", []string{"干部", "干部姓名", "帮扶干部", "cadre", "cadre_name"}},
	{"cadre_phone", "干部电话", "cadre_phone", []string{"干部电话", "干部联系电话", "cadre_phone"}},
	{"rank", "职级", "rank", []string{"职级", "rank"}},
	{"unit", "单位", "unit", []string{"单位", "派出单位", "工作单位", "unit"}},
	{"title", "职务", "title", []string{"职务", "title"}},
	{"role", "职责", "role", []string{"职责", "帮扶职责", "role"}},
	{"serial", "序号", "no", []string{"序号", "no", "#"}},
	// The reasons Mark writes beside bad rows; ignored, so that a marked
	// workbook, once corrected, imports as it is.
	{"mark", "错误原因", "error", []string{"错误原因", MarkColumn}},
	// Members (家庭成员).
	{"member", "成员姓名", "member", []string{"成员姓名", "家庭成员", "成员", "姓名", "member", "member_name"}},
	{"relation", "与户主关系", "relation", []string{"与户主关系", "关系", "relation"}},
	{"gender", "性别", "gender", []string{"性别", "gender", "sex"}},
	{"birth", "出生日期", "birth", []string{"出生日期", "出生年月", "出生年份", "birth", "birth_date", "birth_year"}},
	{"health", "健康状况", "health", []string{"健康状况", "health"}},
	{"education", "文化程度", "education", []string{"文化程度", "学历", "education"}},
	{"work", "从业情况", "work", []string{"从业情况", "务工情况", "就业情况", "work"}},
	{"gone", "成员状态", "gone", []string{"成员状态", "成员变动", "gone"}},
	// Endings: of an assignment, a household (户状态), a cadre (在岗状态).
	{"exit", "户状态", "exit", []string{"户状态", "农户状态", "户变动", "exit"}},
	{"left", "在岗状态", "left", []string{"在岗状态", "离岗", "干部状态", "left"}},
	{"since", "开始日期", "since", []string{"开始日期", "起始日期", "since", "start"}},
	{"ended_on", "结束日期", "ended_on", []string{"结束日期", "变动日期", "离岗日期", "迁出日期", "ended_on", "end_date", "until"}},
	{"end_reason", "结束原因", "end_reason", []string{"结束原因", "变动原因", "离岗原因", "原因", "reason", "end_reason"}},
}

var byAlias = func() map[string]string {
	m := map[string]string{}
	for _, c := range columns {
		for _, a := range c.aliases {
			m[normHeader(a)] = c.key
		}
	}
	return m
}()

// normHeader folds a header for matching: no spaces, lower case, no unit in
// brackets ("耕地（亩）" -> "耕地").
func normHeader(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	for _, open := range []string{"（", "("} {
		if i := strings.Index(s, open); i > 0 {
			s = s[:i]
		}
	}
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	return strings.TrimSuffix(strings.TrimPrefix(s, "*"), "*")
}

// headerKeys reads a row as a header. ok is true when the row names a kind of
// table: it has a 户主, 职级 or 职责 column and at least two known columns.
// unknown lists its cells that are no known column (then the header is bad).
func headerKeys(cells []string) (keys []string, kind TableKind, unknown []string, ok bool) {
	keys = make([]string, len(cells))
	seen := map[string]bool{}
	n := 0
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		k, known := byAlias[normHeader(c)]
		if !known {
			unknown = append(unknown, c)
			continue
		}
		keys[i] = k
		seen[k] = true
		n++
	}
	switch {
	case n < 2 && !(n == 1 && len(unknown) == 0):
		return nil, 0, nil, false
	case seen["role"]:
		kind = Assignments
	case seen["member"]:
		kind = Members
	case seen["head"]:
		kind = Households
	case seen["rank"] || seen["cadre"]:
		kind = Cadres
	default:
		return nil, 0, nil, false
	}
	return keys, kind, unknown, true
}

// FileError is a problem with the file as a whole or with one of its rows,
// located by sheet and line.
type FileError struct {
	Sheet string
	Line  int // 0 when the whole file is at fault
	Err   *domain.Error
}

// Error returns the location and the message in both languages.
func (e *FileError) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	zh, en := where(e.Sheet, e.Line)
	return zh + " / " + en + ": " + e.Err.Error()
}

// Unwrap returns the *domain.Error.
func (e *FileError) Unwrap() error { return e.Err }

// Read reads the tables of a roster file, by its extension: .csv or .xlsx.
// Problems with single rows (a header that names no table, an unknown column)
// come back as bad; err is for a file that cannot be read at all.
func Read(path string) (tables []Table, bad []*FileError, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, domain.Errorf(domain.EINVALID, "file", "无法打开文件 %s：%v", "cannot open %s: %v", path, err)
	}
	defer f.Close()
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".txt":
		return ReadCSV(f)
	case ".xlsx", ".xlsm":
		return ReadXLSX(f)
	}
	return nil, nil, domain.Errorf(domain.EINVALID, "file", "不支持的文件类型 %q：请使用 .csv 或 .xlsx",
		"unsupported file type %q: use .csv or .xlsx", filepath.Ext(path))
}

// ReadCSV reads the tables of a CSV file. UTF-8 (with or without a byte order
// mark) and GB18030/GBK, as saved by Excel on a Chinese Windows, are accepted.
func ReadCSV(r io.Reader) ([]Table, []*FileError, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, domain.Errorf(domain.EINVALID, "file", "无法读取文件：%v", "cannot read the file: %v", err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		u, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if err != nil {
			return nil, nil, domain.Errorf(domain.EINVALID, "file", "文件编码无法识别：请另存为 UTF-8 的 CSV",
				"the file's encoding is not recognised: save it as UTF-8 CSV")
		}
		b = u
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var rows [][]string
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			line := 0
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return nil, nil, &FileError{Line: line, Err: domain.Errorf(domain.EINVALID, "file",
				"CSV 格式错误：%v", "malformed CSV: %v", err)}
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, rec)
		lines = append(lines, line)
	}
	t, bad := split("", rows, lines)
	return t, bad, nil
}

// The limits of an XLSX roster file, so that a small upload that unpacks to
// gigabytes (a zip bomb) is refused instead of filling the server's memory:
// at most MaxUnzip bytes unpacked, at most MaxRows rows in all its sheets.
// A city's whole roster is far below both.
var (
	MaxUnzip int64 = 512 << 20
	MaxRows        = 500_000
)

// xlsxOptions opens a workbook within MaxUnzip.
func xlsxOptions() excelize.Options {
	return excelize.Options{UnzipSizeLimit: MaxUnzip, UnzipXMLSizeLimit: min(16<<20, MaxUnzip)}
}

// ReadXLSX reads the tables of every worksheet of an XLSX workbook.
func ReadXLSX(r io.Reader) ([]Table, []*FileError, error) {
	f, err := excelize.OpenReader(r, xlsxOptions())
	if err != nil {
		if strings.Contains(err.Error(), "unzip size exceeds") { // excelize has no sentinel error for it
			return nil, nil, domain.Errorf(domain.EINVALID, "file", "XLSX 文件解压后过大（超过 %d MB）：请分成几个文件导入",
				"the XLSX file is too large unpacked (over %d MB): import it in several files", MaxUnzip>>20)
		}
		return nil, nil, domain.Errorf(domain.EINVALID, "file", "无法读取 XLSX 文件：%v", "cannot read the XLSX file: %v", err)
	}
	defer f.Close()
	var tables []Table
	var bad []*FileError
	total := 0
	for _, sheet := range f.GetSheetList() {
		rows, err := sheetRows(f, sheet, &total)
		if err != nil {
			return nil, nil, err
		}
		lines := make([]int, len(rows))
		for i := range rows {
			lines[i] = i + 1
		}
		t, b := split(sheet, rows, lines)
		tables = append(tables, t...)
		bad = append(bad, b...)
	}
	return tables, bad, nil
}

// sheetRows reads the rows of sheet as GetRows does (a missing row is an
// empty one, trailing empty rows dropped), streaming, and refuses the file
// once *total rows have been read in all its sheets and more than MaxRows.
func sheetRows(f *excelize.File, sheet string, total *int) ([][]string, error) {
	it, err := f.Rows(sheet)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "file", "无法读取工作表“%s”：%v", "cannot read sheet %q: %v", sheet, err)
	}
	defer it.Close()
	var rows [][]string
	last := 0
	for it.Next() {
		if *total++; *total > MaxRows {
			return nil, domain.Errorf(domain.EINVALID, "file", "文件行数过多（超过 %d 行）：请分成几个文件导入",
				"the file has too many rows (more than %d): import it in several files", MaxRows)
		}
		row, err := it.Columns()
		if err != nil {
			return nil, domain.Errorf(domain.EINVALID, "file", "无法读取工作表“%s”：%v", "cannot read sheet %q: %v", sheet, err)
		}
		rows = append(rows, row)
		if len(row) > 0 {
			last = len(rows)
		}
	}
	if err := it.Error(); err != nil {
		return nil, domain.Errorf(domain.EINVALID, "file", "无法读取工作表“%s”：%v", "cannot read sheet %q: %v", sheet, err)
	}
	return rows[:last], nil
}

// split cuts rows into tables. A table starts at a header row (every
// non-empty cell a known column name, naming a kind of table) and runs to the
// next header row. Blank rows are skipped; a title row before the first header
// (one non-empty cell, as in a merged title across the sheet) is skipped too.
func split(sheet string, rows [][]string, lines []int) ([]Table, []*FileError) {
	var tables []Table
	var bad []*FileError
	var cur *Table
	for i, cells := range rows {
		nonEmpty := 0
		for _, c := range cells {
			if strings.TrimSpace(c) != "" {
				nonEmpty++
			}
		}
		if nonEmpty == 0 {
			continue
		}
		if keys, kind, unknown, ok := headerKeys(cells); ok {
			err := duplicateColumn(keys)
			if len(unknown) > 0 {
				err = domain.Errorf(domain.EINVALID, "header", "表头中有未知的列：%[1]s（可用的列见 bangfud import -h）",
					"the header has unknown columns: %[2]s (bangfud import -h lists the columns)",
					strings.Join(unknown, "、"), strings.Join(unknown, ", "))
			}
			if err != nil {
				// Report the header once and skip its rows: the file is
				// refused anyway, and its rows cannot be read reliably.
				bad = append(bad, &FileError{Sheet: sheet, Line: lines[i], Err: err})
				cur = &Table{}
				continue
			}
			tables = append(tables, Table{Kind: kind, Sheet: sheet, Line: lines[i], Column: keys})
			cur = &tables[len(tables)-1]
			continue
		}
		if cur == nil {
			if nonEmpty == 1 {
				continue // a title above the header
			}
			bad = append(bad, &FileError{Sheet: sheet, Line: lines[i], Err: unknownHeader(cells)})
			continue
		}
		if cur.Kind == 0 {
			continue // the rows of a bad header
		}
		row := Row{Sheet: sheet, Line: lines[i], Cells: map[string]string{}}
		for j, c := range cells {
			c = strings.TrimSpace(c)
			if j < len(cur.Column) && cur.Column[j] != "" && c != "" {
				row.Cells[cur.Column[j]] = c
			} else if c != "" && j >= len(cur.Column) {
				row.Cells["#extra"] = c
			}
		}
		cur.Rows = append(cur.Rows, row)
	}
	return tables, bad
}

func duplicateColumn(keys []string) *domain.Error {
	seen := map[string]bool{}
	for _, k := range keys {
		if k == "" {
			continue
		}
		if seen[k] {
			c := columnOf(k)
			return domain.Errorf(domain.EINVALID, k, "表头中“%[1]s”列出现了两次", "the header has the column %[1]s/%[2]s twice", c.zh, c.en)
		}
		seen[k] = true
	}
	return nil
}

func columnOf(key string) column {
	for _, c := range columns {
		if c.key == key {
			return c
		}
	}
	return column{key: key, zh: key, en: key}
}

// unknownHeader explains why a row before any header is not one.
func unknownHeader(cells []string) *domain.Error {
	var unknown []string
	for _, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if _, ok := byAlias[normHeader(c)]; !ok {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		return domain.Errorf(domain.EINVALID, "header",
			"此行不是可识别的表头（未知的列：%[1]s）；表头须含“户主”、“干部”和“职级”或“职责”列，见 bangfud import -h",
			"this row is not a recognised header (unknown columns: %[2]s); a header needs a 户主/head, 干部/cadre with 职级/rank, or 职责/role column, see bangfud import -h",
			strings.Join(unknown, "、"), strings.Join(unknown, ", "))
	}
	return domain.Errorf(domain.EINVALID, "header",
		"表头缺少“户主”、“职级”或“职责”列，无法判断是哪种表，见 bangfud import -h",
		"the header lacks a 户主/head, 职级/rank or 职责/role column, so the table's kind is unknown; see bangfud import -h")
}
