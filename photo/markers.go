package photo

import "encoding/binary"

// maxMarkers bounds the marker segments markers reads: a progressive JPEG
// has a few dozen; a file with thousands is not a photo.
const maxMarkers = 4096

// markers returns the second bytes of a JPEG's markers in order, from SOI
// (0xD8) to EOI (0xD9), skipping the restart markers inside entropy-coded
// data, and the offset just after EOI. ok is false when the structure is
// broken: no SOI, a segment running past the end, no EOI, too many markers.
// It never reads outside b and always moves forward, so it ends.
func markers(b []byte) (ms []byte, end int, ok bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, 0, false
	}
	ms = append(ms, 0xD8)
	p := 2
	for len(ms) < maxMarkers {
		for p+1 < len(b) && b[p] == 0xFF && b[p+1] == 0xFF { // fill bytes
			p++
		}
		if p+2 > len(b) || b[p] != 0xFF {
			return ms, 0, false
		}
		m := b[p+1]
		ms = append(ms, m)
		p += 2
		switch {
		case m == 0xD9:
			return ms, p, true
		case m == 0x01 || m == 0xD8 || m >= 0xD0 && m <= 0xD7:
			continue // no length
		}
		if p+2 > len(b) {
			return ms, 0, false
		}
		l := int(binary.BigEndian.Uint16(b[p:]))
		if l < 2 || p+l > len(b) {
			return ms, 0, false
		}
		p += l
		if m != 0xDA {
			continue
		}
		// Entropy-coded data follows SOS: it ends at the first 0xFF that is
		// neither a stuffed 0xFF00 nor a restart marker.
		for {
			if p+1 >= len(b) {
				return ms, 0, false
			}
			if b[p] == 0xFF {
				if n := b[p+1]; n != 0x00 && (n < 0xD0 || n > 0xD7) && n != 0xFF {
					break
				}
			}
			p++
		}
	}
	return ms, 0, false
}

// isMetadata reports whether marker m starts a segment that can carry
// metadata rather than pictures: APP1–APP15 (EXIF, XMP, ICC, IPTC, maker
// data) and COM. APP0 (JFIF: only the pixel density) is allowed.
func isMetadata(m byte) bool {
	return m >= 0xE1 && m <= 0xEF || m == 0xFE
}
