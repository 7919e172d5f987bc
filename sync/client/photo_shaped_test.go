package client_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/sync/client"
	"bangfu/sync/server"
)

// TestPhotosOverACutLink: over a 256 kbit/s link with a 600 ms round trip
// that cuts every connection 20 s after it opened, a visit with three
// photos (one prepared from a 5 MB 12 MP original) syncs in the background:
// the visit reaches the server before any photo is whole, a visit saved
// while the photos go up reaches it before they finish (records never wait
// behind a photo), every photo arrives bit-identical, and under 10% of the
// photo bytes were sent twice (counted at the transport).
func TestPhotosOverACutLink(t *testing.T) {
	if testing.Short() {
		t.Skip("about 40 s over a slow link")
	}
	f, w := startPhotoServer(t, server.Options{})
	d := f.device(t, "phone", w.Cadre1, nil) // enrolled and given the roster on a good link
	hh := w.Group(w.G1)
	photos := []*photo.Photo{prepared(t, 4000, 3000, 7), prepared(t, 1600, 1200, 8), prepared(t, 1600, 1200, 9)}
	total := 0
	for _, p := range photos {
		total += len(p.JPEG)
	}

	l := mobile(20 * time.Second)
	counter := &bodyCounter{}
	hc := l.client(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
	c, err := client.New(d.DB, clientOpts(hc))
	if err != nil {
		t.Fatal(err)
	}

	first := visitWithPhotos(t, d, hh[0], photos...)
	var (
		mu                 sync.Mutex
		second             *domain.Visit
		secondDone         = make(chan struct{})
		firstThere, wasOut []string // photos completed with the visits on the server / not
		done               = make(chan struct{}, len(photos))
	)
	f.onAppend = func(hash string, got int64) {
		// Once the first photo is half up, the cadre saves another visit.
		mu.Lock()
		defer mu.Unlock()
		if second == nil && hash == photos[0].Hash && got > int64(len(photos[0].JPEG))/2 {
			second = &domain.Visit{Household: hh[1].ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Minute), Type: domain.VisitRoutine, Notes: "路上又走访了一户"}
			go func(v *domain.Visit) {
				if err := d.DB.Put(d.Cadre, v); err != nil {
					t.Error(err)
				}
				c.Trigger() // as the app does after a save
				close(secondDone)
			}(second)
		}
	}
	f.onDone = func(hash string) {
		_, err1 := f.srv.DB.Get(domain.KindVisit, first.ID)
		mu.Lock()
		v2 := second
		mu.Unlock()
		ok := err1 == nil
		if hash != photos[0].Hash && v2 != nil {
			// Saved while the first photo was going up: the later photos
			// finish after it reached the server.
			<-secondDone
			_, err2 := f.srv.DB.Get(domain.KindVisit, v2.ID)
			ok = ok && err2 == nil
		}
		mu.Lock()
		if ok {
			firstThere = append(firstThere, hash)
		} else {
			wasOut = append(wasOut, hash)
		}
		mu.Unlock()
		done <- struct{}{}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	go c.Run(ctx)
	for range photos {
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			t.Fatalf("photos not up after 90 s: %+v", c.Status())
		}
	}
	took := time.Since(start)
	cancel()

	mu.Lock()
	defer mu.Unlock()
	if len(wasOut) > 0 || second == nil {
		t.Errorf("photos completed before the visits were on the server: %d (second visit saved: %v)", len(wasOut), second != nil)
	}
	for i, p := range photos {
		got, complete := f.held(p.Hash)
		if !complete || photo.Hash(got) != p.Hash || !bytes.Equal(got, p.JPEG) {
			t.Errorf("photo %d is not bit-identical on the server", i)
		}
	}
	sent := counter.patched.Load()
	resent := sent - int64(total)
	t.Logf("%d photos, %d bytes in %v: %d PATCH body bytes sent (%d twice, %.1f%%), %d cuts, %d dials",
		len(photos), total, took.Round(time.Millisecond), sent, resent, 100*float64(resent)/float64(total), l.cuts.Load(), l.dials.Load())
	if l.cuts.Load() == 0 {
		t.Error("the link was never cut while the photos went up")
	}
	if resent < 0 || resent*10 >= int64(total) {
		t.Errorf("%d of %d photo bytes sent twice", resent, total)
	}
}
