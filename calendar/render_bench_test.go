package calendar_test

import (
	"testing"

	"courtside/calendar"
)

// BenchmarkRenderHearing renders one calendar object: the work of every GET, multiget and
// calendar-query answer, once per hearing.
func BenchmarkRenderHearing(b *testing.B) {
	ch := hearingFixture()
	b.ReportAllocs()
	for b.Loop() {
		data, err := calendar.RenderHearing(ch, "")
		if err != nil || len(data) == 0 {
			b.Fatalf("render: %d bytes, %v", len(data), err)
		}
	}
}
