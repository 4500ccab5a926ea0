package events

import (
	"context"
	"database/sql"

	"github.com/ThreeDotsLabs/watermill/message"
)

// HandleTx runs fn on msg in tx the way r's consumer group name would, for tests that need
// deliveries the subscriber never makes (duplicates, gaps).
func HandleTx(ctx context.Context, r *Router, name string, fn HandlerFunc, tx *sql.Tx, msg *message.Message) error {
	h := &handler{r: r, name: name, fn: fn}
	return h.handleTx(ctx, tx, msg)
}
