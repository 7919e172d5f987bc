package photo

import (
	"encoding/binary"
	"math"
	"time"
)

// meta is what Prepare reads from a picture's EXIF: the rest (camera make
// and model, serial numbers, thumbnails, maker notes) is never looked at,
// and none of it is written out again.
type meta struct {
	orientation int // 1–8; 0 when absent or out of range
	taken       time.Time
	lat, lon    float64
	hasGPS      bool
}

// Limits of the EXIF reader: a hostile file may claim anything, so every
// count and offset is checked against these and against the data's length.
const (
	maxSegments   = 256 // JPEG marker segments looked at before SOS
	maxIFDEntries = 512 // entries read from one IFD
)

// jpegEXIF returns the TIFF structure inside the first EXIF APP1 segment of
// a JPEG, or nil. It walks the marker segments from SOI up to SOS, at most
// maxSegments of them, and never reads past b.
func jpegEXIF(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	p := 2
	for n := 0; n < maxSegments; n++ {
		// Markers may be preceded by fill bytes 0xFF.
		for p+1 < len(b) && b[p] == 0xFF && b[p+1] == 0xFF {
			p++
		}
		if p+4 > len(b) || b[p] != 0xFF {
			return nil
		}
		m := b[p+1]
		if m == 0xD9 || m == 0xDA { // EOI, SOS: no more metadata
			return nil
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) { // markers without a length
			p += 2
			continue
		}
		l := int(binary.BigEndian.Uint16(b[p+2:]))
		if l < 2 || p+2+l > len(b) {
			return nil
		}
		seg := b[p+4 : p+2+l]
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return seg[6:]
		}
		p += 2 + l
	}
	return nil
}

// pngEXIF returns the content of a PNG's eXIf chunk (a TIFF structure), or
// nil. It walks at most maxSegments chunks and stops at the image data.
func pngEXIF(b []byte) []byte {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(b) < len(sig) || string(b[:len(sig)]) != sig {
		return nil
	}
	p := len(sig)
	for n := 0; n < maxSegments && p+8 <= len(b); n++ {
		l := binary.BigEndian.Uint32(b[p:])
		typ := string(b[p+4 : p+8])
		if uint64(l) > uint64(len(b)-p-8) {
			return nil
		}
		data := b[p+8 : p+8+int(l)]
		switch typ {
		case "eXIf":
			return data
		case "IDAT", "IEND":
			return nil
		}
		p += 8 + int(l) + 4 // data and CRC
	}
	return nil
}

// webpEXIF returns the content of a WebP file's EXIF chunk, or nil.
func webpEXIF(b []byte) []byte {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil
	}
	p := 12
	for n := 0; n < maxSegments && p+8 <= len(b); n++ {
		l := binary.LittleEndian.Uint32(b[p+4:])
		if uint64(l) > uint64(len(b)-p-8) {
			return nil
		}
		if string(b[p:p+4]) == "EXIF" {
			data := b[p+8 : p+8+int(l)]
			// Some writers keep the JPEG APP1 prefix.
			if len(data) >= 6 && string(data[:6]) == "Exif\x00\x00" {
				data = data[6:]
			}
			return data
		}
		p += 8 + int(l) + int(l&1)
	}
	return nil
}

// tiffReader reads a TIFF structure (the body of an EXIF segment) without
// ever reading outside it.
type tiffReader struct {
	b []byte
	o binary.ByteOrder
}

// ifdEntry is one 12-byte IFD entry.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // the 4 bytes of the value field
}

// readMeta reads orientation, DateTimeOriginal (with OffsetTimeOriginal)
// and the GPS position from a TIFF structure. It follows only the pointers
// from IFD0 to the Exif IFD and to the GPS IFD — never an IFD chain — so a
// hostile structure cannot make it loop, and it ignores what it cannot read.
func readMeta(tiff []byte) meta {
	var m meta
	if len(tiff) < 8 {
		return m
	}
	t := tiffReader{b: tiff}
	switch string(tiff[:4]) {
	case "II*\x00":
		t.o = binary.LittleEndian
	case "MM\x00*":
		t.o = binary.BigEndian
	default:
		return m
	}
	ifd0 := t.ifd(t.o.Uint32(tiff[4:]))
	var exifOff, gpsOff uint32
	for _, e := range ifd0 {
		switch e.tag {
		case 0x0112: // Orientation
			if v, ok := t.uint(e); ok && v >= 1 && v <= 8 {
				m.orientation = int(v)
			}
		case 0x8769: // Exif IFD pointer
			exifOff, _ = t.uint(e)
		case 0x8825: // GPS IFD pointer
			gpsOff, _ = t.uint(e)
		}
	}
	if exifOff != 0 {
		var taken, digitized, offset string
		for _, e := range t.ifd(exifOff) {
			switch e.tag {
			case 0x9003: // DateTimeOriginal
				taken = t.ascii(e)
			case 0x9004: // DateTimeDigitized
				digitized = t.ascii(e)
			case 0x9011: // OffsetTimeOriginal
				offset = t.ascii(e)
			}
		}
		if taken == "" {
			taken, offset = digitized, ""
		}
		m.taken = parseTaken(taken, offset)
	}
	if gpsOff != 0 {
		var latRef, lonRef string
		var lat, lon float64
		latOK, lonOK := false, false
		for _, e := range t.ifd(gpsOff) {
			switch e.tag {
			case 0x0001:
				latRef = t.ascii(e)
			case 0x0002:
				lat, latOK = t.degrees(e)
			case 0x0003:
				lonRef = t.ascii(e)
			case 0x0004:
				lon, lonOK = t.degrees(e)
			}
		}
		switch latRef {
		case "S":
			lat = -lat
		case "N":
		default:
			latOK = false
		}
		switch lonRef {
		case "W":
			lon = -lon
		case "E":
		default:
			lonOK = false
		}
		// A phone without a fix may write 0/0: no position, not the Gulf of Guinea.
		if latOK && lonOK && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0) {
			m.lat, m.lon, m.hasGPS = lat, lon, true
		}
	}
	return m
}

// ifd returns the entries of the IFD at off, or nil if it does not fit.
func (t tiffReader) ifd(off uint32) []ifdEntry {
	if off < 8 || uint64(off)+2 > uint64(len(t.b)) {
		return nil
	}
	n := int(t.o.Uint16(t.b[off:]))
	if n > maxIFDEntries || int(off)+2+12*n > len(t.b) {
		return nil
	}
	es := make([]ifdEntry, n)
	for i := range es {
		p := t.b[int(off)+2+12*i:]
		es[i] = ifdEntry{tag: t.o.Uint16(p), typ: t.o.Uint16(p[2:]), count: t.o.Uint32(p[4:]), value: p[8:12]}
	}
	return es
}

// typeSize is the size in bytes of one value of each TIFF type we read.
var typeSize = map[uint16]int{1: 1, 2: 1, 3: 2, 4: 4, 5: 8}

// data returns the bytes of an entry's values: in the value field when they
// fit in 4 bytes, else at the offset it holds; ok is false if they do not
// lie inside the structure or the count is absurd.
func (t tiffReader) data(e ifdEntry) ([]byte, bool) {
	size, known := typeSize[e.typ]
	if !known || e.count == 0 || e.count > 1<<16 {
		return nil, false
	}
	n := int(e.count) * size
	if n <= 4 {
		return e.value[:n], true
	}
	off := t.o.Uint32(e.value)
	if uint64(off)+uint64(n) > uint64(len(t.b)) {
		return nil, false
	}
	return t.b[off : int(off)+n], true
}

// uint returns the first value of a BYTE, SHORT or LONG entry.
func (t tiffReader) uint(e ifdEntry) (uint32, bool) {
	d, ok := t.data(e)
	if !ok {
		return 0, false
	}
	switch e.typ {
	case 1:
		return uint32(d[0]), true
	case 3:
		return uint32(t.o.Uint16(d)), true
	case 4:
		return t.o.Uint32(d), true
	}
	return 0, false
}

// ascii returns an ASCII entry's text up to its first NUL; "" if it is not
// ASCII or not printable.
func (t tiffReader) ascii(e ifdEntry) string {
	if e.typ != 2 {
		return ""
	}
	d, ok := t.data(e)
	if !ok {
		return ""
	}
	for i, c := range d {
		if c == 0 {
			d = d[:i]
			break
		}
		if c < 0x20 || c > 0x7E {
			return ""
		}
	}
	return string(d)
}

// degrees reads a GPS coordinate: three RATIONALs, degrees, minutes and
// seconds. Any zero denominator or value out of range makes it unreadable.
func (t tiffReader) degrees(e ifdEntry) (float64, bool) {
	if e.typ != 5 || e.count != 3 {
		return 0, false
	}
	d, ok := t.data(e)
	if !ok {
		return 0, false
	}
	var v [3]float64
	for i := range v {
		num, den := t.o.Uint32(d[8*i:]), t.o.Uint32(d[8*i+4:])
		if den == 0 {
			return 0, false
		}
		v[i] = float64(num) / float64(den)
	}
	if v[1] >= 60 || v[2] >= 60 {
		return 0, false
	}
	deg := v[0] + v[1]/60 + v[2]/3600
	return deg, !math.IsNaN(deg) && !math.IsInf(deg, 0)
}

// parseTaken reads an EXIF date ("2006:01:02 15:04:05") in the zone given by
// an EXIF offset ("+08:00"); without an offset the time is read as China
// Standard Time (UTC+8), where this app is used, so that the same file
// gives the same instant on every device. Unreadable dates give zero.
func parseTaken(s, offset string) time.Time {
	if len(s) < 19 {
		return time.Time{}
	}
	zone := cst
	if len(offset) == 6 {
		if t, err := time.Parse("-07:00", offset); err == nil {
			zone = t.Location()
		}
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", s[:19], zone)
	if err != nil || t.Year() < 1900 || t.Year() > 2999 {
		return time.Time{}
	}
	return t
}

// cst is China Standard Time, the zone a date without an offset is read in.
var cst = time.FixedZone("CST", 8*3600)
