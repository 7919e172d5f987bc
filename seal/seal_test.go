package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"bangfu/domain"
	"bangfu/seal"
)

// fast keeps the tests quick; DefaultParams are measured by BenchmarkUnwrap.
var fast = seal.Params{Time: 1, Memory: 64, Threads: 1}

func TestWrapUnwrap(t *testing.T) {
	k, err := seal.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	w, err := seal.Wrap(k, "402719", fast)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(w, k[:]) {
		t.Fatal("the wrapped key holds the key in clear")
	}
	got, err := seal.Unwrap(w, "402719")
	if err != nil || got != k {
		t.Fatalf("Unwrap = %x, %v; want the key", got, err)
	}
	if _, err := seal.Unwrap(w, "402718"); !errors.Is(err, seal.ErrWrongPIN) {
		t.Fatalf("wrong PIN: %v, want ErrWrongPIN", err)
	}
	// The parameters are part of what is authenticated: lowering them in
	// the file does not open the key.
	w2 := bytes.Clone(w)
	w2[4]++ // time
	if _, err := seal.Unwrap(w2, "402719"); err == nil {
		t.Fatal("a changed header still opened")
	}
	// Two wraps of one key differ (salt, nonce).
	w3, _ := seal.Wrap(k, "402719", fast)
	if bytes.Equal(w, w3) {
		t.Fatal("two wraps are equal")
	}
	if _, err := seal.Unwrap(w[:10], "402719"); !errors.Is(err, seal.ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	huge := bytes.Clone(w)
	huge[5] = 0xff // memory in KiB: beyond the bound
	if _, err := seal.Unwrap(huge, "402719"); !errors.Is(err, seal.ErrCorrupt) {
		t.Fatalf("huge memory: %v, want ErrCorrupt", err)
	}
}

func TestCipherAssociatedData(t *testing.T) {
	k, _ := seal.NewKey()
	c := seal.NewCipher(k)
	plain := []byte(`{"head_name":"王兴文","id_number":"622901198305121234"}`)
	s := c.Seal(nil, plain, []byte("household/1"))
	if bytes.Contains(s, []byte("王兴文")) || bytes.Contains(s, []byte("1234")) && bytes.Contains(s, []byte("6229")) {
		t.Fatal("sealed value holds the plain text")
	}
	if len(s) != len(plain)+seal.Overhead {
		t.Fatalf("len %d, want %d", len(s), len(plain)+seal.Overhead)
	}
	got, err := c.Open(nil, s, []byte("household/1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Swapped to another record: refused.
	if _, err := c.Open(nil, s, []byte("household/2")); !errors.Is(err, seal.ErrCorrupt) {
		t.Fatalf("other ad: %v, want ErrCorrupt", err)
	}
	other, _ := seal.NewKey()
	if _, err := seal.NewCipher(other).Open(nil, s, []byte("household/1")); err == nil {
		t.Fatal("another key opened the value")
	}
	s[len(s)-1] ^= 1
	if _, err := c.Open(nil, s, []byte("household/1")); err == nil {
		t.Fatal("a changed value opened")
	}
	if bytes.Equal(c.Seal(nil, plain, nil), c.Seal(nil, plain, nil)) {
		t.Fatal("two seals of one value are equal (nonce reused)")
	}
}

func TestCheckPIN(t *testing.T) {
	personal := seal.Personal("622901198305121234", "13893012345")
	for _, tc := range []struct {
		pin string
		ok  bool
	}{
		{"402719", true},
		{"385027", true},
		{"830512", false}, // birthday YYMMDD
		{"120583", false}, // DDMMYY
		{"051283", false}, // MMDDYY
		{"012345", false}, // phone tail
		{"121234", false}, // ID tail
		{"123456", false},
		{"654321", false},
		{"890123", false},
		{"000000", false},
		{"121212", false},
		{"112211", false},
		{"520520", false},
		{"123123", false},
		{"147258", false},
		{"112233", false},
		{"12345", false},
		{"1234567", false},
		{"12a456", false},
		{"４０２７１９", false}, // full-width digits
		{"", false},
	} {
		err := seal.CheckPIN(tc.pin, personal...)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPIN(%q) = %v, want ok %v", tc.pin, err, tc.ok)
		}
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EINVALID || de.Field != "pin" || de.Zh == "" || de.En == "" {
				t.Errorf("CheckPIN(%q): %#v, want a *domain.Error on pin in both languages", tc.pin, err)
			}
		}
	}
	// Without personal data the birthday is a fine PIN.
	if err := seal.CheckPIN("830512"); err != nil {
		t.Errorf("CheckPIN without personal: %v", err)
	}
}

func FuzzCheckPIN(f *testing.F) {
	for _, s := range []string{"402719", "123456", "000000", "12a456", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pin string) {
		if err := seal.CheckPIN(pin); err == nil && len(pin) != seal.PINLength {
			t.Fatalf("%q accepted", pin)
		}
	})
}

// BenchmarkUnwrap measures the PIN's cost with DefaultParams: the floor of
// an unlock.
func BenchmarkUnwrap(b *testing.B) {
	k, _ := seal.NewKey()
	w, err := seal.Wrap(k, "402719", seal.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := seal.Unwrap(w, "402719"); err != nil {
			b.Fatal(err)
		}
	}
}
