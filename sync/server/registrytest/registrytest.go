// Package registrytest is the conformance suite of server.Registry, written
// once and run against every implementation (bbolt's store.DB, PostgreSQL's
// pgstore.DB), the way Upspin's storetest runs against every store.
package registrytest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/sync/server"
)

// Clock is the suite's clock, which a registry under test must read for
// the codes it issues.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Open returns an empty registry reading clock, and two cadres on its
// roster.
type Open func(t *testing.T, clock *Clock) (r server.Registry, cadre1, cadre2 uuid.UUID)

// Run runs the suite against the registries open makes.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Open)
	}{
		{"Enrol", testEnrol},
		{"Codes", testCodes},
		{"Retry", testRetry},
		{"Taken", testTaken},
		{"Revoke", testRevoke},
		{"Touch", testTouch},
		{"Escrow", testEscrow},
		{"EscrowRefusals", testEscrowRefusals},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func start(t *testing.T, open Open) (*Clock, server.Registry, uuid.UUID, uuid.UUID) {
	t.Helper()
	c := &Clock{t: time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.Local)}
	r, a, b := open(t, c)
	return c, r, a, b
}

func code(t *testing.T, r server.Registry, cadre uuid.UUID) string {
	t.Helper()
	code, err := r.CreateEnrolCode(cadre, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func is(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

func testEnrol(t *testing.T, open Open) {
	clock, r, cadre, _ := start(t, open)
	if _, err := r.CreateEnrolCode(uuid.New(), time.Hour); err == nil {
		t.Error("a code issued for a cadre not on the roster")
	}
	if _, err := r.CreateEnrolCode(cadre, 0); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("a code with no lifetime: %v", err)
	}
	c := code(t, r, cadre)
	dev := uuid.New()
	now := clock.Now()
	// Codes are read whatever their case and separators.
	token, got, err := r.Enroll(" "+lower(c)+" ", dev, " 马兴文的手机 ", now)
	if err != nil || got != cadre || token == "" {
		t.Fatalf("enrol: %q %v %v", token, got, err)
	}
	d, err := r.Authenticate(token)
	if err != nil || d.ID != dev || d.Cadre != cadre || d.Name != "马兴文的手机" || !d.Enrolled.Equal(now) ||
		!d.LastSync.IsZero() || !d.Revoked.IsZero() {
		t.Errorf("authenticated %+v, %v", d, err)
	}
	is(t, "a forged token", func() error { _, err := r.Authenticate(token[:len(token)-2] + "xx"); return err }(), replica.ErrTokenUnknown)
	is(t, "garbage", func() error { _, err := r.Authenticate("nonsense"); return err }(), replica.ErrTokenUnknown)
	is(t, "another device's ID", func() error { _, err := r.Authenticate("bft1." + uuid.NewString() + ".abc"); return err }(), replica.ErrTokenUnknown)
	if _, _, err := r.Enroll(code(t, r, cadre), uuid.Nil, "x", now); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("enrolled the nil device: %v", err)
	}
	if _, _, err := r.Enroll(code(t, r, cadre), uuid.New(), "", now); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("enrolled with no name: %v", err)
	}
	clock.Advance(time.Minute)
	dev2 := uuid.New()
	if _, _, err := r.Enroll(code(t, r, cadre), dev2, "第二台", clock.Now()); err != nil {
		t.Fatal(err)
	}
	devs, err := r.Devices()
	if err != nil || len(devs) != 2 || devs[0].ID != dev || devs[1].ID != dev2 {
		t.Errorf("devices %+v, %v", devs, err)
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func testCodes(t *testing.T, open Open) {
	clock, r, cadre, _ := start(t, open)
	now := clock.Now()
	_, _, err := r.Enroll("2345-6789", uuid.New(), "x", now)
	is(t, "a code never issued", err, replica.ErrCodeUnknown)
	c := code(t, r, cadre)
	if _, _, err := r.Enroll(c, uuid.New(), "一", now); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Enroll(c, uuid.New(), "二", now)
	is(t, "a code used by another device", err, replica.ErrCodeUsed)
	late := code(t, r, cadre)
	_, _, err = r.Enroll(late, uuid.New(), "三", now.Add(time.Hour))
	is(t, "a code an hour old", err, replica.ErrCodeExpired)
	if _, _, err := r.Enroll(late, uuid.New(), "三", now.Add(time.Hour-time.Nanosecond)); err != nil {
		t.Errorf("a code just before it expires: %v", err)
	}
}

func testRetry(t *testing.T, open Open) {
	clock, r, cadre, _ := start(t, open)
	now := clock.Now()
	c := code(t, r, cadre)
	dev := uuid.New()
	t1, _, err := r.Enroll(c, dev, "手机", now)
	if err != nil {
		t.Fatal(err)
	}
	// The answer was lost: the device asks again with the same code.
	t2, got, err := r.Enroll(c, dev, "手机", now.Add(time.Second))
	if err != nil || got != cadre || t2 == t1 {
		t.Fatalf("retry: %v %v", got, err)
	}
	// A new code for the same device: a third token.
	t3, _, err := r.Enroll(code(t, r, cadre), dev, "手机", now.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Any of them works until one is used; then only that one.
	if d, err := r.Authenticate(t2); err != nil || d.ID != dev || !d.Enrolled.Equal(now) {
		t.Fatalf("the second token: %+v %v", d, err)
	}
	for _, tok := range []string{t1, t3} {
		_, err := r.Authenticate(tok)
		is(t, "a token superseded by its device's first use of another", err, replica.ErrTokenUnknown)
	}
	if _, err := r.Authenticate(t2); err != nil {
		t.Errorf("the token in use: %v", err)
	}
	if devs, err := r.Devices(); err != nil || len(devs) != 1 {
		t.Errorf("devices after retries: %+v %v", devs, err)
	}
}

func testTaken(t *testing.T, open Open) {
	clock, r, cadre1, cadre2 := start(t, open)
	now := clock.Now()
	dev := uuid.New()
	if _, _, err := r.Enroll(code(t, r, cadre1), dev, "手机", now); err != nil {
		t.Fatal(err)
	}
	_, _, err := r.Enroll(code(t, r, cadre2), dev, "手机", now)
	is(t, "another cadre's device ID", err, replica.ErrDeviceTaken)
	if err := r.Revoke(dev, replica.Lost, now); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Enroll(code(t, r, cadre1), dev, "手机", now)
	is(t, "a revoked device ID", err, replica.ErrDeviceTaken)
}

func testRevoke(t *testing.T, open Open) {
	clock, r, cadre, _ := start(t, open)
	now := clock.Now()
	enrol := func() (uuid.UUID, string) {
		dev := uuid.New()
		tok, _, err := r.Enroll(code(t, r, cadre), dev, "手机", now)
		if err != nil {
			t.Fatal(err)
		}
		return dev, tok
	}
	lost, lostTok := enrol()
	if err := r.Revoke(lost, replica.Lost, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err := r.Authenticate(lostTok)
	is(t, "a lost device", err, replica.ErrLost)

	old, oldTok := enrol()
	if err := r.Revoke(old, replica.Replaced, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	d, err := r.Authenticate(oldTok)
	is(t, "a replaced device before its last push", err, replica.ErrReplaced)
	if d.ID != old || d.Reason != replica.Replaced || !d.Revoked.Equal(now.Add(time.Minute)) {
		t.Errorf("a replaced device is returned with its error: %+v", d)
	}
	// Revoking again changes nothing.
	if err := r.Revoke(old, replica.Replaced, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := r.CloseDevice(old, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = r.Authenticate(oldTok)
	is(t, "a replaced device after its last push", err, replica.ErrRevoked)
	// Closed: it cannot be declared lost after all.
	if err := r.Revoke(old, replica.Lost, now.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = r.Authenticate(oldTok)
	is(t, "a closed device declared lost", err, replica.ErrRevoked)

	// Replaced but not closed, then lost: the old phone went missing.
	gone, goneTok := enrol()
	if err := r.Revoke(gone, replica.Replaced, now); err != nil {
		t.Fatal(err)
	}
	if err := r.Revoke(gone, replica.Lost, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = r.Authenticate(goneTok)
	is(t, "a replaced device declared lost", err, replica.ErrLost)

	if err := r.Revoke(uuid.New(), replica.Lost, now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("revoked a device never enrolled: %v", err)
	}
	if err := r.Revoke(gone, replica.Reason("stolen"), now); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("revoked for no known reason: %v", err)
	}
	devs, err := r.Devices()
	if err != nil || len(devs) != 3 {
		t.Fatalf("devices %+v %v", devs, err)
	}
	for _, d := range devs {
		if d.Revoked.IsZero() {
			t.Errorf("device %v not revoked", d)
		}
		if d.ID == old && (d.Reason != replica.Replaced || !d.Closed.Equal(now.Add(2*time.Minute)) || !d.Revoked.Equal(now.Add(time.Minute))) {
			t.Errorf("the replaced device %+v", d)
		}
	}
}

func testTouch(t *testing.T, open Open) {
	clock, r, cadre, _ := start(t, open)
	now := clock.Now()
	dev := uuid.New()
	tok, _, err := r.Enroll(code(t, r, cadre), dev, "手机", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Touch(dev, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// An older sync reported late does not move it back.
	if err := r.Touch(dev, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if d, err := r.Authenticate(tok); err != nil || !d.LastSync.Equal(now.Add(time.Hour)) {
		t.Errorf("last sync %v, %v", d.LastSync, err)
	}
	if err := r.Touch(uuid.New(), now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("touched a device never enrolled: %v", err)
	}
	if err := r.CloseDevice(uuid.New(), now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("closed a device never enrolled: %v", err)
	}
}

func testEscrow(t *testing.T, open Open) {
	clock, r, cadre, other := start(t, open)
	now := clock.Now()
	dev := uuid.New()
	if _, _, err := r.Enroll(code(t, r, cadre), dev, "手机", now); err != nil {
		t.Fatal(err)
	}
	_, _, err := r.Release(dev, cadre, "", now)
	is(t, "a release before any deposit", err, replica.ErrNoDeposit)
	_, err = r.IssueUnlock(dev, time.Hour)
	is(t, "an unlock code before any deposit", err, replica.ErrNoDeposit)
	if err := r.Deposit(uuid.New(), []byte("sealed"), now); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("a deposit for a device never enrolled: %v", err)
	}
	if err := r.Deposit(dev, nil, now); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("an empty deposit: %v", err)
	}
	if err := r.Deposit(dev, []byte("sealed key 1"), now); err != nil {
		t.Fatal(err)
	}
	// Nothing from the office yet.
	_, _, err = r.Release(dev, cadre, "", now)
	is(t, "a release the office has not allowed", err, replica.ErrNoGrant)
	_, _, err = r.Release(dev, cadre, "2345-6789", now)
	is(t, "a code never issued", err, replica.ErrUnlockCode)

	// The office issues an unlock code.
	unlock, err := r.IssueUnlock(dev, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Release(dev, other, unlock, now)
	is(t, "the key asked for as another cadre", err, replica.ErrEscrowCadre)
	_, _, err = r.Release(dev, cadre, "2345-6789", now)
	is(t, "a wrong code", err, replica.ErrUnlockCode)
	_, _, err = r.Release(dev, uuid.Nil, "", now)
	is(t, "no cadre and no code", err, replica.ErrUnlockCode)
	sealed, how, err := r.Release(dev, cadre, " "+lower(unlock)+" ", now.Add(time.Minute))
	if err != nil || string(sealed) != "sealed key 1" || how != "unlock code" {
		t.Fatalf("released %q by %q: %v", sealed, how, err)
	}
	// A locked phone asks with its code alone (no token, so no cadre).
	unlock, err = r.IssueUnlock(dev, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sealed, _, err := r.Release(dev, uuid.Nil, unlock, now.Add(time.Minute)); err != nil || string(sealed) != "sealed key 1" {
		t.Fatalf("released by code alone %q: %v", sealed, err)
	}
	_, _, err = r.Release(dev, cadre, unlock, now.Add(time.Minute))
	is(t, "an unlock code used once", err, replica.ErrUnlockCode)
	_, _, err = r.Release(dev, cadre, "", now.Add(time.Minute))
	is(t, "a release after the one allowed", err, replica.ErrNoGrant)

	// A new deposit (the new PIN's key), then the office enrols the
	// device again: the key goes back without a code, once.
	if err := r.Deposit(dev, []byte("sealed key 2"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	again := code(t, r, cadre)
	if _, _, err := r.Enroll(again, dev, "手机", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	sealed, how, err = r.Release(dev, cadre, "", now.Add(2*time.Hour))
	if err != nil || string(sealed) != "sealed key 2" || how != "re-enrolment" {
		t.Fatalf("released after re-enrolment %q by %q: %v", sealed, how, err)
	}
	_, _, err = r.Release(dev, cadre, "", now.Add(2*time.Hour))
	is(t, "a second release after one re-enrolment", err, replica.ErrNoGrant)
	// A retry of that enrolment is not the office acting again.
	if _, _, err := r.Enroll(again, dev, "手机", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Release(dev, cadre, "", now.Add(2*time.Hour))
	is(t, "a release after a retried enrolment", err, replica.ErrNoGrant)
}

func testEscrowRefusals(t *testing.T, open Open) {
	clock, r, cadre, _ := start(t, open)
	now := clock.Now()
	dev := uuid.New()
	if _, _, err := r.Enroll(code(t, r, cadre), dev, "手机", now); err != nil {
		t.Fatal(err)
	}
	if err := r.Deposit(dev, []byte("sealed"), now); err != nil {
		t.Fatal(err)
	}
	if _, err := r.IssueUnlock(dev, 0); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("an unlock code with no lifetime: %v", err)
	}
	// An expired code.
	unlock, err := r.IssueUnlock(dev, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Release(dev, cadre, unlock, now.Add(time.Hour))
	is(t, "an expired unlock code", err, replica.ErrUnlockCode)
	// Guessing uses the code up.
	unlock, err = r.IssueUnlock(dev, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, _, err = r.Release(dev, cadre, "2345-6789", now)
		is(t, "a guess", err, replica.ErrUnlockCode)
	}
	_, _, err = r.Release(dev, cadre, unlock, now)
	is(t, "the right code after five guesses", err, replica.ErrUnlockCode)
	// The office issues one more, and the device is then revoked.
	unlock, err = r.IssueUnlock(dev, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Revoke(dev, replica.Lost, now); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Release(dev, cadre, unlock, now)
	is(t, "a release to a device revoked as lost", err, replica.ErrLost)
	is(t, "a deposit from a lost device", r.Deposit(dev, []byte("x"), now), replica.ErrLost)
	_, err = r.IssueUnlock(dev, time.Hour)
	is(t, "an unlock code for a lost device", err, replica.ErrLost)

	replaced := uuid.New()
	if _, _, err := r.Enroll(code(t, r, cadre), replaced, "旧手机", now); err != nil {
		t.Fatal(err)
	}
	if err := r.Deposit(replaced, []byte("sealed"), now); err != nil {
		t.Fatal(err)
	}
	unlock, err = r.IssueUnlock(replaced, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Revoke(replaced, replica.Replaced, now); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Release(replaced, cadre, unlock, now)
	is(t, "a release to a replaced device", err, replica.ErrRevoked)
}
