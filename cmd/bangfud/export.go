package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
	"bangfu/office"
	"bangfu/store"
	"bangfu/sync/server"
)

func (c *cli) export(args []string) error {
	fs := c.flags("export", "-data DIR -o FILE.xlsx [-month 2026-11 | -from DAY -to DAY] [-village NAME] [-unit 单位]", `
导出月报工作簿（XLSX，中文表头）：`+strings.Join(report.Sheets, "、")+`。
每张表有标题、制表单位和制表日期，表头冻结并带筛选，日期是 Excel 日期。-month 只含该月的走访
（问题台账含该月前发现、该月未解决前仍存在的问题）；-from/-to 为起止日期（含两端）；都不给则导出全部。
-village 只导出该村的数据（以及在该村有职责的干部）。身份证号只显示后四位，与手机上一样；
-ids 导出完整身份证号（仅限有权查看的人员，文件须妥善保管）。管理后台按账号的 -ids 权限决定。
Writes the monthly workbook (XLSX, Chinese headers) with the sheets: visits (走访记录), the
problem ledger (问题台账), plans with measures, helper and review trail (一户一策), the pairing
roster (结对帮扶花名册), a per-cadre summary (干部走访汇总), households missing a level of
assistance, cadres under their quota and pairings held by a cadre of the wrong rank. Each sheet
has a title block (制表单位, 制表日期), a frozen header with an auto-filter, and real Excel
dates. -month limits visits to that month (the ledger: problems found before its end and not
resolved before its start); -from/-to give a range of days, both included; neither: everything.
-village limits it to one village. ID numbers show only their last four characters, as on the
phones; -ids writes them whole (only for someone entitled to them; keep the file safe). The
console decides by the account's -ids.`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	out := fs.String("o", "", "输出文件（.xlsx）/ output file (.xlsx)")
	village := fs.String("village", "", "只导出这个村 / only this village")
	month := fs.String("month", "", "月份，如 2026-11 / a month, e.g. 2026-11")
	from := fs.String("from", "", "开始日期，如 2026-11-01 / first day, e.g. 2026-11-01")
	to := fs.String("to", "", "结束日期（含）/ last day (included)")
	unit := fs.String("unit", "", "制表单位 / the issuing office (default: the city's name + 办公室)")
	ids := fs.Bool("ids", false, "导出完整身份证号（默认只显示后四位）/ whole ID numbers (default: the last four only)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	start, end, err := office.ParseRange(*month, *from, *to)
	if err != nil {
		e := err.(*domain.Error)
		return &usageError{e.Zh, e.En}
	}
	if *out == "" {
		return usagef("请用 -o 指定输出文件", "name the output file with -o")
	}
	if !strings.EqualFold(filepath.Ext(*out), ".xlsx") {
		return usagef("输出文件应以 .xlsx 结尾", "the output file should end in .xlsx")
	}
	if *server != "" {
		if *village != "" || *unit != "" {
			return usagef("-server 导出账号辖区的全部村，不接受 -village 和 -unit", "with -server the export covers the account's scope: no -village or -unit")
		}
		r, err := newRemote(*server)
		if err != nil {
			return err
		}
		q := url.Values{}
		for k, v := range map[string]string{"month": *month, "from": *from, "to": *to} {
			if v != "" {
				q.Set(k, v)
			}
		}
		data, err := r.call(http.MethodGet, "export?"+q.Encode(), nil, nil)
		if err != nil {
			return err
		}
		if err := writeFile(*out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已导出 / exported: %s\n", *out)
		return nil
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
	in.Village, in.From, in.To, in.IDs, in.Unit, in.Now = *village, start, end, *ids, *unit, db.Now()
	in.Thumb = dataThumbs(*dir)
	if in.Unit == "" {
		in.Unit = defaultUnit(in.Places)
	}

	var counts map[string]int
	err = writeFile(*out, func(w io.Writer) (err error) {
		counts, err = report.Write(w, in)
		return err
	})
	if err != nil {
		return err
	}
	detail := "身份证号打码 masked IDs"
	if *ids {
		detail = "身份证号完整 whole IDs"
	}
	db.Audit(store.AuditEntry{At: db.Now(), Action: "export", Target: *out, Detail: detail})
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
	load(domain.KindProblem, func(r domain.Record) { in.Problems = append(in.Problems, r.(*domain.Problem)) })
	load(domain.KindStep, func(r domain.Record) { in.Steps = append(in.Steps, r.(*domain.Step)) })
	load(domain.KindReview, func(r domain.Record) { in.Reviews = append(in.Reviews, r.(*domain.Review)) })
	load(domain.KindMember, func(r domain.Record) { in.Members = append(in.Members, r.(*domain.Member)) })
	load(domain.KindPhoto, func(r domain.Record) { in.Photos = append(in.Photos, r.(*domain.Photo)) })
	return in, err
}

// dataThumbs returns the thumbnails kept in the data directory dir, nil if
// it keeps no photos.
func dataThumbs(dir string) func(hash string) []byte {
	if _, err := os.Stat(filepath.Join(dir, photosDir)); err != nil {
		return nil
	}
	disk, err := server.OpenDisk(filepath.Join(dir, photosDir))
	if err != nil {
		return nil
	}
	return thumbs(disk)
}

// thumbs returns the thumbnails kept by photos for the workbook (nil if
// photos is nil); a thumbnail that cannot be read is left out.
func thumbs(photos server.Photos) func(hash string) []byte {
	if photos == nil {
		return nil
	}
	return func(hash string) []byte {
		f, err := photos.Open(hash, true)
		if err != nil {
			return nil
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, domain.MaxPhotoBytes))
		if err != nil {
			return nil
		}
		return b
	}
}

// defaultUnit is the 制表单位 of a workbook made on the command line: the
// city's office.
func defaultUnit(places []*domain.Place) string {
	for _, p := range places {
		if p.Level == domain.City {
			return p.Name + "办公室"
		}
	}
	return ""
}

// consoleExport writes the workbook the console asks for: the account's
// scope, its ID numbers whole or masked.
func consoleExport(db *store.DB, photos server.Photos) func(io.Writer, office.ExportQuery) error {
	return func(w io.Writer, q office.ExportQuery) error {
		if q.Roster {
			snap, err := snapshot(db)
			if err != nil {
				return err
			}
			_, err = roster.Export(w, scopeSnapshot(snap, q.Scope))
			return err
		}
		in, err := reportInput(db)
		if err != nil {
			return err
		}
		in.Scope, in.IDs, in.From, in.To, in.Unit, in.Now = q.Scope, q.IDs, q.From, q.To, q.Unit, db.Now()
		in.Thumb = thumbs(photos)
		_, err = report.Write(w, in)
		return err
	}
}
