package protocol

import (
	"bytes"
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
	r := &streamReader{v: v, each: each, in: input{src: body}}
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

// Reading an answer in one pass.
//
// A streamReader reads the body through a buffer of its own and decodes
// each change where it lies in that buffer, in one pass that checks the
// text as it goes: the form a server writes (see fastChange) is read with
// plain code. Whatever it is not sure to read exactly as encoding/json
// would — escapes, unknown keys, text that is not JSON, an answer cut
// short — it leaves, from the last point it had fully read, to the
// reference reader: a json.Decoder walking the rest token by token,
// brought to the same point by a few bytes of prefix (see reference). So
// what is handed over, what is kept in v and every error are those of the
// reference reader, on any input (FuzzReadSyncMatchesReference).

// streamReader reads one SyncResponse.
type streamReader struct {
	v        *SyncResponse
	each     func(bool, domain.Change) error
	eachErr  error
	in       input
	dec      *json.Decoder   // the reference reader, once it reads the rest
	seen     map[string]bool // keys read
	streamed map[string]int  // changes handed over, by list
	ch       Change          // the change being read
	values   trust           // what the scan found of ch's values
	fields   []span          // of ch, in the text read
	base     []span
	fieldMap map[string]json.RawMessage // ch's, reused
	baseMap  map[string]string
	names    map[string]string // field names, one copy each
}

// point is where in the answer the plain reader stands when it hands the
// rest to the reference reader.
type point int

const (
	atStart     point = iota // nothing read
	inObject                 // after the answer's '{'
	afterMember              // after a key and its value
	inList                   // after the '[' of a list being handed over
	afterChange              // after a change of that list
	atEnd                    // after the answer's '}'
)

func (r *streamReader) read() error {
	r.seen, r.streamed = map[string]bool{}, map[string]int{}
	if c, ok := r.in.next(); !ok || c != '{' {
		return r.reference(atStart, "", 0)
	}
	r.in.pos++
	at := inObject
	for {
		c, ok := r.in.next()
		if !ok {
			return r.reference(at, "", 0)
		}
		if c == '}' {
			r.in.pos++
			if _, ok := r.in.next(); ok || r.in.err != io.EOF {
				return r.reference(atEnd, "", 0)
			}
			return nil
		}
		key, stream, ok, err := r.member(at == afterMember)
		switch {
		case err != nil:
			return err
		case !ok:
			return r.reference(at, "", 0)
		case stream:
			if err := r.list(key); err != nil || r.dec != nil {
				return err // or the reference reader read the rest
			}
		}
		at = afterMember
	}
}

// member reads the key and value at the start of the unread text (after a
// comma if comma): a list of changes to hand over is only opened (stream),
// any other value is decoded into v. ok is false, with nothing read, when
// the member is not in a form read here or not whole in the answer.
func (r *streamReader) member(comma bool) (key string, stream, ok bool, err error) {
	for {
		p := scan{b: r.in.unread()}
		if comma && !p.byte(',') {
			if r.in.retry(&p) {
				continue
			}
			return "", false, false, nil
		}
		name, ok := p.bytes(false)
		if ok && p.byte(':') {
			key := string(name)
			p.space()
			start := p.i
			if (key == "state" || key == "changes") && r.canStream(key == "state") {
				if p.peek() == '[' && !p.short {
					r.seen[key] = true
					r.in.pos += p.i + 1
					return key, true, true, nil
				}
			} else if p.value() && p.ends(start) && !p.short {
				// Decoded as json.Unmarshal would decode the key on its
				// own into v: the same rules for every other key.
				raw := p.b[start:p.i]
				obj := make([]byte, 0, len(key)+len(raw)+8)
				obj = append(obj, '{')
				q, _ := json.Marshal(key)
				obj = append(append(append(obj, q...), ':'), raw...)
				obj = append(obj, '}')
				r.seen[key] = true
				r.in.pos += p.i
				return key, false, true, json.Unmarshal(obj, r.v)
			}
		}
		if r.in.retry(&p) {
			continue
		}
		return "", false, false, nil
	}
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

// list hands the changes of the list key, whose '[' has been read, to
// each.
func (r *streamReader) list(key string) error {
	state := key == "state"
	where := inList
	for i := 0; ; i++ {
		end, ok := r.change(where == afterChange)
		switch {
		case end:
			return nil
		case !ok:
			return r.reference(where, key, i)
		}
		d, err := r.ch.convert(true, r.values) // the scan checked the values
		if err != nil {
			return at(i, err)
		}
		if err := r.each(state, d); err != nil {
			r.eachErr = err
			return errEach
		}
		r.streamed[key]++
		where = afterChange
	}
}

// change reads the list's next change into r.ch (after a comma if comma),
// or its end. ok is false, with nothing read, when what follows is not
// read here.
func (r *streamReader) change(comma bool) (end, ok bool) {
	for {
		p := scan{b: r.in.unread()}
		p.space()
		if p.peek() == ']' {
			r.in.pos += p.i + 1
			return true, true
		}
		if (!comma || p.byte(',')) && r.fastChange(&p, &r.ch) && !p.short {
			r.in.pos += p.i
			return false, true
		}
		if !r.in.retry(&p) {
			return false, false
		}
	}
}

// reference reads the rest of the answer with a json.Decoder, from point
// at (in the list key, before its change i, for inList and afterChange).
// The decoder is first brought to the state it would be in there had it
// read the answer from its start, by a prefix that leaves it so: what it
// does next depends only on that state and the text that follows.
func (r *streamReader) reference(at point, key string, i int) error {
	prefix := [...]string{atStart: "", inObject: "{", afterMember: `{"":{}`, inList: `{"":[`, afterChange: `{"":[{}`, atEnd: "{}"}[at]
	r.dec = json.NewDecoder(io.MultiReader(strings.NewReader(prefix), &r.in))
	var skip json.RawMessage
	switch at {
	case inObject:
		r.dec.Token()
	case afterMember:
		r.dec.Token()
		r.dec.Token()
		r.dec.Decode(&skip)
	case inList:
		r.dec.Token()
		r.dec.Token()
		r.dec.Token()
	case atEnd:
		r.dec.Token()
		r.dec.Token()
	case afterChange:
		r.dec.Token()
		r.dec.Token()
		r.dec.Token()
		r.dec.Decode(&skip)
	}
	switch at {
	case atStart:
		if err := r.delim('{'); err != nil {
			return err
		}
	case inList, afterChange:
		if err := r.refChanges(key, i); err != nil {
			return err
		}
	case atEnd:
		return r.refEnd()
	}
	return r.refMembers()
}

// refMembers reads the answer's members from the next one on, and its end.
func (r *streamReader) refMembers() error {
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
			if err := r.refList(key); err != nil {
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
	return r.refEnd()
}

// refEnd checks that nothing follows the answer.
func (r *streamReader) refEnd() error {
	if _, err := r.dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the answer")
		}
		return err
	}
	return nil
}

// refList hands the changes of the list key to each.
func (r *streamReader) refList(key string) error {
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
	return r.refChanges(key, 0)
}

// refChanges hands the changes of the list key, from its change i on, to
// each, and reads the list's end.
func (r *streamReader) refChanges(key string, i int) error {
	state := key == "state"
	for ; r.dec.More(); i++ {
		var raw json.RawMessage
		if err := r.dec.Decode(&raw); err != nil {
			return err
		}
		var c Change
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		d, err := c.convert(true, valid) // the decoder checked the values
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

// input is a body read through a buffer that the plain reader scans in
// place; as an io.Reader it gives what is left unread, and then the rest
// of the body.
type input struct {
	src io.Reader
	buf []byte // buf[pos:] is unread
	pos int
	err error // src's, once it has failed or ended
}

// unread returns the text read from src and not yet used.
func (in *input) unread() []byte { return in.buf[in.pos:] }

// next skips spaces and returns the next byte, reading more as needed;
// false when the body has ended (or failed: err) first.
func (in *input) next() (byte, bool) {
	for {
		for ; in.pos < len(in.buf); in.pos++ {
			if c := in.buf[in.pos]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return c, true
			}
		}
		if !in.fill(1) {
			return 0, false
		}
	}
}

// retry reports, for a scan of the unread text that ran off its end,
// whether more of the body could be read: at least as much again, so that
// a long text is scanned a bounded number of times.
func (in *input) retry(p *scan) bool {
	return p.short && in.fill(2*len(in.buf[in.pos:])+1)
}

// fill reads from src until at least want bytes are unread or src has
// ended, reporting whether it read any.
func (in *input) fill(want int) bool {
	if in.err != nil {
		return false
	}
	n := copy(in.buf[:cap(in.buf)], in.buf[in.pos:])
	in.buf, in.pos = in.buf[:n], 0
	if want > cap(in.buf) {
		grown := make([]byte, n, max(want, 2*cap(in.buf), 32<<10))
		copy(grown, in.buf)
		in.buf = grown
	}
	read := false
	for len(in.buf) < want && in.err == nil {
		m, err := in.src.Read(in.buf[len(in.buf):cap(in.buf)])
		in.buf = in.buf[:len(in.buf)+m]
		read = read || m > 0
		in.err = err
	}
	return read
}

// Read gives the unread text, then the rest of src: what the reference
// reader reads.
func (in *input) Read(p []byte) (int, error) {
	if in.pos < len(in.buf) {
		n := copy(p, in.buf[in.pos:])
		in.pos += n
		return n, nil
	}
	if in.err != nil {
		return 0, in.err
	}
	return in.src.Read(p)
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

// fastChange reads one change at p, in the form a server writes — the
// known keys once each, the strings of the header (ASCII) and the field
// names without escapes, values of any JSON — checking the text as it
// goes, into c as json.Unmarshal would decode it. The header's strings are
// slices of one string, the fields' values slices of one copy of their
// text; c's maps are reused from the change before. It reports false, at
// any point of p, when the text is not in that form or not JSON (with
// p.short when it is not whole in p).
func (r *streamReader) fastChange(p *scan, c *Change) bool {
	if !p.byte('{') {
		return false
	}
	var head [5]span // id, kind, record, author, stamp
	r.fields, r.base = r.fields[:0], r.base[:0]
	p.loose = false
	var fields span // the text of the fields' object
	var seen uint8
	for first := true; ; first = false {
		p.space()
		if p.peek() == '}' {
			p.i++
			break
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.bytes(true)
		if !ok || !p.byte(':') {
			return false
		}
		p.space()
		var bit uint8
		switch string(key) {
		case "fields":
			bit = 1 << 5
			fields.from = p.i
			if !r.object(p, false) {
				return false
			}
			fields.to = p.i
		case "base":
			bit = 1 << 6
			if !r.object(p, true) {
				return false
			}
		default:
			n := headIndex(key)
			if n < 0 {
				return false
			}
			bit = 1 << n
			from := p.i + 1
			s, ok := p.bytes(true)
			if !ok {
				return false
			}
			head[n] = span{from: from, to: from + len(s)}
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
	}
	if p.short {
		return false
	}
	r.values = compact
	if p.loose {
		r.values = valid
	}

	// One string for the header and the base stamps, which only pass
	// through the checks: from the first of them to the last.
	lo, hi := len(p.b), 0
	for n, s := range head {
		if seen&(1<<n) != 0 {
			lo, hi = min(lo, s.from), max(hi, s.to)
		}
	}
	for _, s := range r.base {
		lo, hi = min(lo, s.from), max(hi, s.to)
	}
	var text string
	if lo < hi {
		text = string(p.b[lo:hi])
	}
	str := func(n int) string {
		if seen&(1<<n) == 0 {
			return ""
		}
		return text[head[n].from-lo : head[n].to-lo]
	}
	c.ID, c.Record, c.Author, c.Stamp = str(0), str(2), str(3), str(4)
	c.Kind = domain.Kind(str(1))
	for _, k := range domain.Kinds {
		if k == c.Kind {
			c.Kind = k // not a slice of text
		}
	}
	c.Fields = nil
	if seen&(1<<5) != 0 {
		if r.fieldMap == nil || len(r.fieldMap) > 64 {
			r.fieldMap = make(map[string]json.RawMessage, len(r.fields))
		}
		clear(r.fieldMap)
		values := bytes.Clone(p.b[fields.from:fields.to])
		for _, f := range r.fields {
			from, to := f.from-fields.from, f.to-fields.from
			r.fieldMap[f.name] = values[from:to:to]
		}
		c.Fields = r.fieldMap
	}
	c.Base = nil
	if seen&(1<<6) != 0 {
		if r.baseMap == nil || len(r.baseMap) > 64 {
			r.baseMap = make(map[string]string, len(r.base))
		}
		clear(r.baseMap)
		for _, b := range r.base {
			r.baseMap[b.name] = text[b.from-lo : b.to-lo]
		}
		c.Base = r.baseMap
	}
	return true
}

// span is the text of a value at p.b[from:to], and its key.
type span struct {
	name     string
	from, to int
}

// headIndex returns the index in fastChange's head of the header key, or -1.
func headIndex(key []byte) int {
	switch string(key) {
	case "id":
		return 0
	case "kind":
		return 1
	case "record":
		return 2
	case "author":
		return 3
	case "stamp":
		return 4
	}
	return -1
}

// object reads the object of a change's fields (into r.fields) or base
// (r.base: its values are strings, ASCII without escapes).
func (r *streamReader) object(p *scan, base bool) bool {
	if !p.byte('{') {
		return false
	}
	for n := 0; ; n++ {
		p.space()
		if p.peek() == '}' {
			p.i++
			return true
		}
		if n > 0 && !p.byte(',') {
			return false
		}
		name, ok := p.bytes(false)
		if !ok || !p.byte(':') {
			return false
		}
		p.space()
		from := p.i
		if base {
			s, ok := p.bytes(true)
			if !ok {
				return false
			}
			r.base = append(r.base, span{r.name(name), from + 1, from + 1 + len(s)})
			continue
		}
		if !p.value() {
			return false
		}
		r.fields = append(r.fields, span{r.name(name), from, p.i})
	}
}

// maxNames bounds the field names a reader keeps one copy of.
const maxNames = 1024

// name returns b as a string, one copy for every change that names it.
func (r *streamReader) name(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.names == nil {
		r.names = map[string]string{}
	}
	if len(r.names) < maxNames {
		r.names[s] = s
	}
	return s
}

// scan reads JSON text, reporting false for what is not JSON or not read
// here, and setting short when it ran off the end of b.
type scan struct {
	b     []byte
	i     int
	short bool
	loose bool // value skipped a space within a value
}

func (p *scan) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	p.short = true
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

// bytes reads a string without escapes, in valid UTF-8 (ASCII only if
// ascii), false for any other; it returns the string's text.
func (p *scan) bytes(ascii bool) ([]byte, bool) {
	p.space()
	if p.peek() != '"' {
		return nil, false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			p.i = j + 1
			return s, true
		case c == '\\' || c < 0x20 || ascii && c >= utf8.RuneSelf:
			return nil, false
		}
	}
	p.short = true
	return nil, false
}

// maxDepth is the deepest nesting value reads.
const maxDepth = 64

// value reads one JSON value, whatever it holds.
func (p *scan) value() bool {
	var objects uint64 // bit d: the value open at depth d is an object
	depth := 0
	for {
		p.spaceIn()
		switch c := p.peek(); {
		case c == '{' || c == '[':
			if depth == maxDepth {
				return false
			}
			p.i++
			objects &^= 1 << depth
			if c == '{' {
				objects |= 1 << depth
			}
			depth++
			p.spaceIn()
			if c == '{' && p.peek() == '}' || c == '[' && p.peek() == ']' {
				p.i++
				depth--
				break
			}
			if c == '{' && !p.key() {
				return false
			}
			continue
		case c == '"':
			if !p.str() {
				return false
			}
		case c == '-' || c >= '0' && c <= '9':
			if !p.number() {
				return false
			}
		case c == 't':
			if !p.literal("true") {
				return false
			}
		case c == 'f':
			if !p.literal("false") {
				return false
			}
		case c == 'n':
			if !p.literal("null") {
				return false
			}
		default:
			return false
		}
		// After a value: close what it ends, or go on to the next one.
		for {
			if depth == 0 {
				return true
			}
			p.spaceIn()
			c, object := p.peek(), objects>>(depth-1)&1 == 1
			if c == ',' {
				p.i++
				if object && !p.key() {
					return false
				}
				break
			}
			if object && c != '}' || !object && c != ']' {
				return false
			}
			p.i++
			depth--
		}
	}
}

// ends reports, for the value read from start, whether the text shows where
// it ends as a json.Decoder sees it: one byte more, unless the value is an
// object or a list (sets short if that byte is still to come).
func (p *scan) ends(start int) bool {
	if c := p.b[start]; c != '{' && c != '[' {
		p.peek()
	}
	return true
}

// spaceIn skips space within a value.
func (p *scan) spaceIn() {
	i := p.i
	p.space()
	p.loose = p.loose || p.i > i
}

// key reads an object's key and its colon.
func (p *scan) key() bool {
	p.spaceIn()
	if p.peek() != '"' || !p.str() {
		return false
	}
	p.spaceIn()
	return p.byte(':')
}

// str reads a string, escapes and all.
func (p *scan) str() bool {
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if j+1 >= len(p.b) {
				p.short = true
				return false
			}
			j++
			switch p.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(p.b) {
					p.short = true
					return false
				}
				if _, ok := hex4(p.b, j+1); !ok {
					return false
				}
				j += 4
			default:
				return false
			}
		}
	}
	p.short = true
	return false
}

// number reads a number as JSON writes it.
func (p *scan) number() bool {
	if p.peek() == '-' {
		p.i++
	}
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return false
	}
	if p.peek() == '.' {
		p.i++
		if !p.digits() {
			return false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more digits.
func (p *scan) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i == len(p.b) {
		p.short = true
	}
	return p.i > start
}

func (p *scan) literal(s string) bool {
	if len(p.b)-p.i < len(s) {
		p.short = true
		return false
	}
	if string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}
