package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/cmd/bangfud/internal/report"
	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

func (c *cli) history(args []string) error {
	fs := c.flags("history", "-data DIR [-village NAME] [-ended]", `
列出帮扶力量调整记录：谁在何时负责哪一户或哪个地方，何时、为何结束；以及迁出、并户、注销的户和
退休、调离的干部。-ended 只列出已结束的安排。
Lists the history of the helpers (帮扶力量调整记录): who was responsible for which household or
place, since when, and when and why it ended; then the households that moved out, merged or are
gone, and the cadres who retired or were transferred. -ended lists only what ended.`, lockedHelp)
	dir := dataFlag(fs)
	village := fs.String("village", "", "只列出这个村 / only this village")
	endedOnly := fs.Bool("ended", false, "只列出已结束的 / only what ended")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	id := uuid.Nil
	if *village != "" {
		if id, err = villageNamed(db, *village); err != nil {
			return err
		}
	}
	h, err := query.History(db, id)
	if err != nil {
		return err
	}
	printHistory(c, h, *endedOnly)
	return nil
}

// villageNamed returns the village called name.
func villageNamed(db *store.DB, name string) (uuid.UUID, error) {
	vs, err := query.Places(db, domain.Village, uuid.Nil)
	if err != nil {
		return uuid.Nil, err
	}
	for _, v := range vs {
		if v.Name == name {
			return v.ID, nil
		}
	}
	return uuid.Nil, domain.Errorf(domain.ENOTFOUND, "village", "没有名为“%[1]s”的村", "there is no village named %[1]q", name)
}

func printHistory(c *cli, h *query.RosterHistory, endedOnly bool) {
	w := c.stdout
	rows := [][]string{{"帮扶对象", "干部", "职责", "开始", "结束", "原因"}}
	for _, a := range h.Adjustments {
		x := a.Assignment
		if endedOnly && x.Until.IsZero() {
			continue
		}
		name := ""
		if a.Cadre != nil {
			name = a.Cadre.Name
		}
		role, _ := domain.RoleName(x.Role)
		rows = append(rows, []string{a.TargetName(), name, role, dateOf(x.Since), dateOf(x.Until), x.EndReason})
	}
	for _, hh := range h.Households {
		zh, _ := domain.ExitName(hh.Exit)
		rows = append(rows, []string{hh.HeadName, "", "户" + zh, "", dateOf(hh.ExitOn), hh.ExitReason})
	}
	for _, cd := range h.Cadres {
		zh, _ := domain.DepartureName(cd.Left)
		rows = append(rows, []string{"", cd.Name, "干部" + zh, "", dateOf(cd.LeftOn), cd.LeftReason})
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], width(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			if i == len(r)-1 {
				b.WriteString(cell)
			} else {
				b.WriteString(pad(cell, widths[i]))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	fmt.Fprintf(w, "共 %d 条安排（已结束 %d），%d 户离开，%d 名干部离岗 / %d assignments (%d ended), %d households left, %d cadres left\n",
		len(h.Adjustments), ended(h), len(h.Households), len(h.Cadres), len(h.Adjustments), ended(h), len(h.Households), len(h.Cadres))
}

func ended(h *query.RosterHistory) int {
	n := 0
	for _, a := range h.Adjustments {
		if !a.Assignment.Until.IsZero() {
			n++
		}
	}
	return n
}

// dateOf writes a date in China's time zone, "" for none.
func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(report.China).Format("2006-01-02")
}
