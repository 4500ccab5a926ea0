package calendar

import (
	"context"
	"log/slog"
	"net/http"

	"courtside"

	"github.com/emersion/go-webdav"
)

// httpStatus returns the HTTP status for an application error code: the one mapping of codes
// to statuses at the CalDAV edge. Codes that a caller must not learn more about, and EINTERNAL,
// are 500.
func httpStatus(code string) int {
	switch code {
	case courtside.ENOTFOUND:
		return http.StatusNotFound
	case courtside.EFORBIDDEN:
		return http.StatusForbidden
	case courtside.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case courtside.EINVALID:
		return http.StatusBadRequest
	case courtside.ECONFLICT:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// davError turns an error of the root services into the error go-webdav serves: the mapped
// status and a message that is safe to show. Internal errors are logged here, once, and reach
// the caller only as "Internal error.".
func davError(ctx context.Context, logger *slog.Logger, op string, err error) error {
	code := courtside.ErrorCode(err)
	if code == courtside.ENOTFOUND {
		return errNotFound // one answer for "not yours" and "not there"
	}
	if code == courtside.EINTERNAL {
		logger.LogAttrs(ctx, slog.LevelError, "calendar: "+op, slog.String("error", err.Error()))
	}
	return webdav.NewHTTPError(httpStatus(code), safeError(courtside.ErrorMessage(err)))
}

// safeError is an error whose text is safe to show to the caller: go-webdav puts error texts
// into multistatus bodies.
type safeError string

// Error implements the error interface.
func (e safeError) Error() string { return string(e) }

// errNotFound is the answer for anything outside the caller's own calendar space, so that
// another user's principal, calendar or object looks like nothing at all.
var errNotFound = webdav.NewHTTPError(http.StatusNotFound, safeError("Not found."))

// errReadOnly is the answer to any change of the server-generated hearings calendar.
var errReadOnly = webdav.NewHTTPError(http.StatusForbidden, safeError("The hearings calendar is read-only."))

// errorMessages are the short plain-text bodies of error responses, by status.
var errorMessages = map[int]string{
	http.StatusBadRequest:            "Bad request.",
	http.StatusUnauthorized:          "Unauthorized: sign in with your username and an app password.",
	http.StatusForbidden:             "Forbidden.",
	http.StatusNotFound:              "Not found.",
	http.StatusMethodNotAllowed:      "Method not allowed.",
	http.StatusConflict:              "Conflict.",
	http.StatusPreconditionFailed:    "Precondition failed.",
	http.StatusRequestEntityTooLarge: "Request body too large.",
	http.StatusUnsupportedMediaType:  "Unsupported media type.",
	http.StatusInternalServerError:   "Internal error.",
	http.StatusNotImplemented:        "Not implemented.",
}

// errorMessage returns the short plain-text body for an error status.
func errorMessage(status int) string {
	if msg, ok := errorMessages[status]; ok {
		return msg
	}
	if text := http.StatusText(status); text != "" {
		return text + "."
	}
	return "Error."
}

// writeError writes a short plain-text error response. msg "" means the default for status.
func writeError(w http.ResponseWriter, status int, msg string) {
	if msg == "" {
		msg = errorMessage(status)
	}
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Encoding", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}
