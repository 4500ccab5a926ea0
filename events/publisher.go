package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"

	"courtside"
)

// MetadataType is the message metadata key that carries the event type, so that a handler can
// skip events without decoding them.
const MetadataType = "type"

// publishChunk is how many events one INSERT statement carries (4 parameters each, far below
// SQLite's limit of 32766 bound parameters).
const publishChunk = 1000

// PublishTx appends evs, in order, to the event log topic courtside.EventTopic inside tx, so that
// they are committed or rolled back together with the change they report. Each message's UUID is
// the event ID and its payload the event's JSON. PublishTx matches storage.PublishFunc.
func PublishTx(ctx context.Context, tx *sql.Tx, evs ...courtside.Event) error {
	if len(evs) == 0 {
		return nil
	}
	msgs := make([]*message.Message, 0, len(evs))
	for _, ev := range evs {
		if ev.ID == "" || ev.Type == "" {
			return fmt.Errorf("events: publish: event needs an ID and a type")
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("events: publish %s: %w", ev.ID, err)
		}
		msg := message.NewMessage(ev.ID, payload)
		msg.Metadata.Set(MetadataType, string(ev.Type))
		msg.SetContext(ctx)
		msgs = append(msgs, msg)
	}
	// A publisher bound to tx is a small struct; making one per call keeps PublishTx a plain
	// function. AutoInitializeSchema stays off: the migrations own the schema, and DDL has no
	// place inside a caller's transaction.
	pub, err := wsql.NewPublisher(wsql.TxFromStdSQL(tx), wsql.PublisherConfig{SchemaAdapter: SQLiteSchema{}}, nil)
	if err != nil {
		return fmt.Errorf("events: publisher: %w", err)
	}
	for start := 0; start < len(msgs); start += publishChunk {
		end := min(start+publishChunk, len(msgs))
		if err := pub.Publish(courtside.EventTopic, msgs[start:end]...); err != nil {
			return fmt.Errorf("events: publish: %w", err)
		}
	}
	return nil
}

// Decode returns the event carried by msg.
func Decode(msg *message.Message) (courtside.Event, error) {
	return decodeEvent(msg.UUID, msg.Payload)
}
