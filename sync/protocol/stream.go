package protocol

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"bangfu/domain"
)

// ReadSync reads the answer to a sync as [ReadResponse] reads it into v,
// except that the changes of State and Changes may be handed to each, one by
// one and converted, as they are decoded, instead of being kept in v: a
// page of many thousand changes is never held whole, neither as text nor as
// changes. each is called with state true for those of State; an error it
// returns ends the read with that error.
//
// A change is handed to each only once the answer so far is a valid answer
// of this version (v, now and cursor read and checked), it does not replace
// the device ("revoked" absent), and, for those of State, no change of
// Changes has been handed over yet: the order in which a server encodes a
// SyncResponse. Lists that come otherwise are kept in v (with the same
// checks as ReadResponse), and the caller applies them from there. A
// change that fails its checks ends the read with that error, as Validate
// would report it. Everything handed over was a valid change; when the
// answer later turns out cut short or malformed, the read fails with the
// same error ReadResponse returns, and the caller must treat what it
// received as a page not (yet) pulled: apply nothing of it that cannot be
// applied again.
func ReadSync(resp *http.Response, v *SyncResponse, each func(state bool, c domain.Change) error) error {
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
	r := &streamReader{v: v, each: each, dec: json.NewDecoder(body)}
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

// errEach marks the read ended by each's error (kept in eachErr).
var errEach = errors.New("protocol: the caller stopped the read")

// streamReader walks one SyncResponse token by token.
type streamReader struct {
	v        *SyncResponse
	each     func(bool, domain.Change) error
	eachErr  error
	dec      *json.Decoder
	seen     map[string]bool // keys read
	streamed map[string]int  // changes handed over, by list
}

func (r *streamReader) read() error {
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
			// Anything else is decoded as json.Unmarshal would decode the
			// key on its own into v: the same rules for every other key.
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

// canStream reports whether the changes of a list starting now may go to
// each.
func (r *streamReader) canStream(state bool) bool {
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

// list hands the changes of the list key to each.
func (r *streamReader) list(key string) error {
	t, err := r.dec.Token()
	if err != nil {
		return err
	}
	if t == nil { // null: no changes
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
		if err := decodeChange(raw, &c); err != nil {
			return err
		}
		d, err := c.convert(true, true) // the decoder checked the values
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

func (r *streamReader) delim(want json.Delim) error {
	t, err := r.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("%q expected", want)
	}
	return nil
}

// plainBody returns the content of a response body as it is read, gzip or
// not, failing with errCap past MaxResponseBytes either way.
func plainBody(h http.Header, body io.Reader, length int64) (io.Reader, func(), error) {
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc {
	case "", "identity":
		if length > MaxResponseBytes {
			return nil, nil, errCap
		}
		return &capReader{r: body, left: MaxResponseBytes}, func() {}, nil
	case "gzip", "x-gzip":
		if length > MaxResponseBytes {
			return nil, nil, errCap
		}
		raw := &capReader{r: body, left: MaxResponseBytes}
		zr, ok := gzipReaders.Get().(*gzip.Reader)
		var err error
		if ok {
			err = zr.Reset(raw)
		} else {
			zr, err = gzip.NewReader(raw)
		}
		if err != nil {
			if zr != nil {
				gzipReaders.Put(zr)
			}
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return &capReader{r: zr, left: MaxResponseBytes}, func() { gzipReaders.Put(zr) }, nil
	default:
		return nil, nil, errEncoding(enc)
	}
}

// decodeChange decodes raw, the JSON text of one change as a json.Decoder
// read (and so checked) it, into c as json.Unmarshal would: with plain code
// when raw is in the form a server writes — the known keys once each, their
// strings without escapes — and through json.Unmarshal otherwise. Field
// values are slices of raw.
func decodeChange(raw []byte, c *Change) error {
	if fastChange(raw, c) {
		return nil
	}
	*c = Change{}
	return json.Unmarshal(raw, c)
}

// fastChange is decodeChange's plain path; false leaves c to json.Unmarshal.
func fastChange(raw []byte, c *Change) bool {
	p := &scan{b: raw}
	if !p.byte('{') {
		return false
	}
	var seen uint8
	for first := true; ; first = false {
		p.space()
		if p.peek() == '}' {
			p.i++
			p.space()
			return p.i == len(p.b)
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.str(true)
		if !ok || !p.byte(':') {
			return false
		}
		var bit uint8
		p.space()
		switch key {
		case "id", "kind", "record", "author", "stamp":
			s, ok := p.str(true)
			if !ok {
				return false
			}
			switch key {
			case "id":
				c.ID, bit = s, 1
			case "kind":
				c.Kind, bit = domain.Kind(s), 2
			case "record":
				c.Record, bit = s, 4
			case "author":
				c.Author, bit = s, 8
			case "stamp":
				c.Stamp, bit = s, 16
			}
		case "fields":
			bit = 32
			if !p.byte('{') {
				return false
			}
			c.Fields = map[string]json.RawMessage{}
			for n := 0; ; n++ {
				p.space()
				if p.peek() == '}' {
					p.i++
					break
				}
				if n > 0 && !p.byte(',') {
					return false
				}
				name, ok := p.str(false)
				if !ok || !p.byte(':') {
					return false
				}
				p.space()
				start := p.i
				if !p.value() {
					return false
				}
				c.Fields[name] = raw[start:p.i:p.i]
			}
		case "base":
			bit = 64
			if !p.byte('{') {
				return false
			}
			c.Base = map[string]string{}
			for n := 0; ; n++ {
				p.space()
				if p.peek() == '}' {
					p.i++
					break
				}
				if n > 0 && !p.byte(',') {
					return false
				}
				name, ok := p.str(false)
				if !ok || !p.byte(':') {
					return false
				}
				p.space()
				s, ok := p.str(true)
				if !ok {
					return false
				}
				c.Base[name] = s
			}
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}

// scan reads JSON text known to be valid.
type scan struct {
	b []byte
	i int
}

func (p *scan) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *scan) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// byte skips space and then c, reporting whether c was there.
func (p *scan) byte(c byte) bool {
	p.space()
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

// str reads a string without escapes (ASCII only if ascii), false for any
// other.
func (p *scan) str(ascii bool) (string, bool) {
	p.space()
	if p.peek() != '"' {
		return "", false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			p.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20 || ascii && c >= utf8.RuneSelf:
			return "", false
		}
	}
	return "", false
}

// value skips one value.
func (p *scan) value() bool {
	depth := 0
	for p.i < len(p.b) {
		switch c := p.b[p.i]; c {
		case '"':
			j := p.i + 1
			for ; j < len(p.b) && p.b[j] != '"'; j++ {
				if p.b[j] == '\\' {
					j++
				}
			}
			if j >= len(p.b) {
				return false
			}
			p.i = j + 1
		case '{', '[':
			depth++
			p.i++
		case '}', ']':
			if depth == 0 {
				return true
			}
			depth--
			p.i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return true
			}
			p.i++
		default:
			p.i++
		}
		if depth == 0 && (p.i >= len(p.b) || isEnd(p.b[p.i])) {
			return true
		}
	}
	return depth == 0
}

func isEnd(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
