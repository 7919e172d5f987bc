package memstore

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
)

// The registry: enrolment codes, devices and their tokens, the escrow of
// their data keys, the audit log. The model keeps codes and tokens as
// they are (it holds nothing across processes); store and pgstore keep
// only their hashes.

// code is a one-time enrolment code.
type code struct {
	cadre   uuid.UUID
	expires time.Time
	used    time.Time // zero until used
	device  uuid.UUID // the device that used it
}

// device is an enrolled device.
type device struct {
	replica.Device
	token   string
	earlier []string // tokens of earlier enrolments not yet superseded, oldest first
}

// deposit is a device's sealed data key and what the office did about it.
type deposit struct {
	cadre    uuid.UUID
	sealed   []byte
	granted  bool   // enrolled again since: the key may go back without a code
	unlock   string // the outstanding unlock code, normalised; "" if none
	expires  time.Time
	tries    int
	released time.Time
}

// maxEarlier is how many earlier tokens a device keeps (store's bound).
const maxEarlier = 3

// maxUnlockTries is how many wrong unlock codes use a code up (store's).
const maxUnlockTries = 5

func notEnrolled(id uuid.UUID) error {
	s := id.String()[:8]
	return &domain.Error{Code: domain.ENOTFOUND, Field: "device",
		Zh: fmt.Sprintf("设备 %s 未注册", s), En: fmt.Sprintf("device %s is not enrolled", s)}
}

// onRoster reports whether cadre is a live cadre record; the caller holds mu.
func (s *Store) onRoster(cadre uuid.UUID) bool {
	return live(base{s}, domain.KindCadre, cadre) != nil
}

// CreateEnrolCode issues a one-time code for cadre, who must be on the
// roster, valid for ttl.
func (s *Store) CreateEnrolCode(cadre uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", replica.ErrCodeTTL
	}
	c, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("memstore: enrol code: %w", err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.onRoster(cadre) {
		return "", domain.Errorf(domain.ENOTFOUND, "cadre", "干部不在名册中", "the cadre is not on the roster")
	}
	s.codes[replica.NormalizeCode(c)] = &code{cadre: cadre, expires: now.Add(ttl)}
	return c, nil
}

// Enroll trades a one-time code for a device token, as server.BoltRegistry.Enroll
// does: a device ID belongs to its first cadre for good; the same device
// with the same code gets its identity back with a new token; the same
// cadre's live device may enrol again with a new code.
func (s *Store) Enroll(c string, id uuid.UUID, name string, now time.Time) (string, uuid.UUID, error) {
	if id == uuid.Nil || id == s.id {
		return "", uuid.Nil, domain.Errorf(domain.EINVALID, "device", "设备标识无效", "the device ID is not valid")
	}
	name = strings.TrimSpace(name)
	if err := replica.CheckDeviceName(name); err != nil {
		return "", uuid.Nil, err
	}
	var secret [32]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", uuid.Nil, fmt.Errorf("memstore: enroll: %w", err)
	}
	token := "bft1." + id.String() + "." + base64.RawURLEncoding.EncodeToString(secret[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.codes[replica.NormalizeCode(c)]
	switch {
	case !ok:
		return "", uuid.Nil, replica.ErrCodeUnknown
	case !k.used.IsZero() && k.device != id:
		return "", uuid.Nil, replica.ErrCodeUsed
	case !now.Before(k.expires):
		return "", uuid.Nil, replica.ErrCodeExpired
	}
	retry := !k.used.IsZero()
	if !s.onRoster(k.cadre) {
		return "", uuid.Nil, domain.Errorf(domain.EUNAUTHORIZED, "cadre", "注册码所属的干部已不在名册中",
			"the cadre this code was issued for is no longer on the roster")
	}
	d := s.devices[id]
	if d != nil && (d.Cadre != k.cadre || !d.Revoked.IsZero()) {
		return "", uuid.Nil, replica.ErrDeviceTaken
	}
	if retry && d == nil {
		return "", uuid.Nil, replica.ErrCodeUsed
	}
	if !retry {
		k.used, k.device = now, id
	}
	if d == nil {
		s.devices[id] = &device{Device: replica.Device{ID: id, Cadre: k.cadre, Name: name, Enrolled: now}, token: token}
		return token, k.cadre, nil
	}
	d.Name = name
	d.earlier = append(d.earlier, d.token)
	if n := len(d.earlier); n > maxEarlier {
		d.earlier = d.earlier[n-maxEarlier:]
	}
	d.token = token
	if dep := s.escrow[id]; dep != nil && !retry {
		dep.granted = true // the office enrolled it again
	}
	return token, k.cadre, nil
}

// Authenticate returns the device token belongs to, as
// server.BoltRegistry.Authenticate does; the first of a device's tokens used becomes
// its only one.
func (s *Store) Authenticate(token string) (replica.Device, error) {
	rest, ok := strings.CutPrefix(token, "bft1.")
	if !ok || len(rest) < 37 || rest[36] != '.' {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	id, err := uuid.Parse(rest[:36])
	if err != nil {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil || d.token != token && !slices.Contains(d.earlier, token) {
		return replica.Device{}, replica.ErrTokenUnknown
	}
	switch {
	case d.Revoked.IsZero():
		d.token, d.earlier = token, nil
		return d.Device, nil
	case d.Reason == replica.Lost || d.Reason == "":
		return replica.Device{}, replica.ErrLost
	case d.Closed.IsZero():
		return d.Device, replica.ErrReplaced
	}
	return replica.Device{}, replica.ErrRevoked
}

// update applies fn to enrolled device id.
func (s *Store) update(id uuid.UUID, fn func(*device)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[id]
	if d == nil {
		return notEnrolled(id)
	}
	fn(d)
	return nil
}

// Revoke stops a device for reason; revoking again changes nothing,
// except that a replaced device not yet closed may be declared lost.
func (s *Store) Revoke(id uuid.UUID, reason replica.Reason, now time.Time) error {
	if _, err := replica.ParseReason(string(reason)); err != nil {
		return err
	}
	return s.update(id, func(d *device) {
		switch {
		case d.Revoked.IsZero():
			d.Revoked, d.Reason = now, reason
		case reason == replica.Lost && d.Reason == replica.Replaced && d.Closed.IsZero():
			d.Reason = replica.Lost
		}
	})
}

// CloseDevice ends a device revoked as replaced after its last push.
func (s *Store) CloseDevice(id uuid.UUID, now time.Time) error {
	return s.update(id, func(d *device) {
		if !d.Revoked.IsZero() && d.Closed.IsZero() {
			d.Closed = now
		}
	})
}

// Touch records a successful sync at now, unless a later one is recorded.
func (s *Store) Touch(id uuid.UUID, now time.Time) error {
	return s.update(id, func(d *device) {
		if now.After(d.LastSync) {
			d.LastSync = now
		}
	})
}

// Devices returns the enrolled devices, revoked ones included, in order of
// enrolment (then of ID).
func (s *Store) Devices() ([]replica.Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []replica.Device
	for _, d := range s.devices {
		out = append(out, d.Device)
	}
	slices.SortFunc(out, func(a, b replica.Device) int {
		if c := a.Enrolled.Compare(b.Enrolled); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID[:]), string(b.ID[:]))
	})
	return out, nil
}

// live returns enrolled device id, refusing one revoked; the caller holds
// mu.
func (s *Store) live(id uuid.UUID) (*device, error) {
	d := s.devices[id]
	switch {
	case d == nil:
		return nil, notEnrolled(id)
	case d.Revoked.IsZero():
		return d, nil
	case d.Reason == replica.Lost || d.Reason == "":
		return nil, replica.ErrLost
	}
	return nil, replica.ErrRevoked
}

// Deposit keeps a live device's sealed data key, replacing an earlier
// deposit; what the office granted stays if the cadre is the same.
func (s *Store) Deposit(id uuid.UUID, sealed []byte, now time.Time) error {
	if len(sealed) == 0 || len(sealed) > replica.MaxSealedKey {
		return domain.Errorf(domain.EINVALID, "key", "数据密钥的长度不对", "the data key has the wrong length")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.live(id)
	if err != nil {
		return err
	}
	dep := s.escrow[id]
	if dep == nil || dep.cadre != d.Cadre {
		dep = &deposit{cadre: d.Cadre}
		s.escrow[id] = dep
	}
	dep.sealed = slices.Clone(sealed)
	return nil
}

// IssueUnlock issues a one-time code with which a live device holding a
// deposit takes its key back, valid for ttl; it replaces an outstanding
// one.
func (s *Store) IssueUnlock(id uuid.UUID, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", replica.ErrUnlockTTL
	}
	c, err := replica.NewCode()
	if err != nil {
		return "", fmt.Errorf("memstore: unlock code: %w", err)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.live(id); err != nil {
		return "", err
	}
	dep := s.escrow[id]
	if dep == nil {
		return "", replica.ErrNoDeposit
	}
	dep.unlock, dep.expires, dep.tries = replica.NormalizeCode(c), now.Add(ttl), 0
	return c, nil
}

// Release gives a live device its key back, acting for cadre (uuid.Nil
// with a code: the device's own), once the office has acted: with the
// unlock code, or with code empty after a re-enrolment. A wrong code
// counts; maxUnlockTries use the code up. The release is audited.
func (s *Store) Release(id, cadre uuid.UUID, c string, now time.Time) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.live(id)
	if err != nil {
		return nil, "", err
	}
	dep := s.escrow[id]
	if dep == nil {
		return nil, "", replica.ErrNoDeposit
	}
	if cadre == uuid.Nil {
		if c == "" {
			return nil, "", replica.ErrUnlockCode
		}
		cadre = d.Cadre
	}
	if dep.cadre != cadre || d.Cadre != cadre {
		return nil, "", replica.ErrEscrowCadre
	}
	var how string
	switch {
	case c != "":
		if dep.unlock == "" {
			return nil, "", replica.ErrUnlockCode
		}
		if replica.NormalizeCode(c) != dep.unlock || !now.Before(dep.expires) || dep.tries >= maxUnlockTries {
			dep.tries++
			if dep.tries >= maxUnlockTries {
				dep.unlock = ""
			}
			return nil, "", replica.ErrUnlockCode
		}
		how = "unlock code"
	case dep.granted:
		how = "re-enrolment"
	default:
		return nil, "", replica.ErrNoGrant
	}
	dep.granted, dep.unlock, dep.expires, dep.tries, dep.released = false, "", time.Time{}, 0, now
	s.audit = append(s.audit, replica.AuditEntry{Seq: uint64(len(s.audit) + 1), At: now, Action: "release-key",
		Target: d.Name + " (" + id.String()[:8] + ")", Detail: how})
	return slices.Clone(dep.sealed), how, nil
}

// Audit appends e to the audit log.
func (s *Store) Audit(e replica.AuditEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Seq = uint64(len(s.audit) + 1)
	s.audit = append(s.audit, e)
	return nil
}

// AuditLog returns up to limit entries of the audit log, newest first.
func (s *Store) AuditLog(limit int) []replica.AuditEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []replica.AuditEntry
	for i := len(s.audit) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, s.audit[i])
	}
	return out
}
