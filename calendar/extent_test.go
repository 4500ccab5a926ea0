package calendar

import (
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestExtentBoundsEveryMatch checks, over objects of every shape and ranges around their
// edges, against an expansion by rrule-go (referenceOccurrences): that an object whose extent
// does not meet a range never matches it (so the SQL prefilter leaves out nothing RFC 4791
// section 9.9 would find), that an exact extent decides the match, and that the stored
// occurrences are exactly the object's occurrences that start before their until.
func TestExtentBoundsEveryMatch(t *testing.T) {
	objects := []struct {
		name      string
		data      []byte
		exact     bool
		openStart bool
		openEnd   bool
	}{
		{"one hour", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z"), true, false, false},
		{"zero length", object("", "DTSTART:20261201T130000Z"), true, false, false},
		{"duration", object("", "DTSTART:20261201T130000Z\nDURATION:PT30M"), true, false, false},
		{"all day in X-WR-TIMEZONE", object("X-WR-TIMEZONE:America/New_York", "DTSTART;VALUE=DATE:20261201"), true, false, false},
		{"floating", object("X-WR-TIMEZONE:Asia/Tokyo", "DTSTART:20261201T090000\nDTEND:20261201T100000"), true, false, false},
		{"TZID", object("", "DTSTART;TZID=America/New_York:20261201T090000\nDTEND;TZID=America/New_York:20261201T100000"), true, false, false},
		{"count", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nRRULE:FREQ=WEEKLY;COUNT=5"), false, false, false},
		{"until", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nRRULE:FREQ=DAILY;UNTIL=20261220T130000Z"), false, false, false},
		{"all-day until a date", object("", "DTSTART;VALUE=DATE:20261201\nRRULE:FREQ=DAILY;UNTIL=20261205"), false, false, false},
		{"endless", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nRRULE:FREQ=MONTHLY"), false, false, true},
		{"rrule, exdate, rdate, override", object("",
			"DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nRRULE:FREQ=DAILY;COUNT=4\nEXDATE:20261202T130000Z\nRDATE:20261210T130000Z",
			"RECURRENCE-ID:20261203T130000Z\nDTSTART:20261130T170000Z\nDTEND:20261130T180000Z"), false, false, false},
		{"exdate of the only instance", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nEXDATE:20261201T130000Z"), false, false, false},
		{"overrides only", object("", "RECURRENCE-ID:20261203T130000Z\nDTSTART:20261204T170000Z\nDTEND:20261204T180000Z"), false, false, false},
		{"todo", object("", "VTODO\nDTSTART:20261205T100000Z\nDUE:20261207T100000Z"), false, true, true},
	}
	at := func(s string) time.Time { return utc(s) }
	var bounds []time.Time
	for _, s := range []string{"20261130T000000Z", "20261130T170000Z", "20261201T000000Z", "20261201T040000Z", "20261201T125959Z",
		"20261201T130000Z", "20261201T133000Z", "20261201T140000Z", "20261201T140001Z", "20261202T000000Z",
		"20261202T050000Z", "20261204T180000Z", "20261205T000000Z", "20261206T000000Z", "20261210T140000Z",
		"20261220T140000Z", "20261221T000000Z", "20270601T000000Z"} {
		bounds = append(bounds, at(s))
	}
	bounds = append(bounds, time.Time{})
	for _, o := range objects {
		po, err := parseObject(o.data)
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		ot, err := po.occurrences()
		if err != nil {
			t.Fatalf("%s: %v", o.name, err)
		}
		start, end, exact := ot.start, ot.end, ot.exact
		if exact != o.exact || start.IsZero() != o.openStart || end.IsZero() != o.openEnd {
			t.Errorf("%s: extent %v to %v exact %v; want exact %v, open start %v, open end %v",
				o.name, start, end, exact, o.exact, o.openStart, o.openEnd)
		}
		if !start.IsZero() && !end.IsZero() && end.Before(start) {
			t.Errorf("%s: extent ends before it starts", o.name)
		}
		ref := referenceOccurrences(t, po, at("20300101T000000Z"))
		if po.component == "VEVENT" {
			var want []string
			for _, in := range ref {
				if ot.until.IsZero() || in.start.Before(ot.until) {
					want = append(want, in.start.UTC().Format(time.RFC3339)+"/"+in.end.UTC().Format(time.RFC3339))
				}
			}
			var got []string
			for _, in := range ot.stored {
				got = append(got, in.Start.Format(time.RFC3339)+"/"+in.End.Format(time.RFC3339))
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: stored occurrences %v, want %v", o.name, got, want)
			}
		}
		for _, from := range bounds {
			for _, to := range bounds {
				tr := timeRange{from, to}
				if (from.IsZero() && to.IsZero()) || (!from.IsZero() && !to.IsZero() && !to.After(from)) {
					continue
				}
				match := matchesReference(ref, tr)
				if po.component != "VEVENT" {
					match = po.todoInRange(tr)
				}
				meets := (start.IsZero() || to.IsZero() || !start.After(to)) && (end.IsZero() || from.IsZero() || !end.Before(from))
				if match && !meets {
					t.Errorf("%s: matches %v to %v, but its extent %v to %v does not meet it", o.name, from, to, start, end)
				}
				if exact && extentMatches(start, end, tr) != match {
					t.Errorf("%s: exact extent says %v for %v to %v, RFC 4791 %v", o.name, !match, from, to, match)
				}
			}
		}
	}
}

// TestEscapeDataRoundTrips checks that calendar data escaped by hand reads back byte for byte
// through an XML parser (CRLF line ends included), and that what XML cannot hold is replaced
// as encoding/xml replaces it.
func TestEscapeDataRoundTrips(t *testing.T) {
	for _, in := range []string{
		"BEGIN:VCALENDAR\r\nSUMMARY:a & b <c> \"d\" 'e'\r\n\tfolded\r\nEND:VCALENDAR\r\n",
		"DESCRIPTION:caf\u00e9 \u65e5\u672c\r\n",
		"",
		"]]> &amp; literal",
	} {
		var got struct {
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal([]byte("<x>"+escapeData([]byte(in))+"</x>"), &got); err != nil || got.Text != in {
			t.Errorf("%q: read back %q, %v", in, got.Text, err)
		}
	}
	// A control character XML cannot hold: the same as encoding/xml.
	in := []byte("A\x01B")
	var want strings.Builder
	xml.EscapeText(&want, in)
	if got := escapeData(in); got != want.String() {
		t.Errorf("control character: %q, want %q", got, want.String())
	}
}
