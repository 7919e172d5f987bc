package protocol

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"bangfu/domain"
)

// Version is the protocol version this package speaks: the "v" of every body.
const Version = 1

// The endpoints.
const (
	PathEnroll = "/v1/enroll" // POST: trade a one-time code for a device token
	PathSync   = "/v1/sync"   // POST: push unsent changes, pull unseen ones
	PathHealth = "/healthz"   // GET: is the server up, and which version it speaks
	// PathEscrow: POST a device's data key for the server to keep sealed.
	PathEscrow = "/v1/escrow"
	// PathRelease: POST to take the kept data key back once the office has
	// unlocked the device (a forgotten PIN).
	PathRelease = "/v1/escrow/release"
	// PathAudit: POST what a device's user did that the office must see
	// (a whole ID number revealed on screen).
	PathAudit = "/v1/audit"
)

// HeaderFeatures is the request header in which a device names the
// additions to this version it understands, separated by commas; a server
// uses an addition only with a device that names it. Older servers ignore
// the header.
const HeaderFeatures = "Bangfu-Features"

// FeatureEntered names the catch-up of what entered a device's scope: an
// answer without Reset whose State holds only the records that came into
// the scope, and whose Left names the records that left it (see Catch-up in
// the package documentation).
const FeatureEntered = "catchup-entered"

// Size limits. A receiver refuses a body beyond them with [ErrTooLarge].
const (
	// MaxRequestBytes caps a request body after decompression: the JSON text.
	MaxRequestBytes = 32 << 20
	// MaxCompressedBytes caps a gzip-compressed request body as it travels.
	// An uncompressed body is capped by MaxRequestBytes alone.
	MaxCompressedBytes = 8 << 20
	// MaxResponseBytes caps a response body after decompression on the
	// client: a full page plus one oversized change and the envelope.
	MaxResponseBytes = 2 * MaxRequestBytes
	// PageBytes is the budget, in uncompressed bytes as measured by
	// [Change.Size], for the changes of one sync response; a server fills a
	// page up to it. A device keeps each push within it too. Record changes
	// compress 7 to 8 times, so a full page is about 1.5 MB on the wire:
	// a first sync takes one round trip per 1.5 MB.
	PageBytes = 12 << 20
	// MaxFieldName caps the length in bytes of a field name in a change.
	MaxFieldName = 64
	// MaxCursorBytes caps the length of a cursor.
	MaxCursorBytes = 512
	// MaxCodeBytes caps an enrolment code and a device name.
	MaxCodeBytes = 256
	// MaxEnrollBytes caps the body of an enrolment request after
	// decompression: a code and a name fit many times over, a gzip bomb is
	// stopped after this much.
	MaxEnrollBytes = 4 << 10
)

// Sentinel errors a client tests with errors.Is; they travel in the error
// body as their code and field, so they match on both sides of the wire.
var (
	// ErrVersion is returned for a body whose "v" this side does not speak.
	ErrVersion = &domain.Error{Code: domain.EINVALID, Field: "v",
		Zh: "协议版本不受支持", En: "unsupported protocol version"}
	// ErrTooLarge is returned for a body beyond the size limits; the device
	// sends fewer changes at a time.
	ErrTooLarge = &domain.Error{Code: domain.EINVALID, Field: "size",
		Zh: "请求太大", En: "request too large"}
	// ErrClockAhead is returned by [CheckStamps] when a stamp is more than
	// domain.MaxSkew ahead of the server's clock; the device corrects its
	// clock offset from the response's Date header, restamps its unsent
	// changes and pushes again.
	ErrClockAhead = &domain.Error{Code: domain.EINVALID, Field: "clock",
		Zh: "设备时钟比服务器快", En: "the device clock is ahead of the server's"}
	// ErrCursor is returned for a cursor the server cannot resume from; the
	// device forgets its cursor and pulls from the start (change IDs make the
	// repeated changes harmless).
	ErrCursor = &domain.Error{Code: domain.EINVALID, Field: "cursor",
		Zh: "同步位置无效", En: "invalid sync cursor"}
	// ErrLost is the answer to a device revoked as lost: 401, field "lost".
	// A device that receives it wipes its local store and returns to
	// enrolment.
	ErrLost = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "lost",
		Zh: "此设备已登记为丢失并被停用，本机数据已清除", En: "this device was reported lost and revoked; its data has been wiped"}
	// ErrReplaced is what a client returns after the last push of a device
	// revoked as replaced (a SyncResponse with "revoked": "replaced"): the
	// push was applied, nothing was pulled, and the token no longer works.
	ErrReplaced = &domain.Error{Code: domain.EUNAUTHORIZED, Field: "replaced",
		Zh: "此设备已换新设备并被停用：未同步的记录已送到服务器，请在新设备上继续工作",
		En: "this device has been replaced and revoked: its unsent records have reached the server; carry on on the new device"}
	// ErrBusy is returned when a server is reading as many request bodies
	// as its memory budget allows: 503, field "busy"; the device retries
	// later, as for any unavailable server.
	ErrBusy = &domain.Error{Code: domain.EUNAVAILABLE, Field: "busy",
		Zh: "服务器繁忙，请稍后重试", En: "the server is busy; try again later"}
	// ErrLocked is returned for an enrolment from an address (or, when
	// someone is guessing codes, from anywhere) after too many wrong codes:
	// 503, field "locked", with a Retry-After header.
	ErrLocked = &domain.Error{Code: domain.EUNAVAILABLE, Field: "locked",
		Zh: "注册码错误次数过多，注册已暂停，请稍后再试或联系管理员",
		En: "too many wrong enrolment codes: enrolment is paused; try again later or contact the administrator"}
)

// versionError explains an unsupported version v to whoever sent it.
func versionError(v int) *domain.Error {
	if v == 0 {
		return domain.Errorf(domain.EINVALID, "v",
			"缺少协议版本号 \"v\"（本端使用版本 %d）",
			"missing protocol version \"v\" (this side speaks version %d)", Version)
	}
	if v > Version {
		return domain.Errorf(domain.EINVALID, "v",
			"协议版本 %d 比本端（版本 %d）新：请升级较旧的一方（应用或服务器）",
			"protocol version %d is newer than this side's (version %d): upgrade the older side (app or server)", v, Version)
	}
	return domain.Errorf(domain.EINVALID, "v",
		"协议版本 %d 已不再支持（本端使用版本 %d）：请升级应用",
		"protocol version %d is no longer supported (this side speaks version %d): update the app", v, Version)
}

// checkVersion returns nil when v is Version.
func checkVersion(v int) error {
	if v != Version {
		return versionError(v)
	}
	return nil
}

// Time is a time on the wire: RFC 3339 in UTC with milliseconds, e.g.
// "2025-03-01T08:30:00.125Z". Any RFC 3339 time is accepted when decoding.
type Time struct{ time.Time }

// timeLayout is the form Time encodes to.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// At returns t as a wire time, truncated to the millisecond.
func At(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// MarshalJSON encodes t in the wire form.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(timeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON decodes an RFC 3339 time, keeping it in UTC.
func (t *Time) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return domain.Errorf(domain.EINVALID, "now", "时间格式无效：%s", "bad time: %s", clip(string(b)))
	}
	v, err := time.Parse(time.RFC3339Nano, string(b[1:len(b)-1]))
	if err != nil {
		return domain.Errorf(domain.EINVALID, "now", "时间格式无效：%s", "bad time: %s", clip(string(b)))
	}
	t.Time = v.UTC()
	return nil
}

// EnrollRequest is the body of POST /v1/enroll: a one-time code issued by an
// administrator for a cadre, a name for the device that people recognise, and
// the device's own ID.
type EnrollRequest struct {
	V    int    `json:"v"`
	Code string `json:"code"` // the one-time enrolment code
	Name string `json:"name"` // e.g. 马兴文的手机
	// Device is the ID the device made for itself when its database was
	// created (its clock stamps with it); the server binds the token to it.
	// A server refuses an enrolment without it.
	Device uuid.UUID `json:"device,omitzero"`
}

// Validate checks the request on its own.
func (r *EnrollRequest) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if strings.TrimSpace(r.Code) == "" {
		return domain.Errorf(domain.EINVALID, "code", "请输入注册码", "enter the enrolment code")
	}
	if len(r.Code) > MaxCodeBytes {
		return domain.Errorf(domain.EINVALID, "code", "注册码太长", "the enrolment code is too long")
	}
	if strings.TrimSpace(r.Name) == "" {
		return domain.Errorf(domain.EINVALID, "name", "请填写设备名称", "enter a name for the device")
	}
	if len(r.Name) > MaxCodeBytes {
		return domain.Errorf(domain.EINVALID, "name", "设备名称太长", "the device name is too long")
	}
	if !utf8.ValidString(r.Name) || strings.ContainsRune(r.Name, utf8.RuneError) {
		return domain.Errorf(domain.EINVALID, "name", "设备名称含有无效字符（不是有效的 UTF-8）",
			"the device name holds invalid characters (not valid UTF-8)")
	}
	if r.Device == uuid.Nil {
		return domain.Errorf(domain.EINVALID, "device", "注册请求缺少设备标识（请升级应用）",
			"the enrolment request has no device ID (update the app)")
	}
	return nil
}

// MaxDataKey caps the data key a device deposits, in bytes.
const MaxDataKey = 64

// EscrowRequest is the body of POST /v1/escrow: the device's data key (the
// key its store is encrypted with), which the server keeps sealed under a
// key of its own, so that a cadre who forgets the app's PIN loses nothing
// that was not synced. The answer is an [EscrowResponse].
type EscrowRequest struct {
	V   int    `json:"v"`
	Key []byte `json:"key"` // base64 in JSON
}

// Validate checks the request on its own.
func (r *EscrowRequest) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if len(r.Key) < 16 || len(r.Key) > MaxDataKey {
		return domain.Errorf(domain.EINVALID, "key", "数据密钥的长度不对", "the data key has the wrong length")
	}
	return nil
}

// EscrowResponse acknowledges a deposit, with the server's time.
type EscrowResponse struct {
	V   int  `json:"v"`
	Now Time `json:"now"`
}

// Validate checks the response on its own.
func (r *EscrowResponse) Validate() error { return checkVersion(r.V) }

// ReleaseRequest is the body of POST /v1/escrow/release: the unlock code
// the township office issued for this device, or no code when the office
// has enrolled the device again (its new token authenticates the request).
// A locked device cannot read its token: it sends its ID and the unlock
// code, without a token.
type ReleaseRequest struct {
	V      int       `json:"v"`
	Code   string    `json:"code,omitempty"`
	Device uuid.UUID `json:"device,omitzero"`
}

// Validate checks the request on its own.
func (r *ReleaseRequest) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if len(r.Code) > MaxCodeBytes {
		return domain.Errorf(domain.EINVALID, "code", "解锁码太长", "the unlock code is too long")
	}
	return nil
}

// ReleaseResponse gives the device its data key back.
type ReleaseResponse struct {
	V   int    `json:"v"`
	Key []byte `json:"key"`
}

// Validate checks the response on its own.
func (r *ReleaseResponse) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if len(r.Key) < 16 || len(r.Key) > MaxDataKey {
		return domain.Errorf(domain.EINVALID, "key", "服务器发回的数据密钥长度不对", "the data key the server sent has the wrong length")
	}
	return nil
}

// MaxAuditEntries caps the entries of one AuditRequest.
const MaxAuditEntries = 200

// AuditActions are the actions a device reports.
var AuditActions = []string{"reveal-id"}

// AuditEntry is one thing a device's user did that the office must see.
type AuditEntry struct {
	At     Time   `json:"at"`
	Action string `json:"action"` // one of AuditActions
	Target string `json:"target"` // e.g. the household's ID
	Detail string `json:"detail,omitempty"`
}

// AuditRequest is the body of POST /v1/audit; the answer is an
// EscrowResponse (its version and the server's time).
type AuditRequest struct {
	V       int          `json:"v"`
	Entries []AuditEntry `json:"entries"`
}

// Validate checks the request on its own.
func (r *AuditRequest) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if len(r.Entries) > MaxAuditEntries {
		return domain.Errorf(domain.EINVALID, "entries", "一次最多报告 %d 条操作记录", "at most %d audit entries at once", MaxAuditEntries)
	}
	for _, e := range r.Entries {
		known := false
		for _, a := range AuditActions {
			known = known || e.Action == a
		}
		if !known || len(e.Target) > 64 || len(e.Detail) > 200 || !utf8.ValidString(e.Target+e.Detail) || e.At.IsZero() {
			return domain.Errorf(domain.EINVALID, "entries", "操作记录不完整或无法识别", "an audit entry is incomplete or unknown")
		}
	}
	return nil
}

// EnrollResponse is the answer to a successful enrolment: the device's
// identity (which its clock stamps with), its bearer token, the cadre it acts
// for, and the server's time.
type EnrollResponse struct {
	V      int       `json:"v"`
	Device uuid.UUID `json:"device"`
	Token  string    `json:"token"`
	Cadre  uuid.UUID `json:"cadre"`
	Now    Time      `json:"now"`
	// Server is the upstream's own replica ID: the device records the
	// changes it pulls as received from this ID, and never pushes them back.
	Server uuid.UUID `json:"server,omitzero"`
}

// Validate checks the response on its own.
func (r *EnrollResponse) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if r.Device == uuid.Nil || r.Cadre == uuid.Nil || r.Token == "" || r.Now.IsZero() {
		return domain.Errorf(domain.EINVALID, "device", "服务器的注册回复不完整", "the server's enrolment answer is incomplete")
	}
	return nil
}

// SyncRequest is the body of POST /v1/sync: the device's unsent changes and
// where its last pull stopped.
type SyncRequest struct {
	V int `json:"v"`
	// Cursor is the cursor of the last response the device applied; "" on
	// the first sync with this server.
	Cursor string `json:"cursor"`
	// Through is the device's highest local log sequence covered by this
	// push (changes received from this server are skipped, so it can be
	// higher than the last change's); 0 if the device has pushed nothing yet.
	Through uint64 `json:"through"`
	// Changes are the device's unsent changes, oldest first.
	Changes []Change `json:"changes"`
}

// Validate checks the request on its own: version, cursor and every change.
// It does not check stamps against a clock; the server calls [CheckStamps].
func (r *SyncRequest) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if err := checkCursor(r.Cursor); err != nil {
		return err
	}
	if len(r.Changes) > 0 && r.Through == 0 {
		return domain.Errorf(domain.EINVALID, "through",
			"推送了更改却没有给出 through", "changes pushed with through = 0")
	}
	if err := checkChanges(r.Changes); err != nil {
		return err
	}
	return checkUnique(r.Changes)
}

// MarshalJSON encodes r with "changes" as a list even when there are none.
func (r SyncRequest) MarshalJSON() ([]byte, error) {
	type plain SyncRequest
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	return marshal(plain(r))
}

// SyncResponse is the answer to a sync: how far the push is durable, the
// changes the device has not seen (a page of them), where to resume, and the
// server's time.
//
// Its fields are encoded in the order declared, the two lists of changes
// last and State before Changes, so that a device can apply the changes as
// they arrive, knowing the rest of the answer (see [ReadSync]).
type SyncResponse struct {
	V int `json:"v"`
	// Now is the server's time when it answered; the device derives its
	// clock offset from it.
	Now Time `json:"now"`
	// Acked is the device sequence through which the push is durable: the
	// request's Through once every change in it is applied. The device
	// advances its push cursor to it and never sends those changes again.
	Acked uint64 `json:"acked"`
	// Cursor is where the next pull resumes; the device stores it once it
	// has applied Changes.
	Cursor string `json:"cursor"`
	// More reports that the page is full and more changes wait: the device
	// syncs again at once.
	More bool `json:"more"`
	// Revoked is "replaced" in the answer to the last push of a device
	// revoked as replaced: the push was applied and acknowledged as usual,
	// nothing is pulled (Changes is empty and Cursor is the request's), and
	// the device's token no longer works. The device stops syncing and tells
	// its user (ErrReplaced). Omitted otherwise.
	Revoked string `json:"revoked,omitempty"`
	// Rejected lists the pushed changes the upstream could not merge (no
	// fields, or a value of the wrong type), each with the reason. They are
	// acknowledged all the same — sending them again would not help — and
	// the device shows them to its user.
	Rejected []Rejection `json:"rejected,omitempty"`
	// Reset says a catch-up begins with this page: the current state of
	// every record in the device's scope follows, in State, over one or more
	// pages (see Catch-up in the package documentation).
	Reset bool `json:"reset,omitempty"`
	// Settled says the catch-up's state is complete with this page: the
	// device removes the records it holds that were not in it.
	Settled bool `json:"settled,omitempty"`
	// Left names records that left the device's scope, in a catch-up of
	// what entered it (only to a device naming FeatureEntered): the device
	// removes them as it removes what a settled catch-up did not hold —
	// once nothing it wrote about them is unsent or still to be seen.
	Left []Ref `json:"left,omitempty"`
	// State is current state, sent before Changes: during a catch-up the
	// fields of records as they stand, one change per edit that set them,
	// and after it the log entries written while it ran. The device merges
	// them field by field, the newer stamp winning, without recording
	// conflicts.
	State []Change `json:"state,omitempty"`
	// Changes are the changes in the device's scope it has not seen, in
	// the server's log order, at most about PageBytes of them.
	Changes []Change `json:"changes"`
}

// Ref names a record on the wire.
type Ref struct {
	Kind   domain.Kind `json:"kind"`
	Record string      `json:"record"` // its UUID
}

// Rejection is a pushed change the upstream refused, and why.
type Rejection struct {
	ID    string `json:"id"` // the change's UUID
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	Zh    string `json:"zh"`
	En    string `json:"en"`
}

// Err returns the *domain.Error that r reports.
func (r Rejection) Err() *domain.Error {
	return &domain.Error{Code: r.Code, Field: r.Field, Zh: r.Zh, En: r.En}
}

// RejectionOf describes the refusal of change id for err, as
// [ErrorBodyOf] does: an error that is not a *domain.Error becomes
// EINTERNAL with a generic message.
func RejectionOf(id uuid.UUID, err error) Rejection {
	i := ErrorBodyOf(err).Error
	return Rejection{ID: id.String(), Code: i.Code, Field: i.Field, Zh: i.Zh, En: i.En}
}

// Validate checks the response on its own: version, time, cursor and every
// change.
func (r *SyncResponse) Validate() error {
	if err := checkVersion(r.V); err != nil {
		return err
	}
	if r.Now.IsZero() {
		return domain.Errorf(domain.EINVALID, "now", "服务器回复缺少时间", "the server's answer has no time")
	}
	if err := checkCursor(r.Cursor); err != nil {
		return err
	}
	for _, rj := range r.Rejected {
		if _, err := parseID("rejected", rj.ID); err != nil {
			return err
		}
	}
	for _, l := range r.Left {
		if _, err := parseID("left", l.Record); err != nil {
			return err
		}
		if domain.Declared(l.Kind) == nil {
			return domain.Errorf(domain.EINVALID, "left", "未知的记录类型 %q（请升级应用）", "unknown record kind %q (update the app)", clip(string(l.Kind)))
		}
	}
	if err := checkChanges(r.State); err != nil {
		return err
	}
	return checkChanges(r.Changes)
}

// MarshalJSON encodes r with "changes" as a list even when there are none.
func (r SyncResponse) MarshalJSON() ([]byte, error) {
	type plain SyncResponse
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	return marshal(plain(r))
}

// Health is the body of GET /healthz.
type Health struct {
	OK bool `json:"ok"`
	V  int  `json:"v"` // the version the server speaks
}

func checkCursor(c string) error {
	if len(c) > MaxCursorBytes || !utf8.ValidString(c) {
		return domain.Errorf(domain.EINVALID, "cursor", "同步位置无效（过长）", "invalid sync cursor (too long)")
	}
	return nil
}

// clip shortens text quoted in an error message.
func clip(s string) string {
	const max = 48
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
