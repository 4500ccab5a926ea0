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
	"strings"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/events"
	"courtside/graph"
	"courtside/notify"
	"courtside/storage"
	"courtside/web"
)

// calendarProjection is the consumer group of the calendar projection.
const calendarProjection = "calendar-projection"

// liveFeed is the consumer group that feeds GraphQL subscriptions.
const liveFeed = "live-feed"

// offerSweepInterval is how often the offer-expiry sweep (storage.BookingService.ExpireOffers)
// runs unless --offer-sweep says otherwise.
const offerSweepInterval = 30 * time.Second

// Main is the running service: database, event router and HTTP server, closed in reverse
// order of opening.
type Main struct {
	Config Config
	Guard  guardConfig // request deadline, trusted proxies (guard.go)
	Logger *slog.Logger

	DB       *storage.DB
	Router   *events.Router
	Hub      *graph.Hub // the live feed of GraphQL subscriptions
	Server   *http.Server
	Listener net.Listener

	// Transport bounds the HTTP server (transport.go); zero fields take the defaults.
	Transport Transport
	conns     *connLimiter // the listener's connection caps

	// OfferSweep is how often the offer-expiry sweep runs; zero means offerSweepInterval.
	OfferSweep time.Duration

	// Mail is the invitations' reply address and its inbound SMTP listener (imip.go).
	Mail     mailFlags
	mail     *notify.MailServer
	mailDone chan struct{}

	routerDone chan error
	stopSweep  context.CancelFunc // stops the offer-expiry sweep
	sweepDone  chan struct{}
	notify     *notifications // the reminder scheduler and the delivery worker
	instance   instanceID     // this process among the database's instances (instances.go)
	stopListen context.CancelFunc
	listenDone chan struct{}
	lock       *dbLock  // the database's lock, held while serving (lock.go)
	outbox     *outbox  // with --demo, where every message goes (outbox.go)
	metrics    *metrics // what GET /metrics reports (metrics.go)
}

// runServe runs `courtside serve` until ctx is cancelled (SIGINT or SIGTERM).
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("serve", &cfg, stderr)
	fs.StringVar(&cfg.Addr, "addr", env("COURTSIDE_ADDR", cfg.Addr), "listen address (COURTSIDE_ADDR)")
	fs.BoolVar(&cfg.Demo, "demo", env("COURTSIDE_DEMO", "") == "1", "seed a small, realistic demo data set and print its logins (COURTSIDE_DEMO=1)")
	fs.StringVar(&cfg.BaseURL, "base-url", env("COURTSIDE_BASE_URL", ""), "public URL of the service, for links and feed URLs (COURTSIDE_BASE_URL)")
	fs.BoolVar(&cfg.Introspection, "introspection", env("COURTSIDE_INTROSPECTION", "") == "1", "allow GraphQL introspection (__schema, __type) for schema tools; off unless --demo (COURTSIDE_INTROSPECTION=1)")
	fs.BoolVar(&cfg.LogJSON, "log-json", env("COURTSIDE_LOG_JSON", "") == "1", "log JSON lines instead of text (COURTSIDE_LOG_JSON=1)")
	var guard guardConfig
	guard.flags(fs)
	transport := DefaultTransport()
	transport.registerFlags(fs)
	var mail mailFlags
	mail.flags(fs)
	offerSweep := fs.String("offer-sweep", env("COURTSIDE_OFFER_SWEEP", offerSweepInterval.String()),
		"how often interpreter offers past their deadline expire and go to the next candidate, 1s to 1h (COURTSIDE_OFFER_SWEEP)")
	if err := applyTransportEnv(fs); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	removeDemo, err := demoDefaults(&cfg, fs, stdout)
	if err != nil {
		return err
	}
	defer removeDemo()
	if err := cfg.validate(); err != nil {
		return err
	}
	if err := guard.parse(); err != nil {
		return err
	}
	if err := transport.validate(); err != nil {
		return err
	}
	if err := mail.parse(); err != nil {
		return err
	}
	sweep, err := time.ParseDuration(strings.TrimSpace(*offerSweep))
	if err != nil || sweep < time.Second || sweep > time.Hour {
		return usagef("--offer-sweep: give a duration from 1s to 1h, e.g. 30s")
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.LogJSON {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	m := &Main{Config: cfg, Guard: guard, Logger: slog.New(handler), Transport: transport, Mail: mail, OfferSweep: sweep}
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
	if m.lock, err = lockService(m.Config.DB); err != nil {
		return err
	}
	if m.DB, err = openOrCreateDB(m.Config, stdout); err != nil {
		return err
	}
	m.DB.Logger = m.Logger
	m.metrics = newMetrics(m.DB, serviceGroups)
	m.DB.LoginLimits = m.Guard.LoginLimits
	// The calendar projection keeps each hearing rendered for every calendar that holds it;
	// the calendars' reads wait for it to catch up with the changes committed before them.
	m.DB.RenderCalendar, m.DB.RenderCalendarVersion = calendar.RenderStored, calendar.RenderVersion
	m.DB.CalendarGroup = calendarProjection
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
	} else if n, err := storage.NewUserService(m.DB).CountUsers(ctx); err != nil {
		return err
	} else if n == 0 {
		fmt.Fprintf(stdout, "No users yet. Create the first administrator with:\n  courtside user add --db %s --username admin --role admin --password-stdin\n", storage.DisplayName(m.Config.DB))
	}

	// Objects of personal calendars stored before their extents were kept get one, so that
	// time-range queries skip them without decoding; a failure only leaves them slower.
	if n, err := storage.NewAvailabilityService(m.DB).BackfillAvailabilityExtents(ctx, calendar.ObjectExtent); err != nil {
		m.Logger.Warn("availability extents", "err", err, "filled", n)
	} else if n > 0 {
		m.Logger.Info("availability extents", "filled", n)
	}
	// Likewise their occurrences, so that no calendar-query expands a recurrence.
	if n, err := storage.NewAvailabilityService(m.DB).BackfillAvailabilityOccurrences(ctx, calendar.ObjectOccurrences); err != nil {
		m.Logger.Warn("availability occurrences", "err", err, "filled", n)
	} else if n > 0 {
		m.Logger.Info("availability occurrences", "filled", n)
	}
	// Hearings of a database written before the calendars' objects were stored get theirs,
	// and every hearing is rendered again when another version of the renderer stored them,
	// before any calendar is served.
	if n, err := storage.NewCalendarService(m.DB).BackfillCalendarObjects(ctx); err != nil {
		return fmt.Errorf("calendar objects: %w", err)
	} else if n > 0 {
		m.Logger.Info("calendar objects", "hearings", n)
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
	if m.Config.Demo {
		m.useOutbox(stdout)
	}
	m.handle(calendarProjection, storage.NewCalendarService(m.DB).ProjectCalendar)
	// The live feed hands each event to the subscriptions without waiting or I/O. It runs
	// before the event's transaction commits, so an event delivered again after a rollback
	// reaches subscribers twice: subscriptions are at least once (graph.Hub).
	m.Hub = graph.NewHub(0)
	m.instance = newInstanceID()
	m.handle(liveFeed, func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		m.Hub.Publish(ev)
		return m.shareLive(ctx, tx, ev)
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
	m.startListening(ctx)
	m.startOfferSweep(ctx)
	m.startNotifications(ctx)
	if err := m.startMail(stdout); err != nil {
		return err
	}

	mux, err := m.routes()
	if err != nil {
		return err
	}
	if err := m.Transport.validate(); err != nil {
		return err
	}
	openFiles := m.Transport.fitOpenFiles()
	m.Logger.Info("transport bounds", m.Transport.describe(openFiles)...)
	m.conns = m.Transport.limitListener(ln, m.Logger)
	m.Server = m.Transport.server(logRequests(m.Logger, mux), m.Logger)
	go func() {
		if err := m.Server.Serve(m.conns); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	}()
	m.Logger.Info("courtside listening", "addr", ln.Addr().String(), "db", m.Config.DB, "url", m.Config.BaseURL)
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr().String())
	return nil
}

// startOfferSweep runs the offer-expiry sweep every m.OfferSweep, as the system (no
// user in its context), until Close stops it.
func (m *Main) startOfferSweep(ctx context.Context) {
	ctx, m.stopSweep = context.WithCancel(context.WithoutCancel(ctx))
	m.sweepDone = make(chan struct{})
	go func() {
		defer close(m.sweepDone)
		bookings := storage.NewBookingService(m.DB)
		every := m.OfferSweep
		if every <= 0 {
			every = offerSweepInterval
		}
		ticker := time.NewTicker(every)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			n, err := bookings.ExpireOffers(ctx)
			if err != nil && ctx.Err() == nil {
				m.Logger.Error("offer expiry sweep", "err", err, "expired", n)
			} else if n > 0 {
				m.Logger.Info("offer expiry sweep", "expired", n)
			}
		}
	}()
}

// routes builds the service's HTTP handler: the routes of docs/architecture.md, "HTTP".
func (m *Main) routes() (http.Handler, error) {
	// Each handler is given the database's services per noun that it uses, nothing more.
	var (
		users, tokens, sessions = storage.NewUserService(m.DB), storage.NewTokenService(m.DB), storage.NewSessionService(m.DB)
		courts, cases, hearings = storage.NewCourtService(m.DB), storage.NewCaseService(m.DB), storage.NewHearingService(m.DB)
		victims, accompaniments = storage.NewVictimService(m.DB), storage.NewAccompanimentService(m.DB)
		bookings, deliveries    = storage.NewBookingService(m.DB), storage.NewDeliveryService(m.DB)
		coordination, reports   = storage.NewCoordinationService(m.DB), storage.NewReportService(m.DB)
		imports, requests       = storage.NewImportService(m.DB), storage.NewRequestService(m.DB)
		calendars, availability = storage.NewCalendarService(m.DB), storage.NewAvailabilityService(m.DB)
	)
	gql, err := graph.NewHandler(graph.Config{Users: users, Tokens: tokens, Courts: courts, Cases: cases, Hearings: hearings,
		Victims: victims, Accompaniments: accompaniments, Sessions: sessions, Imports: imports, Deliveries: deliveries, Bookings: bookings,
		Coordination: coordination, AuditLog: storage.NewAuditService(m.DB), Reports: reports, Requests: requests, BaseURL: m.Config.BaseURL,
		Logger: m.Logger, Introspection: m.Config.Introspection, Hub: m.Hub, RequestTimeout: m.Guard.RequestTimeout,
		// Queries execute on one core fewer than the machine has (at least one) and queue for
		// the rest; a mutation never queues behind them, for the processor or the read pool.
		MaxConcurrentQueries: max(1, runtime.GOMAXPROCS(0)-1)})
	if err != nil {
		return nil, err
	}
	// CalDAV scheduling's invitations name the iMIP reply address as their ORGANIZER when
	// there is one, so that a calendar app that mails its answer reaches Courtside too.
	organizer := m.Mail.address
	if organizer == "" {
		organizer = calendar.DefaultOrganizer
	}
	dav := calendar.NewHandler(calendar.Config{Users: users, Tokens: tokens, Calendars: calendars, Availability: availability, Bookings: bookings,
		Scheduling: storage.NewSchedulingService(m.DB), InvitationUID: storage.NewInvitationService(m.DB).InvitationUID, Organizer: organizer, Logger: m.Logger})
	mux := http.NewServeMux()
	mux.Handle("/graphql", gql)
	mux.Handle("/.well-known/caldav", dav)
	mux.Handle("/dav/", dav)
	mux.Handle("/feeds/", calendar.NewFeedHandler(calendar.FeedConfig{Tokens: tokens, Calendars: calendars, Logger: m.Logger, Now: m.DB.Now}))
	mux.Handle("/bookings/", web.NewRespondHandler(web.RespondConfig{Links: storage.NewBookingLinkService(m.DB), Logger: m.Logger}))
	m.noticeRoutes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", m.ready)
	mux.Handle("GET /metrics", m.metrics.handler())
	if m.outbox != nil {
		mux.Handle("GET /demo/outbox", m.outbox)
	}
	// The web app takes "/" and every path no other route claims (its 404 carries the same
	// security headers as its pages).
	app, err := web.NewApp(web.Config{Users: users, Sessions: sessions, Tokens: tokens, Courts: courts, Cases: cases, Hearings: hearings,
		Victims: victims, Accompaniments: accompaniments, Bookings: bookings, Deliveries: deliveries, Coordination: coordination, Reports: reports, Imports: imports,
		PreviewDocket: m.previewDocket, Webhooks: storage.NewWebhookService(m.DB), Requests: requests, FailedEvents: &failedEvents{db: m.DB, wake: m.Router.Wake}, NewWebhookSecret: notify.NewWebhookSecret,
		BaseURL: m.Config.BaseURL, Logger: m.Logger, Now: m.DB.Now, RequestTimeout: m.Guard.RequestTimeout})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", davDiscovery(dav, app))
	return m.metrics.count(m.Guard.withClientAddr(mux)), nil
}

// davDiscovery sends PROPFIND, which no browser sends, to the CalDAV handler whatever the
// path, so that a calendar app given the server's root URL finds the user's principal
// there; every other request goes to the web app.
func davDiscovery(dav, app http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "PROPFIND" {
			dav.ServeHTTP(w, r)
			return
		}
		app.ServeHTTP(w, r)
	})
}

// previewDocket is the web app's docket preview: storage's, in the web's terms.
func (m *Main) previewDocket(ctx context.Context, r io.Reader) (*web.DocketPreview, error) {
	lines, problems, more, err := storage.NewImportService(m.DB).PreviewDocket(ctx, r)
	if err != nil {
		return nil, err
	}
	out := &web.DocketPreview{More: more}
	for _, l := range lines {
		out.Lines = append(out.Lines, web.DocketLine{Line: l.Line, ExternalID: l.Hearing.ExternalID, Docket: l.Docket, Court: l.Court.Name,
			Zone: l.Court.Location(), Kind: string(l.Hearing.Kind), StartsAt: l.Hearing.StartsAt, EndsAt: l.Hearing.EndsAt,
			Courtroom: l.Hearing.Courtroom, Status: string(l.Status)})
	}
	for _, p := range problems {
		out.Problems = append(out.Problems, web.DocketProblem{Line: p.Line, Message: p.Message})
	}
	return out, nil
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
	m.stopMail()
	m.stopListening()
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
	m.lock.Release()
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
