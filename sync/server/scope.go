package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// scope is what a device may read and write: worked out from its cadre's
// assignments at every sync, so a reassignment takes effect at once.
//
//   - A pairing (三级帮扶) reaches the household; a group cadre (包社干部)
//     every household of the group, and new households in it.
//   - A first secretary, team leader or member, group cadre lead, village
//     lead, village committee member or county-level contact reaches the whole
//     village; a town lead, or an office assigned to a town, the whole town;
//     an office assigned to the city, everything.
//   - Records of a household (members, visits, problems, the plan, measures,
//     reviews, conflicts) follow the household.
//   - The roster is public where the cadre works, as on the supervision board
//     (岗位监督栏): places and assignments in the villages and towns of the
//     cadre's households and places are readable, and the cadre records of
//     those who work there (the cadres of those villages, of the towns the
//     cadre covers whole, those assigned to the cadre's towns themselves and
//     those paired with the cadre's households: store.Staff), not the whole
//     city's. Only leads (domain.Role.Leads) write places and assignments in
//     their villages or towns, and the ranks and departures (retired,
//     transferred) of cadres who work there and nowhere else (see
//     [scope.cadreRoster]); anyone may edit the rest of their own cadre
//     record.
//   - A conflict record that belongs to no household (a roster field edited
//     twice at once) is readable by anyone, and may be marked resolved by
//     those who may write the field in conflict.
//   - A device reading a whole village (or town) also reads the pairings of
//     every cadre of the village elsewhere, and their current duties
//     elsewhere (see [scope.crossPairing]); not the places, households or
//     members there.
//
// Within the scope, who may write what follows the kinds' declarations
// (domain.Decls), field by field: see check.
type scope struct {
	// sc is the scope as domain.ScopeOf works it out: its decisions
	// (MayRoster, MayChangeCadre, Approves) are the app's too.
	sc        domain.Scope
	all       bool
	cadre     uuid.UUID
	device    uuid.UUID
	roles     map[uuid.UUID][]domain.Role // village -> the cadre's roles there
	approvers domain.ApproverRoles
	// staff are the cadres whose records the device may read, worked out
	// by loadStaff the first time a cadre record is judged in a sync (most
	// syncs pull none); staffErr is its failure, which fails the sync.
	staff      map[uuid.UUID]bool
	loadStaff  func(within, at []uuid.UUID) (map[uuid.UUID]bool, error)
	staffErr   error
	households map[uuid.UUID]bool // household data readable and writable
	groups     map[uuid.UUID]bool // households in these groups, new ones included
	villages   map[uuid.UUID]bool // whole villages
	towns      map[uuid.UUID]bool // whole towns
	// The roster (places, assignments) is readable in these.
	rosterVillages map[uuid.UUID]bool
	rosterTowns    map[uuid.UUID]bool
	// The roster is writable in these.
	leadVillages map[uuid.UUID]bool
	leadTowns    map[uuid.UUID]bool
	// pairings are assignments readable wherever they are (crossPairing).
	pairings map[uuid.UUID]bool
	// backdate returns how many days back a visit's time may be set in a
	// village (domain.Rules.Backdate); nil: the default.
	backdate func(village uuid.UUID) int
	// correct returns for how many days a cadre may correct their visit in
	// a village (domain.Rules.CorrectDays); nil: the default.
	correct func(village uuid.UUID) int
}

// newScope works out the scope of cadre from the assignments the store
// resolved, with domain.ScopeOf (the rules above are its).
func newScope(cadre, device uuid.UUID, reach []store.Assigned, approvers domain.ApproverRoles) *scope {
	posts := make([]domain.Post, len(reach))
	for i, a := range reach {
		posts[i] = a.Post()
	}
	sc := domain.ScopeOf(posts)
	s := &scope{sc: sc, cadre: cadre, device: device, approvers: approvers, all: sc.All, roles: sc.Roles,
		households: sc.Households, groups: sc.Groups, villages: sc.Villages, towns: sc.Towns,
		rosterVillages: sc.RosterVillages, rosterTowns: sc.RosterTowns,
		leadVillages: sc.LeadVillages, leadTowns: sc.LeadTowns, pairings: sc.Pairings,
	}
	if s.approvers == nil {
		s.approvers = func(uuid.UUID) []domain.Role { return domain.DefaultApprovers() }
	}
	return s
}

// crossPairing reports whether e is an assignment that a device reading a
// whole village (or town) receives although its target is elsewhere: a
// pairing, or a current duty, of a cadre of the village (store.Assigned.Pairings). Without
// the pairings, a county-level leader paired with one household here and two
// in other villages shows as "1/3" on the team leader's tablet while the
// server's export shows no gap; without the duties, the village lead's
// tablet offers to retire a cadre who also works in another village, which
// the server refuses (domain.Scope.MayChangeCadre). Only the assignment
// travels, not the household or place it names: the tablet, holding no such
// place, judges the duty as one where its cadre leads nothing, as the
// server does. Reading it gives no right to write it: the guard judges a
// pushed assignment by where its target is (scope.roster).
func (s *scope) crossPairing(e *store.Entry) bool {
	return e.Change.Kind == domain.KindAssignment && s.pairings[e.Change.Record]
}

// staffPlaces returns what store.Staff needs to work out the cadres the
// device may read: the places it reaches whole or as a reader of their
// roster, and the targets it reaches alone (its households, its towns).
func (s *scope) staffPlaces() (within, at []uuid.UUID) {
	for _, m := range []map[uuid.UUID]bool{s.villages, s.towns, s.rosterVillages} {
		for id := range m {
			within = append(within, id)
		}
	}
	for _, m := range []map[uuid.UUID]bool{s.households, s.groups, s.rosterTowns} {
		for id := range m {
			at = append(at, id)
		}
	}
	return within, at
}

// loadStaffNow works out the cadres the device may read before a store
// transaction calls readable: store.Staff opens a read transaction of its
// own, and a read transaction opened inside another deadlocks bbolt when a
// writer must grow the file meanwhile (found by the fault simulation).
func (s *scope) loadStaffNow() {
	if s.staff == nil && s.staffErr == nil && s.loadStaff != nil {
		s.staff, s.staffErr = s.loadStaff(s.staffPlaces())
	}
}

// within returns where the units readable accepts can be (store.Within),
// from the same sets readable reads, and false for a device reading
// everything.
func (s *scope) within() (store.Within, bool) {
	if s.all {
		return store.Within{}, false
	}
	s.loadStaffNow() // the cadres readable reads
	in := store.Within{Villages: s.villages, Towns: s.towns, Cadres: []uuid.UUID{s.cadre},
		RosterVillages: s.rosterVillages, RosterTowns: s.rosterTowns}
	for id := range s.households {
		in.Households = append(in.Households, id)
	}
	for id := range s.pairings {
		in.Pairings = append(in.Pairings, id)
	}
	for id, ok := range s.staff {
		if ok {
			in.Cadres = append(in.Cadres, id)
		}
	}
	return in, true
}

// readable reports whether the device may pull log entry e, from its header
// alone. A cadre record is readable when it is the device's cadre's or one of
// the staff worked out at sync time (store.Staff: the cadres of the device's
// villages and towns and those paired with its households), not the whole
// city's.
func (s *scope) readable(e *store.Entry) bool {
	switch {
	case s.all, s.crossPairing(e):
		return true
	case e.Change.Kind == domain.KindCadre:
		if e.Change.Record == s.cadre {
			return true
		}
		if s.staff == nil && s.staffErr == nil && s.loadStaff != nil {
			s.staff, s.staffErr = s.loadStaff(s.staffPlaces())
		}
		return s.staff[e.Change.Record]
	case e.Household != uuid.Nil:
		return s.households[e.Household] || s.villages[e.Village] || s.towns[e.Town]
	case e.Village != uuid.Nil:
		return s.rosterVillages[e.Village] || s.villages[e.Village] || s.towns[e.Town]
	case e.Town != uuid.Nil:
		return s.rosterTowns[e.Town] || s.towns[e.Town]
	}
	return true // the city, conflicts on the roster
}

// household reports whether the device may write the data of a household at l.
func (s *scope) household(l store.Location) bool {
	return (l.Household != uuid.Nil && s.households[l.Household]) || s.groups[l.Group] ||
		s.villages[l.Village] || s.towns[l.Town]
}

// roster reports whether the device may write places and assignments at l
// (domain.Scope.MayRoster).
func (s *scope) roster(l store.Location) bool {
	return s.sc.MayRoster(l.Village, l.Town)
}

// leads reports whether the device's cadre leads anything.
func (s *scope) leads() bool { return s.all || len(s.leadVillages) > 0 || len(s.leadTowns) > 0 }

// check is the store.Guard of a push. A change may be applied when
//
//   - it fits its kind's declaration (domain.CheckFields): otherwise it is
//     rejected alone, acknowledged and listed with the reason;
//   - it is the device's own: its author is the device's cadre and its
//     stamp the device's clock (a relay device pushing for other cadres
//     would list those it relays for; not built);
//   - its record is in scope both where it was and where it will be;
//   - every field it sets to a new value may be written by the cadre, as
//     the field's declaration says (domain.Who): their own ID only in a
//     "self" field, the roster's owners only for rank, the village's
//     approvers only for reviews and a plan's approval, never on a plan
//     they created; no field of a conflict but its resolution, by those
//     who may write the field in conflict.
//
// A change refused for scope or role refuses the push (403, field "scope" or
// "role"), naming every such change.
func (s *scope) check(p *store.Proposal) error {
	ch := p.Change
	d := domain.Declared(ch.Kind)
	// The fields' names and types first; whether a new record has all it
	// needs after the scope: an edit of a record the upstream lacks (its
	// creation was set aside as out of scope) is out of scope like its
	// creation, and is offered again with it, not rejected for good.
	if err := domain.CheckFields(ch, false); err != nil {
		return err
	}
	if d.Merged && (!p.Existed || s.setsMerged(d, p)) {
		return s.merged(p)
	}
	if ch.Author != s.cadre || ch.Stamp.Device != s.device {
		return errNotYours
	}
	if !s.all {
		if !s.reaches(d, p.After, p.New) || (p.Existed && !s.reaches(d, p.Before, p.Old)) {
			return errOutOfScope
		}
		// Moving a household to another group is a roster edit: a cadre may
		// keep the facts of their households, not move them between groups.
		if ch.Kind == domain.KindHousehold && p.Existed && p.Before.Group != p.After.Group && !(s.roster(p.Before) && s.roster(p.After)) {
			return errOutOfScope
		}
		// A household's status (纳入监测、退出监测、建档立卡) is the town's to
		// decide: a cadre asks with a status request (domain.StatusRequest),
		// and only a lead of the village or town changes it. A cadre adding
		// a household to their group gives it its first status.
		if v, set := ch.Fields["status"]; ch.Kind == domain.KindHousehold && p.Existed && set && !s.roster(p.After) {
			if cur, ok := p.State("status"); !ok || !jsonEqual(cur.Value, v) {
				return errOutOfScope
			}
		}
	}
	if !p.Existed {
		if err := domain.CheckFields(ch, true); err != nil {
			return err
		}
	}
	if err := s.may(p, d.Write, "", nil); err != nil {
		return err
	}
	for name, v := range ch.Fields {
		if cur, ok := p.State(name); ok && jsonEqual(cur.Value, v) {
			continue // not set by this change: its value stays
		}
		if !p.Existed && zeroJSON(v) {
			continue // a new record's empty field: nothing is written in it
		}
		f, _ := d.Field(name)
		if err := s.may(p, f.Rule(v), name, v); err != nil {
			return err
		}
	}
	if ch.Kind == domain.KindVisit {
		return s.visit(p)
	}
	if ch.Kind == domain.KindPlan && p.Existed {
		return plan(p)
	}
	if ch.Kind == domain.KindMeasure {
		return measure(p)
	}
	return nil
}

// measureFields are what a reviewer approves of a measure: all but its
// progress.
var measureFields = []string{"type", "description", "owner", "target", "due", "deleted"}

// measure keeps reviews honest for measures as plan does for the goal: a new
// measure, or a change of what was approved of one, on a plan that is
// approved is rejected alone, with its reason. The app sends the plan back
// to awaiting review in the same transaction, before the measure, so the
// upstream sees the plan's new status first; recording progress is not a
// change of the plan.
func measure(p *store.Proposal) error {
	m, ok := p.New.(*domain.Measure)
	if !ok {
		return nil
	}
	changed := !p.Existed
	for _, f := range measureFields {
		if raw, set := p.Change.Fields[f]; set && !changed {
			cur, ok := p.State(f)
			changed = !ok || !jsonEqual(cur.Value, raw)
		}
	}
	if !changed {
		return nil
	}
	if rec, _, ok := p.Record(domain.KindPlan, m.Plan); ok {
		if plan := rec.(*domain.Plan); plan.Status == domain.PlanApproved && !plan.Deleted {
			return errApprovedMeasure
		}
	}
	return nil
}

// plan keeps reviews honest: a change of an approved plan's goal that leaves
// it approved is rejected alone, with its reason; the app sends such a plan
// back to awaiting review (待审核) with the new goal, so what was approved is
// always what the plan says.
func plan(p *store.Proposal) error {
	old, ok1 := p.Old.(*domain.Plan)
	cur, ok2 := p.New.(*domain.Plan)
	if ok1 && ok2 && old.Status == domain.PlanApproved && cur.Status == domain.PlanApproved && old.Goal != cur.Goal {
		return errApprovedGoal
	}
	return nil
}

// visit checks what a pushed change sets in a visit beyond the fields'
// types: a time it sets is not in the future (beyond domain.VisitClockSlack)
// nor further back than the village's rules allow (domain.CheckVisitTime), judged from the change's
// stamp, when the cadre wrote it, so a phone out of coverage for days is
// not refused for syncing late; the companions it sets are cadres the device
// may read (its staff: the sync loads them before the push's transaction
// when a visit names companions). Either fault rejects the change alone,
// with its reason.
func (s *scope) visit(p *store.Proposal) error {
	v, ok := p.New.(*domain.Visit)
	if !ok {
		return nil
	}
	if old, ok := p.Old.(*domain.Visit); ok && p.Existed && !s.all {
		if err := s.correction(p, old); err != nil {
			return err
		}
	}
	if raw, set := p.Change.Fields["at"]; set {
		if cur, ok := p.State("at"); !ok || !jsonEqual(cur.Value, raw) {
			days := domain.DefaultBackdateDays
			if s.backdate != nil {
				days = s.backdate(p.After.Village)
			}
			now := time.UnixMilli(p.Change.Stamp.Wall)
			if v.At.After(now) && !v.At.After(now.Add(domain.VisitClockSlack)) {
				now = v.At // a phone's fast clock: see domain.VisitClockSlack
			}
			if err := domain.CheckVisitTime(v.At, now, days); err != nil {
				return err
			}
		}
	}
	if raw, set := p.Change.Fields["companions"]; set && !s.all {
		if cur, ok := p.State("companions"); !ok || !jsonEqual(cur.Value, raw) {
			if s.staffErr != nil {
				return s.staffErr
			}
			for _, c := range v.Companions {
				if c != s.cadre && !s.staff[c] {
					return errCompanion
				}
			}
		}
	}
	return nil
}

// visitContent are the fields of what a cadre wrote of a visit
// (domain.VisitContent), and its history.
var visitContent = []string{"at", "type", "notes", "policies", "policy", "fees", "water", "follow_up", "due",
	"companions", "met", "absent", "corrections"}

// correction decides whether a change of a stored visit by the visit's own
// cadre may change what they wrote: only within the village's correction
// days (domain.Rules.CorrectDays) of writing it, judged by the change's
// stamp. Edits by others (a leader reclassifying a visit) are the roles'
// to allow, as before; marking the follow-up done is not a correction.
func (s *scope) correction(p *store.Proposal, old *domain.Visit) error {
	// The change's author: a tablet relays its phones' changes.
	if p.Change.Author != old.Cadre {
		return nil
	}
	for _, f := range visitContent {
		raw, set := p.Change.Fields[f]
		if !set {
			continue
		}
		if cur, ok := p.State(f); ok && jsonEqual(cur.Value, raw) {
			continue
		}
		days := domain.DefaultCorrectDays
		if s.correct != nil {
			days = s.correct(p.After.Village)
		}
		if !old.Correctable(p.Change.Author, time.UnixMilli(p.Change.Stamp.Wall), days) {
			return domain.ErrCorrectWindow
		}
		return nil
	}
	return nil
}

// merged decides whether a pushed change that creates a record of a merged
// kind (a conflict) may be applied. Conflict records are made by merging,
// on every replica that sees the lost edit; a device may push one the
// upstream did not make itself (it merged the same edits in another order)
// only when it is verifiably what merging made and involves the device's
// own edit: its IDs derive from the record, field, loser and winner
// (domain.ConflictID, domain.ConflictChange), the lost or the winning edit
// was stamped by this device for its cadre, the record in conflict is in
// scope (otherwise it is refused as out of scope, like any change of a
// record that left), and the upstream holds that field at the winner's
// stamp or later.
// Anything else — a conflict between other cadres' edits, a winner the
// upstream never had — is refused. What cannot be checked: the lost value of
// another cadre's edit that the device's own edit overwrote (the upstream
// keeps no history of a field); a device could misstate it, in a record it
// may edit anyway.
func (s *scope) merged(p *store.Proposal) error {
	c, ok := p.New.(*domain.Conflict)
	if !ok {
		return errMerged
	}
	loser, err1 := domain.ParseStamp(c.LoserStamp)
	winner, err2 := domain.ParseStamp(c.WinnerStamp)
	own := func(st domain.Stamp, author uuid.UUID) bool { return st.Device == s.device && author == s.cadre }
	if err1 != nil || err2 != nil || !(own(loser, c.LoserAuthor) || own(winner, c.WinnerAuthor)) ||
		p.Change.Record != domain.ConflictID(c.Record, c.Field, loser) || p.Change.Stamp != winner {
		return errMerged
	}
	want, err := domain.ConflictChange(c, winner)
	if err != nil || want.ID != p.Change.ID {
		return errMerged
	}
	d := domain.Declared(c.RecordKind)
	rec, l, found := p.Record(c.RecordKind, c.Record)
	if d == nil || !found {
		return errMerged
	}
	if !s.all && !s.reaches(d, l, rec) {
		// The device's own loss, on a record that left its scope: set
		// aside as out of scope, and offered again when it comes back.
		return errOutOfScope
	}
	if cur, ok := p.StateOf(c.RecordKind, c.Record, c.Field); !ok || winner.After(cur.Stamp) ||
		(cur.Stamp == winner && !jsonEqual(cur.Value, c.Winner)) {
		return errMerged
	}
	return nil
}

// setsMerged reports whether the change sets a field only merging writes
// (to a new value): a replica that saw another winner for the same loss.
func (s *scope) setsMerged(d *domain.Decl, p *store.Proposal) bool {
	for name, v := range p.Change.Fields {
		if f, _ := d.Field(name); f.Who == domain.WriteMerge {
			if cur, ok := p.State(name); !ok || !jsonEqual(cur.Value, v) {
				return true
			}
		}
	}
	return false
}

// reaches reports whether the device's scope reaches rec, of kind d, at l.
func (s *scope) reaches(d *domain.Decl, l store.Location, rec domain.Record) bool {
	switch {
	case d.Write == domain.WriteRoster && d.Scope != domain.ByCadre:
		return s.roster(l)
	case d.Scope == domain.ByCadre:
		return s.leads() || rec.Metadata().ID == s.cadre
	case d.Merged && l.Household == uuid.Nil:
		return true // a conflict on the roster: may resolves it by its record
	}
	return s.household(l)
}

// may reports whether the device may write, under rule who, the value v of
// a field of the proposed record (v nil: the record as a whole).
func (s *scope) may(p *store.Proposal, who domain.Who, name string, v []byte) error {
	switch who {
	case domain.WriteScope:
	case domain.WriteSelf:
		var id uuid.UUID
		if json.Unmarshal(v, &id) != nil {
			return errRole
		}
		self := s.cadre
		if name == "device" {
			self = s.device
		}
		if id != uuid.Nil && id != self {
			return errNotSelf
		}
	case domain.WriteRoster:
		if p.Change.Kind == domain.KindCadre {
			return s.cadreRoster(p)
		}
		if p.Change.Kind != domain.KindCadre && !(s.all || s.roster(p.After) && (!p.Existed || s.roster(p.Before))) {
			return errRoster
		}
	case domain.WriteApprovers:
		if !s.approves(p.After) {
			return errApprover
		}
		if s.ownPlan(p) {
			return errOwnPlan
		}
	case domain.WriteMerge:
		return errMerged
	case domain.WriteSteps:
		return s.step(p)
	case domain.WriteResolvers:
		c, ok := p.New.(*domain.Conflict)
		if !ok {
			return errRole
		}
		d := domain.Declared(c.RecordKind)
		rec, l, found := p.Record(c.RecordKind, c.Record)
		if d == nil || !found {
			// The record in conflict is not here: its household decides.
			if !s.all && !s.household(p.After) {
				return errOutOfScope
			}
			return nil
		}
		if !s.all && !s.reaches(d, l, rec) {
			return errOutOfScope
		}
		f, _ := d.Field(c.Field)
		var winner []byte = c.Winner
		if who := max(d.Write, f.Rule(winner)); who == domain.WriteRoster || who == domain.WriteApprovers {
			// Resolving is writing the field: the same rule as the record's.
			q := *p
			q.Change.Kind, q.Existed, q.Before, q.After, q.Old, q.New = c.RecordKind, true, l, l, rec, rec
			return s.may(&q, who, c.Field, winner)
		}
	}
	return nil
}

// cadreRoster decides whether the device may write a roster field of a
// cadre record (rank, left and its date and reason: a retirement or a
// transfer). The city office may, for anyone; a lead (domain.Role.Leads)
// may add a cadre, and may change one who works where the lead leads — at
// least one of the cadre's assignments, current or ended, lies in a village
// or town the lead leads — and nowhere else: a current assignment anywhere
// the lead does not lead (a county-level leader paired in three villages)
// leaves the cadre to the town or city office, since retiring them ends
// their duties there too.
func (s *scope) cadreRoster(p *store.Proposal) error {
	var duties []domain.DutyAt
	if p.Existed && !s.all {
		for _, d := range p.Duties(p.Change.Record) {
			duties = append(duties, domain.DutyAt{Village: d.Location.Village, Town: d.Location.Town, Current: d.Assignment.Current()})
		}
	}
	return s.sc.MayChangeCadre(p.Existed, duties)
}

// step decides whether the device may add the problem step p proposes:
// steps are only added, never changed; the step must belong to its
// problem's household; and its move must be one the cadre may make from
// where they stand towards the household (domain.MayStep): city and town
// staff as the town, a lead of the village as the village, anyone else who
// reaches the household as its cadres.
func (s *scope) step(p *store.Proposal) error {
	st, ok := p.New.(*domain.Step)
	if !ok || p.Existed {
		return errStepFixed
	}
	if prob, _, found := p.Record(domain.KindProblem, st.Problem); found && domain.HouseholdOf(prob) != st.Household {
		return errOutOfScope
	}
	level := domain.StepNone
	switch l := p.After; {
	case s.all || s.towns[l.Town]:
		level = domain.StepTown
	case s.leadVillages[l.Village]:
		level = domain.StepVillage
	case s.household(l):
		level = domain.StepHousehold
	}
	if !domain.MayStep(level, st.From, st.To) {
		return errStep
	}
	return nil
}

// approves reports whether the device's cadre approves plans at l: a role
// of theirs at its village or town among the village's approvers
// (domain.Scope.Approves).
func (s *scope) approves(l store.Location) bool {
	if l.Village == uuid.Nil {
		return false
	}
	return s.sc.Approves(l.Village, l.Town, s.approvers(l.Village))
}

// ownPlan reports whether the proposed change approves or returns a plan the
// device's cadre created.
func (s *scope) ownPlan(p *store.Proposal) bool {
	var plan uuid.UUID
	switch r := p.New.(type) {
	case *domain.Plan:
		plan = r.ID
	case *domain.Review:
		if r.Verdict == domain.VerdictComment {
			return false
		}
		plan = r.Plan
	default:
		return false
	}
	rec, _, ok := p.Record(domain.KindPlan, plan)
	if !ok {
		return p.Change.Kind == domain.KindPlan && p.New.Metadata().Author == s.cadre
	}
	return rec.Metadata().Author == s.cadre
}

// jsonEqual reports whether two JSON values are the same text once
// compacted. Values that mean the same but are spelt differently ("é" and
// "\u00e9") count as a change, to which the rules apply: the safe side.
// zeroJSON reports whether v is the JSON of a Go zero value, as a new
// record's unset fields encode: "", false, 0, null, the zero UUID or time.
func zeroJSON(v []byte) bool {
	switch string(bytes.TrimSpace(v)) {
	case `""`, "false", "0", "null", `"00000000-0000-0000-0000-000000000000"`, `"0001-01-01T00:00:00Z"`:
		return true
	}
	return false
}

func jsonEqual(a, b []byte) bool {
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return false
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}

// The reasons a change is refused for its role, each with field "role".
var (
	errNotYours = roleError("这条更改不是本设备的干部在本设备上做的（作者或时间戳不符）",
		"the change was not made by this device's cadre on this device (author or stamp)")
	errNotSelf = roleError("只能以本人的身份记录（走访人、审核人、上报人、处理人须为本人）",
		"you may record only in your own name (visitor, reviewer, reporter, resolver must be you)")
	errRoster   = domain.ErrRoster
	errApprover = roleError("只有本村的驻村工作队长或第一书记可以审核帮扶计划",
		"only the village's work team leader or first secretary may review plans")
	errOwnPlan = roleError("不能审核自己制定的帮扶计划",
		"you may not sign off a plan you made")
	errMerged = roleError("冲突记录只能由同步合并产生，不能直接修改其内容",
		"conflict records are made only by merging; their content cannot be edited")
	errRole      = roleError("无权修改这个字段", "you may not change this field")
	errStepFixed = roleError("问题处理记录写下后不能修改", "a problem step cannot be changed once written")
	errStep      = roleError("您无权这样处理这个问题：包社干部可上报、解决本户问题；包村领导处理上报村的问题；上报镇的问题由镇上处理",
		"you may not move this problem so: a household's cadres escalate and resolve its problems, village leads act on problems at the village, town staff on problems at the town")
)

// errApprovedGoal rejects an edit of an approved plan's goal that keeps it
// approved.
var errApprovedGoal = domain.Errorf(domain.EINVALID, "goal", "已审核的计划修改目标后须重新提交审核",
	"an approved plan whose goal changes must go back to review")

// errApprovedMeasure rejects a new or changed measure of an approved plan.
var errApprovedMeasure = domain.Errorf(domain.EINVALID, "plan", "已审核的计划修改措施后须重新提交审核",
	"an approved plan whose measures change must go back to review")

// errCompanion rejects a visit naming a companion the device may not read:
// not a cadre who works where the visitor works.
var errCompanion = domain.Errorf(domain.EINVALID, "companions", "同行人员须为本村（镇）的干部",
	"a companion must be a cadre working in the village or town")

func roleError(zh, en string) *domain.Error {
	return &domain.Error{Code: domain.EFORBIDDEN, Field: "role", Zh: zh, En: en}
}

// errOutOfScope is what check returns for a change out of scope; the push is
// then refused with [refusal], which names every such change.
var errOutOfScope = &domain.Error{Code: domain.EFORBIDDEN, Field: "scope",
	Zh: "超出您的负责范围", En: "outside your responsibilities"}

// refusal is the error that refuses a push whose changes ids are out of
// scope or beyond the cadre's role, first the first of them, refused with
// why (errOutOfScope or one of the role errors). Its words also serve as the
// reason a device shows for each change it sets aside. Its field is "scope"
// or "role", as why's.
func refusal(first domain.Change, why error, ids []uuid.UUID) error {
	zh, en := domain.KindName(first.Kind)
	rec := first.Record.String()[:8]
	e := &domain.Error{Code: domain.EFORBIDDEN, Field: "scope"}
	var reason *domain.Error
	if errors.As(why, &reason) && reason.Field == "role" {
		e.Field = "role"
		switch n := len(ids); n {
		case 1:
			e.Zh = fmt.Sprintf("无权这样修改：%s。本设备对这条%s（%s）的更改服务器未保存。", reason.Zh, zh, rec)
			e.En = fmt.Sprintf("not allowed: %s. The server did not save this device's change of this %s (%s).", reason.En, en, rec)
		default:
			e.Zh = fmt.Sprintf("无权这样修改：%s。本设备对这条%s（%s）等 %d 条更改服务器未保存。", reason.Zh, zh, rec, n)
			e.En = fmt.Sprintf("not allowed: %s. The server did not save this device's change of this %s (%s) and %d more.", reason.En, en, rec, n-1)
		}
		return &protocol.ChangesError{Err: e, Changes: ids}
	}
	switch n := len(ids); n {
	case 1:
		e.Zh = fmt.Sprintf("超出您的负责范围：本设备无权修改这条%s（%s），服务器未保存这条更改。请联系驻村工作队长。", zh, rec)
		e.En = fmt.Sprintf("outside your responsibilities: this device may not change this %s (%s); the server did not save this change. Contact your team leader.", en, rec)
	default:
		others := "changes"
		if n == 2 {
			others = "change"
		}
		e.Zh = fmt.Sprintf("超出您的负责范围：本设备无权修改这条%s（%s）等 %d 条更改，服务器未保存这些更改。请联系驻村工作队长。", zh, rec, n)
		e.En = fmt.Sprintf("outside your responsibilities: this device may not change this %s (%s) and %d other %s; the server did not save them. Contact your team leader.", en, rec, n-1, others)
	}
	return &protocol.ChangesError{Err: e, Changes: ids}
}
