package calendar_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"courtside/calendar"

	"github.com/emersion/go-ical"
)

func TestConvert(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.ics"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, golden := range goldens {
		t.Run(filepath.Base(golden), func(t *testing.T) {
			rendered, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			cal, encoded, etag, err := calendar.Convert(rendered)
			if err != nil {
				t.Fatal(err)
			}
			// What go-webdav sends is go-ical's encoding of cal: the ETag must hash exactly that.
			var buf bytes.Buffer
			if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), encoded) {
				t.Error("encoded bytes differ from go-ical's encoding")
			}
			if etag != calendar.ETag(buf.Bytes()) || len(etag) != 32 {
				t.Errorf("etag = %q", etag)
			}
			// The conversion is stable: converting the encoding again gives the same bytes.
			_, again, etag2, err := calendar.Convert(encoded)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, encoded) || etag2 != etag {
				t.Error("converting go-ical's own encoding changed it")
			}
			// Nothing is lost between the rendering and go-ical's view of it: every property the
			// rendering's VEVENT has (an invitation's withdrawal has no STATUS, for one), and
			// those every object needs.
			ev := cal.Events()[0]
			for _, name := range append(eventPropertyNames(rendered), ical.PropUID, ical.PropDateTimeStamp, ical.PropDateTimeStart,
				ical.PropDateTimeEnd, ical.PropSequence, ical.PropSummary) {
				if ev.Props.Get(name) == nil {
					t.Errorf("%s lost", name)
				}
			}
		})
	}
}

// eventPropertyNames returns the names of the properties of the first VEVENT of an iCalendar
// text, read line by line: continuation lines and nested components (VALARM) skipped.
func eventPropertyNames(data []byte) []string {
	var names []string
	depth := 0 // 1 inside the VEVENT, more inside a component nested in it
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		switch {
		case line == "BEGIN:VEVENT" && depth == 0:
			depth = 1
		case depth > 0 && strings.HasPrefix(line, "BEGIN:"):
			depth++
		case depth > 0 && strings.HasPrefix(line, "END:"):
			if depth--; depth == 0 {
				return names
			}
		case depth == 1 && line != "" && line[0] != ' ' && line[0] != '\t':
			if i := strings.IndexAny(line, ":;"); i > 0 {
				names = append(names, line[:i])
			}
		}
	}
	return names
}

func TestConvertDifferentContentDifferentETag(t *testing.T) {
	a, _ := os.ReadFile(filepath.Join("testdata", "sentencing.ics"))
	b, _ := os.ReadFile(filepath.Join("testdata", "cancelled.ics"))
	_, _, ea, err := calendar.Convert(a)
	if err != nil {
		t.Fatal(err)
	}
	_, _, eb, err := calendar.Convert(b)
	if err != nil {
		t.Fatal(err)
	}
	if ea == eb {
		t.Error("different objects share an ETag")
	}
}

func TestDecodeICalMalformed(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"empty", ""},
		{"not icalendar", "hello\r\n"},
		{"parameter with no value", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID="},
		{"parameter with no value and colon", "BEGIN:VCALENDAR\r\nX;A=\r\nEND:VCALENDAR\r\n"},
		{"unterminated quote", "BEGIN:VCALENDAR\r\nX;A=\"b:c\r\nEND:VCALENDAR\r\n"},
		{"wrong end", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"},
		{"no end", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"},
		{"not a calendar", "BEGIN:VEVENT\r\nEND:VEVENT\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal, err := calendar.DecodeICal([]byte(tt.input))
			if err == nil {
				t.Fatalf("decoded %+v", cal)
			}
			if !strings.HasPrefix(err.Error(), "calendar: ") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestEncodeICalInvalid(t *testing.T) {
	if _, _, err := calendar.EncodeICal(nil); err == nil {
		t.Error("nil calendar encoded")
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//x//x//EN")
	ev := ical.NewEvent() // no UID, no DTSTAMP: go-ical refuses it
	cal.Children = append(cal.Children, ev.Component)
	if _, _, err := calendar.EncodeICal(cal); err == nil {
		t.Error("VEVENT without UID and DTSTAMP encoded")
	}
}

// FuzzDecodeICal feeds arbitrary bytes through the conversion: it must return an error or a
// calendar that encodes, and never panic.
func FuzzDecodeICal(f *testing.F) {
	goldens, _ := filepath.Glob(filepath.Join("testdata", "*.ics"))
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID="))
	f.Add([]byte("BEGIN:VCALENDAR\r\nX;A=b,\r\nEND:VCALENDAR\r\n"))
	// A round trip: what decodes either encodes or is refused with the encoder's own error
	// (never a panic caught on the way), and what encodes decodes again and encodes to the same
	// bytes and ETag: what Courtside serves, it can read back unchanged.
	f.Fuzz(func(t *testing.T, b []byte) {
		cal, err := calendar.DecodeICal(b)
		if err != nil {
			return
		}
		data, etag, err := calendar.EncodeICal(cal)
		if err != nil {
			if errors.Unwrap(err) == nil {
				t.Fatalf("encoding a decoded calendar failed without the encoder's reason (a panic?): %v\ninput %q", err, b)
			}
			return
		}
		again, err := calendar.DecodeICal(data)
		if err != nil {
			t.Fatalf("the encoding does not decode: %v\ninput %q\nencoded %q", err, b, data)
		}
		data2, etag2, err := calendar.EncodeICal(again)
		if err != nil {
			t.Fatalf("the decoded encoding does not encode: %v\nencoded %q", err, data)
		}
		if !bytes.Equal(data, data2) || etag != etag2 {
			t.Fatalf("a round trip changed the calendar:\nfirst  %q\nsecond %q", data, data2)
		}
	})
}
