package events

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"courtside"
)

// Config configures a Router. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// PollInterval is how often the router looks for events that another process appended
	// (a commit in this process wakes it at once through Wake) and for retries that fell due.
	PollInterval time.Duration
	// BatchSize is the most events one transaction hands to the handlers.
	BatchSize int
	// BatchTime bounds how long one transaction holds the writer while events are waiting: once
	// a batch has run this long it takes no further event and commits. A mutation or another
	// process waiting for the writer waits at most about this long behind the router.
	BatchTime time.Duration
	// Waiting, when set, reports whether a writer of another process waits for the write lock
	// (storage.DB.WritersWaiting). Between two transactions of a backlog the router then lets
	// it go first: it pauses until the writer has the lock, for up to MaxYield.
	Waiting  func() bool
	MaxYield time.Duration
	// MaxAttempts is how often a handler is tried on one event, the first try included, before
	// the event is parked in event_dead_letters for its group.
	MaxAttempts int
	// RetryBase is the wait before the first retry of a failed event; each further retry waits
	// twice as long as the one before, up to RetryMax.
	RetryBase time.Duration
	RetryMax  time.Duration
	// CloseTimeout is how long Close waits for a running handler before abandoning its
	// transaction (which then rolls back).
	CloseTimeout time.Duration
	// Now returns the current time; tests replace it. It decides when retries fall due.
	Now func() time.Time
}

// DefaultConfig returns the defaults: a short poll so that projections catch up fast, and 11
// tries of a failing event over about 13½ minutes (retries after 1 s, 2 s, 4 s, ... 256 s,
// then 5 min) before it is parked.
func DefaultConfig() Config {
	return Config{
		PollInterval: 25 * time.Millisecond,
		BatchSize:    DefaultBatchSize,
		BatchTime:    50 * time.Millisecond,
		MaxYield:     2 * time.Second,
		MaxAttempts:  11,
		RetryBase:    time.Second,
		RetryMax:     5 * time.Minute,
		CloseTimeout: 30 * time.Second,
		Now:          time.Now,
	}
}

// HandlerFunc handles one event inside the transaction that records it as handled. It writes
// ONLY through tx: the database is a single writer connection, which tx is holding, so any other
// use of it blocks. It must not commit or roll back tx, do network I/O or rely on ctx being
// cancelled. An error or a panic undoes its writes, and the event is set aside to be retried
// later (see Router).
type HandlerFunc func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error

// Router delivers the event log to handlers, each in its own consumer group, so that each
// handler sees every committed event once.
//
// One transaction hands a batch of events to every handler of Handle: for each event, each
// handler in the order they were registered, in a savepoint of its own. A handler's writes and
// its group's new offset commit together, with the other handlers' and at one fsync for the
// whole batch. The handlers of HandleFirst get the batch the same way in a transaction of their
// own, committed before, so that what others wait for is not held up by the rest.
//
// A handler that fails on an event has its writes undone; the event is set aside for that group
// alone (event_retries) and the group moves on, while the other groups keep their work. A
// set-aside event is retried later in a transaction of its own, waiting out an exponential
// backoff without holding the writer, and parked in event_dead_letters after Config.MaxAttempts
// tries. Until then the group's later events about the same hearing (or case, victim, booking:
// orderKey) wait behind it, so that a hearing's events reach each handler in the order they
// happened.
type Router struct {
	db     *sql.DB
	logger *slog.Logger
	cfg    Config

	groups []*group // every group, in the order handlers run: first's, then rest's
	byName map[string]*group
	// first holds the groups of HandleFirst, whose batch commits before rest's: the groups of
	// Handle. Each lane is one transaction per batch.
	first, rest lane

	// ctx is the transactions' context; cancelling it rolls back the one in progress.
	ctx     context.Context
	cancel  context.CancelFunc
	running chan struct{} // closed when the loop starts
	runDone chan struct{} // closed when Run returns

	// wake is notified by Wake; quit is closed when Close starts.
	wake Signal
	quit chan struct{}

	mu      sync.Mutex
	started bool
	closing bool

	closeOnce sync.Once
	closeErr  error
}

// lane is a set of groups served by one transaction per batch.
type lane struct {
	groups []*group
	// seen is the id of the newest event every group of the lane has been given (handled or
	// set aside), so that a poll that finds nothing newer does not begin a transaction. Only
	// the loop touches it.
	seen int64
}

// group is one handler and its consumer group.
type group struct {
	name    string
	fn      HandlerFunc
	handled Signal // notified after the group commits handled events
}

// NewRouter returns a Router reading the event log in db, which must be storage's
// single-connection writer pool. A nil logger discards logs.
func NewRouter(db *sql.DB, logger *slog.Logger, cfg Config) (*Router, error) {
	if db == nil {
		return nil, fmt.Errorf("events: new router: nil database")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	def := DefaultConfig()
	for _, d := range []struct{ v, def *time.Duration }{
		{&cfg.PollInterval, &def.PollInterval}, {&cfg.BatchTime, &def.BatchTime}, {&cfg.MaxYield, &def.MaxYield},
		{&cfg.RetryBase, &def.RetryBase}, {&cfg.RetryMax, &def.RetryMax}, {&cfg.CloseTimeout, &def.CloseTimeout},
	} {
		if *d.v == 0 {
			*d.v = *d.def
		}
		if *d.v < 0 {
			return nil, fmt.Errorf("events: new router: negative config value")
		}
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	if cfg.BatchSize < 0 || cfg.MaxAttempts < 0 {
		return nil, fmt.Errorf("events: new router: negative config value")
	}
	if cfg.Now == nil {
		cfg.Now = def.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Router{
		db: db, logger: logger, cfg: cfg, byName: map[string]*group{},
		ctx: ctx, cancel: cancel, running: make(chan struct{}), runDone: make(chan struct{}),
		quit: make(chan struct{}),
	}, nil
}

// Handle registers fn as the handler named name, which is also its consumer group: renaming a
// handler makes it start again from the first event. A new group starts from the first event
// too. The groups of Handle share one transaction per batch and see each event in the order
// they were registered, after the groups of HandleFirst. Handle must be called before Run; like
// http.ServeMux.Handle it panics on an empty name, a nil fn, a duplicate name or a call after
// Run.
func (r *Router) Handle(name string, fn HandlerFunc) { r.handle(&r.rest, name, fn) }

// HandleFirst registers fn like Handle, for a handler whose writes others wait for (the notice
// planner, whose deliveries the delivery worker sends): the groups of HandleFirst share a
// transaction of their own per batch, which commits before the groups of Handle see the batch.
func (r *Router) HandleFirst(name string, fn HandlerFunc) { r.handle(&r.first, name, fn) }

func (r *Router) handle(l *lane, name string, fn HandlerFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case name == "" || fn == nil:
		panic("events: Handle needs a name and a function")
	case r.started:
		panic("events: Handle called after Run")
	case r.byName[name] != nil:
		panic("events: duplicate handler " + name)
	}
	g := &group{name: name, fn: fn}
	l.groups = append(l.groups, g)
	r.groups = append(append([]*group(nil), r.first.groups...), r.rest.groups...)
	r.byName[name] = g
}

// Run delivers events to the handlers until ctx is cancelled or Close is called, and returns
// once the transaction in progress has ended. It returns nil after a clean stop.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return fmt.Errorf("events: router already started")
	}
	r.started = true
	closing := r.closing
	r.mu.Unlock()
	defer close(r.runDone)
	if closing || ctx.Err() != nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { r.Close() })
	defer stop()
	close(r.running)
	r.loop()
	return nil
}

// Running returns a channel that is closed once Run has started delivering events.
func (r *Router) Running() chan struct{} { return r.running }

// Close stops the router and waits for Run to return. The batch in progress stops taking events
// and commits what its handlers have done; a handler still running after Config.CloseTimeout has
// its transaction rolled back under it. Either way a group's offset and its handler's writes end
// together: events whose handling was rolled back are delivered again at the next start, none is
// lost or applied twice.
func (r *Router) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.close() })
	return r.closeErr
}

func (r *Router) close() error {
	r.mu.Lock()
	r.closing = true
	started := r.started
	r.mu.Unlock()
	close(r.quit)
	defer r.cancel()
	if !started {
		return nil
	}
	select {
	case <-r.runDone:
		return nil
	case <-time.After(r.cfg.CloseTimeout):
	}
	r.logger.LogAttrs(context.Background(), slog.LevelError, "events: handler still running at close; rolling back its transaction")
	r.cancel()
	select {
	case <-r.runDone:
		return nil
	case <-time.After(r.cfg.CloseTimeout):
		return fmt.Errorf("events: close: a handler is still running %s after its transaction was rolled back", r.cfg.CloseTimeout)
	}
}

// stopping reports whether Close has started.
func (r *Router) stopping() bool {
	select {
	case <-r.quit:
		return true
	default:
		return false
	}
}

// Wake tells the router to look for new events now rather than at its next poll. storage.DB
// calls it (DB.Committed) after each transaction that appended events, so that a committed event
// reaches the handlers without waiting out Config.PollInterval; the poll remains for events
// written by another process. It never blocks.
func (r *Router) Wake() { r.wake.Notify() }

// Handled returns a channel that is closed the next time consumer group name commits handled
// events: what the group's handler wrote is then visible to every connection. It returns nil, a
// channel that is never ready, for a name that Handle has not registered.
func (r *Router) Handled(name string) <-chan struct{} {
	r.mu.Lock()
	g := r.byName[name]
	r.mu.Unlock()
	if g == nil {
		return nil
	}
	return g.handled.C()
}

// Pending returns how many events consumer group has not handled yet: those after its offset
// and those set aside for a retry. 0 means it has caught up (parked events do not count). Use
// the read pool: from inside a handler, the writer pool would block.
func Pending(ctx context.Context, db *sql.DB, group string) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events WHERE topic = ?
			AND id > COALESCE((SELECT last_id FROM event_offsets WHERE consumer_group = ? AND topic = ?), 0))
		+ (SELECT count(*) FROM event_retries WHERE consumer_group = ?)`,
		courtside.EventTopic, group, courtside.EventTopic, group).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("events: pending %s: %w", group, err)
	}
	return n, nil
}
