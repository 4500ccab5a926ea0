package calendar

import (
	"strings"
	"testing"
	"time"

	"courtside"
)

// object builds a calendar object of components, each given as its property lines.
func object(calProps string, comps ...string) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n")
	if calProps != "" {
		b.WriteString(calProps + "\r\n")
	}
	for _, c := range comps {
		kind := "VEVENT"
		if strings.HasPrefix(c, "VTODO\n") {
			kind, c = "VTODO", strings.TrimPrefix(c, "VTODO\n")
		}
		b.WriteString("BEGIN:" + kind + "\r\nUID:u\r\nDTSTAMP:20261101T000000Z\r\n" + strings.ReplaceAll(c, "\n", "\r\n") + "\r\nEND:" + kind + "\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

func utc(s string) time.Time {
	t, err := time.Parse("20060102T150405Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBusyBlocks(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		data []byte
		want []courtside.Interval // nil: none
	}{
		{"opaque", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z"),
			[]courtside.Interval{{Start: utc("20261201T130000Z"), End: utc("20261201T140000Z")}}},
		{"transparent", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nTRANSP:TRANSPARENT"), nil},
		{"cancelled", object("", "DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nSTATUS:CANCELLED"), nil},
		{"no end", object("", "DTSTART:20261201T130000Z"), nil},
		{"duration", object("", "DTSTART:20261201T130000Z\nDURATION:PT30M"),
			[]courtside.Interval{{Start: utc("20261201T130000Z"), End: utc("20261201T133000Z")}}},
		{"all day in X-WR-TIMEZONE", object("X-WR-TIMEZONE:America/New_York", "DTSTART;VALUE=DATE:20261201"),
			[]courtside.Interval{{Start: time.Date(2026, 12, 1, 0, 0, 0, 0, ny).UTC(), End: time.Date(2026, 12, 2, 0, 0, 0, 0, ny).UTC()}}},
		{"all day without a zone is UTC", object("", "DTSTART;VALUE=DATE:20261201\nDTEND;VALUE=DATE:20261203"),
			[]courtside.Interval{{Start: utc("20261201T000000Z"), End: utc("20261203T000000Z")}}},
		{"TZID across a DST change", object("", "DTSTART;TZID=America/New_York:20261030T090000\nDTEND;TZID=America/New_York:20261030T100000\nRRULE:FREQ=WEEKLY;COUNT=2"),
			[]courtside.Interval{{Start: utc("20261030T130000Z"), End: utc("20261030T140000Z")}, {Start: utc("20261106T140000Z"), End: utc("20261106T150000Z")}}},
		{"rrule, exdate, rdate, override", object("",
			"DTSTART:20261201T130000Z\nDTEND:20261201T140000Z\nRRULE:FREQ=DAILY;COUNT=4\nEXDATE:20261202T130000Z\nRDATE:20261210T130000Z",
			"RECURRENCE-ID:20261203T130000Z\nDTSTART:20261203T170000Z\nDTEND:20261203T180000Z",
			"RECURRENCE-ID:20261204T130000Z\nDTSTART:20261204T130000Z\nDTEND:20261204T140000Z\nSTATUS:CANCELLED"),
			[]courtside.Interval{{Start: utc("20261201T130000Z"), End: utc("20261201T140000Z")},
				{Start: utc("20261203T170000Z"), End: utc("20261203T180000Z")},
				{Start: utc("20261210T130000Z"), End: utc("20261210T140000Z")}}},
		{"todo", object("", "VTODO\nDTSTART:20261201T130000Z\nDUE:20261201T140000Z"), nil},
	}
	for _, tt := range tests {
		po, err := parseObject(tt.data)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		ot, err := po.occurrences()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := ot.busy
		sortIntervals(got)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if !got[i].Start.Equal(tt.want[i].Start) || !got[i].End.Equal(tt.want[i].End) {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

func sortIntervals(in []courtside.Interval) {
	for i := 1; i < len(in); i++ {
		for j := i; j > 0 && in[j].Start.Before(in[j-1].Start); j-- {
			in[j], in[j-1] = in[j-1], in[j]
		}
	}
}

// busyOf returns the busy intervals of an object, or fails.
func busyOf(t *testing.T, data []byte) []courtside.Interval {
	t.Helper()
	po, err := parseObject(data)
	if err != nil {
		t.Fatal(err)
	}
	ot, err := po.occurrences()
	if err != nil {
		t.Fatal(err)
	}
	return ot.busy
}

func TestBusyCaps(t *testing.T) {
	// An endless hourly rule stops at 1,000 instances; an endless weekly one at two years.
	if got := busyOf(t, object("", "DTSTART:20261201T130000Z\nDTEND:20261201T133000Z\nRRULE:FREQ=HOURLY")); len(got) != courtside.MaxBusyInstances {
		t.Fatalf("hourly: %d instances", len(got))
	}
	got := busyOf(t, object("", "DTSTART:20261201T130000Z\nDTEND:20261201T133000Z\nRRULE:FREQ=WEEKLY"))
	if len(got) != 105 || !got[len(got)-1].Start.Before(utc("20261201T130000Z").Add(courtside.BusyHorizon)) {
		t.Fatalf("weekly: %d instances", len(got))
	}
}

func TestTodoTimeRange(t *testing.T) {
	day := func(d int, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		props string
		tr    timeRange
		want  bool
	}{
		{"start+duration inside", "DTSTART:20261205T100000Z\nDURATION:PT2H", timeRange{day(5, 0), day(6, 0)}, true},
		{"start+duration before", "DTSTART:20261205T100000Z\nDURATION:PT2H", timeRange{day(5, 13), day(6, 0)}, false},
		{"start+due overlapping", "DTSTART:20261205T100000Z\nDUE:20261207T100000Z", timeRange{day(6, 0), day(6, 1)}, true},
		{"start+due after", "DTSTART:20261205T100000Z\nDUE:20261207T100000Z", timeRange{day(8, 0), day(9, 0)}, false},
		{"start only, at the start", "DTSTART:20261205T100000Z", timeRange{day(5, 10), day(5, 11)}, true},
		{"start only, range ends at it", "DTSTART:20261205T100000Z", timeRange{day(5, 0), day(5, 10)}, false},
		{"due only, range ends at it", "DUE:20261205T100000Z", timeRange{day(5, 0), day(5, 10)}, true},
		{"due only, range starts at it", "DUE:20261205T100000Z", timeRange{day(5, 10), day(5, 12)}, false},
		{"completed+created, after", "CREATED:20261201T000000Z\nCOMPLETED:20261203T000000Z", timeRange{day(4, 0), day(5, 0)}, false},
		{"completed+created, between", "CREATED:20261201T000000Z\nCOMPLETED:20261203T000000Z", timeRange{day(2, 0), day(2, 1)}, true},
		{"completed+created spanning", "CREATED:20261201T000000Z\nCOMPLETED:20261203T000000Z", timeRange{day(1, 0), day(1, 1)}, true},
		{"completed only", "COMPLETED:20261203T000000Z", timeRange{day(3, 0), day(3, 1)}, true},
		{"created only, after", "CREATED:20261203T000000Z", timeRange{day(1, 0), day(2, 0)}, false},
		{"created only, open end", "CREATED:20261203T000000Z", timeRange{day(1, 0), time.Time{}}, true},
		{"nothing", "SUMMARY:x", timeRange{day(1, 0), day(2, 0)}, true},
	}
	for _, tt := range tests {
		po, err := parseObject(object("", "VTODO\n"+tt.props))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := po.todoInRange(tt.tr); got != tt.want {
			t.Errorf("%s: %v; want %v", tt.name, got, tt.want)
		}
	}
}
