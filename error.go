package courtside

import (
	"errors"
	"fmt"
)

// Application error codes. Each edge (GraphQL, CalDAV, HTTP, CLI) maps them once.
const (
	ECONFLICT     = "conflict"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EINTERNAL     = "internal"
)

// Error is an application error: a code from the list above, a message that is safe to show
// to the caller, and, for EINVALID, the input field it concerns.
type Error struct {
	Code    string
	Message string
	Field   string
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
