package storage

import "testing"

// TestParseStoredTime checks the hand parser of stored times against time.Parse: the same time
// for every stored form, and ParseTime's error for what is not one.
func TestParseStoredTime(t *testing.T) {
	for _, s := range []string{"2026-12-01T14:30:00.000Z", "2031-01-06T00:00:00.999Z", "2028-02-29T23:59:59.001Z", "0001-01-01T00:00:00.000Z"} {
		got, err := parseStoredTime([]byte(s))
		want, werr := ParseTime(s)
		if err != nil || werr != nil || !got.Equal(want) || got.Location() != want.Location() {
			t.Errorf("%s: %v %v, want %v %v", s, got, err, want, werr)
		}
	}
	for _, s := range []string{"", "2026-12-01", "2026-13-01T14:30:00.000Z", "2026-06-31T14:30:00.000Z", "2027-02-29T00:00:00.000Z",
		"2026-12-01T24:00:00.000Z", "2026-12-01 14:30:00.000Z", "2026-12-01T14:30:00.000+", "2026-1a-01T14:30:00.000Z"} {
		if _, err := parseStoredTime([]byte(s)); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}
