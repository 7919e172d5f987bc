package domain

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Status is a household's standing in the assistance file.
type Status string

// The statuses.
const (
	Registered Status = "registered" // 建档立卡贫困户 (not yet lifted out)
	Lifted     Status = "lifted"     // 已脱贫户 (still followed)
	Monitored  Status = "monitored"  // 监测户 (at risk of relapse)
	Ordinary   Status = "ordinary"   // 一般户
)

// StatusName returns the Chinese and English names of a status.
func StatusName(s Status) (zh, en string) {
	switch s {
	case Registered:
		return "建档立卡贫困户", "registered poor"
	case Lifted:
		return "已脱贫户", "lifted out of poverty"
	case Monitored:
		return "监测户", "monitored for relapse"
	case Ordinary:
		return "一般户", "ordinary"
	}
	return string(s), string(s)
}

// Household is a 户: its head, where it lives and the facts a cadre must be able
// to recite at the door (一口清). Members are separate records.
type Household struct {
	Meta
	HeadName       string    `json:"head_name"`
	Phone          string    `json:"phone"`
	IDNumber       string    `json:"id_number"` // head's resident ID number
	Group          uuid.UUID `json:"group"`     // the 社 it belongs to
	NaturalVillage uuid.UUID `json:"natural_village"`
	Address        string    `json:"address"`
	Status         Status    `json:"status"`
	Farmland       float64   `json:"farmland"` // mu (亩)
	Size           int       `json:"size"`     // number of people, head included
	Income         string    `json:"income"`   // main sources of income, free text
	Notes          string    `json:"notes"`
	// Exit is set when the household is no longer followed here: moved out,
	// merged into another, or no longer existing. The record stays, for the
	// history; lists, checks and scopes leave it out.
	Exit       Exit      `json:"exit"`
	ExitOn     time.Time `json:"exit_on"`
	ExitReason string    `json:"exit_reason"`
	// Request is a cadre's request to change Status (纳入监测、退出监测、
	// 建档立卡), which policy reserves for the town: a team leader or the
	// town approves it (sets Status and clears Request) or refuses it.
	Request *StatusRequest `json:"status_request"`
}

// StatusRequest asks for a household's status to change.
type StatusRequest struct {
	To     Status    `json:"to"`
	Reason string    `json:"reason"`
	By     uuid.UUID `json:"by"` // the cadre who asks
	At     time.Time `json:"at"`
}

// Exit is why a household left the roster.
type Exit string

// The exits.
const (
	MovedOut Exit = "moved_out" // 迁出
	Merged   Exit = "merged"    // 并户
	Gone     Exit = "gone"      // 户已消亡 (注销)
)

// ExitName returns the Chinese and English names of an exit.
func ExitName(e Exit) (zh, en string) {
	switch e {
	case MovedOut:
		return "已迁出", "moved out"
	case Merged:
		return "已并户", "merged"
	case Gone:
		return "已注销", "no longer exists"
	}
	return string(e), string(e)
}

// Current reports whether the household is still followed: not deleted, not
// moved out, merged or gone.
func (h *Household) Current() bool { return !h.Deleted && h.Exit == "" }

// Kind returns KindHousehold.
func (*Household) Kind() Kind { return KindHousehold }

// Validate checks the household on its own.
func (h *Household) Validate(time.Time) error {
	if err := checkName("head_name", "户主姓名", "head of household", h.HeadName); err != nil {
		return err
	}
	if h.Group == uuid.Nil {
		return Errorf(EINVALID, "group", "请选择所属的社", "choose the household's group (社)")
	}
	if err := CheckPhone("phone", h.Phone); err != nil {
		return err
	}
	if err := CheckIDNumber("id_number", h.IDNumber); err != nil {
		return err
	}
	if err := checkSet("status", "户类型", "status", h.Status, Registered, Lifted, Monitored, Ordinary); err != nil {
		return err
	}
	if !(h.Farmland >= 0 && h.Farmland <= 10000) { // also NaN, which JSON cannot carry
		return Errorf(EINVALID, "farmland", "耕地面积应在 0 到 10000 亩之间", "farmland must be between 0 and 10,000 mu")
	}
	if h.Size < 1 || h.Size > 50 {
		return Errorf(EINVALID, "size", "家庭人口应在 1 到 50 人之间", "household size must be between 1 and 50")
	}
	if err := checkText("notes", "备注", "notes", h.Notes); err != nil {
		return err
	}
	if r := h.Request; r != nil {
		if err := checkSet("status_request", "申请的户类型", "requested status", r.To, Registered, Lifted, Monitored, Ordinary); err != nil {
			return err
		}
		if r.To == h.Status {
			return Errorf(EINVALID, "status_request", "申请的户类型与现在的相同", "the requested status is the current one")
		}
		if strings.TrimSpace(r.Reason) == "" {
			return Errorf(EINVALID, "status_request", "请说明申请变更户类型的理由", "give the reason for the change of status")
		}
		if err := checkText("status_request", "理由", "reason", r.Reason); err != nil {
			return err
		}
	}
	if h.Exit != "" {
		if err := checkSet("exit", "户状态", "exit", h.Exit, MovedOut, Merged, Gone); err != nil {
			return err
		}
		if h.ExitOn.IsZero() {
			return Errorf(EINVALID, "exit_on", "请填写迁出或注销日期", "give the date the household left")
		}
	}
	return checkText("exit_reason", "原因", "reason", h.ExitReason)
}

// Member is one person of a household (家庭成员), the head included.
type Member struct {
	Meta
	Household uuid.UUID `json:"household"`
	Name      string    `json:"name"`
	Relation  string    `json:"relation"`   // 户主, 配偶, 子, 女, 父, 母, 孙子, ...
	Gender    string    `json:"gender"`     // "男" or "女"
	BirthYear int       `json:"birth_year"` // the year alone, when the day is not known; Birth's year otherwise
	// Birth is the birth date (midnight, in the zone it was entered in);
	// zero when only the year is known (BirthYear). See Born and Age.
	Birth     time.Time `json:"birth"`
	IDNumber  string    `json:"id_number"`
	Health    string    `json:"health"`    // 健康, 慢性病, 残疾, ...
	Work      string    `json:"work"`      // 务农, 外出务工, 在校生, ...
	Education string    `json:"education"` // 文盲, 小学, 初中, 高中, 大专及以上, 在校生...
	// Gone is set when the member is no longer part of the household:
	// deceased, moved away (married out, settled elsewhere). The record
	// stays; the household's card lists the member apart.
	Gone     MemberExit `json:"gone"`
	GoneOn   time.Time  `json:"gone_on"`
	GoneNote string     `json:"gone_note"`
}

// MemberExit is why a member left the household.
type MemberExit string

// The member exits.
const (
	Deceased  MemberExit = "deceased"   // 已故
	MovedAway MemberExit = "moved_away" // 迁出 (婚出、外迁落户)
)

// MemberExitName returns the Chinese and English names of a member exit.
func MemberExitName(e MemberExit) (zh, en string) {
	switch e {
	case Deceased:
		return "已故", "deceased"
	case MovedAway:
		return "已迁出", "moved away"
	}
	return string(e), string(e)
}

// Current reports whether the member still belongs to the household.
func (m *Member) Current() bool { return !m.Deleted && m.Gone == "" }

// Kind returns KindMember.
func (*Member) Kind() Kind { return KindMember }

// Validate checks the member on its own.
func (m *Member) Validate(now time.Time) error {
	if m.Household == uuid.Nil {
		return Errorf(EINVALID, "household", "成员必须属于一户", "a member must belong to a household")
	}
	if err := checkName("name", "成员姓名", "member name", m.Name); err != nil {
		return err
	}
	if m.Gender != "" {
		if err := checkSet("gender", "性别", "gender", m.Gender, "男", "女"); err != nil {
			return err
		}
	}
	if m.BirthYear != 0 && (m.BirthYear < 1900 || m.BirthYear > now.Year()) {
		return Errorf(EINVALID, "birth_year", "出生年份 %d 不合理", "birth year %d is not plausible", m.BirthYear)
	}
	if err := m.checkBirth(now); err != nil {
		return err
	}
	if m.Gone != "" {
		if err := checkSet("gone", "成员状态", "member status", m.Gone, Deceased, MovedAway); err != nil {
			return err
		}
		if err := checkNotFuture("gone_on", "日期", "date", m.GoneOn, now); err != nil {
			return err
		}
	}
	if err := checkText("gone_note", "说明", "note", m.GoneNote); err != nil {
		return err
	}
	return CheckIDNumber("id_number", m.IDNumber)
}
