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
