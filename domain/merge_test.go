package domain_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// Devices and authors used across the tests; devLow sorts before devHigh.
var (
	devLow  = uuid.MustParse("10000000-0000-4000-8000-000000000001")
	devMid  = uuid.MustParse("50000000-0000-4000-8000-000000000005")
	devHigh = uuid.MustParse("f0000000-0000-4000-8000-00000000000f")

	authorA = uuid.MustParse("aaaaaaaa-0000-4000-8000-00000000000a")
	authorB = uuid.MustParse("bbbbbbbb-0000-4000-8000-00000000000b")
)

func stamp(wall int64, logical uint32, dev uuid.UUID) domain.Stamp {
	return domain.Stamp{Wall: wall, Logical: logical, Device: dev}
}

func field(value string, s domain.Stamp, author uuid.UUID) domain.FieldState {
	return domain.FieldState{Value: json.RawMessage(value), Stamp: s, Author: author}
}

func sameField(a, b domain.FieldState) bool {
	return a.Stamp == b.Stamp && a.Author == b.Author && bytes.Equal(a.Value, b.Value)
}

func showField(f domain.FieldState) string {
	return fmt.Sprintf("%s@%s", f.Value, f.Stamp)
}

func showLost(l *domain.FieldState) string {
	if l == nil {
		return "<nil>"
	}
	return showField(*l)
}

// base is the state both concurrent editors saw: older than every edit below.
var base = field(`"原值"`, stamp(1_000, 0, devMid), authorA)

// ordered lists edits of one field, each winning over every edit before it: a
// later wall time, then a higher counter within the same millisecond, then the
// higher device ID at equal wall and counter.
var ordered = []domain.FieldState{
	field(`"养鸡 30 只"`, stamp(2_000, 0, devHigh), authorA),
	field(`"养鸡 40 只"`, stamp(2_000, 1, devLow), authorB),
	field(`"养鸡 50 只"`, stamp(2_000, 1, devMid), authorA),
	field(`"养鸡 60 只"`, stamp(2_000, 1, devHigh), authorB),
	field(`"养鸡 70 只"`, stamp(2_000, 7, devLow), authorA),
	field(`"养鸡 80 只"`, stamp(2_001, 0, devLow), authorB),
	field(`{"count":90,"kind":"鸡"}`, stamp(9_000_000, 0, devLow), authorA),
	field(`null`, stamp(9_000_000, 0, devHigh), authorB),
}

func TestMergeFieldNewField(t *testing.T) {
	for _, in := range ordered {
		next, lost := domain.MergeField(domain.FieldState{}, false, in, domain.Stamp{})
		if !sameField(next, in) || lost != nil {
			t.Errorf("new field %s: got %s, lost %s", showField(in), showField(next), showLost(lost))
		}
	}
}

// TestMergeFieldSequential: an edit whose author saw the current value
// replaces it and never makes a conflict, whatever the values.
func TestMergeFieldSequential(t *testing.T) {
	for i, cur := range ordered {
		for _, in := range ordered[i+1:] {
			next, lost := domain.MergeField(cur, true, in, cur.Stamp)
			if !sameField(next, in) {
				t.Errorf("sequential %s over %s: got %s", showField(in), showField(cur), showField(next))
			}
			if lost != nil {
				t.Errorf("sequential %s over %s: lost %s, want nothing", showField(in), showField(cur), showLost(lost))
			}
		}
	}
}

// TestMergeFieldConcurrentPairs checks every pair both ways, the way syncthing
// tests FileInfo.WinsConflict: two editors who both saw base write the field;
// whichever arrives first, the later stamp wins and the earlier one is lost.
func TestMergeFieldConcurrentPairs(t *testing.T) {
	for i := range ordered {
		for j := range ordered {
			if i == j {
				continue
			}
			first, second := ordered[i], ordered[j]
			winner, loser := first, second
			if j > i {
				winner, loser = second, first
			}

			cur, lost := domain.MergeField(base, true, first, base.Stamp)
			if !sameField(cur, first) || lost != nil {
				t.Fatalf("first edit %s: got %s, lost %s", showField(first), showField(cur), showLost(lost))
			}
			next, lost := domain.MergeField(cur, true, second, base.Stamp)
			if !sameField(next, winner) {
				t.Errorf("%s then %s: winner %s, want %s", showField(first), showField(second), showField(next), showField(winner))
			}
			if lost == nil || !sameField(*lost, loser) {
				t.Errorf("%s then %s: lost %s, want %s", showField(first), showField(second), showLost(lost), showField(loser))
			}
			if !winner.Stamp.After(loser.Stamp) || loser.Stamp.After(winner.Stamp) {
				t.Errorf("table order: %s should be after %s", winner.Stamp, loser.Stamp)
			}
		}
	}
}

// TestMergeFieldConcurrentEqualValues: when two concurrent edits write the
// same value (as JSON, whatever the spacing) nothing is lost either way.
func TestMergeFieldConcurrentEqualValues(t *testing.T) {
	older := field(`{"count": 50, "kind": "鸡"}`, stamp(2_000, 0, devLow), authorA)
	newer := field(`{"count":50,"kind":"鸡"}`, stamp(2_000, 0, devHigh), authorB)
	for _, order := range [][2]domain.FieldState{{older, newer}, {newer, older}} {
		cur, _ := domain.MergeField(base, true, order[0], base.Stamp)
		next, lost := domain.MergeField(cur, true, order[1], base.Stamp)
		if !sameField(next, newer) {
			t.Errorf("%s then %s: winner %s, want %s", showField(order[0]), showField(order[1]), showField(next), showField(newer))
		}
		if lost != nil {
			t.Errorf("%s then %s: lost %s, want nothing (equal values)", showField(order[0]), showField(order[1]), showLost(lost))
		}
	}
}

// TestMergeFieldReapplied: the same edit arriving again (equal stamps) is a
// no-op, even when it was concurrent the first time.
func TestMergeFieldReapplied(t *testing.T) {
	for _, e := range ordered {
		for _, b := range []domain.Stamp{{}, base.Stamp, e.Stamp} {
			next, lost := domain.MergeField(e, true, e, b)
			if !sameField(next, e) || lost != nil {
				t.Errorf("re-applied %s (base %s): got %s, lost %s", showField(e), b, showField(next), showLost(lost))
			}
		}
	}
	// A concurrent pair, then the loser again: still the winner, nothing new lost.
	a, b := ordered[0], ordered[len(ordered)-1]
	cur, _ := domain.MergeField(base, true, b, base.Stamp)
	cur, lost := domain.MergeField(cur, true, a, base.Stamp)
	if lost == nil {
		t.Fatalf("concurrent pair: nothing lost")
	}
	again, lost := domain.MergeField(cur, true, b, base.Stamp)
	if !sameField(again, b) || lost != nil {
		t.Errorf("winner re-applied: got %s, lost %s", showField(again), showLost(lost))
	}
}

// TestMergeFieldDeviceBreaksTie: at equal wall and counter the higher device ID
// wins, whichever edit arrives first.
func TestMergeFieldDeviceBreaksTie(t *testing.T) {
	lo := field(`"低"`, stamp(5_000, 3, devLow), authorA)
	hi := field(`"高"`, stamp(5_000, 3, devHigh), authorB)
	for _, order := range [][2]domain.FieldState{{lo, hi}, {hi, lo}} {
		cur, _ := domain.MergeField(base, true, order[0], base.Stamp)
		next, lost := domain.MergeField(cur, true, order[1], base.Stamp)
		if !sameField(next, hi) || lost == nil || !sameField(*lost, lo) {
			t.Errorf("%s then %s: got %s, lost %s; want %s, lost %s",
				showField(order[0]), showField(order[1]), showField(next), showLost(lost), showField(hi), showField(lo))
		}
	}
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{nil}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int{}, p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}

// applyAll applies concurrent edits (all made on base) in order and returns the
// final state and the stamps of the values lost, sorted.
func applyAll(t *testing.T, edits []domain.FieldState, order []int) (domain.FieldState, []domain.Stamp) {
	t.Helper()
	cur := base
	var lost []domain.Stamp
	for _, i := range order {
		next, l := domain.MergeField(cur, true, edits[i], base.Stamp)
		if l != nil {
			if l.Stamp == base.Stamp {
				t.Fatalf("order %v: the value every editor saw was reported lost", order)
			}
			lost = append(lost, l.Stamp)
		}
		cur = next
	}
	sort.Slice(lost, func(i, j int) bool { return lost[i].Compare(lost[j]) < 0 })
	return cur, lost
}

// TestMergeFieldThreeConcurrent: three concurrent edits applied in all six
// orders end with the same value and the same losers (all but the latest).
func TestMergeFieldThreeConcurrent(t *testing.T) {
	edits := []domain.FieldState{
		field(`"种花椒"`, stamp(3_000, 0, devMid), authorA),
		field(`"养蜂"`, stamp(3_000, 0, devHigh), authorB),
		field(`"外出务工"`, stamp(2_999, 9, devLow), authorA),
	}
	want := edits[1]
	wantLost := []domain.Stamp{edits[2].Stamp, edits[0].Stamp}
	orders := permutations(3)
	if len(orders) != 6 {
		t.Fatalf("permutations(3) = %d orders", len(orders))
	}
	for _, order := range orders {
		final, lost := applyAll(t, edits, order)
		if !sameField(final, want) {
			t.Errorf("order %v: final %s, want %s", order, showField(final), showField(want))
		}
		if !reflect.DeepEqual(lost, wantLost) {
			t.Errorf("order %v: lost %v, want %v", order, lost, wantLost)
		}
	}
}

// TestMergeFieldManyConcurrent generalises the three-way test: every edit of
// the table made concurrently on base, applied in random orders.
func TestMergeFieldManyConcurrent(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var wantLost []domain.Stamp
	for _, e := range ordered[:len(ordered)-1] {
		wantLost = append(wantLost, e.Stamp)
	}
	want := ordered[len(ordered)-1]
	for round := 0; round < 200; round++ {
		order := rng.Perm(len(ordered))
		final, lost := applyAll(t, ordered, order)
		if !sameField(final, want) || !reflect.DeepEqual(lost, wantLost) {
			t.Fatalf("order %v: final %s lost %v; want %s lost %v", order, showField(final), lost, showField(want), wantLost)
		}
	}
}

func TestConflictIDDeterministic(t *testing.T) {
	record := uuid.MustParse("0b6a2c1e-8f4d-4a7b-9c3e-2d1f0e9a8b7c")
	s := stamp(1_717_200_000_000, 2, devLow)
	id := domain.ConflictID(record, "goal", s)
	if again := domain.ConflictID(record, "goal", s); again != id {
		t.Fatalf("ConflictID not deterministic: %s, %s", id, again)
	}
	if id.Version() != 5 {
		t.Errorf("ConflictID version %d, want 5 (name based, SHA-1)", id.Version())
	}
	// Replicas running different versions of the app must derive the same ID:
	// the derivation is part of the sync contract and must never change. It is
	// a SHA-1 name-based UUID in the conflict namespace over record, field name,
	// wall (8 bytes, big-endian), counter (4 bytes) and device.
	name := append(append([]byte{}, record[:]...), "goal"...)
	name = binary.BigEndian.AppendUint64(name, uint64(s.Wall))
	name = binary.BigEndian.AppendUint32(name, s.Logical)
	name = append(name, s.Device[:]...)
	space := uuid.MustParse("6f1c3b7e-52a4-4c1e-9a55-1b0c6d2f8e01")
	if want := uuid.NewSHA1(space, name); id != want {
		t.Errorf("ConflictID = %s, want %s", id, want)
	}
	if want := uuid.MustParse("6cc57e07-c9f7-557a-bfb5-d6f31d91b661"); id != want {
		t.Errorf("ConflictID = %s, want %s as released", id, want)
	}
	others := map[string]uuid.UUID{
		"record":  domain.ConflictID(uuid.MustParse("0b6a2c1e-8f4d-4a7b-9c3e-2d1f0e9a8b7d"), "goal", s),
		"field":   domain.ConflictID(record, "goals", s),
		"wall":    domain.ConflictID(record, "goal", stamp(s.Wall+1, s.Logical, s.Device)),
		"logical": domain.ConflictID(record, "goal", stamp(s.Wall, s.Logical+1, s.Device)),
		"device":  domain.ConflictID(record, "goal", stamp(s.Wall, s.Logical, devHigh)),
	}
	seen := map[uuid.UUID]string{id: "original"}
	for what, other := range others {
		if prev, dup := seen[other]; dup {
			t.Errorf("changing the %s gives the same ID as %s: %s", what, prev, other)
		}
		seen[other] = what
	}
}

// TestConflictReplicasAgree: two replicas receive the same two concurrent edits
// in opposite orders; both keep the same conflict, made by the same change.
func TestConflictReplicasAgree(t *testing.T) {
	record := uuid.MustParse("3c9e1d2a-6b4f-4e8a-9d7c-5a1b2c3d4e5f")
	household := uuid.MustParse("7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a")
	x := field(`"种植花椒 2 亩"`, stamp(4_000, 0, devLow), authorA)
	y := field(`"种植花椒 3 亩"`, stamp(4_000, 0, devHigh), authorB)

	var changes []domain.Change
	var conflicts []*domain.Conflict
	for _, order := range [][2]domain.FieldState{{x, y}, {y, x}} {
		cur, _ := domain.MergeField(base, true, order[0], base.Stamp)
		next, lost := domain.MergeField(cur, true, order[1], base.Stamp)
		if lost == nil {
			t.Fatalf("order %s, %s: nothing lost", showField(order[0]), showField(order[1]))
		}
		c := domain.NewConflict(domain.KindMeasure, record, household, "target", next, *lost)
		ch, err := domain.ConflictChange(c, next.Stamp)
		if err != nil {
			t.Fatal(err)
		}
		conflicts = append(conflicts, c)
		changes = append(changes, ch)
	}
	if !reflect.DeepEqual(conflicts[0], conflicts[1]) {
		t.Errorf("replicas made different conflicts:\n%+v\n%+v", conflicts[0], conflicts[1])
	}
	if !reflect.DeepEqual(changes[0], changes[1]) {
		t.Errorf("replicas made different changes:\n%+v\n%+v", changes[0], changes[1])
	}

	c, ch := conflicts[0], changes[0]
	if c.ID != domain.ConflictID(record, "target", x.Stamp) {
		t.Errorf("conflict ID %s is not ConflictID of the lost edit", c.ID)
	}
	if c.Household != household || c.RecordKind != domain.KindMeasure || c.Record != record || c.Field != "target" {
		t.Errorf("conflict does not describe the field: %+v", c)
	}
	if string(c.Winner) != string(y.Value) || c.WinnerStamp != y.Stamp.String() || c.WinnerAuthor != authorB {
		t.Errorf("conflict winner: %s %s %s", c.Winner, c.WinnerStamp, c.WinnerAuthor)
	}
	if string(c.Loser) != string(x.Value) || c.LoserStamp != x.Stamp.String() || c.LoserAuthor != authorA {
		t.Errorf("conflict loser: %s %s %s", c.Loser, c.LoserStamp, c.LoserAuthor)
	}
	if err := c.Validate(y.Stamp.Time()); err != nil {
		t.Errorf("new conflict does not validate: %v", err)
	}
	if ch.Kind != domain.KindConflict || ch.Record != c.ID || ch.Stamp != y.Stamp || ch.Author != c.Author {
		t.Errorf("change header: %+v", ch)
	}
	back, err := domain.Decode(domain.KindConflict, ch.Record, ch.Fields)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("the change's fields decode to\n%+v\nwant\n%+v", back, c)
	}

	// A later winner (another replica saw a third edit) makes another change
	// for the same conflict record.
	later, err := domain.ConflictChange(c, stamp(4_001, 0, devLow))
	if err != nil {
		t.Fatal(err)
	}
	if later.ID == ch.ID {
		t.Errorf("changes for different winners share ID %s", ch.ID)
	}
	if later.Record != ch.Record {
		t.Errorf("changes for one conflict name different records: %s, %s", later.Record, ch.Record)
	}
}

// TestMergeFieldSequentialBehind: an edit whose author saw the current value
// but whose stamp is lower cannot win, or replicas that receive the two in the
// other order would disagree; but it must not vanish either: it is returned as
// lost, to be kept as a conflict. It happens when the author's clock ignored
// the current value's stamp as too far ahead (Clock.Observe, tested in
// TestClockObserveIgnoresFarFuture): the phone below stamps at t0 the edit of
// a value stamped beyond t0+MaxSkew.
func TestMergeFieldSequentialBehind(t *testing.T) {
	ahead := field(`"散养鸡 30 只"`, stamp(t0.Add(domain.MaxSkew+time.Minute).UnixMilli(), 0, devHigh), authorB)
	cur, _ := domain.MergeField(base, true, ahead, base.Stamp)

	edit := field(`"散养鸡 50 只"`, stamp(t0.UnixMilli(), 1, devLow), authorA)
	next, lost := domain.MergeField(cur, true, edit, cur.Stamp)
	if !sameField(next, ahead) {
		t.Errorf("winner %s, want the higher stamp %s", showField(next), showField(ahead))
	}
	if lost == nil || !sameField(*lost, edit) {
		t.Errorf("the cadre's edit %s was dropped: lost %s", showField(edit), showLost(lost))
	}

	// A replica that gets the two the other way round ends the same, with the
	// edit kept as lost too (so both make the same conflict).
	other, _ := domain.MergeField(base, true, edit, ahead.Stamp)
	other, lost = domain.MergeField(other, true, ahead, base.Stamp)
	if !sameField(other, next) {
		t.Errorf("other order: winner %s, want %s", showField(other), showField(next))
	}
	if lost == nil || !sameField(*lost, edit) {
		t.Errorf("other order: lost %s, want %s", showLost(lost), showField(edit))
	}

	// Writing the value the field already holds loses nothing.
	if _, lost := domain.MergeField(cur, true, field(string(ahead.Value), edit.Stamp, authorA), cur.Stamp); lost != nil {
		t.Errorf("an equal value was reported lost: %s", showLost(lost))
	}
}

// TestArrivedEarly: an edit arrives early when its base is newer than the
// stamp held; one based on what is held, on something older, or on nothing,
// or reaching a field the replica does not hold, does not.
func TestArrivedEarly(t *testing.T) {
	held := ordered[3]
	for _, c := range []struct {
		name string
		has  bool
		base domain.Stamp
		want bool
	}{
		{"based on what is held", true, held.Stamp, false},
		{"based on an older value (concurrent)", true, ordered[1].Stamp, false},
		{"based on nothing (a new field)", true, domain.Stamp{}, false},
		{"based on a newer value not merged yet", true, ordered[4].Stamp, true},
		{"newer by the device alone", true, stamp(held.Stamp.Wall, held.Stamp.Logical, uuid.Max), true},
		{"a field not held", false, ordered[4].Stamp, false},
	} {
		if got := domain.ArrivedEarly(held, c.has, c.base); got != c.want {
			t.Errorf("%s: ArrivedEarly = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestMergeFieldOutOfOrder shows what MergeField's comment says of an edit
// B made on A that arrives before A: the same winner as in causal order,
// two conflicts that causal order does not make, and ArrivedEarly true for
// B alone.
func TestMergeFieldOutOfOrder(t *testing.T) {
	c0 := base
	a := field(`"A"`, stamp(2_000, 0, devLow), authorA)
	b := field(`"B"`, stamp(3_000, 0, devLow), authorA)

	// In order: A on C0, B on A.
	if domain.ArrivedEarly(c0, true, c0.Stamp) {
		t.Error("A, on what is held, reported early")
	}
	cur, lost := domain.MergeField(c0, true, a, c0.Stamp)
	if lost != nil {
		t.Errorf("in order, A lost %s", showLost(lost))
	}
	if domain.ArrivedEarly(cur, true, a.Stamp) {
		t.Error("B, on what is held, reported early")
	}
	inOrder, lost := domain.MergeField(cur, true, b, a.Stamp)
	if lost != nil {
		t.Errorf("in order, B lost %s", showLost(lost))
	}

	// B first.
	if !domain.ArrivedEarly(c0, true, a.Stamp) {
		t.Error("B, arriving before A, was not reported early")
	}
	cur, lost1 := domain.MergeField(c0, true, b, a.Stamp)
	if domain.ArrivedEarly(cur, true, c0.Stamp) {
		t.Error("A, arriving after B, reported early")
	}
	cur, lost2 := domain.MergeField(cur, true, a, c0.Stamp)
	if !sameField(cur, inOrder) {
		t.Errorf("out of order the winner is %s, in order %s", showField(cur), showField(inOrder))
	}
	if lost1 == nil || !sameField(*lost1, c0) || lost2 == nil || !sameField(*lost2, a) {
		t.Errorf("out of order lost %s and %s, want C0 and A", showLost(lost1), showLost(lost2))
	}
}
