package replica

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Device is an enrolled device as the server knows it.
type Device struct {
	ID       uuid.UUID // the device's own ID (its clock stamps with it)
	Cadre    uuid.UUID // the cadre it acts for
	Name     string    // e.g. 马兴文的手机
	Enrolled time.Time // when it enrolled
	LastSync time.Time // its latest successful sync; zero if none
	Revoked  time.Time // when it was revoked; zero if it is not
	// Reason is why it was revoked; "" if it is not (or was revoked before
	// reasons were kept, which counts as Lost).
	Reason Reason
	// Closed is when a device revoked as Replaced made its last push and
	// its token stopped working; zero until then.
	Closed time.Time
}

// Reason is why a device was revoked: it decides what the device is told the
// next time it reaches the server.
type Reason string

// The reasons for revoking a device.
const (
	// Lost: the device may be in a stranger's hands. It is refused (ErrLost) at
	// its next contact, and a device that hears it wipes its
	// local store.
	Lost Reason = "lost"
	// Replaced: the cadre has a new device. The old one may push what it
	// still holds once (nothing is pulled), then it is closed and refused
	// (ErrRevoked).
	Replaced Reason = "replaced"
)

// ParseReason returns the reason named s ("lost" or "replaced").
func ParseReason(s string) (Reason, error) {
	switch r := Reason(strings.ToLower(strings.TrimSpace(s))); r {
	case Lost, Replaced:
		return r, nil
	}
	return "", domain.Errorf(domain.EINVALID, "reason", "注销原因只能是 lost（丢失）或 replaced（换新设备），而不是 %q",
		"the reason must be lost or replaced, not %q", s)
}

// AuditEntry is one administrative action in the console's audit log.
type AuditEntry struct {
	Seq     uint64    `json:"-"`
	At      time.Time `json:"at"`
	Account string    `json:"account"` // who ("" for the command line)
	Action  string    `json:"action"`  // e.g. "revoke", "enrol", "login"
	Target  string    `json:"target"`  // what it acted on, in words
	Detail  string    `json:"detail"`  // e.g. the reason of a revocation
	Place   uuid.UUID `json:"place"`   // the scope of the account that acted
}
