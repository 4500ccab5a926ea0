package graph

import (
	"net/http"
	"time"
)

// SetConnectionInitTimeout sets how long h, a handler of NewHandler, waits for a WebSocket
// connection's connection_init. Call it before h serves any connection.
func SetConnectionInitTimeout(h http.Handler, d time.Duration) {
	h.(*handler).ws.initTimeout = d
}

// SetMaxConnectionsPerUser sets how many signed-in WebSocket connections one user may have on
// h, a handler of NewHandler. Call it before h serves any connection.
func SetMaxConnectionsPerUser(h http.Handler, n int) {
	h.(*handler).ws.maxPerUser = n
}
