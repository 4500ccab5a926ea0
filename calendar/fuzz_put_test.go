package calendar_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"courtside/calendar"
)

// FuzzPutICal sends arbitrary iCalendar bodies as PUTs into the availability calendar: the
// answer is 201 or 204 with an object GET then serves with the same ETag, or a 4xx refusal;
// never a 500 or a panic. The seed corpus (testdata/fuzz/FuzzPutICal) holds hostile RRULEs and
// parameters without values.
func FuzzPutICal(f *testing.F) {
	base := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:f\r\nDTSTAMP:20261101T000000Z\r\n" +
		"DTSTART:20261201T130000Z\r\nDTEND:20261201T140000Z\r\n%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	for _, extra := range []string{"SUMMARY:x", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "RRULE:FREQ=HOURLY;INTERVAL=1",
		"RRULE:FREQ=YEARLY;COUNT=10000;BYSETPOS=-1", "SUMMARY;LANGUAGE:x", "RDATE;VALUE=PERIOD:20261201T130000Z/PT1H",
		"EXDATE:20261201T130000Z,bad"} {
		f.Add(strings.Replace(base, "%s", extra, 1))
	}
	w := newWorld(f)
	path := calendar.AvailabilityPath("adv") + "fuzz.ics"
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPut, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "text/calendar")
		req.SetBasicAuth("adv", w.secrets["adv"])
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusCreated || rec.Code == http.StatusNoContent:
			get := httptest.NewRequest(http.MethodGet, path, nil)
			get.SetBasicAuth("adv", w.secrets["adv"])
			got := httptest.NewRecorder()
			w.h.ServeHTTP(got, get)
			if got.Code != http.StatusOK || got.Header().Get("ETag") != rec.Header().Get("ETag") {
				t.Fatalf("GET after PUT: %d, ETag %q, PUT said %q, for body %q", got.Code, got.Header().Get("ETag"),
					rec.Header().Get("ETag"), body)
			}
		case rec.Code >= 500:
			t.Fatalf("PUT: %d for body %q", rec.Code, body)
		}
	})
}
