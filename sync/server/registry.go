package server

import (
	"time"

	"github.com/google/uuid"

	"bangfu/replica"
)

// Registry is the server's record of enrolment: one-time codes, devices,
// their tokens and revocation. It never syncs. BoltRegistry (bbolt, in the
// store's local buckets), pgstore.DB (PostgreSQL) and memstore.Store (the
// in-memory model) implement it; registrytest is the suite they pass. It
// speaks replica.Device and replica.Reason, and its errors are replica's
// (replica.ErrCodeUnknown, replica.ErrLost, …), which the protocol turns
// into what a device is told.
type Registry interface {
	// CreateEnrolCode issues a one-time code that enrols one device for
	// cadre, valid for ttl.
	CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error)
	// Enroll trades a one-time code for a device token (see BoltRegistry.Enroll
	// for retries and re-enrolment).
	Enroll(code string, device uuid.UUID, name string, now time.Time) (token string, cadre uuid.UUID, err error)
	// Authenticate returns the device a token belongs to.
	Authenticate(token string) (replica.Device, error)
	// Revoke stops a device for reason.
	Revoke(device uuid.UUID, reason replica.Reason, now time.Time) error
	// CloseDevice ends a device revoked as replaced after its last push.
	CloseDevice(device uuid.UUID, now time.Time) error
	// Touch records a successful sync.
	Touch(device uuid.UUID, now time.Time) error
	// Devices returns the enrolled devices, revoked ones included, in order
	// of enrolment.
	Devices() ([]replica.Device, error)

	// Escrow keeps devices' sealed data keys (escrow.go): Deposit refuses
	// a device not enrolled or revoked; Release gives the key back only to
	// the device that deposited it, acting for the same cadre, live, once
	// the office has acted, and uses up what allowed it.
	Escrow
	// IssueUnlock issues a one-time code, valid for ttl, with which a
	// device that deposited its key takes it back.
	IssueUnlock(device uuid.UUID, ttl time.Duration) (string, error)
}
