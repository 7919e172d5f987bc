package office

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store/query"
)

// ruleInt is one whole-number rule on the settings page. The page is built
// from this list: one more int field of domain.Rules is one more line here.
type ruleInt struct {
	Key    string // the form field
	Zh, En string
	field  func(*domain.Rules) *int
}

var ruleInts = []ruleInt{
	{"county", "每名县级领导结对户数", "households per county-level leader", func(r *domain.Rules) *int { return &r.County }},
	{"section", "每名科级干部结对户数", "households per section-level cadre", func(r *domain.Rules) *int { return &r.Section }},
	{"other", "每名其他党员干部结对户数", "households per other cadre", func(r *domain.Rules) *int { return &r.Other }},
	{"stationed", "镇干部驻村包社比例（%，0 为不检查）", "least % of town cadres stationed in villages (0: not checked)", func(r *domain.Rules) *int { return &r.Stationed }},
	{"overdue_days", "多少天未走访算逾期", "days without a visit before a household is overdue", func(r *domain.Rules) *int { return &r.OverdueDays }},
	{"backdate_days", "走访最多可补录天数（0 为默认 7 天）", "days back a visit's time may be set (0: the default, 7)", func(r *domain.Rules) *int { return &r.BackdateDays }},
	{"correct_days", "走访记录可由本人修改的天数（0 为默认 3 天）", "days a cadre may correct their own visit (0: the default, 3)", func(r *domain.Rules) *int { return &r.CorrectDays }},
	{"photos", "每次走访、每个问题或每项措施最多可附照片数（0 为默认 6 张）", "photos one visit, problem or measure may carry (0: the default, 6)", func(r *domain.Rules) *int { return &r.Photos }},
}

var ruleStatuses = []domain.Status{domain.Registered, domain.Lifted, domain.Monitored, domain.Ordinary}

var ruleApprovers = []domain.Role{domain.FirstSecretary, domain.TeamLeader, domain.GroupCadreLead, domain.VillageLead,
	domain.VillageCommittee, domain.CityContact, domain.TownLead, domain.Office}

// settingsField is a field as the template shows it.
type settingsField struct {
	Key, Zh, En, Value string
}

type settingsChoice struct {
	Value, Zh, En string
	On            bool
}

type settingsData struct {
	Place     *domain.Place
	Level     string // 村 or 镇
	Own       bool   // the place has its own rules (else they are inherited)
	Ints      []settingsField
	Statuses  []settingsChoice
	Approvers []settingsChoice
	Places    []*domain.Place // the towns and villages of the scope, to choose from
}

// settingsPlace is the village or town named by the "place" value, in u's
// scope.
func (c *Console) settingsPlace(id string, u *user) (*domain.Place, error) {
	pid, err := uuid.Parse(id)
	if err == nil && c.scope(u).sees(pid) {
		if rec, err := c.db.Get(domain.KindPlace, pid); err == nil {
			if p := rec.(*domain.Place); !p.Deleted && (p.Level == domain.Village || p.Level == domain.Town) {
				return p, nil
			}
		}
	}
	return nil, domain.Errorf(domain.ENOTFOUND, "place", "没有这个村或镇", "there is no such village or town")
}

// rulesInForce are the rules that hold at p: its own, else (for a village)
// its town's, else the defaults.
func (c *Console) rulesInForce(p *domain.Place) (domain.Rules, error) {
	if p.Level == domain.Village {
		return c.db.Rules(p.ID)
	}
	if p.Rules != nil {
		return *p.Rules, nil
	}
	return domain.DefaultRules(), nil
}

func (c *Console) settingsData(p *domain.Place, r domain.Rules, u *user) (settingsData, error) {
	d := settingsData{Place: p, Own: p.Rules != nil, Level: "村"}
	if p.Level == domain.Town {
		d.Level = "镇"
	}
	for _, f := range ruleInts {
		d.Ints = append(d.Ints, settingsField{Key: f.Key, Zh: f.Zh, En: f.En, Value: strconv.Itoa(*f.field(&r))})
	}
	for _, s := range ruleStatuses {
		zh, en := domain.StatusName(s)
		d.Statuses = append(d.Statuses, settingsChoice{string(s), zh, en, slices.Contains(r.Statuses, s)})
	}
	for _, a := range ruleApprovers {
		zh, en := domain.RoleName(a)
		d.Approvers = append(d.Approvers, settingsChoice{string(a), zh, en, slices.Contains(r.Approvers, a)})
	}
	sc := c.scope(u)
	for _, level := range []domain.Level{domain.Town, domain.Village} {
		ps, err := query.Places(c.db, level, uuid.Nil)
		if err != nil {
			return d, err
		}
		for _, q := range ps {
			if sc.sees(q.ID) {
				d.Places = append(d.Places, q)
			}
		}
	}
	return d, nil
}

func (c *Console) settings(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.URL.Query().Get("place")
	if id == "" {
		// The first village of the scope.
		d, err := c.settingsData(&domain.Place{}, domain.DefaultRules(), u)
		if err != nil {
			c.fail(w, r, u, err)
			return
		}
		for _, p := range d.Places {
			if p.Level == domain.Village {
				id = p.ID.String()
				break
			}
		}
	}
	p, err := c.settingsPlace(id, u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.showSettings(w, r, u, p, nil, "")
}

func (c *Console) showSettings(w http.ResponseWriter, r *http.Request, u *user, p *domain.Place, form *domain.Rules, problem string) {
	rules, err := c.rulesInForce(p)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	if form != nil {
		rules = *form
	}
	d, err := c.settingsData(p, rules, u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	flash := ""
	if r.URL.Query().Get("saved") == "1" {
		flash = "已保存，设备下次同步时收到 / saved: devices get it at their next sync"
	}
	c.render(w, "settings", status, page{Title: "帮扶规则 Settings", User: u, Data: d, Error: problem, Flash: flash})
}

// saveSettings writes the place's rules as its record, the way bangfud rules
// does, so every device of the place receives them by sync.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, u *user) {
	p, err := c.settingsPlace(r.PostFormValue("place"), u)
	if err != nil {
		c.fail(w, r, u, err)
		return
	}
	next := *p
	if r.PostFormValue("inherit") == "1" {
		next.Rules = nil
	} else {
		rules, err := c.rulesInForce(p)
		if err != nil {
			c.fail(w, r, u, err)
			return
		}
		for _, f := range ruleInts {
			v, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue(f.Key)))
			if err != nil {
				c.showSettings(w, r, u, p, &rules, fmt.Sprintf("“%s”应是整数 / %s must be a whole number", f.Zh, f.En))
				return
			}
			*f.field(&rules) = v
		}
		rules.Statuses, rules.Approvers = nil, nil
		for _, s := range ruleStatuses {
			if slices.Contains(r.PostForm["statuses"], string(s)) {
				rules.Statuses = append(rules.Statuses, s)
			}
		}
		for _, a := range ruleApprovers {
			if slices.Contains(r.PostForm["approvers"], string(a)) {
				rules.Approvers = append(rules.Approvers, a)
			}
		}
		if err := rules.Validate(); err != nil {
			msg := err.Error()
			if de, ok := err.(*domain.Error); ok {
				msg = de.Zh + " / " + de.En
			}
			c.showSettings(w, r, u, p, &rules, msg)
			return
		}
		next.Rules = &rules
	}
	if err := c.st.Put(uuid.Nil, &next); err != nil {
		c.fail(w, r, u, err)
		return
	}
	c.record(u, "settings", p.Name, describeRules(next.Rules))
	http.Redirect(w, r, Prefix+"settings?place="+p.ID.String()+"&saved=1", http.StatusSeeOther)
}

// describeRules is the audit log's note of rules saved.
func describeRules(r *domain.Rules) string {
	if r == nil {
		return "inherited"
	}
	var parts []string
	for _, f := range ruleInts {
		parts = append(parts, fmt.Sprintf("%s=%d", f.Key, *f.field(r)))
	}
	var st, ap []string
	for _, s := range r.Statuses {
		st = append(st, string(s))
	}
	for _, a := range r.Approvers {
		ap = append(ap, string(a))
	}
	return strings.Join(parts, " ") + " statuses=" + strings.Join(st, ",") + " approvers=" + strings.Join(ap, ",")
}
