package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
)

func (c *cli) importRoster(args []string) error {
	fs := c.flags("import", "-data DIR [-dry-run] FILE.csv|FILE.xlsx", `
从 CSV 或 XLSX 文件导入花名册：农户、干部、结对与职责。先检查每一行，列出每个有问题的行（行号和原因）；
只要有一行有问题，就什么也不写（全部成功或全部不写）。-dry-run 只检查，不写入。
同一文件导入两次不会重复：农户按身份证号（或户主加社）、干部按姓名（重名时加电话）匹配并更新。
Imports a roster — households, cadres, pairings and assignments — from a CSV or XLSX file.
Every row is checked first and every bad row is listed with its line number and the reason;
if any row is bad nothing is written (all or nothing). -dry-run checks and writes nothing.
Importing a file twice makes no duplicates: households match by ID number (or head and
group), cadres by name (and phone when two share a name), and are updated.`, importHelp+lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	dry := fs.Bool("dry-run", false, "只检查、列出有问题的行，不写入 / check and list bad rows, write nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("请给出一个 CSV 或 XLSX 文件", "give one CSV or XLSX file")
	}
	file := pos[0]
	if *server != "" {
		return c.importRemote(*server, file, *dry)
	}

	tables, bad, err := roster.Read(file)
	if err != nil {
		return err
	}
	if len(tables) == 0 && len(bad) == 0 {
		return domain.Errorf(domain.EINVALID, "file", "%[1]s 中没有可识别的表（表头见 bangfud import -h）",
			"%[1]s holds no table that can be read (bangfud import -h shows the headers)", file)
	}
	// A dry run against a data directory without a store checks the file
	// against an empty roster, and creates nothing.
	var db *store.DB
	var snap roster.Snapshot
	now := time.Now()
	if _, err := os.Stat(filepath.Join(*dir, dbFile)); err == nil || !*dry {
		if db, err = openStore(*dir); err != nil {
			return err
		}
		defer db.Close()
		if snap, err = snapshot(db); err != nil {
			return err
		}
		now = db.Now()
	}
	res := roster.Plan(tables, snap, now)
	res.Bad = append(bad, res.Bad...)

	for _, line := range res.Summary() {
		fmt.Fprintln(c.stdout, plain(line))
	}
	if len(res.Bad) > 0 {
		fmt.Fprintf(c.stdout, "\n有问题的行 %d 个 / %d bad rows:\n", len(res.Bad), len(res.Bad))
		for _, b := range res.Bad {
			fmt.Fprintf(c.stdout, "  %s\n", plain(fmt.Sprint(b)))
		}
		if *dry {
			return domain.Errorf(domain.EINVALID, "file", "检查未通过：%[1]d 行有问题（-dry-run，未写入）",
				"check failed: %[1]d bad rows (-dry-run, nothing written)", len(res.Bad))
		}
		return domain.Errorf(domain.EINVALID, "file", "%[1]d 行有问题，未写入任何数据；请改正后重新导入",
			"%[1]d bad rows: nothing was written; correct them and import again", len(res.Bad))
	}
	if *dry {
		if len(res.Changes) > 0 {
			fmt.Fprintf(c.stdout, "\n变化 / changes:\n")
			ops := map[string]string{"added": "+ 新增 added  ", "changed": "~ 更改 changed", "ended": "- 结束 ended  "}
			for _, ch := range res.Changes {
				fmt.Fprintf(c.stdout, "  %s  %s / %s\n", ops[ch.Op], ch.Zh, ch.En)
			}
			fmt.Fprintln(c.stdout)
		}
		fmt.Fprintf(c.stdout, "检查通过，共 %d 条记录待写入（-dry-run，未写入）\ncheck passed: %d records to write (-dry-run, nothing written)\n",
			len(res.Records), len(res.Records))
		return nil
	}
	if len(res.Records) == 0 {
		fmt.Fprintln(c.stdout, "没有需要写入的变化 / nothing to change")
		return nil
	}
	// One Put: all or nothing.
	if err := db.Put(uuid.Nil, res.Records...); err != nil {
		return fmt.Errorf("写入失败，未写入任何数据 (the import failed and wrote nothing): %w", err)
	}
	fmt.Fprintf(c.stdout, "已写入 %d 条记录 / %d records written\n", len(res.Records), len(res.Records))
	return nil
}

// snapshot reads the roster an import is matched against.
func snapshot(db *store.DB) (roster.Snapshot, error) {
	var s roster.Snapshot
	err := db.Each(domain.KindPlace, func(r domain.Record) error {
		s.Places = append(s.Places, r.(*domain.Place))
		return nil
	})
	if err == nil {
		err = db.Each(domain.KindCadre, func(r domain.Record) error {
			s.Cadres = append(s.Cadres, r.(*domain.Cadre))
			return nil
		})
	}
	if err == nil {
		err = db.Each(domain.KindHousehold, func(r domain.Record) error {
			s.Households = append(s.Households, r.(*domain.Household))
			return nil
		})
	}
	if err == nil {
		err = db.Each(domain.KindMember, func(r domain.Record) error {
			s.Members = append(s.Members, r.(*domain.Member))
			return nil
		})
	}
	if err == nil {
		err = db.Each(domain.KindAssignment, func(r domain.Record) error {
			s.Assignments = append(s.Assignments, r.(*domain.Assignment))
			return nil
		})
	}
	return s, err
}

const importHelp = `
文件格式 / file layout
======================
一个文件可含一张或多张表；每张表以表头行开始，到下一个表头行为止；空行忽略；第一个表头上方的
标题行（只有一个单元格）忽略。XLSX 的每个工作表都这样读取，三张表可以分放在三个工作表中。
CSV 可以是 UTF-8（可带 BOM）或 GBK/GB18030（Excel 中文版默认）。表的种类由表头决定：
有“职责”列的是结对表，否则有“户主”列的是农户表，否则有“职级”（或“干部”）列的是干部表。
表头用中文，英文列名（括号内）也可以；列的顺序随意；“耕地（亩）”这类带单位的表头也能识别；
“序号”列忽略。表头中不认识的列会报错。
A file holds one or more tables; each starts at a header row and runs to the next header;
blank rows are skipped, and a title row (one cell) above the first header too. Every sheet of
an XLSX workbook is read the same way, so the three tables may sit on three sheets. CSV may be
UTF-8 (with or without BOM) or GBK/GB18030 (what Chinese Excel saves). A table's kind follows
from its header: with 职责 (role) it lists assignments, else with 户主 (head) households, else
with 职级 (rank) or 干部 (cadre) cadres. Chinese headers, or the English names in brackets; any
column order; a unit in brackets ("耕地（亩）") is fine; 序号 (no) is ignored; an unknown
column is an error.

1. 农户表 / households  (* = 新户必填 / required for a new household)
   户主* (head)            户主姓名
   村* (village)           行政村；不存在时需填“镇”以新建 / created if missing, then 镇 is needed
   社* (group)             村民小组；不存在时新建 / created if missing
   镇 (town)               新建村时必填；同名村时用于区分 / for a new village, or to tell namesakes apart
   市 (city)               新建镇时必填（只有一个市时可省略）/ for a new town (optional with one city)
   自然村 (natural_village) 不存在时新建 / created if missing
   户类型* (status)         建档立卡贫困户 | 已脱贫户 | 监测户 | 一般户
                           (registered | lifted | monitored | ordinary)
   人口* (size)             家庭人口，1–50 / people, head included
   耕地 (farmland)          亩，如 6.5 / mu
   电话 (phone)             11 位手机号或座机 / mobile or landline
   身份证号 (id_number)      18 位，校验位须正确 / 18 characters, valid check digit
   地址 (address)  收入来源 (income)  备注 (notes)
   户编号 (household_code)   系统中的户编号（bangfud roster 导出时在最后一列）；有它时按它找户，
                           可改社、改户主姓名 / the household's number in the system (the last
                           column of bangfud roster's export): it finds the household, which may
                           then move to another 社 or change its head
   原社 (from_group)        没有户编号和身份证号的户迁到本行的社时，填原来的社 / for a household
                           with neither, the 社 it moves from
   已有的户（同一户编号，或同一身份证号，或同一社的同名户主）会被更新；空单元格保留原值。没有户编号和
   身份证号的新行，若本村其他社已有同名户主，无法判断是迁入还是另一户，该行报错：请填写原社、户编号或身份证号。
   An existing household (same 户编号, or same ID number, or same head in the same group) is
   updated; empty cells keep the stored value. A new row with neither 户编号 nor ID number
   whose head already heads a household in another 社 of the village is ambiguous (a move, or
   another family?) and refused: give 原社, the 户编号 or the ID number.

2. 干部表 / cadres
   干部* (cadre)            姓名 / name
   职级* (rank)             县级领导 | 科级干部 | 其他党员干部 (county | section | other)
   电话 (phone)  单位 (unit) 派出单位  职务 (title) 如“镇党委副书记”
   同名干部按电话区分 / namesakes are told apart by phone.

3. 结对与职责表 / pairings and assignments
   干部* (cadre)            须已在库中或在本文件的干部表中 / in the store or this file's cadres table
   干部电话 (cadre_phone)   同名干部时必填 / needed when two cadres share the name
   职责* (role)             结对到户 / pairing with a household:
                             县级结对 (pair_county)  科级结对 (pair_section)  帮扶责任人 (helper)
                           安排到社 / to a group:   包社干部 (group_cadre)
                           安排到村 / to a village: 第一书记 (first_secretary)  驻村工作队长 (team_leader)
                             驻村工作队员 (team_member)  驻村包社组长 (group_cadre_lead)
                             包村领导 (village_lead)  联系村县级领导 (city_contact)
                             村两委 | 支部书记 | 村委主任 | 村监委主任 (village_committee)
                           安排到镇 / to a town:     包镇领导 (town_lead)  办公室 (office; 镇或市)
   村 (village)  社 (group)  户主 (head)  身份证号 (id_number)  镇 (town)  市 (city)
                           按职责填写对象：结对填 村+户主（重名时加 社 或 身份证号），包社干部填 村+社，
                           驻村职责填 村，包镇领导填 镇。
                           The target by role: a pairing needs 村 and 户主 (plus 社 or 身份证号 for
                           namesakes), a group cadre 村 and 社, village roles 村, a town lead 镇.
   职务 (title)             如“支部书记” / e.g. 支部书记
   县级结对须由县级领导、科级结对须由科级干部承担。已有的相同结对不会重复。
   A county pairing needs a county-level cadre, a section pairing a section-level one.
   An assignment the store already holds is not added again.
   开始日期 (since)  结束日期 (ended_on)  结束原因 (end_reason)
                           填了结束日期的行结束该安排（或补录已结束的安排）。一户只有一名县级领导、
                           一名科级干部、一名帮扶责任人，一个社一名包社干部，一个村一名工作队长和第一书记：
                           导入新的人选会结束原来的安排。
                           A row with an end date ends that assignment (or records one that ended).
                           A household has one of each level, a group one group cadre, a village one
                           team leader and first secretary: importing a new one ends the old one.

4. 家庭成员表 / household members
   户主* (head)  村* (village)  社 (group)  户主身份证号 (head_id)   找到所属的户 / find the household
   成员姓名* (member)  与户主关系 (relation)  身份证号 (id_number)  性别 (gender)
   出生日期 (birth)  健康状况 (health)  文化程度 (education)  从业情况 (work)
   成员状态 (gone)          在册 | 已故 | 已迁出，加 结束日期、结束原因 / with ended_on, end_reason
   出生日期 (birth)          如 1970-03-12、1970年3月12日；只知年份时写 1970 / e.g. 1970-03-12, or
                           the year alone; 不得晚于今天，须与身份证号一致 / not after today, and as
                           the ID number says
   户编号 (household_code)  有时按它找所属的户 / finds the household when given
   成员按身份证号、否则按姓名在户内匹配 / matched by ID number, else by name in the household.

变动 / changes: 农户表可加 户状态（在册 | 已迁出 | 已并户 | 已注销）、变动日期、变动原因；干部表可加
在岗状态（在岗 | 退休 | 调离）、离岗日期、离岗原因。户离开或干部离岗时，其结对与职责随之结束。
-dry-run 逐条列出新增、更改和结束的内容。bangfud roster 导出的花名册可在 Excel 中修改后重新导入。
Households may add 户状态 (exit), 变动日期 and 变动原因; cadres 在岗状态 (left), 离岗日期, 离岗原因.
A household or cadre that leaves ends its assignments. -dry-run lists what is added, changed
and ended. The workbook bangfud roster writes can be edited in Excel and imported again.

示例文件 / example files: cmd/bangfud/testdata/roster.csv, roster.xlsx (good),
roster_bad.csv, roster_bad.xlsx (bad rows, for -dry-run).`

// consoleImport checks and applies roster files uploaded to the console.
// A town's office may import only what lies in its town: a row whose
// household or place is elsewhere refuses the whole file. The file is
// checked against db and its records saved with put: db.Put on bbolt; on
// PostgreSQL, db is the instance's mirror and put pushes into the shared
// log (pgstore.Replica.Put).
func consoleImport(db *store.DB, put func(author uuid.UUID, recs ...domain.Record) error) office.Importer {
	return func(name string, data []byte, scope uuid.UUID, apply bool) (*office.ImportResult, error) {
		var tables []roster.Table
		var bad []*roster.FileError
		var err error
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv", ".txt":
			tables, bad, err = roster.ReadCSV(bytes.NewReader(data))
		case ".xlsx", ".xlsm":
			tables, bad, err = roster.ReadXLSX(bytes.NewReader(data))
		default:
			return nil, domain.Errorf(domain.EINVALID, "file", "不支持的文件类型 %q：请使用 .csv 或 .xlsx",
				"unsupported file type %q: use .csv or .xlsx", filepath.Ext(name))
		}
		if err != nil {
			return nil, err
		}
		snap, err := snapshot(db)
		if err != nil {
			return nil, err
		}
		res := roster.Plan(tables, snap, db.Now())
		res.Bad = append(bad, res.Bad...)
		if len(tables) == 0 && len(res.Bad) == 0 {
			res.Bad = append(res.Bad, &roster.FileError{Err: domain.Errorf(domain.EINVALID, "file",
				"文件中没有可识别的表（表头见 bangfud import -h）", "the file holds no table that can be read (bangfud import -h shows the headers)")})
		}
		if outside := outsideScope(snap, res.Records, scope); outside != "" {
			res.Bad = append(res.Bad, &roster.FileError{Err: domain.Errorf(domain.EFORBIDDEN, "scope",
				"文件中有辖区以外的记录（%[1]s），本账号不能导入", "the file holds records outside your scope (%[1]s): this account cannot import it", outside)})
		}
		out := &office.ImportResult{Summary: res.Summary(), Records: len(res.Records)}
		for _, b := range res.Bad {
			out.Bad = append(out.Bad, b.Error())
		}
		if len(res.Bad) > 0 {
			if out.Marked, err = roster.Mark(name, data, res.Bad); err != nil {
				return nil, err
			}
			return out, nil
		}
		if apply && len(res.Records) > 0 {
			if err := put(uuid.Nil, res.Records...); err != nil {
				return nil, fmt.Errorf("写入失败，未写入任何数据 (the import failed and wrote nothing): %w", err)
			}
		}
		return out, nil
	}
}

// scopeSnapshot returns the part of s under scope (all of it for uuid.Nil):
// its households, their members, the assignments to them or to places under
// scope, and the cadres those name. Places stay whole: the export names a
// household's town and village from them and writes no place rows.
func scopeSnapshot(s roster.Snapshot, scope uuid.UUID) roster.Snapshot {
	if scope == uuid.Nil {
		return s
	}
	places := map[uuid.UUID]*domain.Place{}
	for _, p := range s.Places {
		places[p.ID] = p
	}
	under := func(id uuid.UUID) bool { return domain.Under(places, id, scope) }
	out := roster.Snapshot{Places: s.Places}
	kept := map[uuid.UUID]bool{}
	for _, h := range s.Households {
		if under(h.Group) {
			out.Households = append(out.Households, h)
			kept[h.ID] = true
		}
	}
	for _, m := range s.Members {
		if kept[m.Household] {
			out.Members = append(out.Members, m)
		}
	}
	named := map[uuid.UUID]bool{}
	for _, a := range s.Assignments {
		if kept[a.Target] || under(a.Target) {
			out.Assignments = append(out.Assignments, a)
			named[a.Cadre] = true
		}
	}
	for _, c := range s.Cadres {
		if named[c.ID] {
			out.Cadres = append(out.Cadres, c)
		}
	}
	return out
}

// outsideScope names the first place, household or assignment of recs that
// does not lie under scope ("" if all do; cadres belong nowhere).
func outsideScope(s roster.Snapshot, recs []domain.Record, scope uuid.UUID) string {
	if scope == uuid.Nil {
		return ""
	}
	places := map[uuid.UUID]*domain.Place{}
	households := map[uuid.UUID]*domain.Household{}
	for _, p := range s.Places {
		places[p.ID] = p
	}
	for _, h := range s.Households {
		households[h.ID] = h
	}
	for _, r := range recs {
		switch r := r.(type) {
		case *domain.Place:
			places[r.ID] = r
		case *domain.Household:
			households[r.ID] = r
		}
	}
	under := func(id uuid.UUID) bool { return domain.Under(places, id, scope) }
	for _, r := range recs {
		switch r := r.(type) {
		case *domain.Place:
			if !under(r.ID) && r.Level != domain.City {
				return r.Name
			}
		case *domain.Household:
			if !under(r.Group) {
				return r.HeadName
			}
		case *domain.Assignment:
			if h := households[r.Target]; h != nil {
				if !under(h.Group) {
					return h.HeadName
				}
			} else if !under(r.Target) {
				if p := places[r.Target]; p != nil {
					return p.Name
				}
				return r.Target.String()
			}
		}
	}
	return ""
}

// importRemote checks or applies a roster file through a running server's
// console API.
func (c *cli) importRemote(server, file string, dry bool) error {
	r, err := newRemote(server)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return domain.Errorf(domain.EINVALID, "file", "无法打开文件 %[1]s：%[2]v", "cannot open %[1]s: %[2]v", file, err)
	}
	q := url.Values{"name": {filepath.Base(file)}}
	if !dry {
		q.Set("apply", "1")
	}
	b, err := r.call(http.MethodPost, "import?"+q.Encode(), bytes.NewReader(data), nil)
	if err != nil {
		return err
	}
	var res office.ImportResult
	if err := json.Unmarshal(b, &res); err != nil {
		return err
	}
	for _, line := range res.Summary {
		fmt.Fprintln(c.stdout, line)
	}
	if len(res.Bad) > 0 {
		fmt.Fprintf(c.stdout, "\n有问题的行 %d 个 / %d bad rows:\n", len(res.Bad), len(res.Bad))
		for _, b := range res.Bad {
			fmt.Fprintf(c.stdout, "  %s\n", b)
		}
		return domain.Errorf(domain.EINVALID, "file", "%[1]d 行有问题，未写入任何数据；请改正后重新导入",
			"%[1]d bad rows: nothing was written; correct them and import again", len(res.Bad))
	}
	if dry {
		fmt.Fprintf(c.stdout, "检查通过，共 %d 条记录待写入（-dry-run，未写入）\ncheck passed: %d records to write (-dry-run, nothing written)\n", res.Records, res.Records)
		return nil
	}
	fmt.Fprintf(c.stdout, "已写入 %d 条记录 / %d records written\n", res.Records, res.Records)
	return nil
}
