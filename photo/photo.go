package photo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"time"

	"golang.org/x/image/webp"

	"bangfu/domain"
)

// Defaults and limits.
const (
	DefaultLongSide  = 1600     // pixels on the long side of a stored photo
	DefaultQuality   = 75       // JPEG quality of a stored photo
	DefaultThumbSide = 240      // pixels on the long side of a thumbnail
	DefaultMaxInput  = 30 << 20 // the largest file Prepare reads

	// MaxBytes is the largest stored photo accepted anywhere (after downscaling).
	MaxBytes = 2 << 20
	// MaxSide is the longest side of a stored photo that Check accepts.
	MaxSide = 4096
	// MaxPixels is the most pixels a picture may declare before Prepare or
	// Thumbnail decodes it: more is refused as a decompression bomb.
	MaxPixels = 100_000_000

	// ThumbQuality is the JPEG quality of thumbnails.
	ThumbQuality = 70
)

// Options say how Prepare makes a photo; zero values mean the defaults.
type Options struct {
	LongSide     int   // long side in pixels (default 1600; at most MaxSide); smaller pictures are not enlarged
	Quality      int   // JPEG quality 1–100 (default 75)
	ThumbSide    int   // thumbnail long side (default 240; at most LongSide)
	KeepLocation bool  // return the EXIF GPS position in Photo.Lat/Lon (it is never written into the JPEG)
	MaxInput     int64 // largest input file in bytes (default 30 MiB)
}

// Photo is a prepared picture.
type Photo struct {
	JPEG          []byte    // downscaled, re-encoded, upright; carries no EXIF or other metadata at all
	Hash          string    // lowercase hex SHA-256 of JPEG
	Width, Height int       // of JPEG
	Thumb         []byte    // Thumbnail(JPEG, ThumbSide): small JPEG, no metadata
	Taken         time.Time // from EXIF DateTimeOriginal in its OffsetTimeOriginal zone (UTC+8 without one); zero if absent
	Lat, Lon      float64   // from EXIF GPS only when Options.KeepLocation; 0, 0 otherwise
	HasLocation   bool      // Lat and Lon hold a position
}

const field = "photo"

// maxPixels is MaxPixels; the fuzz test lowers it so that inputs declaring
// large pictures stay cheap.
var maxPixels int64 = MaxPixels

// withDefaults fills in zero options and refuses impossible ones.
func (o Options) withDefaults() (Options, error) {
	if o.LongSide == 0 {
		o.LongSide = DefaultLongSide
	}
	if o.Quality == 0 {
		o.Quality = DefaultQuality
	}
	if o.ThumbSide == 0 {
		o.ThumbSide = min(DefaultThumbSide, o.LongSide)
	}
	if o.MaxInput == 0 {
		o.MaxInput = DefaultMaxInput
	}
	switch {
	case o.LongSide < 1 || o.LongSide > MaxSide:
		return o, domain.Errorf(domain.EINVALID, field, "照片长边须在 1 到 %d 像素之间（设为 %d）",
			"a photo's long side must be 1 to %d pixels (it is set to %d)", MaxSide, o.LongSide)
	case o.Quality < 1 || o.Quality > 100:
		return o, domain.Errorf(domain.EINVALID, field, "照片质量须在 1 到 100 之间（设为 %d）",
			"a photo's quality must be 1 to 100 (it is set to %d)", o.Quality)
	case o.ThumbSide < 1 || o.ThumbSide > o.LongSide:
		return o, domain.Errorf(domain.EINVALID, field, "缩略图长边须在 1 到 %d 像素之间（设为 %d）",
			"a thumbnail's long side must be 1 to %d pixels (it is set to %d)", o.LongSide, o.ThumbSide)
	case o.MaxInput < 1:
		return o, domain.Errorf(domain.EINVALID, field, "文件大小上限须为正数（设为 %d）",
			"the file size limit must be positive (it is set to %d)", o.MaxInput)
	}
	return o, nil
}

// format is a picture format Prepare reads.
type format struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
	exif   func([]byte) []byte // the TIFF structure of its EXIF, or nil
}

var (
	formatJPEG = format{"JPEG", jpeg.DecodeConfig, jpeg.Decode, jpegEXIF}
	formatPNG  = format{"PNG", png.DecodeConfig, png.Decode, pngEXIF}
	formatWebP = format{"WebP", webp.DecodeConfig, webp.Decode, webpEXIF}
)

// sniff returns the format of b by its first bytes — not by a registry of
// decoders, which other packages' imports could widen — and false for
// anything else.
func sniff(b []byte) (format, bool) {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return formatJPEG, true
	case len(b) >= 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return formatPNG, true
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP, true
	}
	return format{}, false
}

// decode decodes b as f after checking the size it declares, so a small file
// that claims a huge picture is refused before any memory is spent on it.
func decode(b []byte, f format) (image.Image, error) {
	c, err := f.config(bytes.NewReader(b))
	if err != nil {
		return nil, damaged(f.name)
	}
	if c.Width <= 0 || c.Height <= 0 {
		return nil, domain.Errorf(domain.EINVALID, field, "图片尺寸无效（%d×%d）",
			"the picture has an invalid size (%d×%d)", c.Width, c.Height)
	}
	if int64(c.Width)*int64(c.Height) > maxPixels {
		return nil, domain.Errorf(domain.EINVALID, field, "图片像素过多（%d×%d，最多 1 亿像素）",
			"the picture has too many pixels (%d×%d; at most 100 megapixels)", c.Width, c.Height)
	}
	m, err := f.decode(bytes.NewReader(b))
	if err != nil {
		return nil, damaged(f.name)
	}
	if r := m.Bounds(); r.Dx() != c.Width || r.Dy() != c.Height {
		return nil, damaged(f.name)
	}
	return m, nil
}

func damaged(name string) error {
	return domain.Errorf(domain.EINVALID, field, "%s 图片已损坏或不完整，无法读取",
		"the %s picture is damaged or incomplete and cannot be read", name)
}

// Prepare reads a picture (JPEG, PNG or WebP, at most opts.MaxInput bytes),
// turns it upright as its EXIF orientation says, downscales it to
// opts.LongSide and encodes it as a JPEG without any metadata, with a
// thumbnail. It returns the time the picture was taken from its EXIF, and
// its GPS position only if opts.KeepLocation. A file that is empty, too
// large, not a supported picture, damaged or a decompression bomb is refused
// with a *domain.Error (EINVALID) saying why, in Chinese and English.
// The same input and options always give the same bytes.
func Prepare(r io.Reader, opts Options) (*Photo, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, min(opts.MaxInput, math.MaxInt64-1)+1)) // one more byte tells "too large"
	if err != nil {
		return nil, fmt.Errorf("photo: read: %w", err)
	}
	if len(b) == 0 {
		return nil, domain.Errorf(domain.EINVALID, field, "所选文件是空的", "the chosen file is empty")
	}
	if int64(len(b)) > opts.MaxInput {
		return nil, domain.Errorf(domain.EINVALID, field, "所选文件太大（超过 %s）",
			"the chosen file is too large (over %s)", mb(opts.MaxInput))
	}
	f, ok := sniff(b)
	if !ok {
		return nil, domain.Errorf(domain.EINVALID, field, "不支持此文件格式，请选择 JPEG、PNG 或 WebP 照片",
			"this file format is not supported; choose a JPEG, PNG or WebP photo")
	}
	m, err := decode(b, f)
	if err != nil {
		return nil, err
	}
	md := readMeta(f.exif(b))

	sw, sh := m.Bounds().Dx(), m.Bounds().Dy()
	turned := md.orientation >= 5 // shown with width and height swapped
	if turned {
		sw, sh = sh, sw
	}
	w, h := fit(sw, sh, opts.LongSide)
	if turned {
		w, h = h, w
	}
	// Scaling first and turning the small result is the same picture as
	// turning first (the filters are symmetric), for a fraction of the work.
	img := scale(m, w, h, md.orientation)

	out, err := encode(img, opts.Quality)
	if err != nil {
		return nil, err
	}
	thumb, err := Thumbnail(out, opts.ThumbSide)
	if err != nil {
		return nil, err
	}
	p := &Photo{
		JPEG:   out,
		Hash:   Hash(out),
		Width:  img.Rect.Dx(),
		Height: img.Rect.Dy(),
		Thumb:  thumb,
		Taken:  md.taken,
	}
	if opts.KeepLocation && md.hasGPS {
		p.Lat, p.Lon, p.HasLocation = md.lat, md.lon, true
	}
	return p, nil
}

// encode encodes m as a JPEG at quality q; if the result is over MaxBytes
// (a picture of pure noise might be), at lower qualities until it fits.
func encode(m image.Image, q int) ([]byte, error) {
	var buf bytes.Buffer
	for {
		buf.Reset()
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
			return nil, fmt.Errorf("photo: encode: %w", err)
		}
		if buf.Len() <= MaxBytes {
			return buf.Bytes(), nil
		}
		if q <= 30 {
			return nil, domain.Errorf(domain.EINVALID, field, "照片压缩后仍超过 %s",
				"the photo is still over %s after compression", mb(MaxBytes))
		}
		q = max(30, q-15)
	}
}

// mb formats a byte count as megabytes (kilobytes if under one) for a message.
func mb(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KB", (n+1023)>>10)
	}
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// Thumbnail returns a small JPEG of a stored photo: its long side side
// pixels (a smaller photo is not enlarged), quality ThumbQuality, no
// metadata. The same photo and side always give the same bytes, so a server
// and a tablet make identical thumbnails of the same photo.
func Thumbnail(jpegBytes []byte, side int) ([]byte, error) {
	if side < 1 || side > MaxSide {
		return nil, domain.Errorf(domain.EINVALID, field, "缩略图长边须在 1 到 %d 像素之间（设为 %d）",
			"a thumbnail's long side must be 1 to %d pixels (it is set to %d)", MaxSide, side)
	}
	if len(jpegBytes) == 0 {
		return nil, domain.Errorf(domain.EINVALID, field, "照片是空的", "the photo is empty")
	}
	if f, ok := sniff(jpegBytes); !ok || f.name != formatJPEG.name {
		return nil, notJPEG()
	}
	m, err := decode(jpegBytes, formatJPEG)
	if err != nil {
		return nil, err
	}
	w, h := fit(m.Bounds().Dx(), m.Bounds().Dy(), side)
	return encode(scale(m, w, h, 1), ThumbQuality)
}

func notJPEG() error {
	return domain.Errorf(domain.EINVALID, field, "照片不是 JPEG 图片", "the photo is not a JPEG picture")
}

// Hash returns the lowercase hex SHA-256 of b: a stored photo's name.
func Hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Check tells a server whether b is a stored photo it accepts, and returns
// its size: at most max bytes (MaxBytes if max <= 0), a well-formed JPEG
// from SOI to EOI with nothing after it, no metadata segments (APP1–APP15,
// COM: devices strip EXIF, so a photo carrying it was not made by Prepare
// and may carry a location), at most MaxSide pixels on its long side, and
// fully decodable. A refusal is a *domain.Error (EINVALID) with the reason
// in Chinese and English.
func Check(b []byte, max int) (w, h int, err error) {
	if max <= 0 {
		max = MaxBytes
	}
	switch {
	case len(b) == 0:
		return 0, 0, domain.Errorf(domain.EINVALID, field, "照片是空的", "the photo is empty")
	case len(b) > max:
		return 0, 0, domain.Errorf(domain.EINVALID, field, "照片太大（%d 字节，最多 %d 字节）",
			"the photo is too large (%d bytes; at most %d)", len(b), max)
	}
	if f, ok := sniff(b); !ok || f.name != formatJPEG.name {
		return 0, 0, notJPEG()
	}
	ms, end, ok := markers(b)
	if !ok {
		return 0, 0, damaged(formatJPEG.name)
	}
	for _, m := range ms {
		if isMetadata(m) {
			return 0, 0, domain.Errorf(domain.EINVALID, field, "照片带有元数据（如 EXIF 位置信息），应在手机上去除后再上传",
				"the photo carries metadata (such as EXIF location), which the device must remove before upload")
		}
	}
	if end != len(b) {
		return 0, 0, domain.Errorf(domain.EINVALID, field, "照片在图像结束后还有 %d 字节多余数据",
			"the photo has %d bytes of extra data after the picture's end", len(b)-end)
	}
	c, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return 0, 0, damaged(formatJPEG.name)
	}
	if c.Width <= 0 || c.Height <= 0 || c.Width > MaxSide || c.Height > MaxSide {
		return 0, 0, domain.Errorf(domain.EINVALID, field, "照片尺寸不合规（%d×%d，长边最多 %d 像素）",
			"the photo's size is not allowed (%d×%d; at most %d pixels on the long side)", c.Width, c.Height, MaxSide)
	}
	if _, err := decode(b, formatJPEG); err != nil {
		return 0, 0, err
	}
	return c.Width, c.Height, nil
}
