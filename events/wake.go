package events

import "sync"

// Signal is a broadcast wake-up without values: Notify closes the channel that C returned, so
// every goroutine waiting on it wakes, and the next call to C returns a new channel. A waiter
// that takes the channel before it looks for work and waits on it after cannot miss a
// Notify that came in between. The zero Signal is ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// C returns the channel that the next Notify closes.
func (s *Signal) C() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes every goroutine waiting on a channel returned by C before it. It never blocks.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}
