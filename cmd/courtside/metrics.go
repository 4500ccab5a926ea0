package main

import (
	"context"
	"courtside/notify"
	"database/sql"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// statsSource is what /metrics reads the database's figures from: storage.DB.
type statsSource interface {
	Statements() int64
	EventBacklog(ctx context.Context, groups ...string) (map[string]int64, error)
	CountDeadLetters(ctx context.Context) (int64, error)
	CountLeasedDeliveries(ctx context.Context) (int64, error)
}

// metrics is what GET /metrics reports, through the Prometheus Go client, in its text format:
//
//	courtside_http_requests_total{handler,code}          HTTP requests answered
//	courtside_http_request_duration_seconds{handler}     how long they took (histogram)
//	courtside_event_handler_duration_seconds{group}      how long each consumer group took per event (histogram)
//	courtside_event_backlog{group}                       events after the group's offset: work still to do
//	courtside_event_dead_letters                         events a group gave up on (event_dead_letters)
//	courtside_delivery_leases                            pending deliveries a worker holds leased
//	courtside_sql_statements_total                       SQL statements run since the database was opened
//	courtside_build_info{version,goversion}              1, labelled with the binary's version
//	courtside_imip_messages_total{outcome}               the reply listener's connections refused and
//	                                                     messages accepted or dropped (notify.Mail*)
//	courtside_imip_replies_total{outcome}                the iTIP replies in accepted messages: answered,
//	                                                     refused, failed, not_a_reply
//
// and the Go runtime's and the process's own (go_*, process_*). Labels are a fixed set
// (handler names, status codes, consumer groups), never paths, so no feed secret, username
// or ID reaches them.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handlers *prometheus.HistogramVec
	mail     *prometheus.CounterVec // courtside_imip_messages_total
	replies  *prometheus.CounterVec // courtside_imip_replies_total
}

// The outcomes of courtside_imip_replies_total.
const (
	replyAnswered  = "answered"    // the booking answered as the reply says
	replyRefused   = "refused"     // refused by the rules of every answer (forged, foreign, late, ...)
	replyFailed    = "failed"      // an internal error: the sender may send it again
	replyNotAReply = "not_a_reply" // a message with calendar objects but no iTIP REPLY
)

// newMetrics returns the metrics of a service over db; groups are its consumer groups.
func newMetrics(db statsSource, groups []string) *metrics {
	mt := &metrics{registry: prometheus.NewRegistry()}
	mt.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courtside_http_requests_total",
		Help: "HTTP requests answered, by handler and status code.",
	}, []string{"handler", "code"})
	mt.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "courtside_http_request_duration_seconds",
		Help:    "How long HTTP requests took to answer, by handler.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"handler"})
	mt.handlers = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "courtside_event_handler_duration_seconds",
		Help:    "How long a consumer group's handler took for one event, by group.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"group"})
	version := "(devel)"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		version = info.Main.Version
	}
	mt.mail = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courtside_imip_messages_total",
		Help: "The invitation-reply listener's connections refused, and messages accepted (handed on) or dropped.",
	}, []string{"outcome"})
	mt.replies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courtside_imip_replies_total",
		Help: "iTIP replies received by e-mail, by outcome: answered, refused, failed, not_a_reply.",
	}, []string{"outcome"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "courtside_build_info",
		Help: "Always 1; the labels say which binary runs."}, []string{"version", "goversion"})
	build.WithLabelValues(version, strings.TrimPrefix(goVersion(), "go")).Set(1)
	mt.registry.MustRegister(mt.requests, mt.latency, mt.handlers, mt.mail, mt.replies, build,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "courtside_sql_statements_total",
			Help: "SQL statements run by both connection pools since the database was opened.",
		}, func() float64 { return float64(db.Statements()) }),
		&dbCollector{db: db, groups: groups},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Every handler's series exist from the start, at zero.
	for _, h := range handlerNames {
		mt.latency.WithLabelValues(h)
	}
	for _, g := range groups {
		mt.handlers.WithLabelValues(g)
	}
	for _, o := range []string{notify.MailRefused, notify.MailAccepted, notify.MailDropped} {
		mt.mail.WithLabelValues(o)
	}
	for _, o := range []string{replyAnswered, replyRefused, replyFailed, replyNotAReply} {
		mt.replies.WithLabelValues(o)
	}
	return mt
}

// goVersion is the Go release the binary was built with.
func goVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.GoVersion
	}
	return "unknown"
}

// handlerNames is the fixed set of handler labels.
var handlerNames = []string{"graphql", "caldav", "feeds", "bookings", "acknowledgements", "hooks", "health", "metrics", "demo", "other"}

// handlerName names the part of the service that answers path, from handlerNames.
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
	case strings.HasPrefix(path, "/m/"):
		return "acknowledgements"
	case strings.HasPrefix(path, "/hooks/"):
		return "hooks"
	case path == "/healthz" || path == "/readyz":
		return "health"
	case path == "/metrics":
		return "metrics"
	case strings.HasPrefix(path, "/demo/"):
		return "demo"
	}
	return "other"
}

// count wraps next, counting and timing each request by handler and the status it answered.
func (mt *metrics) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		h := handlerName(r.URL.Path)
		mt.latency.WithLabelValues(h).Observe(time.Since(start).Seconds())
		mt.requests.WithLabelValues(h, strconv.Itoa(rec.status)).Inc()
	})
}

// timeHandler wraps a consumer group's handler, timing each event it handles.
func (mt *metrics) timeHandler(group string, fn func(context.Context, *sql.Tx, courtside.Event) error) func(context.Context, *sql.Tx, courtside.Event) error {
	observer := mt.handlers.WithLabelValues(group)
	return func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		start := time.Now()
		err := fn(ctx, tx, ev)
		observer.Observe(time.Since(start).Seconds())
		return err
	}
}

// handler returns the handler of GET /metrics.
func (mt *metrics) handler() http.Handler {
	h := promhttp.HandlerFor(mt.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// dbCollector reads the event log's backlog, the dead letters and the delivery leases from
// the database at each scrape.
type dbCollector struct {
	db     statsSource
	groups []string
}

var (
	backlogDesc = prometheus.NewDesc("courtside_event_backlog",
		"Events of the log after the consumer group's offset: work it has still to do.", []string{"group"}, nil)
	deadLettersDesc = prometheus.NewDesc("courtside_event_dead_letters",
		"Events a consumer group gave up on after its retries (rows of event_dead_letters).", nil, nil)
	leasesDesc = prometheus.NewDesc("courtside_delivery_leases",
		"Pending deliveries a delivery worker holds leased now.", nil, nil)
)

// Describe sends the collector's descriptions.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDesc
	ch <- deadLettersDesc
	ch <- leasesDesc
}

// Collect queries the database; a failed query leaves its series out and reports the error.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if backlog, err := c.db.EventBacklog(ctx, c.groups...); err != nil {
		ch <- prometheus.NewInvalidMetric(backlogDesc, err)
	} else {
		for _, g := range c.groups {
			ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(backlog[g]), g)
		}
	}
	if n, err := c.db.CountDeadLetters(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(deadLettersDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.GaugeValue, float64(n))
	}
	if n, err := c.db.CountLeasedDeliveries(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(leasesDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(leasesDesc, prometheus.GaugeValue, float64(n))
	}
}

// handle registers a consumer group's handler with the router, timed for
// courtside_event_handler_duration_seconds.
func (m *Main) handle(group string, fn func(context.Context, *sql.Tx, courtside.Event) error) {
	m.Router.Handle(group, m.metrics.timeHandler(group, fn))
}

// handleFirst registers a handler like handle, in the router's first lane (events.Router.HandleFirst).
func (m *Main) handleFirst(group string, fn func(context.Context, *sql.Tx, courtside.Event) error) {
	m.Router.HandleFirst(group, m.metrics.timeHandler(group, fn))
}
