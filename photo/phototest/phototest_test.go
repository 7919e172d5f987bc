package phototest_test

import (
	"bytes"
	"image/jpeg"
	"testing"
	"time"

	"bangfu/photo/phototest"
)

// TestJPEG12MP checks what other packages rely on: a 12 MP picture is a
// realistic 3.5–6.5 MB, the same seed gives the same bytes, another seed
// other bytes, and callers get their own copy.
func TestJPEG12MP(t *testing.T) {
	a := phototest.JPEG(t, 4000, 3000, 1)
	if n := len(a); n < 3500<<10 || n > 6500<<10 {
		t.Errorf("12 MP photo is %d bytes, want 3.5–6.5 MB", n)
	}
	c, err := jpeg.DecodeConfig(bytes.NewReader(a))
	if err != nil || c.Width != 4000 || c.Height != 3000 {
		t.Fatalf("config %+v, %v", c, err)
	}
	a[100] ^= 0xFF
	b := phototest.JPEG(t, 4000, 3000, 1)
	if bytes.Equal(a, b) {
		t.Error("JPEG returned a shared slice")
	}
	a[100] ^= 0xFF
	if !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	if bytes.Equal(phototest.JPEG(t, 400, 300, 1), phototest.JPEG(t, 400, 300, 2)) {
		t.Error("different seeds, same bytes")
	}
}

func TestWithEXIF(t *testing.T) {
	orig := phototest.JPEG(t, 64, 48, 3)
	b := phototest.WithEXIF(orig, 6, 30, 120, time.Now())
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF, 0xE1}) || !bytes.Contains(b[:200], []byte("Exif\x00\x00II*\x00")) {
		t.Errorf("no APP1 EXIF after SOI: % x", b[:16])
	}
	if !bytes.Equal(b[len(b)-len(orig)+2:], orig[2:]) {
		t.Error("the picture after the segment changed")
	}
	// Still a JPEG every decoder reads.
	if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
		t.Error(err)
	}
}
