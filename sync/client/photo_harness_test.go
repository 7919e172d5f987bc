package client_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/photo/phototest"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// photoFront is a server on 127.0.0.1 for the client's photo tests: the
// real sync server behind it for everything but /v1/photos/, which it
// answers itself after PHOTOS.md's protocol (appending a PATCH body as it
// reads it, so a cut keeps what arrived) until the server's own endpoints
// land. Knobs make it refuse a photo (400) or say the day's limit is
// reached (429).
type photoFront struct {
	*httptest.Server
	srv *synctest.Server

	mu       sync.Mutex
	uploads  map[string]*upload
	refuse   map[string]bool
	limited  bool
	patched  map[string]int64 // hash -> PATCH body bytes the handler read
	patches  int
	onAppend func(hash string, got int64) // called (unlocked) after bytes are appended
	onDone   func(hash string)            // called (unlocked) when an upload completes
}

type upload struct {
	data     []byte
	length   int64
	complete bool
	thumb    []byte
}

// startPhotoFront starts the real server with the world, and the front.
func startPhotoFront(t *testing.T) (*photoFront, *synctest.World) {
	t.Helper()
	srv := synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), server.Options{}, nil)
	w, err := synctest.BuildWorld(srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := &photoFront{srv: srv, uploads: map[string]*upload{}, refuse: map[string]bool{}, patched: map[string]int64{}}
	back, _ := url.Parse(srv.URL)
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(back))
	mux.HandleFunc("/v1/photos/", f.serve)
	f.Server = httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(f.Close)
	return f, w
}

// device enrols a device with the front and syncs it once.
func (f *photoFront) device(t *testing.T, name string, cadre *domain.Cadre, hc *http.Client) *synctest.Device {
	t.Helper()
	s := *f.srv
	s.URL = f.URL
	d := synctest.NewDevice(t, t.TempDir(), name, &s, cadre.ID, clientOpts(hc), nil)
	if err := d.Sync(); err != nil { // the roster
		t.Fatal(err)
	}
	return d
}

func (f *photoFront) held(hash string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.uploads[hash]
	if u == nil {
		return nil, false
	}
	return append([]byte(nil), u.data...), u.complete
}

func (f *photoFront) patchedBytes(hash string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.patched[hash]
}

func tusAnswer(w http.ResponseWriter, u *upload) {
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.Header().Set("Upload-Offset", strconv.Itoa(len(u.data)))
	if u.length > 0 {
		w.Header().Set("Upload-Length", strconv.FormatInt(u.length, 10))
	}
	if u.complete {
		w.Header().Set("Upload-Complete", "1")
	}
}

func (f *photoFront) serve(w http.ResponseWriter, r *http.Request) {
	if _, ok := protocol.BearerToken(r); !ok {
		protocol.WriteError(w, r, &domain.Error{Code: domain.EUNAUTHORIZED, Zh: "未注册", En: "not enrolled"})
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/v1/photos/")
	if name == "have" && r.Method == http.MethodPost {
		var req struct {
			Hashes []string `json:"hashes"`
		}
		if err := protocol.ReadRequest(r, &req); err != nil {
			protocol.WriteError(w, r, err)
			return
		}
		resp := struct {
			Have    []string         `json:"have"`
			Offsets map[string]int64 `json:"offsets"`
		}{Have: []string{}, Offsets: map[string]int64{}}
		f.mu.Lock()
		for _, h := range req.Hashes {
			if u := f.uploads[h]; u != nil && u.complete {
				resp.Have = append(resp.Have, h)
			} else if u != nil {
				resp.Offsets[h] = int64(len(u.data))
			} else {
				resp.Offsets[h] = 0
			}
		}
		f.mu.Unlock()
		protocol.WriteJSON(w, r, http.StatusOK, resp)
		return
	}
	if !domain.ValidHash(name) {
		protocol.WriteError(w, r, domain.Errorf(domain.ENOTFOUND, "hash", "没有这张照片", "no such photo"))
		return
	}
	switch r.Method {
	case http.MethodHead:
		f.mu.Lock()
		u := f.uploads[name]
		if u == nil {
			u = &upload{}
		}
		tusAnswer(w, u)
		f.mu.Unlock()
	case http.MethodGet:
		f.mu.Lock()
		u := f.uploads[name]
		f.mu.Unlock()
		if u == nil || !u.complete {
			protocol.WriteError(w, r, domain.Errorf(domain.ENOTFOUND, "hash", "没有这张照片", "no such photo"))
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		if r.URL.Query().Get("thumb") == "1" {
			w.Write(u.thumb)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, strings.NewReader(string(u.data)))
	case http.MethodPatch:
		f.patch(w, r, name)
	default:
		protocol.WriteError(w, r, domain.Errorf(domain.EINVALID, "method", "不支持", "method not allowed"))
	}
}

func (f *photoFront) patch(w http.ResponseWriter, r *http.Request, hash string) {
	off, err1 := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	length, err2 := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
	if err1 != nil || err2 != nil || length <= 0 {
		protocol.WriteError(w, r, domain.Errorf(domain.EINVALID, "offset", "上传进度无效", "bad Upload-Offset or Upload-Length"))
		return
	}
	f.mu.Lock()
	f.patches++
	if f.limited {
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"v":1,"error":{"code":"unavailable","field":"photos","zh":"今天上传的照片已达上限","en":"today's photo limit is reached"}}`)
		return
	}
	if length > domain.MaxPhotoBytes {
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		io.WriteString(w, `{"v":1,"error":{"code":"invalid","field":"size","zh":"照片太大","en":"the photo is too large"}}`)
		return
	}
	u := f.uploads[hash]
	if u == nil {
		u = &upload{length: length}
		f.uploads[hash] = u
	}
	if u.complete || off != int64(len(u.data)) || length != u.length {
		tusAnswer(w, u)
		f.mu.Unlock()
		w.WriteHeader(http.StatusConflict)
		return
	}
	f.mu.Unlock()
	buf := make([]byte, 8<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			f.mu.Lock()
			room := u.length - int64(len(u.data))
			if int64(n) > room {
				n = int(room)
			}
			u.data = append(u.data, buf[:n]...)
			f.patched[hash] += int64(n)
			got := int64(len(u.data))
			cb := f.onAppend
			f.mu.Unlock()
			if cb != nil {
				cb(hash, got)
			}
		}
		if err != nil {
			break
		}
	}
	f.mu.Lock()
	if int64(len(u.data)) == u.length {
		sum := sha256.Sum256(u.data)
		_, _, cerr := photo.Check(u.data, domain.MaxPhotoBytes)
		if hex.EncodeToString(sum[:]) != hash || cerr != nil || f.refuse[hash] {
			delete(f.uploads, hash)
			f.mu.Unlock()
			protocol.WriteError(w, r, domain.Errorf(domain.EINVALID, "photo", "这不是可接受的照片", "this is not a photo the server accepts"))
			return
		}
		u.complete = true
		u.thumb, _ = photo.Thumbnail(u.data, 240)
	}
	done, cb := u.complete, f.onDone
	tusAnswer(w, u)
	f.mu.Unlock()
	if done && cb != nil {
		cb(hash)
	}
	w.WriteHeader(http.StatusNoContent)
}

// preparedCache keeps prepared photos: preparing a 12 MP picture takes a
// while on a loaded machine.
var preparedCache sync.Map

// prepared returns a prepared photo from a w×h picture.
func prepared(t testing.TB, w, h int, seed int64) *photo.Photo {
	t.Helper()
	k := [3]int64{int64(w), int64(h), seed}
	if p, ok := preparedCache.Load(k); ok {
		return p.(*photo.Photo)
	}
	p, err := photo.Prepare(strings.NewReader(string(phototest.JPEG(t, w, h, seed))), photo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	preparedCache.Store(k, p)
	return p
}

// visitWithPhoto saves a visit of h by the device's cadre with the photo p,
// as the app does: bytes and records in one transaction.
func visitWithPhoto(t testing.TB, d *synctest.Device, h *domain.Household, p *photo.Photo) (*domain.Visit, *domain.Photo) {
	t.Helper()
	v := &domain.Visit{Household: h.ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "看了新修的厨房，拍了照片"}
	v.ID = uuid.New()
	ph := &domain.Photo{Household: h.ID, OfKind: domain.KindVisit, Of: v.ID, Cadre: d.Cadre, Hash: p.Hash, Size: len(p.JPEG), Width: p.Width, Height: p.Height, Caption: "厨房"}
	if err := d.DB.PutBlobs(d.Cadre, "", []store.Blob{{Hash: p.Hash, Data: p.JPEG, Thumb: p.Thumb}}, v, ph); err != nil {
		t.Fatal(err)
	}
	return v, ph
}

// bodyCounter is a transport that counts the PATCH body bytes the
// transport takes, and calls each(n) after each read of one.
type bodyCounter struct {
	next    http.RoundTripper
	patched atomic.Int64
	each    func(total int64)
}

func (b *bodyCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.Body != nil {
		r2 := r.Clone(r.Context())
		r2.Body = &countBody{ReadCloser: r.Body, b: b}
		r = r2
	}
	return b.next.RoundTrip(r)
}

type countBody struct {
	io.ReadCloser
	b *bodyCounter
}

func (c *countBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	t := c.b.patched.Add(int64(n))
	if n > 0 && c.b.each != nil {
		c.b.each(t)
	}
	return n, err
}

// clientOpts are a device's client options with hc (nil: a plain client)
// and short backoffs.
func clientOpts(hc *http.Client) client.Options {
	return client.Options{HTTP: hc, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Interval: -1}
}
