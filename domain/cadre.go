package domain

import (
	"time"

	"github.com/google/uuid"
)

// Rank is a cadre's rank, which sets how many households they pair with.
type Rank string

// The ranks.
const (
	RankCounty  Rank = "county"  // 县级领导
	RankSection Rank = "section" // 科级干部
	RankOther   Rank = "other"   // 其他党员干部
)

// RankName returns the Chinese and English names of a rank.
func RankName(r Rank) (zh, en string) {
	switch r {
	case RankCounty:
		return "县级领导", "county-level leader"
	case RankSection:
		return "科级干部", "section-level cadre"
	case RankOther:
		return "其他党员干部", "other cadre"
	}
	return string(r), string(r)
}

// Cadre is anyone who helps: a rank, a unit, a phone. What they are responsible
// for is given by Assignments.
type Cadre struct {
	Meta
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Rank  Rank   `json:"rank"`
	Unit  string `json:"unit"`  // 派出单位 / 联系单位
	Title string `json:"title"` // e.g. 镇党委副书记
	// Left is set when the cadre no longer helps here (retired or
	// transferred); the record stays, for the history of who helped whom.
	Left       Departure `json:"left"`
	LeftOn     time.Time `json:"left_on"`
	LeftReason string    `json:"left_reason"`
}

// Departure is why a cadre stopped helping.
type Departure string

// The departures.
const (
	Retired     Departure = "retired"     // 退休
	Transferred Departure = "transferred" // 调离
)

// DepartureName returns the Chinese and English names of a departure.
func DepartureName(d Departure) (zh, en string) {
	switch d {
	case Retired:
		return "退休", "retired"
	case Transferred:
		return "调离", "transferred"
	}
	return string(d), string(d)
}

// Current reports whether the cadre still helps: not deleted, not retired or
// transferred.
func (c *Cadre) Current() bool { return !c.Deleted && c.Left == "" }

// Kind returns KindCadre.
func (*Cadre) Kind() Kind { return KindCadre }

// Validate checks the cadre on its own.
func (c *Cadre) Validate(time.Time) error {
	if err := checkName("name", "干部姓名", "cadre name", c.Name); err != nil {
		return err
	}
	if err := checkSet("rank", "职级", "rank", c.Rank, RankCounty, RankSection, RankOther); err != nil {
		return err
	}
	if c.Left != "" {
		if err := checkSet("left", "离岗原因", "departure", c.Left, Retired, Transferred); err != nil {
			return err
		}
		if c.LeftOn.IsZero() {
			return Errorf(EINVALID, "left_on", "请填写离岗日期", "give the date the cadre left")
		}
	}
	if err := checkText("left_reason", "离岗说明", "reason", c.LeftReason); err != nil {
		return err
	}
	return CheckPhone("phone", c.Phone)
}

// Role is what an assignment makes a cadre responsible for.
type Role string

// The roles. The first three pair a cadre with a household (三级帮扶); the
// others attach a cadre to a place.
const (
	PairCounty       Role = "pair_county"       // 县级领导结对 (target: household)
	PairSection      Role = "pair_section"      // 科级干部结对 (target: household)
	Helper           Role = "helper"            // 帮扶责任人 (target: household)
	GroupCadre       Role = "group_cadre"       // 包社干部 / 第一社长 (target: group)
	GroupCadreLead   Role = "group_cadre_lead"  // 驻村包社组长 (target: village)
	FirstSecretary   Role = "first_secretary"   // 第一书记 (target: village)
	TeamLeader       Role = "team_leader"       // 驻村工作队长 (target: village)
	TeamMember       Role = "team_member"       // 驻村工作队员 (target: village)
	VillageLead      Role = "village_lead"      // 包村领导 (target: village)
	VillageCommittee Role = "village_committee" // 村两委: 支部书记, 村委主任, 村监委主任 (target: village)
	CityContact      Role = "city_contact"      // 县级领导联系村 (target: village)
	TownLead         Role = "town_lead"         // 包镇领导 (target: town)
	Office           Role = "office"            // 镇、市办公室: roster and devices (target: town or city)
)

// RoleName returns the Chinese and English names of a role.
func RoleName(r Role) (zh, en string) {
	switch r {
	case PairCounty:
		return "县级领导结对帮扶", "county-level pairing"
	case PairSection:
		return "科级干部结对帮扶", "section-level pairing"
	case Helper:
		return "帮扶责任人", "helper"
	case GroupCadre:
		return "包社干部", "group cadre"
	case GroupCadreLead:
		return "驻村包社组长", "group cadre lead"
	case FirstSecretary:
		return "第一书记", "first secretary"
	case TeamLeader:
		return "驻村工作队长", "work team leader"
	case TeamMember:
		return "驻村工作队员", "work team member"
	case VillageLead:
		return "包村领导", "village lead"
	case VillageCommittee:
		return "村两委", "village committee"
	case CityContact:
		return "联系村县级领导", "county-level village contact"
	case TownLead:
		return "包镇领导", "town lead"
	case Office:
		return "办公室", "office"
	}
	return string(r), string(r)
}

// TargetLevel returns the level of place a role's assignment points at, or ""
// when it points at a household.
func (r Role) TargetLevel() Level {
	switch r {
	case PairCounty, PairSection, Helper:
		return ""
	case GroupCadre:
		return Group
	case TownLead:
		return Town
	case Office:
		return Town // or City; see Assignment.Validate
	}
	return Village
}

// IsPairing reports whether r pairs a cadre with a household.
func (r Role) IsPairing() bool { return r == PairCounty || r == PairSection || r == Helper }

// Single reports whether a household or place has one holder of r at a
// time: one county-level leader, one section-level cadre and one helper per
// household (三级帮扶), one group cadre per 社, one work team leader and one
// first secretary per village, one lead per town. A new holder ends the
// previous one's assignment.
func (r Role) Single() bool {
	switch r {
	case PairCounty, PairSection, Helper, GroupCadre, TeamLeader, FirstSecretary, TownLead:
		return true
	}
	return false
}

// Leads reports whether r sees and reviews a whole village or more.
func (r Role) Leads() bool {
	switch r {
	case FirstSecretary, TeamLeader, GroupCadreLead, VillageLead, VillageCommittee, CityContact, TownLead, Office:
		return true
	}
	return false
}

// Assignment makes a cadre responsible for a household or a place in a role.
type Assignment struct {
	Meta
	Cadre  uuid.UUID `json:"cadre"`
	Role   Role      `json:"role"`
	Target uuid.UUID `json:"target"` // household or place
	Title  string    `json:"title"`  // e.g. 支部书记 for a village committee member
	Since  time.Time `json:"since"`
	// Until is when the assignment ended (zero while it holds) and EndReason
	// why: 帮扶力量调整, 调离, 户已迁出... An ended assignment stays, for the
	// history (帮扶力量调整记录), but counts nowhere.
	Until     time.Time `json:"until"`
	EndReason string    `json:"end_reason"`
}

// Current reports whether the assignment holds: not deleted, not ended.
func (a *Assignment) Current() bool { return !a.Deleted && a.Until.IsZero() }

// End ends the assignment on day for reason.
func (a *Assignment) End(day time.Time, reason string) {
	a.Until, a.EndReason = day, reason
}

// Kind returns KindAssignment.
func (*Assignment) Kind() Kind { return KindAssignment }

// Validate checks the assignment on its own.
func (a *Assignment) Validate(time.Time) error {
	if a.Cadre == uuid.Nil {
		return Errorf(EINVALID, "cadre", "请选择干部", "choose a cadre")
	}
	if a.Target == uuid.Nil {
		return Errorf(EINVALID, "target", "请选择帮扶对象", "choose what the cadre is responsible for")
	}
	if !a.Until.IsZero() && !a.Since.IsZero() && a.Until.Before(a.Since) {
		return Errorf(EINVALID, "until", "结束日期早于开始日期", "the assignment ends before it starts")
	}
	if err := checkText("end_reason", "结束原因", "reason", a.EndReason); err != nil {
		return err
	}
	return checkSet("role", "职责", "role", a.Role, PairCounty, PairSection, Helper, GroupCadre,
		GroupCadreLead, FirstSecretary, TeamLeader, TeamMember, VillageLead, VillageCommittee,
		CityContact, TownLead, Office)
}
