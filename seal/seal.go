package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"bangfu/domain"
)

// KeySize is the size of a data key in bytes.
const KeySize = 32

// Key is a data key.
type Key [KeySize]byte

// NewKey returns a random data key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("seal: new key: %w", err)
	}
	return k, nil
}

// Params are Argon2id's costs for deriving the wrapping key from a PIN.
type Params struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultParams derive a key in about 90 ms on the project's 2-core test
// machine (shared, under load), about 100-300 ms on a mid-range phone:
// slow enough that every guess at a stolen file costs 32 MiB and a tenth of
// a second, quick enough that unlocking the app stays well under 300 ms here.
var DefaultParams = Params{Time: 2, Memory: 32 << 10, Threads: 2}

// ErrWrongPIN is returned by Unwrap when the PIN does not open the wrapped key.
var ErrWrongPIN = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "pin",
	Zh: "PIN 码不正确", En: "wrong PIN"}

// ErrCorrupt is returned for a wrapped key or a sealed value that cannot be
// read, or whose tag does not match its key and associated data.
var ErrCorrupt = &domain.Error{Code: domain.EINTERNAL,
	Zh: "加密数据已损坏或不属于此设备", En: "encrypted data is damaged or belongs to another device"}

// wrapVersion is the first byte of a wrapped key.
const wrapVersion = 1

// Wrapped keys are stored as:
//
//	version  byte     wrapVersion
//	time     uint32   BE
//	memory   uint32   BE (KiB)
//	threads  byte
//	salt     [16]
//	nonce    [24]
//	sealed   the key, XChaCha20-Poly1305 (32 + 16 bytes), the 26-byte header as associated data
const wrapHeader = 1 + 4 + 4 + 1 + 16

// Wrap returns the key sealed with a key derived from pin by Argon2id with p.
func Wrap(k Key, pin string, p Params) ([]byte, error) {
	b := make([]byte, wrapHeader, wrapHeader+chacha20poly1305.NonceSizeX+KeySize+chacha20poly1305.Overhead)
	b[0] = wrapVersion
	binary.BigEndian.PutUint32(b[1:], p.Time)
	binary.BigEndian.PutUint32(b[5:], p.Memory)
	b[9] = p.Threads
	if _, err := rand.Read(b[10:wrapHeader]); err != nil {
		return nil, fmt.Errorf("seal: wrap: %w", err)
	}
	aead := kek(pin, b[10:wrapHeader], p)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: wrap: %w", err)
	}
	header := b[:wrapHeader]
	b = append(b, nonce...)
	return aead.Seal(b, nonce, k[:], header), nil
}

// Unwrap opens a key sealed by Wrap with pin. A wrong PIN is ErrWrongPIN.
func Unwrap(w []byte, pin string) (Key, error) {
	p, err := WrapParams(w)
	if err != nil {
		return Key{}, err
	}
	if len(w) != wrapHeader+chacha20poly1305.NonceSizeX+KeySize+chacha20poly1305.Overhead {
		return Key{}, ErrCorrupt
	}
	aead := kek(pin, w[10:wrapHeader], p)
	nonce := w[wrapHeader : wrapHeader+chacha20poly1305.NonceSizeX]
	plain, err := aead.Open(nil, nonce, w[wrapHeader+chacha20poly1305.NonceSizeX:], w[:wrapHeader])
	if err != nil {
		return Key{}, ErrWrongPIN
	}
	var k Key
	copy(k[:], plain)
	clear(plain)
	return k, nil
}

// WrapParams returns the Argon2id parameters a wrapped key was made with.
func WrapParams(w []byte) (Params, error) {
	if len(w) < wrapHeader || w[0] != wrapVersion {
		return Params{}, ErrCorrupt
	}
	p := Params{Time: binary.BigEndian.Uint32(w[1:]), Memory: binary.BigEndian.Uint32(w[5:]), Threads: w[9]}
	// Bounds: a damaged or forged header must not make Unwrap run for
	// hours or allocate gigabytes.
	if p.Time == 0 || p.Time > 16 || p.Memory < 8 || p.Memory > 1<<20 || p.Threads == 0 {
		return Params{}, ErrCorrupt
	}
	return p, nil
}

// kek derives the key-encryption key from pin.
func kek(pin string, salt []byte, p Params) cipher.AEAD {
	k := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, KeySize)
	aead, err := chacha20poly1305.NewX(k)
	clear(k)
	if err != nil {
		panic(err) // only for a key of the wrong size
	}
	return aead
}

// Cipher seals and opens values with a data key. It is safe for concurrent
// use.
type Cipher struct {
	aead cipher.AEAD
}

// NewCipher returns the cipher of key k.
func NewCipher(k Key) *Cipher {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		panic(err) // only for a key of the wrong size
	}
	return &Cipher{aead: aead}
}

// Overhead is how many bytes Seal adds to a value.
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// Seal appends to dst the value plain sealed with associated data ad: a
// random nonce, then the ciphertext and its tag.
func (c *Cipher) Seal(dst, plain, ad []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, chacha20poly1305.NonceSizeX)...)
	nonce := dst[n:]
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("seal: random nonce: %v", err)) // crypto/rand does not fail on supported systems
	}
	return c.aead.Seal(dst, nonce, plain, ad)
}

// Open appends to dst the value sealed in b with associated data ad, or
// fails with ErrCorrupt if b was not sealed by this key with this ad.
func (c *Cipher) Open(dst, b, ad []byte) ([]byte, error) {
	if len(b) < Overhead {
		return nil, ErrCorrupt
	}
	out, err := c.aead.Open(dst, b[:chacha20poly1305.NonceSizeX], b[chacha20poly1305.NonceSizeX:], ad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return out, nil
}

// IsWrongPIN reports whether err is ErrWrongPIN.
func IsWrongPIN(err error) bool { return errors.Is(err, ErrWrongPIN) }
