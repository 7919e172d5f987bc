package domain

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Stamp is a hybrid logical clock reading: wall time in milliseconds, a logical
// counter that orders events within one millisecond, and the device that made
// it, which breaks ties. Stamps from one device are strictly increasing, and a
// device's clock never runs behind a stamp it has seen, so an edit made after
// seeing another always carries the higher stamp.
type Stamp struct {
	Wall    int64     // Unix milliseconds
	Logical uint32    // counter within Wall
	Device  uuid.UUID // tie breaker
}

// IsZero reports whether s is the zero stamp ("never written").
func (s Stamp) IsZero() bool { return s == Stamp{} }

// Compare returns -1, 0 or +1 as s is before, equal to or after t.
func (s Stamp) Compare(t Stamp) int {
	switch {
	case s.Wall < t.Wall:
		return -1
	case s.Wall > t.Wall:
		return 1
	case s.Logical < t.Logical:
		return -1
	case s.Logical > t.Logical:
		return 1
	}
	return bytes.Compare(s.Device[:], t.Device[:])
}

// After reports whether s is after t.
func (s Stamp) After(t Stamp) bool { return s.Compare(t) > 0 }

// Time returns the wall-clock part of s.
func (s Stamp) Time() time.Time { return time.UnixMilli(s.Wall).UTC() }

// String formats s as "wall.logical.device", the form used on the wire.
func (s Stamp) String() string {
	return strconv.FormatInt(s.Wall, 10) + "." + strconv.FormatUint(uint64(s.Logical), 10) + "." + s.Device.String()
}

// ParseStamp parses the form produced by Stamp.String.
func ParseStamp(text string) (Stamp, error) {
	wall, rest, ok1 := strings.Cut(text, ".")
	logical, dev, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return Stamp{}, fmt.Errorf("domain: bad stamp %q", text)
	}
	w, err := strconv.ParseInt(wall, 10, 64)
	if err != nil || w < 0 {
		return Stamp{}, fmt.Errorf("domain: bad stamp wall %q", text)
	}
	l, err := strconv.ParseUint(logical, 10, 32)
	if err != nil {
		return Stamp{}, fmt.Errorf("domain: bad stamp counter %q", text)
	}
	d, err := uuid.Parse(dev)
	if err != nil {
		return Stamp{}, fmt.Errorf("domain: bad stamp device %q", text)
	}
	return Stamp{Wall: w, Logical: uint32(l), Device: d}, nil
}

// MaxSkew bounds how far ahead of the receiver's clock a stamp may be. A device
// whose clock runs hours ahead would otherwise win every concurrent edit; the
// sync server refuses such stamps, and a device clamps its unsent stamps to the
// server's time before pushing (see Clock.SetOffset).
const MaxSkew = 5 * time.Minute

// Clock issues stamps for one device. Its physical part is the local wall clock
// corrected by an offset learned from the server, so a phone whose clock is
// hours off still stamps close to true time once it has synced. It is safe for
// concurrent use.
type Clock struct {
	mu     sync.Mutex
	device uuid.UUID
	now    func() time.Time
	offset time.Duration
	last   Stamp
}

// NewClock returns a clock for device that reads time from now (time.Now if nil).
func NewClock(device uuid.UUID, now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{device: device, now: now}
}

// Device returns the device the clock stamps for.
func (c *Clock) Device() uuid.UUID { return c.device }

// Wall returns the corrected wall time the clock reads.
func (c *Clock) Wall() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now().Add(c.offset)
}

// Now returns a new stamp, after every stamp issued or observed before.
func (c *Clock) Now() Stamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := c.now().Add(c.offset).UnixMilli()
	switch {
	case wall > c.last.Wall:
		c.last = Stamp{Wall: wall, Device: c.device}
	case c.last.Logical == math.MaxUint32:
		// The counter is full (an observed stamp can carry any counter):
		// borrow the next millisecond rather than wrap to 0 and go backwards.
		c.last = Stamp{Wall: c.last.Wall + 1, Device: c.device}
	default:
		c.last = Stamp{Wall: c.last.Wall, Logical: c.last.Logical + 1, Device: c.device}
	}
	return c.last
}

// Observe advances the clock past s, a stamp received from another replica.
// Stamps further ahead than MaxSkew of the corrected wall time are not
// followed, so that one bad clock cannot drag every device into the future.
func (c *Clock) Observe(s Stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.Wall > c.now().Add(c.offset+MaxSkew).UnixMilli() {
		return
	}
	if s.Wall > c.last.Wall || (s.Wall == c.last.Wall && s.Logical > c.last.Logical) {
		c.last = Stamp{Wall: s.Wall, Logical: s.Logical, Device: c.device}
	}
}

// Last returns the latest stamp issued or observed.
func (c *Clock) Last() Stamp {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// SetOffset sets the correction added to the local wall clock: the server's
// time minus the local time, as measured at a sync.
func (c *Clock) SetOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// Offset returns the current correction.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Reset sets the latest stamp to s, even backwards. A device calls it only after
// it has restamped its own unsent changes to fit the server's clock, so that no
// stamp it issued and others have seen is ever repeated.
func (c *Clock) Reset(s Stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = Stamp{Wall: s.Wall, Logical: s.Logical, Device: c.device}
}
