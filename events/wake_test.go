package events_test

import (
	"testing"
	"time"

	"courtside/events"
)

// TestWakeDeliversWithoutWaitingForThePoll shows that a committed event reaches its handler
// on Wake, not at the next poll: the poll interval is an hour, longer than the test may run,
// so without the wake-up the event would not be handled at all. It also shows that Handled
// is closed once the group has committed, with the handler's write visible to other
// connections, and that an unknown group's Handled channel is never ready.
func TestWakeDeliversWithoutWaitingForThePoll(t *testing.T) {
	db := MustOpenDB(t)
	createProjection(t, db)
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	r := startRouter(t, db, cfg, map[string]events.HandlerFunc{"g": project("g")})
	db.Committed = r.Wake
	// The subscriber's first query, at start, found nothing; let it settle into its wait.
	waitCaughtUp(t, db, "g")
	time.Sleep(50 * time.Millisecond)

	for i, id := range eventIDs("woken", 3) {
		handled := r.Handled("g")
		publish(t, db, id)
		select {
		case <-handled:
		case <-time.After(waitLimit):
			t.Fatalf("event %d was not handled after Wake", i)
		}
		if got := projected(t, db, "g"); len(got) != i+1 || got[i] != id {
			t.Fatalf("after Handled, projected %v, want %s last", got, id)
		}
	}
	if r.Handled("nobody") != nil {
		t.Error("Handled of an unregistered group is not nil")
	}
}

// TestSignalWakesEveryWaiterOnce shows that Notify closes the channel every waiter took
// before it, and that a channel taken after it waits for the next Notify.
func TestSignalWakesEveryWaiterOnce(t *testing.T) {
	var s events.Signal
	a, b := s.C(), s.C()
	if a != b {
		t.Fatal("two waiters before a Notify got different channels")
	}
	s.Notify()
	for _, ch := range []<-chan struct{}{a, b} {
		select {
		case <-ch:
		default:
			t.Fatal("a waiter's channel is not closed after Notify")
		}
	}
	c := s.C()
	select {
	case <-c:
		t.Fatal("a channel taken after Notify is already closed")
	default:
	}
	s.Notify()
	s.Notify() // with no waiter, Notify does nothing and does not block
	select {
	case <-c:
	default:
		t.Fatal("the second Notify did not close the channel taken after the first")
	}
}
