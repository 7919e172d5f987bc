package memstore_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/server"
	"bangfu/sync/server/memstore"
)

// TestModel is the replica engine's conformance check against the model:
// devices with drifting clocks and stale copies edit a small town — the
// same fields at once, households moved between groups and villages,
// records deleted, assignments ended, villages given rules, visits made,
// values of the wrong type — and push what they made in random subsets
// and orders, some pushes retried and some delivered twice, through a
// guard that refuses one household and rejects some changes alone. Every
// push goes to bbolt (store.DB) and to the model (memstore); what each
// answers, and what the guard saw through each, must be the same; every
// few pushes, and at the end, the two must hold the same log (the same
// entries with the same headers, conflicts included), the same state
// record by record and field by field, and answer the server's roster
// questions (Reach, Staff, Rules, ScopePrint) alike.
func TestModel(t *testing.T) {
	seeds, steps := 4, 400
	if testing.Short() {
		seeds, steps = 2, 150
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { simulate(t, uint64(seed), steps) })
	}
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// dev is a device: its clock and its copy of the fields' stamps, which it
// refreshes from the server now and then and which decides the bases of
// its edits.
type dev struct {
	id     uuid.UUID
	wall   int64
	seen   map[string]domain.Stamp // kind/record/field -> stamp
	outbox []domain.Change
	sent   [][]domain.Change // pushes answered, for duplicates
}

type sim struct {
	t      *testing.T
	rnd    *rand.Rand
	db     *store.DB
	m      *memstore.Store
	d      *demo.Data
	devs   []*dev
	groups []uuid.UUID
	vills  []uuid.UUID
	visits []uuid.UUID // visits made, with their households
	vhh    map[uuid.UUID]uuid.UUID
	banned uuid.UUID // the household the guard refuses
	seen   []string  // what the guard saw, in this push

	// Causal order. The pushes are not in it (a device's outbox goes in
	// any order, the banned household's edits never arrive): held is the
	// newest stamp of each field in the log, read after every push, from
	// which the pushed fields merged before an edit they were based on are
	// worked out; each storage must report exactly those (Options.Early).
	held           map[string]domain.Stamp
	logged         uint64 // the log entries read into held
	earlyB, earlyM []replica.Early
	early          int // fields reported, in all
}

func simulate(t *testing.T, seed uint64, steps int) {
	var earlyB *[]replica.Early
	db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{NoSync: true,
		Early: func(e replica.Early) { *earlyB = append(*earlyB, e) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &sim{t: t, rnd: rand.New(rand.NewPCG(seed, 12)), d: demo.Town(int64(seed)+1, t0, 60),
		vhh: map[uuid.UUID]uuid.UUID{}, held: map[string]domain.Stamp{}}
	s.db, earlyB = db, &s.earlyB
	s.m = memstore.New(memstore.Options{Early: func(e replica.Early) { s.earlyM = append(s.earlyM, e) }})
	for _, p := range s.d.Places {
		switch p.Level {
		case domain.Group:
			s.groups = append(s.groups, p.ID)
		case domain.Village:
			s.vills = append(s.vills, p.ID)
		}
	}
	office := &dev{id: uuid.New(), wall: t0.UnixMilli()}
	var seedChanges []domain.Change
	for _, r := range s.d.Records() {
		switch r.Kind() {
		case domain.KindPlace, domain.KindCadre, domain.KindHousehold, domain.KindAssignment:
			f, err := domain.Encode(r)
			if err != nil {
				t.Fatal(err)
			}
			m := r.Metadata()
			seedChanges = append(seedChanges, domain.Change{ID: uuid.New(), Kind: r.Kind(), Record: m.ID, Author: m.Author,
				Stamp: domain.Stamp{Wall: office.wall, Logical: uint32(len(seedChanges)), Device: office.id}, Fields: f})
		}
	}
	for i := 0; i < len(seedChanges); i += 300 {
		if refused := s.push(office, seedChanges[i:min(i+300, len(seedChanges))]); refused != nil {
			t.Fatalf("the seed refused: %v", refused)
		}
	}
	if n, _ := s.m.LastSeq(); n != uint64(len(seedChanges)) {
		t.Fatalf("the seed logged %d entries of %d", n, len(seedChanges))
	}
	s.banned = s.d.Households[1].ID
	for range 4 {
		d := &dev{id: uuid.New(), wall: t0.UnixMilli() + 1000 + s.rnd.Int64N(50), seen: map[string]domain.Stamp{}}
		s.refresh(d)
		s.devs = append(s.devs, d)
	}
	for step := range steps {
		d := s.devs[s.rnd.IntN(len(s.devs))]
		switch x := s.rnd.IntN(100); {
		case x < 55:
			d.outbox = append(d.outbox, s.edit(d))
		case x < 70:
			s.pushSome(d)
		case x < 78 && len(d.sent) > 0:
			s.push(d, d.sent[s.rnd.IntN(len(d.sent))]) // a push delivered twice
		case x < 90:
			s.refresh(d)
		default:
			d.wall += s.rnd.Int64N(30) // the clock jumps
		}
		if step%100 == 99 {
			s.compare()
		}
	}
	for _, d := range s.devs {
		for len(d.outbox) > 0 {
			s.pushSome(d)
		}
	}
	s.compare()
	n, _ := s.db.LastSeq()
	conflicts := 0
	s.db.LogWhere(0, nil, func(e replica.Entry) (bool, error) {
		if e.Change.Kind == domain.KindConflict {
			conflicts++
		}
		return true, nil
	})
	if conflicts == 0 {
		t.Errorf("%d entries and no conflict: the simulation made no concurrent edit", n)
	}
	t.Logf("seed %d: %d seed changes, %d log entries, %d conflicts, %d fields merged before an edit they were based on",
		seed, len(seedChanges), n, conflicts, s.early)
}

// stamp returns the device's next stamp.
func (d *dev) stamp(rnd *rand.Rand) domain.Stamp {
	d.wall += rnd.Int64N(3) // often the same millisecond as another device
	return domain.Stamp{Wall: d.wall, Device: d.id}
}

func key(kind domain.Kind, id uuid.UUID, field string) string {
	return string(kind) + "/" + id.String() + "/" + field
}

// refresh gives the device the server's current stamps (as a pull would).
func (s *sim) refresh(d *dev) {
	_, err := s.db.State(replica.StatePos{}, func(*replica.Entry) bool { return true }, func(_ replica.StatePos, chs []domain.Change) (bool, error) {
		for _, ch := range chs {
			for f := range ch.Fields {
				d.seen[key(ch.Kind, ch.Record, f)] = ch.Stamp
			}
			if ch.Stamp.Wall > d.wall && s.rnd.IntN(2) == 0 {
				d.wall = ch.Stamp.Wall // its clock observed it, or not
			}
		}
		return true, nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

func js(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// edit makes one change of the device, over its copy.
func (s *sim) edit(d *dev) domain.Change {
	r := s.rnd
	h := s.d.Households[r.IntN(min(12, len(s.d.Households)))] // few, so that edits meet
	ch := domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: h.ID, Author: h.Author, Stamp: d.stamp(r)}
	switch x := r.IntN(100); {
	case x < 35:
		field := []string{"phone", "notes", "head_name", "size"}[r.IntN(4)]
		v := js(fmt.Sprintf("%s-%d", d.id.String()[:4], r.IntN(1000)))
		if field == "size" {
			v = js(1 + r.IntN(6))
		}
		ch.Fields = domain.Fields{field: v}
	case x < 45:
		ch.Fields = domain.Fields{"group": js(s.groups[r.IntN(len(s.groups))])}
	case x < 50:
		ch.Fields = domain.Fields{"deleted": js(r.IntN(3) == 0), "notes": js("删除？")}
	case x < 60:
		// A visit made, or one edited.
		if len(s.visits) == 0 || r.IntN(2) == 0 {
			v := &domain.Visit{Household: h.ID, Cadre: s.d.GroupCadre.ID, At: time.UnixMilli(ch.Stamp.Wall), Type: domain.VisitRoutine, Notes: "走访"}
			v.ID = uuid.New()
			f, err := domain.Encode(v)
			if err != nil {
				s.t.Fatal(err)
			}
			ch.Kind, ch.Record, ch.Fields = domain.KindVisit, v.ID, f
			s.visits = append(s.visits, v.ID)
			s.vhh[v.ID] = h.ID
		} else {
			id := s.visits[r.IntN(len(s.visits))]
			ch.Kind, ch.Record, ch.Fields = domain.KindVisit, id, domain.Fields{"notes": js(fmt.Sprint("补充", r.IntN(100)))}
		}
	case x < 70:
		a := s.d.Assignments[r.IntN(len(s.d.Assignments))]
		ch.Kind, ch.Record = domain.KindAssignment, a.ID
		switch r.IntN(3) {
		case 0:
			ch.Fields = domain.Fields{"until": js(time.UnixMilli(ch.Stamp.Wall).UTC())}
		case 1:
			ch.Fields = domain.Fields{"until": js(time.Time{})}
		default:
			ch.Fields = domain.Fields{"deleted": js(r.IntN(4) == 0)}
		}
	case x < 80:
		p := s.d.Places[r.IntN(len(s.d.Places))]
		ch.Kind, ch.Record = domain.KindPlace, p.ID
		switch {
		case p.Level == domain.Group && r.IntN(2) == 0:
			ch.Fields = domain.Fields{"parent": js(s.vills[r.IntN(len(s.vills))])}
		case p.Level == domain.Village || p.Level == domain.Town:
			rules := domain.Rules{County: 1 + r.IntN(5), Section: 5, Other: 5, OverdueDays: 10 + r.IntN(30),
				Approvers: domain.DefaultApprovers()[:1+r.IntN(2)]}
			ch.Fields = domain.Fields{"rules": js(&rules)}
			if r.IntN(3) == 0 {
				ch.Fields = domain.Fields{"rules": js(nil)}
			}
		default:
			ch.Fields = domain.Fields{"name": js(fmt.Sprint(p.Name, r.IntN(9)))}
		}
	case x < 85:
		ch.Fields = domain.Fields{"size": js("not a number")} // rejected alone
	case x < 88:
		ch.Record = s.d.Places[0].ID // an ID of another kind: rejected by the guard
		ch.Fields = domain.Fields{"phone": js("x")}
	default:
		c := s.d.Cadres[r.IntN(len(s.d.Cadres))]
		ch.Kind, ch.Record, ch.Fields = domain.KindCadre, c.ID, domain.Fields{"phone": js(fmt.Sprint("1390000", r.IntN(10000)))}
	}
	for f := range ch.Fields {
		if st, ok := d.seen[key(ch.Kind, ch.Record, f)]; ok {
			if ch.Base == nil {
				ch.Base = map[string]domain.Stamp{}
			}
			ch.Base[f] = st
		}
		d.seen[key(ch.Kind, ch.Record, f)] = ch.Stamp
	}
	return ch
}

// pushSome pushes part of the device's outbox, in some order; what the
// server took or rejected leaves it, what it refused waits (and the guard
// refuses the banned household for good, so its changes are dropped).
func (s *sim) pushSome(d *dev) {
	batch := slices.Clone(d.outbox)
	if len(batch) > 0 && s.rnd.IntN(3) == 0 {
		s.rnd.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		batch = batch[:1+s.rnd.IntN(len(batch))]
	}
	if len(batch) == 0 {
		return
	}
	refused := s.push(d, batch)
	done := map[uuid.UUID]bool{}
	for i, ch := range batch {
		if !slices.Contains(refused, i) {
			done[ch.ID] = true
		}
	}
	if len(refused) > 0 {
		// Set the refused aside, as a device does, and push the rest.
		var rest []domain.Change
		for i, ch := range batch {
			if !slices.Contains(refused, i) {
				rest = append(rest, ch)
			}
			done[ch.ID] = true
		}
		if len(rest) > 0 {
			if again := s.push(d, rest); len(again) > 0 {
				s.t.Fatalf("the push without the refused changes refused %v", again)
			}
		}
	}
	d.outbox = slices.DeleteFunc(d.outbox, func(ch domain.Change) bool { return done[ch.ID] })
	if s.rnd.IntN(5) == 0 {
		s.push(d, batch) // a retry after a lost answer
	}
}

// guard refuses the banned household, rejects a change of a household's
// phone to "x" alone, and records what it sees through the Proposal.
func (s *sim) guard(p *replica.Proposal) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s existed=%v before=%v after=%v", p.Change.Kind, p.Change.ID, p.Existed, p.Before, p.After)
	if p.Old != nil {
		f, _ := domain.Encode(p.Old)
		fmt.Fprintf(&b, " old=%s", js(f))
	}
	f, _ := domain.Encode(p.New)
	fmt.Fprintf(&b, " new=%s", js(f))
	for _, name := range slices.Sorted(maps.Keys(p.Change.Fields)) {
		st, ok := p.State(name)
		fmt.Fprintf(&b, " state(%s)=%v,%s,%v", name, ok, compact(st.Value), st.Stamp)
	}
	switch r := p.New.(type) {
	case *domain.Visit:
		rec, l, ok := p.Record(domain.KindHousehold, r.Household)
		fmt.Fprintf(&b, " household=%v,%v", ok, l)
		if ok {
			f, _ := domain.Encode(rec)
			fmt.Fprintf(&b, ",%s", js(f))
		}
		st, ok := p.StateOf(domain.KindHousehold, r.Household, "group")
		fmt.Fprintf(&b, " group=%v,%s,%v", ok, st.Value, st.Stamp)
	case *domain.Assignment:
		for _, d := range p.Duties(r.Cadre) {
			fmt.Fprintf(&b, " duty=%s,%v,%v", d.Assignment.ID, d.Assignment.Current(), d.Location)
		}
	}
	s.seen = append(s.seen, b.String())
	if s.banned == uuid.Nil {
		return nil
	}
	if p.Change.Record == s.banned || p.Change.Kind != domain.KindHousehold && domain.HouseholdOf(p.New) == s.banned {
		return domain.Errorf(domain.EFORBIDDEN, "scope", "不在范围内", "out of scope")
	}
	if v, ok := p.Change.Fields["phone"]; ok && string(v) == `"x"` && p.Change.Kind == domain.KindHousehold {
		return domain.Errorf(domain.EINVALID, "phone", "电话不对", "wrong phone")
	}
	return nil
}

// push sends one push to both storages and checks they answer alike; it
// returns the indexes refused.
func (s *sim) push(d *dev, batch []domain.Change) []int {
	s.t.Helper()
	s.seen, s.earlyB, s.earlyM = nil, nil, nil
	rb, errb := s.db.ApplyGuarded(d.id, batch, s.guard)
	seenb := s.seen
	s.seen = nil
	rm, errm := s.m.ApplyGuarded(d.id, batch, s.guard)
	seenm := s.seen
	s.causal(d)
	if (errb == nil) != (errm == nil) {
		s.t.Fatalf("bbolt answered %v, the model %v", errb, errm)
	}
	if !slices.Equal(seenb, seenm) {
		for i := range min(len(seenb), len(seenm)) {
			if seenb[i] != seenm[i] {
				s.t.Fatalf("the guard saw, through bbolt:\n%s\nthrough the model:\n%s", seenb[i], seenm[i])
			}
		}
		s.t.Fatalf("the guard saw %d changes through bbolt, %d through the model", len(seenb), len(seenm))
	}
	if errb != nil {
		fb, okb := errb.(*replica.Refused)
		fm, okm := errm.(*replica.Refused)
		if !okb || !okm || !slices.Equal(fb.Indexes, fm.Indexes) || domain.ErrorCode(fb) != domain.ErrorCode(fm) {
			s.t.Fatalf("bbolt refused %v, the model %v", errb, errm)
		}
		return fb.Indexes
	}
	for i := range batch {
		if (rb[i] == nil) != (rm[i] == nil) || domain.ErrorCode(rb[i]) != domain.ErrorCode(rm[i]) {
			s.t.Fatalf("change %d (%s %v): bbolt rejected it with %v, the model with %v", i, batch[i].Kind, batch[i].Fields, rb[i], rm[i])
		}
	}
	d.sent = append(d.sent, batch)
	return nil
}

// causal reads the entries the last push logged into s.held and checks
// that both storages reported, after the push committed, exactly the
// fields it merged before an edit they were based on: those whose base is
// newer than the newest stamp the log held for the field. A field whose
// base the log already held (delivered in order) must not be reported.
func (s *sim) causal(d *dev) {
	s.t.Helper()
	type early struct {
		change     uuid.UUID
		field      string
		base, held domain.Stamp
	}
	var want []early
	err := s.db.LogWhere(s.logged, nil, func(e replica.Entry) (bool, error) {
		s.logged = e.Seq
		ch := e.Change
		for _, name := range slices.Sorted(maps.Keys(ch.Fields)) {
			k := key(ch.Kind, ch.Record, name)
			held, has := s.held[k]
			if has && ch.Base[name].After(held) {
				want = append(want, early{ch.ID, name, ch.Base[name], held})
			}
			if !has || ch.Stamp.After(held) {
				s.held[k] = ch.Stamp
			}
		}
		return true, nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	got := func(name string, reported []replica.Early) []early {
		var out []early
		for _, e := range reported {
			if e.From != d.id {
				s.t.Errorf("%s reported %v from %s, pushed by %s", name, e, e.From, d.id)
			}
			out = append(out, early{e.Change, e.Field, e.Base, e.Held})
		}
		return out
	}
	order := func(a, b replica.Early) int {
		return cmp.Or(bytes.Compare(a.Change[:], b.Change[:]), strings.Compare(a.Field, b.Field))
	}
	slices.SortFunc(s.earlyB, order)
	slices.SortFunc(s.earlyM, order)
	if !slices.Equal(s.earlyB, s.earlyM) {
		s.t.Fatalf("bbolt reported early\n%v\nthe model\n%v", s.earlyB, s.earlyM)
	}
	gotB := got("bbolt", s.earlyB)
	slices.SortFunc(want, func(a, b early) int {
		return cmp.Or(bytes.Compare(a.change[:], b.change[:]), strings.Compare(a.field, b.field))
	})
	if !slices.Equal(gotB, want) {
		s.t.Fatalf("the storages reported merged out of causal order\n%+v\nthe log says\n%+v", gotB, want)
	}
	s.early += len(want)
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

type field struct {
	value  string
	stamp  domain.Stamp
	author uuid.UUID
}

// state returns every record's fields as st yields them, and which
// records the predicate read.
func state(t *testing.T, st server.Store, readable func(*replica.Entry) bool) (map[uuid.UUID]map[string]field, uint64) {
	t.Helper()
	out := map[uuid.UUID]map[string]field{}
	seq, err := st.State(replica.StatePos{}, readable, func(_ replica.StatePos, chs []domain.Change) (bool, error) {
		for _, ch := range chs {
			if ch.ID != store.StateChangeID(ch.Kind, ch.Record, ch.Stamp, ch.Author) {
				return false, fmt.Errorf("%s %s: change ID %s is not its state's", ch.Kind, ch.Record, ch.ID)
			}
			if out[ch.Record] == nil {
				out[ch.Record] = map[string]field{"kind": {value: string(ch.Kind)}}
			}
			for name, v := range ch.Fields {
				if _, dup := out[ch.Record][name]; dup {
					return false, fmt.Errorf("%s %s: field %s yielded twice", ch.Kind, ch.Record, name)
				}
				out[ch.Record][name] = field{compact(v), ch.Stamp, ch.Author}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, seq
}

// header is a log entry without its sequence.
type header struct {
	from, household, village, town, record uuid.UUID
	kind                                   domain.Kind
	stamp                                  domain.Stamp
	fields                                 string
}

func logOf(t *testing.T, st server.Store) (map[uuid.UUID]header, []uuid.UUID) {
	t.Helper()
	hs := map[uuid.UUID]header{}
	var order []uuid.UUID // the changes pushed, without the conflicts they made
	err := st.LogWhere(0, nil, func(e replica.Entry) (bool, error) {
		hs[e.Change.ID] = header{e.From, e.Household, e.Village, e.Town, e.Change.Record, e.Change.Kind, e.Change.Stamp, compact(js(e.Change.Fields))}
		if e.Change.Kind != domain.KindConflict {
			order = append(order, e.Change.ID)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hs, order
}

// compare checks that bbolt and the model hold the same.
func (s *sim) compare() {
	t := s.t
	t.Helper()
	lb, ob := logOf(t, server.NewBolt(s.db))
	lm, om := logOf(t, s.m)
	if len(lb) != len(lm) || !slices.Equal(ob, om) {
		t.Fatalf("bbolt logged %d entries (%d pushed), the model %d (%d)", len(lb), len(ob), len(lm), len(om))
	}
	for id, h := range lb {
		if lm[id] != h {
			t.Fatalf("entry of change %s: bbolt %+v, the model %+v", id, h, lm[id])
		}
	}
	all := func(*replica.Entry) bool { return true }
	sb, qb := state(t, server.NewBolt(s.db), all)
	sm, qm := state(t, s.m, all)
	if qb != qm || qb != uint64(len(lb)) {
		t.Fatalf("the states reflect sequences %d (bbolt) and %d (the model) of %d", qb, qm, len(lb))
	}
	if !reflect.DeepEqual(sb, sm) {
		for id, f := range sb {
			if !reflect.DeepEqual(f, sm[id]) {
				t.Fatalf("record %s: bbolt %v, the model %v", id, f, sm[id])
			}
		}
		t.Fatalf("bbolt holds %d records, the model %d", len(sb), len(sm))
	}
	var towns []uuid.UUID
	for _, p := range s.d.Places {
		if p.Level == domain.Town {
			towns = append(towns, p.ID)
		}
	}
	// Every other assignment named by ID, as a server names the pairings and
	// duties elsewhere of a village's cadres (crossPairing): those whose
	// household or place is not readable are units of the fingerprint.
	named := map[uuid.UUID]bool{}
	for i, a := range s.d.Assignments {
		named[a.ID] = i%2 == 0
	}
	for _, p := range append(slices.Clone(s.vills), towns...) {
		for _, readable := range []func(*replica.Entry) bool{
			func(e *replica.Entry) bool { return e.Village == p || e.Town == p },
			func(e *replica.Entry) bool { return e.Village == p && e.Change.Kind != domain.KindCadre },
			func(e *replica.Entry) bool { return e.Village == p || named[e.Change.Record] },
		} {
			pb, _, err := s.db.ScopePrint(readable)
			if err != nil {
				t.Fatal(err)
			}
			pm, _, _ := s.m.ScopePrint(readable)
			if pb != pm {
				t.Fatalf("place %s: bbolt fingerprints %s, the model %s", p, pb, pm)
			}
			if vb, _ := state(t, server.NewBolt(s.db), readable); !reflect.DeepEqual(vb, first(state(t, s.m, readable))) {
				t.Fatalf("place %s: bbolt and the model yield different states", p)
			}
		}
		rb, err := s.db.Rules(p)
		if err != nil {
			t.Fatal(err)
		}
		if rm, _ := s.m.Rules(p); !reflect.DeepEqual(rb, rm) {
			t.Fatalf("place %s: rules %+v in bbolt, %+v in the model", p, rb, rm)
		}
		fb, err := s.db.Staff([]uuid.UUID{p}, s.groups[:2])
		if err != nil {
			t.Fatal(err)
		}
		if fm, _ := s.m.Staff([]uuid.UUID{p}, s.groups[:2]); !reflect.DeepEqual(fb, fm) {
			t.Fatalf("place %s: staff %v in bbolt, %v in the model", p, fb, fm)
		}
	}
	for _, c := range s.d.Cadres {
		ab, err := s.db.Reach(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if am, _ := s.m.Reach(c.ID); !reflect.DeepEqual(ab, am) {
			t.Fatalf("cadre %s reaches %+v in bbolt, %+v in the model", c.Name, ab, am)
		}
	}
}

func first[A, B any](a A, _ B) A { return a }
