// Package storagetest is the conformance suite of server.Store, the sync
// server's storage of records and the log, written once and run against
// every implementation (bbolt's store.DB, PostgreSQL's pgstore.Replica, the
// in-memory model memstore.Store), the way Upspin's storetest runs against
// every store.
//
// An implementation is opened as several handles on one storage: for bbolt
// the one store.DB each time, for PostgreSQL one replica per handle on one
// database, as several bangfud instances are. The suite checks what the
// sync handlers rely on: a push applied once however often it is retried,
// through whichever handle; pushes through two handles at once serialised
// with nothing lost or logged twice; refusals that write nothing; a log read
// by partition that yields exactly the entries of the partitions; every
// handle reading the same state, walked whole or in pages; entries, states
// and fingerprints that follow a household moved to another village; the
// roster scopes are worked out from (Reach, Staff, Rules); and what a guard
// reads through a store.Proposal.
package storagetest

import (
	"encoding/json"
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
	"bangfu/replica"
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
		{"StatePages", testStatePages},
		{"Scope", testScope},
		{"Roster", testRoster},
		{"CrossDuties", testCrossDuties},
		{"Proposal", testProposal},
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
func entries(t *testing.T, s server.Store) []replica.Entry {
	t.Helper()
	var out []replica.Entry
	err := s.LogWhere(0, nil, func(e replica.Entry) (bool, error) {
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
func checkLog(t *testing.T, handles []server.Store, n int) []replica.Entry {
	t.Helper()
	var first []replica.Entry
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
	seq, err := s.State(replica.StatePos{}, func(*replica.Entry) bool { return true }, func(_ replica.StatePos, chs []domain.Change) (bool, error) {
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
	guard := func(p *replica.Proposal) error {
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
		var refused *replica.Refused
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
				keep := func(e *replica.Entry) bool {
					kept = append(kept, e.Seq)
					return tc.p.Readable(e)
				}
				fn := func(e replica.Entry) (bool, error) {
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
	if err := hs[1].LogWhere(0, nil, func(replica.Entry) (bool, error) { n++; return n < 3, nil }); err != nil || n != 3 {
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
	readable := func(e *replica.Entry) bool { return e.Village == village }
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

// testStatePages walks the state in pages, stopping after a few records
// and resuming from the position fn was given, through every handle in
// turn: the pages hold every record once, in the order of domain.Kinds
// and then of IDs, as the walk in one go does.
func testStatePages(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	all := func(*replica.Entry) bool { return true }
	var whole []uuid.UUID
	if _, err := hs[1].State(replica.StatePos{}, all, func(_ replica.StatePos, chs []domain.Change) (bool, error) {
		whole = append(whole, chs[0].Record)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(whole) != len(tw.changes) {
		t.Fatalf("the state holds %d records, want %d", len(whole), len(tw.changes))
	}
	kind := func(id uuid.UUID) int { return slices.Index(domain.Kinds, tw.kind(id)) }
	for i := 1; i < len(whole); i++ {
		a, b := whole[i-1], whole[i]
		if kind(a) > kind(b) || kind(a) == kind(b) && string(a[:]) >= string(b[:]) {
			t.Fatalf("records %d and %d (%s, %s) are out of order", i-1, i, tw.kind(a), tw.kind(b))
		}
	}
	var paged []uuid.UUID
	pos := replica.StatePos{}
	for page := 0; !pos.Done(); page++ {
		if page > len(whole) {
			t.Fatal("the pages do not end")
		}
		n := 0
		next := replica.StatePos{Kind: len(domain.Kinds)} // the end, unless the page stops early
		_, err := hs[page%2].State(pos, all, func(p replica.StatePos, chs []domain.Change) (bool, error) {
			paged = append(paged, chs[0].Record)
			n++
			if n == 37 {
				next = p
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		pos = next
	}
	if !slices.Equal(paged, whole) {
		t.Errorf("the pages hold %d records, the whole walk %d, or in another order", len(paged), len(whole))
	}
}

// kind returns the kind of the seed's record id.
func (tw *town) kind(id uuid.UUID) domain.Kind {
	for _, ch := range tw.changes {
		if ch.Record == id {
			return ch.Kind
		}
	}
	return ""
}

// villages returns the town's villages and the groups of each.
func (tw *town) villages() (villages []uuid.UUID, groups map[uuid.UUID][]uuid.UUID) {
	groups = map[uuid.UUID][]uuid.UUID{}
	parent := map[uuid.UUID]uuid.UUID{}
	for _, p := range tw.d.Places {
		parent[p.ID] = p.Parent
		if p.Level == domain.Village {
			villages = append(villages, p.ID)
		}
	}
	for _, p := range tw.d.Places {
		if p.Level == domain.Group {
			v := parent[p.ID]
			for parent[v] != uuid.Nil && !slices.Contains(villages, v) {
				v = parent[v]
			}
			groups[v] = append(groups[v], p.ID)
		}
	}
	return villages, groups
}

// testScope moves a household to a group of another village and writes a
// visit of it: the entries name the household's new village, the state
// walked for each village follows the household, and the fingerprints of
// both villages change while a third scope's does not.
func testScope(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	villages, groups := tw.villages()
	if len(villages) < 2 || len(groups[villages[1]]) == 0 {
		t.Fatalf("the town has %d villages, the second %d groups", len(villages), len(groups[villages[1]]))
	}
	a, b := villages[0], villages[1]
	var h *domain.Household
	for _, x := range tw.d.Households {
		if slices.Contains(groups[a], x.Group) {
			h = x
			break
		}
	}
	in := func(v uuid.UUID) func(*replica.Entry) bool {
		return func(e *replica.Entry) bool { return e.Village == v }
	}
	cadres := func(e *replica.Entry) bool { return e.Change.Kind == domain.KindCadre }
	holds := func(s server.Store, readable func(*replica.Entry) bool, id uuid.UUID) bool {
		found := false
		if _, err := s.State(replica.StatePos{}, readable, func(_ replica.StatePos, chs []domain.Change) (bool, error) {
			found = found || chs[0].Record == id
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return found
	}
	print := func(s server.Store, readable func(*replica.Entry) bool) string {
		p, _, err := s.ScopePrint(readable)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	beforeA, beforeB, beforeC := print(hs[0], in(a)), print(hs[0], in(b)), print(hs[0], cadres)
	if !holds(hs[1], in(a), h.ID) || holds(hs[1], in(b), h.ID) {
		t.Fatalf("before the move, the state of its village does not hold the household, or the other's does")
	}
	move := tw.edit(h, tw.device, now.UnixMilli()+4000, "")
	move.Fields = domain.Fields{"group": []byte(`"` + groups[b][0].String() + `"`)}
	move.Base = map[string]domain.Stamp{"group": tw.stamp[h.ID]}
	v := &domain.Visit{Household: h.ID, Cadre: tw.d.GroupCadre.ID, At: now, Type: domain.VisitRoutine, Notes: "搬迁后回访"}
	v.ID, v.Author = uuid.New(), tw.d.GroupCadre.ID
	visit := tw.change(t, v, 0)
	visit.Stamp.Wall += 5000
	push(t, hs[1], tw.device, []domain.Change{move, visit})
	log := entries(t, hs[0])
	for _, e := range log[len(log)-2:] {
		if e.Household != h.ID || e.Village != b || e.Town != tw.d.Town.ID {
			t.Errorf("the entry of the %s names household %s, village %s, town %s; want the household, its new village and the town",
				e.Change.Kind, e.Household, e.Village, e.Town)
		}
	}
	for i, s := range hs {
		if holds(s, in(a), h.ID) || !holds(s, in(b), h.ID) || !holds(s, in(b), v.ID) {
			t.Errorf("handle %d: after the move, the state of the old village holds the household, or the new one's does not hold it and its visit", i)
		}
		if print(s, in(a)) == beforeA || print(s, in(b)) == beforeB {
			t.Errorf("handle %d: a village's fingerprint did not change when a household moved between them", i)
		}
		if print(s, cadres) != beforeC {
			t.Errorf("handle %d: the fingerprint of the cadres changed when a household moved", i)
		}
	}

	// Where households are now, for a storage that tells (the server
	// judges a catch-up's window by it): the one moved in its new village,
	// one deleted where it was, one never stored nowhere.
	type locator interface {
		Locate([]uuid.UUID) (map[uuid.UUID]replica.Location, error)
	}
	if _, ok := hs[0].(locator); !ok {
		return
	}
	var gone *domain.Household
	for _, x := range tw.d.Households {
		if x.ID != h.ID && slices.Contains(groups[a], x.Group) {
			gone = x
			break
		}
	}
	del := tw.edit(gone, tw.device, now.UnixMilli()+6000, "")
	del.Fields = domain.Fields{"deleted": []byte("true")}
	del.Base = map[string]domain.Stamp{"deleted": tw.stamp[gone.ID]}
	push(t, hs[0], tw.device, []domain.Change{del})
	stranger := uuid.New()
	for i, s := range hs {
		where, err := s.(locator).Locate([]uuid.UUID{h.ID, gone.ID, stranger})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what    string
			id      uuid.UUID
			village uuid.UUID
		}{{"moved", h.ID, b}, {"deleted", gone.ID, a}, {"never stored", stranger, uuid.Nil}} {
			if l := where[c.id]; l.Household != c.id || l.Village != c.village {
				t.Errorf("handle %d: the household %s is located at household %s, village %s; want village %s", i, c.what, l.Household, l.Village, c.village)
			}
		}
	}
}

// testRoster checks what the server works scopes out from: a group
// cadre's reach (the group, its households), the staff of a village, the
// rules a village sets; and that an ended assignment reaches nothing.
func testRoster(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	cadre := tw.d.GroupCadre.ID
	var duty *domain.Assignment
	for _, a := range tw.d.Assignments {
		if a.Cadre == cadre && a.Role == domain.GroupCadre && a.Current() {
			duty = a
			break
		}
	}
	if duty == nil {
		t.Fatal("the group cadre has no group")
	}
	var want []uuid.UUID
	for _, h := range tw.d.Households {
		if h.Group == duty.Target && h.Current() {
			want = append(want, h.ID)
		}
	}
	village := tw.d.Village.ID
	for i, s := range hs {
		reach, err := s.Reach(cadre)
		if err != nil {
			t.Fatal(err)
		}
		j := slices.IndexFunc(reach, func(x replica.Assigned) bool { return x.Target == duty.Target })
		if j < 0 {
			t.Fatalf("handle %d: the group cadre does not reach their group", i)
		}
		got := reach[j]
		if got.Role != domain.GroupCadre || got.Level != domain.Group || got.Location.Group != duty.Target ||
			got.Location.Village != village || got.Location.Town != tw.d.Town.ID {
			t.Errorf("handle %d: the group is reached as %+v", i, got)
		}
		if !sameSet(got.Households, want) {
			t.Errorf("handle %d: the group reaches %d households, want %d", i, len(got.Households), len(want))
		}
		staff, err := s.Staff([]uuid.UUID{village}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !staff[cadre] || !staff[tw.d.TeamLeader.ID] {
			t.Errorf("handle %d: the village's staff %v lacks its group cadre or its team leader", i, staff)
		}
		if elsewhere, err := s.Staff(nil, []uuid.UUID{uuid.New()}); err != nil || len(elsewhere) != 0 {
			t.Errorf("handle %d: the staff of a target no one is assigned to: %v %v", i, elsewhere, err)
		}
	}
	// The village's own rules.
	rules := domain.Rules{County: 3, Section: 4, Other: 6, OverdueDays: 12, Approvers: []domain.Role{domain.TeamLeader}}
	raw, err := json.Marshal(&rules)
	if err != nil {
		t.Fatal(err)
	}
	set := domain.Change{ID: uuid.New(), Kind: domain.KindPlace, Record: village, Author: tw.d.TeamLeader.ID,
		Stamp: domain.Stamp{Wall: now.UnixMilli() + 7000, Device: tw.device}, Fields: domain.Fields{"rules": raw},
		Base: map[string]domain.Stamp{"rules": tw.stamp[village]}}
	end := domain.Change{ID: uuid.New(), Kind: domain.KindAssignment, Record: duty.ID, Author: tw.d.TeamLeader.ID,
		Stamp:  domain.Stamp{Wall: now.UnixMilli() + 7000, Logical: 1, Device: tw.device},
		Fields: domain.Fields{"until": []byte(`"` + now.Format(time.RFC3339) + `"`)}, Base: map[string]domain.Stamp{"until": tw.stamp[duty.ID]}}
	push(t, hs[1], tw.device, []domain.Change{set, end})
	for i, s := range hs {
		got, err := s.Rules(village)
		if err != nil || got.OverdueDays != 12 || got.County != 3 || !slices.Equal(got.Approvers, rules.Approvers) {
			t.Errorf("handle %d: the village's rules are %+v (%v), want %+v", i, got, err, rules)
		}
		if ap, err := s.PlanApprovers(village); err != nil || !slices.Equal(ap, rules.Approvers) {
			t.Errorf("handle %d: the village's approvers are %v (%v)", i, ap, err)
		}
		reach, err := s.Reach(cadre)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(reach, func(x replica.Assigned) bool { return x.Target == duty.Target }) {
			t.Errorf("handle %d: the ended assignment still reaches its group", i)
		}
	}
}

// testCrossDuties gives a cadre of one village a duty in the other: the
// first village's team leader reaches it among the assignments a device
// reading the village receives wherever they are (Assigned.Pairings), as it
// does not reach that cadre's duty in the village itself nor an ended one;
// a fingerprint whose predicate reads it by ID, as a server's does, counts
// it (a duty readable without its place); once ended, the reach drops it.
func testCrossDuties(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	villages, groups := tw.villages()
	if len(villages) < 2 {
		t.Fatalf("the town has %d villages", len(villages))
	}
	a, b := villages[0], villages[1]
	var leader uuid.UUID
	var here *domain.Assignment // a group cadre's duty in a
	for _, x := range tw.d.Assignments {
		switch {
		case x.Role == domain.TeamLeader && x.Target == a && x.Current():
			leader = x.Cadre
		case here == nil && x.Role == domain.GroupCadre && slices.Contains(groups[a], x.Target) && x.Current():
			here = x
		}
	}
	if leader == uuid.Nil || here == nil {
		t.Fatalf("the first village has no team leader (%s) or no group cadre (%v)", leader, here)
	}
	mk := func(a *domain.Assignment, logical int) domain.Change {
		a.ID, a.Author = uuid.New(), tw.d.Cadres[0].ID
		ch := tw.change(t, a, logical)
		ch.Stamp.Wall += 9000
		tw.stamp[a.ID] = ch.Stamp
		return ch
	}
	since := now.AddDate(0, -2, 0)
	there := &domain.Assignment{Cadre: here.Cadre, Role: domain.TeamMember, Target: b, Since: since}
	ended := &domain.Assignment{Cadre: here.Cadre, Role: domain.VillageCommittee, Target: b, Since: since.AddDate(-1, 0, 0), Until: since}
	push(t, hs[1], tw.device, []domain.Change{mk(there, 1), mk(ended, 2)})
	reached := func(s server.Store) []uuid.UUID {
		t.Helper()
		reach, err := s.Reach(leader)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range reach {
			if x.Target == a {
				return x.Pairings
			}
		}
		t.Fatal("the team leader does not reach the village")
		return nil
	}
	inA := func(e *replica.Entry) bool { return e.Village == a }
	named := func(e *replica.Entry) bool { return e.Village == a || e.Change.Record == there.ID }
	for i, s := range hs {
		got := reached(s)
		if !slices.Contains(got, there.ID) || slices.Contains(got, ended.ID) || slices.Contains(got, here.ID) {
			t.Errorf("handle %d: the team leader reaches the duty elsewhere %v, the ended one %v, the one in the village %v; want only the first",
				i, slices.Contains(got, there.ID), slices.Contains(got, ended.ID), slices.Contains(got, here.ID))
		}
		p1, _, err := s.ScopePrint(inA)
		if err != nil {
			t.Fatal(err)
		}
		p2, _, err := s.ScopePrint(named)
		if err != nil {
			t.Fatal(err)
		}
		if p1 == p2 {
			t.Errorf("handle %d: the fingerprint does not count a duty readable without its place", i)
		}
	}
	end := domain.Change{ID: uuid.New(), Kind: domain.KindAssignment, Record: there.ID, Author: leader,
		Stamp:  domain.Stamp{Wall: now.UnixMilli() + 10000, Device: tw.device},
		Fields: domain.Fields{"until": []byte(`"` + now.Format(time.RFC3339) + `"`)}, Base: map[string]domain.Stamp{"until": tw.stamp[there.ID]}}
	push(t, hs[0], tw.device, []domain.Change{end})
	for i, s := range hs {
		if slices.Contains(reached(s), there.ID) {
			t.Errorf("handle %d: the team leader still reaches the duty elsewhere once it ended", i)
		}
	}
}

func sameSet(a, b []uuid.UUID) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	cmp := func(p, q uuid.UUID) int { return strings.Compare(string(p[:]), string(q[:])) }
	slices.SortFunc(x, cmp)
	slices.SortFunc(y, cmp)
	return slices.Equal(x, y)
}

// testProposal checks what a guard reads through a Proposal: where the
// record is before and after, the stored state of its fields and of other
// records, other records as the earlier changes of the push left them,
// and a cadre's duties; and that a change reusing the ID of a record of
// another kind is rejected alone.
func testProposal(t *testing.T, open Open) {
	hs := open(t, 2)
	tw := newTown(t)
	tw.seed(t, hs[0])
	villages, groups := tw.villages()
	h := tw.d.Households[2]
	var b uuid.UUID
	for _, v := range villages {
		if !slices.Contains(groups[v], h.Group) && len(groups[v]) > 0 {
			b = v
		}
	}
	move := tw.edit(h, tw.device, now.UnixMilli()+4000, "")
	move.Fields = domain.Fields{"group": []byte(`"` + groups[b][0].String() + `"`)}
	v := &domain.Visit{Household: h.ID, Cadre: tw.d.GroupCadre.ID, At: now, Type: domain.VisitRoutine, Notes: "回访"}
	v.ID, v.Author = uuid.New(), tw.d.GroupCadre.ID
	visit := tw.change(t, v, 1)
	reuse := visit
	reuse.ID, reuse.Record = uuid.New(), tw.d.Village.ID // the ID of a place
	for i, s := range hs {
		var errs []string
		saw := 0
		guard := func(p *replica.Proposal) error {
			saw++
			fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
			switch p.Change.ID {
			case move.ID:
				if !p.Existed || p.Before.Household != h.ID || p.Before.Group != h.Group || p.After.Group != groups[b][0] || p.After.Village != b {
					fail("the move is seen from %+v to %+v", p.Before, p.After)
				}
				if st, ok := p.State("group"); !ok || st.Stamp != tw.stamp[h.ID] || string(st.Value) != `"`+h.Group.String()+`"` {
					fail("the household's stored group is %s at %v (%v)", st.Value, st.Stamp, ok)
				}
				if _, ok := p.State("no such field"); ok {
					fail("a field the record does not have is stored")
				}
			case visit.ID:
				if p.Existed || p.Old != nil || p.After.Household != h.ID || p.After.Village != b {
					fail("the new visit is seen as existing %v, at %+v", p.Existed, p.After)
				}
				rec, loc, ok := p.Record(domain.KindHousehold, h.ID)
				if !ok || rec.(*domain.Household).Group != groups[b][0] || loc.Village != b {
					fail("the visit's household, as the move left it: %v at %+v", ok, loc)
				}
				if st, ok := p.StateOf(domain.KindHousehold, h.ID, "group"); !ok || st.Stamp != move.Stamp {
					fail("the household's group is stamped %v (%v), want the move's", st.Stamp, ok)
				}
				if _, _, ok := p.Record(domain.KindVisit, uuid.New()); ok {
					fail("a record that does not exist is found")
				}
				duties := p.Duties(tw.d.GroupCadre.ID)
				if !slices.ContainsFunc(duties, func(d replica.Duty) bool {
					return d.Assignment.Role == domain.GroupCadre && d.Location.Village == tw.d.Village.ID
				}) {
					fail("the group cadre's duties %d lack their group", len(duties))
				}
			default:
				fail("the guard saw change %s", p.Change.ID)
			}
			return nil
		}
		batch := []domain.Change{move, visit, reuse}
		if i > 0 {
			// Applied already through the first handle: only the
			// reused ID is judged again.
			batch = []domain.Change{reuse}
		}
		rejected, err := s.ApplyGuarded(tw.device, batch, guard)
		if err != nil {
			t.Fatal(err)
		}
		if last := rejected[len(rejected)-1]; domain.ErrorCode(last) != domain.EINVALID {
			t.Errorf("handle %d: a visit with a place's ID: %v, want it rejected as invalid", i, last)
		}
		if i == 0 && (saw != 2 || rejected[0] != nil || rejected[1] != nil) {
			t.Errorf("handle %d: the guard saw %d changes; rejected %v", i, saw, rejected)
		}
		for _, e := range errs {
			t.Errorf("handle %d: %s", i, e)
		}
	}
}
