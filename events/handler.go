package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"courtside"
)

// errClosing hands a message back to the subscriber while the router closes. It wraps
// context.Canceled so that watermill does not log it as a failure.
var errClosing = fmt.Errorf("events: router closing: %w", context.Canceled)

// maxErrorText bounds the error text kept in a dead-letter row.
const maxErrorText = 2000

// handlerOffsets is the offsets adapter of the Router's subscribers. The Router moves a group's
// offset itself, event by event, inside the handler's savepoint, so the subscriber's batch
// acknowledgement has nothing left to record. It must not record anything either: if SQLite
// rolled the transaction back on its own (it may on SQLITE_FULL or SQLITE_IOERR), the batch
// acknowledgement would run in autocommit mode and skip events whose handling was lost.
type handlerOffsets struct{ SQLiteOffsets }

// AckMessageQuery returns a statement that changes nothing.
func (handlerOffsets) AckMessageQuery(wsql.AckMessageQueryParams) (wsql.Query, error) {
	return wsql.Query{Query: `SELECT 1`}, nil
}

// handler runs one HandlerFunc in its consumer group.
type handler struct {
	r    *Router
	name string
	fn   HandlerFunc

	mu       sync.Mutex
	failing  string // UUID of the event that failed last
	failures int    // how often it failed in a row
}

// handle is the watermill handler. A nil return acknowledges the message; an error hands it
// back to the subscriber, which delivers it again in the same transaction.
func (h *handler) handle(msg *message.Message) error {
	if !h.r.enter() {
		return errClosing
	}
	defer h.r.inflight.Done()
	wtx, _ := wsql.TxFromContext(msg.Context())
	std, ok := wtx.(*wsql.StdSQLTx)
	if !ok || std.Tx == nil {
		return fmt.Errorf("events: %s: message %s carries no *sql.Tx", h.name, msg.UUID)
	}
	// A cancelled statement context makes go-sqlite3 call sqlite3_interrupt, and an interrupted
	// write rolls back the subscriber's whole transaction; so no deadline reaches the handler's
	// statements. Close drains handlers instead.
	return h.handleTx(context.WithoutCancel(msg.Context()), std.Tx, msg)
}

// handleTx handles msg in the subscriber's transaction tx.
func (h *handler) handleTx(ctx context.Context, tx *sql.Tx, msg *message.Message) error {
	id, err := h.next(ctx, tx, msg.UUID)
	if err != nil || id == 0 {
		return err
	}
	failed, err := savepoint(ctx, tx, func() error {
		if err := h.call(ctx, tx, msg); err != nil {
			return err
		}
		return advance(ctx, tx, h.name, id)
	})
	if err != nil {
		return err
	}
	if failed == nil {
		h.clear()
		return nil
	}
	if n := h.fail(msg.UUID); n < h.r.cfg.MaxAttempts {
		return failed // watermill logs it and delivers the event again
	}
	dlFailed, err := savepoint(ctx, tx, func() error {
		text := failed.Error()
		if len(text) > maxErrorText {
			text = strings.ToValidUTF8(text[:maxErrorText], "")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO event_dead_letters (consumer_group, event_uuid, error)
			VALUES (?, ?, ?)`, h.name, msg.UUID, text); err != nil {
			return fmt.Errorf("events: dead-letter %s: %w", msg.UUID, err)
		}
		return advance(ctx, tx, h.name, id)
	})
	if err != nil || dlFailed != nil {
		return errors.Join(failed, err, dlFailed)
	}
	h.clear()
	h.r.logger.LogAttrs(ctx, slog.LevelError, "events: event dead-lettered",
		slog.String("group", h.name), slog.String("event", msg.UUID),
		slog.String("type", msg.Metadata.Get(MetadataType)), slog.Int("attempts", h.r.cfg.MaxAttempts),
		slog.String("error", failed.Error()))
	return nil
}

// next returns the row id of the event uuid if it is the group's next event, or 0 if it is not,
// in which case the message is to be acknowledged without effect. That happens to a duplicate
// delivery, and when SQLite has rolled back the subscriber's transaction on its own, so that the
// offsets it held are gone: the skipped events are then read again in a new transaction, since
// offsets move only from one event to the next.
func (h *handler) next(ctx context.Context, tx *sql.Tx, uuid string) (int64, error) {
	var id, last int64
	var gap bool
	err := tx.QueryRowContext(ctx, `SELECT e.id, COALESCE(o.last_id, 0),
			EXISTS (SELECT 1 FROM events g WHERE g.topic = e.topic AND g.id > COALESCE(o.last_id, 0) AND g.id < e.id)
		FROM events e LEFT JOIN event_offsets o ON o.consumer_group = ? AND o.topic = e.topic
		WHERE e.uuid = ?`, h.name, uuid).Scan(&id, &last, &gap)
	if err != nil {
		return 0, fmt.Errorf("events: %s: look up %s: %w", h.name, uuid, err)
	}
	switch {
	case id <= last:
		h.r.logger.LogAttrs(ctx, slog.LevelDebug, "events: skipping acknowledged event",
			slog.String("group", h.name), slog.String("event", uuid))
		return 0, nil
	case gap:
		h.r.logger.LogAttrs(ctx, slog.LevelWarn, "events: earlier events of this transaction were lost; they will be delivered again",
			slog.String("group", h.name), slog.String("event", uuid), slog.Int64("offset", last))
		return 0, nil
	}
	return id, nil
}

// call decodes the event and runs the handler, turning a panic into an error.
func (h *handler) call(ctx context.Context, tx *sql.Tx, msg *message.Message) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			h.r.logger.LogAttrs(ctx, slog.LevelError, "events: handler panicked",
				slog.String("group", h.name), slog.String("event", msg.UUID),
				slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("events: handler %s panicked: %v", h.name, rec)
		}
	}()
	ev, err := Decode(msg)
	if err != nil {
		return err
	}
	return h.fn(ctx, tx, ev)
}

// fail counts a failure on the event uuid and returns how often it failed in a row.
func (h *handler) fail(uuid string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing != uuid {
		h.failing, h.failures = uuid, 0
	}
	h.failures++
	return h.failures
}

// clear forgets failures once an event is acknowledged.
func (h *handler) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failing, h.failures = "", 0
}

// advance moves the group's offset to the event with row id id.
func advance(ctx context.Context, tx *sql.Tx, group string, id int64) error {
	if _, err := tx.ExecContext(ctx, ackQuery, group, courtside.EventTopic, id); err != nil {
		return fmt.Errorf("events: advance %s: %w", group, err)
	}
	return nil
}

// savepoint runs fn inside a savepoint of tx: released if fn succeeds, rolled back to if not.
// failed is fn's error. err reports that the savepoint statements themselves failed, so that
// tx may hold part of fn's writes and must not be acknowledged.
func savepoint(ctx context.Context, tx *sql.Tx, fn func() error) (failed, err error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT courtside_handler`); err != nil {
		return nil, fmt.Errorf("events: savepoint: %w", err)
	}
	failed = fn()
	if failed == nil {
		_, err := tx.ExecContext(ctx, `RELEASE courtside_handler`)
		if err == nil {
			return nil, nil
		}
		failed = fmt.Errorf("events: release savepoint: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO courtside_handler`); err != nil {
		return failed, fmt.Errorf("events: rollback to savepoint: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `RELEASE courtside_handler`); err != nil {
		return failed, fmt.Errorf("events: release savepoint: %w", err)
	}
	return failed, nil
}
