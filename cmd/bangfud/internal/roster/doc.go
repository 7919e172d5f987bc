// Package roster reads a roster — households, cadres, and their pairings and
// assignments — from CSV and XLSX files and turns it into domain records, for
// the import subcommand of bangfud.
//
// # File layout
//
// A file holds one or more tables. Each table starts with a header row and
// runs to the next header; its kind follows from its columns (see [Help] for
// the full list, Chinese headers first, English accepted):
//
//	农户 households   户主 社 村 [镇 市 自然村 户类型 人口 耕地 电话 身份证号 地址 收入来源 备注]
//	干部 cadres       干部 职级 [电话 单位 职务]
//	结对 assignments  干部 职责 村 [社 户主 身份证号 镇 市 干部电话 职务]
//
// In an XLSX workbook every worksheet is read the same way, so the three tables
// may sit on three sheets. A title row above the first header is skipped.
//
// # Matching
//
// [Plan] resolves names against what the store already holds and what the file
// itself adds: places by name under their parent (missing towns, villages,
// natural villages and groups are created), households by ID number or by head
// and group, cadres by name (and phone when two share a name), so that
// importing the same file twice changes nothing. Every bad row is reported with
// its location and a reason in Chinese and English; the caller writes the
// records only when there are none.
package roster
