package calendar_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// TestAvailability_PutRefusesCostlyRecurrences PUTs recurrences that cost seconds or forever
// to expand by a walk that does not yield (the year 9999 is the only stop for a rule that never
// matches; a rule whose hours never meet BYHOUR never stops): each is refused with 400 and a
// CalDAV precondition, valid-calendar-object-resource when the rule yields nothing,
// max-instances when it yields but costs more than the budget, and nothing is stored. The
// costly rules of RFC 5545's own examples are accepted.
func TestAvailability_PutRefusesCostlyRecurrences(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	start := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		rule, condition string
	}{
		{"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31", "valid-calendar-object-resource"},
		{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "valid-calendar-object-resource"},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "valid-calendar-object-resource"},
		{"FREQ=HOURLY;BYSETPOS=2", "valid-calendar-object-resource"},
		{"FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "valid-calendar-object-resource"},
		{"FREQ=HOURLY;INTERVAL=24;BYHOUR=5;BYMINUTE=0", "valid-calendar-object-resource"},
		// Yields at once, then never again within the budget: 29 February on a Monday,
		// hourly, from a year where it is one.
		{"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;UNTIL=99991231T000000Z", "max-instances"},
		{"FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO;BYMONTH=1", "valid-calendar-object-resource"},
	} {
		from := start
		if c.condition == "max-instances" {
			from = time.Date(2044, 2, 29, 3, 0, 0, 0, time.UTC) // a Monday
		}
		resp, body := w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + "costly.ics", user: w.interpreter,
			body: vevent("costly", from, from.Add(time.Hour), "RRULE:"+c.rule), header: icalHeader})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<C:"+c.condition+"/>") || !strings.Contains(body, "recurrence rule") {
			t.Errorf("%s: %d %q, want 400 with %s and a message", c.rule, resp.StatusCode, body, c.condition)
		}
	}
	if objs, err := storage.NewAvailabilityService(w.db).FindAvailabilityObjects(w.as(w.interpreter), courtside.AvailabilityCalendar); err != nil || len(objs) != 0 {
		t.Fatalf("objects after refused PUTs: %d, %v", len(objs), err)
	}
	for i, rule := range []string{
		"FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",                                 // every Friday the 13th
		"FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", // US election day
		"FREQ=MONTHLY;BYDAY=-1FR;COUNT=10000",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", // leap days
		"FREQ=HOURLY",
	} {
		resp, body := w.do(request{method: "PUT", path: calendar.AvailabilityPath("interp") + fmt.Sprintf("ok-%d.ics", i), user: w.interpreter,
			body: vevent(fmt.Sprintf("ok-%d", i), start, start.Add(time.Hour), "RRULE:"+rule), header: icalHeader})
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: %d %q, want 201", rule, resp.StatusCode, body)
		}
	}
}

// TestPersonalQuery_DecidedByStoredOccurrences shows that a calendar-query never expands a
// recurrence again: the occurrences worked out when an object was written decide it. Objects
// of every shape are PUT, then a weekly event's stored bytes are changed behind the server's
// back to a rule on other days (as an expansion per query would see them): queries still
// answer by what was stored. The answers over many ranges equal RFC 4791's, worked out here by
// rrule-go from the objects as written.
func TestPersonalQuery_DecidedByStoredOccurrences(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	coll := calendar.AvailabilityPath("interp")
	objects := map[string]string{
		"single.ics":  vevent("single", t0, t0.Add(time.Hour)),
		"weekly.ics":  vevent("weekly", t0, t0.Add(time.Hour), "RRULE:FREQ=WEEKLY;COUNT=6"),
		"monthly.ics": vevent("monthly", t0, t0.Add(2*time.Hour), "RRULE:FREQ=MONTHLY;BYDAY=1TU"),
		"daily.ics":   vevent("daily", t0, t0.Add(30*time.Minute), "RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20270101T000000Z", "EXDATE:20261204T130000Z"),
		"point.ics":   vevent("point", t0, t0, "RRULE:FREQ=WEEKLY;BYDAY=MO,TH;COUNT=8"),
		"endless.ics": vevent("endless", t0, t0.Add(time.Hour), "RRULE:FREQ=YEARLY"),
	}
	for name, body := range objects {
		if resp, got := w.do(request{method: "PUT", path: coll + name, user: w.interpreter, body: body, header: icalHeader}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, resp.StatusCode, got)
		}
	}
	// Every Tuesday from 1 December instead of Tuesdays: the stored occurrences still say
	// Tuesdays 1 December to 5 January.
	var data []byte
	if err := w.db.Writer.QueryRow(`SELECT data FROM availability_objects WHERE name = 'weekly.ics'`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	data = bytes.ReplaceAll(data, []byte("FREQ=WEEKLY;COUNT=6"), []byte("FREQ=WEEKLY;BYDAY=WE;COUNT=6"))
	if _, err := w.db.Writer.Exec(`UPDATE availability_objects SET data = ? WHERE name = 'weekly.ics'`, data); err != nil {
		t.Fatal(err)
	}
	query := func(from, to time.Time) []string {
		t.Helper()
		tr := ""
		if !from.IsZero() {
			tr += ` start="` + from.Format("20060102T150405Z") + `"`
		}
		if !to.IsZero() {
			tr += ` end="` + to.Format("20060102T150405Z") + `"`
		}
		body := `<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">` +
			`<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">` +
			`<C:time-range` + tr + `/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
		resp, got := w.do(request{method: "REPORT", path: coll, user: w.interpreter, body: body, header: map[string]string{"Depth": "1"}})
		var names []string
		for _, r := range parseMultistatus(t, resp, got).Responses {
			names = append(names, strings.TrimPrefix(r.Href, coll))
		}
		slices.Sort(names)
		return names
	}
	wed := t0.AddDate(0, 0, 1) // Wednesday 2 December, 13:00
	if got := query(wed, wed.Add(time.Hour)); slices.Contains(got, "weekly.ics") {
		t.Errorf("the changed bytes decided the query: %v", got)
	}
	if got := query(t0.AddDate(0, 0, 7), t0.AddDate(0, 0, 7).Add(time.Hour)); !slices.Contains(got, "weekly.ics") {
		t.Errorf("the stored occurrence of 8 December is not found: %v", got)
	}

	// Every range of a grid around the objects, against RFC 4791 section 9.9.
	var bounds []time.Time
	for _, d := range []int{-1, 0, 1, 7, 8, 35, 36} {
		for _, h := range []time.Duration{0, 13 * time.Hour, 13*time.Hour + 30*time.Minute} {
			bounds = append(bounds, t0.Truncate(24*time.Hour).AddDate(0, 0, d).Add(h))
		}
	}
	bounds = append(bounds, time.Time{})
	objects["weekly.ics"] = vevent("weekly", t0, t0.Add(time.Hour), "RRULE:FREQ=WEEKLY;COUNT=6") // as written
	for i, from := range bounds {
		for _, to := range bounds[i+1:] {
			if from.IsZero() && to.IsZero() {
				continue
			}
			var want []string
			for name, data := range objects {
				if calendar.ReferenceMatch(t, data, from, to) {
					want = append(want, name)
				}
			}
			slices.Sort(want)
			if got := query(from, to); !slices.Equal(got, want) {
				t.Errorf("%v to %v: %v, want %v", from, to, got, want)
			}
		}
	}
}
