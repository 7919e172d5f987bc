package photo

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"testing"
	"time"

	"bangfu/photo/phototest"
)

func tinyJPEG(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadMeta(t *testing.T) {
	taken := time.Date(2025, 11, 3, 16, 4, 5, 0, time.FixedZone("", 8*3600))
	tests := []struct {
		name string
		e    phototest.EXIF
		want meta
	}{
		{"empty", phototest.EXIF{}, meta{}},
		{"orientation II", phototest.EXIF{Orientation: 6}, meta{orientation: 6}},
		{"orientation MM", phototest.EXIF{Orientation: 8, BigEndian: true}, meta{orientation: 8}},
		{"orientation out of range", phototest.EXIF{Orientation: 9}, meta{}},
		{"all II", phototest.EXIF{Orientation: 3, Taken: taken, GPS: true, Lat: 30.5, Lon: 114.25, Make: "X"},
			meta{orientation: 3, taken: taken, lat: 30.5, lon: 114.25, hasGPS: true}},
		{"all MM", phototest.EXIF{Orientation: 1, Taken: taken, GPS: true, Lat: -30.5, Lon: -114.25, BigEndian: true},
			meta{orientation: 1, taken: taken, lat: -30.5, lon: -114.25, hasGPS: true}},
		{"gps 0,0 is no fix", phototest.EXIF{GPS: true}, meta{}},
	}
	for _, tt := range tests {
		got := readMeta(tt.e.TIFF())
		if got.orientation != tt.want.orientation || !got.taken.Equal(tt.want.taken) || got.hasGPS != tt.want.hasGPS ||
			math.Abs(got.lat-tt.want.lat) > 1e-7 || math.Abs(got.lon-tt.want.lon) > 1e-7 {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
		// The same through a JPEG's APP1 segment.
		seg := jpegEXIF(phototest.Insert(tinyJPEG(t), tt.e.Segment()))
		if !bytes.Equal(seg, tt.e.TIFF()) {
			t.Errorf("%s: jpegEXIF did not find the segment", tt.name)
		}
	}
}

func TestReadMetaHostile(t *testing.T) {
	good := phototest.EXIF{Orientation: 6, Taken: time.Now(), GPS: true, Lat: 1, Lon: 2}.TIFF()
	// Every truncation and every single-byte change reads without panic;
	// the result is whatever it is.
	for i := range good {
		readMeta(good[:i])
		for _, v := range []byte{0x00, 0xFF, 0x7F} {
			b := bytes.Clone(good)
			b[i] = v
			readMeta(b)
		}
	}
	// An IFD0 pointing at itself as its Exif IFD is read once.
	le := binary.LittleEndian
	b := []byte{'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0}
	b = le.AppendUint16(b, 0x8769)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 8)
	b = le.AppendUint32(b, 8) // next IFD: itself (never followed)
	if m := readMeta(b); m != (meta{}) {
		t.Errorf("self-pointing IFD gave %+v", m)
	}
	// Zero denominators and minutes over 60 are no position.
	if _, ok := (tiffReader{b: make([]byte, 64), o: le}).degrees(ifdEntry{typ: 5, count: 3, value: []byte{8, 0, 0, 0}}); ok {
		t.Error("zero denominators read as a position")
	}
}

func TestParseTaken(t *testing.T) {
	tests := []struct {
		s, off string
		want   time.Time
	}{
		{"2024:05:06 07:08:09", "+02:00", time.Date(2024, 5, 6, 5, 8, 9, 0, time.UTC)},
		{"2024:05:06 07:08:09", "", time.Date(2024, 5, 5, 23, 8, 9, 0, time.UTC)}, // read as UTC+8
		{"2024:05:06 07:08:09\x00junk", "-05:00", time.Date(2024, 5, 6, 12, 8, 9, 0, time.UTC)},
		{"0000:00:00 00:00:00", "", time.Time{}},
		{"    :  :     :  :  ", "", time.Time{}},
		{"2024-05-06", "", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseTaken(tt.s, tt.off); !got.Equal(tt.want) {
			t.Errorf("parseTaken(%q, %q) = %v, want %v", tt.s, tt.off, got, tt.want)
		}
	}
}

func TestMarkers(t *testing.T) {
	b := tinyJPEG(t)
	ms, end, ok := markers(b)
	if !ok || end != len(b) || ms[0] != 0xD8 || ms[len(ms)-1] != 0xD9 {
		t.Fatalf("markers = % X, %d, %v (len %d)", ms, end, ok, len(b))
	}
	for i := range b {
		if _, _, ok := markers(b[:i]); ok {
			t.Errorf("truncated at %d read as whole", i)
		}
	}
}

// FuzzMetadata feeds hostile bytes to everything that reads metadata or
// structure before a decoder does: it must never panic, loop or read out
// of bounds, and what it returns must be in range.
func FuzzMetadata(f *testing.F) {
	jp := tinyJPEG(f)
	taken := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []phototest.EXIF{
		{}, {Orientation: 6}, {Orientation: 8, BigEndian: true},
		{Orientation: 3, Taken: taken, GPS: true, Lat: 30.5, Lon: 114.25, Make: "Maker"},
		{Taken: taken, GPS: true, Lat: -1, Lon: -2, BigEndian: true},
	} {
		f.Add(e.TIFF())
		f.Add(phototest.Insert(jp, e.Segment()))
		png := []byte("\x89PNG\r\n\x1a\n")
		png = binary.BigEndian.AppendUint32(png, uint32(len(e.TIFF())))
		png = append(png, "eXIf"...)
		png = append(png, e.TIFF()...)
		f.Add(append(png, 0, 0, 0, 0))
		webp := []byte("RIFF\x00\x00\x00\x00WEBPEXIF")
		webp = binary.LittleEndian.AppendUint32(webp, uint32(len(e.TIFF())))
		f.Add(append(webp, e.TIFF()...))
	}
	f.Add(jp)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tiff := range [][]byte{b, jpegEXIF(b), pngEXIF(b), webpEXIF(b)} {
			m := readMeta(tiff)
			if m.orientation < 0 || m.orientation > 8 {
				t.Fatalf("orientation %d", m.orientation)
			}
			if m.hasGPS && (m.lat < -90 || m.lat > 90 || m.lon < -180 || m.lon > 180 || math.IsNaN(m.lat) || math.IsNaN(m.lon)) {
				t.Fatalf("position %v,%v", m.lat, m.lon)
			}
		}
		ms, end, ok := markers(b)
		if ok && (end > len(b) || len(ms) < 2 || ms[len(ms)-1] != 0xD9) {
			t.Fatalf("markers % X end %d of %d", ms, end, len(b))
		}
	})
}

// FuzzPrepare runs whole files through Prepare (and what Prepare makes
// through Check and Thumbnail): no input may panic, and whatever Prepare
// accepts must come out as a photo Check accepts, of the size it reports.
func FuzzPrepare(f *testing.F) {
	defer func(n int64) { maxPixels = n }(maxPixels)
	maxPixels = 1 << 20 // keep each input cheap: the decoders allocate what the header declares
	jp := tinyJPEG(f)
	f.Add(jp)
	f.Add(phototest.Insert(jp, phototest.EXIF{Orientation: 6, GPS: true, Lat: 1, Lon: 2}.Segment()))
	f.Add(phototest.JPEG(f, 33, 17, 1))
	f.Add(phototest.WithEXIF(phototest.JPEG(f, 17, 33, 2), 7, 0, 0, time.Time{}))
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 5, 3))); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	if b, err := os.ReadFile("testdata/video-001.lossy.webp"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Prepare(bytes.NewReader(b), Options{LongSide: 64, ThumbSide: 16, KeepLocation: true})
		if err != nil {
			return
		}
		w, h, err := Check(p.JPEG, MaxBytes)
		if err != nil || w != p.Width || h != p.Height || w > 64 || h > 64 {
			t.Fatalf("Prepare made %dx%d, Check says %dx%d, %v", p.Width, p.Height, w, h, err)
		}
		if _, _, err := Check(p.Thumb, MaxBytes); err != nil {
			t.Fatalf("thumbnail refused: %v", err)
		}
		if p.Hash != Hash(p.JPEG) {
			t.Fatal("hash")
		}
	})
}
