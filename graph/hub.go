package graph

import (
	"context"
	"errors"
	"sync"

	"courtside"
)

// DefaultHubBuffer is how many events a hub subscription holds for its reader when NewHub is
// given no buffer size.
const DefaultHubBuffer = 256

// Reasons a HubSubscription ends other than its own Close.
var (
	// ErrSlowSubscriber ends a subscription whose reader fell a whole buffer behind: Publish
	// never waits, so the subscription is dropped instead and its reader must read afresh what
	// it follows.
	ErrSlowSubscriber = errors.New("graph: subscriber fell behind the live feed and was dropped")
	// ErrHubClosed ends every subscription when the hub closes, and refuses new ones.
	ErrHubClosed = errors.New("graph: live feed closed")
)

// Hub is the in-memory live feed of GraphQL subscriptions: it fans the event log's events out
// to every subscription whose filter matches, without ever waiting for a reader.
//
// main feeds it from an event-log handler ("live-feed") that calls Publish and returns nil.
// That handler runs inside the transaction that acknowledges the event, before it commits: if
// the transaction rolls back (a crash, a failure of the router's batch, a shutdown at the wrong
// moment) the event is delivered to the handler again, and so reaches subscribers again. The
// feed is therefore at-least-once: a subscriber may see the same event twice, and must treat
// the hearing's sequence, not the number of messages, as the truth. Nor is the feed durable:
// events published while nobody subscribes, or lost with a dropped slow subscriber, are not
// kept; a client that subscribes again reads the current state by query.
//
// Hub also tracks the WebSocket connections that serve subscriptions, so that Close can end
// them at shutdown (http.Server.Shutdown neither closes nor waits for hijacked connections).
type Hub struct {
	buffer int

	ctx    context.Context // cancelled by Close: connections watch it
	cancel context.CancelFunc

	mu     sync.Mutex
	subs   map[*HubSubscription]struct{}
	closed bool
	conns  sync.WaitGroup // connections being served; Add only under mu while !closed
	users  map[int64]int  // signed-in WebSocket connections per user
}

// NewHub returns a hub whose subscriptions each buffer up to buffer events; buffer <= 0 means
// DefaultHubBuffer.
func NewHub(buffer int) *Hub {
	if buffer <= 0 {
		buffer = DefaultHubBuffer
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Hub{buffer: buffer, ctx: ctx, cancel: cancel, subs: map[*HubSubscription]struct{}{}, users: map[int64]int{}}
}

// HubSubscription is one reader of a Hub. Its events arrive on Events, in publish order; the
// channel is closed when the subscription ends, and Err then says why.
type HubSubscription struct {
	hub   *Hub
	match func(courtside.Event) bool
	c     chan courtside.Event
	err   error // why it ended; guarded by hub.mu
	ended bool  // guarded by hub.mu
}

// Publish hands ev to every subscription whose filter matches. It never blocks on a reader: a
// subscription whose buffer is full is ended with ErrSlowSubscriber, and the others are
// unaffected. It does nothing after Close. It is safe to call from an event-log handler: it
// does no I/O, and holds the hub's lock only for the non-blocking sends.
func (h *Hub) Publish(ev courtside.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for s := range h.subs {
		if s.match != nil && !s.match(ev) {
			continue
		}
		select {
		case s.c <- ev:
		default:
			h.endLocked(s, ErrSlowSubscriber)
		}
	}
}

// Subscribe returns a new subscription that receives the events match accepts (every event
// when match is nil). match runs inside Publish with the hub locked: it must be quick and must
// not call the hub. Returns ErrHubClosed after Close. The caller must Close the subscription.
func (h *Hub) Subscribe(match func(courtside.Event) bool) (*HubSubscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrHubClosed
	}
	s := &HubSubscription{hub: h, match: match, c: make(chan courtside.Event, h.buffer)}
	h.subs[s] = struct{}{}
	return s, nil
}

// Subscribers returns how many subscriptions are live.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every subscription with ErrHubClosed, tells every WebSocket connection it serves
// to close (1001 going away), and waits for those connections to end. Publish does nothing
// afterwards. Close is idempotent.
func (h *Hub) Close() {
	h.cancel() // connections start closing before their subscriptions end
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		h.endLocked(s, ErrHubClosed)
	}
	h.mu.Unlock()
	h.conns.Wait()
}

// endLocked removes s and closes its channel, recording why; h.mu is held.
func (h *Hub) endLocked(s *HubSubscription, err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	delete(h.subs, s)
	close(s.c)
}

// enter counts a connection that the hub's Close must wait for; false after Close.
func (h *Hub) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns.Add(1)
	return true
}

// leave ends what enter counted.
func (h *Hub) leave() { h.conns.Done() }

// claimUser counts one more signed-in connection of the user, unless the user already has
// limit: then it answers false and counts nothing.
func (h *Hub) claimUser(userID int64, limit int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users[userID] >= limit {
		return false
	}
	h.users[userID]++
	return true
}

// releaseUser ends what claimUser counted.
func (h *Hub) releaseUser(userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.users[userID]--; h.users[userID] <= 0 {
		delete(h.users, userID)
	}
}

// Connections returns how many signed-in WebSocket connections the user has.
func (h *Hub) Connections(userID int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.users[userID]
}

// done is cancelled when the hub closes.
func (h *Hub) done() context.Context { return h.ctx }

// Events returns the subscription's events. The channel is closed when the subscription ends.
func (s *HubSubscription) Events() <-chan courtside.Event { return s.c }

// Err returns why the subscription ended: ErrSlowSubscriber, ErrHubClosed, or nil when it
// is still live or was ended by Close.
func (s *HubSubscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription and closes Events; the reader should stop reading, since what is
// still buffered is no longer meant for it. It is idempotent.
func (s *HubSubscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.endLocked(s, nil)
}
