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
//	农户 households   户主 社 村 [镇 市 自然村 户类型 人口 耕地 电话 身份证号 地址 收入来源 备注 户状态 变动日期 变动原因 户编号 原社]
//	家庭成员 members  户主 村 成员姓名 [社 户主身份证号 与户主关系 身份证号 性别 出生日期 健康状况 文化程度 从业情况 成员状态 结束日期 结束原因 户编号]
//	干部 cadres       干部 职级 [电话 单位 职务 在岗状态 离岗日期 离岗原因]
//	结对 assignments  干部 职责 村 [社 户主 身份证号 镇 市 干部电话 职务 开始日期 结束日期 结束原因]
//
// # Change
//
// A roster changes every year, and a file can say so: 户状态 (已迁出, 已并户,
// 已注销) ends a household and its pairings; 在岗状态 (退休, 调离) a cadre and
// every duty they hold; 成员状态 (已故, 已迁出) a member; an assignment row
// with 结束日期 ends that assignment (or records one that ended). A new holder
// of a role a household or place has one of (domain.Role.Single: each of the
// three levels, the group cadre, the team leader...) ends the previous
// holder's assignment. [Result.Changes] lists what is added, changed and
// ended, for -dry-run. [Export] writes a roster that reads back unchanged.
//
// In an XLSX workbook every worksheet is read the same way, so the three tables
// may sit on three sheets. A title row above the first header is skipped.
//
// # Matching
//
// [Plan] resolves names against what the store already holds and what the file
// itself adds: places by name under their parent (missing towns, villages,
// natural villages and groups are created), households by 户编号 (the record
// ID the export writes), by ID number, by head in the 原社 they move from, or
// by head and group — a new row without 户编号 or ID number whose head heads a
// household in another group of the village is refused as ambiguous —, cadres by name (and phone when two share a name), so that
// importing the same file twice changes nothing. Every bad row is reported with
// its location and a reason in Chinese and English; the caller writes the
// records only when there are none.
package roster
