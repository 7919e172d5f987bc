package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"bangfu/domain"
	"bangfu/domain/demo"
)

// refReadSync is ReadSync as it was before it read in one pass, kept as the
// reference it must match: a json.Decoder walks the answer token by token,
// reads each change as a json.RawMessage, and json.Unmarshal decodes it.
func refReadSync(resp *http.Response, v *SyncResponse, each func(state bool, c domain.Change) error) error {
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok || !isJSON(resp.Header) {
		return ReadResponse(resp, v)
	}
	defer resp.Body.Close()
	body, closeBody, err := plainBody(resp.Header, resp.Body, resp.ContentLength)
	if err != nil {
		return unreadable(err)
	}
	defer closeBody()
	r := &refReader{v: v, each: each, dec: json.NewDecoder(body)}
	if err := r.read(); err != nil {
		var de *domain.Error
		switch {
		case errors.As(err, &de):
			return err
		case errors.Is(err, errCap):
			return domain.Errorf(domain.EINVALID, "size", "服务器的回复太大（超过 %d MiB）",
				"the server's answer is too large (over %d MiB)", MaxResponseBytes>>20)
		case errors.Is(err, errEach):
			return r.eachErr
		}
		if r.v.V != 0 && r.v.V != Version {
			return versionError(r.v.V)
		}
		return unreadable(err)
	}
	return validate(v)
}

type refReader struct {
	v        *SyncResponse
	each     func(bool, domain.Change) error
	eachErr  error
	dec      *json.Decoder
	seen     map[string]bool
	streamed map[string]int
}

func (r *refReader) read() error {
	r.seen, r.streamed = map[string]bool{}, map[string]int{}
	if err := r.delim('{'); err != nil {
		return err
	}
	for r.dec.More() {
		t, err := r.dec.Token()
		if err != nil {
			return err
		}
		key, ok := t.(string)
		if !ok {
			return fmt.Errorf("key expected, got %v", t)
		}
		r.seen[key] = true
		switch {
		case (key == "state" || key == "changes") && r.canStream(key == "state"):
			if err := r.list(key); err != nil {
				return err
			}
		default:
			var raw json.RawMessage
			if err := r.dec.Decode(&raw); err != nil {
				return err
			}
			obj := make([]byte, 0, len(key)+len(raw)+8)
			obj = append(obj, '{')
			q, _ := json.Marshal(key)
			obj = append(append(append(obj, q...), ':'), raw...)
			obj = append(obj, '}')
			if err := json.Unmarshal(obj, r.v); err != nil {
				return err
			}
		}
	}
	if err := r.delim('}'); err != nil {
		return err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the answer")
		}
		return err
	}
	return nil
}

func (r *refReader) canStream(state bool) bool {
	if r.each == nil || r.v.V != Version || !r.seen["now"] || !r.seen["cursor"] || r.v.Revoked != "" {
		return false
	}
	if state && r.streamed["changes"] > 0 {
		return false
	}
	probe := *r.v
	probe.State, probe.Changes = nil, nil
	return probe.Validate() == nil
}

func (r *refReader) list(key string) error {
	t, err := r.dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: list expected", key)
	}
	state := key == "state"
	for i := 0; r.dec.More(); i++ {
		var raw json.RawMessage
		if err := r.dec.Decode(&raw); err != nil {
			return err
		}
		var c Change
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		d, err := c.convert(true, valid)
		if err != nil {
			return at(i, err)
		}
		if err := r.each(state, d); err != nil {
			r.eachErr = err
			return errEach
		}
		r.streamed[key]++
	}
	return r.delim(']')
}

func (r *refReader) delim(want json.Delim) error {
	t, err := r.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("%q expected", want)
	}
	return nil
}

// chunks reads at most n bytes a call (all there is if n is 0), and then
// fails with err if not nil instead of ending: a body cut by the network.
type chunks struct {
	b   []byte
	n   int
	err error
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		return 0, io.EOF
	}
	if c.n > 0 && len(p) > c.n {
		p = p[:c.n]
	}
	k := copy(p, c.b)
	c.b = c.b[k:]
	return k, nil
}

// readResult is what reading an answer gave.
type readResult struct {
	v      SyncResponse
	handed []string // each change handed over, as "state/changes id %+v"
	err    error
}

// readWith reads body, sent gzip-compressed if gz and read n bytes at a
// time, with read; each stops the read at its stop-th change (never if 0)
// and is nil if noEach.
func readWith(read func(*http.Response, *SyncResponse, func(bool, domain.Change) error) error,
	body []byte, n int, gz, cut, noEach bool, stop int) readResult {
	h := http.Header{"Content-Type": {"application/json"}}
	if gz {
		body = compress(body)
		h.Set("Content-Encoding", "gzip")
	}
	src := &chunks{b: body, n: n}
	if cut {
		src.err = io.ErrUnexpectedEOF
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(src), ContentLength: -1}
	var res readResult
	each := func(state bool, c domain.Change) error {
		res.handed = append(res.handed, fmt.Sprintf("%v %+v", state, c))
		if len(res.handed) == stop {
			return errStop
		}
		return nil
	}
	if noEach {
		each = nil
	}
	res.err = read(resp, &res.v, each)
	return res
}

var errStop = errors.New("stop")

// sameError reports whether a and b are the same error: the same
// *domain.Error, or errors of the same type with the same text. A change
// with several bad field names or base stamps is refused for any one of
// them (convert walks a map): errors about the fields or the base need
// only agree on code and field.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	var da, db *domain.Error
	if errors.As(a, &da) != errors.As(b, &db) {
		return false
	}
	if da != nil && (da.Field == "fields" || da.Field == "base") {
		return da.Code == db.Code && da.Field == db.Field
	}
	if da != nil {
		return reflect.DeepEqual(*da, *db)
	}
	return fmt.Sprintf("%T %v", a, a) == fmt.Sprintf("%T %v", b, b)
}

// seedAnswers returns answers to seed the comparison with: the golden
// answers, and a page of n changes of the demo village, as a server
// writes it and as another encoder might (spaced, escaped).
func seedAnswers(tb testing.TB, n int) [][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "sync_response*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden answers: %v", err)
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	now := time.Date(2025, 3, 1, 8, 30, 0, 125e6, time.UTC)
	d := demo.Village(1, now)
	clock := domain.NewClock(demo.Device, func() time.Time { return now })
	var changes []Change
	for i, rec := range d.Records() {
		if i == n {
			break
		}
		f, err := domain.Encode(rec)
		if err != nil {
			tb.Fatal(err)
		}
		m := rec.Metadata()
		c, err := FromDomain(domain.Change{ID: uuid.NewSHA1(uuid.NameSpaceOID, m.ID[:]), Kind: rec.Kind(), Record: m.ID,
			Author: m.Author, Stamp: clock.Now(), Fields: f})
		if err != nil {
			tb.Fatal(err)
		}
		changes = append(changes, c)
	}
	page, err := Marshal(SyncResponse{V: Version, Now: At(now), Cursor: "c.1", Reset: true, State: changes[:len(changes)*2/3], Changes: changes[len(changes)*2/3:]})
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, page)
	// The same page as another encoder might write it: spaced, escaped.
	odd := strings.NewReplacer(`,"`, ` , "`, `":`, `" :`+"\n", `"fields":{`, `"fields":{"x\u00e9":[1, 2.5e3, {"a" : null}], `,
		`"kind":"household"`, `"kind":"house\u0068old"`).Replace(string(page))
	out = append(out, []byte(odd))
	return out
}

// FuzzReadSyncMatchesReference reads arbitrary answers, in arbitrary
// chunks, whole or cut, plain or compressed, with ReadSync and with the
// reference reader it replaced, and wants the same: the same changes
// handed over in the same order, the same answer kept, the same error.
func FuzzReadSyncMatchesReference(f *testing.F) {
	for _, b := range seedAnswers(f, 6) {
		f.Add(b, uint16(0), uint8(0), uint16(0))
		f.Add(b, uint16(7), uint8(1), uint16(3))
		f.Add(b[:len(b)*2/3], uint16(100), uint8(2), uint16(0))
		f.Add(b, uint16(4096), uint8(4), uint16(0))
		f.Add(append(b, " x"...), uint16(1), uint8(8), uint16(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, chunk uint16, flags uint8, stop uint16) {
		gz, cut, noEach := flags&1 != 0, flags&2 != 0, flags&4 != 0
		got := readWith(ReadSync, body, int(chunk), gz, cut, noEach, int(stop))
		want := readWith(refReadSync, body, int(chunk), gz, cut, noEach, int(stop))
		if !sameError(got.err, want.err) {
			t.Fatalf("error\n got  %T %v\n want %T %v", got.err, got.err, want.err, want.err)
		}
		if !reflect.DeepEqual(got.handed, want.handed) {
			t.Fatalf("handed over %d changes, want %d\n got  %.300q\n want %.300q", len(got.handed), len(want.handed), got.handed, want.handed)
		}
		if !reflect.DeepEqual(got.v, want.v) {
			t.Fatalf("answer kept\n got  %+v\n want %+v", got.v, want.v)
		}
	})
}

// TestReadSyncMatchesReferenceCut reads pages larger than the reader's
// buffer, whole and cut at many places, in chunks of several sizes, with
// ReadSync and the reference reader, and wants the same.
func TestReadSyncMatchesReferenceCut(t *testing.T) {
	answers := seedAnswers(t, 150)
	for _, body := range answers[len(answers)-2:] {
		for cut := len(body); cut > 0; cut -= len(body)/17 + 1 {
			for _, chunk := range []int{0, 4093} {
				for _, flags := range []int{0, 1, 2, 4} {
					gz, cut2, noEach := flags&1 != 0, flags&2 != 0, flags&4 != 0
					got := readWith(ReadSync, body[:cut], chunk, gz, cut2, noEach, 0)
					want := readWith(refReadSync, body[:cut], chunk, gz, cut2, noEach, 0)
					if !sameError(got.err, want.err) || !reflect.DeepEqual(got.handed, want.handed) || !reflect.DeepEqual(got.v, want.v) {
						t.Fatalf("cut at %d of %d, chunks of %d, flags %b: got %d changes, %v; want %d, %v",
							cut, len(body), chunk, flags, len(got.handed), got.err, len(want.handed), want.err)
					}
				}
			}
		}
	}
}

// TestReadSyncMatchesReferenceMutated is the fuzz test's comparison on
// answers mutated at random where JSON is most fragile — a byte dropped,
// doubled or replaced by one that means something to a JSON reader — so
// that every run covers what the fuzzer would find first.
func TestReadSyncMatchesReferenceMutated(t *testing.T) {
	seeds := seedAnswers(t, 6)
	const special = "{}[]\",: \t\n\\u0-9eE.+-tfnulx\x00\x1f\xc3\xa9\xff"
	r := rand.New(rand.NewPCG(8, 1))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		b := []byte(string(seeds[r.IntN(len(seeds))]))
		for range 1 + r.IntN(3) {
			i := r.IntN(len(b))
			switch r.IntN(4) {
			case 0:
				b = append(b[:i], b[i+1:]...)
			case 1:
				b = append(b[:i+1], b[i:]...)
			default:
				b[i] = special[r.IntN(len(special))]
			}
		}
		if r.IntN(4) == 0 {
			b = b[:r.IntN(len(b))]
		}
		chunk, flags, stop := r.IntN(300), r.IntN(8), r.IntN(8)
		gz, cut, noEach := flags&1 != 0, flags&2 != 0, flags&4 != 0
		got := readWith(ReadSync, b, chunk, gz, cut, noEach, stop)
		want := readWith(refReadSync, b, chunk, gz, cut, noEach, stop)
		if !sameError(got.err, want.err) || !reflect.DeepEqual(got.handed, want.handed) || !reflect.DeepEqual(got.v, want.v) {
			t.Fatalf("%q (chunks of %d, flags %b, stop %d):\n got  %d changes, %+v, %v\n want %d changes, %+v, %v",
				b, chunk, flags, stop, len(got.handed), got.v, got.err, len(want.handed), want.v, want.err)
		}
	}
}

// TestReadSyncTakesThePlainPath checks that an answer as a server writes
// it is read without the reference reader.
func TestReadSyncTakesThePlainPath(t *testing.T) {
	answers := seedAnswers(t, 150)
	body := answers[len(answers)-2]
	var n int
	r := &streamReader{v: &SyncResponse{}, each: func(bool, domain.Change) error { n++; return nil }, in: input{src: &chunks{b: body, n: 1000}}}
	if err := r.read(); err != nil {
		t.Fatal(err)
	}
	if r.dec != nil || n != 150 {
		t.Errorf("%d changes handed over, reference reader used: %v; want 150 without it", n, r.dec != nil)
	}
}

// BenchmarkReadSync reads a compressed first page of the demo village
// (about 4,000 changes) with ReadSync and with the reference reader it
// replaced, handing each change to a caller that keeps nothing: the
// decoding a device does before its store merges anything.
func BenchmarkReadSync(b *testing.B) {
	answers := seedAnswers(b, 1<<20)
	body := answers[len(answers)-2]
	zipped := compress(body)
	for _, read := range []struct {
		name string
		read func(*http.Response, *SyncResponse, func(bool, domain.Change) error) error
	}{{"onepass", ReadSync}, {"reference", refReadSync}} {
		b.Run(read.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			var n int
			for b.Loop() {
				h := http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}
				resp := &http.Response{StatusCode: http.StatusOK, Header: h, Body: io.NopCloser(bytes.NewReader(zipped)), ContentLength: int64(len(zipped))}
				n = 0
				if err := read.read(resp, &SyncResponse{}, func(bool, domain.Change) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "changes")
		})
	}
}
