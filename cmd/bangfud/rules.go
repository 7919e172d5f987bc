package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"bangfu/cmd/bangfud/internal/roster"
	"bangfu/domain"
	"bangfu/store"
	"bangfu/store/query"
)

func (c *cli) rules(args []string) error {
	fs := c.flags("rules", "-data DIR (-village NAME | -town NAME) [-quotas 3/2/1] [-overdue DAYS] [-stationed PERCENT] [-approvers ROLE,ROLE] [-backdate DAYS] [-correct DAYS] [-photos N] [-clear]", `
显示或设置一个村或镇的帮扶规则：三级帮扶结对户数（县级/科级/其他）、走访提醒天数、镇干部驻村比例、
可以审核一户一策的职责、走访时间最多可补录的天数。规则随村、镇的记录同步到在那里工作的设备；村的规则优先于镇的，都没有时用默认值
（3/2/1、30 天、80%、第一书记和驻村工作队长、补录 7 天）。不带设置参数时只显示当前生效的规则。-clear 删除该地的规则。
Shows or sets the rules of a village or town: the three-level quotas (county/section/other), the
days before a household is overdue, the share of town cadres stationed in villages, and the
roles that may approve a plan, and how many days back a visit's time may be set. The rules sync with the place to the devices that work there; a
village's own rules win over its town's, and the defaults (3/2/1, 30 days, 80%, first secretary
and team leader, 7 days back) hold where neither sets any. Without a setting flag it prints the rules in
force. -clear removes the place's own rules.`, lockedHelp)
	dir := dataFlag(fs)
	village := fs.String("village", "", "村名 / village name")
	town := fs.String("town", "", "镇名 / town name")
	quotas := fs.String("quotas", "", "结对户数，县级/科级/其他，如 3/2/1 / quotas county/section/other, e.g. 3/2/1")
	overdue := fs.Int("overdue", 0, "走访提醒天数 / days before a household is overdue")
	stationed := fs.Int("stationed", -1, "镇干部驻村比例（%）/ least percent of town cadres stationed in villages")
	approvers := fs.String("approvers", "", "可审核计划的职责，逗号分隔 / roles that may approve plans, comma-separated")
	backdate := fs.Int("backdate", 0, "走访时间最多可补录的天数 / days back a visit's time may be set")
	correct := fs.Int("correct", 0, "走访记录可由本人修改的天数 / days a cadre may correct their own visit")
	photos := fs.Int("photos", 0, "每次走访、每个问题或每项措施最多可附照片数 / photos one visit, problem or measure may carry")
	clear := fs.Bool("clear", false, "删除该地的规则 / remove the place's own rules")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if (*village == "") == (*town == "") {
		return usagef("请用 -village 或 -town 指定一个村或镇", "name one village with -village or one town with -town")
	}
	db, err := openExisting(*dir)
	if err != nil {
		return err
	}
	defer db.Close()
	level, name := domain.Village, *village
	if *town != "" {
		level, name = domain.Town, *town
	}
	place, err := placeNamed(db, level, name)
	if err != nil {
		return err
	}
	inForce := func() (domain.Rules, error) {
		if level == domain.Village {
			return db.Rules(place.ID)
		}
		if place.Rules != nil {
			return *place.Rules, nil
		}
		return db.Rules(uuid.Nil)
	}
	set := *quotas != "" || *overdue != 0 || *stationed >= 0 || *approvers != "" || *backdate != 0 || *correct != 0 || *photos != 0 || *clear
	if set {
		p := *place
		if *clear {
			p.Rules = nil
		} else {
			r, err := inForce()
			if err != nil {
				return err
			}
			if err := applyRuleFlags(&r, *quotas, *overdue, *stationed, *approvers); err != nil {
				return err
			}
			if *backdate != 0 {
				r.BackdateDays = *backdate
			}
			if *correct != 0 {
				r.CorrectDays = *correct
			}
			if *photos != 0 {
				r.Photos = *photos
			}
			if err := r.Validate(); err != nil {
				return err
			}
			p.Rules = &r
		}
		if err := db.Put(uuid.Nil, &p); err != nil {
			return err
		}
		place = &p
	}
	r, err := inForce()
	if err != nil {
		return err
	}
	own := "（默认或上级的规则 / inherited）"
	if place.Rules != nil {
		own = "（本地规则 / its own）"
	}
	w := c.stdout
	fmt.Fprintf(w, "%s %s\n", name, own)
	fmt.Fprintf(w, "  结对户数 / quotas (county/section/other): %d/%d/%d\n", r.County, r.Section, r.Other)
	fmt.Fprintf(w, "  走访提醒 / overdue after: %d 天 days\n", r.OverdueDays)
	fmt.Fprintf(w, "  驻村比例 / stationed: %d%%\n", r.Stationed)
	fmt.Fprintf(w, "  补录走访 / visits back-dated up to: %d 天 days\n", r.Backdate())
	fmt.Fprintf(w, "  修改走访 / visits corrected by their cadre for: %d 天 days\n", r.Correct())
	fmt.Fprintf(w, "  照片 / photos a record may carry: %d 张\n", r.PhotoLimit())
	var roles []string
	for _, a := range r.Approvers {
		zh, _ := domain.RoleName(a)
		roles = append(roles, zh+" ("+string(a)+")")
	}
	fmt.Fprintf(w, "  审核计划 / approvers: %s\n", strings.Join(roles, "、"))
	return nil
}

// applyRuleFlags changes r by the flags given.
func applyRuleFlags(r *domain.Rules, quotas string, overdue, stationed int, approvers string) error {
	if quotas != "" {
		parts := strings.Split(quotas, "/")
		if len(parts) != 3 {
			return usagef("-quotas 应写成 县级/科级/其他，如 3/2/1", "write -quotas as county/section/other, e.g. 3/2/1")
		}
		var n [3]int
		for i, s := range parts {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return usagef("-quotas 应写成 县级/科级/其他，如 3/2/1", "write -quotas as county/section/other, e.g. 3/2/1")
			}
			n[i] = v
		}
		r.County, r.Section, r.Other = n[0], n[1], n[2]
	}
	if overdue != 0 {
		r.OverdueDays = overdue
	}
	if stationed >= 0 {
		r.Stationed = stationed
	}
	if approvers != "" {
		r.Approvers = nil
		for _, s := range strings.Split(approvers, ",") {
			role, err := roster.ParseRole(strings.TrimSpace(s))
			if err != nil {
				return err
			}
			r.Approvers = append(r.Approvers, role)
		}
	}
	return r.Validate()
}

// placeNamed returns the one place at level called name.
func placeNamed(db *store.DB, level domain.Level, name string) (*domain.Place, error) {
	ps, err := query.Places(db, level, uuid.Nil)
	if err != nil {
		return nil, err
	}
	var found []*domain.Place
	for _, p := range ps {
		if p.Name == name {
			found = append(found, p)
		}
	}
	zh, en := domain.LevelName(level)
	switch len(found) {
	case 0:
		return nil, domain.Errorf(domain.ENOTFOUND, string(level), "没有名为“%[1]s”的%[2]s", "there is no %[3]s named %[1]q", name, zh, en)
	case 1:
		return found[0], nil
	}
	return nil, domain.Errorf(domain.EINVALID, string(level), "有 %[1]d 个名为“%[2]s”的%[3]s", "there are %[1]d %[4]ss named %[2]q", len(found), name, zh, en)
}
