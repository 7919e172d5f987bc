package protocol

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"

	"bangfu/domain"
)

// The photo endpoints (see Photos in the package documentation). A photo's
// bytes are named by the lowercase hex SHA-256 of its JPEG, the Hash of its
// domain.Photo record; the record travels first, through /v1/sync.
const (
	// PathPhotos is the prefix of a photo's URL: PathPhotos + hash. HEAD
	// says how far an upload stands, PATCH appends to it, GET fetches the
	// JPEG (with ?thumb=1 its thumbnail).
	PathPhotos = "/v1/photos/"
	// PathPhotosHave: POST a HaveRequest, answered by a HaveResponse: which
	// of the hashes the server holds, and how far partial uploads got.
	PathPhotosHave = "/v1/photos/have"
)

// The headers of the photo endpoints, after tus 1.0 (tus.io).
const (
	// HeaderUploadOffset is how many bytes of the upload the server holds
	// (in answers), or where the body of a PATCH starts (in requests).
	HeaderUploadOffset = "Upload-Offset"
	// HeaderUploadLength is the size of the whole JPEG: sent with every
	// PATCH; answered by HEAD once an upload began.
	HeaderUploadLength = "Upload-Length"
	// HeaderUploadComplete is "1" in an answer when the server holds the
	// whole JPEG, checked.
	HeaderUploadComplete = "Upload-Complete"
	// HeaderTusResumable is on every answer of the photo endpoints.
	HeaderTusResumable = "Tus-Resumable"
	// TusVersion is the value of HeaderTusResumable.
	TusVersion = "1.0.0"
	// ContentTypeOffset is the Content-Type of a PATCH body.
	ContentTypeOffset = "application/offset+octet-stream"
)

// Limits of the photo endpoints.
const (
	// MaxHave caps the hashes of one HaveRequest.
	MaxHave = 500
	// ThumbSide is the longest side of the thumbnails a server makes.
	ThumbSide = 240
	// PhotosPerDay and PhotoBytesPerDay cap what one device uploads in a
	// day (the server's day, UTC): photos completed, and bytes received.
	// Beyond either a PATCH is answered 429 with [ErrPhotoQuota] and a
	// Retry-After header.
	PhotosPerDay     = 200
	PhotoBytesPerDay = 100 << 20
)

// Errors of the photo endpoints, matched with errors.Is on both sides.
var (
	// ErrOffset answers a PATCH whose Upload-Offset is not where the
	// upload stands (409, with the current Upload-Offset), and a PATCH while
	// another upload of the same photo is under way: the device asks HEAD
	// (or reads the 409's Upload-Offset) and resumes from there.
	ErrOffset = &domain.Error{Code: domain.ECONFLICT, Field: "offset",
		Zh: "照片上传位置不符，请从服务器给出的位置继续", En: "the upload offset does not match the server's; resume from the server's offset"}
	// ErrPhotoQuota answers a PATCH beyond the device's daily limits (429,
	// transient: the device tries again the next day, see Retry-After).
	ErrPhotoQuota = &domain.Error{Code: domain.EUNAVAILABLE, Field: "quota",
		Zh: "此设备今天上传的照片已达上限（每天 200 张、100 MiB），明天会继续上传",
		En: "this device has uploaded as many photos today as allowed (200 photos, 100 MiB a day); the rest go tomorrow"}
	// ErrPhotoTooLarge answers a PATCH whose Upload-Length passes
	// domain.MaxPhotoBytes (413).
	ErrPhotoTooLarge = &domain.Error{Code: domain.EINVALID, Field: "size",
		Zh: "照片太大（最大 2 MiB）", En: "the photo is too large (at most 2 MiB)"}
)

// HaveRequest is the body of POST /v1/photos/have: the hashes of the JPEGs
// a device is about to upload, at most MaxHave. "v" may be left out.
type HaveRequest struct {
	V      int      `json:"v,omitempty"`
	Hashes []string `json:"hashes"`
}

// Validate checks the request on its own.
func (r *HaveRequest) Validate() error {
	if r.V != 0 {
		if err := checkVersion(r.V); err != nil {
			return err
		}
	}
	if len(r.Hashes) > MaxHave {
		return domain.Errorf(domain.EINVALID, "hashes", "一次最多询问 %d 张照片", "at most %d hashes at once", MaxHave)
	}
	for _, h := range r.Hashes {
		if !domain.ValidHash(h) {
			return domain.Errorf(domain.EINVALID, "hashes", "照片的校验值无效：%q", "not a SHA-256 in lowercase hex: %q", clip(h))
		}
	}
	return nil
}

// HaveResponse answers a HaveRequest: Have lists the hashes the server
// holds whole (the device never sends those and marks them sent); Offsets
// gives, for uploads begun and not finished, how many bytes the server
// holds. A hash in neither is for the device to upload from 0 — or one it
// may not read (the server does not say which).
type HaveResponse struct {
	V       int              `json:"v"`
	Have    []string         `json:"have"`
	Offsets map[string]int64 `json:"offsets"`
}

// Validate checks the response on its own.
func (r *HaveResponse) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	for _, h := range r.Have {
		if !domain.ValidHash(h) {
			return domain.Errorf(domain.EINVALID, "have", "服务器回复的照片校验值无效", "the server answered a hash that is not a SHA-256")
		}
	}
	for h, n := range r.Offsets {
		if !domain.ValidHash(h) || n < 0 || n > domain.MaxPhotoBytes {
			return domain.Errorf(domain.EINVALID, "offsets", "服务器回复的上传位置无效", "the server answered an invalid upload offset")
		}
	}
	return nil
}

// MarshalJSON encodes r with "have" a list and "offsets" an object even
// when empty.
func (r HaveResponse) MarshalJSON() ([]byte, error) {
	type plain HaveResponse
	if r.Have == nil {
		r.Have = []string{}
	}
	if r.Offsets == nil {
		r.Offsets = map[string]int64{}
	}
	return marshal(plain(r))
}

// PhotoHash returns the hash a photo URL's path names: path must be
// PathPhotos followed by exactly 64 lowercase hex digits, nothing else (no
// slash, no dot, no upper case), so that it can never name another file.
func PhotoHash(path string) (string, bool) {
	h, ok := strings.CutPrefix(path, PathPhotos)
	if !ok || !domain.ValidHash(h) {
		return "", false
	}
	return h, true
}

// PhotoURL returns the URL of a photo on the server at base
// ("https://host:port"), of its thumbnail if thumb.
func PhotoURL(base, hash string, thumb bool) string {
	u := strings.TrimRight(base, "/") + PathPhotos + hash
	if thumb {
		u += "?thumb=1"
	}
	return u
}

// Upload is where an upload stands, as a HEAD or PATCH answer says.
type Upload struct {
	Offset   int64 // bytes the server holds
	Length   int64 // the whole JPEG's size; -1 when no upload began
	Complete bool  // the server holds the whole JPEG, checked
}

// NewPhotoRequest returns a request for the photo hash on the server at
// base: HEAD or GET (with thumb, the thumbnail), carrying token. Read a
// HEAD's answer with [ReadUpload]; a GET's body is the JPEG (an error
// answer is read with [ReadResponse]).
func NewPhotoRequest(ctx context.Context, method, base, token, hash string, thumb bool) (*http.Request, error) {
	if !domain.ValidHash(hash) {
		return nil, domain.Errorf(domain.EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	req, err := NewRequest(ctx, method, PhotoURL(base, hash, thumb), token, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(HeaderTusResumable, TusVersion)
	return req, nil
}

// NewPatch returns the PATCH that sends body, the bytes of the JPEG hash
// from offset on (any number of them up to length-offset), to the server at
// base. length is the JPEG's whole size. A body that is a *bytes.Reader,
// *bytes.Buffer or *strings.Reader gets its Content-Length. Read the answer
// with [ReadUpload].
func NewPatch(ctx context.Context, base, token, hash string, offset, length int64, body io.Reader) (*http.Request, error) {
	if !domain.ValidHash(hash) {
		return nil, domain.Errorf(domain.EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	if offset < 0 || length <= 0 || offset > length {
		return nil, domain.Errorf(domain.EINVALID, "offset", "上传位置 %[1]d/%[2]d 无效", "invalid upload offset %[1]d of %[2]d", offset, length)
	}
	if err := checkURL(base); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, PhotoURL(base, hash, false), body)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "url", "服务器地址无效：%s", "bad server address: %s", clip(base))
	}
	h := req.Header
	h.Set("Content-Type", ContentTypeOffset)
	h.Set(HeaderTusResumable, TusVersion)
	h.Set(HeaderUploadOffset, strconv.FormatInt(offset, 10))
	h.Set(HeaderUploadLength, strconv.FormatInt(length, 10))
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// ParseOffset reads a header holding a byte count (Upload-Offset,
// Upload-Length): decimal digits only, at most domain.MaxPhotoBytes.
func ParseOffset(h http.Header, name string) (int64, error) {
	v := h.Get(name)
	if v == "" || len(v) > 10 || strings.TrimLeft(v, "0123456789") != "" {
		return 0, domain.Errorf(domain.EINVALID, strings.ToLower(name), "%[1]s 应为非负整数，而不是 %[2]q", "%[1]s must be a non-negative integer, not %[2]q", name, clip(v))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > domain.MaxPhotoBytes {
		return 0, domain.Errorf(domain.EINVALID, strings.ToLower(name), "%[1]s 超出照片大小上限：%[2]s", "%[1]s is beyond the largest photo: %[2]s", name, clip(v))
	}
	return n, nil
}

// ReadUpload reads the answer to a HEAD or a PATCH and closes its body: a
// 2xx answer gives where the upload stands; a 409 gives it too, with an
// error matching [ErrOffset] (resume from the returned Offset, or stop if
// Complete); any other answer gives the error it reports (see
// [ReadResponse] and [Transient]).
func ReadUpload(resp *http.Response) (Upload, error) {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok && resp.StatusCode != http.StatusConflict {
		return Upload{Length: -1}, ReadResponse(resp, nil)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	u := Upload{Length: -1, Complete: resp.Header.Get(HeaderUploadComplete) == "1"}
	var err error
	if u.Offset, err = ParseOffset(resp.Header, HeaderUploadOffset); err != nil {
		return Upload{Length: -1}, unreadable(err)
	}
	if resp.Header.Get(HeaderUploadLength) != "" {
		if u.Length, err = ParseOffset(resp.Header, HeaderUploadLength); err != nil {
			return Upload{Length: -1}, unreadable(err)
		}
	}
	if !ok {
		return u, ErrOffset
	}
	return u, nil
}
