package graph

import "net/http"

// HoldQuerySlots takes every query slot of h, a handler of NewHandler with
// Config.MaxConcurrentQueries set, as queries running would; release gives them back.
func HoldQuerySlots(h http.Handler) (release func()) {
	slots := h.(*handler).queries
	for range cap(slots) {
		slots <- struct{}{}
	}
	return func() {
		for range cap(slots) {
			<-slots
		}
	}
}
