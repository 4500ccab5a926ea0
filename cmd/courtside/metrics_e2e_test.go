package main_test

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestEndToEnd_Metrics scrapes GET /metrics of the real server: the Prometheus text format,
// requests counted by handler and status (a feed secret in a path never becomes a label), and
// the SQL statement counter moving with the work done.
func TestEndToEnd_Metrics(t *testing.T) {
	db := filepath.Join(t.TempDir(), "courtside.db")
	s := startServer(t, db)
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
	value := func(body, series string) int64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\d+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no series %s in:\n%s", series, body)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n
	}

	first := scrape()
	for _, want := range []string{"# TYPE courtside_http_requests_total counter", "# TYPE courtside_sql_statements_total counter"} {
		if !strings.Contains(first, want) {
			t.Errorf("metrics lack %q:\n%s", want, first)
		}
	}
	statements := value(first, "courtside_sql_statements_total")

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

	second := scrape()
	for series, want := range map[string]int64{
		`courtside_http_requests_total{handler="health",code="200"}`:  4,
		`courtside_http_requests_total{handler="other",code="404"}`:   1,
		`courtside_http_requests_total{handler="feeds",code="404"}`:   1,
		`courtside_http_requests_total{handler="metrics",code="200"}`: 1, // the first scrape
	} {
		if got := value(second, series); got != want {
			t.Errorf("%s = %d, want %d", series, got, want)
		}
	}
	if strings.Contains(second, secret) {
		t.Errorf("a feed secret reached the metrics:\n%s", second)
	}
	if after := value(second, "courtside_sql_statements_total"); after <= statements {
		t.Errorf("SQL statements went from %d to %d across a feed lookup and a readiness check", statements, after)
	}
}
