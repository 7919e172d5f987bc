package domain

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Step is one move of a problem (问题处理记录): from one status to another,
// by whom, when, with a note. A problem's history is its steps, oldest
// first. Steps are only ever added, never edited, so that two people acting
// on one problem while offline both keep their step: the problem's status
// is a plain field and takes the later of the two changes (the usual
// field-by-field rule), while both steps stay in its history, where a
// leader sees that it was, say, resolved on the phone and sent to the town
// on the tablet. A device writes a step and the problem's new status in one
// transaction.
type Step struct {
	Meta
	Problem   uuid.UUID     `json:"problem"`
	Household uuid.UUID     `json:"household"`
	From      ProblemStatus `json:"from"`
	To        ProblemStatus `json:"to"`
	By        uuid.UUID     `json:"by"`
	At        time.Time     `json:"at"`
	Note      string        `json:"note"`
}

// Kind returns KindStep.
func (*Step) Kind() Kind { return KindStep }

// Validate checks the step on its own.
func (s *Step) Validate(now time.Time) error {
	if s.Problem == uuid.Nil {
		return Errorf(EINVALID, "problem", "处理记录必须属于一个问题", "a step must belong to a problem")
	}
	if s.Household == uuid.Nil {
		return Errorf(EINVALID, "household", "处理记录必须属于一户", "a step must belong to a household")
	}
	all := []ProblemStatus{ProblemOpen, ProblemVillage, ProblemTown, ProblemResolved}
	if err := checkSet("from", "原状态", "status before", s.From, all...); err != nil {
		return err
	}
	if err := checkSet("to", "新状态", "new status", s.To, all...); err != nil {
		return err
	}
	if s.From == s.To {
		return Errorf(EINVALID, "to", "处理记录必须改变问题的状态", "a step must change the problem's status")
	}
	if s.By == uuid.Nil {
		return Errorf(EINVALID, "by", "处理记录需要记录处理人", "a step needs who took it")
	}
	if s.At.IsZero() {
		return Errorf(EINVALID, "at", "处理记录需要记录时间", "a step needs a time")
	}
	if err := checkNotFuture("at", "处理时间", "step time", s.At, now); err != nil {
		return err
	}
	if s.To == ProblemResolved && strings.TrimSpace(s.Note) == "" {
		return Errorf(EINVALID, "note", "请填写处理结果", "write how the problem was resolved")
	}
	return checkText("note", "处理说明", "note", s.Note)
}

// StepLevel is where a writer stands towards a problem's household, for
// the moves they may make.
type StepLevel uint8

// The levels, from the household up.
const (
	StepNone      StepLevel = iota // no relation: no move
	StepHousehold                  // the household's group cadre, helper or a village cadre
	StepVillage                    // a lead of the household's village
	StepTown                       // town staff of the household's town (or the city)
)

// MayStep reports whether a writer at level may move a problem from one
// status to another. The rules:
//
//   - anyone of the household's (level household and up) may escalate an
//     open problem to the village or the town, resolve it, and reopen a
//     resolved one;
//   - the household's cadres may also resolve what sits at the village
//     (they fixed it themselves), but not what sits at the town;
//   - village leads move village→town, send a village problem back
//     (village→open) and resolve it;
//   - town staff act on town-level problems: resolve, hand back to the
//     village, or reopen; and may do whatever a village lead may.
//
// Nobody moves a problem to the status it already has.
func MayStep(level StepLevel, from, to ProblemStatus) bool {
	if from == to || level == StepNone {
		return false
	}
	type move struct{ from, to ProblemStatus }
	household := []move{
		{ProblemOpen, ProblemVillage}, {ProblemOpen, ProblemTown}, {ProblemOpen, ProblemResolved},
		{ProblemVillage, ProblemResolved}, {ProblemResolved, ProblemOpen},
	}
	village := append(slices.Clone(household),
		move{ProblemVillage, ProblemTown}, move{ProblemVillage, ProblemOpen})
	town := append(slices.Clone(village),
		move{ProblemTown, ProblemResolved}, move{ProblemTown, ProblemVillage}, move{ProblemTown, ProblemOpen})
	allowed := map[StepLevel][]move{StepHousehold: household, StepVillage: village, StepTown: town}[level]
	return slices.Contains(allowed, move{from, to})
}

// Move moves problem p to status to, by cadre by at time at with note, and
// returns the step that records it. p's fields follow the move as they
// always have (ReportedBy/ReportedAt when escalating; ResolvedBy,
// ResolvedAt and Resolution when resolving), so a reader of the problem
// alone sees where it stands. The caller writes both records in one
// transaction (store.DB.Put with both). Neither is changed on an error.
func Move(p *Problem, to ProblemStatus, by uuid.UUID, at time.Time, note string, now time.Time) (*Step, error) {
	note = strings.TrimSpace(note)
	s := &Step{Problem: p.ID, Household: p.Household, From: p.Status, To: to, By: by, At: at, Note: note}
	if err := s.Validate(now); err != nil {
		return nil, err
	}
	q := *p
	q.Status = to
	switch to {
	case ProblemVillage, ProblemTown:
		q.ReportedBy, q.ReportedAt = by, at
	case ProblemResolved:
		q.ResolvedBy, q.ResolvedAt, q.Resolution = by, at, note
	}
	if err := q.Validate(now); err != nil {
		return nil, err
	}
	*p = q
	return s, nil
}
