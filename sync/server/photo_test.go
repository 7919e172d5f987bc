package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/photo"
	"bangfu/photo/phototest"
	"bangfu/sync/protocol"
	"bangfu/sync/server"
)

// photoEnv is a server keeping photos on disk, with Cadre1's phone (group
// 一社 of 王坪村) and Cadre3's phone (石头村, another village) enrolled.
type photoEnv struct {
	*env
	disk           *server.Disk
	dev1, dev3     uuid.UUID
	tok1, tok3     string
	through        uint64
	household      *domain.Household
	visit          *domain.Visit
	photosAttached int
}

func newPhotoEnv(t *testing.T, opts server.Options) *photoEnv {
	t.Helper()
	disk, err := server.OpenDisk(filepath.Join(t.TempDir(), "photos"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Photos = disk
	p := &photoEnv{env: newEnv(t, opts, nil), disk: disk}
	p.dev1, p.tok1 = p.enroll(t, p.w.Cadre1.ID)
	p.dev3, p.tok3 = p.enroll(t, p.w.Cadre3.ID)
	p.household = p.w.Group(p.w.G1)[0]
	p.visit = newVisit(p.household, p.w.Cadre1.ID, p.now())
	p.push(t, change(t, p.dev1, p.w.Cadre1.ID, p.visit, p.now()))
	return p
}

// push syncs changes from Cadre1's phone and fails on any refusal.
func (p *photoEnv) push(t *testing.T, changes ...domain.Change) {
	t.Helper()
	p.through += uint64(len(changes))
	status, resp, bad := p.sync(t, p.tok1, p.through, changes...)
	if status != http.StatusOK || len(resp.Rejected) > 0 {
		t.Fatalf("push: %d %+v %+v", status, bad, resp.Rejected)
	}
}

// attach pushes a photo record naming jpg on the visit, and returns it.
func (p *photoEnv) attach(t *testing.T, jpg []byte) *domain.Photo {
	t.Helper()
	ph := &domain.Photo{Household: p.household.ID, OfKind: domain.KindVisit, Of: p.visit.ID, Cadre: p.w.Cadre1.ID,
		Hash: photo.Hash(jpg), Size: len(jpg), Width: 1200, Height: 900, Caption: "漏水的水管"}
	p.push(t, change(t, p.dev1, p.w.Cadre1.ID, ph, p.now()))
	return ph
}

// testJPEG returns a photo-like JPEG the server accepts.
func testJPEG(t *testing.T, seed int64) []byte {
	t.Helper()
	b := phototest.JPEG(t, 1200, 900, seed)
	if _, _, err := photo.Check(b, domain.MaxPhotoBytes); err != nil {
		t.Fatalf("test JPEG refused: %v", err)
	}
	return b
}

// patch sends body as the bytes of hash from offset.
func (p *photoEnv) patch(t *testing.T, token, hash string, offset, length int64, body io.Reader) (protocol.Upload, error) {
	t.Helper()
	req, err := protocol.NewPatch(context.Background(), p.srv.URL, token, hash, offset, length, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return protocol.Upload{Length: -1}, err
	}
	if resp.Header.Get(protocol.HeaderTusResumable) != protocol.TusVersion {
		t.Errorf("PATCH answer %d without Tus-Resumable", resp.StatusCode)
	}
	return protocol.ReadUpload(resp)
}

// head asks where the upload of hash stands.
func (p *photoEnv) head(t *testing.T, token, hash string) (protocol.Upload, error) {
	t.Helper()
	req, err := protocol.NewPhotoRequest(context.Background(), http.MethodHead, p.srv.URL, token, hash, false)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.ReadUpload(resp)
}

// get fetches the photo (or its thumbnail) with extra headers; it returns
// the status, the body and the answer's headers.
func (p *photoEnv) get(t *testing.T, token, hash string, thumb bool, hdr ...string) (int, []byte, http.Header) {
	t.Helper()
	req, err := protocol.NewPhotoRequest(context.Background(), http.MethodGet, p.srv.URL, token, hash, thumb)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Del("Accept-Encoding")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// have asks which hashes the server holds.
func (p *photoEnv) have(t *testing.T, token string, hashes ...string) protocol.HaveResponse {
	t.Helper()
	req, err := protocol.NewRequest(context.Background(), http.MethodPost, p.srv.URL+protocol.PathPhotosHave, token,
		protocol.HaveRequest{V: protocol.Version, Hashes: hashes})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out protocol.HaveResponse
	if err := protocol.ReadResponse(resp, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// upload sends jpg as a client would: from HEAD's offset, resuming from the
// offset a 409 or a HEAD gives after a failure, in pieces of at most piece
// bytes, each read from a reader that fails after cut bytes (0: never). It
// returns the bytes handed to the transport.
func (p *photoEnv) upload(t *testing.T, token string, jpg []byte, piece, cut int) int {
	t.Helper()
	hash, length := photo.Hash(jpg), int64(len(jpg))
	u, err := p.head(t, token, hash)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for try := 0; try < 200; try++ {
		if u.Complete {
			return sent
		}
		end := min(u.Offset+int64(piece), length)
		r := &failReader{data: jpg[u.Offset:end], cut: cut}
		got, err := p.patch(t, token, hash, u.Offset, length, r)
		sent += r.read
		switch {
		case err == nil:
			u = got
		case errors.Is(err, protocol.ErrOffset):
			u = got
		case protocol.Transient(err) || r.failed:
			if u, err = p.head(t, token, hash); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("upload: %v", err)
		}
	}
	t.Fatalf("upload did not finish: %+v", u)
	return sent
}

// failReader reads data, failing after cut bytes when cut > 0.
type failReader struct {
	data   []byte
	cut    int
	read   int
	failed bool
}

func (f *failReader) Read(b []byte) (int, error) {
	if f.cut > 0 && f.read >= f.cut {
		f.failed = true
		return 0, errors.New("connection cut (test)")
	}
	if f.read >= len(f.data) {
		return 0, io.EOF
	}
	n := len(b)
	if f.cut > 0 {
		n = min(n, f.cut-f.read)
	}
	n = copy(b[:n], f.data[f.read:])
	f.read += n
	return n, nil
}

// checkHeld fails unless the server holds jpg whole, bit for bit, and a
// thumbnail of it.
func (p *photoEnv) checkHeld(t *testing.T, token string, jpg []byte) {
	t.Helper()
	hash := photo.Hash(jpg)
	status, got, h := p.get(t, token, hash, false)
	if status != http.StatusOK || !bytes.Equal(got, jpg) {
		t.Fatalf("GET: %d, %d bytes, identical %v", status, len(got), bytes.Equal(got, jpg))
	}
	if h.Get("Content-Type") != "image/jpeg" || h.Get("ETag") != `"`+hash+`"` {
		t.Errorf("GET headers: %v", h)
	}
	u, err := p.head(t, token, hash)
	if err != nil || !u.Complete || u.Offset != int64(len(jpg)) || u.Length != int64(len(jpg)) {
		t.Fatalf("HEAD after upload: %+v %v", u, err)
	}
}

func TestPhotoUploadResumesAfterCut(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 1)
	ph := p.attach(t, jpg)
	length := len(jpg)

	// Nothing began: offset 0, no length.
	u, err := p.head(t, p.tok1, ph.Hash)
	if err != nil || u.Offset != 0 || u.Length != -1 || u.Complete {
		t.Fatalf("HEAD before: %+v %v", u, err)
	}
	// A PATCH whose connection is cut after cut bytes of its body, sent
	// over a raw connection so that exactly those bytes reach the server.
	cut := length / 3
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\n"+
		"Upload-Offset: 0\r\nUpload-Length: %d\r\nTus-Resumable: 1.0.0\r\nContent-Length: %d\r\n\r\n",
		protocol.PathPhotos+ph.Hash, p.tok1, protocol.ContentTypeOffset, length, length)
	conn.Write(jpg[:cut])
	conn.Close()
	// The server keeps what arrived: wait until its handler has written it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		u, err = p.head(t, p.tok1, ph.Hash)
		if err != nil {
			t.Fatal(err)
		}
		if u.Offset == int64(cut) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if u.Offset != int64(cut) || u.Length != int64(length) || u.Complete {
		t.Fatalf("HEAD after the cut: %+v, want offset %d of %d", u, cut, length)
	}
	// In the have answer too.
	if h := p.have(t, p.tok1, ph.Hash); len(h.Have) != 0 || h.Offsets[ph.Hash] != int64(cut) {
		t.Fatalf("have after the cut: %+v", h)
	}
	// Resume from there: only the rest travels.
	sent := p.upload(t, p.tok1, jpg, length, 0)
	if sent != length-cut {
		t.Errorf("resumed upload sent %d bytes, want the %d left", sent, length-cut)
	}
	p.checkHeld(t, p.tok1, jpg)
	if h := p.have(t, p.tok1, ph.Hash); len(h.Have) != 1 || len(h.Offsets) != 0 {
		t.Fatalf("have after upload: %+v", h)
	}
	// The partial upload is gone from partial/.
	if left, _ := os.ReadDir(filepath.Join(p.disk.Dir(), "partial")); len(left) != 0 {
		t.Errorf("partial/ holds %d files after completion", len(left))
	}
}

func TestPhotoUploadInCutPieces(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 2)
	p.attach(t, jpg)
	// Pieces of 64 KiB, each connection failing after 40 KiB: the client
	// resumes from what the server holds until it is whole.
	sent := p.upload(t, p.tok1, jpg, 64<<10, 40<<10)
	if sent < len(jpg) {
		t.Fatalf("sent %d of %d bytes", sent, len(jpg))
	}
	p.checkHeld(t, p.tok1, jpg)
	t.Logf("%d bytes sent for a %d-byte photo through connections cut every 40 KiB", sent, len(jpg))
}

func TestPhotoDedupeAndScope(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 3)
	ph := p.attach(t, jpg)
	p.upload(t, p.tok1, jpg, len(jpg), 0)
	// The team leader of 王坪村 reads the photo: have says held, so an
	// app that holds it never sends it; GET gives it.
	_, tokL := p.enroll(t, p.w.Leader.ID)
	if h := p.have(t, tokL, ph.Hash); len(h.Have) != 1 || h.Have[0] != ph.Hash {
		t.Fatalf("leader's have: %+v", h)
	}
	p.checkHeld(t, tokL, jpg)
	// Cadre3, of another village: 404 for everything, nothing in have.
	if status, body, _ := p.get(t, p.tok3, ph.Hash, false); status != http.StatusNotFound || bytes.Contains(body, jpg[:64]) {
		t.Errorf("GET by another village's cadre: %d", status)
	}
	if status, _, _ := p.get(t, p.tok3, ph.Hash, true); status != http.StatusNotFound {
		t.Errorf("GET thumb by another village's cadre: %d", status)
	}
	if _, err := p.head(t, p.tok3, ph.Hash); !errors.Is(err, protocol.ErrNoPhoto) {
		t.Errorf("HEAD by another village's cadre: %v", err)
	}
	if _, err := p.patch(t, p.tok3, ph.Hash, 0, int64(len(jpg)), bytes.NewReader(jpg)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("PATCH by another village's cadre: %v", err)
	}
	if h := p.have(t, p.tok3, ph.Hash); len(h.Have)+len(h.Offsets) != 0 {
		t.Errorf("have by another village's cadre: %+v", h)
	}
	// Without a token, or with a wrong one: 401.
	if status, _, _ := p.get(t, "", ph.Hash, false); status != http.StatusUnauthorized {
		t.Errorf("GET without a token: %d", status)
	}
	if status, _, _ := p.get(t, "bogus", ph.Hash, false); status != http.StatusUnauthorized {
		t.Errorf("GET with a wrong token: %d", status)
	}
	// A hash no record names: 404 even for its bytes' uploader.
	other := testJPEG(t, 4)
	if _, err := p.patch(t, p.tok1, photo.Hash(other), 0, int64(len(other)), bytes.NewReader(other)); !errors.Is(err, &domain.Error{Code: domain.ENOTFOUND, Field: "photo"}) {
		t.Errorf("PATCH of bytes no record names: %v", err)
	}
	if u, _ := p.disk.Stat(photo.Hash(other)); u.Length != -1 {
		t.Errorf("bytes no record names were kept: %+v", u)
	}
}

func TestPhotoThumbAndRange(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 5)
	ph := p.attach(t, jpg)
	p.upload(t, p.tok1, jpg, len(jpg), 0)
	status, th, h := p.get(t, p.tok1, ph.Hash, true)
	if status != http.StatusOK || h.Get("ETag") != `"`+ph.Hash+`-thumb"` {
		t.Fatalf("thumb: %d %v", status, h)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th))
	if err != nil || max(cfg.Width, cfg.Height) != protocol.ThumbSide {
		t.Fatalf("thumb is %dx%d: %v", cfg.Width, cfg.Height, err)
	}
	t.Logf("thumbnail: %d bytes for a %d-byte photo", len(th), len(jpg))
	status, part, h := p.get(t, p.tok1, ph.Hash, false, "Range", "bytes=1000-1999")
	if status != http.StatusPartialContent || !bytes.Equal(part, jpg[1000:2000]) {
		t.Fatalf("Range: %d, %d bytes", status, len(part))
	}
	if cr := h.Get("Content-Range"); cr != fmt.Sprintf("bytes 1000-1999/%d", len(jpg)) {
		t.Errorf("Content-Range %q", cr)
	}
	// The rest from where a cut download stopped.
	status, rest, _ := p.get(t, p.tok1, ph.Hash, false, "Range", "bytes=2000-")
	if status != http.StatusPartialContent || !bytes.Equal(rest, jpg[2000:]) {
		t.Fatalf("Range from 2000: %d", status)
	}
	// Held already: a device of the same scope that caches by ETag.
	if status, _, _ := p.get(t, p.tok1, ph.Hash, false, "If-None-Match", `"`+ph.Hash+`"`); status != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", status)
	}
}

func TestPhotoOffsetConflictAndLyingLength(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 6)
	ph := p.attach(t, jpg)
	n := int64(len(jpg))
	if u, err := p.patch(t, p.tok1, ph.Hash, 0, n, bytes.NewReader(jpg[:1000])); err != nil || u.Offset != 1000 || u.Complete {
		t.Fatalf("first piece: %+v %v", u, err)
	}
	// Sent again from 500 (a client that lost track): 409 with the offset.
	u, err := p.patch(t, p.tok1, ph.Hash, 500, n, bytes.NewReader(jpg[500:1500]))
	if !errors.Is(err, protocol.ErrOffset) || u.Offset != 1000 || u.Length != n {
		t.Fatalf("wrong offset: %+v %v", u, err)
	}
	// A length other than the one the upload began with: refused.
	if _, err := p.patch(t, p.tok1, ph.Hash, 1000, n+10, bytes.NewReader(jpg[1000:2000])); !errors.Is(err, &domain.Error{Code: domain.EINVALID, Field: "length"}) {
		t.Fatalf("changed length: %v", err)
	}
	// A body longer than the rest (chunked, so the server finds out only
	// by reading): refused, nothing of it kept.
	long := io.MultiReader(bytes.NewReader(jpg[1000:]), strings.NewReader("more"))
	if _, err := p.patch(t, p.tok1, ph.Hash, 1000, n, long); !errors.Is(err, &domain.Error{Code: domain.EINVALID, Field: "length"}) {
		t.Fatalf("body past the length: %v", err)
	}
	if u, _ := p.head(t, p.tok1, ph.Hash); u.Offset != 1000 {
		t.Fatalf("after the refused body: %+v", u)
	}
	// An offset beyond the length, or not a number.
	if _, err := p.patch(t, p.tok1, ph.Hash, 1000, n, strings.NewReader("")); err != nil {
		t.Fatalf("empty piece: %v", err)
	}
	req, _ := protocol.NewPatch(context.Background(), p.srv.URL, p.tok1, ph.Hash, 1000, n, bytes.NewReader(jpg[1000:]))
	req.Header.Set(protocol.HeaderUploadOffset, "-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.ReadUpload(resp); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("negative offset: %v", err)
	}
	// From 0 with another length: a new upload replaces the partial one
	// (a crashed device starting again), then the honest one from 0.
	if u, err := p.patch(t, p.tok1, ph.Hash, 0, n+10, bytes.NewReader(jpg[:10])); err != nil || u.Offset != 10 || u.Length != n+10 {
		t.Fatalf("new upload from 0 with another length: %+v %v", u, err)
	}
	if u, err := p.patch(t, p.tok1, ph.Hash, 0, n, bytes.NewReader(jpg[:1000])); err != nil || u.Offset != 1000 || u.Length != n {
		t.Fatalf("upload begun again: %+v %v", u, err)
	}
	// Then completed honestly; a PATCH after completion is told so.
	if u, err := p.patch(t, p.tok1, ph.Hash, 1000, n, bytes.NewReader(jpg[1000:])); err != nil || !u.Complete {
		t.Fatalf("rest: %+v %v", u, err)
	}
	if u, err := p.patch(t, p.tok1, ph.Hash, 0, n, bytes.NewReader(jpg)); !errors.Is(err, protocol.ErrOffset) || !u.Complete || u.Offset != n {
		t.Fatalf("PATCH of a held photo: %+v %v", u, err)
	}
	p.checkHeld(t, p.tok1, jpg)
}

func TestPhotoRacingUploads(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 7)
	ph := p.attach(t, jpg)
	n := int64(len(jpg))
	// The first upload sends 1000 bytes and then waits.
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		u, err := p.patch(t, p.tok1, ph.Hash, 0, n, pr)
		if err == nil && !u.Complete {
			err = fmt.Errorf("first upload not complete: %+v", u)
		}
		first <- err
	}()
	pw.Write(jpg[:1000])
	deadline := time.Now().Add(30 * time.Second)
	for u, _ := p.head(t, p.tok1, ph.Hash); u.Offset != 1000; u, _ = p.head(t, p.tok1, ph.Hash) {
		if time.Now().After(deadline) {
			t.Fatalf("the first upload's bytes never arrived: %+v", u)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A second upload of the same photo meanwhile, from another device
	// (the team leader's tablet), from where it stands: 409, the first
	// goes on.
	_, tokL := p.enroll(t, p.w.Leader.ID)
	if _, err := p.patch(t, tokL, ph.Hash, 1000, n, bytes.NewReader(jpg[1000:])); !errors.Is(err, protocol.ErrOffset) {
		t.Fatalf("racing upload: %v", err)
	}
	pw.Write(jpg[1000:])
	pw.Close()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	p.checkHeld(t, p.tok1, jpg)
}

func TestPhotoRefusals(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 8)
	ph := p.attach(t, jpg)
	n := int64(len(jpg))

	// Bytes that are not the hash's (as long): discarded at the end.
	wrong := bytes.Clone(jpg)
	wrong[len(wrong)/2] ^= 0xff
	_, err := p.patch(t, p.tok1, ph.Hash, 0, n, bytes.NewReader(wrong))
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EINVALID || de.Field != "hash" || de.Zh == "" || de.En == "" {
		t.Fatalf("hash mismatch: %v", err)
	}
	if u, _ := p.head(t, p.tok1, ph.Hash); u.Offset != 0 || u.Length != -1 {
		t.Fatalf("partial kept after a hash mismatch: %+v", u)
	}

	// Not a JPEG: a record naming the hash of some text, its bytes refused
	// with photo.Check's reason.
	text := []byte(strings.Repeat("这不是照片 not a photo\n", 100))
	p.attach(t, text)
	_, err = p.patch(t, p.tok1, photo.Hash(text), 0, int64(len(text)), bytes.NewReader(text))
	if !errors.As(err, &de) || de.Code != domain.EINVALID || de.Field != "photo" || !strings.Contains(de.En, "JPEG") || de.Zh == "" {
		t.Fatalf("not a JPEG: %v", err)
	}
	if status, _, _ := p.get(t, p.tok1, photo.Hash(text), false); status != http.StatusNotFound {
		t.Fatalf("refused bytes served: %d", status)
	}

	// Over the size limit: 413 before a byte is read.
	req, _ := protocol.NewPatch(context.Background(), p.srv.URL, p.tok1, ph.Hash, 0, n, bytes.NewReader(jpg))
	req.Header.Set(protocol.HeaderUploadLength, strconv.Itoa(domain.MaxPhotoBytes+1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("over-size: %d", resp.StatusCode)
	}
	if _, err := protocol.ReadUpload(resp); !errors.Is(err, protocol.ErrPhotoTooLarge) {
		t.Fatalf("over-size: %v", err)
	}
	if _, err := protocol.NewPatch(context.Background(), p.srv.URL, p.tok1, "../../etc/passwd", 0, 1, nil); err == nil {
		t.Fatal("NewPatch made a request for a path")
	}
	// Wrong Content-Type.
	req, _ = protocol.NewPatch(context.Background(), p.srv.URL, p.tok1, ph.Hash, 0, n, bytes.NewReader(jpg))
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := protocol.ReadUpload(resp); !errors.Is(err, &domain.Error{Code: domain.EINVALID, Field: "content-type"}) {
		t.Fatalf("wrong content type: %v", err)
	}
}

func TestPhotoPaths(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 9)
	ph := p.attach(t, jpg)
	p.upload(t, p.tok1, jpg, len(jpg), 0)
	for _, path := range []string{
		protocol.PathPhotos + strings.ToUpper(ph.Hash),
		protocol.PathPhotos + ph.Hash + "/",
		protocol.PathPhotos + ph.Hash + ".jpg",
		protocol.PathPhotos + ph.Hash[:63],
		protocol.PathPhotos + ph.Hash[:2] + "/" + ph.Hash,
		protocol.PathPhotos + "partial/" + ph.Hash,
		protocol.PathPhotos + "..%2f..%2f" + ph.Hash,
		protocol.PathPhotos + "%2e%2e/bangfu.db",
		protocol.PathPhotos,
	} {
		req, _ := http.NewRequest(http.MethodGet, p.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+p.tok1)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(b, jpg[:32]) {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	// Other methods.
	req, _ := http.NewRequest(http.MethodDelete, p.srv.URL+protocol.PathPhotos+ph.Hash, nil)
	req.Header.Set("Authorization", "Bearer "+p.tok1)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	// have: a bad hash in the list, too many hashes.
	for _, req := range []protocol.HaveRequest{{Hashes: []string{"../x"}}, {Hashes: make([]string, protocol.MaxHave+1)}} {
		body, _ := json.Marshal(req)
		if status, _ := p.post(t, protocol.PathPhotosHave, p.tok1, body); status != http.StatusBadRequest {
			t.Errorf("have %d hashes: %d", len(req.Hashes), status)
		}
	}
}

func TestPhotoDailyLimit(t *testing.T) {
	p := newPhotoEnv(t, server.Options{PhotosPerDay: 1})
	a, b := testJPEG(t, 10), testJPEG(t, 11)
	p.attach(t, a)
	pb := p.attach(t, b)
	p.upload(t, p.tok1, a, len(a), 0)
	req, _ := protocol.NewPatch(context.Background(), p.srv.URL, p.tok1, pb.Hash, 0, int64(len(b)), bytes.NewReader(b))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second photo of the day: %d %v", resp.StatusCode, resp.Header)
	}
	_, err = protocol.ReadUpload(resp)
	if !errors.Is(err, protocol.ErrPhotoQuota) || !protocol.Transient(err) {
		t.Fatalf("second photo of the day: %v", err)
	}
	// Another device is counted apart.
	_, tokL := p.enroll(t, p.w.Leader.ID)
	p.upload(t, tokL, b, len(b), 0)

	// Bytes refused at the end (not the hash's) count as well: a device
	// cannot send garbage for ever.
	r := newPhotoEnv(t, server.Options{PhotoBytesPerDay: int64(len(a)) + 10})
	r.attach(t, a)
	bad := bytes.Clone(a)
	bad[100] ^= 1
	if _, err := r.patch(t, r.tok1, photo.Hash(a), 0, int64(len(a)), bytes.NewReader(bad)); !errors.Is(err, &domain.Error{Code: domain.EINVALID, Field: "hash"}) {
		t.Fatalf("wrong bytes: %v", err)
	}
	if _, err := r.patch(t, r.tok1, photo.Hash(a), 0, int64(len(a)), bytes.NewReader(a)); !errors.Is(err, protocol.ErrPhotoQuota) {
		t.Fatalf("after a day's bytes of garbage: %v", err)
	}

	// Bytes: a limit below one photo refuses it before it is read.
	q := newPhotoEnv(t, server.Options{PhotoBytesPerDay: int64(len(a)) - 1})
	q.attach(t, a)
	if _, err := q.patch(t, q.tok1, photo.Hash(a), 0, int64(len(a)), bytes.NewReader(a)); !errors.Is(err, protocol.ErrPhotoQuota) {
		t.Fatalf("over the day's bytes: %v", err)
	}
}

func TestPhotoDeletedRemovesFile(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	jpg := testJPEG(t, 12)
	ph := p.attach(t, jpg)
	// A second record naming the same bytes (the photo attached twice).
	twin := &domain.Photo{Household: ph.Household, OfKind: domain.KindVisit, Of: ph.Of, Cadre: ph.Cadre, Hash: ph.Hash, Size: ph.Size, Width: 1200, Height: 900}
	p.push(t, change(t, p.dev1, p.w.Cadre1.ID, twin, p.now()))
	p.upload(t, p.tok1, jpg, len(jpg), 0)
	file := filepath.Join(p.disk.Dir(), ph.Hash[:2], ph.Hash+".jpg")
	if _, err := os.Stat(file); err != nil {
		t.Fatal(err)
	}
	del := func(rec *domain.Photo) domain.Change {
		ch := change(t, p.dev1, p.w.Cadre1.ID, rec, p.now().Add(time.Second))
		ch.Fields = domain.Fields{"deleted": json.RawMessage(`true`)}
		return ch
	}
	p.push(t, del(ph))
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("file gone while another record names it: %v", err)
	}
	p.checkHeld(t, p.tok1, jpg)
	p.push(t, del(twin))
	for _, f := range []string{file, filepath.Join(p.disk.Dir(), ph.Hash[:2], ph.Hash+".thumb.jpg")} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after its last record was deleted: %v", filepath.Base(f), err)
		}
	}
	if status, _, _ := p.get(t, p.tok1, ph.Hash, false); status != http.StatusNotFound {
		t.Fatalf("GET after deletion: %d", status)
	}
}

func TestPhotoSweep(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	kept, stray := testJPEG(t, 13), testJPEG(t, 14)
	p.attach(t, kept)
	p.upload(t, p.tok1, kept, len(kept), 0)
	// A file no record names (a crash between a push and its removal).
	strayHash := photo.Hash(stray)
	if err := os.MkdirAll(filepath.Join(p.disk.Dir(), strayHash[:2]), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{strayHash + ".jpg", strayHash + ".thumb.jpg"} {
		if err := os.WriteFile(filepath.Join(p.disk.Dir(), strayHash[:2], name), stray, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A partial upload of a live photo begun just now, one begun 8 days
	// ago, and a partial no record names.
	fresh, old := testJPEG(t, 15), testJPEG(t, 16)
	pf, po := p.attach(t, fresh), p.attach(t, old)
	for _, x := range []*domain.Photo{pf, po} {
		b := map[string][]byte{pf.Hash: fresh, po.Hash: old}[x.Hash]
		if _, err := p.patch(t, p.tok1, x.Hash, 0, int64(len(b)), bytes.NewReader(b[:500])); err != nil {
			t.Fatal(err)
		}
	}
	week := time.Now().Add(-8 * 24 * time.Hour)
	for _, f := range []string{po.Hash, po.Hash + ".len"} {
		if err := os.Chtimes(filepath.Join(p.disk.Dir(), "partial", f), week, week); err != nil {
			t.Fatal(err)
		}
	}
	orphan := photo.Hash([]byte("an upload no record names"))
	if err := os.WriteFile(filepath.Join(p.disk.Dir(), "partial", orphan), stray[:100], 0o600); err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.NewBolt(p.srv.DB), server.Options{Photos: p.disk})
	photos, partials, err := srv.SweepPhotos()
	if err != nil || photos != 1 || partials != 2 {
		t.Fatalf("sweep: %d photos, %d partials, %v", photos, partials, err)
	}
	if _, err := os.Stat(filepath.Join(p.disk.Dir(), strayHash[:2], strayHash+".thumb.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stray thumbnail kept: %v", err)
	}
	p.checkHeld(t, p.tok1, kept)
	if u, _ := p.head(t, p.tok1, pf.Hash); u.Offset != 500 {
		t.Errorf("fresh partial: %+v", u)
	}
	if u, _ := p.head(t, p.tok1, po.Hash); u.Offset != 0 || u.Length != -1 {
		t.Errorf("week-old partial: %+v", u)
	}
	if left, _ := os.ReadDir(filepath.Join(p.disk.Dir(), "partial")); len(left) != 2 { // fresh and its .len
		t.Errorf("partial/ after the sweep: %d files", len(left))
	}
}

func TestPhotosOff(t *testing.T) {
	e := newEnv(t, server.Options{}, nil)
	_, tok := e.enroll(t, e.w.Cadre1.ID)
	sum := sha256.Sum256([]byte("x"))
	req, _ := protocol.NewPhotoRequest(context.Background(), http.MethodGet, e.srv.URL, tok, hex.EncodeToString(sum[:]), false)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.ReadResponse(resp, nil); !errors.Is(err, &domain.Error{Code: domain.ENOTFOUND, Field: "photos"}) {
		t.Fatalf("a server without photos: %v", err)
	}
}

// BenchmarkPhotoUpload uploads a photo as the device stores it (1600×1200,
// quality 75, as photo.Prepare makes it) over loopback HTTP in one PATCH:
// appended, synced, hashed, checked, thumbnailed and renamed into place.
func BenchmarkPhotoUpload(b *testing.B) {
	disk, err := server.OpenDisk(filepath.Join(b.TempDir(), "photos"))
	if err != nil {
		b.Fatal(err)
	}
	e := newEnv(b, server.Options{Photos: disk, PhotosPerDay: 1 << 30, PhotoBytesPerDay: 1 << 60}, nil)
	dev, tok := e.enroll(b, e.w.Cadre1.ID)
	h := e.w.Group(e.w.G1)[0]
	v := newVisit(h, e.w.Cadre1.ID, e.now())
	prep, err := photo.Prepare(bytes.NewReader(phototest.JPEG(b, 4000, 3000, 1)), photo.Options{})
	if err != nil {
		b.Fatal(err)
	}
	jpg := prep.JPEG
	ph := &domain.Photo{Household: h.ID, OfKind: domain.KindVisit, Of: v.ID, Cadre: e.w.Cadre1.ID,
		Hash: prep.Hash, Size: len(jpg), Width: prep.Width, Height: prep.Height}
	if status, _, bad := e.sync(b, tok, 2, change(b, dev, e.w.Cadre1.ID, v, e.now()), change(b, dev, e.w.Cadre1.ID, ph, e.now())); status != http.StatusOK {
		b.Fatalf("push: %d %+v", status, bad)
	}
	b.SetBytes(int64(len(jpg)))
	b.ResetTimer()
	for range b.N {
		req, err := protocol.NewPatch(context.Background(), e.srv.URL, tok, ph.Hash, 0, int64(len(jpg)), bytes.NewReader(jpg))
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if u, err := protocol.ReadUpload(resp); err != nil || !u.Complete {
			b.Fatalf("upload: %+v %v", u, err)
		}
		b.StopTimer()
		if err := disk.Delete(ph.Hash); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(jpg)), "photo-bytes")
}

// TestPhotoResumeTakesOver: a device whose connection died without the
// server noticing (the first PATCH still waits for its body) resumes at
// once: its new PATCH stops the old one, which keeps what arrived, and
// goes on from there — not refused with 409 until the old body stalls.
func TestPhotoResumeTakesOver(t *testing.T) {
	p := newPhotoEnv(t, server.Options{BodyStall: 10 * time.Minute})
	jpg := testJPEG(t, 17)
	ph := p.attach(t, jpg)
	n := int64(len(jpg))
	pr, pw := io.Pipe()
	defer pw.Close()
	first := make(chan error, 1)
	go func() {
		_, err := p.patch(t, p.tok1, ph.Hash, 0, n, pr)
		first <- err
	}()
	pw.Write(jpg[:5000])
	deadline := time.Now().Add(30 * time.Second)
	for u, _ := p.head(t, p.tok1, ph.Hash); u.Offset != 5000; u, _ = p.head(t, p.tok1, ph.Hash) {
		if time.Now().After(deadline) {
			t.Fatalf("the first upload's bytes never arrived: %+v", u)
		}
		time.Sleep(10 * time.Millisecond)
	}
	u, err := p.patch(t, p.tok1, ph.Hash, 5000, n, bytes.NewReader(jpg[5000:]))
	if err != nil || !u.Complete {
		t.Fatalf("resumption: %+v %v", u, err)
	}
	if err := <-first; err == nil {
		t.Error("the stopped upload reported success")
	}
	p.checkHeld(t, p.tok1, jpg)
}

// slowDelete is a photo store whose Delete waits for release: the moment
// between the server's check that no record names a photo and its removal,
// held open.
type slowDelete struct {
	server.Photos
	entered, release chan struct{}
}

func (s *slowDelete) Delete(hash string) error {
	close(s.entered)
	<-s.release
	return s.Photos.Delete(hash)
}

// TestPhotoAttachedWhileRemoved: the last record naming a photo is deleted
// and, while the server removes the bytes, a push attaches the same bytes
// again. Whatever the order, a server that says it holds the photo does:
// the attach waits for the removal, and is then told the bytes are missing
// (so the device sends them), never told they are held and then lose them.
func TestPhotoAttachedWhileRemoved(t *testing.T) {
	disk, err := server.OpenDisk(filepath.Join(t.TempDir(), "photos"))
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowDelete{Photos: disk, entered: make(chan struct{}), release: make(chan struct{})}
	p := &photoEnv{env: newEnv(t, server.Options{Photos: slow}, nil), disk: disk}
	p.dev1, p.tok1 = p.enroll(t, p.w.Cadre1.ID)
	p.household = p.w.Group(p.w.G1)[0]
	p.visit = newVisit(p.household, p.w.Cadre1.ID, p.now())
	p.push(t, change(t, p.dev1, p.w.Cadre1.ID, p.visit, p.now()))
	jpg := testJPEG(t, 21)
	ph := p.attach(t, jpg)
	p.upload(t, p.tok1, jpg, len(jpg), 0)

	del := change(t, p.dev1, p.w.Cadre1.ID, ph, p.now().Add(time.Second))
	del.Fields = domain.Fields{"deleted": json.RawMessage(`true`)}
	through := p.through
	deleted := make(chan struct{})
	go func() {
		defer close(deleted)
		if status, resp, bad := p.sync(t, p.tok1, through+1, del); status != http.StatusOK || len(resp.Rejected) > 0 {
			t.Errorf("delete: %d %+v %+v", status, bad, resp.Rejected)
		}
	}()
	<-slow.entered // no record names the photo: its removal has begun

	again := &domain.Photo{Household: ph.Household, OfKind: domain.KindVisit, Of: ph.Of, Cadre: ph.Cadre, Hash: ph.Hash, Size: ph.Size, Width: 1200, Height: 900}
	attached := make(chan protocol.HaveResponse)
	go func() {
		status, resp, bad := p.sync(t, p.tok1, through+2, change(t, p.dev1, p.w.Cadre1.ID, again, p.now().Add(2*time.Second)))
		if status != http.StatusOK || len(resp.Rejected) > 0 {
			t.Errorf("attach again: %d %+v %+v", status, bad, resp.Rejected)
		}
		attached <- p.have(t, p.tok1, ph.Hash) // what a device asks next
	}()
	var early *protocol.HaveResponse
	select {
	case h := <-attached:
		early = &h // the attach did not wait for the removal
	case <-time.After(300 * time.Millisecond):
	}
	close(slow.release)
	<-deleted
	h := early
	if h == nil {
		got := <-attached
		h = &got
	}
	held := slices.Contains(h.Have, ph.Hash)
	if _, err := os.Stat(filepath.Join(disk.Dir(), ph.Hash[:2], ph.Hash+".jpg")); held && err != nil {
		t.Fatalf("the server said it held the photo (answer before the removal ended: %v), and removed it: %v", early != nil, err)
	}
}

// TestPhotoHaveTooLarge: a have request over its cap (far more hashes than
// MaxHave) is refused with the cap of this endpoint, not the sync's.
func TestPhotoHaveTooLarge(t *testing.T) {
	p := newPhotoEnv(t, server.Options{})
	var body bytes.Buffer
	body.WriteString(`{"hashes":[`)
	for i := range 2000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `"%064x"`, i)
	}
	body.WriteString(`]}`)
	req, err := http.NewRequest(http.MethodPost, p.srv.URL+protocol.PathPhotosHave, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+p.tok1)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	err = protocol.ReadResponse(resp, &protocol.HaveResponse{})
	if resp.StatusCode != http.StatusBadRequest || domain.ErrorField(err) != "size" ||
		!strings.Contains(domain.Message(err, "zh"), "64 KiB") || !strings.Contains(domain.Message(err, "en"), "64 KiB of JSON") {
		t.Fatalf("%d: %s / %s", resp.StatusCode, domain.Message(err, "zh"), domain.Message(err, "en"))
	}
}
