package protocol_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"bangfu/sync/protocol"
)

func gzipOf(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// TestReadRequestWithin: a body is read within its limit and its budget,
// refused with "size" past the limit (however it is sent) and with "busy"
// past the budget or the decompressors; what it held is given back.
func TestReadRequestWithin(t *testing.T) {
	good := `{"v":1,"code":"7QK4-M2PX","name":"马兴文的手机","device":"0b3d2f6e-1c4a-4e8b-9d7f-2a6c5e1b3d90"}`
	big := `{"v":1,"code":"` + strings.Repeat("A", 100<<10) + `"}`
	req := func(body []byte, zipped, chunked bool) *http.Request {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r)
		}
		q := httptest.NewRequest(http.MethodPost, protocol.PathEnroll, r)
		if chunked {
			q.ContentLength = -1
		}
		q.Header.Set("Content-Type", "application/json")
		if zipped {
			q.Header.Set("Content-Encoding", "gzip")
		}
		return q
	}
	b := protocol.NewBudget(1<<20, 1)
	for _, tc := range []struct {
		name            string
		body            []byte
		zipped, chunked bool
		want            error
	}{
		{"plain", []byte(good), false, false, nil},
		{"gzip", gzipOf(good), true, true, nil},
		{"too large, declared", []byte(big), false, false, protocol.ErrTooLarge},
		{"too large, chunked", []byte(big), false, true, protocol.ErrTooLarge},
		{"bomb, chunked", gzipOf(big), true, true, protocol.ErrTooLarge},
	} {
		var v protocol.EnrollRequest
		release, err := protocol.ReadRequestWithin(req(tc.body, tc.zipped, tc.chunked), &v, protocol.MaxEnrollBytes, b)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		release()
		if b.Held() != 0 {
			t.Errorf("%s: %d bytes still held after release", tc.name, b.Held())
		}
	}

	// A budget spent: the next body is refused as busy, not queued.
	small := protocol.NewBudget(8<<10, 1)
	var v protocol.EnrollRequest
	hold, err := protocol.ReadRequestWithin(req([]byte(good), false, false), &v, protocol.MaxEnrollBytes, small)
	if err != nil {
		t.Fatal(err)
	}
	var big2 struct{ V int }
	if _, err := protocol.ReadRequestWithin(req([]byte(`{"v":1,"x":"`+strings.Repeat("B", 10<<10)+`"}`), false, true), &big2, 64<<10, small); !errors.Is(err, protocol.ErrBusy) {
		t.Errorf("past the budget: %v, want ErrBusy", err)
	}
	hold()
	// One decompressor: a second gzip body while one is read is busy.
	one := protocol.NewBudget(1<<20, 1)
	pr, pw := io.Pipe()
	first := httptest.NewRequest(http.MethodPost, protocol.PathEnroll, pr)
	first.ContentLength = -1
	first.Header.Set("Content-Type", "application/json")
	first.Header.Set("Content-Encoding", "gzip")
	done := make(chan error)
	go func() {
		var v protocol.EnrollRequest
		release, err := protocol.ReadRequestWithin(first, &v, protocol.MaxEnrollBytes, one)
		release()
		done <- err
	}()
	z := gzipOf(good)
	pw.Write(z[:10]) // the reader is inflating now
	if _, err := protocol.ReadRequestWithin(req(gzipOf(good), true, true), &v, protocol.MaxEnrollBytes, one); !errors.Is(err, protocol.ErrBusy) {
		t.Errorf("second gzip body with one decompressor: %v, want ErrBusy", err)
	}
	pw.Write(z[10:])
	pw.Close()
	if err := <-done; err != nil {
		t.Errorf("first gzip body: %v", err)
	}
	if one.Held() != 0 {
		t.Errorf("%d bytes held at the end", one.Held())
	}
}
