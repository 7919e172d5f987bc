// Package memstore is an in-memory model of the sync server's storage: a
// server.Store and a server.Registry kept in maps and slices under one
// lock, written to be obviously right rather than fast.
//
// It is the third implementation the conformance suites (storagetest,
// registrytest) run against, after bbolt (store.DB) and PostgreSQL
// (pgstore), and the one the others are diffed against: a randomized test
// feeds bbolt and the model the same changes and compares every record. It
// shares no code with store's replica engine beyond domain's pure
// functions — the merge of one field (domain.MergeField), the conflict a
// lost value makes (domain.NewConflict, domain.ConflictChange), a record's
// fields (domain.Encode, domain.Decode) — and store's exported vocabulary
// (store.Entry, store.Guard, store.Refused, …): where store keeps indexes
// the model scans every row, and where store walks buckets the model sorts
// map keys. Two implementations written apart that agree are the check.
//
// Nothing is persisted: a Store lives as long as its value.
package memstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Device is the replica's own ID; a new random one if zero.
	Device uuid.UUID
	// Now reads the clock for the codes the registry issues; time.Now if
	// nil.
	Now func() time.Time
	// Early, if not nil, is called after each push that merged a change
	// before an edit it was based on, once per such field, as
	// store.Options.Early is; pushes wait while it runs.
	Early func(replica.Early)
}

// Store is the model. One lock, mu, guards everything; pushes are also
// serialised by write, which a push holds while it works out its changes,
// taking mu only to install them: the server's guard reads the storage
// (Rules, Staff) during a push, and sees it as the push found it, as it
// does with bbolt's read transactions.
type Store struct {
	id    uuid.UUID
	now   func() time.Time
	early func(replica.Early)

	write sync.Mutex
	mu    sync.RWMutex
	rows  map[domain.Kind]map[uuid.UUID]*row
	log   []replica.Entry    // log[i].Seq == i+1; entries are never changed once appended
	seen  map[uuid.UUID]bool // the IDs of the changes logged

	// The registry (registry.go).
	codes   map[string]*code
	devices map[uuid.UUID]*device
	escrow  map[uuid.UUID]*deposit
	audit   []replica.AuditEntry
}

var (
	_ server.Store    = (*Store)(nil)
	_ server.Registry = (*Store)(nil)
)

// New returns an empty Store.
func New(opt Options) *Store {
	if opt.Device == uuid.Nil {
		opt.Device = uuid.New()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Store{id: opt.Device, now: opt.Now, early: opt.Early,
		rows: map[domain.Kind]map[uuid.UUID]*row{}, seen: map[uuid.UUID]bool{},
		codes: map[string]*code{}, devices: map[uuid.UUID]*device{}, escrow: map[uuid.UUID]*deposit{}}
}

// row is a record: every field with the stamp and author that set it.
type row struct {
	fields map[string]domain.FieldState
}

func (r *row) values() domain.Fields {
	f := make(domain.Fields, len(r.fields))
	for k, st := range r.fields {
		f[k] = st.Value
	}
	return f
}

func (r *row) deleted() bool {
	st, ok := r.fields["deleted"]
	return ok && string(st.Value) == "true"
}

func (r *row) clone() *row {
	return &row{fields: maps.Clone(r.fields)}
}

// record decodes r, its Updated the newest stamp's wall time.
func (r *row) record(kind domain.Kind, id uuid.UUID) (domain.Record, error) {
	rec, err := domain.Decode(kind, id, r.values())
	if err != nil {
		return nil, err
	}
	var newest int64
	for _, st := range r.fields {
		newest = max(newest, st.Stamp.Wall)
	}
	rec.Metadata().Updated = time.UnixMilli(newest).UTC()
	return rec, nil
}

// view reads rows: the Store's, or a push's over them (tx).
type view interface {
	row(kind domain.Kind, id uuid.UUID) *row
	ids(kind domain.Kind) []uuid.UUID // every stored record of kind, in byte order
}

// base reads the Store's rows; the caller holds mu, or write (rows
// change only under both).
type base struct{ s *Store }

func (b base) row(kind domain.Kind, id uuid.UUID) *row { return b.s.rows[kind][id] }

func (b base) ids(kind domain.Kind) []uuid.UUID {
	return sorted(slices.Collect(maps.Keys(b.s.rows[kind])))
}

func sorted(ids []uuid.UUID) []uuid.UUID {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// tx is a push in progress: the rows it wrote and the entries it logged,
// applied to the Store only when the push is accepted whole.
type tx struct {
	base
	rows map[domain.Kind]map[uuid.UUID]*row
	log  []replica.Entry
	seen map[uuid.UUID]bool
	from uuid.UUID
	// early lists the fields merged before an edit they were based on.
	early []replica.Early
}

func (t *tx) row(kind domain.Kind, id uuid.UUID) *row {
	if r, ok := t.rows[kind][id]; ok {
		return r
	}
	return t.base.row(kind, id)
}

func (t *tx) ids(kind domain.Kind) []uuid.UUID {
	set := maps.Clone(t.s.rows[kind])
	if set == nil {
		set = map[uuid.UUID]*row{}
	}
	maps.Copy(set, t.rows[kind])
	return sorted(slices.Collect(maps.Keys(set)))
}

func (t *tx) put(kind domain.Kind, id uuid.UUID, r *row) {
	if t.rows[kind] == nil {
		t.rows[kind] = map[uuid.UUID]*row{}
	}
	t.rows[kind][id] = r
}

func (t *tx) logged(id uuid.UUID) bool { return t.seen[id] || t.s.seen[id] }

func (t *tx) commit() {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	for kind, rows := range t.rows {
		if t.s.rows[kind] == nil {
			t.s.rows[kind] = map[uuid.UUID]*row{}
		}
		maps.Copy(t.s.rows[kind], rows)
	}
	t.s.log = append(t.s.log, t.log...)
	maps.Copy(t.s.seen, t.seen)
}

// Device returns the replica's ID.
func (s *Store) Device() uuid.UUID { return s.id }

// Epoch returns 0: a model is never restored from a backup.
func (s *Store) Epoch() (uint64, error) { return 0, nil }

// LastSeq returns the sequence of the newest log entry.
func (s *Store) LastSeq() (uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return uint64(len(s.log)), nil
}

// snapshot returns the log as it is now; its entries never change.
func (s *Store) snapshot() []replica.Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.log[:len(s.log):len(s.log)]
}

// LogWhere calls fn with a copy of each entry after sequence after that
// keep accepts (all if keep is nil); keep sees the header alone.
func (s *Store) LogWhere(after uint64, keep func(*replica.Entry) bool, fn func(replica.Entry) (bool, error)) error {
	log := s.snapshot()
	for i := int(min(after, uint64(len(log)))); i < len(log); i++ {
		if keep != nil {
			h := log[i]
			h.Change.Fields, h.Change.Base = nil, nil
			if !keep(&h) {
				continue
			}
		}
		more, err := fn(copyEntry(log[i]))
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func copyEntry(e replica.Entry) replica.Entry {
	e.Change = copyChange(e.Change)
	return e
}

func copyChange(ch domain.Change) domain.Change {
	f := make(domain.Fields, len(ch.Fields))
	for k, v := range ch.Fields {
		f[k] = bytes.Clone(v)
	}
	ch.Fields = f
	ch.Base = maps.Clone(ch.Base)
	return ch
}

// ApplyGuarded merges changes received from device from, as
// store.DB.ApplyGuarded does: a change already logged is skipped; one that
// cannot be merged, or that guard rejects with domain.EINVALID, is
// rejected alone; any other error of guard refuses the push (a
// *store.Refused naming every change refused) and nothing is written.
func (s *Store) ApplyGuarded(from uuid.UUID, changes []domain.Change, guard replica.Guard) ([]error, error) {
	s.write.Lock()
	defer s.write.Unlock()
	t := &tx{base: base{s}, rows: map[domain.Kind]map[uuid.UUID]*row{}, seen: map[uuid.UUID]bool{}, from: from}
	rejected := make([]error, len(changes))
	var refused *replica.Refused
	for i, ch := range changes {
		if t.logged(ch.ID) {
			continue
		}
		if err := mergeable(t, ch); err != nil {
			rejected[i] = err
			continue
		}
		if guard != nil {
			err := propose(t, ch, guard)
			switch {
			case err == nil:
			case domain.ErrorCode(err) == domain.EINVALID:
				rejected[i] = err
				continue
			default:
				if refused == nil {
					refused = &replica.Refused{Err: err}
				}
				refused.Indexes = append(refused.Indexes, i)
				continue
			}
		}
		if err := t.merge(from, copyChange(ch)); err != nil {
			return nil, fmt.Errorf("memstore: apply %d changes: %w", len(changes), err)
		}
	}
	if refused != nil {
		return nil, refused
	}
	t.commit()
	if s.early != nil {
		for _, e := range t.early {
			s.early(e)
		}
	}
	return rejected, nil
}

// with returns the fields of the stored record of ch's kind with ch's set
// over them.
func with(v view, ch domain.Change) domain.Fields {
	f := domain.Fields{}
	if r := v.row(ch.Kind, ch.Record); r != nil {
		f = r.values()
	}
	maps.Copy(f, ch.Fields)
	return f
}

// mergeable reports whether ch can be merged: it names a record and its
// fields fit the record's type. Content is not judged (see the server's
// package doc).
func mergeable(v view, ch domain.Change) error {
	if ch.ID == uuid.Nil || ch.Record == uuid.Nil || len(ch.Fields) == 0 {
		return domain.Errorf(domain.EINVALID, "change", "变更缺少标识、记录或字段", "the change lacks an ID, a record or fields")
	}
	if _, err := domain.Decode(ch.Kind, ch.Record, with(v, ch)); err != nil {
		for _, name := range slices.Sorted(maps.Keys(ch.Fields)) {
			if _, err := domain.Decode(ch.Kind, ch.Record, domain.Fields{name: ch.Fields[name]}); err != nil {
				return domain.Errorf(domain.EINVALID, "fields", "字段“%s”的值不符合记录类型，无法合并",
					"field %q has a value that does not fit the record's type; it cannot be merged", name)
			}
		}
		return domain.Errorf(domain.EINVALID, "fields", "变更无法读取：%v", "the change cannot be read: %v", err)
	}
	return nil
}

// propose shows ch to guard as a store.Proposal, after rejecting a change
// whose record ID names a record of another kind.
func propose(t *tx, ch domain.Change, guard replica.Guard) error {
	r := t.row(ch.Kind, ch.Record)
	if r == nil {
		for _, k := range domain.Kinds {
			if k != ch.Kind && t.row(k, ch.Record) != nil {
				zh, en := domain.KindName(k)
				return domain.Errorf(domain.EINVALID, "record", "标识 %[3]s 已属于一条%[1]s", "ID %[3]s already names a %[2]s", zh, en, ch.Record)
			}
		}
	}
	p := replica.Proposal{Change: ch, Existed: r != nil}
	if r != nil {
		old, err := r.record(ch.Kind, ch.Record)
		if err != nil {
			return err
		}
		p.Old, p.Before = old, locate(t, old)
	}
	rec, err := domain.Decode(ch.Kind, ch.Record, with(t, ch))
	if err != nil {
		return err
	}
	p.New, p.After = rec, locate(t, rec)
	return guard(replica.NewProposal(p, reader{t}))
}

// merge applies ch field by field with domain.MergeField, logs it, and
// records each value it displaced as a conflict (itself a change, logged
// after it). Conflicts of conflicts are not recorded.
func (t *tx) merge(from uuid.UUID, ch domain.Change) error {
	if t.logged(ch.ID) {
		return nil
	}
	r := t.row(ch.Kind, ch.Record)
	if r == nil {
		r = &row{fields: map[string]domain.FieldState{}}
	} else {
		r = r.clone()
	}
	type loss struct {
		field         string
		winner, loser domain.FieldState
	}
	var losses []loss
	for _, name := range slices.Sorted(maps.Keys(ch.Fields)) {
		cur, has := r.fields[name]
		in := domain.FieldState{Value: ch.Fields[name], Stamp: ch.Stamp, Author: ch.Author}
		next, lost := domain.MergeField(cur, has, in, ch.Base[name])
		r.fields[name] = next
		var conflict uuid.UUID
		if lost != nil && ch.Kind != domain.KindConflict {
			losses = append(losses, loss{name, next, *lost})
			conflict = domain.ConflictID(ch.Record, name, lost.Stamp)
		}
		if domain.ArrivedEarly(cur, has, ch.Base[name]) {
			t.early = append(t.early, replica.NewEarly(from, ch, name, cur.Stamp, conflict))
		}
	}
	t.put(ch.Kind, ch.Record, r)
	rec, err := r.record(ch.Kind, ch.Record)
	if err != nil {
		return err
	}
	e := replica.Entry{Seq: uint64(len(t.s.log) + len(t.log) + 1), From: from, Change: ch}
	e.Household, e.Village, e.Town = belongs(t, rec)
	t.log = append(t.log, e)
	t.seen[ch.ID] = true
	for _, l := range losses {
		c := domain.NewConflict(ch.Kind, ch.Record, e.Household, l.field, l.winner, l.loser)
		cc, err := domain.ConflictChange(c, l.winner.Stamp)
		if err != nil {
			return err
		}
		if err := t.merge(uuid.Nil, cc); err != nil {
			return err
		}
	}
	return nil
}

// place returns the stored place id, deleted or not, or nil.
func place(v view, id uuid.UUID) *domain.Place {
	r := v.row(domain.KindPlace, id)
	if r == nil {
		return nil
	}
	rec, err := r.record(domain.KindPlace, id)
	if err != nil {
		return nil
	}
	return rec.(*domain.Place)
}

// live returns the stored record if it is not deleted, or nil.
func live(v view, kind domain.Kind, id uuid.UUID) domain.Record {
	r := v.row(kind, id)
	if r == nil || r.deleted() {
		return nil
	}
	rec, err := r.record(kind, id)
	if err != nil {
		return nil
	}
	return rec
}

// up walks up from p to the village and town that hold it (p itself when
// it is one), through at most eight parents.
func up(v view, p *domain.Place) (village, town uuid.UUID) {
	for i := 0; p != nil && i < 8; i++ {
		switch p.Level {
		case domain.Village:
			village = p.ID
		case domain.Town:
			return village, p.ID
		case domain.City:
			return village, town
		}
		p = place(v, p.Parent)
	}
	return village, town
}

// placeOf returns the village and town of the stored place id.
func placeOf(v view, id uuid.UUID) (village, town uuid.UUID) {
	if p := place(v, id); p != nil {
		return up(v, p)
	}
	return uuid.Nil, uuid.Nil
}

// householdOf returns the village and town of the stored household id,
// deleted or not, through its group.
func householdOf(v view, id uuid.UUID) (village, town uuid.UUID) {
	r := v.row(domain.KindHousehold, id)
	if r == nil {
		return uuid.Nil, uuid.Nil
	}
	rec, err := r.record(domain.KindHousehold, id)
	if err != nil {
		return uuid.Nil, uuid.Nil
	}
	return placeOf(v, rec.(*domain.Household).Group)
}

// belongs returns the household, village and town a log entry of rec
// names, by its kind's declaration: a cadre nowhere, a place where it
// sits, an assignment where its target is, anything else with its
// household.
func belongs(v view, rec domain.Record) (household, village, town uuid.UUID) {
	d := domain.Declared(rec.Kind())
	if d == nil {
		return
	}
	switch d.Scope {
	case domain.ByCadre:
		return
	case domain.ByPlace:
		village, town = up(v, rec.(*domain.Place))
		return
	case domain.ByTarget:
		a := rec.(*domain.Assignment)
		if !a.Role.IsPairing() {
			village, town = placeOf(v, a.Target)
			return
		}
		household = a.Target
	default:
		household = domain.HouseholdOf(rec)
	}
	if household != uuid.Nil {
		village, town = householdOf(v, household)
	}
	return
}

// header is the entry a record would be logged under now, as State and
// ScopePrint judge it: like belongs, except that a household is placed by
// its own group as rec has it.
func header(v view, rec domain.Record) replica.Entry {
	e := replica.Entry{Change: domain.Change{Kind: rec.Kind(), Record: rec.Metadata().ID}}
	if h, ok := rec.(*domain.Household); ok {
		e.Household = h.ID
		e.Village, e.Town = placeOf(v, h.Group)
		return e
	}
	e.Household, e.Village, e.Town = belongs(v, rec)
	return e
}

// locate returns where rec is in the hierarchy (store.Location), taking
// rec as given and reading what it points at.
func locate(v view, rec domain.Record) replica.Location {
	switch r := rec.(type) {
	case *domain.Household:
		l := groupLocation(v, r.Group)
		l.Household = r.ID
		return l
	case *domain.Place:
		var l replica.Location
		l.Village, l.Town = up(v, r)
		if r.Level == domain.Group {
			l.Group = r.ID
		}
		return l
	case *domain.Assignment:
		if r.Role.IsPairing() {
			return householdLocation(v, r.Target)
		}
		if p := place(v, r.Target); p != nil {
			return locate(v, p)
		}
		return replica.Location{}
	case *domain.Cadre:
		return replica.Location{}
	}
	if h := domain.HouseholdOf(rec); h != uuid.Nil {
		return householdLocation(v, h)
	}
	return replica.Location{}
}

func householdLocation(v view, id uuid.UUID) replica.Location {
	if r := v.row(domain.KindHousehold, id); r != nil {
		if rec, err := r.record(domain.KindHousehold, id); err == nil {
			l := groupLocation(v, rec.(*domain.Household).Group)
			l.Household = id
			return l
		}
	}
	return replica.Location{Household: id}
}

func groupLocation(v view, group uuid.UUID) replica.Location {
	if p := place(v, group); p != nil {
		return locate(v, p)
	}
	return replica.Location{Group: group}
}

// each calls fn with every stored record of kind, deleted ones too, in ID
// order.
func each(v view, kind domain.Kind, fn func(domain.Record)) {
	for _, id := range v.ids(kind) {
		if rec, err := v.row(kind, id).record(kind, id); err == nil {
			fn(rec)
		}
	}
}

// assignments returns the live assignments that match, in ID order.
func assignments(v view, match func(*domain.Assignment) bool) []*domain.Assignment {
	var out []*domain.Assignment
	each(v, domain.KindAssignment, func(rec domain.Record) {
		if a := rec.(*domain.Assignment); !a.Deleted && match(a) {
			out = append(out, a)
		}
	})
	return out
}

// households returns the current households of group, in ID order.
func households(v view, group uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	each(v, domain.KindHousehold, func(rec domain.Record) {
		if h := rec.(*domain.Household); h.Current() && h.Group == group {
			out = append(out, h.ID)
		}
	})
	return out
}

// children returns the live places whose parent is p.
func children(v view, p uuid.UUID) []*domain.Place {
	var out []*domain.Place
	each(v, domain.KindPlace, func(rec domain.Record) {
		if c := rec.(*domain.Place); !c.Deleted && c.Parent == p {
			out = append(out, c)
		}
	})
	return out
}

// reader is what a guard reads during a push.
type reader struct{ t *tx }

func (r reader) Record(kind domain.Kind, id uuid.UUID) (domain.Record, replica.Location, bool) {
	rec := live(r.t, kind, id)
	if rec == nil {
		return nil, replica.Location{}, false
	}
	return rec, locate(r.t, rec), true
}

func (r reader) State(kind domain.Kind, id uuid.UUID, field string) (domain.FieldState, bool) {
	row := r.t.row(kind, id)
	if row == nil {
		return domain.FieldState{}, false
	}
	st, ok := row.fields[field]
	st.Value = bytes.Clone(st.Value)
	return st, ok
}

func (r reader) Duties(cadre uuid.UUID) []replica.Duty {
	var out []replica.Duty
	for _, a := range assignments(r.t, func(a *domain.Assignment) bool { return a.Cadre == cadre }) {
		out = append(out, replica.Duty{Assignment: a, Location: locate(r.t, a)})
	}
	return out
}

// Reach returns cadre's current assignments resolved against the roster,
// as store.DB.Reach does.
func (s *Store) Reach(cadre uuid.UUID) ([]replica.Assigned, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := base{s}
	var out []replica.Assigned
	for _, a := range assignments(v, func(a *domain.Assignment) bool { return a.Cadre == cadre && a.Current() }) {
		x := replica.Assigned{Role: a.Role, Target: a.Target}
		if a.Role.IsPairing() {
			if live(v, domain.KindHousehold, a.Target) == nil {
				continue
			}
			x.Location = householdLocation(v, a.Target)
		} else {
			p := place(v, a.Target)
			if p == nil || p.Deleted {
				continue
			}
			x.Level, x.Location = p.Level, locate(v, p)
			switch p.Level {
			case domain.Village, domain.Town:
				x.Pairings = pairingsOf(v, p.ID, p.Level)
			case domain.Group:
				x.Households = households(v, p.ID)
			}
		}
		out = append(out, x)
	}
	return out, nil
}

// pairingsOf returns the pairings, current and ended, with
// households outside place (a village or a town), and the current duties
// outside it, of every cadre with a duty (current or ended) there: to the
// place, its villages, their groups and natural villages, or the households
// of those groups (store's pairingsOfPlace).
func pairingsOf(v view, place uuid.UUID, level domain.Level) []uuid.UUID {
	targets := map[uuid.UUID]bool{place: true}
	villages := []uuid.UUID{place}
	if level == domain.Town {
		for _, c := range children(v, place) {
			if c.Level == domain.Village {
				targets[c.ID] = true
				villages = append(villages, c.ID)
			}
		}
	}
	for _, village := range villages {
		for _, c := range children(v, village) {
			switch c.Level {
			case domain.Group:
				targets[c.ID] = true
				for _, h := range households(v, c.ID) {
					targets[h] = true
				}
			case domain.NaturalVillage:
				targets[c.ID] = true
			}
		}
	}
	cadres := map[uuid.UUID]bool{}
	for _, a := range assignments(v, func(a *domain.Assignment) bool { return targets[a.Target] }) {
		cadres[a.Cadre] = true
	}
	var out []uuid.UUID
	for _, a := range assignments(v, func(a *domain.Assignment) bool {
		return cadres[a.Cadre] && !targets[a.Target] && (a.Role.IsPairing() || a.Current())
	}) {
		out = append(out, a.ID)
	}
	return out
}

// Staff returns the cadres assigned to the places within and everything
// under them (places and their groups' households), and to the targets at.
func (s *Store) Staff(within, at []uuid.UUID) (map[uuid.UUID]bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := base{s}
	targets := map[uuid.UUID]bool{}
	var walk func(p uuid.UUID, depth int)
	walk = func(p uuid.UUID, depth int) {
		if targets[p] || depth > 4 {
			return
		}
		targets[p] = true
		for _, h := range households(v, p) {
			targets[h] = true
		}
		for _, c := range children(v, p) {
			walk(c.ID, depth+1)
		}
	}
	for _, p := range within {
		walk(p, 0)
	}
	for _, id := range at {
		targets[id] = true
	}
	out := map[uuid.UUID]bool{}
	for _, a := range assignments(v, func(a *domain.Assignment) bool { return targets[a.Target] }) {
		out[a.Cadre] = true
	}
	return out, nil
}

// Rules returns the rules that hold in a village: its own, else its
// town's, else the defaults (store.DefaultSettings, the default approvers).
func (s *Store) Rules(village uuid.UUID) (domain.Rules, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := store.DefaultSettings()
	fallback := domain.Rules{County: d.Quotas.County, Section: d.Quotas.Section, Other: d.Quotas.Other,
		Statuses: d.Quotas.Statuses, Stationed: d.Quotas.Stationed, OverdueDays: d.OverdueDays,
		Approvers: domain.DefaultApprovers()}
	var vp, tp *domain.Place
	if village != uuid.Nil {
		if rec := live(base{s}, domain.KindPlace, village); rec != nil {
			vp = rec.(*domain.Place)
			if rec := live(base{s}, domain.KindPlace, vp.Parent); rec != nil {
				tp = rec.(*domain.Place)
			}
		}
	}
	return domain.Effective(vp, tp, fallback), nil
}

// PlanApprovers returns the roles that approve plans in village.
func (s *Store) PlanApprovers(village uuid.UUID) ([]domain.Role, error) {
	r, err := s.Rules(village)
	return r.Approvers, err
}

// ScopePrint fingerprints the units of scope readable accepts — places,
// current households, pairings readable without their household, duties
// readable without their place, cadres — as store.DB.ScopePrint does, unit
// for unit, so that the two agree.
func (s *Store) ScopePrint(readable func(*replica.Entry) bool) (string, uint64, error) {
	type unit struct {
		id uuid.UUID
		e  replica.Entry
		// hh, for an assignment: the header of its household (a pairing)
		// or of its place (a duty), which must not be readable.
		hh   *replica.Entry
		mark string // written before the unit, when not ""
	}
	var units []unit
	s.mu.RLock()
	v := base{s}
	last := uint64(len(s.log))
	each(v, domain.KindPlace, func(rec domain.Record) {
		units = append(units, unit{id: rec.Metadata().ID, e: header(v, rec)})
	})
	units = append(units, unit{mark: "households"})
	var hhs []*domain.Household
	each(v, domain.KindHousehold, func(rec domain.Record) {
		if h := rec.(*domain.Household); h.Current() {
			hhs = append(hhs, h)
		}
	})
	slices.SortStableFunc(hhs, func(a, b *domain.Household) int { return bytes.Compare(a.Group[:], b.Group[:]) })
	for _, h := range hhs {
		units = append(units, unit{id: h.ID, e: header(v, h)})
	}
	units = append(units, unit{mark: "pairings"})
	each(v, domain.KindAssignment, func(rec domain.Record) {
		a := rec.(*domain.Assignment)
		e := header(v, a)
		hh := replica.Entry{Household: e.Household, Village: e.Village, Town: e.Town,
			Change: domain.Change{Kind: domain.KindHousehold, Record: e.Household}}
		if !a.Role.IsPairing() {
			hh = replica.Entry{Village: e.Village, Town: e.Town, Change: domain.Change{Kind: domain.KindPlace, Record: a.Target}}
		}
		units = append(units, unit{id: a.ID, e: e, hh: &hh})
	})
	units = append(units, unit{mark: "cadres"})
	for _, id := range v.ids(domain.KindCadre) {
		units = append(units, unit{id: id, e: replica.Entry{Change: domain.Change{Kind: domain.KindCadre, Record: id}}})
	}
	s.mu.RUnlock()
	h := sha256.New()
	for _, u := range units {
		switch {
		case u.mark != "":
			h.Write([]byte(u.mark))
		case u.hh != nil && readable(u.hh):
		case readable(&u.e):
			h.Write(u.id[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), last, nil
}

// State calls fn with the current state of each record readable accepts
// after pos, in the order of domain.Kinds and then of IDs, each as one
// change per edit that set its fields (store.StateChangeID), oldest first;
// it returns the sequence of the newest log entry.
func (s *Store) State(pos replica.StatePos, readable func(*replica.Entry) bool, fn func(next replica.StatePos, changes []domain.Change) (bool, error)) (uint64, error) {
	type item struct {
		pos     replica.StatePos
		e       replica.Entry
		changes []domain.Change
	}
	var items []item
	s.mu.RLock()
	v := base{s}
	last := uint64(len(s.log))
	for ki := pos.Kind; ki < len(domain.Kinds); ki++ {
		kind := domain.Kinds[ki]
		for _, id := range v.ids(kind) {
			if ki == pos.Kind && pos.After != uuid.Nil && bytes.Compare(id[:], pos.After[:]) <= 0 {
				continue
			}
			r := v.row(kind, id)
			rec, err := r.record(kind, id)
			if err != nil {
				s.mu.RUnlock()
				return 0, fmt.Errorf("memstore: state: %s %s: %w", kind, id, err)
			}
			items = append(items, item{replica.StatePos{Kind: ki, After: id}, header(v, rec), edits(kind, id, r)})
		}
	}
	s.mu.RUnlock()
	for _, it := range items {
		if !readable(&it.e) {
			continue
		}
		more, err := fn(it.pos, it.changes)
		if err != nil || !more {
			return last, err
		}
	}
	return last, nil
}

// edits splits a row into one change per edit (stamp and author) that set
// its fields, oldest first.
func edits(kind domain.Kind, id uuid.UUID, r *row) []domain.Change {
	type edit struct {
		stamp  domain.Stamp
		author uuid.UUID
	}
	by := map[edit]domain.Fields{}
	for name, st := range r.fields {
		k := edit{st.Stamp, st.Author}
		if by[k] == nil {
			by[k] = domain.Fields{}
		}
		by[k][name] = bytes.Clone(st.Value)
	}
	keys := slices.Collect(maps.Keys(by))
	slices.SortFunc(keys, func(a, b edit) int {
		if c := a.stamp.Compare(b.stamp); c != 0 {
			return c
		}
		return bytes.Compare(a.author[:], b.author[:])
	})
	out := make([]domain.Change, len(keys))
	for i, k := range keys {
		out[i] = domain.Change{ID: store.StateChangeID(kind, id, k.stamp, k.author), Kind: kind, Record: id,
			Author: k.author, Stamp: k.stamp, Fields: by[k]}
	}
	return out
}

// Fields returns every field of a stored record (deleted ones included)
// with the stamp and author that set it, for a test to compare with
// store.DB.FieldStates; domain.ErrNotFound-like nil, false if none.
func (s *Store) Fields(kind domain.Kind, id uuid.UUID) (map[string]domain.FieldState, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rows[kind][id]
	if r == nil {
		return nil, false
	}
	out := make(map[string]domain.FieldState, len(r.fields))
	for k, st := range r.fields {
		st.Value = bytes.Clone(st.Value)
		out[k] = st
	}
	return out, true
}

// IDs returns the IDs of the stored records of kind, deleted ones
// included, in byte order.
func (s *Store) IDs(kind domain.Kind) []uuid.UUID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return base{s}.ids(kind)
}

// Replay applies the entries of src's log that keep accepts (all if keep
// is nil) to s, in order, each as received from the replica it came from:
// how a test gives the model the changes another store accepted. The
// conflicts src recorded itself can be left out (keep), for s to find
// them again. A change s rejects is an error.
func Replay(s *Store, src interface {
	LogWhere(after uint64, keep func(*replica.Entry) bool, fn func(replica.Entry) (bool, error)) error
}, keep func(*replica.Entry) bool) error {
	var batch []domain.Change
	var from uuid.UUID
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rejected, err := s.ApplyGuarded(from, batch, nil)
		if err != nil {
			return err
		}
		for i, err := range rejected {
			if err != nil {
				return fmt.Errorf("memstore: replay: change %s rejected: %w", batch[i].ID, err)
			}
		}
		batch = batch[:0]
		return nil
	}
	err := src.LogWhere(0, keep, func(e replica.Entry) (bool, error) {
		if e.From != from || len(batch) == 500 {
			if err := flush(); err != nil {
				return false, err
			}
			from = e.From
		}
		batch = append(batch, e.Change)
		return true, nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// PhotoPlaces returns where the live photo records naming hash belong, one
// per record, by a walk of every photo (store.DB.PhotoPlaces reads an
// index).
func (s *Store) PhotoPlaces(hash string) ([]replica.Location, error) {
	if !domain.ValidHash(hash) {
		return nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := base{s}
	var out []replica.Location
	each(v, domain.KindPhoto, func(rec domain.Record) {
		if p := rec.(*domain.Photo); !p.Deleted && p.Hash == hash {
			out = append(out, locate(v, rec))
		}
	})
	return out, nil
}
