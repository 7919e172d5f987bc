package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
)

// TestPhotoUpAndDown: a cadre's visit with a photo syncs, then its bytes
// go up whole; the leader's tablet gets the record and the thumbnail, and
// the JPEG only when asked (FetchPhoto), checked and stored.
func TestPhotoUpAndDown(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{})
	counter := &bodyCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	d := f.device(t, "phone", w.Cadre1, &http.Client{Transport: counter})
	p := prepared(t, 1600, 1200, 1)
	_, ph := visitWithPhoto(t, d, w.Group(w.G1)[0], p)

	if st := d.Client.Status(); st.PhotosWaiting != 1 || st.PhotoBytesLeft != int64(len(p.JPEG)) {
		t.Fatalf("before the sync: %d photos, %d bytes waiting; want 1, %d", st.PhotosWaiting, st.PhotoBytesLeft, len(p.JPEG))
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	got, complete := f.held(p.Hash)
	if !complete || !bytes.Equal(got, p.JPEG) {
		t.Fatalf("the server holds %d bytes (complete %v) of the %d-byte photo", len(got), complete, len(p.JPEG))
	}
	if n := counter.patched.Load(); n != int64(len(p.JPEG)) {
		t.Errorf("%d PATCH body bytes sent for a %d-byte photo", n, len(p.JPEG))
	}
	st := d.Client.Status()
	if st.PhotosWaiting != 0 || st.PhotoBytesLeft != 0 || st.PhotoSending || st.PhotoErr != nil || st.Err != nil {
		t.Fatalf("after the sync: %+v", st)
	}
	// Sent once: the next sync sends nothing.
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := counter.patched.Load(); n != int64(len(p.JPEG)) {
		t.Errorf("the next sync sent photo bytes again: %d in all", n)
	}

	leader := f.device(t, "tablet", w.Leader, nil)
	if err := leader.Sync(); err != nil {
		t.Fatal(err)
	}
	if th, err := leader.DB.Thumb(p.Hash); err != nil || len(th) == 0 {
		t.Fatalf("the leader's tablet has no thumbnail: %v", err)
	}
	if b, _ := leader.DB.Blob(p.Hash); b != nil {
		t.Fatal("the leader's tablet fetched the JPEG unasked")
	}
	if st := leader.Client.Status(); st.PhotosWaiting != 0 {
		t.Fatalf("the leader's tablet would send %d photos it fetched", st.PhotosWaiting)
	}
	ctx := context.Background()
	b, err := leader.Client.FetchPhoto(ctx, ph.Hash)
	if err != nil || !bytes.Equal(b, p.JPEG) {
		t.Fatalf("FetchPhoto: %d bytes, %v", len(b), err)
	}
	if stored, _ := leader.DB.Blob(p.Hash); !bytes.Equal(stored, p.JPEG) {
		t.Fatal("the fetched JPEG is not stored")
	}
	if send, _ := leader.DB.BlobsToSend(); len(send) != 0 {
		t.Fatalf("a fetched JPEG would be sent back: %v", send)
	}
}

// TestPhotoHeldAlready: a JPEG the server holds whole is never sent (the
// same picture attached by another device).
func TestPhotoHeldAlready(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{})
	p := prepared(t, 800, 600, 2)
	other := f.device(t, "other", w.Cadre1, nil)
	visitWithPhoto(t, other, w.Group(w.G1)[1], p)
	if err := other.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.held(p.Hash); !ok {
		t.Fatal("the first device's photo is not on the server")
	}
	counter := &bodyCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	d := f.device(t, "phone", w.Cadre1, &http.Client{Transport: counter})
	visitWithPhoto(t, d, w.Group(w.G1)[0], p)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := counter.patched.Load(); n != 0 {
		t.Fatalf("%d bytes sent of a photo the server holds", n)
	}
	if st := d.Client.Status(); st.PhotosWaiting != 0 || st.PhotoErr != nil {
		t.Fatalf("still to send: %d (%v)", st.PhotosWaiting, st.PhotoErr)
	}
}

// notAPhoto returns bytes a device could hold as a photo (the store does
// not look inside) that are no JPEG.
func notAPhoto() *photo.Photo {
	b := []byte(strings.Repeat("这不是照片 ", 3000))
	return &photo.Photo{JPEG: b, Hash: photo.Hash(b), Width: 100, Height: 100}
}

// TestPhotoRefusedOnce: a photo the server refuses (400: not a JPEG it
// accepts) is recorded with the server's reason and never sent again; the
// records sync on, and the other photos go.
func TestPhotoRefusedOnce(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{})
	bad, good := notAPhoto(), prepared(t, 800, 600, 3)
	counter := &bodyCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	d := f.device(t, "phone", w.Cadre1, &http.Client{Transport: counter})
	visitWithPhotos(t, d, w.Group(w.G1)[0], bad, good)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	st := d.Client.Status()
	if len(st.PhotosRefused) != 1 || st.PhotosRefused[0].Hash != bad.Hash || st.PhotosRefused[0].Err.Code != domain.EINVALID || st.PhotosRefused[0].Err.Zh == "" {
		t.Fatalf("refused: %+v", st.PhotosRefused)
	}
	t.Logf("refused: %s / %s", st.PhotosRefused[0].Err.Zh, st.PhotosRefused[0].Err.En)
	if st.PhotosWaiting != 0 || st.PhotoErr != nil {
		t.Errorf("after the refusal: %d photos waiting, %v", st.PhotosWaiting, st.PhotoErr)
	}
	if _, ok := f.held(good.Hash); !ok {
		t.Error("the good photo did not go up beside the refused one")
	}
	sent := counter.patched.Load()
	d.Restart(t) // the refusal is kept
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := counter.patched.Load(); n != sent {
		t.Fatalf("a refused photo was sent again (%d bytes, then %d)", sent, n)
	}
	if st := d.Client.Status(); len(st.PhotosRefused) != 1 {
		t.Fatalf("after a restart, refused: %+v", st.PhotosRefused)
	}
}

// TestPhotoDailyLimit: at the server's daily limit (429) uploads wait for
// the next day, and the user is told; records still sync.
func TestPhotoDailyLimit(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{PhotosPerDay: 1})
	counter := &bodyCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	d := f.device(t, "phone", w.Cadre1, &http.Client{Transport: counter})
	visitWithPhotos(t, d, w.Group(w.G1)[0], prepared(t, 800, 600, 4), prepared(t, 800, 600, 5))
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	st := d.Client.Status()
	if st.PhotosPausedUntil.Before(d.DB.Now().Add(time.Second)) || st.PhotoErr == nil || st.PhotosWaiting != 1 {
		t.Fatalf("at the limit: paused until %v, err %v, waiting %d", st.PhotosPausedUntil, st.PhotoErr, st.PhotosWaiting)
	}
	t.Logf("paused until %v: %s", st.PhotosPausedUntil, st.Message("zh")+st.PhotoErr.Error())
	patches := counter.patches.Load()
	d.Restart(t) // the pause is kept
	v2 := visit(t, d, w.Group(w.G1)[1], "限额之后的走访")
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if n := counter.patches.Load(); n != patches {
		t.Fatalf("uploads tried during the pause: %d PATCHes", n-patches)
	}
	if _, err := f.srv.DB.Get(domain.KindVisit, v2.ID); err != nil {
		t.Fatal("the visit did not reach the server during the photo pause")
	}
	if st := d.Client.Status(); st.PhotosPausedUntil.IsZero() || st.PhotoErr == nil {
		t.Fatalf("after a restart the pause is not shown: %+v", st)
	}
}

// TestPhotoStatusCountsBytes: while a photo goes up, the status's bytes
// left are exactly the photo's bytes less those the transport has taken.
func TestPhotoStatusCountsBytes(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{})
	p := prepared(t, 1600, 1200, 6)
	counter := &bodyCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	d := f.device(t, "phone", w.Cadre1, &http.Client{Transport: counter})
	visitWithPhoto(t, d, w.Group(w.G1)[0], p)
	var bad, checks int
	counter.each = func(total int64) {
		st := d.Client.Status()
		checks++
		if want := int64(len(p.JPEG)) - total; st.PhotoBytesLeft != want || st.PhotosWaiting != 1 {
			bad++
			if bad < 4 {
				t.Errorf("after %d bytes taken: status says %d bytes left of %d photos, want %d of 1", total, st.PhotoBytesLeft, st.PhotosWaiting, want)
			}
		}
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if checks < 2 {
		t.Fatalf("only %d reads of the body", checks)
	}
	if st := d.Client.Status(); st.PhotoBytesLeft != 0 || st.PhotosWaiting != 0 {
		t.Fatalf("after: %+v", st)
	}
}

// TestPhotoScope: a device of another group cannot fetch a photo, even by
// its hash (the server does not say it exists), nor its thumbnail; the
// group's leader can.
func TestPhotoScope(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{})
	d := f.device(t, "phone", w.Cadre1, nil)
	p := prepared(t, 800, 600, 10)
	visitWithPhoto(t, d, w.Group(w.G1)[0], p)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.held(p.Hash); !ok {
		t.Fatal("the photo is not on the server")
	}
	other := f.device(t, "other", w.Cadre3, nil) // 石头村's cadre
	b, err := other.Client.FetchPhoto(context.Background(), p.Hash)
	if domain.ErrorCode(err) != domain.ENOTFOUND || b != nil {
		t.Fatalf("another group's device fetched the photo: %d bytes, %v", len(b), err)
	}
	t.Logf("refused: %v", err)
	if th, _ := other.DB.Thumb(p.Hash); th != nil {
		t.Fatal("another group's device holds the thumbnail")
	}
	leader := f.device(t, "tablet", w.Leader, nil)
	if b, err := leader.Client.FetchPhoto(context.Background(), p.Hash); err != nil || !bytes.Equal(b, p.JPEG) {
		t.Fatalf("the leader cannot fetch the photo: %v", err)
	}
}

// getCounter counts the GETs of photos' thumbnails.
type getCounter struct {
	next   http.RoundTripper
	thumbs atomic.Int64
}

func (g *getCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("thumb") == "1" {
		g.thumbs.Add(1)
	}
	return g.next.RoundTrip(r)
}

// TestThumbNotYetUploaded: the leader's tablet learns of a photo before its
// bytes are on the server; it asks for the thumbnail once, not at every
// sync (each ask is a round trip on a slow link), and the photo's bytes
// still come on demand once uploaded.
func TestThumbNotYetUploaded(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{PhotosPerDay: 1})
	d := f.device(t, "phone", w.Cadre1, nil)
	visitWithPhoto(t, d, w.Group(w.G1)[0], prepared(t, 800, 600, 11))
	if err := d.Sync(); err != nil { // the first photo goes up
		t.Fatal(err)
	}
	late := prepared(t, 800, 600, 12)
	visitWithPhoto(t, d, w.Group(w.G1)[1], late)
	if err := d.Sync(); err != nil { // its record goes; its bytes wait (daily limit)
		t.Fatal(err)
	}
	g := &getCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	leader := f.device(t, "tablet", w.Leader, &http.Client{Transport: g})
	asked := g.thumbs.Load()
	if asked != 2 {
		t.Fatalf("%d thumbnails asked for, want 2", asked)
	}
	for range 2 {
		if err := leader.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.thumbs.Load(); n != asked {
		t.Fatalf("the missing thumbnail was asked for again at each sync: %d asks", n)
	}
	if st := leader.Client.Status(); st.PhotoErr != nil {
		t.Fatalf("a thumbnail not uploaded yet is not an error: %v", st.PhotoErr)
	}
	if _, err := leader.Client.FetchPhoto(context.Background(), late.Hash); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("FetchPhoto of a photo not uploaded: %v", err)
	}
}

// cutGets cuts the body of the first full-JPEG GET after n bytes and
// records the Range of each GET.
type cutGets struct {
	next   http.RoundTripper
	n      int64
	mu     sync.Mutex
	ranges []string
	cut    bool
}

func (c *cutGets) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || r.URL.Query().Get("thumb") != "" || !strings.HasPrefix(r.URL.Path, protocol.PathPhotos) {
		return resp, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ranges = append(c.ranges, r.Header.Get("Range"))
	if !c.cut {
		c.cut = true
		resp.Body = &cutBody{ReadCloser: resp.Body, left: c.n}
	}
	return resp, nil
}

type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	p = p[:min(int64(len(p)), b.left)]
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// TestFetchPhotoResumes: a download cut short resumes with Range from the
// bytes that came, and the photo is checked against its hash and stored.
func TestFetchPhotoResumes(t *testing.T) {
	f, w := startPhotoServer(t, server.Options{})
	d := f.device(t, "phone", w.Cadre1, nil)
	p := prepared(t, 800, 600, 13)
	visitWithPhoto(t, d, w.Group(w.G1)[0], p)
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	cut := &cutGets{next: http.DefaultTransport.(*http.Transport).Clone(), n: 50_000}
	leader := f.device(t, "tablet", w.Leader, &http.Client{Transport: cut})
	b, err := leader.Client.FetchPhoto(context.Background(), p.Hash)
	if err != nil || !bytes.Equal(b, p.JPEG) {
		t.Fatalf("FetchPhoto: %d bytes, %v", len(b), err)
	}
	cut.mu.Lock()
	defer cut.mu.Unlock()
	if len(cut.ranges) != 2 || cut.ranges[0] != "" || cut.ranges[1] != "bytes=50000-" {
		t.Fatalf("GETs with Range %q; want one whole, then bytes=50000-", cut.ranges)
	}
	if stored, _ := leader.DB.Blob(p.Hash); !bytes.Equal(stored, p.JPEG) {
		t.Fatal("the fetched photo is not stored")
	}
}
