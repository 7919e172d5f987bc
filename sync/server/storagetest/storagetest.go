// Package storagetest is the conformance suite of server.Store, the sync
// server's storage of records and the log, written once and run against
// every implementation (bbolt's store.DB, PostgreSQL's pgstore.Replica), the
// way Upspin's storetest runs against every store.
//
// An implementation is opened as several handles on one storage: for bbolt
// the one store.DB each time, for PostgreSQL one replica per handle on one
// database, as several bangfud instances are. The suite checks what the
// sync handlers rely on: a push applied once however often it is retried,
// through whichever handle; pushes through two handles at once serialised
// with nothing lost or logged twice; refusals that write nothing; a log read
// by partition that yields exactly the entries of the partitions; and every
// handle reading the same state.
package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
	"bangfu/store"
	"bangfu/sync/server"
)

// Open returns n handles on one new, empty storage.
type Open func(t *testing.T, n int) []server.Store

// Run runs the suite against the storages open makes.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"Retry", testRetry},
		{"Concurrent", testConcurrent},
		{"Conflict", testConflict},
		{"Refused", testRefused},
		{"Rejected", testRejected},
		{"Partitions", testPartitions},
		{"State", testState},
		{"PhotoPlaces", testPhotoPlaces},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// now is the suite's clock: stamps are in the past of the stores' clocks.
var now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// town is a small generated town of two villages, without its history.
type town struct {
	d       *demo.Data
	changes []domain.Change
	device  uuid.UUID
	stamp   map[uuid.UUID]domain.Stamp // record -> the stamp of the change that made it
}

func newTown(t *testing.T) *town {
	t.Helper()
	d := demo.Town(7, now, 320)
	tw := &town{d: d, device: uuid.New(), stamp: map[uuid.UUID]domain.Stamp{}}
	var recs []domain.Record
	for _, r := range d.Records() {
		switch r.Kind() {
		case domain.KindPlace, domain.KindCadre, domain.KindHousehold, domain.KindAssignment:
			recs = append(recs, r)
		}
	}
	for i, r := range recs {
		ch := tw.change(t, r, i)
		tw.changes = append(tw.changes, ch)
		tw.stamp[ch.Record] = ch.Stamp
	}
	return tw
}

// change returns the change that creates r, stamped by the town's device.
func (tw *town) change(t *testing.T, r domain.Record, logical int) domain.Change {
	t.Helper()
	f, err := domain.Encode(r)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metadata()
	return domain.Change{ID: uuid.New(), Kind: r.Kind(), Record: m.ID, Author: m.Author,
		Stamp: domain.Stamp{Wall: now.UnixMilli(), Logical: uint32(logical), Device: tw.device}, Fields: f}
}

// edit returns a change of the phone of household h at wall time ms, made
// over the seed's value.
func (tw *town) edit(h *domain.Household, device uuid.UUID, ms int64, phone string) domain.Change {
	return domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: h.ID, Author: h.Author,
		Stamp:  domain.Stamp{Wall: ms, Device: device},
		Fields: domain.Fields{"phone": []byte(fmt.Sprintf("%q", phone))},
		Base:   map[string]domain.Stamp{"phone": tw.stamp[h.ID]}}
}

// seed pushes the town through s in batches and returns the log's length.
func (tw *town) seed(t *testing.T, s server.Store) int {
	t.Helper()
	for i := 0; i < len(tw.changes); i += 200 {
		push(t, s, tw.device, tw.changes[i:min(i+200, len(tw.changes))])
	}
	last, err := s.LastSeq()
	if err != nil {
		t.Fatal(err)
	}
	if last != uint64(len(tw.changes)) {
		t.Fatalf("the seed logged %d entries of %d changes", last, len(tw.changes))
	}
	return int(last)
}

func push(t *testing.T, s server.Store, from uuid.UUID, chs []domain.Change) {
	t.Helper()
	rejected, err := s.ApplyGuarded(from, chs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range rejected {
		if err != nil {
			t.Fatalf("change %d (%s) rejected: %v", i, chs[i].Kind, err)
		}
	}
}

// entries returns the whole log as s reads it.
func entries(t *testing.T, s server.Store) []store.Entry {
	t.Helper()
	var out []store.Entry
	err := s.LogWhere(0, nil, func(e store.Entry) (bool, error) {
		out = append(out, e)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkLog checks that every handle reads one log, dense from 1, with no
// change twice, of n entries.
func checkLog(t *testing.T, handles []server.Store, n int) []store.Entry {
	t.Helper()
	var first []store.Entry
	for h, s := range handles {
		log := entries(t, s)
		last, err := s.LastSeq()
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != n || last != uint64(n) {
			t.Fatalf("handle %d: %d entries, last sequence %d; want %d", h, len(log), last, n)
		}
		seen := map[uuid.UUID]bool{}
		for i, e := range log {
			if e.Seq != uint64(i+1) {
				t.Fatalf("handle %d: entry %d has sequence %d", h, i, e.Seq)
			}
			if seen[e.Change.ID] {
				t.Fatalf("handle %d: change %s logged twice", h, e.Change.ID)
			}
			seen[e.Change.ID] = true
		}
		if h == 0 {
			first = log
			continue
		}
		for i := range log {
			if log[i].Change.ID != first[i].Change.ID || log[i].Village != first[i].Village || log[i].Household != first[i].Household {
				t.Fatalf("handle %d: entry %d differs from handle 0's", h, i+1)
			}
		}
	}
	return first
}

// state returns every record's current state as s yields it (all readable),
// by record, and the sequence it reflects.
func state(t *testing.T, s server.Store) (map[uuid.UUID][]domain.Change, uint64) {
	t.Helper()
	out := map[uuid.UUID][]domain.Change{}
	seq, err := s.State(store.StatePos{}, func(*store.Entry) bool { return true }, func(_ store.StatePos, chs []domain.Change) (bool, error) {
		out[chs[0].Record] = append(out[chs[0].Record], chs...)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, seq
}

// testRetry pushes a batch, then the same batch again through another
// handle, as a device does whose answer was lost: the second push logs
// nothing and changes nothing.
func testRetry(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	n := tw.seed(t, hs[0])
	checkLog(t, hs, n)
	h := tw.d.Households[0]
	batch := []domain.Change{tw.edit(h, tw.device, now.UnixMilli()+1000, "13800000001"), tw.edit(tw.d.Households[1], tw.device, now.UnixMilli()+1000, "13800000002")}
	push(t, hs[0], tw.device, batch)
	for range 2 {
		push(t, hs[1], tw.device, batch)
		push(t, hs[0], tw.device, batch)
	}
	checkLog(t, hs, n+2)
	// The whole seed again, in one batch: nothing new.
	push(t, hs[1], tw.device, tw.changes)
	checkLog(t, hs, n+2)
}

// testConcurrent pushes from several devices through two handles at once,
// to distinct households and to the same ones: every change is logged once,
// and every handle reads the same log and the same state, whose values are
// those of the newest stamps.
func testConcurrent(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	const workers, rounds = 4, 8
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	want := map[uuid.UUID]string{} // household -> the phone of the newest stamp
	var newest = map[uuid.UUID]int64{}
	var mu sync.Mutex
	for w := range workers {
		dev := uuid.New()
		wg.Go(func() {
			for r := range rounds {
				var batch []domain.Change
				for k := range 3 {
					// A household shared by all workers (k == 0), and own ones.
					h := tw.d.Households[r%2]
					if k > 0 {
						h = tw.d.Households[(2+(w*rounds+r)*2+k-1)%len(tw.d.Households)]
					}
					ms := now.UnixMilli() + int64(1000+r*10+w)
					phone := fmt.Sprintf("139%04d%04d", w, r*10+k)
					batch = append(batch, tw.edit(h, dev, ms, phone))
					mu.Lock()
					if ms > newest[h.ID] || ms == newest[h.ID] && phone > want[h.ID] {
						newest[h.ID], want[h.ID] = ms, phone
					}
					mu.Unlock()
				}
				if _, err := hs[(w+r)%2].ApplyGuarded(dev, batch, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	log := checkLog(t, hs, len(entries(t, hs[0])))
	edits := 0
	for _, e := range log {
		if e.Change.Kind == domain.KindHousehold && e.Change.Stamp.Wall > now.UnixMilli() {
			edits++
		}
	}
	if edits != workers*rounds*3 {
		t.Errorf("%d edits logged, want %d", edits, workers*rounds*3)
	}
	s0, _ := state(t, hs[0])
	s1, _ := state(t, hs[1])
	if len(s0) != len(s1) {
		t.Fatalf("handles hold %d and %d records", len(s0), len(s1))
	}
	for id, phone := range want {
		got := phoneOf(s0[id])
		if got != phone || phoneOf(s1[id]) != phone {
			t.Errorf("household %s: phone %q and %q, want the newest stamp's %q", id, got, phoneOf(s1[id]), phone)
		}
	}
}

func phoneOf(chs []domain.Change) string {
	for _, ch := range chs {
		if v, ok := ch.Fields["phone"]; ok {
			return string(v[1 : len(v)-1])
		}
	}
	return ""
}

// testConflict merges two concurrent edits of one field, pushed through
// two handles: the loser is kept once, as a conflict record that both
// handles log and yield.
func testConflict(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	h := tw.d.Households[3]
	a := tw.edit(h, uuid.New(), now.UnixMilli()+5000, "13700000001")
	b := tw.edit(h, uuid.New(), now.UnixMilli()+6000, "13700000002")
	push(t, hs[0], a.Stamp.Device, []domain.Change{a})
	push(t, hs[1], b.Stamp.Device, []domain.Change{b})
	push(t, hs[0], b.Stamp.Device, []domain.Change{b}) // a retry
	log := checkLog(t, hs, len(tw.changes)+3)
	if k := log[len(log)-1].Change.Kind; k != domain.KindConflict {
		t.Fatalf("the last entry is a %s, want the conflict", k)
	}
	for i, s := range hs {
		st, _ := state(t, s)
		if got := phoneOf(st[h.ID]); got != "13700000002" {
			t.Errorf("handle %d: phone %q, want the newer edit's", i, got)
		}
		conflicts := 0
		for _, chs := range st {
			if chs[0].Kind == domain.KindConflict {
				conflicts++
			}
		}
		if conflicts != 1 {
			t.Errorf("handle %d: %d conflict records, want 1", i, conflicts)
		}
	}
}

// testRefused checks that a guard refusing changes writes nothing of the
// push, names every change refused, and judges each as the push without
// the refused ones would.
func testRefused(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	n := tw.seed(t, hs[1])
	out := tw.d.Households[5].ID
	var batch []domain.Change
	for i := range 4 {
		batch = append(batch, tw.edit(tw.d.Households[4+i], tw.device, now.UnixMilli()+int64(2000+i), "13600000000"))
	}
	guard := func(p *store.Proposal) error {
		if p.Change.Record == out || p.Change.Record == tw.d.Households[7].ID {
			return domain.Errorf(domain.EFORBIDDEN, "scope", "不在范围内", "out of scope")
		}
		if !p.Existed || p.Old == nil || p.Before.Village == uuid.Nil {
			return fmt.Errorf("the guard sees household %s as new or nowhere", p.Change.Record)
		}
		return nil
	}
	for _, s := range hs {
		_, err := s.ApplyGuarded(tw.device, batch, guard)
		var refused *store.Refused
		if !errors.As(err, &refused) || !slices.Equal(refused.Indexes, []int{1, 3}) || domain.ErrorCode(err) != domain.EFORBIDDEN {
			t.Fatalf("push with two changes out of scope: %v", err)
		}
	}
	checkLog(t, hs, n)
	// The rest goes through.
	rejected, err := hs[0].ApplyGuarded(tw.device, []domain.Change{batch[0], batch[2]}, guard)
	if err != nil || len(rejected) != 2 || rejected[0] != nil || rejected[1] != nil {
		t.Fatalf("the push without them: %v %v", rejected, err)
	}
	checkLog(t, hs, n+2)
}

// testRejected checks that changes that cannot be merged are rejected
// alone, and the rest of their push applied.
func testRejected(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	good := tw.edit(tw.d.Households[0], tw.device, now.UnixMilli()+3000, "13500000000")
	empty := domain.Change{ID: uuid.New(), Kind: domain.KindHousehold, Record: tw.d.Households[1].ID, Stamp: good.Stamp}
	wrong := tw.edit(tw.d.Households[2], tw.device, now.UnixMilli()+3000, "")
	wrong.Fields = domain.Fields{"phone": []byte(`{"not":"a string"}`)}
	rejected, err := hs[1].ApplyGuarded(tw.device, []domain.Change{empty, good, wrong}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) != 3 || rejected[0] == nil || rejected[1] != nil || rejected[2] == nil ||
		domain.ErrorCode(rejected[0]) != domain.EINVALID || domain.ErrorCode(rejected[2]) != domain.EINVALID {
		t.Fatalf("rejected %v; want the first and the last, as invalid", rejected)
	}
	checkLog(t, hs, len(tw.changes)+1)
}

// testPartitions reads the log by partition: for a village, a household,
// a town and a roster reader, the entries read are exactly those
// Partitions.Readable accepts, through an index when the storage has one.
func testPartitions(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	var villages []uuid.UUID
	var townID uuid.UUID
	for _, p := range tw.d.Places {
		switch p.Level {
		case domain.Village:
			villages = append(villages, p.ID)
		case domain.Town:
			townID = p.ID
		}
	}
	if len(villages) < 2 {
		t.Fatalf("the town has %d villages", len(villages))
	}
	last := tw.d.Households[len(tw.d.Households)-1]
	// Edits after the seed, so that reading after a cursor is tried too.
	push(t, hs[1], tw.device, []domain.Change{tw.edit(tw.d.Households[0], tw.device, now.UnixMilli()+9000, "13400000000"),
		tw.edit(last, tw.device, now.UnixMilli()+9000, "13400000001")})
	all := entries(t, hs[0])
	cadre := tw.d.Cadres[0].ID
	for _, tc := range []struct {
		name string
		p    server.Partitions
	}{
		{"village", server.Partitions{Villages: villages[:1], Cadres: []uuid.UUID{cadre}}},
		{"other village", server.Partitions{Villages: villages[1:2]}},
		{"household", server.Partitions{Households: []uuid.UUID{last.ID}, RosterVillages: villages[1:]}},
		{"town roster", server.Partitions{RosterTowns: []uuid.UUID{townID}}},
		{"town", server.Partitions{Towns: []uuid.UUID{townID}}},
		{"all", server.Partitions{All: true}},
	} {
		for _, after := range []uint64{0, uint64(len(tw.changes)) - 3} {
			var want []uint64
			for _, e := range all {
				if e.Seq > after && tc.p.Readable(&e) {
					want = append(want, e.Seq)
				}
			}
			if after == 0 && tc.name != "all" && (len(want) == 0 || len(want) == len(all)-int(after)) {
				t.Fatalf("%s after %d: %d of %d entries; the test reads nothing apart", tc.name, after, len(want), len(all))
			}
			for h, s := range hs {
				var got, kept []uint64
				keep := func(e *store.Entry) bool {
					kept = append(kept, e.Seq)
					return tc.p.Readable(e)
				}
				fn := func(e store.Entry) (bool, error) {
					if e.Change.Fields == nil {
						return false, fmt.Errorf("entry %d read without its fields", e.Seq)
					}
					got = append(got, e.Seq)
					return true, nil
				}
				var err error
				pl, indexed := s.(server.PartitionedLog)
				if indexed {
					err = pl.LogIn(after, tc.p, keep, fn)
				} else {
					err = s.LogWhere(after, keep, fn)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("handle %d, %s after %d: read %d entries, want %d", h, tc.name, after, len(got), len(want))
				}
				if indexed && !slices.Equal(kept, want) {
					t.Errorf("handle %d, %s after %d: the index passed %d entries to keep, want only the %d in the partitions", h, tc.name, after, len(kept), len(want))
				}
			}
		}
	}
	// A read stops when fn says so.
	n := 0
	if err := hs[1].LogWhere(0, nil, func(store.Entry) (bool, error) { n++; return n < 3, nil }); err != nil || n != 3 {
		t.Errorf("a read told to stop after 3 read %d (%v)", n, err)
	}
}

// testState checks that every handle yields the same current state and
// scope fingerprint, and the roster the server works scopes out from.
func testState(t *testing.T, open Open) {
	hs := open(t, 3)
	tw := newTown(t)
	tw.seed(t, hs[2])
	push(t, hs[1], tw.device, []domain.Change{tw.edit(tw.d.Households[9], tw.device, now.UnixMilli()+9000, "13300000000")})
	var village uuid.UUID
	for _, p := range tw.d.Places {
		if p.Level == domain.Village {
			village = p.ID
			break
		}
	}
	readable := func(e *store.Entry) bool { return e.Village == village }
	var prints []string
	var states []map[uuid.UUID][]domain.Change
	for i, s := range hs {
		print, last, err := s.ScopePrint(readable)
		if err != nil {
			t.Fatal(err)
		}
		if last != uint64(len(tw.changes)+1) {
			t.Errorf("handle %d: the fingerprint reflects sequence %d, want %d", i, last, len(tw.changes)+1)
		}
		prints = append(prints, print)
		st, seq := state(t, s)
		if seq != last {
			t.Errorf("handle %d: the state reflects sequence %d, want %d", i, seq, last)
		}
		states = append(states, st)
		if got := phoneOf(st[tw.d.Households[9].ID]); got != "13300000000" {
			t.Errorf("handle %d: phone %q, want the edit's", i, got)
		}
		reach, err := s.Reach(tw.d.GroupCadre.ID)
		if err != nil || len(reach) == 0 {
			t.Errorf("handle %d: the group cadre reaches %d (%v)", i, len(reach), err)
		}
	}
	for i := 1; i < len(hs); i++ {
		if prints[i] != prints[0] {
			t.Errorf("handle %d fingerprints the village as %s, handle 0 as %s", i, prints[i], prints[0])
		}
		if len(states[i]) != len(states[0]) {
			t.Errorf("handle %d yields %d records, handle 0 %d", i, len(states[i]), len(states[0]))
		}
	}
	if len(states[0]) != len(tw.changes) {
		t.Errorf("the state has %d records, want %d", len(states[0]), len(tw.changes))
	}
}

// testPhotoPlaces checks Store.PhotoPlaces through every handle: one place
// per live photo record naming a hash, where its household is; none once
// they are deleted, and none for a hash no record names.
func testPhotoPlaces(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	hash := strings.Repeat("5e", 32)
	var chs []domain.Change
	var photos []*domain.Photo
	for i, h := range []*domain.Household{tw.d.Households[0], tw.d.Households[len(tw.d.Households)-1]} {
		v := &domain.Visit{Meta: domain.Meta{ID: uuid.New(), Created: now}, Household: h.ID, Cadre: tw.d.Cadres[0].ID,
			At: now.Add(-time.Hour), Type: domain.VisitRoutine, Notes: "水管"}
		p := &domain.Photo{Meta: domain.Meta{ID: uuid.New(), Created: now}, Household: h.ID, OfKind: domain.KindVisit, Of: v.ID,
			Cadre: v.Cadre, Hash: hash, Size: 1000, Width: 10, Height: 10}
		photos = append(photos, p)
		chs = append(chs, tw.change(t, v, 10000+2*i), tw.change(t, p, 10001+2*i))
	}
	push(t, hs[0], tw.device, chs)
	check := func(want ...*domain.Photo) {
		t.Helper()
		for i, s := range hs {
			places, err := s.PhotoPlaces(hash)
			if err != nil {
				t.Fatal(err)
			}
			var got []uuid.UUID
			for _, l := range places {
				if l.Village == uuid.Nil || l.Town == uuid.Nil {
					t.Fatalf("handle %d: a place without its village or town: %+v", i, l)
				}
				got = append(got, l.Household)
			}
			var exp []uuid.UUID
			for _, p := range want {
				exp = append(exp, p.Household)
			}
			slices.SortFunc(got, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
			slices.SortFunc(exp, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
			if !slices.Equal(got, exp) {
				t.Fatalf("handle %d: photo places %v, want %v", i, got, exp)
			}
			if other, err := s.PhotoPlaces(strings.Repeat("0", 64)); err != nil || len(other) != 0 {
				t.Fatalf("handle %d: places of a hash no record names: %v %v", i, other, err)
			}
		}
	}
	check(photos...)
	for i, p := range photos {
		del := domain.Change{ID: uuid.New(), Kind: domain.KindPhoto, Record: p.ID, Author: p.Author,
			Stamp: domain.Stamp{Wall: now.UnixMilli() + 5000, Logical: uint32(i), Device: tw.device}, Fields: domain.Fields{"deleted": []byte("true")}}
		push(t, hs[1], tw.device, []domain.Change{del})
		check(photos[i+1:]...)
	}
}
