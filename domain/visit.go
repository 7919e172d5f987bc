package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// VisitKind is the purpose of a visit.
type VisitKind string

// The visit kinds.
const (
	VisitRoutine  VisitKind = "routine"   // 日常走访
	VisitPolicy   VisitKind = "policy"    // 政策宣传
	VisitPlan     VisitKind = "plan"      // 制定、推进一户一策
	VisitFollowUp VisitKind = "follow_up" // 问题回访
	VisitUrgent   VisitKind = "urgent"    // 紧急情况
)

// VisitKinds lists the visit kinds in the order the app offers them.
var VisitKinds = []VisitKind{VisitRoutine, VisitPolicy, VisitPlan, VisitFollowUp, VisitUrgent}

// VisitKindName returns the Chinese and English names of a visit kind.
func VisitKindName(k VisitKind) (zh, en string) {
	switch k {
	case VisitRoutine:
		return "日常走访", "routine visit"
	case VisitPolicy:
		return "政策宣传", "policy explanation"
	case VisitPlan:
		return "一户一策", "household plan"
	case VisitFollowUp:
		return "问题回访", "follow-up"
	case VisitUrgent:
		return "紧急情况", "urgent"
	}
	return string(k), string(k)
}

// Fees is the state of the "两费" (medical insurance and pension contributions)
// collection for a household.
type Fees string

// The fee states.
const (
	FeesUnknown Fees = ""       // not asked
	FeesPaid    Fees = "paid"   // 已缴清
	FeesPartly  Fees = "partly" // 部分缴纳
	FeesUnpaid  Fees = "unpaid" // 未缴
	FeesExempt  Fees = "exempt" // 免缴 / 代缴
)

// Water is what a visit found about drinking-water safety (饮水安全).
type Water string

// The water states.
const (
	WaterUnknown Water = ""       // not checked
	WaterSafe    Water = "safe"   // 安全
	WaterUnsafe  Water = "unsafe" // 不安全: becomes a problem
)

// Visit is an 入户走访记录: who visited which household, when, and what they
// saw, explained and found. Problems found are separate records, so each can be
// escalated and closed on its own.
type Visit struct {
	Meta
	Household uuid.UUID `json:"household"`
	Cadre     uuid.UUID `json:"cadre"`
	At        time.Time `json:"at"`
	Type      VisitKind `json:"type"`
	Notes     string    `json:"notes"`    // 村情户情民情
	Policies  bool      `json:"policies"` // 政策宣传 done
	Policy    string    `json:"policy"`   // which policies, free text
	Fees      Fees      `json:"fees"`
	Water     Water     `json:"water"`
	FollowUp  string    `json:"follow_up"` // what is owed next
	Due       time.Time `json:"due"`       // when the follow-up is owed; zero if none
	// Companions are the cadres who came along (the helper, village staff).
	Companions []uuid.UUID `json:"companions"`
	// Met is the member of the household the cadre spoke with; zero if not
	// recorded. Absent (未遇到) says nobody was at home: the attempt still
	// counts as contact, and is shown as such.
	Met    uuid.UUID `json:"met"`
	Absent bool      `json:"absent"`
	// FollowUpDone is when the follow-up was done (跟进已办结): marked on
	// the card or the to-do list with one tap, or by the next visit that
	// says so; zero while it is owed.
	FollowUpDone time.Time `json:"follow_up_done"`
	// Corrections are the visit as it was before each correction its cadre
	// made (Rules.CorrectDays), oldest first: its history.
	Corrections []VisitCorrection `json:"corrections"`
}

// VisitContent is what a cadre wrote of a visit, the part a correction may
// change.
type VisitContent struct {
	At         time.Time   `json:"at"`
	Type       VisitKind   `json:"type"`
	Notes      string      `json:"notes"`
	Policies   bool        `json:"policies"`
	Policy     string      `json:"policy"`
	Fees       Fees        `json:"fees"`
	Water      Water       `json:"water"`
	FollowUp   string      `json:"follow_up"`
	Due        time.Time   `json:"due"`
	Companions []uuid.UUID `json:"companions"`
	Met        uuid.UUID   `json:"met"`
	Absent     bool        `json:"absent"`
}

// VisitCorrection is one correction of a visit: when it was made and the
// visit as it stood before.
type VisitCorrection struct {
	At     time.Time    `json:"at"`
	Before VisitContent `json:"before"`
}

// Content returns what the cadre wrote of the visit.
func (v *Visit) Content() VisitContent {
	return VisitContent{At: v.At, Type: v.Type, Notes: v.Notes, Policies: v.Policies, Policy: v.Policy, Fees: v.Fees,
		Water: v.Water, FollowUp: v.FollowUp, Due: v.Due, Companions: slices.Clone(v.Companions), Met: v.Met, Absent: v.Absent}
}

// SetContent sets what the cadre wrote of the visit.
func (v *Visit) SetContent(c VisitContent) {
	v.At, v.Type, v.Notes, v.Policies, v.Policy, v.Fees = c.At, c.Type, c.Notes, c.Policies, c.Policy, c.Fees
	v.Water, v.FollowUp, v.Due, v.Companions, v.Met, v.Absent = c.Water, c.FollowUp, c.Due, slices.Clone(c.Companions), c.Met, c.Absent
}

// Equal reports whether two contents say the same.
func (c VisitContent) Equal(d VisitContent) bool {
	return c.At.Equal(d.At) && c.Type == d.Type && c.Notes == d.Notes && c.Policies == d.Policies && c.Policy == d.Policy &&
		c.Fees == d.Fees && c.Water == d.Water && c.FollowUp == d.FollowUp && c.Due.Equal(d.Due) &&
		slices.Equal(c.Companions, d.Companions) && c.Met == d.Met && c.Absent == d.Absent
}

// Correctable reports whether cadre may still correct the visit at now under
// a correction window of days: it is theirs and was written no more than
// days ago.
func (v *Visit) Correctable(cadre uuid.UUID, now time.Time, days int) bool {
	if days <= 0 {
		days = DefaultCorrectDays
	}
	return v.Cadre == cadre && !v.Deleted && !now.After(v.Created.AddDate(0, 0, days))
}

// ErrCorrectWindow refuses a correction of a visit past its window, or by
// another cadre.
var ErrCorrectWindow = Errorf(EINVALID, "visit", "只能在走访后规定天数内修改本人的走访记录",
	"a cadre may correct only their own visit, and only for a few days after writing it")

// FollowUpOwed reports whether the visit left a follow-up not yet done.
func (v *Visit) FollowUpOwed() bool {
	return strings.TrimSpace(v.FollowUp) != "" && v.FollowUpDone.IsZero() && !v.Deleted
}

// VisitClockSlack is how far ahead of a change's stamp an upstream accepts a
// visit's time. The app refuses a future time by its own clock; a phone
// whose clock runs hours fast has its stamps clamped to the server's time
// before it pushes (Clock.SetOffset), but not the times the cadre saved, so
// an upstream that refused every time ahead of the stamp would refuse that
// phone's honest visits.
const VisitClockSlack = 24 * time.Hour

// CheckVisitTime checks a visit's time against when it was written (now):
// not in the future, and not more than days back. The app checks it when a
// cadre saves a visit, an upstream when a pushed change sets the time (with
// the change's stamp as now, so a phone that was out of coverage for days is
// judged by when the visit was written).
func CheckVisitTime(at, now time.Time, days int) error {
	if err := checkNotFuture("at", "走访时间", "visit time", at, now); err != nil {
		return err
	}
	if days <= 0 {
		days = DefaultBackdateDays
	}
	if at.Before(now.AddDate(0, 0, -days)) {
		return Errorf(EINVALID, "at", "走访时间最多只能补录 %[1]d 天前的（%[2]s）",
			"a visit can be back-dated at most %[1]d days (%[3]s)", days, at.Format("2006-01-02 15:04"), at.Format("2006-01-02 15:04"))
	}
	return nil
}

// Kind returns KindVisit.
func (*Visit) Kind() Kind { return KindVisit }

// Validate checks the visit on its own; now bounds its time.
func (v *Visit) Validate(now time.Time) error {
	if v.Household == uuid.Nil {
		return Errorf(EINVALID, "household", "请选择走访的农户", "choose the household visited")
	}
	if v.Cadre == uuid.Nil {
		return Errorf(EINVALID, "cadre", "走访人不能为空", "the visiting cadre is missing")
	}
	if v.At.IsZero() {
		return Errorf(EINVALID, "at", "请填写走访时间", "enter the time of the visit")
	}
	if err := checkNotFuture("at", "走访时间", "visit time", v.At, now); err != nil {
		return err
	}
	if v.At.Before(time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)) {
		return Errorf(EINVALID, "at", "走访时间太早，请核对", "the visit time is too early; please check it")
	}
	if err := checkSet("type", "走访类型", "visit kind", v.Type, VisitKinds...); err != nil {
		return err
	}
	if err := checkSet("fees", "两费收缴", "fee collection", v.Fees, FeesUnknown, FeesPaid, FeesPartly, FeesUnpaid, FeesExempt); err != nil {
		return err
	}
	if err := checkSet("water", "饮水安全", "drinking water", v.Water, WaterUnknown, WaterSafe, WaterUnsafe); err != nil {
		return err
	}
	if strings.TrimSpace(v.Notes) == "" && v.Type != VisitPolicy {
		return Errorf(EINVALID, "notes", "请简要记录走访情况", "write a few words about the visit")
	}
	if err := checkText("notes", "走访记录", "notes", v.Notes); err != nil {
		return err
	}
	if slices.Contains(v.Companions, v.Cadre) || slices.Contains(v.Companions, uuid.Nil) {
		return Errorf(EINVALID, "companions", "同行人员不能包括走访人本人", "a companion cannot be the visiting cadre")
	}
	if v.Absent && v.Met != uuid.Nil {
		return Errorf(EINVALID, "met", "未遇到时不能选择走访对象", "a visit that met nobody cannot name whom it met")
	}
	if !v.Due.IsZero() && beforeDay(v.Due, v.At) {
		return Errorf(EINVALID, "due", "跟进期限不能早于走访日期", "the follow-up date cannot be before the visit")
	}
	return checkText("follow_up", "后续跟进", "follow-up", v.FollowUp)
}

// ProblemStatus is where a problem stands.
type ProblemStatus string

// The problem states. A problem is open until resolved; it may be escalated
// (reported) to the village or the town on the way (及时向村镇汇报).
const (
	ProblemOpen     ProblemStatus = "open"     // 待处理
	ProblemVillage  ProblemStatus = "village"  // 已上报村
	ProblemTown     ProblemStatus = "town"     // 已上报镇
	ProblemResolved ProblemStatus = "resolved" // 已解决
)

// ProblemStatusName returns the Chinese and English names of a problem state.
func ProblemStatusName(s ProblemStatus) (zh, en string) {
	switch s {
	case ProblemOpen:
		return "待处理", "open"
	case ProblemVillage:
		return "已上报村", "reported to village"
	case ProblemTown:
		return "已上报镇", "reported to town"
	case ProblemResolved:
		return "已解决", "resolved"
	}
	return string(s), string(s)
}

// Problem is something found on a visit that someone must act on.
type Problem struct {
	Meta
	Household  uuid.UUID     `json:"household"`
	Visit      uuid.UUID     `json:"visit"` // the visit that found it, if any
	Text       string        `json:"text"`
	Status     ProblemStatus `json:"status"`
	ReportedBy uuid.UUID     `json:"reported_by"` // who escalated it
	ReportedAt time.Time     `json:"reported_at"`
	ResolvedBy uuid.UUID     `json:"resolved_by"`
	ResolvedAt time.Time     `json:"resolved_at"`
	Resolution string        `json:"resolution"`
}

// Kind returns KindProblem.
func (*Problem) Kind() Kind { return KindProblem }

// IsOpen reports whether the problem still needs action.
func (p *Problem) IsOpen() bool { return p.Status != ProblemResolved && !p.Deleted }

// Validate checks the problem on its own.
func (p *Problem) Validate(now time.Time) error {
	if p.Household == uuid.Nil {
		return Errorf(EINVALID, "household", "问题必须属于一户", "a problem must belong to a household")
	}
	if strings.TrimSpace(p.Text) == "" {
		return Errorf(EINVALID, "text", "请描述发现的问题", "describe the problem")
	}
	if err := checkText("text", "问题描述", "problem", p.Text); err != nil {
		return err
	}
	if err := checkSet("status", "问题状态", "problem status", p.Status, ProblemOpen, ProblemVillage, ProblemTown, ProblemResolved); err != nil {
		return err
	}
	if (p.Status == ProblemVillage || p.Status == ProblemTown) && (p.ReportedBy == uuid.Nil || p.ReportedAt.IsZero()) {
		return Errorf(EINVALID, "reported_by", "上报的问题需要记录上报人和时间", "an escalated problem needs who reported it and when")
	}
	if p.Status == ProblemResolved {
		if p.ResolvedBy == uuid.Nil || p.ResolvedAt.IsZero() {
			return Errorf(EINVALID, "resolved_by", "已解决的问题需要记录处理人和时间", "a resolved problem needs who resolved it and when")
		}
		if strings.TrimSpace(p.Resolution) == "" {
			return Errorf(EINVALID, "resolution", "请填写处理结果", "write how the problem was resolved")
		}
		if err := checkNotFuture("resolved_at", "解决时间", "resolution time", p.ResolvedAt, now); err != nil {
			return err
		}
	}
	return nil
}
