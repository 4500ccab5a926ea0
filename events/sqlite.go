// Package events is Courtside's event log: watermill messages appended through watermill-sql
// with a SQLite schema adapter (the transactional publisher), and the router that hands them to
// each handler in its own consumer group.
//
// Every event lives in the `events` table of the application's SQLite file; each consumer group's
// position lives in `event_offsets`, the events a group set aside for a retry in
// `event_retries`, and those it gave up on in `event_dead_letters`. The goose migrations in
// storage own the tables. SQLite has one writer, so rows are committed in id order and a
// consumer group that reads past id N can never miss a row with a smaller id committed later.
// On PostgreSQL the same table and the same queries serve (storage's connector rebinds their
// placeholders), and every write transaction takes storage's write lock when it begins, so the
// same holds across processes.
//
// The router reads the table itself rather than through watermill-sql's subscriber, which holds
// one transaction per consumer group and hands it one message at a time: here one transaction
// serves every group, so that a change costs one fsync for all its handlers.
package events

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
)

// DefaultBatchSize is the most events the router hands to the handlers in one transaction by
// default.
const DefaultBatchSize = 100

// SQLiteSchema is a watermill-sql SchemaAdapter for the `events` table, which holds every topic.
type SQLiteSchema struct {
	// BatchSize is how many events one subscriber transaction reads; 0 means DefaultBatchSize.
	// The subscriber holds the writer connection until the whole batch is handled.
	BatchSize int
}

var _ wsql.SchemaAdapter = SQLiteSchema{}

// InsertQuery appends msgs to topic.
func (s SQLiteSchema) InsertQuery(params wsql.InsertQueryParams) (wsql.Query, error) {
	if len(params.Msgs) == 0 {
		return wsql.Query{}, fmt.Errorf("events: insert of no messages")
	}
	args := make([]any, 0, 4*len(params.Msgs))
	for _, msg := range params.Msgs {
		metadata, err := json.Marshal(msg.Metadata)
		if err != nil {
			return wsql.Query{}, fmt.Errorf("events: marshal metadata of %s: %w", msg.UUID, err)
		}
		args = append(args, params.Topic, msg.UUID, []byte(msg.Payload), metadata)
	}
	q := `INSERT INTO events (topic, uuid, payload, metadata) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?,?,?,?),`, len(params.Msgs)), ",")
	return wsql.Query{Query: q, Args: args}, nil
}

// SelectQuery returns the next batch of events of the topic after the consumer group's offset.
func (s SQLiteSchema) SelectQuery(params wsql.SelectQueryParams) (wsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wsql.NextOffsetQueryParams{
		Topic:         params.Topic,
		ConsumerGroup: params.ConsumerGroup,
	})
	if err != nil {
		return wsql.Query{}, err
	}
	batch := s.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	q := `SELECT id, uuid, payload, metadata FROM events WHERE topic = ? AND id > (` + next.Query +
		fmt.Sprintf(`) ORDER BY id LIMIT %d`, batch)
	return wsql.Query{Query: q, Args: append([]any{params.Topic}, next.Args...)}, nil
}

// UnmarshalMessage turns a row of SelectQuery into a message; the row's id is its offset.
func (s SQLiteSchema) UnmarshalMessage(params wsql.UnmarshalMessageParams) (wsql.Row, error) {
	var r wsql.Row
	if err := params.Row.Scan(&r.Offset, &r.UUID, &r.Payload, &r.Metadata); err != nil {
		return wsql.Row{}, fmt.Errorf("events: scan event row: %w", err)
	}
	msg := message.NewMessage(string(r.UUID), r.Payload)
	if len(r.Metadata) > 0 {
		if err := json.Unmarshal(r.Metadata, &msg.Metadata); err != nil {
			return wsql.Row{}, fmt.Errorf("events: metadata of event row %d: %w", r.Offset, err)
		}
	}
	r.Msg = msg
	return r, nil
}

// SchemaInitializingQueries returns no queries: the goose migrations own the schema.
func (s SQLiteSchema) SchemaInitializingQueries(wsql.SchemaInitializingQueriesParams) ([]wsql.Query, error) {
	return nil, nil
}

// SubscribeIsolationLevel returns sql.LevelDefault. go-sqlite3 ignores sql.TxOptions altogether
// (its BeginTx runs the connection's _txlock statement, here BEGIN IMMEDIATE), and every SQLite
// transaction is serializable anyway; asking for a level the driver silently drops would mislead.
func (s SQLiteSchema) SubscribeIsolationLevel() sql.IsolationLevel {
	return sql.LevelDefault
}
