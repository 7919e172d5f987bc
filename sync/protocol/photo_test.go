package protocol_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"bangfu/domain"
	"bangfu/sync/protocol"
)

const goodHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var photoPaths = []struct {
	path string
	ok   bool
}{
	{protocol.PathPhotos + goodHash, true},
	{protocol.PathPhotos + strings.ToUpper(goodHash), false},
	{protocol.PathPhotos + goodHash + "/", false},
	{protocol.PathPhotos + goodHash + ".jpg", false},
	{protocol.PathPhotos + goodHash[:63], false},
	{protocol.PathPhotos + goodHash + "0", false},
	{protocol.PathPhotos + "../" + goodHash[3:], false},
	{protocol.PathPhotos + goodHash[:2] + "/" + goodHash[3:], false},
	{protocol.PathPhotos + strings.Repeat(".", 64), false},
	{protocol.PathPhotos + strings.Repeat("g", 64), false},
	{protocol.PathPhotos + "have", false},
	{protocol.PathPhotos, false},
	{"/v1/photo/" + goodHash, false},
	{"/v1/photos//" + goodHash, false},
	{"", false},
}

func TestPhotoHash(t *testing.T) {
	for _, c := range photoPaths {
		h, ok := protocol.PhotoHash(c.path)
		if ok != c.ok || (ok && h != goodHash) || (!ok && h != "") {
			t.Errorf("PhotoHash(%q) = %q, %v; want ok %v", c.path, h, ok, c.ok)
		}
	}
}

// FuzzPhotoHash checks that whatever path is asked, a hash accepted is 64
// lowercase hex digits and nothing else: never a path to another file.
func FuzzPhotoHash(f *testing.F) {
	for _, c := range photoPaths {
		f.Add(c.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		h, ok := protocol.PhotoHash(path)
		if !ok {
			return
		}
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" || path != protocol.PathPhotos+h {
			t.Fatalf("PhotoHash(%q) accepted %q", path, h)
		}
	})
}

func TestParseOffset(t *testing.T) {
	for _, c := range []struct {
		v    string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1234", 1234, true}, {"2097152", domain.MaxPhotoBytes, true},
		{"2097153", 0, false}, {"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {" 1", 0, false},
		{"1e3", 0, false}, {"0x10", 0, false}, {"99999999999999999999", 0, false},
	} {
		h := http.Header{}
		h.Set(protocol.HeaderUploadOffset, c.v)
		n, err := protocol.ParseOffset(h, protocol.HeaderUploadOffset)
		if (err == nil) != c.ok || n != c.want {
			t.Errorf("ParseOffset(%q) = %d, %v", c.v, n, err)
		}
		if err != nil && domain.ErrorCode(err) != domain.EINVALID {
			t.Errorf("ParseOffset(%q): %v", c.v, err)
		}
	}
}

func TestHaveRequestValidate(t *testing.T) {
	for _, c := range []struct {
		req protocol.HaveRequest
		ok  bool
	}{
		{protocol.HaveRequest{Hashes: []string{goodHash}}, true},
		{protocol.HaveRequest{V: 1, Hashes: []string{goodHash}}, true},
		{protocol.HaveRequest{V: 2, Hashes: []string{goodHash}}, false},
		{protocol.HaveRequest{Hashes: []string{strings.ToUpper(goodHash)}}, false},
		{protocol.HaveRequest{Hashes: make([]string, protocol.MaxHave+1)}, false},
	} {
		if err := c.req.Validate(); (err == nil) != c.ok {
			t.Errorf("%+v: %v", c.req.V, err)
		}
	}
	if err := protocol.Unmarshal([]byte(`{"v":1,"hashes":["`+goodHash+`"]}`), &protocol.HaveRequest{}); err != nil {
		t.Fatal(err)
	}
	b, err := protocol.Marshal(protocol.HaveResponse{V: 1})
	if err != nil || string(b) != `{"v":1,"have":[],"offsets":{}}` {
		t.Fatalf("empty have answer: %s %v", b, err)
	}
	if err := (&protocol.HaveResponse{V: 1, Offsets: map[string]int64{goodHash: -1}}).Validate(); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestNewPatch(t *testing.T) {
	req, err := protocol.NewPatch(context.Background(), "http://127.0.0.1:1/", "tok", goodHash, 10, 100, strings.NewReader("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	h := req.Header
	if req.Method != http.MethodPatch || req.URL.Path != protocol.PathPhotos+goodHash || req.ContentLength != 10 ||
		h.Get("Upload-Offset") != "10" || h.Get("Upload-Length") != "100" || h.Get("Tus-Resumable") != "1.0.0" ||
		h.Get("Content-Type") != "application/offset+octet-stream" || h.Get("Authorization") != "Bearer tok" {
		t.Fatalf("PATCH %s %s %d %v", req.Method, req.URL, req.ContentLength, h)
	}
	for _, bad := range []struct {
		hash           string
		offset, length int64
	}{{"../x", 0, 1}, {goodHash, 5, 4}, {goodHash, -1, 4}, {goodHash, 0, 0}} {
		if _, err := protocol.NewPatch(context.Background(), "http://h", "", bad.hash, bad.offset, bad.length, nil); err == nil {
			t.Errorf("NewPatch(%q, %d, %d) accepted", bad.hash, bad.offset, bad.length)
		}
	}
}

func TestReadUpload(t *testing.T) {
	answer := func(status int, kv ...string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
		for i := 0; i+1 < len(kv); i += 2 {
			r.Header.Set(kv[i], kv[i+1])
		}
		return r
	}
	u, err := protocol.ReadUpload(answer(204, "Upload-Offset", "100", "Upload-Length", "100", "Upload-Complete", "1"))
	if err != nil || u != (protocol.Upload{Offset: 100, Length: 100, Complete: true}) {
		t.Fatalf("204: %+v %v", u, err)
	}
	u, err = protocol.ReadUpload(answer(200, "Upload-Offset", "0"))
	if err != nil || u != (protocol.Upload{Length: -1}) {
		t.Fatalf("HEAD of nothing: %+v %v", u, err)
	}
	u, err = protocol.ReadUpload(answer(409, "Upload-Offset", "40", "Upload-Length", "100"))
	if !errors.Is(err, protocol.ErrOffset) || u.Offset != 40 {
		t.Fatalf("409: %+v %v", u, err)
	}
	if _, err = protocol.ReadUpload(answer(204, "Upload-Offset", "x")); domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("bad offset: %v", err)
	}
	if _, err = protocol.ReadUpload(answer(404)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("404: %v", err)
	}
}
