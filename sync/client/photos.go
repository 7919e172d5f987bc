package client

// Photos' bytes: after the records of a sync, the JPEGs the upstream lacks
// go up, resumably (a tus-like protocol, see sync/protocol's doc), and the
// thumbnails of photos this device only knows by their records come down.
// Records never wait behind a photo: an upload stops between chunks as soon
// as records wait to be sent, and the next sync sends them first.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/store"
	"bangfu/sync/protocol"
)

// photoChunk is how much of a JPEG goes up between two looks at whether
// records wait: at 256 kbit/s about two seconds.
const photoChunk = 64 << 10

// photoRead is the most a PATCH body hands the transport at a time.
const photoRead = 8 << 10

// maxThumbBytes bounds a thumbnail read from the upstream (240 px JPEGs are
// about 10 KB).
const maxThumbBytes = 256 << 10

// publishEvery throttles the status published while bytes go.
const publishEvery = 250 * time.Millisecond

// Names in the store's cursor bucket.
const (
	keyPhotoRefused = "sync.photo.refused" // JSON []RefusedPhoto
	keyPhotoPause   = "sync.photo.pause"   // RFC 3339: no uploads before (the upstream's daily limit)
)

// RefusedPhoto is a photo whose bytes the upstream refused (not an image it
// accepts, too large): it is never sent again, and the user sees why.
type RefusedPhoto struct {
	Hash string        `json:"hash"`
	Err  *domain.Error `json:"err"`
}

// photoState is what the client keeps of the photos' uploads; guarded by
// Client.mu, loaded from the store once.
type photoState struct {
	triggers atomic.Uint64 // Trigger calls: records asked for (not guarded)
	phase    uint64        // triggers when the photos' phase began

	once     sync.Once
	held     map[string]int64 // hash -> bytes the upstream holds or were handed to the network
	refused  []RefusedPhoto
	pause    time.Time // no uploads before, after a 429
	pauseErr error     // the upstream's words then
	sending  bool
	err      error // the last failure of the photos' phase; nil after a clean one
	lastPub  time.Time
	lastLeft int64
}

func (c *Client) loadPhotos() {
	c.photos.once.Do(func() {
		c.photos.held = map[string]int64{}
		if v, _ := c.db.Cursor(keyPhotoRefused); v != "" {
			if err := json.Unmarshal([]byte(v), &c.photos.refused); err != nil {
				c.log.Warn("stored refused photos unreadable", "err", err)
			}
		}
		if v, _ := c.db.Cursor(keyPhotoPause); v != "" {
			c.photos.pause, _ = time.Parse(time.RFC3339, v)
			c.photos.pauseErr = protocol.ErrPhotoQuota
		}
	})
}

// photoStatus fills in the photos' part of s.
func (c *Client) photoStatus(s *Status) {
	c.loadPhotos()
	list, err := c.db.BlobsToSend()
	c.mu.Lock()
	defer c.mu.Unlock()
	s.PhotoSending = c.photos.sending
	s.PhotoErr = c.photos.err
	s.PhotosRefused = append([]RefusedPhoto(nil), c.photos.refused...)
	if c.photos.pause.After(c.now()) {
		s.PhotosPausedUntil = c.photos.pause
		if s.PhotoErr == nil {
			s.PhotoErr = c.photos.pauseErr
		}
	}
	if err != nil {
		s.PhotoErr = fmt.Errorf("client: count the photos waiting: %w", err)
		return
	}
	for _, b := range list {
		if c.isRefused(b.Hash) {
			continue
		}
		s.PhotosWaiting++
		s.PhotoBytesLeft += int64(b.Size) - min(c.photos.held[b.Hash], int64(b.Size))
	}
}

// isRefused reports whether hash was refused; c.mu held.
func (c *Client) isRefused(hash string) bool {
	for _, r := range c.photos.refused {
		if r.Hash == hash {
			return true
		}
	}
	return false
}

// recordsWaiting reports whether records wait to be sent: a sync asked for,
// or local changes not yet pushed. The photos' phase then yields.
func (c *Client) recordsWaiting() bool {
	c.mu.Lock()
	asked := c.photos.triggers.Load() != c.photos.phase
	c.mu.Unlock()
	if asked {
		return true
	}
	c.mu.Lock()
	upstream := c.acct.Server
	c.mu.Unlock()
	n, err := c.pending(upstream, c.asideCopy())
	return err == nil && n > 0
}

// errYield ends an upload early because records wait.
var errYield = errors.New("client: photos yield to records")

// syncPhotos is the photos' phase of a sync: uploads, then thumbnails. It
// returns nil when it yielded to records (and asks for another sync).
func (c *Client) syncPhotos(ctx context.Context, acct account) (err error) {
	c.loadPhotos()
	c.mu.Lock()
	c.photos.sending = true
	c.photos.phase = c.photos.triggers.Load()
	c.mu.Unlock()
	c.publish()
	defer func() {
		perr := err
		switch {
		case errors.Is(err, errYield):
			err, perr = nil, nil
			c.Trigger()
		case errors.Is(err, errPaused):
			err, perr = nil, nil
		case err != nil && !protocol.Transient(err) && ctx.Err() == nil:
			// A photo the upstream will not take (unknown to it, out of
			// the device's scope): shown as PhotoErr and tried again at the
			// next sync, but the records' syncing goes on meanwhile.
			err = nil
		}
		c.mu.Lock()
		c.photos.sending = false
		c.photos.err = perr
		c.mu.Unlock()
		c.publish()
	}()
	if err := c.uploadPhotos(ctx, acct); err != nil {
		return err
	}
	return c.fetchThumbs(ctx, acct)
}

// uploadPhotos sends the JPEGs the upstream lacks.
func (c *Client) uploadPhotos(ctx context.Context, acct account) error {
	c.mu.Lock()
	paused := c.photos.pause.After(c.now())
	c.mu.Unlock()
	if paused {
		return nil
	}
	list, err := c.db.BlobsToSend()
	if err != nil {
		return err
	}
	c.mu.Lock()
	todo := list[:0]
	for _, b := range list {
		if !c.isRefused(b.Hash) {
			todo = append(todo, b)
		}
	}
	c.mu.Unlock()
	var firstErr error
	for len(todo) > 0 {
		batch := todo[:min(len(todo), protocol.MaxHave)]
		todo = todo[len(batch):]
		offsets, err := c.have(ctx, acct, batch)
		if err != nil {
			return err
		}
		for _, b := range batch {
			off, lacks := offsets[b.Hash]
			if !lacks {
				continue // held whole: marked sent by have
			}
			if c.recordsWaiting() {
				return errYield
			}
			err := c.upload(ctx, acct, b, off)
			switch {
			case err == nil:
			case errors.Is(err, errYield), errors.Is(err, errPaused):
				return err
			case protocol.Transient(err), ctx.Err() != nil:
				return err
			default:
				// A photo the upstream will not take now (unknown to it, out
				// of the device's scope): reported, the others go on.
				c.log.Warn("photo not sent", "hash", b.Hash, "err", err)
				if firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	return firstErr
}

// have asks which of batch the upstream holds: those it holds are marked
// sent; it returns the offset of each of the others.
func (c *Client) have(ctx context.Context, acct account, batch []store.BlobInfo) (map[string]int64, error) {
	req := protocol.HaveRequest{Hashes: make([]string, len(batch))}
	for i, b := range batch {
		req.Hashes[i] = b.Hash
	}
	var resp protocol.HaveResponse
	if _, err := c.do(ctx, http.MethodPost, acct.URL+protocol.PathPhotosHave, acct.Token, &req, &resp); err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for _, h := range resp.Have {
		held[h] = true
	}
	out := map[string]int64{}
	for _, b := range batch {
		if held[b.Hash] {
			if err := c.db.MarkBlobSent(b.Hash); err != nil {
				return nil, err
			}
			c.mu.Lock()
			delete(c.photos.held, b.Hash)
			c.mu.Unlock()
			continue
		}
		off := min(resp.Offsets[b.Hash], int64(b.Size))
		out[b.Hash] = off
		c.setHeld(b.Hash, off, true)
	}
	return out, nil
}

// setHeld records how far the bytes of hash went, and publishes the status
// now if force, else at most every publishEvery.
func (c *Client) setHeld(hash string, n int64, force bool) {
	c.mu.Lock()
	c.photos.held[hash] = n
	now := time.Now()
	pub := force || now.Sub(c.photos.lastPub) >= publishEvery
	if pub {
		c.photos.lastPub = now
	}
	c.mu.Unlock()
	if pub {
		c.publish()
	}
}

// errPaused ends the uploads of the day: the upstream's daily limit.
var errPaused = errors.New("client: the upstream's daily photo limit is reached")

// upload sends the JPEG of b from the upstream's offset off to its end.
func (c *Client) upload(ctx context.Context, acct account, b store.BlobInfo, off int64) error {
	data, err := c.db.Blob(b.Hash)
	if err != nil {
		return err
	}
	if data == nil {
		return nil // deleted meanwhile
	}
	if photo.Hash(data) != b.Hash {
		return domain.Errorf(domain.EINTERNAL, "hash", "本机保存的照片已损坏", "the photo stored here is damaged (its hash is %s, not %s)", photo.Hash(data), b.Hash)
	}
	size := int64(len(data))
	for conflicts := 0; ; {
		body := &photoBody{c: c, hash: b.Hash, data: data, off: off}
		req, err := protocol.NewPatch(ctx, acct.URL, acct.Token, b.Hash, off, size, body)
		if err != nil {
			return err
		}
		req.ContentLength = -1 // the body may end early, when records wait
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.log.Debug("photo upload cut", "hash", b.Hash, "sent", body.off, "err", err)
			return netError()
		}
		status := resp.StatusCode
		u, err := protocol.ReadUpload(resp)
		switch {
		case err == nil || errors.Is(err, protocol.ErrOffset) && u.Complete:
			if u.Offset > size || u.Length >= 0 && u.Length != size {
				return domain.Errorf(domain.EUNAVAILABLE, "offset", "服务器的回复无法读取，请稍后重试", "the server answered an upload offset %d of %d for a photo of %d bytes", u.Offset, u.Length, size)
			}
			if u.Complete {
				if err := c.db.MarkBlobSent(b.Hash); err != nil {
					return err
				}
				c.mu.Lock()
				delete(c.photos.held, b.Hash)
				c.mu.Unlock()
				c.publish()
				c.log.Debug("photo sent", "hash", b.Hash, "bytes", size)
				return nil
			}
			c.setHeld(b.Hash, u.Offset, true)
			if body.yielded {
				return errYield
			}
			if u.Offset <= off {
				return domain.Errorf(domain.EUNAVAILABLE, "offset", "照片上传没有进展，稍后重试", "the photo upload is making no progress; it will be tried again later")
			}
			off = u.Offset
		case errors.Is(err, protocol.ErrOffset):
			// Not where the upload stands, or another upload of it under
			// way (this device's own, cut, not yet noticed by the server).
			if conflicts++; conflicts > 3 || u.Offset > size {
				return domain.Errorf(domain.EUNAVAILABLE, "offset", "照片上传的进度与服务器不一致，稍后重试", "the photo upload's offset disagrees with the server's; it will be tried again later")
			}
			off = u.Offset
			c.setHeld(b.Hash, off, true)
		case status == http.StatusRequestEntityTooLarge,
			status == http.StatusBadRequest && domain.ErrorField(err) == "photo":
			return c.refuse(b.Hash, err)
		case status == http.StatusTooManyRequests:
			c.pauseUntil(resp.Header, err)
			return errPaused
		default:
			return err
		}
	}
}

func netError() error {
	return &domain.Error{Code: domain.EUNAVAILABLE, Field: "network",
		Zh: "无法连接服务器，请检查网络后重试", En: "cannot reach the server; check the network and try again"}
}

// refuse records that the upstream refused the photo hash for good: it is
// shown in Status.PhotosRefused and never sent again.
func (c *Client) refuse(hash string, err error) error {
	var e *domain.Error
	if !errors.As(err, &e) {
		e = &domain.Error{Code: domain.EINVALID, Field: "photo", Zh: domain.Message(err, "zh"), En: domain.Message(err, "en")}
	}
	c.mu.Lock()
	if !c.isRefused(hash) {
		c.photos.refused = append(c.photos.refused, RefusedPhoto{Hash: hash, Err: e})
	}
	delete(c.photos.held, hash)
	v, _ := json.Marshal(c.photos.refused)
	c.mu.Unlock()
	c.log.Warn("the server refused a photo", "hash", hash, "err", e)
	c.publish()
	return c.db.SetCursor(keyPhotoRefused, string(v))
}

// pauseUntil stops uploads until the upstream's next day (Retry-After if
// it says, else the next midnight, China time).
func (c *Client) pauseUntil(h http.Header, err error) {
	now := c.now()
	until := now.Add(24 * time.Hour)
	if s, perr := strconv.Atoi(h.Get("Retry-After")); perr == nil && s > 0 && s <= 48*3600 {
		until = now.Add(time.Duration(s) * time.Second)
	} else {
		cst := time.FixedZone("CST", 8*3600)
		t := now.In(cst)
		until = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, cst)
	}
	if err == nil {
		err = domain.Errorf(domain.EUNAVAILABLE, "photos", "今天上传的照片已达上限，明天继续", "today's photo upload limit is reached; uploads continue tomorrow")
	}
	c.mu.Lock()
	c.photos.pause, c.photos.pauseErr = until, err
	c.mu.Unlock()
	c.log.Warn("the server's daily photo limit is reached: uploads wait", "until", until, "err", err)
	if serr := c.db.SetCursor(keyPhotoPause, until.UTC().Format(time.RFC3339)); serr != nil {
		c.log.Warn("cannot store the photo pause", "err", serr)
	}
}

// photoBody is a PATCH body: the JPEG from off, ending early at a chunk's
// end when records wait. It counts what the transport takes.
type photoBody struct {
	c       *Client
	hash    string
	data    []byte
	off     int64 // the next byte to hand over
	chunk   int   // bytes handed over since the last look
	yielded bool
}

func (b *photoBody) Read(p []byte) (int, error) {
	if b.off >= int64(len(b.data)) || b.yielded {
		return 0, io.EOF
	}
	if b.chunk >= photoChunk {
		b.chunk = 0
		if b.c.recordsWaiting() {
			b.yielded = true
			return 0, io.EOF
		}
	}
	// Small reads: the transport copies through a 32 KiB buffer, and what
	// it holds is lost if the connection is cut.
	p = p[:min(len(p), photoRead, photoChunk-b.chunk)]
	n := copy(p, b.data[b.off:])
	b.off += int64(n)
	b.chunk += n
	b.c.setHeld(b.hash, b.off, false)
	return n, nil
}

// fetchThumbs fetches the thumbnails of the photos held here by record only.
func (c *Client) fetchThumbs(ctx context.Context, acct account) error {
	missing, err := c.db.BlobsMissing(true)
	if err != nil {
		return err
	}
	for _, h := range missing {
		if c.recordsWaiting() {
			return errYield
		}
		thumb, err := c.get(ctx, acct, h, true, 0, maxThumbBytes)
		switch {
		case domain.ErrorCode(err) == domain.ENOTFOUND:
			continue // not uploaded yet: the next sync asks again
		case err != nil:
			return err
		}
		if _, _, err := photo.Check(thumb, maxThumbBytes); err != nil {
			c.log.Warn("the server's thumbnail is not a JPEG", "hash", h, "err", err)
			continue
		}
		if err := c.db.SaveBlob(store.Blob{Hash: h, Thumb: thumb}); err != nil {
			return err
		}
	}
	return nil
}

// get reads GET /v1/photos/<hash> (or its thumbnail) from byte from, at most
// max bytes in all. A cut body returns what came with an EUNAVAILABLE error.
func (c *Client) get(ctx context.Context, acct account, hash string, thumb bool, from int64, max int64) ([]byte, error) {
	req, err := protocol.NewPhotoRequest(ctx, http.MethodGet, acct.URL, acct.Token, hash, thumb)
	if err != nil {
		return nil, err
	}
	req.Header.Del("Accept")
	req.Header.Del("Accept-Encoding") // a JPEG gains nothing
	if from > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, netError()
	}
	switch {
	case resp.StatusCode == http.StatusOK && from == 0, resp.StatusCode == http.StatusPartialContent && from > 0:
	case resp.StatusCode >= 400:
		return nil, protocol.ReadResponse(resp, nil)
	default:
		resp.Body.Close()
		return nil, domain.Errorf(domain.EUNAVAILABLE, "range", "服务器的回复无法读取，请稍后重试", "the server answered a photo with HTTP %d", resp.StatusCode)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max-from+1))
	if int64(len(data)) > max-from {
		return nil, domain.Errorf(domain.EINVALID, "size", "服务器发来的照片太大", "the server's photo is larger than %d bytes", max)
	}
	if err != nil {
		return data, netError()
	}
	return data, nil
}

// FetchPhoto returns the JPEG named hash: from the store if held here, else
// from the upstream (resuming with Range when the answer is cut, a few
// times), checked against hash and stored. A photo the upstream does not
// hold or does not show this device is an ENOTFOUND error.
func (c *Client) FetchPhoto(ctx context.Context, hash string) ([]byte, error) {
	if !domain.ValidHash(hash) {
		return nil, domain.Errorf(domain.EINVALID, "hash", "照片的校验值无效", "the photo's hash is not a SHA-256 in hex")
	}
	if b, err := c.db.Blob(hash); err != nil || b != nil {
		return b, err
	}
	c.mu.Lock()
	acct := c.acct
	c.mu.Unlock()
	if acct.Token == "" || acct.URL == "" {
		return nil, ErrNotEnrolled
	}
	var data []byte
	for tries := 0; ; tries++ {
		part, err := c.get(ctx, acct, hash, false, int64(len(data)), domain.MaxPhotoBytes)
		data = append(data, part...)
		if err == nil {
			break
		}
		if domain.ErrorCode(err) != domain.EUNAVAILABLE || tries >= 5 || ctx.Err() != nil {
			return nil, err
		}
		c.log.Debug("photo download cut: resuming", "hash", hash, "got", len(data))
	}
	if photo.Hash(data) != hash {
		return nil, domain.Errorf(domain.EUNAVAILABLE, "hash", "下载的照片不完整，请重试", "the downloaded photo does not match its hash; try again")
	}
	if err := c.db.SaveBlob(store.Blob{Hash: hash, Data: data}); err != nil {
		return nil, err
	}
	return data, nil
}
