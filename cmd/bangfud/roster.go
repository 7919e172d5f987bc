package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"bangfu/cmd/bangfud/internal/roster"
)

func (c *cli) exportRoster(args []string) error {
	fs := c.flags("roster", "-data DIR | -server URL -o FILE.xlsx", `
导出花名册（XLSX）：农户、家庭成员、干部、结对与职责（含已结束的安排及其日期和原因），表头与导入相同。
在 Excel 中修改后用 bangfud import 导入：只写入改动的部分；原样导入不写入任何内容。
Writes the roster (XLSX): households, members, cadres, and pairings and assignments (those that
ended too, with their dates and reasons), with the import's headers. Edit it in Excel and import
it with bangfud import: only what was edited is written; imported unchanged, nothing is.
With -server: the roster of the token's scope; it holds whole ID numbers, so only an account
made with -ids may have it.`, lockedHelp+"\n"+remoteHelp)
	dir := dataFlag(fs)
	server := serverFlag(fs)
	out := fs.String("o", "", "输出文件（.xlsx）/ output file (.xlsx)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("请用 -o 指定输出文件", "name the output file with -o")
	}
	if !strings.EqualFold(filepath.Ext(*out), ".xlsx") {
		return usagef("输出文件应以 .xlsx 结尾", "the output file should end in .xlsx")
	}
	if *server != "" {
		r, err := newRemote(*server)
		if err != nil {
			return err
		}
		data, err := r.call(http.MethodGet, "roster", nil, nil)
		if err != nil {
			return err
		}
		if err := writeFile(*out, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "已导出花名册 / roster exported: %s\n", *out)
		return nil
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	snap, err := snapshot(db)
	if err != nil {
		return err
	}
	var counts map[string]int
	err = writeFile(*out, func(w io.Writer) (err error) {
		counts, err = roster.Export(w, snap)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "已导出花名册 / roster exported: %s\n", *out)
	for _, s := range []string{roster.SheetHouseholds, roster.SheetMembers, roster.SheetCadres, roster.SheetAssignments} {
		fmt.Fprintf(c.stdout, "  %s %6d 行 rows\n", pad(s, 12), counts[s])
	}
	return nil
}
