package main

import (
	"context"
	"fmt"
	"slices"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/web"
)

// failedEvents is the web app's page of parked events (web.FailedEventService): what
// `courtside events failed` lists and `courtside events retry` requeues, for administrators.
type failedEvents struct {
	db   *storage.DB
	wake func() // tells the router that events wait for a retry
}

// FindFailedEvents returns the parked events, newest first, at most limit.
func (f *failedEvents) FindFailedEvents(ctx context.Context, limit int) ([]web.FailedEvent, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	parked, err := events.ListParked(ctx, f.db.Reader)
	if err != nil {
		return nil, err
	}
	slices.Reverse(parked)
	if len(parked) > limit {
		parked = parked[:limit]
	}
	out := make([]web.FailedEvent, len(parked))
	for i, p := range parked {
		out[i] = web.FailedEvent{ID: p.ID, Consumer: p.Group, Type: string(p.Type), Attempts: p.Attempts, Error: p.Error, FailedAt: p.ParkedAt}
	}
	return out, nil
}

// RetryFailedEvent requeues the parked event id for its consumer group, audited as
// `events.retry` by the administrator, and wakes the router.
func (f *failedEvents) RetryFailedEvent(ctx context.Context, id int64) error {
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	if _, err := requeueParked(ctx, f.db, []int64{id}); err != nil {
		return err
	}
	if f.wake != nil {
		f.wake()
	}
	return nil
}

// requeueParked requeues the parked events ids (all of them when ids is empty) in one
// transaction, each audited as `events.retry`.
func requeueParked(ctx context.Context, db *storage.DB, ids []int64) ([]events.Parked, error) {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	requeued, err := events.RequeueParked(ctx, tx.Tx, ids, db.Now())
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	for _, p := range requeued {
		tx.Audit("events.retry", fmt.Sprintf("event:%s:%s", p.EventID, p.Group), courtside.OutcomeOK)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return requeued, nil
}

// requireAdmin answers EFORBIDDEN unless the caller is an administrator.
func requireAdmin(ctx context.Context) error {
	if u := courtside.UserFromContext(ctx); u == nil || u.Role != courtside.RoleAdmin {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only administrators see failed events.")
	}
	return nil
}
