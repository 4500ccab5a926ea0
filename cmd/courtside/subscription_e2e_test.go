package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestEndToEnd_SubscriptionThroughMain subscribes over WebSocket to the real server: a
// rescheduled hearing reaches the accompanying advocate through the event log and main's
// live-feed handler, and SIGTERM closes the connection with 1001 and still stops the server
// cleanly.
func TestEndToEnd_SubscriptionThroughMain(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	starts := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	// Messages arrive on a channel so that the test can wait for them with a timeout; the
	// reader ends with the connection, its close error last.
	msgs := make(chan message, 16)
	closed := make(chan error, 1)
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + w.advocate}})
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				closed <- err
				return
			}
			var m message
			json.Unmarshal(b, &m)
			msgs <- m
		}
	}()
	if m := <-msgs; m.Type != "connection_ack" {
		t.Fatalf("want connection_ack, got %+v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($h: ID) { scheduleChanged(hearingId: $h) { hearing { id sequence startsAt } change { by sequence } } }`,
		"variables": map[string]any{"h": hearingID}}})

	// The subscription joins the live feed a moment after the subscribe message: move the
	// hearing until a change arrives.
	var got scheduleChangedAnswer
	for day := 1; ; day++ {
		if day > 30 {
			t.Fatal("no change arrived")
		}
		moved := starts.Add(time.Duration(day) * 24 * time.Hour)
		mustGQL(t, s.url, w.prosecutor, reschedule, map[string]any{"id": hearingID, "s": moved.Format(time.RFC3339), "e": moved.Add(time.Hour).Format(time.RFC3339)})
		if receiveChange(t, msgs, closed, &got) {
			break
		}
	}
	sc := got.Data.ScheduleChanged
	if sc.Hearing.ID != hearingID || sc.Hearing.Sequence < 1 || sc.Change.By != "pros" || sc.Change.Sequence < 1 {
		t.Fatalf("change: %+v", sc)
	}

	// SIGTERM: the connection closes with 1001 (the client may reconnect elsewhere) and the
	// server exits 0.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case <-msgs: // changes still in flight
			continue
		case err := <-closed:
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("want close 1001 at shutdown, got %v", err)
			}
		}
		break
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, s.logs.String())
	}
}

// receiveChange waits up to two seconds for a rescheduling change. The live feed may deliver
// the hearing's posting (sequence 0) after the subscription began; that one is skipped.
func receiveChange(t *testing.T, msgs <-chan message, closed <-chan error, got *scheduleChangedAnswer) bool {
	t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case m := <-msgs:
			if m.Type != "next" || m.ID != "1" || json.Unmarshal(m.Payload, got) != nil {
				t.Fatalf("want next, got %+v (%s)", m, m.Payload)
			}
			if got.Data.ScheduleChanged.Change.Sequence > 0 {
				return true
			}
		case err := <-closed:
			t.Fatalf("connection closed: %v", err)
		case <-timeout:
			return false
		}
	}
}

// message is one graphql-transport-ws message.
type message struct {
	ID, Type string
	Payload  json.RawMessage
}

// scheduleChangedAnswer is the payload of a scheduleChanged "next" message.
type scheduleChangedAnswer struct {
	Data struct {
		ScheduleChanged struct {
			Hearing struct {
				ID       string
				Sequence int
			}
			Change struct {
				By       string
				Sequence int
			}
		}
	}
}
