package domain

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// PlanStatus is where a plan stands in review.
type PlanStatus string

// The plan states.
const (
	PlanDraft     PlanStatus = "draft"     // 草稿
	PlanSubmitted PlanStatus = "submitted" // 待审核
	PlanApproved  PlanStatus = "approved"  // 已审核
	PlanReturned  PlanStatus = "returned"  // 退回修改
)

// PlanStatusName returns the Chinese and English names of a plan state.
func PlanStatusName(s PlanStatus) (zh, en string) {
	switch s {
	case PlanDraft:
		return "草稿", "draft"
	case PlanSubmitted:
		return "待审核", "awaiting review"
	case PlanApproved:
		return "已审核", "signed off"
	case PlanReturned:
		return "退回修改", "sent back"
	}
	return string(s), string(s)
}

// Plan is a household's 一户一策 (脱贫攻坚计划): a goal and a list of measures,
// written with the household by its group cadre and helper and reviewed by the
// team leader. Measures and reviews are separate records, so that measures
// added on two devices at once both survive.
type Plan struct {
	Meta
	Household uuid.UUID  `json:"household"`
	Goal      string     `json:"goal"`
	Start     time.Time  `json:"start"` // the plan's first day
	Status    PlanStatus `json:"status"`
}

// Kind returns KindPlan.
func (*Plan) Kind() Kind { return KindPlan }

// Validate checks the plan on its own.
func (p *Plan) Validate(time.Time) error {
	if p.Household == uuid.Nil {
		return Errorf(EINVALID, "household", "计划必须属于一户", "a plan must belong to a household")
	}
	if p.Start.IsZero() {
		return Errorf(EINVALID, "start", "请填写计划开始日期", "enter the plan's start date")
	}
	if err := checkText("goal", "计划目标", "goal", p.Goal); err != nil {
		return err
	}
	return checkSet("status", "计划状态", "plan status", p.Status, PlanDraft, PlanSubmitted, PlanApproved, PlanReturned)
}

// MeasureKind is the kind of a measure (措施).
type MeasureKind string

// The measure kinds, from the seed.
const (
	MeasureFarming    MeasureKind = "farming"    // 种植养殖
	MeasureTraining   MeasureKind = "training"   // 技能培训
	MeasureDividend   MeasureKind = "dividend"   // 入股分红
	MeasureMigrant    MeasureKind = "migrant"    // 外出务工
	MeasureHandicraft MeasureKind = "handicraft" // 手工制品 (古枹罕手工作坊)
	MeasureEcommerce  MeasureKind = "ecommerce"  // 电商销售
	MeasureHousing    MeasureKind = "housing"    // 建好房
	MeasureWater      MeasureKind = "water"      // 通上水
	MeasurePower      MeasureKind = "power"      // 拉通电
	MeasureRoad       MeasureKind = "road"       // 修好路
	MeasureOther      MeasureKind = "other"      // 其他
)

// MeasureKinds lists the measure kinds in the order the app offers them.
var MeasureKinds = []MeasureKind{MeasureFarming, MeasureTraining, MeasureDividend, MeasureMigrant,
	MeasureHandicraft, MeasureEcommerce, MeasureHousing, MeasureWater, MeasurePower, MeasureRoad, MeasureOther}

// MeasureKindName returns the Chinese and English names of a measure kind.
func MeasureKindName(k MeasureKind) (zh, en string) {
	switch k {
	case MeasureFarming:
		return "种植养殖", "farming and breeding"
	case MeasureTraining:
		return "技能培训", "skills training"
	case MeasureDividend:
		return "入股分红", "shares and dividends"
	case MeasureMigrant:
		return "外出务工", "migrant work"
	case MeasureHandicraft:
		return "手工制品", "handicrafts"
	case MeasureEcommerce:
		return "电商销售", "online sales"
	case MeasureHousing:
		return "建好房", "housing"
	case MeasureWater:
		return "通上水", "water supply"
	case MeasurePower:
		return "拉通电", "electricity"
	case MeasureRoad:
		return "修好路", "roads"
	case MeasureOther:
		return "其他", "other"
	}
	return string(k), string(k)
}

// Progress is how far a measure has come.
type Progress string

// The progress states.
const (
	NotStarted Progress = "not_started" // 未开始
	InProgress Progress = "in_progress" // 进行中
	Done       Progress = "done"        // 已完成
	Stuck      Progress = "stuck"       // 遇到困难
)

// ProgressName returns the Chinese and English names of a progress state.
func ProgressName(p Progress) (zh, en string) {
	switch p {
	case NotStarted:
		return "未开始", "not started"
	case InProgress:
		return "进行中", "in progress"
	case Done:
		return "已完成", "done"
	case Stuck:
		return "遇到困难", "stuck"
	}
	return string(p), string(p)
}

// Measure is one step of a plan: what, who owns it, the target and when it is due.
type Measure struct {
	Meta
	Plan        uuid.UUID   `json:"plan"`
	Household   uuid.UUID   `json:"household"`
	Type        MeasureKind `json:"type"`
	Description string      `json:"description"`
	Owner       uuid.UUID   `json:"owner"`  // the cadre who owns it
	Target      string      `json:"target"` // e.g. 养殖散养鸡 50 只, 年增收 3000 元
	Due         time.Time   `json:"due"`
	Progress    Progress    `json:"progress"`
}

// Kind returns KindMeasure.
func (*Measure) Kind() Kind { return KindMeasure }

// Validate checks the measure on its own; CheckDue checks it against its plan.
func (m *Measure) Validate(time.Time) error {
	if m.Plan == uuid.Nil || m.Household == uuid.Nil {
		return Errorf(EINVALID, "plan", "措施必须属于一户的计划", "a measure must belong to a household's plan")
	}
	if err := checkSet("type", "措施类型", "measure kind", m.Type, MeasureKinds...); err != nil {
		return err
	}
	if strings.TrimSpace(m.Description) == "" {
		return Errorf(EINVALID, "description", "请填写措施内容", "describe the measure")
	}
	if err := checkText("description", "措施内容", "description", m.Description); err != nil {
		return err
	}
	if m.Due.IsZero() {
		return Errorf(EINVALID, "due", "请填写完成期限", "enter a due date")
	}
	return checkSet("progress", "进度", "progress", m.Progress, NotStarted, InProgress, Done, Stuck)
}

// CheckDue reports a due date on a calendar day before the plan's start.
func (m *Measure) CheckDue(p *Plan) error {
	if beforeDay(m.Due, p.Start) {
		return Errorf(EINVALID, "due", "完成期限（%s）不能早于计划开始日期（%s）",
			"the due date (%s) cannot be before the plan starts (%s)",
			m.Due.Format(time.DateOnly), p.Start.Format(time.DateOnly))
	}
	return nil
}

// Verdict is what a review decides.
type Verdict string

// The verdicts.
const (
	VerdictComment Verdict = "comment" // 批注
	VerdictApprove Verdict = "approve" // 审核通过
	VerdictReturn  Verdict = "return"  // 退回修改
)

// Review is a team leader's comment on a plan, possibly signing it off or
// sending it back.
type Review struct {
	Meta
	Plan      uuid.UUID `json:"plan"`
	Household uuid.UUID `json:"household"`
	Reviewer  uuid.UUID `json:"reviewer"`
	Verdict   Verdict   `json:"verdict"`
	Comment   string    `json:"comment"`
	At        time.Time `json:"at"`
	// Snapshot is, on an approval, the goal and measures approved, so a
	// later reviewer sees what changed since (PlanSnapshot.Diff); nil on
	// other verdicts and on approvals written before it existed.
	Snapshot *PlanSnapshot `json:"snapshot"`
}

// Kind returns KindReview.
func (*Review) Kind() Kind { return KindReview }

// Validate checks the review on its own.
func (r *Review) Validate(now time.Time) error {
	if r.Plan == uuid.Nil || r.Household == uuid.Nil {
		return Errorf(EINVALID, "plan", "审核必须针对一户的计划", "a review must be of a household's plan")
	}
	if r.Reviewer == uuid.Nil {
		return Errorf(EINVALID, "reviewer", "审核人不能为空", "the reviewer is missing")
	}
	if err := checkSet("verdict", "审核结果", "verdict", r.Verdict, VerdictComment, VerdictApprove, VerdictReturn); err != nil {
		return err
	}
	if r.Verdict != VerdictApprove && strings.TrimSpace(r.Comment) == "" {
		return Errorf(EINVALID, "comment", "请填写意见", "write a comment")
	}
	if err := checkText("comment", "审核意见", "comment", r.Comment); err != nil {
		return err
	}
	return checkNotFuture("at", "审核时间", "review time", r.At, now)
}

// PlanStatusAfter returns the plan state a verdict leads to.
func PlanStatusAfter(v Verdict, cur PlanStatus) PlanStatus {
	switch v {
	case VerdictApprove:
		return PlanApproved
	case VerdictReturn:
		return PlanReturned
	}
	return cur
}
