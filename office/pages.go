package office

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/store/query"
)

// China is the time zone the console shows times in (UTC+8).
var China = time.FixedZone("CST", 8*3600)

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(China).Format("2006-01-02 15:04")
	},
	"short": func(id uuid.UUID) string { return id.String()[:8] },
	"day":   func(t time.Time) string { return t.In(China).Format("2006-01-02") },
	"section": func(title string, people []Person) any {
		return struct {
			Title  string
			People []Person
		}{title, people}
	},
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// scope answers what an account may see.
type scope struct {
	db    *store.DB
	place uuid.UUID
	memo  map[uuid.UUID]bool
}

func (c *Console) scope(u *user) *scope {
	return &scope{db: c.db, place: u.Account.Place, memo: map[uuid.UUID]bool{}}
}

// sees reports whether the place is the account's or under it.
func (s *scope) sees(place uuid.UUID) bool {
	if place == uuid.Nil {
		return false
	}
	in, ok := s.memo[place]
	if !ok {
		in = s.db.Within(place, s.place)
		s.memo[place] = in
	}
	return in
}

// seesCadre reports whether a cadre has an assignment in the account's
// scope: the cadres a town office administers are those working in its town.
func (s *scope) seesCadre(cadre uuid.UUID) bool {
	reach, err := s.db.Reach(cadre)
	if err != nil {
		return false
	}
	for _, a := range reach {
		if a.Level != "" && s.sees(a.Target) {
			return true
		}
		for _, p := range []uuid.UUID{a.Location.Group, a.Location.Village, a.Location.Town} {
			if p != uuid.Nil && s.sees(p) {
				return true
			}
		}
	}
	return false
}

// villageRow is a village on the home page.
type villageRow struct {
	Town    string
	Village *domain.Place
	Total   query.GroupStats
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, u *user) {
	sc := c.scope(u)
	now := c.now()
	towns := map[uuid.UUID]string{}
	var villages []*domain.Place
	err := c.db.Each(domain.KindPlace, func(rec domain.Record) error {
		p := rec.(*domain.Place)
		switch {
		case p.Level == domain.Town:
			towns[p.ID] = p.Name
		case p.Level == domain.Village && sc.sees(p.ID):
			villages = append(villages, p)
		}
		return nil
	})
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	var rows []villageRow
	var total query.GroupStats
	for _, v := range villages {
		o, err := query.Overview(c.db, v.ID, now)
		if err != nil {
			c.fail(w, r, u, err)
			return
		}
		rows = append(rows, villageRow{Town: towns[v.Parent], Village: v, Total: o.Total})
		t := o.Total
		total.Households += t.Households
		total.People += t.People
		total.VisitsThisMonth += t.VisitsThisMonth
		total.Overdue += t.Overdue
		total.OpenProblems += t.OpenProblems
		total.AwaitingReview += t.AwaitingReview
		total.Gaps += t.Gaps
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Town != rows[j].Town {
			return rows[i].Town < rows[j].Town
		}
		return rows[i].Village.Name < rows[j].Village.Name
	})
	c.render(w, "home", http.StatusOK, page{Title: "概况 Overview", User: u,
		Data: struct {
			Scope string
			Rows  []villageRow
			Total query.GroupStats
		}{c.placeName(u.Account.Place), rows, total}})
}

func (c *Console) placeName(id uuid.UUID) string {
	if r, err := c.db.Get(domain.KindPlace, id); err == nil {
		return r.(*domain.Place).Name
	}
	return id.String()
}

func (c *Console) cadreName(id uuid.UUID) string {
	if r, err := c.db.Get(domain.KindCadre, id); err == nil {
		return r.(*domain.Cadre).Name
	}
	return id.String()[:8]
}

// deviceRow is a device on the devices page.
type deviceRow struct {
	replica.Device
	CadreName string
}

// visibleDevices returns the devices of cadres in the account's scope.
func (c *Console) visibleDevices(u *user) ([]deviceRow, error) {
	devs, err := c.st.Devices()
	if err != nil {
		return nil, err
	}
	sc := c.scope(u)
	seen := map[uuid.UUID]bool{}
	var out []deviceRow
	for _, d := range devs {
		in, ok := seen[d.Cadre]
		if !ok {
			in = sc.seesCadre(d.Cadre)
			seen[d.Cadre] = in
		}
		if in {
			out = append(out, deviceRow{Device: d, CadreName: c.cadreName(d.Cadre)})
		}
	}
	return out, nil
}

func (c *Console) devices(w http.ResponseWriter, r *http.Request, u *user) {
	devs, err := c.visibleDevices(u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.render(w, "devices", http.StatusOK, page{Title: "设备 Devices", User: u, Data: devs, Flash: revokedFlash(r.URL.Query().Get("done"))})
}

func revokedFlash(id string) string {
	if id == "" {
		return ""
	}
	return "已注销设备 " + id + " / device " + id + " revoked"
}

// Revocation reasons offered on the devices page.
var reasons = map[string]string{
	"lost":     "丢失 lost",
	"replaced": "更换 replaced",
}

func (c *Console) revoke(w http.ResponseWriter, r *http.Request, u *user) {
	id, err := uuid.Parse(r.PostFormValue("device"))
	if err != nil {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "device", "设备标识无效", "the device ID is not valid"))
		return
	}
	reason := r.PostFormValue("reason")
	if _, ok := reasons[reason]; !ok {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "reason", "请选择注销原因（丢失或更换）", "choose why: lost or replaced"))
		return
	}
	devs, err := c.visibleDevices(u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	var dev *deviceRow
	for i := range devs {
		if devs[i].ID == id {
			dev = &devs[i]
		}
	}
	if dev == nil {
		// Another town's device is as unknown as a made-up one.
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "device", "没有这台设备", "there is no such device"))
		return
	}
	if err := c.st.Revoke(id, replica.Reason(reason), c.now()); err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "revoke", fmt.Sprintf("%s（%s，%s）", dev.Name, dev.CadreName, id), reason)
	http.Redirect(w, r, Prefix+"devices?done="+id.String()[:8], http.StatusSeeOther)
}

// unlockTTL is how long an unlock code from the console works.
const unlockTTL = 24 * time.Hour

// unlock issues an unlock code for a device of the account's scope whose
// cadre forgot the app's PIN: typed on the phone, it gives the phone its
// deposited data key back (server.BoltRegistry.Release). The code is shown on the
// page it answers with, never put in a URL.
func (c *Console) unlock(w http.ResponseWriter, r *http.Request, u *user) {
	id, err := uuid.Parse(r.PostFormValue("device"))
	if err != nil {
		c.fail(w, r, u, domain.Errorf(domain.EINVALID, "device", "设备标识无效", "the device ID is not valid"))
		return
	}
	devs, err := c.visibleDevices(u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	var dev *deviceRow
	for i := range devs {
		if devs[i].ID == id {
			dev = &devs[i]
		}
	}
	if dev == nil {
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "device", "没有这台设备", "there is no such device"))
		return
	}
	code, err := c.st.IssueUnlock(id, unlockTTL)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "unlock-code", fmt.Sprintf("%s（%s，%s）", dev.Name, dev.CadreName, id), "")
	flash := fmt.Sprintf("设备 %[1]s（%[2]s）的解锁码 / unlock code for device %[1]s (%[2]s): %[3]s —— %[4]s 前有效，仅限本设备使用一次 / valid until %[4]s, for this device, once",
		dev.Name, dev.CadreName, code, c.now().Add(unlockTTL).In(China).Format("2006-01-02 15:04"))
	c.render(w, "devices", http.StatusOK, page{Title: "设备 Devices", User: u, Data: devs, Flash: flash})
}

// cadreRow is a cadre one may enrol a device for.
type cadreRow struct {
	*domain.Cadre
	RankName string
}

func (c *Console) visibleCadres(u *user) ([]cadreRow, error) {
	cadres, err := query.Cadres(c.db)
	if err != nil {
		return nil, err
	}
	sc := c.scope(u)
	var out []cadreRow
	for _, cd := range cadres {
		if sc.seesCadre(cd.ID) {
			zh, _ := domain.RankName(cd.Rank)
			out = append(out, cadreRow{Cadre: cd, RankName: zh})
		}
	}
	return out, nil
}

type enrolData struct {
	Cadres []cadreRow
	Code   string
	For    *domain.Cadre
	Until  time.Time
}

func (c *Console) enrolForm(w http.ResponseWriter, r *http.Request, u *user) {
	cadres, err := c.visibleCadres(u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.render(w, "enrol", http.StatusOK, page{Title: "注册设备 Enrol", User: u, Data: enrolData{Cadres: cadres}})
}

// enrolTTL is how long a code made in the console is valid.
const enrolTTL = 72 * time.Hour

func (c *Console) enrol(w http.ResponseWriter, r *http.Request, u *user) {
	id, err := uuid.Parse(r.PostFormValue("cadre"))
	cadres, lerr := c.visibleCadres(u)
	if lerr != nil {
		c.fail(w, r, u, lerr)
		return
	}
	var cadre *domain.Cadre
	for _, cd := range cadres {
		if err == nil && cd.ID == id {
			cadre = cd.Cadre
		}
	}
	if cadre == nil {
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "cadre", "请选择本辖区名册中的干部", "choose a cadre on your roster"))
		return
	}
	code, err := c.st.CreateEnrolCode(cadre.ID, enrolTTL)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "enrol", fmt.Sprintf("%s（%s）", cadre.Name, cadre.ID), "")
	c.render(w, "enrol", http.StatusOK, page{Title: "注册设备 Enrol", User: u,
		Data: enrolData{Cadres: cadres, Code: code, For: cadre, Until: c.now().Add(enrolTTL)}})
}

func (c *Console) exportForm(w http.ResponseWriter, r *http.Request, u *user) {
	month := c.now().In(China).Format("2006-01")
	c.render(w, "export", http.StatusOK, page{Title: "导出 Export", User: u, Data: struct {
		Month string
		On    bool
	}{month, c.export != nil}})
}

// ParseRange reads a month ("2026-11") or a from/to pair of days
// ("2026-11-01", "2026-11-30", both included) into [from, to) in China's
// time zone. All empty is every date.
func ParseRange(month, fromDay, toDay string) (from, to time.Time, err error) {
	bad := func(what string) error {
		return domain.Errorf(domain.EINVALID, "range", "日期格式不对：%[1]q（月份写作 2026-11，日期写作 2026-11-05）",
			"cannot read the date %[1]q (a month is 2026-11, a day 2026-11-05)", what)
	}
	switch {
	case month != "" && (fromDay != "" || toDay != ""):
		return from, to, domain.Errorf(domain.EINVALID, "range", "月份和起止日期只能给一种", "give a month or a from/to range, not both")
	case month != "":
		m, err := time.ParseInLocation("2006-01", month, China)
		if err != nil {
			return from, to, bad(month)
		}
		return m, m.AddDate(0, 1, 0), nil
	}
	if fromDay != "" {
		if from, err = time.ParseInLocation("2006-01-02", fromDay, China); err != nil {
			return from, to, bad(fromDay)
		}
	}
	if toDay != "" {
		d, err := time.ParseInLocation("2006-01-02", toDay, China)
		if err != nil {
			return from, to, bad(toDay)
		}
		to = d.AddDate(0, 0, 1)
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, domain.Errorf(domain.EINVALID, "range", "结束日期早于开始日期", "the range ends before it starts")
	}
	return from, to, nil
}

func (c *Console) exportFile(w http.ResponseWriter, r *http.Request, u *user) {
	if c.export == nil {
		c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "export", "此服务器未启用导出", "exports are off on this server"))
		return
	}
	q := r.URL.Query()
	from, to, err := ParseRange(q.Get("month"), q.Get("from"), q.Get("to"))
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	var buf bytes.Buffer
	eq := ExportQuery{Scope: u.Account.Place, IDs: u.Account.IDs, From: from, To: to,
		Unit: c.placeName(u.Account.Place) + "办公室"}
	if err := c.export(&buf, eq); err != nil {
		c.fail(w, r, u, err)
		return
	}
	name := "帮扶走访月报"
	switch {
	case q.Get("month") != "":
		name += "-" + q.Get("month")
	case !from.IsZero() || !to.IsZero():
		name += "-" + strings.Trim(q.Get("from")+"_"+q.Get("to"), "_")
	}
	c.record(u, "export", name, fmt.Sprintf("%d bytes, %s", buf.Len(), idsWord(u.Account.IDs)))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", attachment(name+".xlsx"))
	w.Write(buf.Bytes())
}

// rosterFile sends the roster of the account's scope in the import's own
// layout: edited in Excel, it imports back through the import page.
func (c *Console) rosterFile(w http.ResponseWriter, r *http.Request, u *user) {
	data, err := c.roster(u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "export", "花名册 roster", fmt.Sprintf("%d bytes, %s", len(data), idsWord(true)))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", attachment("帮扶花名册.xlsx"))
	w.Write(data)
}

// roster writes the roster of u's scope. It holds whole ID numbers (they
// are what an import matches households by), so an account that may not
// see them cannot have it.
func (c *Console) roster(u *user) ([]byte, error) {
	if c.export == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "export", "此服务器未启用导出", "exports are off on this server")
	}
	if !u.Account.IDs {
		return nil, domain.Errorf(domain.EFORBIDDEN, "ids", "可导入的花名册含完整身份证号，本账号无权导出",
			"the roster that imports back holds whole ID numbers, which this account may not see")
	}
	var buf bytes.Buffer
	if err := c.export(&buf, ExportQuery{Scope: u.Account.Place, IDs: true, Roster: true}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// idsWord says in the audit log whether an export held whole ID numbers.
func idsWord(whole bool) string {
	if whole {
		return "身份证号完整 whole IDs"
	}
	return "身份证号打码 masked IDs"
}

// attachment is a Content-Disposition for a download named name (RFC 6266:
// an ASCII fallback and the UTF-8 name).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, name)
	ascii = strings.TrimLeft(ascii, "-_")
	if ascii == "" || strings.HasPrefix(ascii, ".") {
		ascii = "bangfu" + ascii
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, pathEscape(name))
}

func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// cityOnly refuses a town office: a backup holds every town.
func (c *Console) cityOnly(u *user) error {
	r, err := c.db.Get(domain.KindPlace, u.Account.Place)
	if err != nil || r.(*domain.Place).Level != domain.City {
		return domain.Errorf(domain.EFORBIDDEN, "backup", "备份含全市数据，只有市级账号可以下载",
			"a backup holds the whole city: only a city office account may download it")
	}
	return nil
}

// mayBackup refuses a backup to an account that is not the city's or may
// not see whole ID numbers: a backup holds every town, and every ID number
// whole.
func (c *Console) mayBackup(u *user) error {
	if err := c.cityOnly(u); err != nil {
		return err
	}
	if !u.Account.IDs {
		return domain.Errorf(domain.EFORBIDDEN, "backup", "备份含完整身份证号，本账号无权下载（需要可查看完整身份证号的市级账号）",
			"a backup holds whole ID numbers, which this account may not see (it takes a city account allowed whole IDs)")
	}
	return nil
}

type backupData struct {
	City  bool
	Token string
}

func (c *Console) backupPage(w http.ResponseWriter, r *http.Request, u *user) {
	c.render(w, "backup", http.StatusOK, page{Title: "备份与命令行 Backup and command line", User: u, Data: backupData{City: c.mayBackup(u) == nil}})
}

// token makes an API token for the account, shown once, for the command
// line against the running server.
func (c *Console) token(w http.ResponseWriter, r *http.Request, u *user) {
	token, err := c.st.CreateToken(u.Account.Name, c.now())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "token", u.Account.Name, "")
	c.render(w, "backup", http.StatusOK, page{Title: "备份与命令行 Backup and command line", User: u,
		Data: backupData{City: c.mayBackup(u) == nil, Token: token}})
}

func (c *Console) backup(w http.ResponseWriter, r *http.Request, u *user) {
	if err := c.mayBackup(u); err != nil {
		c.fail(w, r, u, err)
		return
	}
	name := "bangfu-" + c.now().In(China).Format("20060102-150405") + ".db"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", attachment(name))
	n, err := c.st.Backup(w)
	if err != nil && n == 0 {
		// Nothing sent yet (a server on PostgreSQL has no backup here):
		// the page says why.
		w.Header().Del("Content-Disposition")
		c.record(u, "backup-failed", name, err.Error())
		c.fail(w, r, u, err)
		return
	}
	if err != nil {
		// The headers are gone; the client sees a cut-off download.
		c.log.Error("office: backup", "err", err, "bytes", n)
		c.record(u, "backup-failed", name, err.Error())
		return
	}
	c.record(u, "backup", name, fmt.Sprintf("%d bytes", n))
}

// auditRow is an audit entry as shown.
type auditRow struct {
	store.AuditEntry
	ActionName string
}

var actionNames = map[string]string{
	"login":           "登录 log in",
	"login-failed":    "登录失败 failed login",
	"logout":          "退出 log out",
	"revoke":          "注销设备 revoke device",
	"enrol":           "生成注册码 enrolment code",
	"export":          "导出工作簿 export",
	"backup":          "下载备份 backup",
	"backup-failed":   "备份失败 backup failed",
	"account":         "新建账号 new account",
	"account-disable": "停用账号 account disabled",
	"import-check":    "检查花名册 roster check",
	"import":          "导入花名册 roster import",
	"token":           "生成命令行令牌 API token",
	"password":        "修改密码 password changed",
	"settings":        "修改帮扶规则 settings",
	"unlock-code":     "生成解锁码 unlock code",
	"release-key":     "设备取回数据密钥 data key released",
	"reveal-id":       "手机上查看完整身份证号 whole ID shown on a phone",
}

func (c *Console) audit(w http.ResponseWriter, r *http.Request, u *user) {
	sc := c.scope(u)
	city := c.cityOnly(u) == nil
	entries, err := c.st.AuditLog(500, func(e store.AuditEntry) bool {
		// Failed logins belong to no place: the city office sees them.
		return e.Place == u.Account.Place || sc.sees(e.Place) || (city && e.Place == uuid.Nil)
	})
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	rows := make([]auditRow, len(entries))
	for i, e := range entries {
		name := actionNames[e.Action]
		if name == "" {
			name = e.Action
		}
		if e.Detail != "" && reasons[e.Detail] != "" {
			e.Detail = reasons[e.Detail]
		}
		rows[i] = auditRow{AuditEntry: e, ActionName: name}
	}
	c.render(w, "audit", http.StatusOK, page{Title: "操作日志 Audit log", User: u, Data: rows})
}

// village returns the village named by the request's "village" parameter if
// the account may see it; another town's village is as unknown as none.
func (c *Console) village(r *http.Request, u *user) (*domain.Place, error) {
	id, err := uuid.Parse(r.URL.Query().Get("village"))
	if err == nil && c.scope(u).sees(id) {
		if rec, err := c.db.Get(domain.KindPlace, id); err == nil && rec.(*domain.Place).Level == domain.Village {
			return rec.(*domain.Place), nil
		}
	}
	return nil, domain.Errorf(domain.ENOTFOUND, "village", "没有这个村", "there is no such village")
}

func (c *Console) board(w http.ResponseWriter, r *http.Request, u *user) {
	v, err := c.village(r, u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	b, err := BoardOf(c.db, v.ID, c.now())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	if strings.HasSuffix(r.URL.Path, ".pdf") {
		c.pdf(w, r, u, v.Name+"岗位监督栏.pdf", func(buf *bytes.Buffer) error { return WriteBoardPDF(buf, b) })
		return
	}
	paper := "A4"
	if r.URL.Query().Get("paper") == "A3" {
		paper = "A3"
	}
	c.render(w, "board", http.StatusOK, page{Title: v.Name + "岗位监督栏", User: u, Data: struct {
		ID    uuid.UUID
		Board *Board
		Paper string
	}{v.ID, b, paper}})
}

func (c *Console) cards(w http.ResponseWriter, r *http.Request, u *user) {
	v, err := c.village(r, u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	var group uuid.UUID
	title := v.Name
	if g := r.URL.Query().Get("group"); g != "" {
		id, err := uuid.Parse(g)
		rec, gerr := c.db.Get(domain.KindPlace, id)
		if err != nil || gerr != nil || rec.(*domain.Place).Parent != v.ID {
			c.fail(w, r, u, domain.Errorf(domain.ENOTFOUND, "group", "这个村没有这个社", "the village has no such group"))
			return
		}
		group, title = id, v.Name+rec.(*domain.Place).Name
	}
	cards, err := CardsOf(c.db, v.ID, group, c.now())
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	if strings.HasSuffix(r.URL.Path, ".pdf") {
		c.pdf(w, r, u, title+"帮扶明白卡.pdf", func(buf *bytes.Buffer) error { return WriteCardsPDF(buf, cards) })
		return
	}
	pdf := Prefix + "cards.pdf?" + r.URL.RawQuery
	c.render(w, "cards", http.StatusOK, page{Title: title + "帮扶明白卡", User: u, Data: struct {
		Title, PDF string
		Cards      []Card
	}{title, pdf, cards}})
}

func (c *Console) pdf(w http.ResponseWriter, r *http.Request, u *user, name string, write func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		c.fail(w, r, u, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", attachment(name))
	w.Write(buf.Bytes())
}
