// Package vault encrypts a backup with a passphrase: Argon2id derives the
// key, XChaCha20-Poly1305 seals the file in chunks of 1 MiB, each bound to
// its place and to whether it is the last, so that a file cut short, with
// chunks reordered, or with a byte changed does not decrypt.
//
// # Format
//
//	magic      "BANGFU-VAULT-1\n\x00" (16 bytes)
//	time       Argon2id passes, uint32 big-endian
//	memory     Argon2id memory in KiB, uint32
//	threads    Argon2id lanes, uint8
//	salt       16 random bytes
//	nonce      16 random bytes: each chunk's nonce is these and its number
//	chunks     each ChunkSize bytes of plaintext (the last fewer, perhaps
//	           none) sealed with the header and the chunk's number and
//	           last-flag as additional data
//
// The parameters travel in the header, so a later version may raise them
// and still read older files.
package vault

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Magic starts every encrypted backup.
const Magic = "BANGFU-VAULT-1\n\x00"

// ChunkSize is the plaintext sealed at a time.
const ChunkSize = 1 << 20

// The Argon2id parameters new files are written with: 64 MiB and three
// passes, about a quarter of a second on a server core.
const (
	Time    = 3
	Memory  = 64 << 10
	Threads = 4
)

// MinPassphrase is the shortest passphrase Encrypt takes, in bytes.
const MinPassphrase = 12

const headerLen = len(Magic) + 4 + 4 + 1 + 16 + 16

// ErrPassphrase is returned by Decrypt for a wrong passphrase or a file
// that was changed or cut short: the two cannot be told apart.
var ErrPassphrase = errors.New("vault: wrong passphrase, or the file was changed or cut short")

// ErrShort is returned by Encrypt for a passphrase under MinPassphrase.
var ErrShort = fmt.Errorf("vault: the passphrase needs at least %d characters", MinPassphrase)

// IsEncrypted reports whether b, the start of a file, is an encrypted
// backup.
func IsEncrypted(b []byte) bool { return bytes.HasPrefix(b, []byte(Magic)) }

// Encrypt reads r to its end and writes it to w encrypted with passphrase.
func Encrypt(w io.Writer, r io.Reader, passphrase []byte) error {
	if len(passphrase) < MinPassphrase {
		return ErrShort
	}
	hdr := make([]byte, 0, headerLen)
	hdr = append(hdr, Magic...)
	hdr = binary.BigEndian.AppendUint32(hdr, Time)
	hdr = binary.BigEndian.AppendUint32(hdr, Memory)
	hdr = append(hdr, Threads)
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return err
	}
	hdr = append(hdr, random...)
	aead, err := newAEAD(hdr, passphrase)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, ChunkSize)
	br := bufio.NewReaderSize(r, ChunkSize+1)
	out := make([]byte, 0, ChunkSize+aead.Overhead())
	for n := uint64(0); ; n++ {
		k, err := io.ReadFull(br, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		last := k < ChunkSize
		if !last {
			// A full chunk is the last if nothing follows it.
			if _, perr := br.Peek(1); perr == io.EOF {
				last = true
			} else if perr != nil {
				return perr
			}
		}
		out = aead.Seal(out[:0], nonce(hdr, n), buf[:k], ad(hdr, n, last))
		if _, err := w.Write(out); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

// Decrypt reads an encrypted backup from r and writes the plaintext to w.
// A wrong passphrase or a damaged file is ErrPassphrase; what was written
// to w before a damaged chunk was found must then be thrown away.
func Decrypt(w io.Writer, r io.Reader, passphrase []byte) error {
	hdr := make([]byte, headerLen)
	if _, err := io.ReadFull(r, hdr); err != nil || !IsEncrypted(hdr) {
		return errors.New("vault: not an encrypted backup")
	}
	t := binary.BigEndian.Uint32(hdr[len(Magic):])
	m := binary.BigEndian.Uint32(hdr[len(Magic)+4:])
	if t == 0 || t > 16 || m < 8<<10 || m > 1<<21 || hdr[len(Magic)+8] == 0 {
		return errors.New("vault: the file's key parameters are out of range")
	}
	aead, err := newAEAD(hdr, passphrase)
	if err != nil {
		return err
	}
	size := ChunkSize + aead.Overhead()
	br := bufio.NewReaderSize(r, size+1)
	buf := make([]byte, size)
	out := make([]byte, 0, ChunkSize)
	for n := uint64(0); ; n++ {
		k, err := io.ReadFull(br, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		last := k < size
		if !last {
			if _, perr := br.Peek(1); perr == io.EOF {
				last = true
			} else if perr != nil {
				return perr
			}
		}
		out, err = aead.Open(out[:0], nonce(hdr, n), buf[:k], ad(hdr, n, last))
		if err != nil {
			return ErrPassphrase
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

func newAEAD(hdr, passphrase []byte) (interface {
	Seal(dst, nonce, plaintext, ad []byte) []byte
	Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
	Overhead() int
}, error) {
	p := hdr[len(Magic):]
	t, m, threads := binary.BigEndian.Uint32(p), binary.BigEndian.Uint32(p[4:]), p[8]
	salt := p[9:25]
	key := argon2.IDKey(passphrase, salt, t, m, threads, chacha20poly1305.KeySize)
	defer clear(key)
	return chacha20poly1305.NewX(key)
}

// nonce is the header's nonce prefix and the chunk's number.
func nonce(hdr []byte, n uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), hdr[headerLen-16:]...), n)
}

// ad binds a chunk to the header, its number and whether it is the last.
func ad(hdr []byte, n uint64, last bool) []byte {
	b := binary.BigEndian.AppendUint64(append([]byte(nil), hdr...), n)
	if last {
		return append(b, 1)
	}
	return append(b, 0)
}
