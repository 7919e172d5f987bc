package protocol

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"bangfu/domain"
)

// ErrorBody is the body of every 4xx and 5xx response.
type ErrorBody struct {
	V     int       `json:"v"`
	Error ErrorInfo `json:"error"`
}

// ErrorInfo is the error inside an [ErrorBody]: a domain error code, the
// wire field at fault if any, and the message in Chinese and English.
type ErrorInfo struct {
	Code  string `json:"code"`
	Field string `json:"field,omitempty"`
	Zh    string `json:"zh"`
	En    string `json:"en"`
	// Changes are the IDs of the pushed changes the error is about, when it
	// is about some of them (a push refused because they are outside the
	// device's scope); omitted otherwise.
	Changes []string `json:"changes,omitempty"`
}

// ChangesError is an error about some changes of a push: the server answers
// it as Err with the IDs of Changes in the error body's "changes", and
// [ReadResponse] returns one for an error body that names changes. It
// unwraps to Err, so errors.Is, errors.As and domain.ErrorCode see the
// *domain.Error.
type ChangesError struct {
	Err     *domain.Error
	Changes []uuid.UUID
}

// Error returns the message of Err.
func (e *ChangesError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *ChangesError) Unwrap() error { return e.Err }

// ErrorBodyOf returns the body that reports err. An error that is not a
// *domain.Error becomes EINTERNAL with a generic message, so that internal
// details never leave the server. A [ChangesError] lists its changes.
func ErrorBodyOf(err error) ErrorBody {
	var e *domain.Error
	if !errors.As(err, &e) {
		e = &domain.Error{Code: domain.EINTERNAL, Zh: domain.Message(err, "zh"), En: domain.Message(err, "en")}
	}
	code := e.Code
	if _, ok := statusOf[code]; !ok {
		code = domain.EINTERNAL
	}
	info := ErrorInfo{Code: code, Field: e.Field, Zh: e.Zh, En: e.En}
	var ce *ChangesError
	if errors.As(err, &ce) && ce.Err == e {
		for _, id := range ce.Changes {
			info.Changes = append(info.Changes, id.String())
		}
	}
	return ErrorBody{V: Version, Error: info}
}

// Err returns the *domain.Error that b reports.
func (b ErrorBody) Err() *domain.Error {
	i := b.Error
	return &domain.Error{Code: i.Code, Field: i.Field, Zh: i.Zh, En: i.En}
}

// statusOf maps each domain error code to its HTTP status.
var statusOf = map[string]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ECONFLICT:     http.StatusConflict,
	domain.EUNAVAILABLE:  http.StatusServiceUnavailable,
	domain.EINTERNAL:     http.StatusInternalServerError,
}

// StatusCode returns the HTTP status that reports err: 200 for nil, then by
// the code of err (see domain.ErrorCode): EINVALID 400, EUNAUTHORIZED 401,
// EFORBIDDEN 403, ENOTFOUND 404, ECONFLICT 409, EUNAVAILABLE 503, and 500 for
// anything else.
func StatusCode(err error) int {
	if err == nil {
		return http.StatusOK
	}
	if s, ok := statusOf[domain.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeOf returns the domain error code for an HTTP status whose body does
// not say (a proxy's page, a cut body): the inverse of [StatusCode], widened
// to every status.
func codeOf(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return domain.EUNAUTHORIZED
	case status == http.StatusForbidden:
		return domain.EFORBIDDEN
	case status == http.StatusNotFound:
		return domain.ENOTFOUND
	case status == http.StatusConflict:
		return domain.ECONFLICT
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests,
		status == http.StatusBadGateway, status == http.StatusServiceUnavailable,
		status == http.StatusGatewayTimeout:
		return domain.EUNAVAILABLE
	case status >= 400 && status < 500:
		return domain.EINVALID
	case status >= 500:
		return domain.EINTERNAL
	}
	return domain.EUNAVAILABLE // 1xx, 3xx: not an answer from the sync server
}

// statusError returns the error for a response with status whose body is not
// an error body: a generic message for its code.
func statusError(status int) *domain.Error {
	code := codeOf(status)
	e := &domain.Error{Code: code}
	switch code {
	case domain.EUNAUTHORIZED:
		e.Zh, e.En = "设备未注册或已被注销，请重新注册", "this device is not enrolled or was revoked; enrol it again"
	case domain.EFORBIDDEN:
		e.Zh, e.En = "无权访问这些记录", "not allowed to access these records"
	case domain.ENOTFOUND:
		e.Zh, e.En = "服务器地址不对：找不到同步服务", "wrong server address: no sync service there"
	case domain.ECONFLICT:
		e.Zh, e.En = "请求与服务器上的数据冲突", "the request conflicts with the server's data"
	case domain.EUNAVAILABLE:
		e.Zh, e.En = "服务器暂时不可用，请稍后重试", "the server is unavailable; try again later"
	case domain.EINVALID:
		e.Zh, e.En = "服务器拒绝了请求", "the server refused the request"
	default:
		e.Zh, e.En = "服务器出错，请稍后重试", "the server failed; try again later"
	}
	e.En += fmt.Sprintf(" (HTTP %d %s)", status, http.StatusText(status))
	return e
}

// Transient reports whether err may go away if the same request is tried
// again later: network failures, answers cut short or not understood
// (EUNAVAILABLE), 5xx and 429 responses, and any error that is not a
// *domain.Error. It is false for nil, for a cancelled context, and for the
// 4xx answers that a retry would only repeat (EINVALID, EUNAUTHORIZED,
// EFORBIDDEN, ENOTFOUND, ECONFLICT), which the device reports to its user.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	switch domain.ErrorCode(err) {
	case domain.EUNAVAILABLE, domain.EINTERNAL:
		return true
	}
	return false
}
