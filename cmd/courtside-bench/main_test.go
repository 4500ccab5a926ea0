package main

import (
	"strings"
	"testing"
	"time"
)

func TestSampleStatistics(t *testing.T) {
	var s Sample
	for i := 100; i >= 1; i-- { // unsorted on purpose
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"median of 1..100", s.Median(), 50500 * time.Microsecond},
		{"p90 of 1..100", s.P90(), 90 * time.Millisecond},
		{"p99 of 1..100", s.P99(), 99 * time.Millisecond},
		{"p100 of 1..100", s.Quantile(1), 100 * time.Millisecond},
		{"p0 of 1..100", s.Quantile(0), time.Millisecond},
		{"mean of 1..100", s.Mean(), 50500 * time.Microsecond},
		{"median of three", Sample{3, 1, 2}.Median(), 2},
		{"p99 of one", Sample{7}.P99(), 7},
		{"p90 of ten", Sample{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}.P90(), 9},
		{"median of none", Sample{}.Median(), 0},
		{"p99 of none", Sample{}.P99(), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s[0] != 100*time.Millisecond {
		t.Errorf("statistics sorted the sample in place: first is %v", s[0])
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{fmtDur(1234 * time.Microsecond), "1.23 ms"},
		{fmtDur(15 * time.Second), "15 s"},
		{fmtDur(850 * time.Nanosecond), "850 ns"},
		{fmtDur(0), "0"},
		{fmtRatio(Ratio(500, 4)), "125×"},
		{fmtRatio(Ratio(3, 2)), "1.5×"},
		{fmtRatio(Ratio(1, 0)), "n/a"},
		{fmtRate(554.2), "554"},
		{fmtRate(51943.4), "51943"},
		{fmtMB(150_000_000), "150.0 MB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tcourtside\nVmPeak:\t 1900000 kB\nVmHWM:\t   40960 kB\nVmRSS:\t   30720 kB\nThreads:\t9\n"
	rss, hwm, err := parseProcStatus(status)
	if err != nil || rss != 30720<<10 || hwm != 40960<<10 {
		t.Fatalf("parseProcStatus = %d, %d, %v; want %d, %d", rss, hwm, err, 30720<<10, 40960<<10)
	}
	if _, _, err := parseProcStatus("Name:\tcourtside\nVmRSS:\t 1 kB\n"); err == nil {
		t.Error("a status without VmHWM was accepted")
	}
}

func TestParseBenchOutput(t *testing.T) {
	out := `goos: linux
BenchmarkRenderHearing-2          	   50000	     23456 ns/op	    9000 B/op	     120 allocs/op
BenchmarkCalendarChanges/after_one_change-2  	    1000	   101.5 ns/op	       0 B/op	       0 allocs/op
BenchmarkDecideSend   	 2000000	       571.2 ns/op
--- FAIL: BenchmarkBroken
PASS`
	got := parseBenchOutput(out)
	if len(got) != 3 {
		t.Fatalf("parsed %d results, want 3: %+v", len(got), got)
	}
	want := []benchResult{
		{name: "BenchmarkRenderHearing", n: 50000, nsPerOp: 23456, bytes: "9000", allocs: "120"},
		{name: "BenchmarkCalendarChanges/after_one_change", n: 1000, nsPerOp: 101.5, bytes: "0", allocs: "0"},
		{name: "BenchmarkDecideSend", n: 2000000, nsPerOp: 571.2},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSyncToken(t *testing.T) {
	for body, want := range map[string]string{
		`<D:multistatus xmlns:D="DAV:"><D:response/><D:sync-token>https://courtside/sync/3/17</D:sync-token></D:multistatus>`: "https://courtside/sync/3/17",
		`<multistatus xmlns="DAV:"><sync-token>http://radicale.org/ns/sync/abc123</sync-token></multistatus>`:                 "http://radicale.org/ns/sync/abc123",
		`<ns0:multistatus xmlns:ns0="DAV:"><ns0:sync-token>
  tok-1
</ns0:sync-token></ns0:multistatus>`: "tok-1",
		`<D:multistatus xmlns:D="DAV:"/>`: "",
	} {
		if got := syncToken([]byte(body)); got != want {
			t.Errorf("syncToken(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestEventICS(t *testing.T) {
	a, b := eventICS(7, 5000, 12, 0), eventICS(7, 5000, 12, 1)
	// The UID is the resource name without .ics: Radicale names the items of a collection PUT
	// whole after their UIDs, so both servers hold the event under the same name.
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "UID:" + strings.TrimSuffix(eventName(7), ".ics") + "\r\n", "DTSTART:", "END:VCALENDAR\r\n"} {
		if !strings.Contains(string(a), want) {
			t.Errorf("event lacks %q:\n%s", want, a)
		}
	}
	if string(a) == string(b) || !strings.Contains(string(b), "SEQUENCE:1\r\n") {
		t.Errorf("a revision did not change the event:\n%s", b)
	}
	// One month of the middle of the range holds a share of the events, not none or all.
	first, last := eventStart(0, 5000, 12), eventStart(4999, 5000, 12)
	if !last.After(first.AddDate(0, 6, 0)) {
		t.Errorf("5,000 events span %s to %s, want about a year", first, last)
	}
}

// TestCollectionICS checks the body of a PUT of a whole collection: one VCALENDAR holding the
// first n events, each as eventICS has it.
func TestCollectionICS(t *testing.T) {
	from := time.Date(2030, 3, 4, 14, 0, 0, 0, time.UTC)
	body := string(collectionICS(from, 40, 5000, 12))
	if strings.Count(body, "BEGIN:VCALENDAR") != 1 || strings.Count(body, "BEGIN:VEVENT") != 40 || !strings.HasSuffix(body, "END:VCALENDAR\r\n") {
		t.Fatalf("collection:\n%s", body)
	}
	for _, i := range []int{0, 39} {
		event := string(eventVEVENT(from, i, 5000, 12, 0))
		if !strings.Contains(body, event) || !strings.Contains(string(eventICSFrom(from, i, 5000, 12, 0)), event) {
			t.Errorf("event %d is not the one eventICSFrom renders:\n%s", i, event)
		}
	}
	if strings.Contains(body, eventName(40)[:len("bench-00040")]) {
		t.Error("the collection holds event 40")
	}
	if got := eventStartFrom(from, 0, 5000, 12); !got.Equal(from) {
		t.Errorf("the first event starts at %s, want %s", got, from)
	}
}

func TestWriteMarkdown(t *testing.T) {
	r := &Report{
		Started: time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC), Took: 90 * time.Second, Command: "make bench",
		Machine:  []KV{{"CPU", "Test CPU"}, {"cores", "2"}},
		Versions: []KV{{"Go", "go1.26.10"}},
		Sections: []*Section{
			{Title: "Import", Intro: "Rows.", Targets: []Target{
				{Figure: "share of raw", Value: "30%", Goal: "≥ 25%", Measured: true, Pass: true},
				{Figure: "a|pipe", Value: "1", Goal: "2", Measured: true, Pass: false},
				{Figure: "p50", Value: "3 ms", Goal: "none set", Measured: true, Reported: true},
			}, Tables: []Table{{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}}}, Notes: []string{"A note."}},
			notMeasured("Fan-out", "needs the worker"),
			{Title: "Later", NotMeasured: "not measured yet: no worker", Targets: []Target{{Figure: "p99", Goal: "≤ 20 ms"}}},
		},
		Appendix: "## Profile-driven fixes\n\nText.",
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"# Courtside benchmarks\n",
		"from one run started 2026-11-28 01:00 UTC, which took 1m30s.",
		"| CPU | Test CPU |",
		"| 1. share of raw | 30% | ≥ 25% | PASS |",
		`| 1. a\|pipe | 1 | 2 | MISS |`,
		"| 1. p50 | 3 ms | none set | reported |",
		"| 2. Fan-out | — | — | not measured: needs the worker |",
		"| 3. p99 |  | ≤ 20 ms | not measured yet: no worker |",
		"## 1. Import\n\nRows.\n",
		"| 1 | 2 |",
		"- A note.",
		"## 2. Fan-out\n\n**Not measured: needs the worker**\n",
		"## Profile-driven fixes\n\nText.\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| 3. Later |") {
		t.Error("a section with targets has its own not-measured row too")
	}
	if strings.Contains(md, "-quick") {
		t.Error("a full run's report calls itself -quick")
	}
	r.Quick = true
	b.Reset()
	r.WriteMarkdown(&b)
	if !strings.Contains(b.String(), "This was a `-quick` run") {
		t.Error("a -quick run's report does not say so")
	}
}

func TestFmtInt(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 50000: "50,000", 1000000: "1,000,000", -12345: "-12,345"} {
		if got := fmtInt(n); got != want {
			t.Errorf("fmtInt(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseProcCPU(t *testing.T) {
	// Fields 14 and 15 (utime, stime) are 150 and 25 ticks; the name holds a space and a ')'.
	stat := "4242 (court side) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 0 0 20 0 9 0 100 2000000 3000 18446744073709551615"
	got, err := parseProcCPU(stat)
	if err != nil || got != 1750*time.Millisecond {
		t.Errorf("parseProcCPU = %v, %v; want 1.75s", got, err)
	}
	if _, err := parseProcCPU("garbage"); err == nil {
		t.Error("parseProcCPU accepted text without a command name")
	}
}

// A run of some sections replaces those sections and their summary rows in the report it
// writes over, numbered as in a whole run, and leaves the rest as it was.
func TestMergeReport_ReplacesOnlyTheSectionsThatRan(t *testing.T) {
	render := func(secs ...*Section) string {
		var b strings.Builder
		r := &Report{Started: time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC), Command: "make bench", Sections: secs,
			Appendix: "## Profile-driven fixes\n\nRecorded by hand.\n"}
		if err := r.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	fig := func(name, value string) Target {
		return Target{Figure: name, Value: value, Goal: "none set", Measured: true, Reported: true}
	}
	old := render(
		&Section{Number: 1, Title: "First", Targets: []Target{fig("one", "old 1")}, Notes: []string{"first, old"}},
		&Section{Number: 2, Title: "Second", Targets: []Target{fig("two", "old 2a"), fig("two b", "old 2b")}, Notes: []string{"second, old"}},
		&Section{Number: 4, Title: "Fourth", Targets: []Target{fig("four", "old 4")}, Notes: []string{"fourth, old"}},
	)
	fresh := render(
		&Section{Number: 2, Title: "Second", NotMeasured: "not measured: no server"},
		&Section{Number: 3, Title: "Third", Targets: []Target{fig("three", "new 3")}, Notes: []string{"third, new"}},
		&Section{Number: 5, Title: "Fifth", Targets: []Target{fig("five", "new 5")}, Notes: []string{"fifth, new"}},
	)
	got, err := mergeReport(old, fresh)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"| 1. one | old 1", "| 2. Second | — | — | not measured: no server", "| 3. three | new 3", "| 4. four | old 4", "| 5. five | new 5",
		"## 1. First", "first, old", "## 2. Second", "**Not measured: no server**", "## 3. Third", "third, new", "## 4. Fourth", "fourth, old",
		"## 5. Fifth", "fifth, new", "## Profile-driven fixes", "Recorded by hand."}
	at := 0
	for _, want := range order {
		i := strings.Index(got[at:], want)
		if i < 0 {
			t.Fatalf("merged report lacks %q after position %d:\n%s", want, at, got)
		}
		at += i + len(want)
	}
	for _, gone := range []string{"old 2a", "old 2b", "second, old"} {
		if strings.Contains(got, gone) {
			t.Errorf("merged report still holds %q:\n%s", gone, got)
		}
	}
	if strings.Count(got, "## Profile-driven fixes") != 1 || strings.Count(got, "## Summary") != 1 {
		t.Errorf("merged report repeats the appendix or the summary:\n%s", got)
	}
	if _, err := mergeReport("# Notes\n\nnot a report\n", fresh); err == nil {
		t.Error("merged into a file that is not a report")
	}
}
