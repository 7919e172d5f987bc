package photo_test

import (
	"bytes"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/photo/phototest"
)

// segments walks a JPEG's marker segments up to SOS and returns their
// markers; it fails the test on a broken structure.
func segments(t *testing.T, b []byte) []byte {
	t.Helper()
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		t.Fatalf("not a JPEG: % x", b[:min(len(b), 4)])
	}
	var ms []byte
	for p := 2; ; {
		if p+4 > len(b) || b[p] != 0xFF {
			t.Fatalf("broken JPEG at %d", p)
		}
		m := b[p+1]
		ms = append(ms, m)
		if m == 0xDA {
			return ms
		}
		p += 2 + int(b[p+2])<<8 + int(b[p+3])
	}
}

// assertNoMetadata fails if b has any APPn or COM segment, or contains
// the text of EXIF data.
func assertNoMetadata(t *testing.T, name string, b []byte) {
	t.Helper()
	for _, m := range segments(t, b) {
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			t.Errorf("%s has a metadata segment FF%02X", name, m)
		}
	}
	for _, s := range []string{"Exif", "PhoneMaker", "GPS"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s contains %q", name, s)
		}
	}
}

func size(t *testing.T, b []byte) (int, int) {
	t.Helper()
	c, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode config: %v", err)
	}
	return c.Width, c.Height
}

func TestPrepare12MP(t *testing.T) {
	orig := phototest.JPEG(t, 4000, 3000, 1)
	p, err := photo.Prepare(bytes.NewReader(orig), photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("original %d bytes -> %d bytes (%.1f%%), thumbnail %d bytes", len(orig), len(p.JPEG),
		100*float64(len(p.JPEG))/float64(len(orig)), len(p.Thumb))
	if p.Width != 1600 || p.Height != 1200 {
		t.Errorf("size %dx%d, want 1600x1200", p.Width, p.Height)
	}
	if w, h := size(t, p.JPEG); w != p.Width || h != p.Height {
		t.Errorf("JPEG is %dx%d, Photo says %dx%d", w, h, p.Width, p.Height)
	}
	if n := len(p.JPEG); n < 150<<10 || n > 500<<10 {
		t.Errorf("prepared photo is %d bytes, want 150–500 KB", n)
	}
	if p.Hash != photo.Hash(p.JPEG) || len(p.Hash) != 64 || strings.ToLower(p.Hash) != p.Hash {
		t.Errorf("hash %q is not the lowercase hex SHA-256 of the JPEG", p.Hash)
	}
	if w, h := size(t, p.Thumb); w != 240 || h != 180 {
		t.Errorf("thumbnail %dx%d, want 240x180", w, h)
	}
	thumb, err := photo.Thumbnail(p.JPEG, 240)
	if err != nil || !bytes.Equal(thumb, p.Thumb) {
		t.Errorf("Thumbnail(JPEG, 240) differs from Photo.Thumb (err %v)", err)
	}
	assertNoMetadata(t, "photo", p.JPEG)
	assertNoMetadata(t, "thumbnail", p.Thumb)
	if !p.Taken.IsZero() || p.HasLocation {
		t.Errorf("no EXIF, yet taken %v, location %v", p.Taken, p.HasLocation)
	}
	if w, h, err := photo.Check(p.JPEG, photo.MaxBytes); err != nil || w != 1600 || h != 1200 {
		t.Errorf("Check(prepared) = %d, %d, %v", w, h, err)
	}

	// Deterministic: the same input and options give the same bytes.
	again, err := photo.Prepare(bytes.NewReader(orig), photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Hash != p.Hash || !bytes.Equal(again.Thumb, p.Thumb) {
		t.Errorf("second Prepare gave hash %s, first %s", again.Hash, p.Hash)
	}
}

// marked returns a w×h grey picture with a red square in its top-left
// corner and a blue one in its top-right, as the camera stored it.
func marked(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	s := min(w, h) / 5
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{128, 128, 128, 255}
			switch {
			case x < s && y < s:
				c = color.RGBA{230, 20, 20, 255}
			case x >= w-s && y < s:
				c = color.RGBA{20, 20, 230, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// corner names the colour near a corner of a decoded JPEG: "red", "blue"
// or "grey".
func corner(t *testing.T, b []byte, right, bottom bool) string {
	t.Helper()
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	r := m.Bounds()
	x, y := r.Min.X+r.Dx()/20, r.Min.Y+r.Dy()/20
	if right {
		x = r.Max.X - 1 - r.Dx()/20
	}
	if bottom {
		y = r.Max.Y - 1 - r.Dy()/20
	}
	cr, _, cb, _ := m.At(x, y).RGBA()
	switch {
	case cr>>8 > 180 && cb>>8 < 80:
		return "red"
	case cb>>8 > 180 && cr>>8 < 80:
		return "blue"
	}
	return "grey"
}

func TestPrepareOrientation(t *testing.T) {
	// Where the stored top-left (red) and top-right (blue) corners are
	// shown for each orientation: tl, tr, bl, br.
	tests := []struct {
		o         int
		red, blue string
	}{
		{1, "tl", "tr"},
		{2, "tr", "tl"},
		{3, "br", "bl"},
		{4, "bl", "br"},
		{5, "tl", "bl"},
		{6, "tr", "br"},
		{7, "br", "tr"},
		{8, "bl", "tl"},
	}
	orig := encodeJPEG(t, marked(800, 500))
	for _, long := range []int{1600, 400} { // not scaled; scaled (800 -> 400)
		for _, tt := range tests {
			in := phototest.WithEXIF(orig, tt.o, 0, 0, time.Time{})
			p, err := photo.Prepare(bytes.NewReader(in), photo.Options{LongSide: long})
			if err != nil {
				t.Fatalf("orientation %d: %v", tt.o, err)
			}
			w, h := 800*long/1600*2, 500*long/1600*2
			if long == 1600 {
				w, h = 800, 500
			}
			if tt.o >= 5 {
				w, h = h, w
			}
			if p.Width != w || p.Height != h {
				t.Errorf("orientation %d, long side %d: %dx%d, want %dx%d", tt.o, long, p.Width, p.Height, w, h)
			}
			got := map[string]string{}
			for _, c := range []string{"tl", "tr", "bl", "br"} {
				got[c] = corner(t, p.JPEG, c[1] == 'r', c[0] == 'b')
			}
			want := map[string]string{"tl": "grey", "tr": "grey", "bl": "grey", "br": "grey"}
			want[tt.red], want[tt.blue] = "red", "blue"
			for c := range want {
				if got[c] != want[c] {
					t.Errorf("orientation %d, long side %d: corner %s is %s, want %s", tt.o, long, c, got[c], want[c])
				}
			}
			assertNoMetadata(t, "photo", p.JPEG)
		}
	}
}

func TestPrepareLocationOnlyWhenKept(t *testing.T) {
	taken := time.Date(2026, 3, 14, 9, 26, 53, 0, time.FixedZone("", 8*3600))
	orig := phototest.JPEG(t, 640, 480, 2)
	tests := []struct{ lat, lon float64 }{
		{31.2304, 121.4737},   // north-east
		{-33.8688, 151.2093},  // south
		{40.7128, -74.0060},   // west
		{-22.9068, -43.1729},  // south-west
		{29.56278, 106.55278}, // 重庆
	}
	for _, tt := range tests {
		in := phototest.WithEXIF(orig, 1, tt.lat, tt.lon, taken)
		p, err := photo.Prepare(bytes.NewReader(in), photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.HasLocation || p.Lat != 0 || p.Lon != 0 {
			t.Errorf("without KeepLocation got location %v %v,%v", p.HasLocation, p.Lat, p.Lon)
		}
		if !p.Taken.Equal(taken) {
			t.Errorf("taken %v, want %v", p.Taken, taken)
		}
		assertNoMetadata(t, "photo", p.JPEG)

		k, err := photo.Prepare(bytes.NewReader(in), photo.Options{KeepLocation: true})
		if err != nil {
			t.Fatal(err)
		}
		if !k.HasLocation || math.Abs(k.Lat-tt.lat) > 1e-6 || math.Abs(k.Lon-tt.lon) > 1e-6 {
			t.Errorf("KeepLocation: got %v %v,%v, want %v,%v", k.HasLocation, k.Lat, k.Lon, tt.lat, tt.lon)
		}
		// The location is never in the file: with or without it, the same bytes.
		if k.Hash != p.Hash {
			t.Errorf("KeepLocation changed the JPEG")
		}
		// Nor is anything else of the EXIF: the same picture without EXIF gives the same bytes.
		plain, err := photo.Prepare(bytes.NewReader(orig), photo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if plain.Hash != p.Hash {
			t.Errorf("EXIF (orientation 1) changed the JPEG")
		}
	}
}

func TestPreparePNG(t *testing.T) {
	// A 3000×2000 PNG screenshot with a transparent half: scaled to 1600
	// on the long side, transparent parts white.
	m := image.NewNRGBA(image.Rect(0, 0, 3000, 2000))
	for y := 0; y < 2000; y++ {
		for x := 0; x < 3000; x++ {
			a := uint8(255)
			if x >= 1500 {
				a = 0
			}
			m.SetNRGBA(x, y, color.NRGBA{uint8(x), uint8(y), 60, a})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	p, err := photo.Prepare(&buf, photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 1600 || p.Height != 1067 {
		t.Errorf("size %dx%d, want 1600x1067", p.Width, p.Height)
	}
	out, err := jpeg.Decode(bytes.NewReader(p.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := out.At(1500, 500).RGBA(); r>>8 < 245 || g>>8 < 245 || b>>8 < 245 {
		t.Errorf("transparent part is %d,%d,%d, want white", r>>8, g>>8, b>>8)
	}
	assertNoMetadata(t, "photo", p.JPEG)
}

func TestPrepareWebP(t *testing.T) {
	b, err := os.ReadFile("testdata/video-001.lossy.webp")
	if err != nil {
		t.Fatal(err)
	}
	p, err := photo.Prepare(bytes.NewReader(b), photo.Options{MaxInput: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 150 || p.Height != 103 {
		t.Errorf("size %dx%d, want 150x103 (not enlarged)", p.Width, p.Height)
	}
	assertNoMetadata(t, "photo", p.JPEG)

	// A lossy WebP with alpha (transparent top-left corner): laid on white.
	b, err = os.ReadFile("testdata/yellow_rose.lossy-with-alpha.webp")
	if err != nil {
		t.Fatal(err)
	}
	p, err = photo.Prepare(bytes.NewReader(b), photo.Options{LongSide: 200})
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 200 || p.Height != 151 {
		t.Errorf("size %dx%d, want 200x151", p.Width, p.Height)
	}
	out, err := jpeg.Decode(bytes.NewReader(p.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b, _ := out.At(1, 1).RGBA(); r>>8 < 245 || g>>8 < 245 || b>>8 < 245 {
		t.Errorf("transparent corner is %d,%d,%d, want white", r>>8, g>>8, b>>8)
	}
}

// pngHeader returns the start of a PNG that declares a w×h picture.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = append(ihdr, byte(w>>24), byte(w>>16), byte(w>>8), byte(w), byte(h>>24), byte(h>>16), byte(h>>8), byte(h), 8, 2, 0, 0, 0)
	b = append(b, 0, 0, 0, 13)
	b = append(b, ihdr...)
	c := crc32.ChecksumIEEE(ihdr)
	return append(b, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
}

// withSOFSize returns a copy of a JPEG whose SOF0 segment declares w×h.
func withSOFSize(t *testing.T, b []byte, w, h int) []byte {
	t.Helper()
	b = bytes.Clone(b)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	b[i+5], b[i+6] = byte(h>>8), byte(h)
	b[i+7], b[i+8] = byte(w>>8), byte(w)
	return b
}

// assertRefused checks that err is an EINVALID *domain.Error with Chinese
// and English reasons, the English one containing want.
func assertRefused(t *testing.T, name string, err error, want string) {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Errorf("%s: error %v is not a *domain.Error", name, err)
		return
	}
	if de.Code != domain.EINVALID || de.Field != "photo" {
		t.Errorf("%s: code %q field %q", name, de.Code, de.Field)
	}
	if de.Zh == "" || de.En == "" || de.Zh == de.En || !containsHan(de.Zh) {
		t.Errorf("%s: reasons zh %q en %q", name, de.Zh, de.En)
	}
	if !strings.Contains(de.En, want) {
		t.Errorf("%s: reason %q does not say %q", name, de.En, want)
	}
	t.Logf("%s: %v", name, err)
}

func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

func TestPrepareRefuses(t *testing.T) {
	small := phototest.JPEG(t, 320, 240, 3)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 300, 200))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		opts photo.Options
		want string
	}{
		{"empty", nil, photo.Options{}, "empty"},
		{"over MaxInput", small, photo.Options{MaxInput: int64(len(small) - 1)}, "too large"},
		{"text", []byte("这不是照片 not a photo"), photo.Options{}, "not supported"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), photo.Options{}, "not supported"},
		{"pdf", []byte("%PDF-1.7\n"), photo.Options{}, "not supported"},
		{"truncated jpeg", small[:len(small)/2], photo.Options{}, "damaged or incomplete"},
		{"jpeg header only", small[:200], photo.Options{}, "damaged or incomplete"},
		{"truncated png", pngBuf.Bytes()[:pngBuf.Len()-20], photo.Options{}, "damaged or incomplete"},
		{"png bomb", pngHeader(20000, 20000), photo.Options{}, "too many pixels"},
		{"jpeg bomb", withSOFSize(t, small, 65000, 65000), photo.Options{}, "too many pixels"},
		{"jpeg zero size", withSOFSize(t, small, 0, 240), photo.Options{}, ""},
		{"quality", small, photo.Options{Quality: 101}, "quality"},
		{"long side", small, photo.Options{LongSide: 5000}, "long side"},
		{"thumb side", small, photo.Options{LongSide: 200, ThumbSide: 300}, "thumbnail"},
	}
	for _, tt := range tests {
		p, err := photo.Prepare(bytes.NewReader(tt.in), tt.opts)
		if err == nil {
			t.Errorf("%s: accepted (%dx%d)", tt.name, p.Width, p.Height)
			continue
		}
		assertRefused(t, tt.name, err, tt.want)
	}
}

func TestCheck(t *testing.T) {
	p, err := photo.Prepare(bytes.NewReader(phototest.JPEG(t, 1200, 900, 4)), photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w, h, err := photo.Check(p.JPEG, 0); err != nil || w != 1200 || h != 900 {
		t.Fatalf("Check(prepared) = %d, %d, %v", w, h, err)
	}
	if _, _, err := photo.Check(p.Thumb, 0); err != nil {
		t.Errorf("Check(thumbnail): %v", err)
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 30, 20))); err != nil {
		t.Fatal(err)
	}
	wide := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 4100, 8)))
	tests := []struct {
		name string
		in   []byte
		max  int
		want string
	}{
		{"empty", nil, 0, "empty"},
		{"over max", p.JPEG, len(p.JPEG) - 1, "too large"},
		{"png", pngBuf.Bytes(), 0, "not a JPEG"},
		{"text", []byte("hello"), 0, "not a JPEG"},
		{"with exif", phototest.WithEXIF(p.JPEG, 1, 30, 120, time.Now()), 0, "metadata"},
		{"with comment", phototest.Insert(p.JPEG, []byte{0xFF, 0xFE, 0, 5, 'h', 'i', '!'}), 0, "metadata"},
		{"trailing data", append(bytes.Clone(p.JPEG), "PK\x03\x04 a zip file"...), 0, "extra data"},
		{"truncated", p.JPEG[:len(p.JPEG)-100], 0, "damaged"},
		{"no EOI", p.JPEG[:len(p.JPEG)-2], 0, "damaged"},
		{"too wide", wide, 0, "size is not allowed"},
		{"bomb", withSOFSize(t, p.JPEG, 60000, 60000), 0, "size is not allowed"},
		{"header lies", withSOFSize(t, p.JPEG, 1200, 1000), 0, "damaged"},
	}
	for _, tt := range tests {
		w, h, err := photo.Check(tt.in, tt.max)
		if err == nil {
			t.Errorf("%s: accepted (%dx%d)", tt.name, w, h)
			continue
		}
		assertRefused(t, tt.name, err, tt.want)
	}
}

func TestThumbnail(t *testing.T) {
	b := phototest.JPEG(t, 600, 800, 5)
	th, err := photo.Thumbnail(b, 100)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := size(t, th); w != 75 || h != 100 {
		t.Errorf("thumbnail %dx%d, want 75x100", w, h)
	}
	// Never enlarged.
	th, err = photo.Thumbnail(b, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := size(t, th); w != 600 || h != 800 {
		t.Errorf("thumbnail %dx%d, want 600x800", w, h)
	}
	// Metadata in the input does not reach the thumbnail.
	th, err = photo.Thumbnail(phototest.WithEXIF(b, 6, 30, 120, time.Now()), 100)
	if err != nil {
		t.Fatal(err)
	}
	assertNoMetadata(t, "thumbnail", th)
	for _, side := range []int{0, -1, 5000} {
		_, err := photo.Thumbnail(b, side)
		assertRefused(t, "side", err, "long side")
	}
	_, err = photo.Thumbnail([]byte("\x89PNG\r\n\x1a\n"), 100)
	assertRefused(t, "png", err, "not a JPEG")
	_, err = photo.Thumbnail(b[:len(b)/3], 100)
	assertRefused(t, "truncated", err, "damaged")
}

// TestPrepareKinds runs the picture types decoders return other than a
// colour JPEG's YCbCr through Prepare: each keeps its colour.
func TestPrepareKinds(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 500, 400))
	for i := range gray.Pix {
		gray.Pix[i] = 90
	}
	pal := image.NewPaletted(image.Rect(0, 0, 500, 400), color.Palette{color.RGBA{200, 40, 40, 255}})
	deep := image.NewNRGBA64(image.Rect(0, 0, 500, 400))
	for y := 0; y < 400; y++ {
		for x := 0; x < 500; x++ {
			deep.SetNRGBA64(x, y, color.NRGBA64{40 << 8, 160 << 8, 60 << 8, 0xFFFF})
		}
	}
	var pngPal, pngDeep bytes.Buffer
	if err := png.Encode(&pngPal, pal); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngDeep, deep); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      []byte
		r, g, b uint32
	}{
		{"grey JPEG", encodeJPEG(t, gray), 90, 90, 90},
		{"paletted PNG", pngPal.Bytes(), 200, 40, 40},
		{"16-bit PNG", pngDeep.Bytes(), 40, 160, 60},
	}
	for _, tt := range tests {
		p, err := photo.Prepare(bytes.NewReader(tt.in), photo.Options{LongSide: 250})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.Width != 250 || p.Height != 200 {
			t.Errorf("%s: %dx%d", tt.name, p.Width, p.Height)
		}
		m, err := jpeg.Decode(bytes.NewReader(p.JPEG))
		if err != nil {
			t.Fatal(err)
		}
		r, g, b, _ := m.At(100, 100).RGBA()
		if d := max(absDiff(r>>8, tt.r), absDiff(g>>8, tt.g), absDiff(b>>8, tt.b)); d > 4 {
			t.Errorf("%s: colour %d,%d,%d, want %d,%d,%d", tt.name, r>>8, g>>8, b>>8, tt.r, tt.g, tt.b)
		}
		if _, _, err := photo.Check(p.JPEG, 0); err != nil {
			t.Errorf("%s: Check: %v", tt.name, err)
		}
	}
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
