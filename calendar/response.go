package calendar

import (
	"errors"
	"io"
	"net/http"
	"strings"
)

// responseWriter stands between go-webdav and the client, and adds what go-webdav v0.6.0
// lacks on the way out:
//   - error responses get a short plain-text body instead of go-webdav's error text, which
//     can carry internals (parser messages, wrapped causes);
//   - an error caused by a request body over the limit becomes 413;
//   - a GET or HEAD whose ETag matches If-None-Match becomes 304 Not Modified.
type responseWriter struct {
	http.ResponseWriter
	req  *http.Request
	body *limitedBody // nil when the request has no body limit

	wroteHeader bool
	discard     bool  // the body go-webdav writes is dropped
	max         int64 // the answer's cap in bytes, 0 for none
	written     int64 // bytes of the answer written so far
}

// errAnswerTooLarge is the panic of a write past the answer's cap: the status is gone, so the
// answer is cut off (handler.recover logs it and aborts the connection).
var errAnswerTooLarge = errors.New("calendar: answer over its cap")

// WriteHeader implements http.ResponseWriter.
func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	switch {
	case status >= 400:
		if w.body != nil && w.body.exceeded {
			status = http.StatusRequestEntityTooLarge
		}
		writeError(w.ResponseWriter, status, "")
		w.discard = true
	case status == http.StatusOK && (w.req.Method == http.MethodGet || w.req.Method == http.MethodHead) &&
		noneMatch(w.req.Header.Get("If-None-Match"), w.Header().Get("ETag")):
		h := w.Header()
		for _, k := range []string{"Content-Length", "Content-Type"} {
			h.Del(k)
		}
		w.ResponseWriter.WriteHeader(http.StatusNotModified)
		w.discard = true
	default:
		w.ResponseWriter.WriteHeader(status)
	}
}

// Write implements http.ResponseWriter.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(p), nil
	}
	if w.max > 0 && w.written+int64(len(p)) > w.max {
		panic(errAnswerTooLarge)
	}
	w.written += int64(len(p))
	return w.ResponseWriter.Write(p)
}

// fail writes one of our own error responses (short plain text), bypassing the rewriting above.
func (w *responseWriter) fail(status int, msg string) {
	w.raw(status, func() { writeError(w.ResponseWriter, status, msg) })
}

// raw writes a response of our own with write, bypassing the rewriting above.
func (w *responseWriter) raw(status int, write func()) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader, w.discard = true, true
	write()
}

// finish sends the status when go-webdav wrote nothing (it leaves HEAD to the server's
// implicit 200), so that the rules above apply to it too.
func (w *responseWriter) finish() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// noneMatch reports whether an If-None-Match header matches etag (a quoted entity tag), by the
// weak comparison that RFC 9110 section 13.1.2 prescribes for it.
func noneMatch(header, etag string) bool {
	if header == "" || etag == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	etag = strings.TrimPrefix(etag, "W/")
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == etag {
			return true
		}
	}
	return false
}

// limitedBody caps a request body, like http.MaxBytesReader, and remembers whether the cap was
// hit: go-webdav turns the read error into a 400, which responseWriter turns into 413.
type limitedBody struct {
	io.ReadCloser
	exceeded bool
}

// newLimitedBody wraps r's body with a cap of limit bytes.
func newLimitedBody(w http.ResponseWriter, r *http.Request, limit int64) *limitedBody {
	return &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit)}
}

// Read implements io.Reader.
func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		b.exceeded = true
	}
	return n, err
}
