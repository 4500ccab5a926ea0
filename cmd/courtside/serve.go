package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/events"
	"courtside/graph"
	"courtside/storage"
	"courtside/web"
)

// calendarProjection is the consumer group of the calendar projection.
const calendarProjection = "calendar-projection"

// liveFeed is the consumer group that feeds GraphQL subscriptions.
const liveFeed = "live-feed"

// offerSweepInterval is how often the offer-expiry sweep (storage.DB.ExpireOffers) runs.
const offerSweepInterval = 30 * time.Second

// Main is the running service: database, event router and HTTP server, closed in reverse
// order of opening.
type Main struct {
	Config Config
	Logger *slog.Logger

	DB       *storage.DB
	Router   *events.Router
	Hub      *graph.Hub // the live feed of GraphQL subscriptions
	Server   *http.Server
	Listener net.Listener

	routerDone chan error
	stopSweep  context.CancelFunc // stops the offer-expiry sweep
	sweepDone  chan struct{}
	notify     *notifications // the reminder scheduler and the delivery worker
}

// runServe runs `courtside serve` until ctx is cancelled (SIGINT or SIGTERM).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("serve", &cfg, stderr)
	fs.StringVar(&cfg.Addr, "addr", env("COURTSIDE_ADDR", cfg.Addr), "listen address (COURTSIDE_ADDR)")
	fs.BoolVar(&cfg.Demo, "demo", env("COURTSIDE_DEMO", "") == "1", "seed a small, realistic demo data set and print its logins (COURTSIDE_DEMO=1)")
	fs.StringVar(&cfg.BaseURL, "base-url", env("COURTSIDE_BASE_URL", ""), "public URL of the service, for links and feed URLs (COURTSIDE_BASE_URL)")
	fs.BoolVar(&cfg.Introspection, "introspection", env("COURTSIDE_INTROSPECTION", "1") != "0", "allow GraphQL introspection; --introspection=false switches it off (COURTSIDE_INTROSPECTION=0)")
	fs.BoolVar(&cfg.LogJSON, "log-json", env("COURTSIDE_LOG_JSON", "") == "1", "log JSON lines instead of text (COURTSIDE_LOG_JSON=1)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.LogJSON {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	m := &Main{Config: cfg, Logger: slog.New(handler)}
	if err := m.Open(ctx, stdout); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

// Open opens the database, seeds demo data when asked, starts the event router and the HTTP
// server.
func (m *Main) Open(ctx context.Context, stdout io.Writer) (err error) {
	if m.DB, err = openDB(m.Config); err != nil {
		return err
	}
	m.DB.Logger = m.Logger
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	m.Listener = ln
	if m.Config.BaseURL == "" {
		m.Config.BaseURL = "http://" + ln.Addr().String()
	}
	if m.Config.Demo {
		if err := seedDemo(ctx, m.DB, m.Config.BaseURL, stdout); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	} else if n, err := m.DB.CountUsers(ctx); err != nil {
		return err
	} else if n == 0 {
		fmt.Fprintf(stdout, "No users yet. Create the first administrator with:\n  courtside user add --db %s --username admin --role admin --password-stdin\n", m.Config.DB)
	}

	// Objects of personal calendars stored before their extents were kept get one, so that
	// time-range queries skip them without decoding; a failure only leaves them slower.
	if n, err := m.DB.BackfillAvailabilityExtents(ctx, calendar.ObjectExtent); err != nil {
		m.Logger.Warn("availability extents", "err", err, "filled", n)
	} else if n > 0 {
		m.Logger.Info("availability extents", "filled", n)
	}
	evcfg, err := eventConfig(os.Getenv)
	if err != nil {
		return err
	}
	// Working through a backlog, the router lets a writer of another process (an import) go
	// first between two of its transactions.
	evcfg.Waiting = m.DB.WritersWaiting
	if m.Router, err = events.NewRouter(m.DB.Writer, m.Logger, evcfg); err != nil {
		return err
	}
	// A committed mutation wakes the router at once rather than at its next poll. The groups
	// handle each event in the order they are registered, in one transaction: the planners
	// first.
	m.DB.Committed = m.Router.Wake
	if err := m.registerNotifications(); err != nil {
		return err
	}
	m.Router.Handle(calendarProjection, m.DB.ProjectCalendar)
	// The live feed hands each event to the subscriptions without waiting or I/O. It runs
	// before the event's transaction commits, so an event delivered again after a rollback
	// reaches subscribers twice: subscriptions are at least once (graph.Hub).
	m.Hub = graph.NewHub(0)
	m.Router.Handle(liveFeed, func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		m.Hub.Publish(ev)
		return nil
	})
	m.routerDone = make(chan error, 1)
	go func() { m.routerDone <- m.Router.Run(context.WithoutCancel(ctx)) }()
	// Ready means the router runs: wait for it before listening, so that /readyz never answers
	// 503 for a router that is merely starting.
	select {
	case <-m.Router.Running():
	case err := <-m.routerDone:
		m.routerDone <- err // Close waits for it
		return fmt.Errorf("event router stopped at start: %v", err)
	}
	m.startOfferSweep(ctx)
	m.startNotifications(ctx)

	mux, err := m.routes()
	if err != nil {
		return err
	}
	m.Server = &http.Server{Handler: logRequests(m.Logger, mux), ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := m.Server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	}()
	m.Logger.Info("courtside listening", "addr", ln.Addr().String(), "db", m.Config.DB, "url", m.Config.BaseURL)
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr().String())
	return nil
}

// startOfferSweep runs the offer-expiry sweep every offerSweepInterval, as the system (no
// user in its context), until Close stops it.
func (m *Main) startOfferSweep(ctx context.Context) {
	ctx, m.stopSweep = context.WithCancel(context.WithoutCancel(ctx))
	m.sweepDone = make(chan struct{})
	go func() {
		defer close(m.sweepDone)
		ticker := time.NewTicker(offerSweepInterval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			n, err := m.DB.ExpireOffers(ctx)
			if err != nil && ctx.Err() == nil {
				m.Logger.Error("offer expiry sweep", "err", err, "expired", n)
			} else if n > 0 {
				m.Logger.Info("offer expiry sweep", "expired", n)
			}
		}
	}()
}

// routes builds the HTTP handler of interfaces.md.
func (m *Main) routes() (http.Handler, error) {
	gql, err := graph.NewHandler(graph.Config{Users: m.DB, Tokens: m.DB, Courts: m.DB, Cases: m.DB, Hearings: m.DB,
		Victims: m.DB, Accompaniments: m.DB, Sessions: m.DB, Imports: m.DB, Deliveries: m.DB, Bookings: m.DB, Coordination: m.DB, AuditLog: m.DB, Reports: m.DB, BaseURL: m.Config.BaseURL,
		Logger: m.Logger, Introspection: m.Config.Introspection, Hub: m.Hub,
		// Queries execute on one core fewer than the machine has (at least one) and queue for
		// the rest; a mutation never queues behind them, for the processor or the read pool.
		MaxConcurrentQueries: max(1, runtime.GOMAXPROCS(0)-1)})
	if err != nil {
		return nil, err
	}
	dav := calendar.NewHandler(calendar.Config{Users: m.DB, Tokens: m.DB, Calendars: m.DB, Availability: m.DB, Bookings: m.DB, Logger: m.Logger})
	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	mux.Handle("/.well-known/caldav", dav)
	mux.Handle("/dav/", dav)
	mux.Handle("/feeds/", calendar.NewFeedHandler(calendar.FeedConfig{Tokens: m.DB, Calendars: m.DB, Logger: m.Logger, Now: m.DB.Now}))
	mux.Handle("/bookings/", web.NewRespondHandler(web.RespondConfig{Links: m.DB, Logger: m.Logger}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", m.ready)
	met := newMetrics(m.DB)
	mux.Handle("GET /metrics", met)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The redirect and the 404 carry a small HTML or text body: the same headers as every
		// HTML page (graph's GraphiQL page sets its own, with a script nonce).
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path != "/" {
			http.Error(w, "Not found.", http.StatusNotFound)
			return
		}
		http.Redirect(w, r, "/graphql", http.StatusFound)
	})
	return met.count(mux), nil
}

// ready answers /readyz: the database is writable and the event router is running.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	if err := m.DB.Ping(r.Context()); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	select {
	case <-m.Router.Running():
	default:
		http.Error(w, "event router not running", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// Close stops the HTTP server (finishing in-flight requests), the router and the database.
func (m *Main) Close() error {
	var errs []error
	if m.Server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, m.Server.Shutdown(ctx))
		cancel()
	} else if m.Listener != nil {
		m.Listener.Close()
	}
	if m.Hub != nil {
		m.Hub.Close() // Shutdown leaves WebSocket connections alone: close them with 1001
	}
	if m.stopSweep != nil {
		m.stopSweep()
		<-m.sweepDone
	}
	m.stopNotifications()
	if m.Router != nil {
		errs = append(errs, m.Router.Close())
		if m.routerDone != nil {
			<-m.routerDone
		}
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Close())
	}
	return errors.Join(errs...)
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, hijack).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests logs one line per request: method, path, status, duration. Paths carry no victim
// data; secrets never travel in paths except feed tokens, which are not logged.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		path := r.URL.Path
		if len(path) > 7 && path[:7] == "/feeds/" {
			path = "/feeds/[redacted]"
		}
		logger.Info("http", slog.String("method", r.Method), slog.String("path", path),
			slog.Int("status", rec.status), slog.Duration("took", time.Since(start)))
	})
}
