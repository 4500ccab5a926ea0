package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"courtside/graph"
)

// TestMutationsDoNotWaitForQuerySlots shows Config.MaxConcurrentQueries: while every query slot
// is taken, a mutation runs and answers at once, and a query waits for a slot, then answers.
func TestMutationsDoNotWaitForQuerySlots(t *testing.T) {
	e := newEnv(t)
	h, err := graph.NewHandler(graph.Config{
		Users: e.calls, Tokens: e.calls, Courts: e.calls, Cases: e.calls, Hearings: e.calls,
		Victims: e.calls, Accompaniments: e.calls, Sessions: e.calls, Imports: e.calls, Deliveries: e.calls, Bookings: e.calls,
		Coordination: e.calls, MaxConcurrentQueries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e = &env{t: t, db: e.db, calls: e.calls, srv: srv, tokens: e.tokens, users: e.users}

	release := graph.HoldQuerySlots(h)
	type answer struct {
		status int
		body   string
		err    error
	}
	queried := make(chan answer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"query": `{ me { username } }`})
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		res, err := srv.Client().Do(req)
		if err != nil {
			queried <- answer{err: err}
			return
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		queried <- answer{status: res.StatusCode, body: string(raw), err: err}
	}()

	e.gql("admin", `mutation { createCourt(input: {name: "Slot Courthouse", timeZone: "America/New_York"}) { id } }`, nil).ok(nil)
	select {
	case a := <-queried:
		t.Fatalf("a query answered while every query slot was taken: %+v", a)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	a := <-queried
	if a.err != nil || a.status != http.StatusOK || strings.TrimSpace(a.body) != `{"data":{"me":{"username":"admin"}}}` {
		t.Fatalf("the query after the slot was freed: %+v", a)
	}
}

// TestClientGoneWhileWaitingForASlot shows a query whose client leaves while it waits for a
// query slot: it never starts, answers 503 with one TIMEOUT error (not INTERNAL) and no data,
// and the log says it stopped, with nothing resolved, as it says of an operation stopped while
// it runs.
func TestClientGoneWhileWaitingForASlot(t *testing.T) {
	e := newEnv(t)
	logs := newLogRecorder()
	h, err := graph.NewHandler(graph.Config{
		Users: e.calls, Tokens: e.calls, Courts: e.calls, Cases: e.calls, Hearings: e.calls,
		Victims: e.calls, Accompaniments: e.calls, Sessions: e.calls, Imports: e.calls, Deliveries: e.calls, Bookings: e.calls,
		Coordination: e.calls, MaxConcurrentQueries: 1, Logger: slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	release := graph.HoldQuerySlots(h)
	defer release()

	// The client is gone already: the request's context has ended before the handler runs,
	// and every slot is taken, so the wait can only end with the context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body, _ := json.Marshal(map[string]any{"query": `{ __typename }`})
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	var out struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if rec.Code != http.StatusServiceUnavailable || out.Data != nil || len(out.Errors) != 1 || out.Errors[0].Extensions["code"] != "TIMEOUT" ||
		out.Errors[0].Message != "The request was cancelled." {
		t.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
	line := logs.wait(t, "graphql: operation stopped")
	if line["reason"] != "client gone" || line["resolved"] != "0" || line["refused"] != "0" {
		t.Fatalf("log %v", line)
	}
}
