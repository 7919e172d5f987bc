package client_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/photo"
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
