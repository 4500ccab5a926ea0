package calendar_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"

	"github.com/emersion/go-ical"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// matchGolden compares got with the golden file testdata/name, which -update rewrites.
func matchGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("rendered:\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

// hearingFixture returns a sentencing hearing in Brooklyn as an advocate's calendar holds it.
func hearingFixture() *courtside.CalendarHearing {
	created := time.Date(2026, 11, 2, 15, 4, 5, 0, time.UTC)
	return &courtside.CalendarHearing{
		Hearing: courtside.Hearing{
			ID: 42, CaseID: 7, CourtID: 3, Kind: courtside.KindSentencing,
			StartsAt:  time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC),
			EndsAt:    time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC),
			Courtroom: "4B", Judge: "Judge of Part 4",
			Status: courtside.HearingScheduled, Sequence: 0,
			CreatedAt: created, UpdatedAt: created,
		},
		Docket: "1:26-cr-00042",
		Court: courtside.Court{ID: 3, Name: "U.S. District Court, E.D.N.Y.", TimeZone: "America/New_York",
			Address: "225 Cadman Plaza East, Brooklyn, NY 11201"},
		Pseudonyms: []string{"V-12-R", "V-13-S"},
	}
}

func TestRenderHearing(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		edit   func(ch *courtside.CalendarHearing)
	}{
		{name: "advocate with pseudonyms", golden: "sentencing.ics"},
		{name: "prosecutor without pseudonyms", golden: "prosecutor.ics", edit: func(ch *courtside.CalendarHearing) {
			ch.Pseudonyms = nil
		}},
		{name: "continued", golden: "continued.ics", edit: func(ch *courtside.CalendarHearing) {
			ch.Hearing.Status = courtside.HearingContinued
			ch.Hearing.Sequence = 2
			ch.Hearing.StartsAt = time.Date(2027, 1, 12, 15, 0, 0, 0, time.UTC)
			ch.Hearing.EndsAt = time.Date(2027, 1, 12, 16, 0, 0, 0, time.UTC)
			ch.Hearing.UpdatedAt = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		}},
		{name: "cancelled", golden: "cancelled.ics", edit: func(ch *courtside.CalendarHearing) {
			ch.Hearing.Status = courtside.HearingCancelled
			ch.Hearing.Sequence = 1
			ch.Hearing.UpdatedAt = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
		}},
		{name: "hostile text", golden: "hostile.ics", edit: func(ch *courtside.CalendarHearing) {
			ch.Hearing.Kind = courtside.KindOther
			ch.Hearing.Courtroom = "Courtroom 2;\r\nX-INJECTED:1"
			ch.Hearing.Judge = "Hon. A\\B, C;D\x00\x1b[31m\u202eevil"
			ch.Docket = "1:26\ncr\t42"
			ch.Court.Address = strings.Repeat("Long Street Name ", 12)
			ch.Pseudonyms = []string{"Wren\r\nATTENDEE:mailto:x@example.org", "", "  "}
		}},
		{name: "no courtroom, judge or address", golden: "minimal.ics", edit: func(ch *courtside.CalendarHearing) {
			ch.Hearing.Kind = courtside.KindStatus
			ch.Hearing.Courtroom, ch.Hearing.Judge, ch.Court.Address = "", "", ""
			ch.Pseudonyms = nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := hearingFixture()
			if tt.edit != nil {
				tt.edit(ch)
			}
			got, err := calendar.RenderHearing(ch, "")
			if err != nil {
				t.Fatal(err)
			}
			checkICS(t, got)
			matchGolden(t, tt.golden, got)
			again, _ := calendar.RenderHearing(ch, "")
			if !bytes.Equal(got, again) {
				t.Error("rendering the same hearing twice differs")
			}
		})
	}
}

// checkICS checks what every rendered object must satisfy: CRLF line endings, folded lines of
// at most 75 octets, and one VEVENT that go-ical can decode and re-encode.
func checkICS(t *testing.T, b []byte) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Error("output does not end with CRLF")
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 75 {
			t.Errorf("line %d is %d octets long: %q", i+1, len(line), line)
		}
		for _, r := range line {
			if r < 0x20 && r != '\t' || r == 0x7f {
				t.Errorf("line %d has control character %U", i+1, r)
			}
		}
	}
	cal, err := calendar.DecodeICal(b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cal.Children); n != 1 || cal.Children[0].Name != ical.CompEvent {
		t.Fatalf("want one VEVENT, got %d components", n)
	}
	if _, _, err := calendar.EncodeICal(cal); err != nil {
		t.Fatal(err)
	}
}

func TestRenderHearingFields(t *testing.T) {
	ch := hearingFixture()
	ch.Hearing.Sequence = 3
	b, err := calendar.RenderHearing(ch, "-//Test//Test//EN")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.DecodeICal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cal.Props.Text(ical.PropProductID); got != "-//Test//Test//EN" {
		t.Errorf("PRODID = %q", got)
	}
	if cal.Props.Get(ical.PropMethod) != nil {
		t.Error("a CalDAV object must not carry METHOD")
	}
	ev := cal.Events()[0]
	text := func(name string) string {
		t.Helper()
		s, err := ev.Props.Text(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	for name, want := range map[string]string{
		ical.PropUID:         "hearing-42@courtside",
		ical.PropStatus:      "CONFIRMED",
		ical.PropSummary:     "Sentencing hearing — 1:26-cr-00042",
		ical.PropLocation:    "U.S. District Court, E.D.N.Y., Courtroom 4B, 225 Cadman Plaza East, Brooklyn, NY 11201",
		ical.PropDescription: "Judge: Judge of Part 4\nAccompanying: V-12-R, V-13-S",
	} {
		if got := text(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if seq, err := ev.Props.Get(ical.PropSequence).Int(); err != nil || seq != 3 {
		t.Errorf("SEQUENCE = %d (%v), want 3", seq, err)
	}
	for name, want := range map[string]time.Time{
		ical.PropDateTimeStart: ch.Hearing.StartsAt,
		ical.PropDateTimeEnd:   ch.Hearing.EndsAt,
		ical.PropDateTimeStamp: ch.Hearing.UpdatedAt,
		ical.PropLastModified:  ch.Hearing.UpdatedAt,
	} {
		p := ev.Props.Get(name)
		if p == nil {
			t.Fatalf("no %s", name)
		}
		if !strings.HasSuffix(p.Value, "Z") || p.Params.Get(ical.ParamTimezoneID) != "" {
			t.Errorf("%s = %q, want UTC", name, p.Value)
		}
		got, err := p.DateTime(time.UTC)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
}

func TestRenderHearingInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(ch *courtside.CalendarHearing)
	}{
		{"no id", func(ch *courtside.CalendarHearing) { ch.Hearing.ID = 0 }},
		{"no start", func(ch *courtside.CalendarHearing) { ch.Hearing.StartsAt = time.Time{} }},
		{"end before start", func(ch *courtside.CalendarHearing) { ch.Hearing.EndsAt = ch.Hearing.StartsAt.Add(-time.Hour) }},
		{"no update time", func(ch *courtside.CalendarHearing) {
			ch.Hearing.CreatedAt, ch.Hearing.UpdatedAt = time.Time{}, time.Time{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := hearingFixture()
			tt.edit(ch)
			if _, err := calendar.RenderHearing(ch, ""); err == nil || !strings.HasPrefix(err.Error(), "calendar: ") {
				t.Errorf("err = %v, want a calendar: error", err)
			}
		})
	}
	if _, err := calendar.RenderHearing(nil, ""); err == nil {
		t.Error("nil hearing rendered")
	}
}
