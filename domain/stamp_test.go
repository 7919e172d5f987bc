package domain_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"bangfu/domain"

	"github.com/google/uuid"
)

// ascending lists stamps in strictly increasing order.
var ascending = []domain.Stamp{
	{},
	stamp(0, 0, devLow),
	stamp(0, 1, uuid.Nil),
	stamp(1, 0, uuid.Nil),
	stamp(1_700_000_000_000, 0, devLow),
	stamp(1_700_000_000_000, 0, devMid),
	stamp(1_700_000_000_000, 0, devHigh),
	stamp(1_700_000_000_000, 1, devLow),
	stamp(1_700_000_000_000, math.MaxUint32, devLow),
	stamp(1_700_000_000_001, 0, uuid.Nil),
	stamp(math.MaxInt64, math.MaxUint32, uuid.Max),
}

func TestStampCompareTotalOrder(t *testing.T) {
	for i, s := range ascending {
		for j, u := range ascending {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := s.Compare(u); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", s, u, got, want)
			}
			if got := s.After(u); got != (want > 0) {
				t.Errorf("%s.After(%s) = %v", s, u, got)
			}
		}
	}
}

func TestStampIsZeroAndTime(t *testing.T) {
	if !(domain.Stamp{}).IsZero() {
		t.Error("zero stamp is not IsZero")
	}
	for _, s := range ascending[1:] {
		if s.IsZero() {
			t.Errorf("%s is IsZero", s)
		}
	}
	at := time.Date(2024, 6, 1, 9, 30, 15, 123_000_000, time.UTC)
	s := stamp(at.UnixMilli(), 4, devLow)
	if got := s.Time(); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("Time() = %v, want %v in UTC", got, at)
	}
}

var goodStamps = []domain.Stamp{
	{},
	stamp(1_717_200_000_000, 0, devLow),
	stamp(1_717_200_000_000, 42, devHigh),
	stamp(math.MaxInt64, math.MaxUint32, uuid.Max),
}

var badStampText = []string{
	"",
	"1717200000000",
	"1717200000000.0",
	"1717200000000.0.",
	"1717200000000.0.not-a-uuid",
	"1717200000000.0." + devLow.String() + ".1",
	"-1.0." + devLow.String(),
	"x.0." + devLow.String(),
	"1717200000000.-1." + devLow.String(),
	"1717200000000.4294967296." + devLow.String(),
	"9223372036854775808.0." + devLow.String(),
	"1.5.0." + devLow.String(),
	".0." + devLow.String(),
	"1.." + devLow.String(),
	" 1.0." + devLow.String(),
}

func TestStampStringRoundTrip(t *testing.T) {
	for _, s := range goodStamps {
		text := s.String()
		back, err := domain.ParseStamp(text)
		if err != nil {
			t.Errorf("ParseStamp(%q): %v", text, err)
			continue
		}
		if back != s {
			t.Errorf("ParseStamp(%q) = %+v, want %+v", text, back, s)
		}
	}
	if got, want := stamp(17, 3, devLow).String(), "17.3."+devLow.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestParseStampRejects(t *testing.T) {
	for _, text := range badStampText {
		if s, err := domain.ParseStamp(text); err == nil {
			t.Errorf("ParseStamp(%q) = %+v, want an error", text, s)
		}
	}
}

func FuzzParseStamp(f *testing.F) {
	for _, s := range goodStamps {
		f.Add(s.String())
	}
	for _, text := range badStampText {
		f.Add(text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := domain.ParseStamp(text)
		if err != nil {
			if s != (domain.Stamp{}) {
				t.Errorf("ParseStamp(%q) failed but returned %+v", text, s)
			}
			return
		}
		if s.Wall < 0 {
			t.Errorf("ParseStamp(%q) accepted a negative wall", text)
		}
		back, err := domain.ParseStamp(s.String())
		if err != nil || back != s {
			t.Errorf("ParseStamp(%q) = %+v, but its String %q parses to %+v, %v", text, s, s.String(), back, err)
		}
	})
}

// fakeNow is a wall clock a test sets by hand.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeNow) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

var t0 = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)

func TestClockStampsFollowTheWallClock(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devMid, wall.now)
	if c.Device() != devMid {
		t.Errorf("Device() = %s", c.Device())
	}
	if got, want := c.Now(), stamp(t0.UnixMilli(), 0, devMid); got != want {
		t.Errorf("Now() = %s, want %s", got, want)
	}
	if got, want := c.Now(), stamp(t0.UnixMilli(), 1, devMid); got != want {
		t.Errorf("second Now() in the same millisecond = %s, want %s", got, want)
	}
	wall.set(t0.Add(time.Second))
	if got, want := c.Now(), stamp(t0.Add(time.Second).UnixMilli(), 0, devMid); got != want {
		t.Errorf("Now() a second later = %s, want %s", got, want)
	}
	if got := c.Last(); got != stamp(t0.Add(time.Second).UnixMilli(), 0, devMid) {
		t.Errorf("Last() = %s", got)
	}
}

func TestClockMonotonicWhenWallGoesBack(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devLow, wall.now)
	steps := []time.Duration{0, 0, -time.Millisecond, -time.Hour, -24 * time.Hour, time.Millisecond, time.Hour, time.Hour, -30 * time.Minute, 2 * time.Hour}
	prev := domain.Stamp{}
	for i, d := range steps {
		wall.set(t0.Add(d))
		s := c.Now()
		if !s.After(prev) {
			t.Fatalf("step %d (wall %v): Now() = %s, not after %s", i, d, s, prev)
		}
		if s.Device != devLow {
			t.Fatalf("step %d: stamp for device %s", i, s.Device)
		}
		prev = s
	}
	if got, want := prev.Wall, t0.Add(2*time.Hour).UnixMilli(); got != want {
		t.Errorf("after the wall clock caught up, Wall = %d, want %d", got, want)
	}
}

func TestClockObserve(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devLow, wall.now)
	c.Now()
	seen := stamp(t0.Add(time.Minute).UnixMilli(), 7, devHigh)
	c.Observe(seen)
	if got, want := c.Last(), stamp(seen.Wall, seen.Logical, devLow); got != want {
		t.Errorf("Last() after Observe = %s, want %s", got, want)
	}
	s := c.Now()
	if !s.After(seen) || s.Device != devLow {
		t.Errorf("Now() = %s, not after observed %s on this device", s, seen)
	}
	// An older stamp does not move the clock back.
	c.Observe(stamp(t0.UnixMilli(), 99, devHigh))
	if got := c.Last(); got != s {
		t.Errorf("Last() after observing an old stamp = %s, want %s", got, s)
	}
	// A stamp equal in wall and counter but from a higher device: the next
	// stamp is still after it.
	tie := stamp(s.Wall, s.Logical, uuid.Max)
	c.Observe(tie)
	if next := c.Now(); !next.After(tie) {
		t.Errorf("Now() = %s, not after observed %s", next, tie)
	}
}

func TestClockObserveIgnoresFarFuture(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devLow, wall.now)
	first := c.Now()

	tooFar := stamp(t0.Add(domain.MaxSkew).UnixMilli()+1, 0, devHigh)
	c.Observe(tooFar)
	if got := c.Last(); got != first {
		t.Errorf("observing %s (beyond MaxSkew) moved the clock to %s", tooFar, got)
	}
	if s := c.Now(); s.Wall != t0.UnixMilli() {
		t.Errorf("Now() = %s, dragged towards %s", s, tooFar)
	}

	edge := stamp(t0.Add(domain.MaxSkew).UnixMilli(), 3, devHigh)
	c.Observe(edge)
	if s := c.Now(); !s.After(edge) {
		t.Errorf("Now() = %s, not after %s which is exactly MaxSkew ahead", s, edge)
	}
}

func TestClockSetOffset(t *testing.T) {
	server := t0
	// The phone's clock is three hours behind true time.
	wall := &fakeNow{t: server.Add(-3 * time.Hour)}
	c := domain.NewClock(devLow, wall.now)
	if got := c.Now().Time(); got.Sub(server) > -time.Hour {
		t.Fatalf("before correction, Now() = %v; the test expects it hours behind %v", got, server)
	}
	// Before the correction a stamp at true time is beyond MaxSkew: ignored.
	serverStamp := stamp(server.UnixMilli(), 0, devHigh)
	c.Observe(serverStamp)
	if c.Last().Wall == serverStamp.Wall {
		t.Fatalf("an uncorrected clock followed a stamp three hours ahead")
	}

	c.SetOffset(server.Sub(wall.now()))
	if got := c.Offset(); got != 3*time.Hour {
		t.Errorf("Offset() = %v, want 3h", got)
	}
	if got := c.Wall(); !got.Equal(server) {
		t.Errorf("Wall() = %v, want %v", got, server)
	}
	s := c.Now()
	if got := s.Time(); !got.Equal(server) {
		t.Errorf("corrected Now() = %v, want %v", got, server)
	}
	c.Observe(stamp(server.Add(time.Minute).UnixMilli(), 0, devHigh))
	if got := c.Last().Wall; got != server.Add(time.Minute).UnixMilli() {
		t.Errorf("corrected clock did not follow a stamp a minute ahead: Last().Wall = %d", got)
	}

	// A clock hours ahead is pulled back, but never behind what it issued.
	ahead := &fakeNow{t: server.Add(5 * time.Hour)}
	c2 := domain.NewClock(devMid, ahead.now)
	issued := c2.Now()
	c2.SetOffset(-5 * time.Hour)
	if got := c2.Wall(); !got.Equal(server) {
		t.Errorf("Wall() of a corrected fast clock = %v, want %v", got, server)
	}
	if s := c2.Now(); !s.After(issued) {
		t.Errorf("Now() = %s after correction, behind already issued %s", s, issued)
	}
}

func TestClockReset(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devLow, wall.now)
	c.Observe(stamp(t0.Add(4*time.Minute).UnixMilli(), 2, devHigh))
	c.Now()

	back := stamp(t0.Add(-time.Minute).UnixMilli(), 5, devHigh)
	c.Reset(back)
	if got, want := c.Last(), stamp(back.Wall, back.Logical, devLow); got != want {
		t.Errorf("Last() after Reset = %s, want %s", got, want)
	}
	if got, want := c.Now(), stamp(t0.UnixMilli(), 0, devLow); got != want {
		t.Errorf("Now() after Reset = %s, want %s (the wall clock again)", got, want)
	}

	ahead := stamp(t0.Add(time.Hour).UnixMilli(), 0, devHigh)
	c.Reset(ahead)
	if got, want := c.Now(), stamp(ahead.Wall, 1, devLow); got != want {
		t.Errorf("Now() after Reset forward = %s, want %s", got, want)
	}
}

func TestClockDefaultsToTimeNow(t *testing.T) {
	c := domain.NewClock(devLow, nil)
	before := time.Now().UnixMilli()
	s := c.Now()
	after := time.Now().UnixMilli()
	if s.Wall < before || s.Wall > after {
		t.Errorf("Now().Wall = %d, not within [%d, %d]", s.Wall, before, after)
	}
}

func TestClockConcurrentUse(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devLow, wall.now)
	const workers, each = 4, 500
	out := make([][]domain.Stamp, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if i%100 == 0 {
					c.Observe(stamp(t0.Add(time.Duration(i)*time.Millisecond).UnixMilli(), uint32(w), devHigh))
				}
				out[w] = append(out[w], c.Now())
			}
		}()
	}
	wg.Wait()
	seen := map[domain.Stamp]bool{}
	for w, stamps := range out {
		for i, s := range stamps {
			if seen[s] {
				t.Fatalf("stamp %s issued twice", s)
			}
			seen[s] = true
			if i > 0 && !s.After(stamps[i-1]) {
				t.Fatalf("worker %d: %s not after %s", w, s, stamps[i-1])
			}
		}
	}
}

// TestClockCounterOverflow: a stamp whose counter is at its maximum (another
// replica's, observed) must not make the next stamp wrap to counter 0 in the
// same millisecond, which would sort before it.
func TestClockCounterOverflow(t *testing.T) {
	wall := &fakeNow{t: t0}
	c := domain.NewClock(devLow, wall.now)
	full := stamp(t0.UnixMilli(), math.MaxUint32, devHigh)
	c.Observe(full)
	prev := full
	for range 3 {
		s := c.Now()
		if !s.After(prev) {
			t.Fatalf("Now() = %s, not after %s", s, prev)
		}
		prev = s
	}
}
