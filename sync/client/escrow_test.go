package client_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// lockedBuffer is a log sink the server writes to from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// TestEscrowForgottenPIN walks the forgotten-PIN path: a phone deposits its
// data key; without the office nobody gets it back, another cadre's phone
// never; the office's unlock code, and later a re-enrolment, each release
// it once to that phone; a revoked phone gets nothing. The key is in
// neither the server's store file nor its log.
func TestEscrowForgottenPIN(t *testing.T) {
	dir := t.TempDir()
	key, err := server.LoadEscrowKey(filepath.Join(dir, "escrow.key"))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"),
		server.Options{EscrowKey: key, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	other := synctest.NewDevice(t, t.TempDir(), "other", srv, w.Cadre2.ID, client.Options{}, nil)
	// An unsynced visit stays on the phone; the store's key is what
	// keeps it readable.
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	visit(t, phone, w.Households[0], "未同步的走访")

	dataKey := []byte("data key of the phone: 32 bytes!")
	if err := phone.Client.Deposit(ctx, dataKey); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Client.Recover(ctx, ""); !errors.Is(err, replica.ErrNoGrant) {
		t.Fatalf("released before the office acted: %v", err)
	}
	if _, err := other.Client.Recover(ctx, ""); !errors.Is(err, replica.ErrNoDeposit) {
		t.Errorf("another cadre's phone: %v", err)
	}

	// The office issues an unlock code for the phone.
	code, err := srv.Reg.IssueUnlock(phone.DB.Device(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Client.Recover(ctx, code); err == nil {
		t.Fatal("another cadre's phone got a key with the phone's unlock code")
	}
	got, err := phone.Client.Recover(ctx, code)
	if err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("recovered %q, %v", got, err)
	}
	if _, err := phone.Client.Recover(ctx, code); !errors.Is(err, replica.ErrUnlockCode) {
		t.Errorf("the unlock code worked twice: %v", err)
	}
	audit, err := srv.DB.AuditLog(10, func(e store.AuditEntry) bool { return e.Action == "release-key" })
	if err != nil || len(audit) != 1 || audit[0].Detail != "unlock code" {
		t.Errorf("audit %+v %v", audit, err)
	}

	// Later the office enrols the phone again instead.
	if err := phone.Client.Enroll(ctx, srv.URL, srv.Code(t, w.Cadre1.ID), "phone"); err != nil {
		t.Fatal(err)
	}
	if got, err := phone.Client.Recover(ctx, ""); err != nil || !bytes.Equal(got, dataKey) {
		t.Fatalf("recovered after re-enrolment %q, %v", got, err)
	}
	// The unsynced visit is still there to sync.
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}

	// A phone revoked as lost gets nothing, whatever the office issued.
	code, err = srv.Reg.IssueUnlock(phone.DB.Device(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reg.Revoke(phone.DB.Device(), replica.Lost, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.Client.Recover(ctx, code); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
		t.Errorf("a lost phone: %v", err)
	}

	srv.Stop()
	file, err := os.ReadFile(srv.Path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file, dataKey) || bytes.Contains(file, []byte("data key of the phone")) {
		t.Error("the server's store holds the data key in the clear")
	}
	for _, leak := range [][]byte{dataKey, []byte("ZGF0YSBrZXkgb2YgdGhlIHBob25l"), []byte(code)} {
		if bytes.Contains(logs.Bytes(), leak) {
			t.Errorf("the server's log holds %q", leak)
		}
	}
	if !bytes.Contains(logs.Bytes(), []byte("data key released")) {
		t.Error("no release was logged")
	}
}

// TestEscrowOff: a server without an escrow key says so.
func TestEscrowOff(t *testing.T) {
	srv, w := setup(t)
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	if err := phone.Client.Deposit(context.Background(), make([]byte, 32)); !errors.Is(err, server.ErrNoEscrow) {
		t.Errorf("deposit with no escrow key: %v", err)
	}
}

// TestRecoverKeyLocked: a locked phone, which cannot read its token, takes
// its key back with the office's unlock code alone, or with a new
// enrolment code (then keeps that enrolment by enrolling with it again);
// a wrong code of either kind gets nothing.
func TestRecoverKeyLocked(t *testing.T) {
	dir := t.TempDir()
	key, err := server.LoadEscrowKey(filepath.Join(dir, "escrow.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv := synctest.StartServer(t, filepath.Join(dir, "server.db"), server.Options{EscrowKey: key}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	phone := synctest.NewDevice(t, t.TempDir(), "phone", srv, w.Cadre1.ID, client.Options{}, nil)
	dataKey := bytes.Repeat([]byte{7}, 32)
	if err := phone.Client.Deposit(ctx, dataKey); err != nil {
		t.Fatal(err)
	}
	dev := phone.DB.Device()
	if _, _, err := client.RecoverKey(ctx, nil, srv.URL, dev, "phone", "2345-6789"); !errors.Is(err, replica.ErrUnlockCode) {
		t.Errorf("a made-up code: %v", err)
	}
	code, err := srv.Reg.IssueUnlock(dev, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Another device's ID with this phone's code gets nothing.
	if _, _, err := client.RecoverKey(ctx, nil, srv.URL, w.Cadre2.ID, "phone", code); err == nil {
		t.Error("another device ID got a key with the phone's code")
	}
	got, enrolled, err := client.RecoverKey(ctx, nil, srv.URL, dev, "phone", code)
	if err != nil || enrolled || !bytes.Equal(got, dataKey) {
		t.Fatalf("by unlock code: %x %v %v", got, enrolled, err)
	}
	enrol := srv.Code(t, w.Cadre1.ID)
	got, enrolled, err = client.RecoverKey(ctx, nil, srv.URL, dev, "找回的手机", enrol)
	if err != nil || !enrolled || !bytes.Equal(got, dataKey) {
		t.Fatalf("by enrolment code: %x %v %v", got, enrolled, err)
	}
	// Unlocked, the phone enrols with the same code again and syncs.
	if err := phone.Client.Enroll(ctx, srv.URL, enrol, "phone"); err != nil {
		t.Fatal(err)
	}
	if err := phone.Sync(); err != nil {
		t.Fatal(err)
	}
	// Another cadre's enrolment code enrols nothing on this phone.
	if _, _, err := client.RecoverKey(ctx, nil, srv.URL, dev, "phone", srv.Code(t, w.Cadre2.ID)); !errors.Is(err, replica.ErrDeviceTaken) {
		t.Errorf("another cadre's enrolment code: %v", err)
	}
}
