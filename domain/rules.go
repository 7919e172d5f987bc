package domain

// Rules are the settings that live in the data (帮扶规则): the three-level
// quotas, the days after which a household is overdue for a visit, and who
// may approve a household's plan. They are set on a village's or a town's
// Place record (Place.Rules), so they sync to every device that works there
// and are edited by the leads who edit that place: a team leader on the
// tablet, the office with `bangfud rules`. A village's rules are its own, else
// its town's, else the defaults (see Effective).
type Rules struct {
	County      int      `json:"county"`       // households per county-level leader
	Section     int      `json:"section"`      // households per section-level cadre
	Other       int      `json:"other"`        // households per other cadre
	Statuses    []Status `json:"statuses"`     // statuses that need the three levels
	Stationed   int      `json:"stationed"`    // least percent of a town's cadres stationed in villages; 0: not checked
	OverdueDays int      `json:"overdue_days"` // a household not visited for this many days is overdue
	Approvers   []Role   `json:"approvers"`    // roles that may approve a plan
	// BackdateDays is how many days back a visit's time may be set (a visit
	// written up in the evening, or days later after a trip without
	// coverage); 0 means DefaultBackdateDays.
	BackdateDays int `json:"backdate_days"`
	// CorrectDays is how many days after writing a visit its cadre may
	// correct it (the earlier version is kept in Visit.Corrections); 0
	// means DefaultCorrectDays.
	CorrectDays int `json:"correct_days"`
	// Photos is how many photos one visit, problem or measure may carry; 0
	// means DefaultPhotos.
	Photos int `json:"photos"`
}

// PhotoLimit returns how many photos one record may carry under r.
func (r Rules) PhotoLimit() int {
	if r.Photos <= 0 {
		return DefaultPhotos
	}
	return r.Photos
}

// DefaultCorrectDays is how long a cadre may correct their own visit when no
// rule says: three days, enough to fix the evening's write-up or the next
// morning's second thoughts, short enough that the record of a visit does
// not drift from what happened.
const DefaultCorrectDays = 3

// Correct returns for how many days a cadre may correct their visit under r.
func (r Rules) Correct() int {
	if r.CorrectDays <= 0 {
		return DefaultCorrectDays
	}
	return r.CorrectDays
}

// DefaultBackdateDays is how far back a visit's time may be set when no rule
// says.
const DefaultBackdateDays = 7

// Backdate returns how many days back a visit's time may be set under r.
func (r Rules) Backdate() int {
	if r.BackdateDays <= 0 {
		return DefaultBackdateDays
	}
	return r.BackdateDays
}

// DefaultOverdueDays is the overdue threshold when no rule sets one.
const DefaultOverdueDays = 30

// DefaultApprovers are the roles that approve plans when no rule says: the
// first secretary and the work team leader (the seed: team leaders review
// plans).
func DefaultApprovers() []Role { return []Role{FirstSecretary, TeamLeader} }

// DefaultRules returns the seed's rules: 3 / 2 / 1 for registered, lifted and
// monitored households, 80% stationed, 30 days, and the default approvers.
func DefaultRules() Rules {
	q := DefaultQuotas()
	return Rules{County: q.County, Section: q.Section, Other: q.Other, Statuses: q.Statuses, Stationed: q.Stationed,
		OverdueDays: DefaultOverdueDays, Approvers: DefaultApprovers(), BackdateDays: DefaultBackdateDays, CorrectDays: DefaultCorrectDays, Photos: DefaultPhotos}
}

// Quotas returns the rules' three-level quotas.
func (r Rules) Quotas() Quotas {
	return Quotas{County: r.County, Section: r.Section, Other: r.Other,
		Statuses: append([]Status(nil), r.Statuses...), Stationed: r.Stationed}
}

// MayApprove reports whether a cadre holding role may approve plans under r.
func (r Rules) MayApprove(role Role) bool {
	for _, x := range r.Approvers {
		if x == role {
			return true
		}
	}
	return false
}

// Validate checks the rules: quotas from 0 to 100, known statuses, the share
// from 0 to 100, the overdue days from 1 to 365, the back-dating days from
// 0 (the default) to 365, and at least one approver
// among the roles that lead a village or more.
func (r Rules) Validate() error {
	for _, q := range []struct {
		v      int
		zh, en string
	}{{r.County, "县级领导", "county-level"}, {r.Section, "科级干部", "section-level"}, {r.Other, "其他党员干部", "other"}} {
		if q.v < 0 || q.v > 100 {
			return Errorf(EINVALID, "quotas", "%[1]s结对户数应在 0 到 100 之间（现为 %[3]d）",
				"the %[2]s quota must be between 0 and 100 (not %[3]d)", q.zh, q.en, q.v)
		}
	}
	for _, st := range r.Statuses {
		if err := checkSet("quotas", "户类型", "household status", st, Registered, Lifted, Monitored, Ordinary); err != nil {
			return err
		}
	}
	if r.Stationed < 0 || r.Stationed > 100 {
		return Errorf(EINVALID, "stationed", "驻村比例应在 0 到 100 之间（现为 %d）", "the stationed share must be between 0 and 100 (not %d)", r.Stationed)
	}
	if r.OverdueDays < 1 || r.OverdueDays > 365 {
		return Errorf(EINVALID, "overdue_days", "走访提醒天数应在 1 到 365 之间（现为 %d）",
			"the days before a household is overdue must be between 1 and 365 (not %d)", r.OverdueDays)
	}
	if r.BackdateDays < 0 || r.BackdateDays > 365 {
		return Errorf(EINVALID, "backdate_days", "补录走访天数应在 0 到 365 之间（现为 %d，0 为默认 7 天）",
			"the days a visit may be back-dated must be between 0 and 365 (not %d; 0 means the default, 7)", r.BackdateDays)
	}
	if r.CorrectDays < 0 || r.CorrectDays > 30 {
		return Errorf(EINVALID, "correct_days", "走访可修改天数应在 0 到 30 之间（现为 %d，0 为默认 3 天）",
			"the days a visit may be corrected must be between 0 and 30 (not %d; 0 means the default, 3)", r.CorrectDays)
	}
	if r.Photos < 0 || r.Photos > 20 {
		return Errorf(EINVALID, "photos", "每条记录的照片数应在 0 到 20 之间（现为 %d，0 为默认 6 张）",
			"the photos one record may carry must be between 0 and 20 (not %d; 0 means the default, 6)", r.Photos)
	}
	if len(r.Approvers) == 0 {
		return Errorf(EINVALID, "approvers", "请至少选择一个可以审核计划的职责", "choose at least one role that may approve plans")
	}
	for _, a := range r.Approvers {
		if !a.Leads() {
			zh, en := RoleName(a)
			return Errorf(EINVALID, "approvers", "“%[1]s”不能审核计划", "a %[2]s cannot approve plans", zh, en)
		}
	}
	return nil
}

// Effective returns the rules that hold at a village: the village's own,
// else its town's, else fallback. Either place may be nil.
func Effective(village, town *Place, fallback Rules) Rules {
	for _, p := range []*Place{village, town} {
		if p != nil && !p.Deleted && p.Rules != nil {
			return *p.Rules
		}
	}
	return fallback
}
