package main_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEndToEnd_Metrics scrapes GET /metrics of the real server: the Prometheus text format
// from the Prometheus Go client; requests counted and timed by handler and status (a feed
// secret in a path never becomes a label); each consumer group's handler timed; the event
// backlog per group, the dead letters and the delivery leases read from the database; the
// SQL statement counter moving with the work done.
// metricValue returns the value of series (a name with its labels, as written) in the text
// format body of GET /metrics.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no series %s in:\n%s", series, body)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEndToEnd_Metrics(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	var hooksCode int // the status of the unsigned SMS callback
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	scrape := func() string {
		t.Helper()
		code, body, h := get("/metrics")
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4") {
			t.Fatalf("GET /metrics answered %d %q: %s", code, h.Get("Content-Type"), body)
		}
		return body
	}
	value := func(body, series string) float64 {
		t.Helper()
		return metricValue(t, body, series)
	}

	first := scrape()
	for _, want := range []string{
		"# TYPE courtside_sql_statements_total counter",
		"# TYPE courtside_http_request_duration_seconds histogram",
		"# TYPE courtside_event_handler_duration_seconds histogram",
		"# TYPE courtside_event_backlog gauge",
		"# TYPE courtside_event_dead_letters gauge",
		"# TYPE courtside_delivery_leases gauge",
		"# TYPE courtside_build_info gauge",
		"# TYPE courtside_imip_messages_total counter",
		"# TYPE courtside_imip_replies_total counter",
		"# TYPE go_goroutines gauge",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	statements := value(first, "courtside_sql_statements_total")
	if value(first, "courtside_event_dead_letters") != 0 || value(first, "courtside_delivery_leases") != 0 {
		t.Errorf("dead letters or leases on a new database:\n%s", first)
	}

	for i := 0; i < 3; i++ {
		if code, _, _ := get("/healthz"); code != http.StatusOK {
			t.Fatalf("GET /healthz answered %d", code)
		}
	}
	if code, _, _ := get("/no-such-page"); code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page answered %d, want 404", code)
	}
	const secret = "b2a4c6d8e0f1a3b5c7d9e1f3a5b7c9d1"
	if code, _, _ := get("/feeds/" + secret + ".ics"); code != http.StatusNotFound {
		t.Fatalf("GET of an unknown feed answered %d, want 404", code)
	}
	if code, _, _ := get("/readyz"); code != http.StatusOK {
		t.Fatalf("GET /readyz answered %d", code)
	}
	// A victim's acknowledgement link with a forged token, and the SMS gateway's callback
	// unsigned: each counted under its own handler.
	if code, _, _ := get("/m/1?t=forged"); code != http.StatusNotFound {
		t.Fatalf("GET of a forged acknowledgement link answered %d, want 404", code)
	}
	if resp, err := http.Post(s.url+"/hooks/sms", "application/x-www-form-urlencoded", strings.NewReader("Body=STOP")); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		hooksCode = resp.StatusCode
	}
	// A mutation: its events go through every consumer group, each timed.
	setUpHearing(t, s.url, w, time.Now().UTC().Add(72*time.Hour).Truncate(time.Hour))

	// A dead letter, as a consumer group leaves one after its retries.
	raw, err := openRaw(t, w.db, w.db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`INSERT INTO event_dead_letters (consumer_group, event_uuid, error) VALUES ('notice-planner', 'e-1', 'test')`); err != nil {
		t.Fatal(err)
	}

	var second string
	deadline := time.Now().Add(30 * time.Second)
	for {
		second = scrape()
		caughtUp := true
		for _, g := range []string{"notice-planner", "reminder-planner", "calendar-projection", "live-feed"} {
			if value(second, `courtside_event_backlog{group="`+g+`"}`) != 0 || value(second, `courtside_event_handler_duration_seconds_count{group="`+g+`"}`) == 0 {
				caughtUp = false
			}
		}
		if caughtUp {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the consumer groups did not catch up:\n%s", second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for series, want := range map[string]float64{
		`courtside_http_requests_total{code="200",handler="health"}`:                       4,
		`courtside_http_requests_total{code="404",handler="other"}`:                        1,
		`courtside_http_requests_total{code="404",handler="feeds"}`:                        1,
		`courtside_http_requests_total{code="404",handler="acknowledgements"}`:             1,
		fmt.Sprintf(`courtside_http_requests_total{code="%d",handler="hooks"}`, hooksCode): 1,
		`courtside_http_request_duration_seconds_count{handler="health"}`:                  4,
		`courtside_http_request_duration_seconds_bucket{handler="health",le="+Inf"}`:       4,
		`courtside_event_dead_letters`:                                                     1,
	} {
		if got := value(second, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if !strings.Contains(second, "# TYPE courtside_http_requests_total counter") {
		t.Error("metrics lack courtside_http_requests_total")
	}
	if strings.Contains(second, secret) || strings.Contains(second, "/feeds/") || strings.Contains(second, "path=") {
		t.Errorf("a path reached the metrics:\n%s", second)
	}
	if after := value(second, "courtside_sql_statements_total"); after <= statements {
		t.Errorf("SQL statements went from %v to %v across a feed lookup, a readiness check and mutations", statements, after)
	}
}
