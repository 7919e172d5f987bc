package protocol

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"

	"bangfu/domain"
)

// gzipMin is the smallest body worth compressing: below it gzip's 18 bytes
// of framing cost more than they save.
const gzipMin = 200

// Marshal returns the wire encoding of v: JSON without HTML escaping and
// without a trailing newline.
func Marshal(v any) ([]byte, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, fmt.Errorf("protocol: encode %T: %w", v, err)
	}
	return b, nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Unmarshal decodes data, the JSON text of a request, into v the way a
// server does: exactly one JSON object, no unknown fields (a field added to
// a request is a new version), keys matched exactly (JSON is case-sensitive)
// and never repeated, and, when v has a Validate method (every
// request and response type here does), the version and content checked.
// A body whose "v" is not Version is refused with an error matching
// [ErrVersion] even when the rest does not fit this version's shapes. Every
// error is an EINVALID *domain.Error.
func Unmarshal(data []byte, v any) error {
	if err := checkUTF8(data); err != nil {
		return err
	}
	err := decodeJSON(data, v)
	if err == nil {
		err = checkKeys(data, shapeOf(reflect.TypeOf(v))) // unknown, repeated or miscased keys
	}
	if err != nil {
		if ver, ok := peekVersion(data); ok && ver != Version {
			return versionError(ver)
		}
		return malformed(err)
	}
	return validate(v)
}

// checkUTF8 refuses a body that is not valid UTF-8 or that escapes a lone
// UTF-16 surrogate (\udc00): Go's decoder would quietly replace either with
// U+FFFD, and a stricter one on another device would fail on it for ever.
// The error has field "utf8"; the body is refused whole (a correct client
// never sends one).
func checkUTF8(data []byte) error {
	bad := func(at int) error {
		return domain.Errorf(domain.EINVALID, "utf8", "请求内容不是有效的 UTF-8 文本（第 %d 字节）",
			"the request is not valid UTF-8 text (at byte %d)", at)
	}
	if !utf8.Valid(data) {
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				return bad(i)
			}
			i += n
		}
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' || i+1 >= len(data) {
			continue
		}
		if data[i+1] != 'u' {
			i++ // an escape such as \" or \\: skip the escaped byte
			continue
		}
		r, ok := hex4(data, i+2)
		switch {
		case !ok:
			return nil // not JSON: the decoder says so
		case r >= 0xd800 && r < 0xdc00: // high surrogate: a low one must follow
			lo, ok := hex4(data, i+8)
			if i+7 >= len(data) || data[i+6] != '\\' || data[i+7] != 'u' || !ok || lo < 0xdc00 || lo >= 0xe000 {
				return bad(i)
			}
			i += 11
		case r >= 0xdc00 && r < 0xe000:
			return bad(i)
		default:
			i += 5
		}
	}
	return nil
}

// hex4 reads four hex digits at data[i:].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// decodeJSON decodes data, exactly one JSON value, into v, ignoring unknown
// keys.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(data, v)
}

func validate(v any) error {
	if val, ok := v.(interface{ Validate() error }); ok {
		return val.Validate()
	}
	return nil
}

// peekVersion returns the top-level "v" of data, if data is an object with
// an integer "v".
func peekVersion(data []byte) (int, bool) {
	var p struct {
		V *int `json:"v"`
	}
	if json.Unmarshal(data, &p) != nil || p.V == nil {
		return 0, false
	}
	return *p.V, true
}

func malformed(err error) error {
	var e *domain.Error
	if errors.As(err, &e) {
		return e
	}
	return domain.Errorf(domain.EINVALID, "body", "请求不是有效的 JSON：%v", "malformed JSON: %v", err)
}

// errCap is returned by a capReader that has read past its limit.
var errCap = errors.New("protocol: body over the limit")

// capReader reads at most left bytes from r and fails with errCap when r has
// more, without reading further: what keeps a gzip bomb from filling memory.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, errCap
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, errCap
	}
	return n, err
}

// errEncoding reports a Content-Encoding other than gzip or identity.
type errEncoding string

func (e errEncoding) Error() string {
	return "unsupported Content-Encoding " + strconv.Quote(string(e))
}

var gzipReaders sync.Pool

// errBusy is returned by a read that its Budget cannot afford.
var errBusy = errors.New("protocol: memory budget spent")

// A Budget bounds what the request bodies a server is reading may cost at
// once: the bytes of the buffers they are read into, and how many are being
// decompressed. A body that would take it past either bound is refused at
// once with [ErrBusy] (the device retries later), never queued, so that
// bodies stalled by slow or hostile clients hold only what they have sent
// and cannot make others wait. A Budget is safe for concurrent use.
type Budget struct {
	mu           sync.Mutex
	held, max    int64
	inflating    int
	maxInflating int
}

// InflateCost is what a Budget counts for each body being decompressed:
// a gzip reader's window and tables.
const InflateCost = 64 << 10

// NewBudget returns a budget of maxBytes of body buffers and maxInflating
// bodies decompressed at once.
func NewBudget(maxBytes int64, maxInflating int) *Budget {
	return &Budget{max: maxBytes, maxInflating: maxInflating}
}

// Held returns the bytes held now.
func (b *Budget) Held() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held
}

func (b *Budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held+n > b.max {
		return false
	}
	b.held += n
	return true
}

func (b *Budget) give(n int64) {
	b.mu.Lock()
	b.held -= n
	b.mu.Unlock()
}

func (b *Budget) startInflate() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inflating >= b.maxInflating || b.held+InflateCost > b.max {
		return false
	}
	b.inflating++
	b.held += InflateCost
	return true
}

func (b *Budget) endInflate() {
	b.mu.Lock()
	b.inflating--
	b.held -= InflateCost
	b.mu.Unlock()
}

// claim is what one read holds against a Budget; a nil claim is unbounded.
type claim struct {
	b    *Budget
	held int64
}

func (c *claim) take(n int64) bool {
	if c == nil {
		return true
	}
	if !c.b.take(n) {
		return false
	}
	c.held += n
	return true
}

func (c *claim) release() {
	if c != nil && c.held > 0 {
		c.b.give(c.held)
		c.held = 0
	}
}

// readBody reads a body sent with header h and length (-1 if unknown):
// gzip-compressed bodies at most maxWire bytes as sent, and at most maxPlain
// bytes of content either way, holding its buffers against c.
func readBody(h http.Header, body io.Reader, length, maxWire, maxPlain int64, c *claim) ([]byte, error) {
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	switch enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))); enc {
	case "", "identity":
		if length > maxPlain {
			return nil, errCap
		}
		return readAll(&capReader{r: body, left: maxPlain}, length, maxPlain, c)
	case "gzip", "x-gzip":
		if length > maxWire {
			return nil, errCap
		}
		if c != nil {
			if !c.b.startInflate() {
				return nil, errBusy
			}
			defer c.b.endInflate()
		}
		raw := &capReader{r: body, left: maxWire}
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
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer gzipReaders.Put(zr)
		data, err := readAll(&capReader{r: zr, left: maxPlain}, -1, maxPlain, c)
		if err != nil && !errors.Is(err, errCap) && !errors.Is(err, errBusy) {
			err = fmt.Errorf("gzip: %w", err)
		}
		return data, err
	default:
		return nil, errEncoding(enc)
	}
}

// readAll reads r to its end. Without a claim it reads as io.ReadAll does
// (into a buffer of length+1 when the length is known); with one, its buffer
// starts small whatever the length claims and grows, up to maxPlain+1 bytes,
// as data arrives, each growth taken from the claim first.
func readAll(r io.Reader, length, maxPlain int64, c *claim) ([]byte, error) {
	if c == nil {
		if length < 0 {
			return io.ReadAll(r)
		}
		buf := bytes.NewBuffer(make([]byte, 0, length+1))
		_, err := buf.ReadFrom(r)
		return buf.Bytes(), err
	}
	size := int64(4 << 10)
	if length >= 0 {
		size = min(length+1, 64<<10)
	}
	size = min(size, maxPlain+1)
	if !c.take(size) {
		return nil, errBusy
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			grow := min(int64(cap(buf)), maxPlain+1-int64(cap(buf)))
			if grow <= 0 {
				// Full at maxPlain+1: the capReader fails first.
				grow = 1
			}
			if !c.take(grow) {
				return nil, errBusy
			}
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// compress returns data gzip-compressed.
func compress(data []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(data)/4 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	zw.Write(data) // writes to a bytes.Buffer do not fail
	zw.Close()
	return buf.Bytes()
}

// acceptsGzip reports whether a request with header h accepts a gzip body.
func acceptsGzip(h http.Header) bool {
	gz, star := -1.0, -1.0
	for _, v := range h.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(part, ";")
			q := 1.0
			if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					q = f
				}
			}
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "gzip", "x-gzip":
				gz = q
			case "*":
				star = q
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}

// isJSON reports whether header h says the body is JSON.
func isJSON(h http.Header) bool {
	t, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && t == "application/json"
}

// ReadRequest reads the body of r into v, a pointer to one of the request
// types, as a server must: Content-Type application/json, Content-Encoding
// gzip or none, at most MaxCompressedBytes as sent and MaxRequestBytes of
// JSON (a body declared larger is refused before it is read), then
// [Unmarshal]. Every error is an EINVALID *domain.Error with the reason in
// Chinese and English, to be answered with [WriteError].
func ReadRequest(r *http.Request, v any) error {
	if !isJSON(r.Header) {
		return domain.Errorf(domain.EINVALID, "content-type",
			"请求的 Content-Type 应为 application/json，而不是 %q",
			"the request's Content-Type must be application/json, not %q", clip(r.Header.Get("Content-Type")))
	}
	data, err := readBody(r.Header, r.Body, r.ContentLength, MaxCompressedBytes, MaxRequestBytes, nil)
	if err != nil {
		return requestBodyError(err, MaxCompressedBytes, MaxRequestBytes)
	}
	return Unmarshal(data, v)
}

// ReadRequestWithin reads the body of r into v as [ReadRequest] does, with at
// most maxPlain bytes of JSON (no more than MaxRequestBytes; a larger or
// undeclared body is refused with "size" as soon as it passes), holding its
// buffer against b: a body b cannot afford is refused with [ErrBusy]. The
// bytes stay held until release is called, once the request is handled (the
// decoded v is about as large); release is never nil.
func ReadRequestWithin(r *http.Request, v any, maxPlain int64, b *Budget) (release func(), err error) {
	if !isJSON(r.Header) {
		return func() {}, ReadRequest(r, v)
	}
	c := &claim{b: b}
	maxPlain = min(maxPlain, MaxRequestBytes)
	maxSent := min(MaxCompressedBytes, maxPlain)
	data, err := readBody(r.Header, r.Body, r.ContentLength, maxSent, maxPlain, c)
	if err != nil {
		c.release()
		return func() {}, requestBodyError(err, maxSent, maxPlain)
	}
	return c.release, Unmarshal(data, v)
}

// requestBodyError words an error reading a request body whose caps were
// maxSent bytes as sent and maxPlain of JSON: a refusal names the caps of
// the endpoint that refused, not the sync's.
func requestBodyError(err error, maxSent, maxPlain int64) error {
	var enc errEncoding
	switch {
	case errors.Is(err, errBusy):
		return ErrBusy
	case errors.Is(err, errCap):
		return domain.Errorf(domain.EINVALID, ErrTooLarge.Field,
			"请求太大：压缩后最多 %s，解压后最多 %s；请分批同步",
			"request too large: at most %s compressed and %s of JSON; sync in smaller batches",
			sizeText(maxSent), sizeText(maxPlain))
	case errors.As(err, &enc):
		return domain.Errorf(domain.EINVALID, "content-encoding",
			"不支持的 Content-Encoding %q（应为 gzip 或不压缩）",
			"unsupported Content-Encoding %q (use gzip or none)", clip(string(enc)))
	}
	return domain.Errorf(domain.EINVALID, "body", "无法读取请求内容：%v", "cannot read the request body: %v", err)
}

// WriteJSON answers with status and v as JSON, gzip-compressed when the
// request r accepts it and the body is large enough to gain. Responses are
// marked not to be cached. It returns the error of writing, which means the
// client has gone.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	body, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = marshal(ErrorBodyOf(err))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	if len(body) >= gzipMin && r != nil && acceptsGzip(r.Header) {
		body = compress(body)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r != nil && r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(body)
	return err
}

// WriteError answers with the status [StatusCode] gives err and the
// [ErrorBody] [ErrorBodyOf] gives it; a 401 carries WWW-Authenticate.
func WriteError(w http.ResponseWriter, r *http.Request, err error) error {
	status := StatusCode(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bangfu"`)
	}
	return WriteJSON(w, r, status, ErrorBodyOf(err))
}

// BearerToken returns the token of r's "Authorization: Bearer <token>"
// header, and whether there is one.
func BearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// NewRequest returns a request to url with v, if not nil, as its JSON body
// (gzip-compressed when large enough to gain), accepting a gzip-compressed
// answer, and carrying token, if not empty, as a bearer token. A body over
// the size limits is refused here with an error matching [ErrTooLarge], so
// the device sends fewer changes. Read the answer with [ReadResponse].
func NewRequest(ctx context.Context, method, url, token string, v any) (*http.Request, error) {
	if err := checkURL(url); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "url", "服务器地址无效：%s", "bad server address: %s", clip(url))
	}
	if v != nil {
		body, err := Marshal(v)
		if err != nil {
			return nil, err
		}
		if len(body) > MaxRequestBytes {
			return nil, requestBodyError(errCap, MaxCompressedBytes, MaxRequestBytes)
		}
		if len(body) >= gzipMin {
			body = compress(body)
			if len(body) > MaxCompressedBytes {
				return nil, requestBodyError(errCap, MaxCompressedBytes, MaxRequestBytes)
			}
			req.Header.Set("Content-Encoding", "gzip")
		}
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return domain.Errorf(domain.EINVALID, "url",
			"服务器地址无效：%q（应以 http:// 或 https:// 开头）",
			"bad server address %q (it starts with http:// or https://)", clip(raw))
	}
	return nil
}

// ReadResponse reads resp into v and closes its body. For a 2xx answer it
// decodes the JSON (unknown fields are ignored, so a server may add fields
// within a version) and checks it with v's Validate method; an answer that
// cannot be read — cut short, not JSON, a Wi-Fi login page — is an
// EUNAVAILABLE error, worth retrying. For any other status it returns the
// *domain.Error of the [ErrorBody] (within a [ChangesError] when the body
// names changes), or one made from the status when the body is not an error
// body (a proxy's page): see [Transient].
func ReadResponse(resp *http.Response, v any) error {
	defer resp.Body.Close()
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	data, err := readBody(resp.Header, resp.Body, resp.ContentLength, MaxResponseBytes, MaxResponseBytes, nil)
	if err != nil {
		if !ok {
			return statusError(resp.StatusCode)
		}
		if errors.Is(err, errCap) {
			return domain.Errorf(domain.EINVALID, "size", "服务器的回复太大（超过 %d MiB）",
				"the server's answer is too large (over %d MiB)", MaxResponseBytes>>20)
		}
		return unreadable(err)
	}
	if !ok {
		return errorOf(resp.StatusCode, resp.Header, data)
	}
	if !isJSON(resp.Header) {
		return domain.Errorf(domain.EUNAVAILABLE, "content-type",
			"收到的不是同步服务器的回复（Content-Type %q，可能需要先登录 Wi-Fi）",
			"the answer is not from the sync server (Content-Type %q; a Wi-Fi login page?)", clip(resp.Header.Get("Content-Type")))
	}
	if v == nil {
		return nil
	}
	if err := decodeJSON(data, v); err != nil {
		if ver, ok := peekVersion(data); ok && ver != Version {
			return versionError(ver)
		}
		return unreadable(err)
	}
	return validate(v)
}

func unreadable(err error) error {
	return &domain.Error{Code: domain.EUNAVAILABLE, Field: "body",
		Zh: "服务器的回复不完整或无法读取，请稍后重试",
		En: fmt.Sprintf("the server's answer was cut short or unreadable (%v); try again later", err)}
}

// errorOf returns the error a non-2xx response reports.
func errorOf(status int, h http.Header, data []byte) error {
	var b ErrorBody
	if !isJSON(h) || json.Unmarshal(data, &b) != nil {
		return statusError(status)
	}
	if _, known := statusOf[b.Error.Code]; !known {
		return statusError(status)
	}
	e := b.Err()
	if e.Zh == "" || e.En == "" {
		g := statusError(status)
		if e.Zh == "" {
			e.Zh = g.Zh
		}
		if e.En == "" {
			e.En = g.En
		}
	}
	if len(b.Error.Changes) == 0 {
		return e
	}
	// A list the device cannot read whole names nothing: the error stays
	// the error of the whole push.
	ids := make([]uuid.UUID, 0, len(b.Error.Changes))
	for _, s := range b.Error.Changes {
		id, err := uuid.Parse(s)
		if err != nil || id == uuid.Nil {
			return e
		}
		ids = append(ids, id)
	}
	return &ChangesError{Err: e, Changes: ids}
}

// sizeText writes a byte count as people read a limit: 8 MiB, 64 KiB.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	if n >= 1<<10 && n%(1<<10) == 0 {
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
