// Package phototest makes pictures for tests: photo-like JPEGs that compress
// the way a phone's photos do (a 12-megapixel one at quality 92 is about
// 5 MB), and EXIF APP1 segments built by hand (orientation, the time the
// picture was taken, GPS) to put into them. It imports only the standard
// library, so any package's tests may use it.
package phototest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// Quality is the JPEG quality of the pictures JPEG makes: what a phone's
// camera app writes.
const Quality = 92

type key struct {
	w, h int
	seed int64
}

var cache sync.Map // key -> []byte: a 12 MP picture takes about a second to make

// JPEG returns a w×h JPEG at quality 92 whose content is made from seed:
// a sky-to-ground gradient, soft shapes, texture at several scales and
// sensor-like noise, so it compresses like a photograph (about 5 MB for
// 4000×3000) and keeps detail when it is downscaled. The same arguments
// always give the same bytes. The caller owns the returned slice.
func JPEG(t testing.TB, w, h int, seed int64) []byte {
	t.Helper()
	if w <= 0 || h <= 0 {
		t.Fatalf("phototest.JPEG: bad size %dx%d", w, h)
	}
	k := key{w, h, seed}
	if b, ok := cache.Load(k); ok {
		return bytes.Clone(b.([]byte))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, Image(w, h, seed), &jpeg.Options{Quality: Quality}); err != nil {
		t.Fatalf("phototest.JPEG: %v", err)
	}
	b, _ := cache.LoadOrStore(k, buf.Bytes())
	return bytes.Clone(b.([]byte))
}

// Image returns the picture JPEG encodes, as pixels.
func Image(w, h int, seed int64) *image.RGBA {
	r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// Texture: value noise on a coarse and a fine grid (cells scale with the
	// picture, so a small picture looks like a smaller copy of a large one).
	long := max(w, h)
	coarse := newGrid(r, w, h, max(long/40, 2))
	fine := newGrid(r, w, h, max(long/400, 2))
	// Soft shapes: discs with blurred edges, like objects out of focus.
	type disc struct{ x, y, rad, soft, dr, dg, db float64 }
	discs := make([]disc, 12)
	for i := range discs {
		discs[i] = disc{
			x: r.Float64() * float64(w), y: r.Float64() * float64(h),
			rad: (0.03 + 0.12*r.Float64()) * float64(long), soft: 0.01 * float64(long),
			dr: r.Float64()*120 - 60, dg: r.Float64()*120 - 60, db: r.Float64()*120 - 60,
		}
	}
	horizon := float64(h) * (0.4 + 0.2*r.Float64())
	noise := uint64(0)
	bits := 0
	for y := 0; y < h; y++ {
		fy := float64(y)
		var br, bg, bb float64 // sky above the horizon, ground below
		if fy < horizon {
			t := fy / horizon
			br, bg, bb = 90+80*t, 140+60*t, 220-20*t
		} else {
			t := (fy - horizon) / (float64(h) - horizon + 1)
			br, bg, bb = 110-50*t, 120-40*t, 60-30*t
		}
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			fx := float64(x)
			cr, cg, cb := br, bg, bb
			for _, d := range discs {
				dx, dy := fx-d.x, fy-d.y
				if dx > d.rad+d.soft || dx < -d.rad-d.soft || dy > d.rad+d.soft || dy < -d.rad-d.soft {
					continue
				}
				dist := math.Sqrt(dx*dx + dy*dy)
				a := (d.rad + d.soft - dist) / (2 * d.soft)
				if a <= 0 {
					continue
				}
				a = min(a, 1)
				cr += a * d.dr
				cg += a * d.dg
				cb += a * d.db
			}
			tex := 28*coarse.at(x, y) + 22*fine.at(x, y)
			if bits < 32 {
				noise, bits = r.Uint64(), 64
			}
			// Sensor noise: a luminance part (±14) and a smaller colour part.
			n := float64(noise&0xff)/255*28 - 14
			c := float64(noise>>8&0xff)/255*12 - 6
			noise >>= 16
			bits -= 16
			i := 4 * x
			row[i+0] = clamp(cr + tex + n + c)
			row[i+1] = clamp(cg + tex + n)
			row[i+2] = clamp(cb + tex*0.8 + n - c)
			row[i+3] = 0xff
		}
	}
	return img
}

func clamp(v float64) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v + 0.5)
}

// grid is value noise: random values at the corners of square cells,
// interpolated bilinearly in between; at returns a value in [-1, 1].
type grid struct {
	cell, cols int
	v          []float32
}

func newGrid(r *rand.Rand, w, h, cell int) *grid {
	cols, rows := w/cell+2, h/cell+2
	g := &grid{cell: cell, cols: cols, v: make([]float32, cols*rows)}
	for i := range g.v {
		g.v[i] = float32(r.Float64()*2 - 1)
	}
	return g
}

func (g *grid) at(x, y int) float64 {
	cx, cy := x/g.cell, y/g.cell
	tx := float32(x%g.cell) / float32(g.cell)
	ty := float32(y%g.cell) / float32(g.cell)
	i := cy*g.cols + cx
	a := g.v[i] + (g.v[i+1]-g.v[i])*tx
	b := g.v[i+g.cols] + (g.v[i+g.cols+1]-g.v[i+g.cols])*tx
	return float64(a + (b-a)*ty)
}

// EXIF describes an EXIF APP1 segment to build.
type EXIF struct {
	Orientation int       // tag 0x0112 in IFD0; 0 leaves it out
	Taken       time.Time // DateTimeOriginal and OffsetTimeOriginal; zero leaves them out
	GPS         bool      // write GPSLatitude/GPSLongitude with their refs
	Lat, Lon    float64   // degrees; negative is south, west
	BigEndian   bool      // "MM" byte order instead of the usual "II"
	Make        string    // tag 0x010F, device data a photo should lose; "" leaves it out
}

// WithEXIF returns a copy of jpeg with an EXIF APP1 segment right after its
// SOI marker: orientation (0 leaves it out), GPS position (left out when
// lat and lon are both 0) and the time the picture was taken (left out when
// zero), the way a phone's camera writes them.
func WithEXIF(jpeg []byte, orientation int, lat, lon float64, taken time.Time) []byte {
	e := EXIF{Orientation: orientation, Taken: taken, GPS: lat != 0 || lon != 0, Lat: lat, Lon: lon, Make: "PhoneMaker"}
	return Insert(jpeg, e.Segment())
}

// Insert returns a copy of jpeg with the marker segment seg (starting with
// 0xFF) right after the SOI marker. It panics if jpeg does not start with SOI.
func Insert(jpeg, seg []byte) []byte {
	if len(jpeg) < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
		panic("phototest.Insert: not a JPEG")
	}
	out := make([]byte, 0, len(jpeg)+len(seg))
	out = append(out, jpeg[:2]...)
	out = append(out, seg...)
	return append(out, jpeg[2:]...)
}

// Segment returns the APP1 marker segment: FF E1, its length, "Exif\0\0"
// and a TIFF structure with IFD0, the Exif IFD and the GPS IFD as needed.
func (e EXIF) Segment() []byte {
	tiff := e.TIFF()
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	return append(seg, tiff...)
}

// entry is one IFD entry; data is its value, already in the byte order.
type entry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// TIFF returns the TIFF structure the Segment carries.
func (e EXIF) TIFF() []byte {
	var o interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.LittleEndian
	head := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	if e.BigEndian {
		o = binary.BigEndian
		head = []byte{'M', 'M', 0, 42, 0, 0, 0, 8}
	}
	short := func(tag uint16, v uint16) entry {
		return entry{tag, 3, 1, o.AppendUint16(nil, v)}
	}
	ascii := func(tag uint16, s string) entry {
		return entry{tag, 2, uint32(len(s) + 1), append([]byte(s), 0)}
	}
	rationals := func(tag uint16, deg float64) entry {
		deg = math.Abs(deg)
		d := math.Floor(deg)
		m := math.Floor((deg - d) * 60)
		s := (deg - d - m/60) * 3600
		var b []byte
		for _, v := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 10000)), 10000}} {
			b = o.AppendUint32(b, v[0])
			b = o.AppendUint32(b, v[1])
		}
		return entry{tag, 5, 3, b}
	}
	var ifd0, exif, gps []entry
	if e.Make != "" {
		ifd0 = append(ifd0, ascii(0x010F, e.Make))
	}
	if e.Orientation != 0 {
		ifd0 = append(ifd0, short(0x0112, uint16(e.Orientation)))
	}
	if !e.Taken.IsZero() {
		exif = append(exif, ascii(0x9003, e.Taken.Format("2006:01:02 15:04:05")))
		exif = append(exif, ascii(0x9011, e.Taken.Format("-07:00")))
	}
	if e.GPS {
		ns, ew := "N", "E"
		if e.Lat < 0 {
			ns = "S"
		}
		if e.Lon < 0 {
			ew = "W"
		}
		gps = append(gps, entry{0x0000, 1, 4, []byte{2, 3, 0, 0}}, ascii(0x0001, ns), rationals(0x0002, e.Lat),
			ascii(0x0003, ew), rationals(0x0004, e.Lon))
	}
	// Layout: header, IFD0, then the Exif IFD and the GPS IFD, each IFD
	// followed by the values too long for its entries.
	size := func(es []entry) int {
		n := 2 + 12*len(es) + 4
		for _, x := range es {
			if len(x.data) > 4 {
				n += len(x.data) + len(x.data)%2
			}
		}
		return n
	}
	n0 := len(ifd0)
	if len(exif) > 0 {
		n0++
	}
	if len(gps) > 0 {
		n0++
	}
	off0 := 8
	offExif := off0 + size(ifd0) + 12*(n0-len(ifd0))
	offGPS := offExif
	if len(exif) > 0 {
		offGPS += size(exif)
	}
	if len(exif) > 0 {
		ifd0 = append(ifd0, entry{0x8769, 4, 1, o.AppendUint32(nil, uint32(offExif))})
	}
	if len(gps) > 0 {
		ifd0 = append(ifd0, entry{0x8825, 4, 1, o.AppendUint32(nil, uint32(offGPS))})
	}
	out := append([]byte(nil), head...)
	write := func(es []entry) {
		start := len(out)
		extra := start + 2 + 12*len(es) + 4
		var tail []byte
		out = o.AppendUint16(out, uint16(len(es)))
		for _, x := range es {
			out = o.AppendUint16(out, x.tag)
			out = o.AppendUint16(out, x.typ)
			out = o.AppendUint32(out, x.count)
			if len(x.data) <= 4 {
				v := make([]byte, 4)
				copy(v, x.data)
				out = append(out, v...)
				continue
			}
			out = o.AppendUint32(out, uint32(extra+len(tail)))
			tail = append(tail, x.data...)
			if len(x.data)%2 == 1 {
				tail = append(tail, 0)
			}
		}
		out = o.AppendUint32(out, 0) // no next IFD
		out = append(out, tail...)
	}
	write(ifd0)
	if len(exif) > 0 {
		write(exif)
	}
	if len(gps) > 0 {
		write(gps)
	}
	return out
}
