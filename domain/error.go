package domain

import (
	"errors"
	"fmt"
)

// Error codes, shared by the store, the sync protocol and the app.
const (
	EINVALID      = "invalid"      // bad input; the message says what
	ENOTFOUND     = "not_found"    // no such record
	ECONFLICT     = "conflict"     // the request contradicts the current state
	EUNAUTHORIZED = "unauthorized" // unknown, expired or revoked credentials
	EFORBIDDEN    = "forbidden"    // outside the caller's scope
	EUNAVAILABLE  = "unavailable"  // a transient failure: retry later
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is an error a person can act on: a code for programs, and the same
// message in Chinese (Zh) and English (En) for the people using the app.
type Error struct {
	Code  string // one of the E* codes
	Field string // the field at fault, if any (e.g. "head_name")
	Zh    string // message in Chinese
	En    string // message in English
}

// Error returns the Chinese and English messages together.
func (e *Error) Error() string {
	if e.Zh == e.En || e.Zh == "" {
		return e.En
	}
	return e.Zh + " (" + e.En + ")"
}

// Errorf returns an *Error with the given code; zh and en are the two messages.
// Arguments are applied to both formats.
func Errorf(code, field, zh, en string, args ...any) *Error {
	return &Error{Code: code, Field: field, Zh: fmt.Sprintf(zh, args...), En: fmt.Sprintf(en, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorField returns the field named by the first *Error in err's chain,
// "" if there is none.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Message returns the words to show a person for err in the language lang
// ("zh" or "en"). Errors that are not *Error get a generic message, so that
// internal details never reach the screen.
func Message(err error, lang string) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Zh: "出现内部错误，请稍后重试", En: "Something went wrong; please try again later"}
	}
	if lang == "en" {
		return e.En
	}
	return e.Zh
}

// Sentinel errors checked with errors.Is.
var (
	// ErrNotFound is returned when a record does not exist or is deleted.
	ErrNotFound = &Error{Code: ENOTFOUND, Zh: "记录不存在", En: "record not found"}
)

// Is makes errors.Is(err, ErrNotFound) true for any not-found *Error, whatever
// its message: a sentinel matches by code, and by field when it names one.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}
