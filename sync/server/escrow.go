package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/chacha20poly1305"

	"bangfu/domain"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// The escrow of devices' data keys: the path back for a cadre who forgot
// the app's PIN, without losing what the phone never synced.
//
// A device deposits its data key (POST /v1/escrow, authenticated by its
// token). The server seals it with XChaCha20-Poly1305 under its escrow key
// (Options.EscrowKey, a file in the data directory beside the store, never
// inside it: a copy of the store or a backup of it holds only sealed keys),
// bound to the device and its cadre, and the registry keeps the sealed
// bytes. Keys are never logged and never exported.
//
// The key goes back (POST /v1/escrow/release) only to the same device,
// still enrolled and not revoked, acting for the same cadre, and only once
// the office has acted: it issued an unlock code for the device
// (`bangfud unlock`, the console's devices page) that the device sends, or
// it enrolled the device again (a new enrolment code typed on the phone).
// What allowed a release is used up; the release is written to the
// office's audit log, and refusals to the server's log.

// EscrowKeySize is the length of the server's escrow key.
const EscrowKeySize = chacha20poly1305.KeySize

// escrowAD is the start of the additional data every sealed key is bound
// to, followed by the device's ID: a sealed key copied to another device's
// row does not open. (A device ID belongs to one cadre for good, so the
// device names the cadre too.)
const escrowAD = "bangfu escrow v1"

// ErrNoEscrow is answered when the server was started without an escrow key.
var ErrNoEscrow = &domain.Error{Code: domain.EUNAVAILABLE, Field: "escrow",
	Zh: "此服务器未开启数据密钥备份", En: "this server does not keep data keys"}

// Escrow is what the server needs from the registry to keep devices' keys:
// BoltRegistry and pgstore.DB (see Registry).
type Escrow interface {
	// Deposit keeps a device's sealed data key.
	Deposit(device uuid.UUID, sealed []byte, now time.Time) error
	// Release returns it to the device acting for cadre once the office
	// has acted (code, or a re-enrolment with code empty), and says which.
	Release(device, cadre uuid.UUID, code string, now time.Time) (sealed []byte, how string, err error)
}

// LoadEscrowKey reads the escrow key from path, creating it (readable by
// its owner only) with a random key if it does not exist.
func LoadEscrowKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if len(b) != EscrowKeySize {
			return nil, fmt.Errorf("server: escrow key %s: %d bytes, want %d", path, len(b), EscrowKeySize)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	key := make([]byte, EscrowKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process made it first
			return LoadEscrowKey(path)
		}
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("server: escrow key: %w", err)
	}
	return key, nil
}

// EscrowKeyID returns an ID of an escrow key: a MAC made with the key,
// from which the key cannot be recovered. Instances on one PostgreSQL
// database compare it to check that they share their key (pgstore).
func EscrowKeyID(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("bangfu escrow key id v1"))
	return m.Sum(nil)
}

func escrowData(device uuid.UUID) []byte {
	return append([]byte(escrowAD), device[:]...)
}

// seal seals a device's data key under the escrow key, bound to the
// device: nonce, then the ciphertext and its tag.
func (s *Server) seal(device uuid.UUID, key []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.escrowKey)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(key)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, key, escrowData(device)), nil
}

// open opens what seal sealed for the same device.
func (s *Server) open(device uuid.UUID, sealed []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(s.escrowKey)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("sealed key too short")
	}
	n := aead.NonceSize()
	return aead.Open(nil, sealed[:n], sealed[n:], escrowData(device))
}

// liveDevice authenticates the request's device: a revoked one (even one
// replaced that has not made its last push) is refused.
func (s *Server) liveDevice(w http.ResponseWriter, r *http.Request) (replica.Device, bool) {
	token, ok := protocol.BearerToken(r)
	if !ok {
		s.fail(w, r, domain.Errorf(domain.EUNAUTHORIZED, "token", "缺少设备凭证，请先注册设备",
			"no device token; enrol the device first"))
		return replica.Device{}, false
	}
	dev, err := s.db.Authenticate(token)
	if errors.Is(err, replica.ErrReplaced) {
		err = replica.ErrRevoked
	}
	if err != nil {
		s.fail(w, r, err)
		return replica.Device{}, false
	}
	note(r, "device", dev.ID.String(), "cadre", dev.Cadre.String())
	return dev, true
}

func (s *Server) escrow(w http.ResponseWriter, r *http.Request) {
	if s.escrowKey == nil {
		s.fail(w, r, ErrNoEscrow)
		return
	}
	dev, ok := s.liveDevice(w, r)
	if !ok {
		return
	}
	var req protocol.EscrowRequest
	release, err := s.readBody(w, r, &req, protocol.MaxEnrollBytes, s.enrolBudget)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sealed, err := s.seal(dev.ID, req.Key)
	clear(req.Key)
	if err != nil {
		s.fail(w, r, fmt.Errorf("server: seal a data key: %w", err))
		return
	}
	now := s.now()
	if err := s.db.Deposit(dev.ID, sealed, now); err != nil {
		s.fail(w, r, err)
		return
	}
	note(r, "escrow", "deposited")
	protocol.WriteJSON(w, r, http.StatusOK, protocol.EscrowResponse{V: protocol.Version, Now: protocol.At(now)})
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	if s.escrowKey == nil {
		s.fail(w, r, ErrNoEscrow)
		return
	}
	var dev replica.Device
	if _, ok := protocol.BearerToken(r); ok {
		if dev, ok = s.liveDevice(w, r); !ok {
			return
		}
	}
	addr := addrKey(r.RemoteAddr)
	if until := s.lim.allowed(addr, s.now()); !until.IsZero() {
		retryAfter(w, s.now(), until)
		s.fail(w, r, protocol.ErrLocked)
		return
	}
	var req protocol.ReleaseRequest
	release, err := s.readBody(w, r, &req, protocol.MaxEnrollBytes, s.enrolBudget)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if dev.ID == uuid.Nil {
		// A locked phone: its ID and the office's unlock code, no token.
		if req.Device == uuid.Nil || req.Code == "" {
			s.fail(w, r, domain.Errorf(domain.EUNAUTHORIZED, "token", "缺少设备凭证或解锁码", "no device token and no unlock code"))
			return
		}
		dev.ID = req.Device
		note(r, "device", dev.ID.String())
	}
	now := s.now()
	sealed, how, err := s.db.Release(dev.ID, dev.Cadre, req.Code, now)
	if err != nil {
		if errors.Is(err, replica.ErrUnlockCode) {
			s.lim.fail(addr, now) // counted like wrong enrolment codes
		}
		s.log.Warn("data key not released", "device", dev.ID, "cadre", dev.Cadre, "code", req.Code != "", "err", err)
		s.fail(w, r, err)
		return
	}
	key, err := s.open(dev.ID, sealed)
	if err != nil {
		s.fail(w, r, fmt.Errorf("server: open the sealed key of device %s (is this the server's own escrow key?): %w", dev.ID, err))
		return
	}
	s.log.Warn("data key released to its device", "device", dev.ID, "cadre", dev.Cadre, "by", how)
	note(r, "escrow", "released", "by", how)
	protocol.WriteJSON(w, r, http.StatusOK, protocol.ReleaseResponse{V: protocol.Version, Key: key})
	clear(key)
}

// audit writes what a device reports (a whole ID number revealed on its
// screen) to the office's audit log, naming the device and its cadre.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) {
	dev, ok := s.liveDevice(w, r)
	if !ok {
		return
	}
	var req protocol.AuditRequest
	release, err := s.readBody(w, r, &req, 64<<10, s.enrolBudget)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, e := range req.Entries {
		err := s.db.Audit(store.AuditEntry{At: e.At.Time, Account: "device " + dev.ID.String()[:8], Action: e.Action,
			Target: e.Target, Detail: strings.TrimSpace(e.Detail + " cadre " + dev.Cadre.String())})
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	note(r, "audit", len(req.Entries))
	protocol.WriteJSON(w, r, http.StatusOK, protocol.EscrowResponse{V: protocol.Version, Now: protocol.At(s.now())})
}
