package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/domain"
	"bangfu/store"
)

func (c *cli) export(args []string) error {
	fs := c.flags("export", "-data DIR -o FILE.xlsx [-village NAME]", `
导出月报工作簿（XLSX，中文表头）：`+strings.Join(report.Sheets, "、")+`。
-village 只导出该村的走访、计划和缺口（以及在该村有职责的干部）。
Writes the monthly workbook (XLSX, Chinese headers) with the sheets: visits (走访记录), plans
with their measures (一户一策), households missing a level of assistance (缺少帮扶层级的户),
cadres under their quota (未达结对数的干部) and pairings held by a cadre of the wrong rank
(职级不符的结对). -village limits it to one village's visits, plans and gaps, and the cadres
with an assignment there.`, lockedHelp)
	dir := dataFlag(fs)
	out := fs.String("o", "", "输出文件（.xlsx）/ output file (.xlsx)")
	village := fs.String("village", "", "只导出这个村 / only this village")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("请用 -o 指定输出文件", "name the output file with -o")
	}
	if !strings.EqualFold(filepath.Ext(*out), ".xlsx") {
		return usagef("输出文件应以 .xlsx 结尾", "the output file should end in .xlsx")
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	in, err := reportInput(db)
	if err != nil {
		return err
	}
	in.Village = *village

	// Write next to the target and rename, so that a failed export never
	// leaves half a workbook under the name asked for.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".bangfud-export-*.xlsx")
	if err != nil {
		return fmt.Errorf("无法创建输出文件 (cannot create the output file): %w", err)
	}
	defer os.Remove(tmp.Name())
	counts, err := report.Write(tmp, in)
	if err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("无法写入 %s (cannot write %s): %w", *out, *out, err)
	}
	fmt.Fprintf(c.stdout, "已导出 / exported: %s\n", *out)
	for _, s := range report.Sheets {
		fmt.Fprintf(c.stdout, "  %s %6d 行 rows\n", pad(s, 18), counts[s])
	}
	return nil
}

// reportInput reads what the report needs from the store.
func reportInput(db *store.DB) (report.Input, error) {
	var in report.Input
	settings, err := db.Settings()
	if err != nil {
		return in, err
	}
	in.Quotas = settings.Quotas
	load := func(kind domain.Kind, add func(domain.Record)) {
		if err != nil {
			return
		}
		err = db.Each(kind, func(r domain.Record) error { add(r); return nil })
	}
	load(domain.KindPlace, func(r domain.Record) { in.Places = append(in.Places, r.(*domain.Place)) })
	load(domain.KindCadre, func(r domain.Record) { in.Cadres = append(in.Cadres, r.(*domain.Cadre)) })
	load(domain.KindHousehold, func(r domain.Record) { in.Households = append(in.Households, r.(*domain.Household)) })
	load(domain.KindAssignment, func(r domain.Record) { in.Assignments = append(in.Assignments, r.(*domain.Assignment)) })
	load(domain.KindVisit, func(r domain.Record) { in.Visits = append(in.Visits, r.(*domain.Visit)) })
	load(domain.KindPlan, func(r domain.Record) { in.Plans = append(in.Plans, r.(*domain.Plan)) })
	load(domain.KindMeasure, func(r domain.Record) { in.Measures = append(in.Measures, r.(*domain.Measure)) })
	return in, err
}
