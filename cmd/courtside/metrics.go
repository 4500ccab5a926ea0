package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// metricsContentType is the Prometheus text exposition format, version 0.0.4.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// statementCounter is what /metrics reads the SQL statement count from: storage.DB.
type statementCounter interface{ Statements() int64 }

// metrics counts what GET /metrics reports in the Prometheus text format: HTTP requests by
// handler and status code, and the SQL statements the database has run since it was opened.
// Labels are a fixed set (handler names and status codes), never paths, so no feed secret,
// username or ID reaches them.
type metrics struct {
	db statementCounter

	mu       sync.Mutex
	requests map[requestKey]uint64
}

// requestKey labels one HTTP request counter.
type requestKey struct {
	handler string
	code    int
}

// newMetrics returns the metrics of a server over db.
func newMetrics(db statementCounter) *metrics {
	return &metrics{db: db, requests: map[requestKey]uint64{}}
}

// handlerName names the part of the service that answers path, from a fixed set.
func handlerName(path string) string {
	switch {
	case path == "/graphql":
		return "graphql"
	case path == "/.well-known/caldav" || strings.HasPrefix(path, "/dav/"):
		return "caldav"
	case strings.HasPrefix(path, "/feeds/"):
		return "feeds"
	case strings.HasPrefix(path, "/bookings/"):
		return "bookings"
	case path == "/healthz" || path == "/readyz":
		return "health"
	case path == "/metrics":
		return "metrics"
	}
	return "other"
}

// count wraps next, counting each request by handler and the status it answered.
func (mt *metrics) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		key := requestKey{handler: handlerName(r.URL.Path), code: rec.status}
		mt.mu.Lock()
		mt.requests[key]++
		mt.mu.Unlock()
	})
}

// ServeHTTP answers GET /metrics.
func (mt *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mt.mu.Lock()
	keys := make([]requestKey, 0, len(mt.requests))
	for k := range mt.requests {
		keys = append(keys, k)
	}
	counts := make([]uint64, len(keys))
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].handler != keys[j].handler {
			return keys[i].handler < keys[j].handler
		}
		return keys[i].code < keys[j].code
	})
	for i, k := range keys {
		counts[i] = mt.requests[k]
	}
	mt.mu.Unlock()

	var b strings.Builder
	b.WriteString("# HELP courtside_http_requests_total HTTP requests answered, by handler and status code.\n")
	b.WriteString("# TYPE courtside_http_requests_total counter\n")
	for i, k := range keys {
		fmt.Fprintf(&b, "courtside_http_requests_total{handler=%q,code=\"%d\"} %d\n", k.handler, k.code, counts[i])
	}
	b.WriteString("# HELP courtside_sql_statements_total SQL statements run by both connection pools since the database was opened.\n")
	b.WriteString("# TYPE courtside_sql_statements_total counter\n")
	fmt.Fprintf(&b, "courtside_sql_statements_total %d\n", mt.db.Statements())
	w.Header().Set("Content-Type", metricsContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprint(w, b.String())
}
