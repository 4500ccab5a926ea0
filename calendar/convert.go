package calendar

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/emersion/go-ical"
)

// This file is the one place where iCalendar crosses from golang-ical, which renders, to
// go-ical, whose types go-webdav's caldav.Backend takes. go-webdav re-encodes the go-ical
// calendar on GET and in REPORT answers, so the ETag is the hash of go-ical's encoding, not of
// the rendered bytes.

// DecodeICal decodes one iCalendar object with go-ical. A panic in the decoder (it panics on
// some malformed parameters) becomes an error.
func DecodeICal(b []byte) (cal *ical.Calendar, err error) {
	defer func() {
		if r := recover(); r != nil {
			cal, err = nil, fmt.Errorf("calendar: decode iCalendar: malformed input")
		}
	}()
	cal, err = ical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		return nil, fmt.Errorf("calendar: decode iCalendar: %w", err)
	}
	return cal, nil
}

// EncodeICal encodes cal the way go-webdav does when it serves it, and returns the bytes with
// their strong ETag (unquoted). The encoding is deterministic: go-ical sorts properties and
// parameters by name.
func EncodeICal(cal *ical.Calendar) (data []byte, etag string, err error) {
	defer func() {
		if r := recover(); r != nil {
			data, etag, err = nil, "", fmt.Errorf("calendar: encode iCalendar: malformed calendar")
		}
	}()
	if cal == nil || cal.Component == nil {
		return nil, "", fmt.Errorf("calendar: encode iCalendar: empty calendar")
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, "", fmt.Errorf("calendar: encode iCalendar: %w", err)
	}
	return buf.Bytes(), ETag(buf.Bytes()), nil
}

// ETag returns the strong entity tag (unquoted) of an encoded calendar object: the first 128
// bits of its SHA-256, in hex.
func ETag(encoded []byte) string {
	sum := sha256.Sum256(encoded)
	return hex.EncodeToString(sum[:16])
}

// Convert turns rendered iCalendar bytes into what go-webdav serves: the go-ical calendar, its
// encoding as go-webdav will send it, and that encoding's ETag.
func Convert(rendered []byte) (cal *ical.Calendar, encoded []byte, etag string, err error) {
	cal, err = DecodeICal(rendered)
	if err != nil {
		return nil, nil, "", err
	}
	encoded, etag, err = EncodeICal(cal)
	if err != nil {
		return nil, nil, "", err
	}
	return cal, encoded, etag, nil
}
