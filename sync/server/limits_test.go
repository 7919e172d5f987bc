package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"bangfu/sync/client"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
	"bangfu/sync/synctest"
)

// bombCeiling is what 32 gzip bombs sent to /v1/enroll at once may add to
// the heap: the enrolment budget (server.EnrolBodyBudget, 4 MiB) and the
// connections' buffers, with room for the test's own client.
const bombCeiling = 24 << 20

// bomb is a gzip body of 128 MiB of JSON-ish text: about 160 KiB as sent.
var bomb = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write([]byte(`{"v":1,"code":"`))
	zeros := make([]byte, 1<<20)
	for i := range zeros {
		zeros[i] = 'A'
	}
	for range 128 {
		zw.Write(zeros)
	}
	zw.Write([]byte(`"}`))
	zw.Close()
	return buf.Bytes()
})

// heapPeak samples the heap in use until stop is called and returns the
// highest reading.
func heapPeak() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var m runtime.MemStats
		var top uint64
		for {
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-done:
				peak <- top
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(done); return <-peak }
}

func heapNow() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestGzipBombs: 32 gzip bombs (128 MiB of JSON each, ~160 KiB as sent)
// posted at once to /v1/enroll, which needs no login, are refused — 400
// "size" as soon as decompression passes protocol.MaxEnrollBytes, or 503
// "busy" beyond the enrolment budget — and the heap stays under
// bombCeiling. Half declare their length, half are chunked, so that the
// decompression limit, not the Content-Length check, is what stops them.
// (Issue 7, finding 7: today eight bombs take the heap to ~477 MiB.)
func TestGzipBombs(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	body := bomb()
	base := heapNow()
	stop := heapPeak()
	var wg sync.WaitGroup
	results := make([]string, 32)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r io.Reader = bytes.NewReader(body)
			if i%2 == 1 {
				r = io.MultiReader(r) // no length: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+protocol.PathEnroll, r)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			defer resp.Body.Close()
			var bad protocol.ErrorBody
			json.NewDecoder(resp.Body).Decode(&bad)
			results[i] = fmt.Sprintf("%d %s", resp.StatusCode, bad.Error.Field)
		}()
	}
	wg.Wait()
	peak := stop()
	for i, r := range results {
		if r != "400 size" && r != "503 busy" {
			t.Errorf("bomb %d: %s", i, r)
		}
	}
	grew := int64(peak) - int64(base)
	t.Logf("heap in use: %.1f MiB before, peak %.1f MiB (+%.1f MiB)", mib(base), mib(peak), float64(grew)/(1<<20))
	if grew > bombCeiling {
		t.Errorf("32 gzip bombs grew the heap by %.1f MiB, over the ceiling of %d MiB", float64(grew)/(1<<20), bombCeiling>>20)
	}
	// The server still enrols.
	e.enroll(t, e.w.Cadre1.ID)
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestStalledBodies: 500 requests that declare a body and never send it —
// to /v1/enroll without login and to /v1/sync with a device's token — are
// closed once they have sent nothing for BodyStall, while another device
// syncs meanwhile. (Issue 7, finding 7: today they stay open.)
func TestStalledBodies(t *testing.T) {
	const stall = time.Second
	e := newEnv(t, server.Options{BodyStall: stall, BodyTimeout: 10 * stall}, nil)
	_, token := e.enroll(t, e.w.Cadre2.ID)
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	conns := make([]net.Conn, 500)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		path, auth := protocol.PathEnroll, ""
		if i%2 == 1 {
			path, auth = protocol.PathSync, "Authorization: Bearer "+token+"\r\n"
		}
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: 1000\r\n\r\n{\"v\":1,", path, auth)
		conns[i] = c
	}
	started := time.Now()

	// Another device syncs meanwhile.
	d := synctest.NewDevice(t, t.TempDir(), "phone", e.srv, e.w.Cadre1.ID, client.Options{}, nil)
	if err := d.Sync(); err != nil {
		t.Fatalf("a device's sync while 500 bodies stall: %v", err)
	}

	// Each stalled request is answered and closed, none later than the
	// stall and a generous margin for a loaded machine.
	limit := started.Add(stall + 15*time.Second)
	open := 0
	for i, c := range conns {
		c.SetReadDeadline(limit)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("stalled request %d answered %d", i, resp.StatusCode)
			}
			_, err = br.ReadByte()
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			open++
		}
	}
	if open > 0 {
		t.Errorf("%d of 500 stalled requests still open %v after they stalled (stall timeout %v)", open, time.Since(started).Round(time.Second), stall)
	}
	// Still serving.
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestGzipBombsWithToken: 32 gzip bombs sent at once to /v1/sync by an
// enrolled device are bounded by the body budget: each is refused (400
// "size" or 503 "busy") and the heap grows by no more than about three times
// the budget, the ceiling server.DefaultBodyBudget documents.
func TestGzipBombsWithToken(t *testing.T) {
	const budget = 8 << 20
	e := newEnv(t, server.Options{BodyBudget: budget}, nil)
	_, token := e.enroll(t, e.w.Cadre1.ID)
	body := bomb()
	base := heapNow()
	stop := heapPeak()
	var wg sync.WaitGroup
	results := make([]string, 32)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+protocol.PathSync, io.MultiReader(bytes.NewReader(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", "gzip")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			defer resp.Body.Close()
			var bad protocol.ErrorBody
			json.NewDecoder(resp.Body).Decode(&bad)
			results[i] = fmt.Sprintf("%d %s", resp.StatusCode, bad.Error.Field)
		}()
	}
	wg.Wait()
	peak := stop()
	for i, r := range results {
		if r != "400 size" && r != "503 busy" {
			t.Errorf("bomb %d: %s", i, r)
		}
	}
	grew := int64(peak) - int64(base)
	t.Logf("heap in use: %.1f MiB before, peak %.1f MiB (+%.1f MiB) with a budget of %d MiB", mib(base), mib(peak), float64(grew)/(1<<20), budget>>20)
	if grew > 3*budget+bombCeiling {
		t.Errorf("32 gzip bombs with a token grew the heap by %.1f MiB, over 3 × the %d MiB budget (+%d MiB)", float64(grew)/(1<<20), budget>>20, bombCeiling>>20)
	}
}
