package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"courtside"
)

// Config configures a Router. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// PollInterval is how long a consumer group waits before looking again after finding no
	// new event, and before a failed event is delivered again.
	PollInterval time.Duration
	// MaxAttempts is how often a handler is tried on one event before the event is
	// dead-lettered for its group.
	MaxAttempts int
	// BatchSize is how many events a group reads in one transaction. The transaction holds
	// the single writer connection until the whole batch is handled.
	BatchSize int
	// CloseTimeout is how long Close waits for a running handler before abandoning its
	// transaction (which then rolls back).
	CloseTimeout time.Duration
}

// DefaultConfig returns the defaults: a short poll so that projections catch up fast.
func DefaultConfig() Config {
	return Config{
		PollInterval: 25 * time.Millisecond,
		MaxAttempts:  5,
		BatchSize:    DefaultBatchSize,
		CloseTimeout: 30 * time.Second,
	}
}

// HandlerFunc handles one event inside the transaction that acknowledges it. It writes ONLY
// through tx: the database is a single writer connection, which tx is holding, so any other use
// of it blocks. It must not commit or roll back tx, do network I/O or rely on ctx being
// cancelled. An error or a panic undoes its writes and the event is delivered again.
type HandlerFunc func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error

// Router delivers the event log to handlers, each in its own consumer group, so that each
// handler sees every committed event once, in commit order.
//
// A handler's writes, its group's new offset and, after Config.MaxAttempts failures, the
// dead-letter row are written in one savepoint of the subscriber's transaction, so they
// commit together or not at all.
type Router struct {
	db     *sql.DB
	logger *slog.Logger
	wlog   watermill.LoggerAdapter
	cfg    Config
	router *message.Router

	// ctx is the subscribers' context; cancelling it rolls back their open transactions.
	ctx     context.Context
	cancel  context.CancelFunc
	runDone chan struct{}

	// wake is notified by Wake. It wakes the first group registered; each group woken wakes
	// the next one when its look is over (backoff.then), so that the groups, which queue for
	// the one writer connection anyway, take it in the order they were registered.
	wake Signal
	// last is the backoff of the group registered last, to link the next group's wake-up to.
	last *backoff
	// handled has a Signal per group, notified after the group commits a handled batch.
	handled map[string]*Signal
	// quit is closed when Close starts, ending the groups' waits between polls.
	quit chan struct{}

	mu       sync.Mutex
	names    map[string]bool
	err      error // the first error of Handle, returned by Run
	started  bool
	closing  bool
	inflight sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
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
	if cfg.PollInterval == 0 {
		cfg.PollInterval = def.PollInterval
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = def.CloseTimeout
	}
	if cfg.PollInterval < 0 || cfg.MaxAttempts < 0 || cfg.BatchSize < 0 || cfg.CloseTimeout < 0 {
		return nil, fmt.Errorf("events: new router: negative config value")
	}
	wlog := watermill.NewSlogLogger(logger)
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("events: new router: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Router{
		db: db, logger: logger, wlog: wlog, cfg: cfg, router: router,
		ctx: ctx, cancel: cancel, runDone: make(chan struct{}),
		names: map[string]bool{}, handled: map[string]*Signal{}, quit: make(chan struct{}),
	}, nil
}

// Handle registers fn as the handler named name, which is also its consumer group: renaming a
// handler makes it start again from the first event. A new group starts from the first event
// too. Handle must be called before Run; like http.ServeMux.Handle it panics on an empty name,
// a nil fn, a duplicate name or a call after Run.
func (r *Router) Handle(name string, fn HandlerFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case name == "" || fn == nil:
		panic("events: Handle needs a name and a function")
	case r.started:
		panic("events: Handle called after Run")
	case r.names[name]:
		panic("events: duplicate handler " + name)
	}
	r.names[name] = true
	handled := &Signal{}
	r.handled[name] = handled
	wake := &r.wake
	if r.last != nil {
		wake = &Signal{}
		r.last.then = wake
	}
	bo := &backoff{poll: r.cfg.PollInterval, retry: time.Second, wake: wake, handled: handled, quit: r.quit, next: wake.C()}
	r.last = bo
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromStdSQL(r.db), wsql.SubscriberConfig{
		ConsumerGroup: name,
		// No ack deadline: on expiry the subscriber would commit its transaction while the
		// handler may still be writing into it. Close bounds waiting instead.
		AckDeadline:    new(time.Duration),
		PollInterval:   r.cfg.PollInterval,
		ResendInterval: r.cfg.PollInterval,
		BackoffManager: bo,
		SchemaAdapter:  SQLiteSchema{BatchSize: r.cfg.BatchSize},
		OffsetsAdapter: handlerOffsets{},
	}, r.wlog)
	if err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("events: subscriber %s: %w", name, err)
		}
		return
	}
	h := &handler{r: r, name: name, fn: fn}
	r.router.AddConsumerHandler(name, courtside.EventTopic, sub, h.handle)
}

// Run delivers events to the handlers until ctx is cancelled or Close is called, and returns
// once every handler has stopped and its transaction has ended. It returns nil after a clean
// stop.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return fmt.Errorf("events: router already started")
	}
	r.started = true
	err, closing := r.err, r.closing
	r.mu.Unlock()
	defer close(r.runDone)
	if err != nil {
		return err
	}
	if closing || ctx.Err() != nil {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { r.Close() })
	defer stop()
	if err := r.router.Run(r.ctx); err != nil {
		return fmt.Errorf("events: run: %w", err)
	}
	return nil
}

// Running returns a channel that is closed once Run has started every handler.
func (r *Router) Running() chan struct{} {
	return r.router.Running()
}

// Close stops the router and waits for Run to return. A running handler may finish first (up to
// Config.CloseTimeout; past that its transaction is rolled back under it), and no handler starts
// after. The transaction of each batch in progress then ends: watermill closes the subscribers
// and cancels their context at the same time, so it is committed or rolled back, whichever comes
// first. Either way a group's offset and its handler's writes end together: events whose
// handling was rolled back are delivered again at the next start, none is lost or applied twice.
func (r *Router) Close() error {
	r.closeOnce.Do(func() { r.closeErr = r.close() })
	return r.closeErr
}

func (r *Router) close() error {
	close(r.quit)
	r.mu.Lock()
	r.closing = true // from now on handle hands messages back untouched
	// Draining first matters: the subscriber may commit while closing, and it must not commit
	// the writes of a handler that is halfway through.
	started := r.started
	r.mu.Unlock()
	defer r.cancel()
	if !started {
		return nil
	}
	// watermill's Close waits for handlers that have not subscribed yet until its timeout.
	select {
	case <-r.router.Running():
	case <-r.runDone:
		return nil
	}
	drained := make(chan struct{})
	go func() { r.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(r.cfg.CloseTimeout):
		r.logger.LogAttrs(context.Background(), slog.LevelError, "events: handler still running at close; rolling back its transaction")
		r.cancel()
	}
	err := r.router.Close()
	<-r.runDone
	if err != nil {
		return fmt.Errorf("events: close: %w", err)
	}
	return nil
}

// enter reports whether a handler may start, counting it as running if so.
func (r *Router) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return false
	}
	r.inflight.Add(1)
	return true
}

// Pending returns how many events consumer group has not acknowledged yet; 0 means it has
// caught up. Use the read pool: from inside a handler, the writer pool would block.
func Pending(ctx context.Context, db *sql.DB, group string) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE topic = ?
		AND id > COALESCE((SELECT last_id FROM event_offsets WHERE consumer_group = ? AND topic = ?), 0)`,
		courtside.EventTopic, group, courtside.EventTopic).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("events: pending %s: %w", group, err)
	}
	return n, nil
}

// Wake tells every consumer group to look for new events now rather than at its next poll:
// the first group registered at once, each of the others when the one registered before it has
// looked (they would queue for the single writer connection anyway, in no particular order;
// serve registers the notice planner first). storage.DB calls it (DB.Committed) after each
// transaction that appended events, so that a committed event reaches the handlers without
// waiting out Config.PollInterval; the poll remains for events written by another process. It
// never blocks.
func (r *Router) Wake() { r.wake.Notify() }

// Handled returns a channel that is closed the next time consumer group name commits a batch
// of handled events: what the group's handler wrote is then visible to every connection. It
// returns nil, a channel that is never ready, for a name that Handle has not registered.
func (r *Router) Handled(name string) <-chan struct{} {
	r.mu.Lock()
	s := r.handled[name]
	r.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.C()
}

// backoff is the BackoffManager of one group's subscriber. watermill's subscriber calls it
// after each query, from its one polling goroutine, and sleeps for the duration it returns:
// watermill's default, except that a query cut short by closing the router is not logged as an
// error, and that after a query that found nothing it waits for the poll interval or its
// wake-up, whichever comes first. The wake channel is taken before each query, so that a wake-up
// during the query is not lost. A query that handled events returns after its transaction
// committed, so that is when handled is notified. After a query that handled events or that a
// wake-up started, the next group (then) is woken: a wake-up travels down the groups in order,
// while the groups' own timed polls do not set each other off.
type backoff struct {
	poll, retry time.Duration
	wake        *Signal
	handled     *Signal
	quit        <-chan struct{}
	next        <-chan struct{} // the wake channel taken before the last query
	then        *Signal         // the next group's wake-up, nil for the last group
	woken       bool            // the last query was started by a wake-up
}

// HandleError returns how long to wait before the next query.
func (b *backoff) HandleError(logger watermill.LoggerAdapter, noMsg bool, err error) time.Duration {
	wait := b.next
	b.next = b.wake.C()
	if b.then != nil && (b.woken || (err == nil && !noMsg)) {
		b.then.Notify()
	}
	b.woken = false
	switch {
	case errors.Is(err, context.Canceled):
		return b.poll
	case err != nil:
		logger.Error("Error querying for message", err, watermill.LogFields{"wait_time": b.retry})
		return b.retry
	case !noMsg:
		b.handled.Notify()
		return 0
	}
	if wait == nil {
		return b.poll
	}
	t := time.NewTimer(b.poll)
	defer t.Stop()
	select {
	case <-wait:
		b.woken = true
	case <-t.C:
	case <-b.quit:
		return b.poll
	}
	// Take the channel again: the one taken above may have been closed by the Wake that ended
	// this wait, and the next query has not run yet.
	b.next = b.wake.C()
	return 0
}
