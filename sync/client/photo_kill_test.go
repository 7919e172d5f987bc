package client_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/store"
	"bangfu/sync/client"
	"bangfu/sync/server"
)

const (
	envPhotoDB    = "BANGFU_PHOTO_CHILD_DB"
	envPhotoWhat  = "BANGFU_PHOTO_CHILD_WHAT" // "draft" or "upload"
	envPhotoSeed  = "BANGFU_PHOTO_CHILD_SEED"
	draftKeyChild = "visit/draft-1"
)

// TestHelperPhotoChild is not a test: run as a child process by the kill
// tests, it either saves a draft photo and waits to be killed ("draft"),
// or syncs the device over a slow link, printing the photo bytes its
// transport has taken as they go, until it is killed ("upload").
func TestHelperPhotoChild(t *testing.T) {
	path := os.Getenv(envPhotoDB)
	if path == "" {
		t.Skip("run by the photo kill tests")
	}
	db, err := store.Open(path, &store.Options{Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	switch os.Getenv(envPhotoWhat) {
	case "draft":
		seed, _ := strconv.ParseInt(os.Getenv(envPhotoSeed), 10, 64)
		p := prepared(t, 800, 600, seed)
		if err := db.SaveDraftBlob(draftKeyChild, store.Blob{Hash: p.Hash, Data: p.JPEG, Thumb: p.Thumb}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		os.Stdout.WriteString("saved\n")
		select {} // the visit is still being typed when the app is killed
	case "upload":
		counter := &bodyCounter{}
		counter.each = func(total int64) {
			// One write of less than PIPE_BUF bytes: read whole or not at all.
			os.Stdout.WriteString("sent " + strconv.FormatInt(total, 10) + "\n")
		}
		hc := mobile(0).client(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
		c, err := client.New(db, client.Options{HTTP: hc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(5)
		}
		err = c.Sync(context.Background())
		fmt.Fprintln(os.Stderr, "the upload ended before the kill:", err)
		os.Exit(6)
	}
}

// child runs TestHelperPhotoChild on the store at path and returns it with
// its stdout's lines.
func child(t *testing.T, path, what string, env ...string) (*exec.Cmd, <-chan string, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPhotoChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), envPhotoDB+"="+path, envPhotoWhat+"="+what), env...)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		r := bufio.NewScanner(out)
		for r.Scan() {
			lines <- r.Text()
		}
	}()
	return cmd, lines, stderr
}

// TestDraftPhotoSurvivesKill: the app saves a photo picked for a visit
// still being typed, and is killed (SIGKILL) before the visit is saved.
// Opened again, the photo is there; saving the visit adopts it; nothing is
// left orphaned, and it syncs.
func TestDraftPhotoSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process")
	}
	f, w := startPhotoServer(t, server.Options{})
	d := f.device(t, "phone", w.Cadre1, nil)
	if err := d.DB.Close(); err != nil {
		t.Fatal(err)
	}
	const seed = 21
	cmd, lines, stderr := child(t, d.Path, "draft", envPhotoSeed+"="+strconv.Itoa(seed))
	select {
	case l := <-lines:
		if l != "saved" {
			t.Fatalf("child said %q; stderr: %s", l, stderr)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the child did not save its draft photo; stderr: %s", stderr)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()

	d.Restart(t)
	p := prepared(t, 800, 600, seed)
	if b, err := d.DB.Blob(p.Hash); err != nil || !bytes.Equal(b, p.JPEG) {
		t.Fatalf("the draft photo is not there after the kill: %d bytes, %v", len(b), err)
	}
	if send, _ := d.DB.BlobsToSend(); len(send) != 0 {
		t.Fatalf("a draft's photo would be sent before its visit: %v", send)
	}
	h := w.Group(w.G1)[0]
	v := &domain.Visit{Household: h.ID, Cadre: d.Cadre, At: d.DB.Now().Add(-time.Hour), Type: domain.VisitRoutine, Notes: "杀掉之后重新打开，照片还在"}
	v.ID = uuid.New()
	ph := &domain.Photo{Household: h.ID, OfKind: domain.KindVisit, Of: v.ID, Cadre: d.Cadre, Hash: p.Hash, Size: len(p.JPEG), Width: p.Width, Height: p.Height}
	if err := d.DB.PutDraft(d.Cadre, draftKeyChild, v, ph); err != nil {
		t.Fatal(err)
	}
	if n, err := d.DB.SweepBlobs(); err != nil || n != 0 {
		t.Fatalf("SweepBlobs removed %d (%v): something was orphaned", n, err)
	}
	if b, _ := d.DB.Blob(p.Hash); !bytes.Equal(b, p.JPEG) {
		t.Fatal("the adopted photo is gone after the sweep")
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, ok := f.held(p.Hash); !ok || !bytes.Equal(got, p.JPEG) {
		t.Fatal("the adopted photo did not reach the server")
	}
}

// TestUploadResumesAfterKill: a device uploading a photo over a slow link
// is killed (SIGKILL) in the middle; started again, it resumes from the
// server's offset, and the server's JPEG is bit-identical. The bytes sent
// twice are those the killed process had handed to its socket and the
// server never read.
func TestUploadResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process")
	}
	f, w := startPhotoServer(t, server.Options{})
	d := f.device(t, "phone", w.Cadre1, nil)
	p := prepared(t, 1600, 1200, 22)
	visitWithPhoto(t, d, w.Group(w.G1)[0], p)
	if err := d.DB.Close(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	third := make(chan struct{})
	f.mu.Lock()
	f.onAppend = func(hash string, got int64) {
		if got > int64(len(p.JPEG))/3 {
			once.Do(func() { close(third) })
		}
	}
	f.mu.Unlock()

	cmd, lines, stderr := child(t, d.Path, "upload")
	var childSent int64
	read := func() {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return
				}
				if n, err := strconv.ParseInt(strings.TrimPrefix(l, "sent "), 10, 64); err == nil {
					childSent = n
				}
			default:
				return
			}
		}
	}
	select {
	case <-third:
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("a third of the photo did not reach the server; stderr: %s", stderr)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	time.Sleep(100 * time.Millisecond) // the last lines in the pipe
	read()
	for range lines { // drained: the pipe is closed
	}
	f.mu.Lock()
	f.onAppend = nil
	f.mu.Unlock()

	// The server notices the cut and keeps what arrived.
	var offset int64
	for deadline := time.Now().Add(10 * time.Second); ; {
		u, err := f.disk.Stat(p.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if u.Offset == f.patchedBytes(p.Hash) && u.Offset > 0 {
			offset = u.Offset
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server holds %d bytes of the upload after the kill, read %d", u.Offset, f.patchedBytes(p.Hash))
		}
		time.Sleep(20 * time.Millisecond)
	}

	counter := &bodyCounter{next: http.DefaultTransport.(*http.Transport).Clone()}
	d2 := reopen(t, d.Path, &http.Client{Transport: counter})
	if err := d2.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, ok := f.held(p.Hash)
	if !ok || !bytes.Equal(got, p.JPEG) {
		t.Fatalf("the server's JPEG is not bit-identical (%d of %d bytes)", len(got), len(p.JPEG))
	}
	if n := counter.patched.Load(); n != int64(len(p.JPEG))-offset {
		t.Errorf("after the kill, %d bytes sent; the server lacked %d", n, int64(len(p.JPEG))-offset)
	}
	resent := childSent + counter.patched.Load() - int64(len(p.JPEG))
	t.Logf("killed after handing over %d of %d bytes; the server held %d; resumed with %d; sent twice %d (%.1f%%)",
		childSent, len(p.JPEG), offset, counter.patched.Load(), resent, 100*float64(resent)/float64(len(p.JPEG)))
	if childSent < offset || resent < 0 {
		t.Errorf("the child reported %d bytes handed over, but the server held %d", childSent, offset)
	}
}

// reopen opens the device's store at path with a new client, as a new
// process does.
func reopen(t *testing.T, path string, hc *http.Client) *client.Client {
	t.Helper()
	db, err := store.Open(path, &store.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := client.New(db, clientOpts(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
