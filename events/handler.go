package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"courtside"
)

// maxErrorText bounds the error text kept for a set-aside or parked event.
const maxErrorText = 2000

// call runs g's handler on ev in tx, turning a panic into an error.
func (r *Router) call(ctx context.Context, tx *sql.Tx, g *group, ev courtside.Event) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			r.logger.LogAttrs(ctx, slog.LevelError, "events: handler panicked",
				slog.String("group", g.name), slog.String("event", ev.ID),
				slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("events: handler %s panicked: %v", g.name, rec)
		}
	}()
	return g.fn(ctx, tx, ev)
}

// Find returns the event of the log with the ID given, as the handlers received it, read
// through db (a reader is enough).
func Find(ctx context.Context, db *sql.DB, id string) (courtside.Event, error) {
	var payload []byte
	err := db.QueryRowContext(ctx, `SELECT payload FROM events WHERE uuid = ? AND topic = ?`, id, courtside.EventTopic).Scan(&payload)
	if err != nil {
		return courtside.Event{}, fmt.Errorf("events: find %s: %w", id, err)
	}
	return decodeEvent(id, payload)
}

// decodeEvent returns the event stored with uuid as payload.
func decodeEvent(uuid string, payload []byte) (courtside.Event, error) {
	var ev courtside.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return courtside.Event{}, fmt.Errorf("events: decode %s: %w", uuid, err)
	}
	if ev.ID != uuid {
		return courtside.Event{}, fmt.Errorf("events: decode %s: payload carries event ID %q", uuid, ev.ID)
	}
	return ev, nil
}

// orderKey names what an event is about, for ordering: a group handles the events with one key
// in the order they were appended, so a set-aside event holds back the group's later events with
// its key and no others. The hearing comes first (a hearing's schedule changes must be told in
// order), then the case, the victim, the booking and the user; an event about none of them
// orders with nothing.
func orderKey(ev courtside.Event, uuid string) string {
	switch {
	case ev.HearingID != 0:
		return fmt.Sprintf("hearing:%d", ev.HearingID)
	case ev.CaseID != 0:
		return fmt.Sprintf("case:%d", ev.CaseID)
	case ev.VictimID != 0:
		return fmt.Sprintf("victim:%d", ev.VictimID)
	case ev.BookingID != 0:
		return fmt.Sprintf("booking:%d", ev.BookingID)
	case ev.UserID != 0:
		return fmt.Sprintf("user:%d", ev.UserID)
	}
	return "event:" + uuid
}

// savepoint runs fn inside a savepoint of tx: released if fn succeeds, rolled back to if not.
// failed is fn's error. err reports that the savepoint statements themselves failed, which
// happens when SQLite has rolled the whole transaction back on its own (it may on SQLITE_FULL
// or SQLITE_IOERR): tx then holds nothing of the batch and must not be committed.
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

// Patterns masked out of a stored error text: handlers' errors name identifiers, never values,
// but a driver's message might quote one.
var (
	emailLike = regexp.MustCompile(`[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+`)
	phoneLike = regexp.MustCompile(`\+?\b\d{7,}\b`)
)

// errorText returns err's text as it is kept and logged for a failed event: e-mail addresses
// and numbers of seven digits or more (phone numbers) masked, at most maxErrorText bytes.
func errorText(err error) string {
	text := emailLike.ReplaceAllString(err.Error(), "[address]")
	text = phoneLike.ReplaceAllString(text, "[number]")
	if len(text) > maxErrorText {
		text = strings.ToValidUTF8(text[:maxErrorText], "")
	}
	return text
}
