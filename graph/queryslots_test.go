package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
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
