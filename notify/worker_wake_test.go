package notify_test

import (
	"context"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
)

// TestWorker_WakeSendsWithoutWaitingForTheInterval shows that Run looks for deliveries as
// soon as Wake's channel is closed: its interval is an hour, longer than the test may run, so
// the notices of the move arrive only because of the wake-up.
func TestWorker_WakeSendsWithoutWaitingForTheInterval(t *testing.T) {
	w := newWorkerWorld(t)
	var sig events.Signal
	w.worker.Wake = sig.C
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.worker.Run(ctx, time.Hour) }()
	defer func() { cancel(); <-done }()

	wait, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	// The first look, at start, sends what the posting planned.
	if _, err := w.sms.WaitMessages(wait, 1); err != nil {
		t.Fatalf("the victim's notice of the hearing: %v", err)
	}
	moved := w.hearing.StartsAt.Add(24 * time.Hour)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(courtside.NewContextWithUser(context.Background(), w.pros), w.hearing.ID,
		courtside.HearingUpdate{StartsAt: moved, EndsAt: moved.Add(time.Hour), Reason: "judge unavailable"}); err != nil {
		t.Fatal(err)
	}
	w.plan(t)
	sig.Notify()
	texts, err := w.sms.WaitMessages(wait, 2)
	if err != nil {
		t.Fatalf("the victim's notice of the move did not come after the wake-up: %v", err)
	}
	if got := texts[1].IdempotencyKey; got == texts[0].IdempotencyKey || got == "" {
		t.Errorf("the second message's key %q, want a new notice's key", got)
	}
}
