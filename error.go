package courtside

import (
	"errors"
	"fmt"
	"time"
)

// Application error codes. Each edge (GraphQL, CalDAV, HTTP, CLI) maps them once.
const (
	ECONFLICT     = "conflict"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EINTERNAL     = "internal"
	// ERATELIMITED refuses an attempt made too often (sign-in attempts from one address or for
	// one account); Error.RetryAfter says when the next one may be made.
	ERATELIMITED = "rate_limited"
)

// Error is an application error: a code from the list above, a message that is safe to show
// to the caller, and, for EINVALID, the input field it concerns.
type Error struct {
	Code    string
	Message string
	Field   string
	// RetryAfter is, for ERATELIMITED, how long to wait before trying again.
	RetryAfter time.Duration
}

// Error implements the error interface. It never includes internal details.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("courtside error: code=%s field=%s message=%s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("courtside error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an application error with the given code and a formatted message.
func Errorf(code string, format string, args ...interface{}) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EINVALID error about the named input field.
func Invalidf(field string, format string, args ...interface{}) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// RateLimitedf returns an ERATELIMITED error: try again after retryAfter.
func RateLimitedf(retryAfter time.Duration, format string, args ...interface{}) *Error {
	return &Error{Code: ERATELIMITED, Message: fmt.Sprintf(format, args...), RetryAfter: retryAfter}
}

// ErrorRetryAfter returns how long the application error in err's chain asks the caller to
// wait before trying again, or 0.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ErrorCode returns the code of the application error in err's chain, EINTERNAL for any other
// error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the application error in err's chain, or a generic
// message for any other error, so that internal details never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the input field named by the application error in err's chain, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
