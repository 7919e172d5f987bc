package server

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/replica"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// The photo endpoints (protocol's "Photos"): a photo's record syncs through
// /v1/sync; its bytes go through these, kept by Options.Photos.
//
// Every request is a device's (its token, as a sync), and every photo it
// names must be one the device may read: a live photo record naming the hash
// (Store.PhotoPlaces) in a household the device's scope reaches, the check a
// pull makes. Anything else is answered 404, as for a photo that does not
// exist: a device of another group learns nothing, not even that a hash is
// held. So bytes can only be uploaded for a record already pushed, and only
// by a device that may read it.
//
// An upload is appended to as its body arrives, so a cut connection keeps
// what came; its length is fixed by its first PATCH; the bytes are checked
// when they reach it — their SHA-256 must be the hash, and photo.Check must
// accept them (a JPEG of at most domain.MaxPhotoBytes, sane dimensions, no
// metadata) — and a thumbnail is made. A device uploads at most
// PhotosPerDay photos and PhotoBytesPerDay bytes a day, counted in this
// process's memory (restarting the server, or another instance, starts the
// count again; the limit bounds a misbehaving device, it is no accounting).
// Bodies are read within the server's stall and time limits, as syncs.

// PartialAge is how old an unfinished upload grows before the sweep at the
// server's start removes it.
const PartialAge = 7 * 24 * time.Hour

// errNoPhoto is the answer for a photo that is not there or not the
// device's to read.
var errNoPhoto = protocol.ErrNoPhoto

// verifying bounds the uploads checked at once: decoding a JPEG costs tens
// of MiB.
var verifying = make(chan struct{}, max(2, runtime.NumCPU()))

// photo serves PathPhotos: have, and a photo's HEAD, PATCH and GET.
func (s *Server) photo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(protocol.HeaderTusResumable, protocol.TusVersion)
	if s.photos == nil {
		s.fail(w, r, domain.Errorf(domain.ENOTFOUND, "photos", "此服务器不保存照片", "this server keeps no photos"))
		return
	}
	if r.URL.Path == protocol.PathPhotosHave {
		s.only(http.MethodPost, s.photoHave)(w, r)
		return
	}
	hash, ok := protocol.PhotoHash(r.URL.Path)
	if !ok {
		s.fail(w, r, domain.Errorf(domain.ENOTFOUND, "path", "没有这个地址：%s", "no such endpoint: %s", clip(r.URL.Path)))
		return
	}
	note(r, "photo", hash[:12])
	switch r.Method {
	case http.MethodHead:
		s.photoHead(w, r, hash)
	case http.MethodPatch:
		s.photoPatch(w, r, hash)
	case http.MethodGet:
		s.photoGet(w, r, hash)
	default:
		w.Header().Set("Allow", "GET, HEAD, PATCH")
		protocol.WriteJSON(w, r, http.StatusMethodNotAllowed, protocol.ErrorBodyOf(domain.Errorf(domain.EINVALID, "method",
			"请用 GET、HEAD 或 PATCH 访问照片", "use GET, HEAD or PATCH for a photo")))
	}
}

// photoScope authenticates the request's device and works out its scope.
func (s *Server) photoScope(r *http.Request) (replica.Device, *scope, error) {
	token, ok := protocol.BearerToken(r)
	if !ok {
		return replica.Device{}, nil, domain.Errorf(domain.EUNAUTHORIZED, "token", "缺少设备凭证，请先注册设备",
			"no device token; enrol the device first")
	}
	dev, err := s.db.Authenticate(token)
	if err != nil {
		return dev, nil, err
	}
	note(r, "device", dev.ID.String())
	reach, err := s.db.Reach(dev.Cadre)
	if err != nil {
		return dev, nil, err
	}
	return dev, newScope(dev.Cadre, dev.ID, reach, s.appr), nil
}

// mayPhoto reports whether the device of sc may read a live photo record
// naming hash.
func (s *Server) mayPhoto(sc *scope, hash string) (bool, error) {
	places, err := s.db.PhotoPlaces(hash)
	if err != nil {
		return false, err
	}
	for _, l := range places {
		if l.Household == uuid.Nil {
			continue // a photo belongs to a household; never judge one as the city's
		}
		e := store.Entry{Household: l.Household, Village: l.Village, Town: l.Town,
			Change: domain.Change{Kind: domain.KindPhoto}}
		if sc.readable(&e) {
			return true, nil
		}
	}
	return false, nil
}

// photoAccess authenticates the request and checks that its device may
// touch hash; on failure it has answered.
func (s *Server) photoAccess(w http.ResponseWriter, r *http.Request, hash string) (replica.Device, bool) {
	dev, sc, err := s.photoScope(r)
	if err == nil {
		var ok bool
		if ok, err = s.mayPhoto(sc, hash); err == nil && !ok {
			err = errNoPhoto
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return dev, false
	}
	return dev, true
}

// uploadHeaders sets the headers that say where an upload stands.
func uploadHeaders(w http.ResponseWriter, u protocol.Upload) {
	h := w.Header()
	h.Set(protocol.HeaderUploadOffset, strconv.FormatInt(u.Offset, 10))
	if u.Length >= 0 {
		h.Set(protocol.HeaderUploadLength, strconv.FormatInt(u.Length, 10))
	}
	if u.Complete {
		h.Set(protocol.HeaderUploadComplete, "1")
	}
	h.Set("Cache-Control", "no-store")
}

func (s *Server) photoHead(w http.ResponseWriter, r *http.Request, hash string) {
	if _, ok := s.photoAccess(w, r, hash); !ok {
		return
	}
	u, err := s.photos.Stat(hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	uploadHeaders(w, u)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) photoHave(w http.ResponseWriter, r *http.Request) {
	_, sc, err := s.photoScope(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req protocol.HaveRequest
	release, err := s.readBody(w, r, &req, 64<<10, s.budget)
	defer release()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := protocol.HaveResponse{V: protocol.Version, Offsets: map[string]int64{}}
	for _, h := range req.Hashes {
		ok, err := s.mayPhoto(sc, h)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			continue // as if not held: nothing said of others' photos
		}
		u, err := s.photos.Stat(h)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		switch {
		case u.Complete:
			resp.Have = append(resp.Have, h)
		case u.Length >= 0:
			resp.Offsets[h] = u.Offset
		}
	}
	note(r, "asked", len(req.Hashes), "have", len(resp.Have), "partial", len(resp.Offsets))
	protocol.WriteJSON(w, r, http.StatusOK, resp)
}

// digits reports whether v is a non-empty run of decimal digits.
func digits(v string) bool { return v != "" && strings.TrimLeft(v, "0123456789") == "" }

func (s *Server) photoPatch(w http.ResponseWriter, r *http.Request, hash string) {
	dev, ok := s.photoAccess(w, r, hash)
	if !ok {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != protocol.ContentTypeOffset {
		s.fail(w, r, domain.Errorf(domain.EINVALID, "content-type", "照片上传的 Content-Type 应为 %[1]s，而不是 %[2]q",
			"a photo upload's Content-Type must be %[1]s, not %[2]q", protocol.ContentTypeOffset, clip(ct)))
		return
	}
	if v := r.Header.Get(protocol.HeaderUploadLength); digits(v) && (len(v) > 10 || mustInt(v) > domain.MaxPhotoBytes) {
		note(r, "length", clip(v))
		protocol.WriteJSON(w, r, http.StatusRequestEntityTooLarge, protocol.ErrorBodyOf(protocol.ErrPhotoTooLarge))
		return
	}
	length, err := protocol.ParseOffset(r.Header, protocol.HeaderUploadLength)
	if err == nil && length == 0 {
		err = domain.Errorf(domain.EINVALID, "upload-length", "照片是空的", "the photo is empty")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, err := protocol.ParseOffset(r.Header, protocol.HeaderUploadOffset)
	if err == nil && offset > length {
		err = domain.Errorf(domain.EINVALID, "upload-offset", "上传位置超出照片大小", "Upload-Offset is beyond Upload-Length")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.ContentLength > length-offset {
		s.fail(w, r, errLonger(length))
		return
	}
	now := s.now()
	if until, ok := s.quota.allow(dev.ID, now, length-offset); !ok {
		retryAfter(w, now, until)
		note(r, "quota_until", until.UTC().Format(time.RFC3339))
		protocol.WriteJSON(w, r, http.StatusTooManyRequests, protocol.ErrorBodyOf(protocol.ErrPhotoQuota))
		return
	}
	watch := &bodyWatch{body: r.Body, rc: http.NewResponseController(w), stall: s.stall, end: time.Now().Add(s.bodyTimeout)}
	body := &bodyErr{r: watch}
	cur := &upload{dev: dev.ID, watch: watch, stop: make(chan struct{}), done: make(chan struct{})}
	body.stop = cur.stop
	s.takeOver(hash, cur)
	u, err := s.photos.Append(hash, offset, length, body, func(jpeg []byte) ([]byte, error) { return verifyPhoto(hash, jpeg) })
	s.uploaded(hash, cur)
	watch.done()
	// Every byte read counts, kept or not: bytes refused at the end (a
	// wrong hash) cost the server as much as any.
	if body.n > 0 || u.Complete {
		s.quota.add(dev.ID, now, body.n, u.Complete)
	}
	note(r, "offset", offset, "length", length, "now_at", u.Offset, "complete", u.Complete)
	switch {
	case errors.Is(err, protocol.ErrOffset):
		uploadHeaders(w, u)
		s.fail(w, r, err)
		return
	case err != nil && body.err != nil && errors.Is(err, body.err):
		// The connection was cut or stalled: what arrived is kept, and
		// the device resumes from HEAD's offset. Nobody may be listening.
		uploadHeaders(w, u)
		s.fail(w, r, domain.Errorf(domain.EUNAVAILABLE, "body", "照片上传中断，已收到 %[1]d 字节，请继续上传",
			"the upload was cut short at %[1]d bytes; resume it", u.Offset))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if u.Complete {
		s.log.Info("photo received", "photo", hash[:12], "bytes", u.Length, "device", dev.ID)
	}
	uploadHeaders(w, u)
	w.WriteHeader(http.StatusNoContent)
}

func mustInt(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 1 << 62
	}
	return n
}

// bodyErr counts the bytes read from a request body and remembers the
// error of reading it; it fails once stop is closed.
type bodyErr struct {
	r    io.Reader
	n    int64
	err  error
	stop chan struct{}
}

// errTakenOver ends an upload that a newer one of the same device replaced.
var errTakenOver = errors.New("a newer upload of the same photo from the same device took over")

func (b *bodyErr) Read(p []byte) (int, error) {
	select {
	case <-b.stop:
		b.err = errTakenOver
		return 0, b.err
	default:
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// verifyPhoto checks a whole upload: its SHA-256 is hash and photo.Check
// accepts it. It returns the thumbnail to keep.
func verifyPhoto(hash string, jpeg []byte) ([]byte, error) {
	sum := sha256.Sum256(jpeg)
	if hex.EncodeToString(sum[:]) != hash {
		return nil, domain.Errorf(domain.EINVALID, "hash", "照片内容与校验值不符，已丢弃，请重新上传",
			"the photo's bytes do not match its hash: discarded; upload it again")
	}
	verifying <- struct{}{}
	defer func() { <-verifying }()
	if _, _, err := photo.Check(jpeg, domain.MaxPhotoBytes); err != nil {
		return nil, err
	}
	return photo.Thumbnail(jpeg, protocol.ThumbSide)
}

func (s *Server) photoGet(w http.ResponseWriter, r *http.Request, hash string) {
	if _, ok := s.photoAccess(w, r, hash); !ok {
		return
	}
	thumb := r.URL.Query().Get("thumb") == "1"
	f, err := s.photos.Open(hash, thumb)
	if errors.Is(err, fs.ErrNotExist) {
		err = domain.Errorf(domain.ENOTFOUND, "photo", "照片尚未上传到服务器", "the photo has not reached the server yet")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "image/jpeg")
	// Named by its content: it never changes, but only its readers may hold it.
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	etag := `"` + hash + `"`
	if thumb {
		etag = `"` + hash + `-thumb"`
	}
	h.Set("ETag", etag)
	note(r, "thumb", thumb)
	http.ServeContent(w, r, "", time.Time{}, f)
}

// photoGuard wraps a push's guard to collect the hashes that photo records
// of the push stop naming (deleted, or changed to other bytes).
func (s *Server) photoGuard(check store.Guard) (store.Guard, *[]string) {
	gone := new([]string)
	if s.photos == nil {
		return check, gone
	}
	return func(p *store.Proposal) error {
		err := check(p)
		if old, ok := p.Old.(*domain.Photo); ok && err == nil && !old.Deleted && domain.ValidHash(old.Hash) {
			if nw, ok := p.New.(*domain.Photo); !ok || nw.Deleted || nw.Hash != old.Hash {
				*gone = append(*gone, old.Hash)
			}
		}
		return err
	}, gone
}

// dropPhotos removes the bytes of the hashes no live photo names any more:
// called once the push that stopped naming them is committed.
func (s *Server) dropPhotos(hashes []string) {
	if len(hashes) == 0 {
		return
	}
	s.photoMu.Lock()
	defer s.photoMu.Unlock()
	done := map[string]bool{}
	for _, h := range hashes {
		if done[h] {
			continue
		}
		done[h] = true
		places, err := s.db.PhotoPlaces(h)
		if err != nil {
			s.log.Warn("cannot tell whether a photo is still named; the sweep at the next start will", "photo", h[:12], "err", err)
			continue
		}
		if len(places) > 0 {
			continue
		}
		if err := s.photos.Delete(h); err != nil {
			s.log.Warn("cannot remove a deleted photo", "photo", h[:12], "err", err)
			continue
		}
		s.log.Info("photo removed: no record names it", "photo", h[:12])
	}
}

// SweepPhotos removes the photos no live record names (left by a crash
// between a push and their removal, or a restored backup) and the uploads
// not finished within PartialAge. The server's command runs it at start.
func (s *Server) SweepPhotos() (photos, partials int, err error) {
	if s.photos == nil {
		return 0, 0, nil
	}
	return s.photos.Sweep(func(h string) (bool, error) {
		places, err := s.db.PhotoPlaces(h)
		return len(places) > 0, err
	}, s.now().Add(-PartialAge))
}

// photoQuota counts what each device uploaded today (UTC).
type photoQuota struct {
	maxPhotos int
	maxBytes  int64
	mu        sync.Mutex
	day       string
	used      map[uuid.UUID]*photoUse
}

type photoUse struct {
	photos int
	bytes  int64
}

func newPhotoQuota(photos int, bytes int64) *photoQuota {
	if photos <= 0 {
		photos = protocol.PhotosPerDay
	}
	if bytes <= 0 {
		bytes = protocol.PhotoBytesPerDay
	}
	return &photoQuota{maxPhotos: photos, maxBytes: bytes, used: map[uuid.UUID]*photoUse{}}
}

// today returns the use of dev today, starting a new day's count when the
// day changed.
func (q *photoQuota) today(dev uuid.UUID, now time.Time) *photoUse {
	if d := now.UTC().Format(time.DateOnly); d != q.day {
		q.day, q.used = d, map[uuid.UUID]*photoUse{}
	}
	u := q.used[dev]
	if u == nil {
		u = &photoUse{}
		q.used[dev] = u
	}
	return u
}

// allow reports whether dev may upload want more bytes today, and if not
// until when it must wait.
func (q *photoQuota) allow(dev uuid.UUID, now time.Time, want int64) (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.today(dev, now)
	if u.photos < q.maxPhotos && u.bytes+want <= q.maxBytes {
		return time.Time{}, true
	}
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC), false
}

// add counts bytes received from dev, and a photo completed.
func (q *photoQuota) add(dev uuid.UUID, now time.Time, bytes int64, complete bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.today(dev, now)
	u.bytes += bytes
	if complete {
		u.photos++
	}
}

// upload is a PATCH being read, for takeOver.
type upload struct {
	dev        uuid.UUID
	watch      *bodyWatch
	stop, done chan struct{}
}

// uploads are the PATCHes being read, by hash.
type uploads struct {
	mu sync.Mutex
	by map[string]*upload
}

// takeOverAfter is how long a device's new PATCH lets its earlier one of
// the same photo finish by itself before stopping it.
const takeOverAfter = 2 * time.Second

// takeOver registers cur as the upload of hash. A PATCH of the same photo
// from the same device still being read is the device's own earlier try,
// whose connection was cut without the server noticing (a phone that lost
// its signal sends no FIN): it would hold the upload until the body stalls
// (BodyStall, 30 s) while the device's resumption is refused with 409. So,
// unless it ends by itself within takeOverAfter, it is stopped — it keeps
// what arrived — and cur waits for it to end (at most a few seconds). Another device's upload is left alone: cur gets 409.
func (s *Server) takeOver(hash string, cur *upload) {
	s.ups.mu.Lock()
	prev := s.ups.by[hash]
	if prev == nil || prev.dev == cur.dev {
		s.ups.by[hash] = cur
	}
	s.ups.mu.Unlock()
	if prev == nil || prev.dev != cur.dev {
		return
	}
	// A connection the device closed ends on its own at once, with every
	// byte that was under way: give it a moment first.
	select {
	case <-prev.done:
		return
	case <-time.After(takeOverAfter):
	}
	close(prev.stop)
	prev.watch.rc.SetReadDeadline(time.Now()) // ends the read it waits in
	select {
	case <-prev.done:
	case <-time.After(5 * time.Second):
	}
}

// uploaded ends cur's registration.
func (s *Server) uploaded(hash string, cur *upload) {
	s.ups.mu.Lock()
	if s.ups.by[hash] == cur {
		delete(s.ups.by, hash)
	}
	s.ups.mu.Unlock()
	close(cur.done)
}
