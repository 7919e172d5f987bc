package domain

import (
	"time"

	"github.com/google/uuid"
)

// Photo is a picture a cadre attached to a visit, a problem or a measure's
// progress: the cracked pipe, the new greenhouse, the signed 明白卡. A photo is
// never required and never a check-in. The record is what syncs like any
// other; the picture itself is a JPEG named by its SHA-256 (Hash), stored
// beside the records and sent after them, in chunks that resume (see
// sync/protocol). The JPEG carries no metadata: where it was taken travels
// only in Lat and Lon, and only when the cadre chose to keep it.
//
// A photo is removed by deleting its record; the bytes go when no record
// names them any more, on every replica.
type Photo struct {
	Meta
	Household uuid.UUID `json:"household"`
	OfKind    Kind      `json:"of_kind"` // what it is attached to: a visit, problem or measure
	Of        uuid.UUID `json:"of"`
	Cadre     uuid.UUID `json:"cadre"` // who attached it
	Hash      string    `json:"hash"`  // lowercase hex SHA-256 of the JPEG
	Size      int       `json:"size"`  // the JPEG's bytes
	Width     int       `json:"width"`
	Height    int       `json:"height"`
	Taken     time.Time `json:"taken"` // when the picture was taken, if its file said
	Lat       float64   `json:"lat"`   // where, only if the cadre kept it; 0, 0: not kept
	Lon       float64   `json:"lon"`
	Caption   string    `json:"caption"`
}

// PhotoOf lists the kinds a photo may be attached to.
var PhotoOf = []Kind{KindVisit, KindProblem, KindMeasure}

// Limits on photos. A photo is downscaled on the device before it is stored
// (a long side of about 1600 pixels at JPEG quality 75: 200–400 KB), so
// MaxPhotoBytes refuses only what no device of ours makes.
const (
	MaxPhotoBytes = 2 << 20 // the largest photo stored or accepted
	MaxPhotoSide  = 4096    // the longest side, in pixels
	// DefaultPhotos is how many photos one visit, problem or measure may
	// carry when no rule says (Rules.Photos).
	DefaultPhotos = 6
	// MaxCaption is the longest caption, in characters.
	MaxCaption = 200
)

// Kind returns KindPhoto.
func (*Photo) Kind() Kind { return KindPhoto }

// Located reports whether the photo carries where it was taken.
func (p *Photo) Located() bool { return p.Lat != 0 || p.Lon != 0 }

// Validate checks the photo on its own.
func (p *Photo) Validate(now time.Time) error {
	if p.Household == uuid.Nil {
		return Errorf(EINVALID, "household", "照片必须属于一户", "a photo must belong to a household")
	}
	if err := checkSet("of_kind", "照片所属", "what the photo belongs to", p.OfKind, PhotoOf...); err != nil {
		return err
	}
	if p.Of == uuid.Nil {
		return Errorf(EINVALID, "of", "照片必须属于一次走访、一个问题或一项措施", "a photo must belong to a visit, a problem or a measure")
	}
	if p.Cadre == uuid.Nil {
		return Errorf(EINVALID, "cadre", "照片需要记录添加人", "a photo needs who added it")
	}
	if !ValidHash(p.Hash) {
		return Errorf(EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	if p.Size <= 0 || p.Size > MaxPhotoBytes {
		return Errorf(EINVALID, "size", "照片大小 %[1]d 字节无效（最大 %[2]d 字节）", "a photo of %[1]d bytes is not allowed (at most %[2]d)", p.Size, MaxPhotoBytes)
	}
	if p.Width < 0 || p.Height < 0 || p.Width > MaxPhotoSide || p.Height > MaxPhotoSide {
		return Errorf(EINVALID, "width", "照片尺寸 %[1]d×%[2]d 无效（最长边 %[3]d 像素）", "a photo of %[1]d×%[2]d is not allowed (at most %[3]d pixels a side)", p.Width, p.Height, MaxPhotoSide)
	}
	if !p.Taken.IsZero() {
		if err := checkNotFuture("taken", "拍摄时间", "time taken", p.Taken, now); err != nil {
			return err
		}
	}
	if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return Errorf(EINVALID, "lat", "照片位置无效", "the photo's location is not a valid latitude and longitude")
	}
	if len([]rune(p.Caption)) > MaxCaption {
		return Errorf(EINVALID, "caption", "照片说明太长（最多 %d 个字）", "the caption is too long (at most %d characters)", MaxCaption)
	}
	return nil
}

// ValidHash reports whether h is a SHA-256 in lowercase hex, the name of a
// photo's bytes everywhere.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
