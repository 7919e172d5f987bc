package roster

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"bangfu/domain"
)

// The sheets of an exported roster, in the workbook's order.
const (
	SheetHouseholds  = "农户"
	SheetMembers     = "家庭成员"
	SheetCadres      = "干部"
	SheetAssignments = "结对与职责"
)

// Export writes the roster s as an XLSX workbook that Read and Plan read
// back: households, members, cadres, and every assignment, current and ended
// (with its dates and reason). Each row of a household, its members and its
// pairings carries the household's 户编号 (its record ID) in the last column,
// which finds the household on import whatever else was edited: a household
// without an ID number can be moved to another 社 or renamed. Edited in Excel and imported again, it
// changes what was edited and nothing else; imported unchanged, nothing.
// It returns the data rows written per sheet.
func Export(w io.Writer, s Snapshot) (map[string]int, error) {
	places := map[uuid.UUID]*domain.Place{}
	for _, p := range s.Places {
		places[p.ID] = p
	}
	households := map[uuid.UUID]*domain.Household{}
	for _, h := range s.Households {
		households[h.ID] = h
	}
	cadres := map[uuid.UUID]*domain.Cadre{}
	for _, c := range s.Cadres {
		cadres[c.ID] = c
	}
	name := func(id uuid.UUID) string {
		if p := places[id]; p != nil {
			return p.Name
		}
		return ""
	}
	// where returns the city, town, village and group of a place (a group or
	// anything above it).
	where := func(id uuid.UUID) (city, town, village, group string) {
		for i, p := 0, places[id]; p != nil && i < 8; i, p = i+1, places[p.Parent] {
			switch p.Level {
			case domain.City:
				city = p.Name
			case domain.Town:
				town = p.Name
			case domain.Village:
				village = p.Name
			case domain.Group:
				group = p.Name
			}
		}
		return
	}
	day := dayOf
	code := func(id uuid.UUID) string { return id.String() } // 户编号, as the monthly workbook shows it
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

	type sheetData struct {
		name   string
		header []string
		rows   [][]string
	}
	var hs sheetData
	hs.name = SheetHouseholds
	hs.header = []string{"市", "镇", "村", "社", "自然村", "户主", "身份证号", "户类型", "人口", "耕地", "电话", "地址", "收入来源", "备注", "户状态", "变动日期", "变动原因", "户编号"}
	sorted := append([]*domain.Household(nil), s.Households...)
	key := func(h *domain.Household) string {
		c, t, v, g := where(h.Group)
		return c + "\x00" + t + "\x00" + v + "\x00" + g + "\x00" + h.HeadName + "\x00" + h.ID.String()
	}
	sort.Slice(sorted, func(i, j int) bool { return key(sorted[i]) < key(sorted[j]) })
	for _, h := range sorted {
		city, town, village, group := where(h.Group)
		st, _ := domain.StatusName(h.Status)
		state := "在册"
		if h.Exit != "" {
			state, _ = domain.ExitName(h.Exit)
		}
		hs.rows = append(hs.rows, []string{city, town, village, group, name(h.NaturalVillage), h.HeadName, h.IDNumber, st,
			strconv.Itoa(h.Size), num(h.Farmland), h.Phone, h.Address, h.Income, h.Notes, state, day(h.ExitOn), h.ExitReason, code(h.ID)})
	}

	var ms sheetData
	ms.name = SheetMembers
	ms.header = []string{"镇", "村", "社", "户主", "户主身份证号", "成员姓名", "与户主关系", "身份证号", "性别", "出生日期", "健康状况", "文化程度", "从业情况", "成员状态", "结束日期", "结束原因", "户编号"}
	// Households in the order of the first sheet; each one's members as its
	// card lists them: the current ones (head first, then by birth date),
	// then those gone.
	byHousehold := map[uuid.UUID][]*domain.Member{}
	for _, m := range s.Members {
		if households[m.Household] != nil {
			byHousehold[m.Household] = append(byHousehold[m.Household], m)
		}
	}
	var members []*domain.Member
	for _, h := range sorted {
		var current, former []*domain.Member
		for _, m := range byHousehold[h.ID] {
			if m.Current() {
				current = append(current, m)
			} else {
				former = append(former, m)
			}
		}
		domain.SortMembers(current, h.HeadName)
		domain.SortMembers(former, h.HeadName)
		members = append(append(members, current...), former...)
	}
	for _, m := range members {
		h := households[m.Household]
		_, town, village, group := where(h.Group)
		birth := ""
		switch {
		case !m.Birth.IsZero():
			birth = m.Birth.Format("2006-01-02") // in the zone it was entered in
		case m.BirthYear != 0:
			birth = strconv.Itoa(m.BirthYear)
		}
		state := "在册"
		if m.Gone != "" {
			state, _ = domain.MemberExitName(m.Gone)
		}
		ms.rows = append(ms.rows, []string{town, village, group, h.HeadName, h.IDNumber, m.Name, m.Relation, m.IDNumber, m.Gender, birth,
			m.Health, m.Education, m.Work, state, day(m.GoneOn), m.GoneNote, code(h.ID)})
	}

	var cs sheetData
	cs.name = SheetCadres
	cs.header = []string{"干部", "职级", "电话", "单位", "职务", "在岗状态", "离岗日期", "离岗原因"}
	cadreList := append([]*domain.Cadre(nil), s.Cadres...)
	sort.Slice(cadreList, func(i, j int) bool {
		if cadreList[i].Name != cadreList[j].Name {
			return cadreList[i].Name < cadreList[j].Name
		}
		return cadreList[i].ID.String() < cadreList[j].ID.String()
	})
	for _, c := range cadreList {
		rank, _ := domain.RankName(c.Rank)
		state := "在岗"
		if c.Left != "" {
			state, _ = domain.DepartureName(c.Left)
		}
		cs.rows = append(cs.rows, []string{c.Name, rank, c.Phone, c.Unit, c.Title, state, day(c.LeftOn), c.LeftReason})
	}

	var as sheetData
	as.name = SheetAssignments
	as.header = []string{"干部", "干部电话", "职责", "市", "镇", "村", "社", "户主", "身份证号", "职务", "开始日期", "结束日期", "结束原因", "户编号"}
	type arow struct {
		key string
		row []string
	}
	var arows []arow
	for _, a := range s.Assignments {
		c := cadres[a.Cadre]
		if c == nil || a.Deleted {
			continue
		}
		role, _ := domain.RoleName(a.Role)
		var city, town, village, group, head, id, hcode string
		if a.Role.IsPairing() {
			h := households[a.Target]
			if h == nil {
				continue
			}
			city, town, village, group = where(h.Group)
			head, id, hcode = h.HeadName, h.IDNumber, code(h.ID)
		} else {
			if places[a.Target] == nil {
				continue
			}
			city, town, village, group = where(a.Target)
			if places[a.Target].Level != domain.City {
				city = "" // a town is found by name; the city names only the office's city
			}
		}
		r := []string{c.Name, c.Phone, role, city, town, village, group, head, id, a.Title, day(a.Since), day(a.Until), a.EndReason, hcode}
		arows = append(arows, arow{fmt.Sprint(town, "\x00", village, "\x00", group, "\x00", head, "\x00", day(a.Since), "\x00", a.ID), r})
	}
	sort.Slice(arows, func(i, j int) bool { return arows[i].key < arows[j].key })
	for _, r := range arows {
		as.rows = append(as.rows, r.row)
	}

	f := excelize.NewFile()
	defer f.Close()
	counts := map[string]int{}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": ID numbers stay text when edited
	if err != nil {
		return nil, err
	}
	for i, sh := range []sheetData{hs, ms, cs, as} {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				return nil, err
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			return nil, err
		}
		if err := f.SetColStyle(sh.name, "A:Z", text); err != nil {
			return nil, err
		}
		rows := append([][]string{sh.header}, sh.rows...)
		for r, row := range rows {
			cells := make([]any, len(row))
			for c, v := range row {
				cells[c] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(sh.name, cell, &cells); err != nil {
				return nil, fmt.Errorf("roster: sheet %s: %w", sh.name, err)
			}
		}
		counts[sh.name] = len(sh.rows)
	}
	if err := f.Write(w); err != nil {
		return nil, fmt.Errorf("roster: write: %w", err)
	}
	return counts, nil
}
