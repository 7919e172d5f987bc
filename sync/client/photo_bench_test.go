package client_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"bangfu/domain"
	"bangfu/sync/client"
	"bangfu/sync/server"
)

// BenchmarkPhotoUpload sends one photo prepared from a 12 MP (4000×3000,
// about 5 MB) original over a 256 kbit/s link with a 600 ms round trip
// (every byte delayed, the connection kept alive from the sync of the
// photo's visit) and reports: the bytes on the wire for the photo (its
// record's push, POST have, the PATCH with its headers and answer) beside
// the JPEG's bytes, the time it took, and how far the status's bytes left
// strayed from the photo's bytes less those the transport had taken.
//
//	go test ./sync/client -run X -bench PhotoUpload -benchtime 3x
func BenchmarkPhotoUpload(b *testing.B) {
	p := prepared(b, 4000, 3000, 7)
	var wireUp, wireDown, secs, stray, publishes float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f, w := startPhotoServer(b, server.Options{})
		l := mobile(0)
		counter := &bodyCounter{}
		hc := l.client(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
		d := f.device(b, "phone", w.Cadre1, nil)
		c, err := client.New(d.DB, clientOpts(hc))
		if err != nil {
			b.Fatal(err)
		}
		// The visit first, on the link: the connection is open and warm.
		v := &domain.Visit{Household: w.Group(w.G1)[0].ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "先同步走访记录"}
		if err := d.DB.Put(d.Cadre, v); err != nil {
			b.Fatal(err)
		}
		if err := c.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		counter.each = func(total int64) {
			st := c.Status()
			if d := float64(st.PhotoBytesLeft - (int64(len(p.JPEG)) - total)); d > stray || -d > stray {
				stray = max(d, -d)
			}
		}
		ch, stop := c.Subscribe()
		var n atomic.Int64
		quit := make(chan struct{})
		go func() {
			for {
				select {
				case <-ch:
					n.Add(1)
				case <-quit:
					return
				}
			}
		}()
		up0, down0 := l.up.Load(), l.down.Load()
		photoOnVisit(b, d, v, p)
		b.StartTimer()
		start := time.Now()
		if err := c.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		secs += time.Since(start).Seconds()
		b.StopTimer()
		stop()
		close(quit)
		wireUp += float64(l.up.Load() - up0)
		wireDown += float64(l.down.Load() - down0)
		publishes += float64(n.Load())
		if got, ok := f.held(p.Hash); !ok || len(got) != len(p.JPEG) {
			b.Fatal("the photo did not arrive")
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(len(p.JPEG)), "JPEG-B")
	b.ReportMetric(wireUp/n, "wire-up-B/photo")
	b.ReportMetric(wireDown/n, "wire-down-B/photo")
	b.ReportMetric(wireUp/n-float64(len(p.JPEG)), "overhead-B/photo")
	b.ReportMetric(secs/n, "s/photo")
	b.ReportMetric(stray, "status-stray-B")
	b.ReportMetric(publishes/n, "statuses/photo")
}
