package vault_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"bangfu/cmd/bangfud/internal/vault"
)

var pass = []byte("正确的口令 correct horse")

func seal(t *testing.T, plain []byte) []byte {
	t.Helper()
	var enc bytes.Buffer
	if err := vault.Encrypt(&enc, bytes.NewReader(plain), pass); err != nil {
		t.Fatal(err)
	}
	return enc.Bytes()
}

// TestRoundTrip: sizes around the chunk boundaries come back whole, and
// the file holds none of the plaintext.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, vault.ChunkSize, vault.ChunkSize + 1, 2*vault.ChunkSize + 5} {
		plain := make([]byte, n)
		for i := range plain {
			plain[i] = byte(r.IntN(256))
		}
		copy(plain, "62290119800101123X")
		enc := seal(t, plain)
		if !vault.IsEncrypted(enc) {
			t.Fatalf("%d bytes: no magic", n)
		}
		if n > 0 && bytes.Contains(enc, []byte("62290119800101123X")) {
			t.Errorf("%d bytes: the plaintext shows", n)
		}
		var dec bytes.Buffer
		if err := vault.Decrypt(&dec, bytes.NewReader(enc), pass); err != nil || !bytes.Equal(dec.Bytes(), plain) {
			t.Errorf("%d bytes: decrypted %d bytes, %v", n, dec.Len(), err)
		}
	}
}

// TestRefusals: a wrong passphrase, a changed byte, a file cut at a chunk
// boundary or anywhere, and a short passphrase are refused.
func TestRefusals(t *testing.T) {
	plain := bytes.Repeat([]byte("户主 马进福 "), vault.ChunkSize/8)
	enc := seal(t, plain)
	try := func(what string, file, pw []byte) {
		t.Helper()
		if err := vault.Decrypt(new(bytes.Buffer), bytes.NewReader(file), pw); !errors.Is(err, vault.ErrPassphrase) {
			t.Errorf("%s: %v", what, err)
		}
	}
	try("a wrong passphrase", enc, []byte("wrong passphrase!!"))
	changed := bytes.Clone(enc)
	changed[len(changed)/2] ^= 1
	try("a changed byte", changed, pass)
	// The first chunk alone, sealed as not the last: cut at the boundary.
	const header = 16 + 4 + 4 + 1 + 16 + 16
	cut := enc[:header+vault.ChunkSize+16]
	try("cut after the first chunk", cut, pass)
	try("cut anywhere", enc[:len(enc)-7], pass)
	if err := vault.Encrypt(new(bytes.Buffer), bytes.NewReader(plain), []byte("short")); !errors.Is(err, vault.ErrShort) {
		t.Errorf("a short passphrase: %v", err)
	}
	if err := vault.Decrypt(new(bytes.Buffer), bytes.NewReader(plain), pass); err == nil {
		t.Error("decrypted a plain file")
	}
}
