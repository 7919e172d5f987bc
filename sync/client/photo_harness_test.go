package client_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
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
	"bangfu/store/query"
	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// photoServer is the real sync server with its photos kept on disk,
// watched: the tests see the bytes of each upload as the server reads them,
// and each upload's completion.
type photoServer struct {
	srv  *synctest.Server
	disk *server.Disk

	mu       sync.Mutex
	patched  map[string]int64             // hash -> PATCH body bytes the server read
	appends  int                          // PATCHes that reached the store of photos
	onAppend func(hash string, got int64) // after bytes are read (unlocked)
	onDone   func(hash string)            // when an upload completes (unlocked)
}

// startPhotoServer starts the real server with the world and photos on disk.
func startPhotoServer(t *testing.T, opts server.Options) (*photoServer, *synctest.World) {
	t.Helper()
	disk, err := server.OpenDisk(filepath.Join(t.TempDir(), "photos"))
	if err != nil {
		t.Fatal(err)
	}
	f := &photoServer{disk: disk, patched: map[string]int64{}}
	opts.Photos = watched{f}
	f.srv = synctest.StartServer(t, filepath.Join(t.TempDir(), "server.db"), opts, nil)
	w, err := synctest.BuildWorld(f.srv.DB, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f, w
}

// device enrols a device with the server and syncs it once (the roster).
func (f *photoServer) device(t *testing.T, name string, cadre *domain.Cadre, hc *http.Client) *synctest.Device {
	t.Helper()
	d := synctest.NewDevice(t, t.TempDir(), name, f.srv, cadre.ID, clientOpts(hc), nil)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	return d
}

// held returns the JPEG the server holds whole under hash.
func (f *photoServer) held(hash string) ([]byte, bool) {
	r, err := f.disk.Open(hash, false)
	if err != nil {
		return nil, false
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, err == nil
}

func (f *photoServer) patchedBytes(hash string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.patched[hash]
}

// watched is the server's store of photos, watched.
type watched struct{ f *photoServer }

func (w watched) Stat(hash string) (protocol.Upload, error) { return w.f.disk.Stat(hash) }
func (w watched) Open(hash string, thumb bool) (io.ReadSeekCloser, error) {
	return w.f.disk.Open(hash, thumb)
}
func (w watched) Delete(hash string) error { return w.f.disk.Delete(hash) }
func (w watched) Sweep(live func(string) (bool, error), stale time.Time) (int, int, error) {
	return w.f.disk.Sweep(live, stale)
}

func (w watched) Append(hash string, offset, length int64, r io.Reader, verify func([]byte) ([]byte, error)) (protocol.Upload, error) {
	w.f.mu.Lock()
	w.f.appends++
	w.f.mu.Unlock()
	u, err := w.f.disk.Append(hash, offset, length, &watchBody{r: r, f: w.f, hash: hash, at: offset}, verify)
	w.f.mu.Lock()
	cb := w.f.onDone
	w.f.mu.Unlock()
	if err == nil && u.Complete && cb != nil {
		cb(hash)
	}
	return u, err
}

type watchBody struct {
	r    io.Reader
	f    *photoServer
	hash string
	at   int64
}

func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.at += int64(n)
		b.f.mu.Lock()
		b.f.patched[b.hash] += int64(n)
		cb := b.f.onAppend
		b.f.mu.Unlock()
		if cb != nil {
			cb(b.hash, b.at)
		}
	}
	return n, err
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
	v := visitWithPhotos(t, d, h, p)
	ps := mustPhotos(t, d, v)
	return v, ps[0]
}

// visitWithPhotos saves a visit of h by the device's cadre with photos.
func visitWithPhotos(t testing.TB, d *synctest.Device, h *domain.Household, ps ...*photo.Photo) *domain.Visit {
	t.Helper()
	v := &domain.Visit{Household: h.ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "看了新修的厨房，拍了照片"}
	v.ID = uuid.New()
	recs := []domain.Record{v}
	var blobs []store.Blob
	for i, p := range ps {
		recs = append(recs, &domain.Photo{Household: h.ID, OfKind: domain.KindVisit, Of: v.ID, Cadre: d.Cadre, Hash: p.Hash, Size: len(p.JPEG), Width: p.Width, Height: p.Height, Caption: fmt.Sprintf("厨房 %d", i+1)})
		blobs = append(blobs, store.Blob{Hash: p.Hash, Data: p.JPEG, Thumb: p.Thumb})
	}
	if err := d.DB.PutBlobs(d.Cadre, "", blobs, recs...); err != nil {
		t.Fatal(err)
	}
	return v
}

// mustPhotos returns the photos of v on the device.
func mustPhotos(t testing.TB, d *synctest.Device, v *domain.Visit) []*domain.Photo {
	t.Helper()
	m, err := query.Photos(d.DB, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m[v.ID]
}

// bodyCounter is a transport that counts the PATCH body bytes the
// transport takes, and calls each(n) after each read of one.
type bodyCounter struct {
	next    http.RoundTripper
	patched atomic.Int64
	patches atomic.Int64
	each    func(total int64)
}

func (b *bodyCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.Body != nil {
		b.patches.Add(1)
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
