package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
)

// TestStateInMatchesWholeWalk: for every cadre of a generated roster — a
// town, and a small prefecture of two towns — the current state of the
// cadre's scope read through its partitions (store.DB.StateIn with
// scope.within, what a first sync sends) is exactly what the walk of every
// record yields (store.DB.State): the same records, states and positions,
// whole and page by page. Records of every kind are there, and the
// comparison is made again after deletions of every kind, households moved
// between groups, villages and towns, one moved out, a record moved to
// another household, a pairing retargeted, cross-village pairings added and
// deleted, a duty in another village of a cadre of two villages ended and
// another begun, a group, an assignment and a cadre deleted; and for the
// catch-up of what entered each scope since before those changes (readable
// now or held then, store.HeldWithin). The team leader of the first village
// reads that cadre's duty elsewhere (a unit of its scope), as does the lead
// of its town when the duty is in another town, and the team leader's
// catch-up names the ended one as left and sends the new one.
func TestStateInMatchesWholeWalk(t *testing.T) {
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		d    *demo.Data
	}{
		{"town", demo.Town(5, now, 200)},
		{"prefecture", demo.Prefecture(7, now, 2, 2, 60)},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := c.d
			db, err := store.Open(filepath.Join(t.TempDir(), "server.db"), &store.Options{NoSync: true, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			admin := d.Cadres[0].ID
			recs := d.Records()
			for i := 0; i < len(recs); i += 1000 {
				if err := db.Put(admin, recs[i:min(i+1000, len(recs))]...); err != nil {
					t.Fatal(err)
				}
			}
			f := newFixture(t, d, now)
			// The kinds the generator does not make: steps, photos,
			// conflicts (one on the roster).
			f.extras(t, db, admin)
			seen := compareStates(t, db, d, nil)
			for _, k := range domain.Kinds {
				if seen.kinds[k] == 0 {
					t.Errorf("no scope reads a %s: %+v", k, seen.kinds)
				}
			}
			if seen.byID == 0 || seen.villages == 0 {
				t.Fatalf("the roster does not exercise every kind of scope: %+v", seen)
			}
			// The units of each scope before the changes: a device's cursor
			// issued then.
			before := map[uuid.UUID][]uuid.UUID{}
			for _, c := range d.Cadres {
				sc := scopeOf(t, db, c.ID)
				_, _, units, err := db.ScopeUnits(sc.readable)
				if err != nil {
					t.Fatal(err)
				}
				before[c.ID] = units
			}
			leader := f.leader(t)
			if sc := scopeOf(t, db, leader); !sc.pairings[f.duty.ID] || !slices.Contains(before[leader], f.duty.ID) {
				t.Fatalf("the first village's team leader does not read the duty in the last village of a cadre of both (a unit: %v)",
					slices.Contains(before[leader], f.duty.ID))
			}
			// In a prefecture the last village is in another town: the
			// first town's lead reads that duty too, without its town.
			if town := f.parentOf(f.group.Parent); town != f.farTown {
				lead := uuid.Nil
				for _, a := range d.Assignments {
					if a.Role == domain.TownLead && a.Target == town && a.Current() {
						lead = a.Cadre
					}
				}
				if sc := scopeOf(t, db, lead); lead == uuid.Nil || !sc.pairings[f.duty.ID] || !slices.Contains(before[lead], f.duty.ID) {
					t.Fatalf("the first town's lead (%s) does not read the duty in another town of a cadre of both (in its scope %v, a unit %v)", lead, scopeOf(t, db, lead).pairings[f.duty.ID], slices.Contains(before[lead], f.duty.ID))
				}
			} else if c.name == "prefecture" {
				t.Fatal("the prefecture's first and last villages are in one town")
			}
			deleted := f.change(t, db, admin)
			seen = compareStates(t, db, d, before)
			// The team leader's catch-up of what entered: the ended duty
			// elsewhere named as left, the new one sent.
			sc := scopeOf(t, db, leader)
			held := store.HeldUnder(before[leader])
			left, sent := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
			in, _ := sc.within()
			if _, err := db.StateIn(in.Union(store.HeldWithin(before[leader])), store.StatePos{}, func(e *store.Entry) bool {
				now, was := sc.readable(e), held(e)
				if was && !now {
					left[e.Change.Record] = true
				}
				return now != was
			}, func(_ store.StatePos, chs []domain.Change) (bool, error) {
				sent[chs[0].Record] = true
				return true, nil
			}); err != nil {
				t.Fatal(err)
			}
			if !left[f.duty.ID] || !sent[f.duty.ID] {
				t.Errorf("the team leader's catch-up does not name the ended duty in the last village as left")
			}
			if !sent[f.later.ID] || left[f.later.ID] {
				t.Errorf("the team leader's catch-up does not send the new duty in the last village")
			}
			if seen.cross == 0 {
				t.Fatalf("no scope holds a pairing without its household: %+v", seen)
			}
			for _, id := range deleted {
				if !seen.records[id] {
					t.Errorf("the deleted record %s is in no scope's state", id)
				}
			}
			if seen.left == 0 || seen.entered == 0 {
				t.Fatalf("no catch-up of what entered a scope both sends and names what left: %+v", seen)
			}
		})
	}
}

// stateFixture holds the records the test changes.
type stateFixture struct {
	d     *demo.Data
	now   time.Time
	group *domain.Place     // a group of the first village with a paired household
	h0    *domain.Household // paired, in group
	other *domain.Household // the last village's last household
	added []domain.Record   // steps, photos, conflicts
	// A cadre of the first village and of the last: duty, in the last,
	// ends; later begins there.
	both        *domain.Cadre
	duty, later *domain.Assignment
	farGroup    uuid.UUID // a group of the last village (of another if the town has one)
	farTown     uuid.UUID // the town of that village
}

// parentOf returns the parent of a place of the generated roster.
func (f *stateFixture) parentOf(group uuid.UUID) uuid.UUID {
	for _, p := range f.d.Places {
		if p.ID == group {
			return p.Parent
		}
	}
	return uuid.Nil
}

// leader returns the team leader of the first village.
func (f *stateFixture) leader(t *testing.T) uuid.UUID {
	t.Helper()
	for _, a := range f.d.Assignments {
		if a.Role == domain.TeamLeader && a.Target == f.group.Parent && a.Current() {
			return a.Cadre
		}
	}
	t.Fatal("the first village has no team leader")
	return uuid.Nil
}

func newFixture(t *testing.T, d *demo.Data, now time.Time) *stateFixture {
	f := &stateFixture{d: d, now: now, other: d.Households[len(d.Households)-1]}
	for _, a := range d.Assignments {
		if !a.Role.IsPairing() {
			continue
		}
		if h := household(d, a.Target); h != nil && h.Group != f.other.Group {
			f.h0 = h
			break
		}
	}
	for _, p := range d.Places {
		if f.h0 != nil && p.ID == f.h0.Group {
			f.group = p
		}
	}
	if f.group == nil {
		t.Fatal("no group with a paired household")
	}
	return f
}

// extras adds a step, a photo and a conflict to households of the first
// and the last village, a conflict on the roster, and a cadre of two
// villages.
func (f *stateFixture) extras(t *testing.T, db *store.DB, admin uuid.UUID) {
	for i, h := range []*domain.Household{f.h0, f.other} {
		var p *domain.Problem
		for _, x := range f.d.Problems {
			if x.Household == h.ID {
				p = x
			}
		}
		var v *domain.Visit
		for _, x := range f.d.Visits {
			if x.Household == h.ID {
				v = x
			}
		}
		if v == nil {
			t.Fatalf("household %s has no visit", h.HeadName)
		}
		recs := []domain.Record{&domain.Conflict{Household: h.ID, RecordKind: domain.KindHousehold, Record: h.ID,
			Field: "phone", Winner: json.RawMessage(`"13800000001"`), WinnerStamp: "1.0." + uuid.Nil.String(),
			WinnerAuthor: admin, Loser: json.RawMessage(`"13900000009"`), LoserStamp: "0.5." + uuid.Nil.String(),
			LoserAuthor: admin}}
		if p == nil {
			p = &domain.Problem{Household: h.ID, Visit: v.ID, Text: "屋顶漏雨", Status: domain.ProblemOpen}
			p.ID = uuid.New()
			recs = append(recs, p)
		}
		recs = append(recs, &domain.Step{Problem: p.ID, Household: h.ID, From: domain.ProblemOpen,
			To: domain.ProblemVillage, By: admin, At: f.now.AddDate(0, 0, -1), Note: "请村里协调"})
		if err := db.Put(admin, recs...); err != nil {
			t.Fatal(err)
		}
		data := []byte(fmt.Sprintf("照片-%d-%s", i, h.ID))
		sum := sha256.Sum256(data)
		blob := store.Blob{Hash: hex.EncodeToString(sum[:]), Data: data, Thumb: []byte("缩略图")}
		photo := &domain.Photo{Household: h.ID, OfKind: domain.KindVisit, Of: v.ID, Cadre: v.Cadre,
			Hash: blob.Hash, Size: len(data), Width: 1600, Height: 1200}
		if err := db.PutBlobs(admin, "", []store.Blob{blob}, photo); err != nil {
			t.Fatal(err)
		}
		f.added = append(f.added, append(recs, photo)...)
	}
	// A cadre of two villages: a team member of the first and of the last
	// (of a village added to the town if it has one only).
	far, farGroup := f.parentOf(f.other.Group), f.other.Group
	if far == f.group.Parent {
		v := &domain.Place{Level: domain.Village, Name: "罗家湾村", Parent: f.parentOf(far)}
		v.ID = uuid.New()
		g := &domain.Place{Level: domain.Group, Name: "一社", Parent: v.ID}
		g.ID = uuid.New()
		if err := db.Put(admin, v, g); err != nil {
			t.Fatal(err)
		}
		far, farGroup = v.ID, g.ID
	}
	f.farGroup, f.farTown = farGroup, f.parentOf(f.parentOf(f.other.Group))
	f.both = &domain.Cadre{Name: "两村队员", Rank: domain.RankOther}
	f.both.ID = uuid.New()
	since := f.now.AddDate(0, -3, 0)
	f.duty = &domain.Assignment{Cadre: f.both.ID, Role: domain.TeamMember, Target: far, Since: since}
	f.duty.ID = uuid.New()
	if err := db.Put(admin, f.both, &domain.Assignment{Cadre: f.both.ID, Role: domain.TeamMember, Target: f.group.Parent, Since: since}, f.duty); err != nil {
		t.Fatal(err)
	}
	roster := &domain.Conflict{RecordKind: domain.KindPlace, Record: f.d.Village.ID, Field: "name",
		Winner: json.RawMessage(`"王坪村"`), WinnerStamp: "1.0." + uuid.Nil.String(), WinnerAuthor: admin,
		Loser: json.RawMessage(`"王平村"`), LoserStamp: "0.5." + uuid.Nil.String(), LoserAuthor: admin}
	if err := db.Put(admin, roster); err != nil {
		t.Fatal(err)
	}
	f.added = append(f.added, roster)
}

// change makes the changes no index of live records follows, and returns
// the IDs of the records it deleted.
func (f *stateFixture) change(t *testing.T, db *store.DB, admin uuid.UUID) []uuid.UUID {
	d := f.d
	var dels []domain.Record
	del := func(r domain.Record) {
		r.Metadata().Deleted = true
		dels = append(dels, r)
	}
	// One record of every kind of a household's deleted, in the first
	// village and in the last.
	for _, h := range []*domain.Household{f.h0, f.other} {
		for _, r := range f.added {
			if domain.HouseholdOf(r) == h.ID && r.Kind() != domain.KindStep {
				c := clone(t, r)
				del(c)
			}
		}
		for _, list := range [][]domain.Record{
			records(d.Members), records(d.Visits), records(d.Problems), records(d.Plans),
			records(d.Measures), records(d.Reviews),
		} {
			for _, r := range list {
				if domain.HouseholdOf(r) == h.ID {
					del(clone(t, r))
					break
				}
			}
		}
	}
	var first []*domain.Household // households of the first group but h0
	var sibling *domain.Place     // another group of the first village
	for _, h := range d.Households {
		if h.Group == f.group.ID && h.ID != f.h0.ID {
			first = append(first, h)
		}
	}
	for _, p := range d.Places {
		if p.Level == domain.Group && p.Parent == f.group.Parent && p.ID != f.group.ID {
			sibling = p
			break
		}
	}
	if len(first) < 5 || sibling == nil {
		t.Fatalf("the first group has %d households, sibling %v", len(first), sibling)
	}
	gone := clone(t, first[0]).(*domain.Household) // deleted
	del(gone)
	across := clone(t, first[1]).(*domain.Household) // to another group of the village
	across.Group = sibling.ID
	away := clone(t, first[2]).(*domain.Household) // to the last village (another town's in a prefecture)
	away.Group = f.other.Group
	out := clone(t, first[3]).(*domain.Household) // moved out
	out.Exit, out.ExitOn = domain.MovedOut, f.now.AddDate(0, 0, -3)
	// A member moved to the last village's household.
	var member *domain.Member
	for _, m := range d.Members {
		if m.Household == first[4].ID {
			member = clone(t, m).(*domain.Member)
			break
		}
	}
	member.Household = f.other.ID
	// A cadre of the first village paired in the last village (read by the
	// first village's team leader without its household), one paired and
	// deleted, and a pairing of the first village retargeted there.
	var villager uuid.UUID
	var groupCadre *domain.Assignment
	for _, a := range d.Assignments {
		if a.Role == domain.GroupCadre && a.Target == f.group.ID {
			villager, groupCadre = a.Cadre, a
		}
	}
	var retarget *domain.Assignment
	for _, a := range d.Assignments {
		if a.Role.IsPairing() && a.Target == f.h0.ID {
			retarget = clone(t, a).(*domain.Assignment)
		}
	}
	retarget.Target = d.Households[len(d.Households)-3].ID
	cross := &domain.Assignment{Cadre: villager, Role: domain.Helper, Target: f.other.ID, Since: f.now.AddDate(0, -1, 0)}
	goneCross := &domain.Assignment{Cadre: villager, Role: domain.PairSection, Target: d.Households[len(d.Households)-2].ID, Since: f.now.AddDate(0, -2, 0)}
	// The two villages' cadre's duty in the last ends; another begins there.
	ended := clone(t, f.duty).(*domain.Assignment)
	ended.End(f.now.AddDate(0, 0, -2), "帮扶力量调整")
	f.later = &domain.Assignment{Cadre: f.both.ID, Role: domain.GroupCadre, Target: f.farGroup, Since: f.now.AddDate(0, 0, -2)}
	if err := db.Put(admin, across, away, out, member, retarget, cross, goneCross, ended, f.later); err != nil {
		t.Fatal(err)
	}
	goneCross = clone(t, goneCross).(*domain.Assignment)
	del(goneCross)
	del(clone(t, groupCadre))
	dead := clone(t, f.group).(*domain.Place) // a group deleted with households in it
	del(dead)
	quit := clone(t, d.Cadres[len(d.Cadres)-1])
	del(quit)
	if err := db.Put(admin, dels...); err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	for _, r := range dels {
		ids = append(ids, r.Metadata().ID)
	}
	return ids
}

// records converts a slice of records of one type.
func records[R domain.Record](rs []R) []domain.Record {
	out := make([]domain.Record, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}

// clone copies a record, so that the generator's stays as it was.
func clone(t *testing.T, r domain.Record) domain.Record {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	c := domain.Declared(r.Kind()).New()
	if err := json.Unmarshal(b, c); err != nil {
		t.Fatal(err)
	}
	*c.Metadata() = *r.Metadata()
	return c
}

// scopeOf works out a cadre's scope as a sync does.
func scopeOf(t *testing.T, db *store.DB, cadre uuid.UUID) *scope {
	t.Helper()
	reach, err := db.Reach(cadre)
	if err != nil {
		t.Fatal(err)
	}
	sc := newScope(cadre, uuid.Nil, reach, nil)
	sc.loadStaff = db.Staff
	sc.loadStaffNow()
	if sc.staffErr != nil {
		t.Fatal(sc.staffErr)
	}
	return sc
}

type stateCounts struct {
	byID, villages, cross, all int
	entered, left              int
	kinds                      map[domain.Kind]int
	records                    map[uuid.UUID]bool
}

type stateWalk func(pos store.StatePos, readable func(*store.Entry) bool, fn func(store.StatePos, []domain.Change) (bool, error)) (uint64, error)

// walkState collects what walk yields, page by page of page records (all
// at once if 0), resuming from the position of the last yielded.
func walkState(t *testing.T, walk stateWalk, readable func(*store.Entry) bool, page int) ([]domain.Change, []store.StatePos) {
	t.Helper()
	var chs []domain.Change
	var pos []store.StatePos
	at := store.StatePos{}
	for {
		n, more := 0, false
		_, err := walk(at, readable, func(next store.StatePos, changes []domain.Change) (bool, error) {
			if page > 0 && n == page {
				more = true
				return false, nil
			}
			chs = append(chs, changes...)
			pos = append(pos, next)
			at = next
			n++
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return chs, pos
		}
	}
}

// compareStates checks, for each cadre's scope as a sync works it out, that
// StateIn yields what State does; with before, also for the catch-up of
// what entered each scope since its units were those.
func compareStates(t *testing.T, db *store.DB, d *demo.Data, before map[uuid.UUID][]uuid.UUID) stateCounts {
	t.Helper()
	n := stateCounts{kinds: map[domain.Kind]int{}, records: map[uuid.UUID]bool{}}
	for _, c := range d.Cadres {
		sc := scopeOf(t, db, c.ID)
		in, narrow := sc.within()
		if !narrow {
			n.all++
			continue
		}
		if len(sc.households) > 0 {
			n.byID++
		}
		if len(sc.villages) > 0 {
			n.villages++
		}
		stateIn := func(in store.Within) stateWalk {
			return func(pos store.StatePos, readable func(*store.Entry) bool, fn func(store.StatePos, []domain.Change) (bool, error)) (uint64, error) {
				return db.StateIn(in, pos, readable, fn)
			}
		}
		check := func(what string, in store.Within, readable func(*store.Entry) bool) []domain.Change {
			t.Helper()
			want, wantPos := walkState(t, db.State, readable, 0)
			got, gotPos := walkState(t, stateIn(in), readable, 0)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotPos, wantPos) {
				t.Fatalf("%s, %s: the partitions' state has %d changes of %d records, the whole walk's %d of %d%s",
					c.Name, what, len(got), len(gotPos), len(want), len(wantPos), firstDiff(gotPos, wantPos))
			}
			if c.ID == d.TeamLeader.ID || c.ID == d.GroupCadre.ID {
				// Page by page, as pulls resume it.
				paged, pagedPos := walkState(t, stateIn(in), readable, 97)
				if !reflect.DeepEqual(paged, want) || !reflect.DeepEqual(pagedPos, wantPos) {
					t.Fatalf("%s, %s: paged, the partitions' state has %d records, the whole walk's %d",
						c.Name, what, len(pagedPos), len(wantPos))
				}
			}
			return want
		}
		for _, ch := range check("state", in, sc.readable) {
			n.kinds[ch.Kind]++
			n.records[ch.Record] = true
			if sc.pairings[ch.Record] {
				n.cross++
			}
		}
		if before == nil {
			continue
		}
		// What a catch-up of what entered sends: readable now and not held
		// under the old units, or held and readable no more (named as left).
		held := store.HeldUnder(before[c.ID])
		var left int
		entered := func(e *store.Entry) bool {
			now, was := sc.readable(e), held(e)
			if was && !now {
				left++
			}
			return now != was
		}
		sent := check("entered", in.Union(store.HeldWithin(before[c.ID])), entered)
		if left > 0 {
			n.left++
		}
		if len(sent) > 0 {
			n.entered++
		}
	}
	return n
}

// firstDiff says where two walks' positions first differ.
func firstDiff(got, want []store.StatePos) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("; first difference at %d: %v, want %v (%s)", i, got[i], want[i], domain.Kinds[want[i].Kind])
		}
	}
	if len(got) != len(want) {
		i := min(len(got), len(want))
		if len(got) > i {
			return fmt.Sprintf("; extra %v (%s)", got[i], domain.Kinds[got[i].Kind])
		}
		return fmt.Sprintf("; missing %v (%s)", want[i], domain.Kinds[want[i].Kind])
	}
	return ""
}
