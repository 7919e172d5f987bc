package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store/query"
)

// cellOf finds the cell of the first row of sheet whose column col holds
// value, and returns the cell name of column want in that row.
func cellOf(t *testing.T, f *excelize.File, sheet, col, value, want string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	ci, wi := slices.Index(rows[0], col), slices.Index(rows[0], want)
	if ci < 0 || wi < 0 {
		t.Fatalf("sheet %s has no column %s or %s: %v", sheet, col, want, rows[0])
	}
	for r, row := range rows[1:] {
		if ci < len(row) && row[ci] == value {
			cell, _ := excelize.CoordinatesToCellName(wi+1, r+2)
			return cell
		}
	}
	t.Fatalf("sheet %s has no row with %s = %s", sheet, col, value)
	return ""
}

// TestRosterRoundTrip exports the demo's roster, imports it unchanged (a
// no-op), then edits it as an office would in Excel — a new helper for a
// household, a member who died, a household moved out, a cadre retired, a
// new member — and checks the dry run's diff, the import, the history, and
// that importing the same file again changes nothing.
func TestRosterRoundTrip(t *testing.T) {
	dir := demoDir(t)
	out := filepath.Join(t.TempDir(), "花名册.xlsx")
	r := must(t, "roster", "-data", dir, "-o", out)
	if !strings.Contains(r.stdout, "家庭成员") {
		t.Errorf("roster output: %s", r.stdout)
	}
	r = must(t, "import", "-data", dir, out)
	if !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("the exported roster imported unchanged is not a no-op:\n%s", r.stdout)
	}

	// The household to reassign and its helpers, read from the store.
	d := demo.Village(1, time.Now())
	db := openDB(t, dir)
	var target *domain.Household
	var oldHelper, newHelper *domain.Cadre
	card, err := query.Card(db, d.Households[0].ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	target = card.Household
	group := card.Group
	for _, h := range card.Helpers {
		if h.Role == domain.Helper {
			oldHelper = h.Cadre
		}
	}
	cadres, err := query.Cadres(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cadres {
		if c.Rank == domain.RankOther && c.ID != oldHelper.ID && strings.Contains(c.Unit, "市") && newHelper == nil {
			if as, _ := query.Assignments(db, c.ID); len(as) > 0 && as[0].Role == domain.Helper {
				newHelper = c
			}
		}
	}
	moved := d.Households[1]
	retired := d.TeamLeader
	if oldHelper == nil || newHelper == nil {
		t.Fatalf("no helper to replace (%v) or to take over (%v)", oldHelper, newHelper)
	}
	members := card.Members
	db.Close()

	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// A new helper for the household: the row of the old pairing names the
	// new cadre (the office edits the name, phone and start date).
	rows, _ := f.GetRows("结对与职责")
	for i, row := range rows {
		if i > 0 && row[0] == oldHelper.Name && row[2] == "帮扶责任人" && slices.Contains(row, target.IDNumber) {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			must2(t, f.SetSheetRow("结对与职责", cell, &[]any{newHelper.Name, newHelper.Phone}))
		}
	}
	// The last member of the household died.
	dead := members[len(members)-1]
	must2(t, f.SetCellValue("家庭成员", cellOf(t, f, "家庭成员", "身份证号", dead.IDNumber, "成员状态"), "已故"))
	must2(t, f.SetCellValue("家庭成员", cellOf(t, f, "家庭成员", "身份证号", dead.IDNumber, "结束日期"), "2025-02-03"))
	// A birth: a new row.
	n := len(mustRows(t, f, "家庭成员")) + 1
	cell, _ := excelize.CoordinatesToCellName(1, n)
	grp, vil := group.Name, d.Village.Name
	must2(t, f.SetSheetRow("家庭成员", cell, &[]any{"枹罕镇", vil, grp, target.HeadName, target.IDNumber, "新生儿", "孙子", "", "男", "2025"}))
	// A household moved out.
	must2(t, f.SetCellValue("农户", cellOf(t, f, "农户", "身份证号", moved.IDNumber, "户状态"), "已迁出"))
	must2(t, f.SetCellValue("农户", cellOf(t, f, "农户", "身份证号", moved.IDNumber, "变动日期"), "2025-03-01"))
	must2(t, f.SetCellValue("农户", cellOf(t, f, "农户", "身份证号", moved.IDNumber, "变动原因"), "全家迁往兰州"))
	// A cadre retired.
	must2(t, f.SetCellValue("干部", cellOf(t, f, "干部", "干部", retired.Name, "在岗状态"), "退休"))
	must2(t, f.SetCellValue("干部", cellOf(t, f, "干部", "干部", retired.Name, "离岗日期"), "2025-03-31"))
	must2(t, f.Save())
	f.Close()

	r = must(t, "import", "-data", dir, "-dry-run", out)
	for _, want := range []string{
		"+ 新增 added    新增 " + newHelper.Name + " 帮扶责任人（" + target.HeadName + "）",
		"- 结束 ended    结束 " + oldHelper.Name + " 帮扶责任人（" + target.HeadName + "）：帮扶力量调整：" + newHelper.Name + "接替",
		"~ 更改 changed  更改家庭成员 " + dead.Name,
		"+ 新增 added    新增家庭成员 新生儿",
		"~ 更改 changed  更改农户 " + moved.HeadName + "：exit、exit_on、exit_reason",
		"~ 更改 changed  更改干部 " + retired.Name + "：left、left_on",
		"结束 " + retired.Name + " 驻村工作队长",
		"结束 " + retired.Name + " 第一书记",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the dry run's diff lacks %q:\n%s", want, r.stdout)
		}
	}
	must(t, "import", "-data", dir, out)

	db = openDB(t, dir)
	card, err = query.Card(db, target.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var helpers []string
	for _, h := range card.Helpers {
		if h.Role == domain.Helper {
			helpers = append(helpers, h.Cadre.Name)
		}
	}
	if !slices.Equal(helpers, []string{newHelper.Name}) {
		t.Errorf("helpers after the import %v, want only %s", helpers, newHelper.Name)
	}
	if len(card.Members) != len(members) || len(card.FormerMembers) != 1 || card.FormerMembers[0].Name != dead.Name {
		t.Errorf("members %d (want %d), former %v (want %s)", len(card.Members), len(members), card.FormerMembers, dead.Name)
	}
	rows2, err := query.VillageHouseholds(db, d.Village.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows2 {
		if row.ID == moved.ID {
			t.Errorf("the household that moved out is still listed")
		}
	}
	if as, _ := query.Assignments(db, retired.ID); len(as) != 0 {
		t.Errorf("the retired cadre keeps %d assignments", len(as))
	}
	h, err := query.History(db, uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	var endedHelper bool
	for _, a := range h.Adjustments {
		if a.Assignment.Cadre == oldHelper.ID && a.Assignment.Target == target.ID && !a.Assignment.Until.IsZero() {
			endedHelper = true
		}
	}
	if !endedHelper || len(h.Households) != 1 || len(h.Cadres) != 1 {
		t.Errorf("history: old helper's pairing ended %v, %d households left, %d cadres left", endedHelper, len(h.Households), len(h.Cadres))
	}
	db.Close()

	r = must(t, "import", "-data", dir, out)
	if !strings.Contains(r.stdout, "nothing to change") {
		t.Errorf("the same file imported twice changed something:\n%s", r.stdout)
	}
	// And the history command lists the adjustment.
	r = must(t, "history", "-data", dir, "-ended")
	if !strings.Contains(r.stdout, oldHelper.Name) || !strings.Contains(r.stdout, newHelper.Name+"接替") || !strings.Contains(r.stdout, "全家迁往兰州") {
		t.Errorf("history -ended:\n%s", r.stdout)
	}
}

func must2(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustRows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRulesCommand: the office raises the town's county quota; the village
// inherits it (the stats count more cadres under quota); the village's own
// rules then win; a role that leads nothing cannot approve plans.
func TestRulesCommand(t *testing.T) {
	dir := demoDir(t)
	before := readStats(t, dir).Gaps.Cadres
	r := must(t, "rules", "-data", dir, "-town", "枹罕镇", "-quotas", "99/2/1", "-overdue", "45", "-backdate", "10", "-correct", "5", "-photos", "4")
	if !strings.Contains(r.stdout, "photos a record may carry: 4 张") {
		t.Errorf("rules -photos output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "99/2/1") || !strings.Contains(r.stdout, "45 天") || !strings.Contains(r.stdout, "back-dated up to: 10 天") ||
		!strings.Contains(r.stdout, "corrected by their cadre for: 5 天") {
		t.Errorf("rules -town output:\n%s", r.stdout)
	}
	r = must(t, "rules", "-data", dir, "-village", "王坪村")
	if !strings.Contains(r.stdout, "inherited") || !strings.Contains(r.stdout, "99/2/1") {
		t.Errorf("the village does not inherit the town's rules:\n%s", r.stdout)
	}
	db := openDB(t, dir)
	d := demo.Village(1, time.Now())
	g, err := query.Assistance(db, d.Village.ID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	county := 0
	for _, c := range g.Cadres {
		if c.Want == 99 {
			county++
		}
	}
	if county == 0 {
		t.Errorf("no county-level cadre is held to the town's quota of 99 (%d cadre gaps before)", before)
	}
	must(t, "rules", "-data", dir, "-village", "王坪村", "-quotas", "1/1/1")
	db = openDB(t, dir)
	g, err = query.Assistance(db, d.Village.ID)
	approvers, _ := db.PlanApprovers(d.Village.ID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cadres {
		if c.Want != 1 {
			t.Errorf("%s held to %d under the village's own 1/1/1", c.Cadre.Name, c.Want)
		}
	}
	if !slices.Equal(approvers, domain.DefaultApprovers()) {
		t.Errorf("approvers %v", approvers)
	}
	if r := run(t, "rules", "-data", dir, "-village", "王坪村", "-approvers", "帮扶责任人"); r.code != 1 || !strings.Contains(r.stderr, "cannot approve") {
		t.Errorf("a helper as approver: %s", r)
	}
	if r := run(t, "rules", "-data", dir, "-village", "王坪村", "-correct", "45"); r.code != 1 || !strings.Contains(r.stderr, "between 0 and 30") {
		t.Errorf("a correction window of 45 days: %s", r)
	}
}

// TestStatsCoverage: stats names a 社 whose group cadre's assignment an
// import ended, and the town's share of cadres stationed in villages.
func TestStatsCoverage(t *testing.T) {
	dir := demoDir(t)
	d := demo.Village(1, time.Now())
	db := openDB(t, dir)
	as, err := query.Assignments(db, d.GroupCadre.ID)
	var group *domain.Place
	for _, a := range as {
		if a.Role == domain.GroupCadre {
			rec, _ := db.Get(domain.KindPlace, a.Target)
			group = rec.(*domain.Place)
		}
	}
	db.Close()
	if err != nil || group == nil {
		t.Fatalf("the demo's group cadre has no group: %v", err)
	}
	csv := filepath.Join(t.TempDir(), "end.csv")
	text := "干部,干部电话,职责,村,社,结束日期,结束原因\n" +
		d.GroupCadre.Name + "," + d.GroupCadre.Phone + ",包社干部," + d.Village.Name + "," + group.Name + "," +
		time.Now().Format("2006-01-02") + ",调任镇党政办\n"
	must2(t, os.WriteFile(csv, []byte(text), 0o600))
	r := must(t, "import", "-data", dir, "-dry-run", csv)
	if !strings.Contains(r.stdout, "- 结束 ended    结束 "+d.GroupCadre.Name+" 包社干部（"+group.Name+"）：调任镇党政办") {
		t.Errorf("the dry run does not show the ending:\n%s", r.stdout)
	}
	must(t, "import", "-data", dir, csv)
	r = must(t, "stats", "-data", dir, "-json")
	var s struct {
		Coverage struct {
			Groups    []string `json:"groups_without_group_cadre"`
			Stationed []struct {
				Town             string `json:"town"`
				Stationed, Total int
				Low              bool
			} `json:"stationed"`
		} `json:"coverage"`
	}
	must2(t, json.Unmarshal([]byte(r.stdout), &s))
	if !slices.Equal(s.Coverage.Groups, []string{group.Name}) {
		t.Errorf("groups without a group cadre %v, want %s", s.Coverage.Groups, group.Name)
	}
	if len(s.Coverage.Stationed) != 1 || s.Coverage.Stationed[0].Town != "枹罕镇" || s.Coverage.Stationed[0].Total == 0 {
		t.Errorf("stationed %+v", s.Coverage.Stationed)
	}
	r = must(t, "stats", "-data", dir)
	if !strings.Contains(r.stdout, "缺少包社干部的社") || !strings.Contains(r.stdout, "1: "+group.Name) {
		t.Errorf("stats does not name the group:\n%s", r.stdout)
	}
}

// TestRosterMoveWithoutIDNumber: a household with no ID number (nor its
// members) is moved to another 社 by editing the 社 of its row in the
// exported roster; its 户编号 finds it (and its members, whose rows still
// name the old 社), the dry run shows the move, the import moves it instead
// of adding a second household, and the same file again changes nothing. A
// new row naming the same head in the old 社, with neither 户编号 nor ID
// number, is refused as ambiguous and nothing is written.
func TestRosterMoveWithoutIDNumber(t *testing.T) {
	dir := demoDir(t)
	d := demo.Village(1, time.Now())
	db := openDB(t, dir)
	groups, err := query.Places(db, domain.Group, d.Village.ID)
	if err != nil || len(groups) < 2 {
		t.Fatalf("groups of the demo village: %v %v", groups, err)
	}
	from, to := groups[0], groups[1]
	h := &domain.Household{HeadName: "冶尕娃", Group: from.ID, Status: domain.Lifted, Size: 2, Address: from.Name + "上庄"}
	if err := db.Put(d.TeamLeader.ID, h); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"冶尕娃", "马麦燕"} {
		if err := db.Put(d.TeamLeader.ID, &domain.Member{Household: h.ID, Name: name, Relation: "户主"}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := query.VillageHouseholds(db, d.Village.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	out := filepath.Join(t.TempDir(), "花名册.xlsx")
	must(t, "roster", "-data", dir, "-o", out)
	if r := must(t, "import", "-data", dir, out); !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("the exported roster imported unchanged is not a no-op:\n%s", r.stdout)
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	must2(t, f.SetCellValue("农户", cellOf(t, f, "农户", "户编号", h.ID.String(), "社"), to.Name))
	// And a full birth date for a member.
	must2(t, f.SetCellValue("家庭成员", cellOf(t, f, "家庭成员", "成员姓名", "马麦燕", "出生日期"), "1988年7月15日"))
	must2(t, f.Save())
	f.Close()

	r := must(t, "import", "-data", dir, "-dry-run", out)
	if want := "迁移农户 冶尕娃：" + from.Name + " → " + to.Name; !strings.Contains(r.stdout, want) {
		t.Errorf("the dry run does not show %q:\n%s", want, r.stdout)
	}
	must(t, "import", "-data", dir, out)
	db = openDB(t, dir)
	card, err := query.Card(db, h.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if card.Household.Group != to.ID || len(card.Members) != 2 {
		t.Errorf("the household is in %s with %d members, want %s with 2", card.Group.Name, len(card.Members), to.Name)
	}
	for _, m := range card.Members {
		if m.Name == "马麦燕" && (m.Birth.Format("2006-01-02") != "1988-07-15" || m.BirthYear != 1988) {
			t.Errorf("马麦燕 born %v (%d), want 1988-07-15", m.Birth, m.BirthYear)
		}
	}
	after, err := query.VillageHouseholds(db, d.Village.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("the village has %d households after the move, %d before", len(after), len(before))
	}
	db.Close()
	if r := must(t, "import", "-data", dir, out); !strings.Contains(r.stdout, "nothing to change") {
		t.Errorf("the same file imported twice changed something:\n%s", r.stdout)
	}
	// Exported again, the date reads 1988-07-15 and imports as a no-op.
	again := filepath.Join(t.TempDir(), "again.xlsx")
	must(t, "roster", "-data", dir, "-o", again)
	f, err = excelize.OpenFile(again)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.GetCellValue("家庭成员", cellOf(t, f, "家庭成员", "成员姓名", "马麦燕", "出生日期")); v != "1988-07-15" {
		t.Errorf("the exported birth date reads %q", v)
	}
	f.Close()
	if r := must(t, "import", "-data", dir, again); !strings.Contains(r.stdout, "nothing to change") {
		t.Errorf("the roster exported again is not a no-op:\n%s", r.stdout)
	}

	csv := filepath.Join(t.TempDir(), "new.csv")
	if err := os.WriteFile(csv, []byte("户主,社,村,户类型,人口\n冶尕娃,"+from.Name+","+d.Village.Name+",一般户,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "import", "-data", dir, csv)
	if r.code == 0 || !strings.Contains(r.stdout, "无法判断") || !strings.Contains(r.stdout, "ambiguous") {
		t.Errorf("an ambiguous row: exit %d\n%s", r.code, r.stdout)
	}
}
