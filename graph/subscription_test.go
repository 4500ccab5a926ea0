package graph_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/graph"
	"courtside/storage"

	"github.com/coder/websocket"
)

// liveFeed is the consumer group of the live feed, as main names it.
const liveFeed = "live-feed"

// liveEnv is an env whose handler serves subscriptions from a hub that a real event router
// feeds from the test database, wired as main wires it.
type liveEnv struct {
	*env
	hub *graph.Hub
}

// newLiveEnv returns a liveEnv; the hub and the router stop when the test ends.
func newLiveEnv(t *testing.T, configure ...func(*graph.Config)) *liveEnv {
	t.Helper()
	return newLiveEnvOn(t, graph.NewHub(0), configure...)
}

// newLiveEnvOn returns a liveEnv with the given hub.
func newLiveEnvOn(t *testing.T, hub *graph.Hub, configure ...func(*graph.Config)) *liveEnv {
	t.Helper()
	e := newEnv(t, append([]func(*graph.Config){func(c *graph.Config) { c.Hub = hub }}, configure...)...)
	router, err := events.NewRouter(e.db.Writer, nil, events.Config{})
	if err != nil {
		t.Fatal(err)
	}
	router.Handle(liveFeed, func(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
		hub.Publish(ev)
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- router.Run(context.Background()) }()
	select {
	case <-router.Running():
	case err := <-done:
		t.Fatalf("router stopped: %v", err)
	}
	t.Cleanup(func() {
		hub.Close()
		if err := router.Close(); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &liveEnv{env: e, hub: hub}
}

// poll calls ok until it returns true, failing the test after a generous deadline.
func poll(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// caughtUp waits until the live feed has handled every event written so far.
func (le *liveEnv) caughtUp() {
	le.t.Helper()
	poll(le.t, "the live feed to catch up", func() bool {
		n, err := events.Pending(context.Background(), le.db.Reader, liveFeed)
		if err != nil {
			le.t.Fatal(err)
		}
		return n == 0
	})
}

// subscribers waits until the hub has n subscriptions.
func (le *liveEnv) subscribers(n int) {
	le.t.Helper()
	poll(le.t, fmt.Sprintf("%d hub subscriptions (have %d)", n, le.hub.Subscribers()), func() bool { return le.hub.Subscribers() == n })
}

// move reschedules a hearing as user to 09:00-10:00 UTC on the given day of May 2030, and
// returns its new sequence.
func (e *env) move(user, hearingID string, day int) int {
	e.t.Helper()
	var out struct{ RescheduleHearing struct{ Sequence int } }
	e.gql(user, `mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
  rescheduleHearing(id: $id, startsAt: $s, endsAt: $e, reason: "courtroom flooded") { sequence } }`,
		map[string]any{"id": hearingID, "s": mayStart(day), "e": fmt.Sprintf("2030-05-%02dT10:00:00Z", day)}).ok(&out)
	return out.RescheduleHearing.Sequence
}

// mayStart is the start time move gives a hearing.
func mayStart(day int) string { return fmt.Sprintf("2030-05-%02dT09:00:00Z", day) }

// wsURL is the WebSocket URL of a test server.
func wsURL(srvURL string) string { return "ws" + strings.TrimPrefix(srvURL, "http") + "/graphql" }

// wsMsg is a graphql-transport-ws message.
type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient is a graphql-transport-ws peer on coder/websocket's client.
type wsClient struct {
	t testing.TB
	c *websocket.Conn
}

// dial connects to srvURL offering the subprotocols.
func dial(t testing.TB, srvURL string, subprotocols ...string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(srvURL), &websocket.DialOptions{Subprotocols: subprotocols})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: t, c: c}
}

// connect dials with graphql-transport-ws and sends connection_init with user's token.
func (e *env) connect(user string) *wsClient {
	e.t.Helper()
	c := dial(e.t, e.srv.URL, "graphql-transport-ws")
	c.init(map[string]any{"authorization": "Bearer " + e.tokens[user]})
	return c
}

// sendRaw writes one text message.
func (c *wsClient) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes v as JSON.
func (c *wsClient) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

// readErr reads the next message.
func (c *wsClient) readErr() (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, b, err := c.c.Read(ctx)
	if err != nil {
		return wsMsg{}, err
	}
	var m wsMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return wsMsg{}, fmt.Errorf("decode %s: %w", b, err)
	}
	return m, nil
}

// read reads the next message, failing the test if there is none.
func (c *wsClient) read() wsMsg {
	c.t.Helper()
	m, err := c.readErr()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// closed expects the server to close the connection with code, sending nothing before.
func (c *wsClient) closed(code websocket.StatusCode) {
	c.t.Helper()
	m, err := c.readErr()
	if err == nil {
		c.t.Fatalf("want close %d, got message %+v", code, m)
	}
	if got := websocket.CloseStatus(err); got != code {
		c.t.Fatalf("want close %d, got %v", code, err)
	}
}

// init sends connection_init with payload and expects connection_ack.
func (c *wsClient) init(payload any) {
	c.t.Helper()
	c.send(map[string]any{"type": "connection_init", "payload": payload})
	if m := c.read(); m.Type != "connection_ack" {
		c.t.Fatalf("want connection_ack, got %+v", m)
	}
}

// subscribe starts a subscription.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// scheduleChanged is the subscription the tests run.
const scheduleChanged = `subscription($caseId: ID, $hearingId: ID) {
  scheduleChanged(caseId: $caseId, hearingId: $hearingId) {
    hearing { id sequence status startsAt case { id docket } }
    change { by reason status sequence fromStartsAt toStartsAt }
  }
}`

// changeView is what the tests read of a ScheduleChange.
type changeView struct {
	Hearing struct {
		ID       string
		Sequence int
		Status   string
		StartsAt string
		Case     struct{ ID, Docket string }
	}
	Change struct {
		By, Reason, Status string
		Sequence           int
		FromStartsAt       *string
		ToStartsAt         *string
	}
}

// change reads the next message, which must be a next without errors, and returns its id
// and ScheduleChange.
func (c *wsClient) change() (string, changeView) {
	c.t.Helper()
	m := c.read()
	if m.Type != "next" {
		c.t.Fatalf("want next, got %+v (%s)", m, m.Payload)
	}
	var p struct {
		Data   struct{ ScheduleChanged changeView }
		Errors []gqlError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		c.t.Fatalf("next %s: %v %+v", m.Payload, err, p.Errors)
	}
	return m.ID, p.Data.ScheduleChanged
}

// errorCode reads the next message, which must be an error for id, and returns its first
// extensions.code and extensions.field.
func (c *wsClient) errorCode(id string) (code, field string) {
	c.t.Helper()
	m := c.read()
	var errs []gqlError
	if m.Type != "error" || m.ID != id || json.Unmarshal(m.Payload, &errs) != nil || len(errs) == 0 {
		c.t.Fatalf("want error for %s, got %+v (%s)", id, m, m.Payload)
	}
	code, _ = errs[0].Extensions["code"].(string)
	field, _ = errs[0].Extensions["field"].(string)
	return code, field
}

func TestScheduleChangedVisibility(t *testing.T) {
	le := newLiveEnv(t)
	f := le.setUpVictim() // case 1 of pros's office, hearing 1; adv accompanies the victim to it

	// Hearing 2 in the same case, to which adv2 accompanies the victim.
	var h2 struct{ PostHearing struct{ ID string } }
	le.gql("pros", postHearing, map[string]any{"in": hearingInput(f.caseID, "EXT-2", start2, end2)}).ok(&h2)
	le.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": h2.PostHearing.ID, "v": f.victimID, "a": strconv.FormatInt(le.users["adv2"].ID, 10)}).ok(nil)
	// Case 3 and hearing 3 of another prosecutor's office.
	var c3 struct{ OpenCase struct{ ID string } }
	le.gql("pros2", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "CR-2030-0077", "courtId": f.courtID}}).ok(&c3)
	var h3 struct{ PostHearing struct{ ID string } }
	le.gql("pros2", postHearing, map[string]any{"in": hearingInput(c3.OpenCase.ID, "EXT-3", start1, end1)}).ok(&h3)
	le.caughtUp()

	type subscriber struct {
		name, user string
		vars       map[string]any
		first      string // the hearing of the first change it must receive
	}
	subs := []subscriber{
		{"the owning office", "pros", nil, f.hearingID},
		{"the owning office, one hearing", "pros", map[string]any{"hearingId": h2.PostHearing.ID}, h2.PostHearing.ID},
		{"the coordinator of the victim's organisation", "coord", nil, f.hearingID},
		{"the accompanying advocate", "adv", nil, f.hearingID},
		// Those who may not see hearing 1 receive nothing of it: the first change they
		// receive is a later one they may see.
		{"an advocate of another hearing", "adv2", nil, h2.PostHearing.ID},
		{"another prosecutor's office", "pros2", nil, h3.PostHearing.ID},
		{"an admin following case 3", "admin", map[string]any{"caseId": c3.OpenCase.ID}, h3.PostHearing.ID},
	}
	clients := make([]*wsClient, len(subs))
	for i, s := range subs {
		clients[i] = le.connect(s.user)
		clients[i].subscribe("1", scheduleChanged, s.vars)
	}
	le.subscribers(len(subs))

	seq1 := le.move("pros", f.hearingID, 10)
	le.move("pros", h2.PostHearing.ID, 11)
	le.move("pros2", h3.PostHearing.ID, 12)

	for i, s := range subs {
		t.Run(s.name, func(t *testing.T) {
			c := clients[i]
			c.t = t
			id, ch := c.change()
			if id != "1" || ch.Hearing.ID != s.first {
				t.Fatalf("%s: first change is of hearing %s (id %s), want %s: %+v", s.user, ch.Hearing.ID, id, s.first, ch)
			}
		})
	}

	t.Run("the owning office then receives hearing 2's change", func(t *testing.T) {
		c := clients[0]
		c.t = t
		if _, ch := c.change(); ch.Hearing.ID != h2.PostHearing.ID || ch.Hearing.Sequence != 1 || ch.Change.Sequence != 1 {
			t.Fatalf("second change for pros: %+v", ch)
		}
	})
	t.Run("the change carries the hearing as it is now and who changed it", func(t *testing.T) {
		c := le.connect("pros")
		c.subscribe("p", scheduleChanged, map[string]any{"hearingId": f.hearingID})
		le.subscribers(len(subs) + 1)
		seq := le.move("pros", f.hearingID, 13)
		if seq != seq1+1 {
			t.Fatalf("sequence %d after %d", seq, seq1)
		}
		id, ch := c.change()
		if id != "p" || ch.Hearing.ID != f.hearingID || ch.Hearing.Sequence != seq || ch.Hearing.Status != "CONTINUED" ||
			ch.Hearing.StartsAt != mayStart(13) || ch.Hearing.Case.ID != f.caseID || ch.Hearing.Case.Docket != "CR-2030-0042" {
			t.Fatalf("hearing: %+v", ch.Hearing)
		}
		if ch.Change.By != "pros" || ch.Change.Reason != "courtroom flooded" || ch.Change.Status != "CONTINUED" || ch.Change.Sequence != seq ||
			ch.Change.FromStartsAt == nil || *ch.Change.FromStartsAt != mayStart(10) || ch.Change.ToStartsAt == nil || *ch.Change.ToStartsAt != mayStart(13) {
			t.Fatalf("change: %+v", ch.Change)
		}
	})
}

func TestScheduleChangedComplete(t *testing.T) {
	le := newLiveEnv(t)
	f := le.setUp()
	le.caughtUp()

	c := le.connect("pros")
	c.subscribe("a", scheduleChanged, map[string]any{"hearingId": f.hearingID})
	c.subscribe("b", scheduleChanged, nil)
	le.subscribers(2)

	// complete ends "a" on the server: its hub subscription goes, and it receives nothing.
	c.send(map[string]any{"id": "a", "type": "complete"})
	le.subscribers(1)
	seq := le.move("pros", f.hearingID, 10)
	if id, ch := c.change(); id != "b" || ch.Hearing.Sequence != seq {
		t.Fatalf("after completing a: %s %+v", id, ch)
	}

	// The id is free again once completed.
	c.subscribe("a", scheduleChanged, map[string]any{"hearingId": f.hearingID})
	le.subscribers(2)
	seq = le.move("pros", f.hearingID, 11)
	got := map[string]int{}
	for range 2 {
		id, ch := c.change()
		got[id] = ch.Hearing.Sequence
	}
	if got["a"] != seq || got["b"] != seq {
		t.Fatalf("after subscribing a again: %v", got)
	}
	c.send(map[string]any{"id": "a", "type": "complete"})
	c.send(map[string]any{"id": "b", "type": "complete"})
	le.subscribers(0)
	c.c.Close(websocket.StatusNormalClosure, "")

	t.Run("a client that vanishes mid-stream leaves nothing running", func(t *testing.T) {
		le.srv.Client().CloseIdleConnections()
		baseline := settledGoroutines(t)
		c := le.connect("pros")
		c.subscribe("1", scheduleChanged, nil)
		le.subscribers(1)
		for i := range 50 {
			le.hub.Publish(courtside.Event{ID: fmt.Sprint("synthetic-", i), Type: courtside.EventHearingChanged,
				HearingID: mustID(t, f.hearingID), CaseID: mustID(t, f.caseID), Sequence: seq})
		}
		c.c.CloseNow()
		le.subscribers(0)
		le.srv.Client().CloseIdleConnections()
		waitGoroutines(t, baseline)
	})

	t.Run("closing the hub closes connections with 1001", func(t *testing.T) {
		c := le.connect("pros")
		c.subscribe("1", scheduleChanged, nil)
		le.subscribers(1)
		closed := make(chan struct{})
		go func() { le.hub.Close(); close(closed) }()
		c.closed(websocket.StatusGoingAway)
		<-closed
		if n := le.hub.Subscribers(); n != 0 {
			t.Fatalf("%d subscriptions after Close", n)
		}
	})
}

func TestSubscriptionProtocol(t *testing.T) {
	le := newLiveEnv(t)
	f := le.setUp()

	t.Run("another subprotocol, or none, closes 4406", func(t *testing.T) {
		dial(t, le.srv.URL).closed(4406)
		dial(t, le.srv.URL, "graphql-ws").closed(4406)
	})
	t.Run("a failed connection_init closes 4403", func(t *testing.T) {
		for _, payload := range []string{
			`{"type":"connection_init"}`,
			`{"type":"connection_init","payload":{}}`,
			`{"type":"connection_init","payload":{"authorization":"Bearer nope"}}`,
			`{"type":"connection_init","payload":{"authorization":"Basic ` + le.tokens["pros"] + `"}}`,
			`{"type":"connection_init","payload":{"authorization":"` + le.tokens["pros"] + `"}}`,
			`{"type":"connection_init","payload":{"token":""}}`,
			`{"type":"connection_init","payload":{"authorization":"Bearer ` + le.tokens["pros"] + `","Authorization":"Bearer nope"}}`,
		} {
			c := dial(t, le.srv.URL, "graphql-transport-ws")
			c.sendRaw([]byte(payload))
			c.closed(4403)
		}
	})
	t.Run("token and authorization in any case are accepted", func(t *testing.T) {
		dial(t, le.srv.URL, "graphql-transport-ws").init(map[string]any{"token": le.tokens["pros"]})
		dial(t, le.srv.URL, "graphql-transport-ws").init(map[string]any{"Authorization": "bearer " + le.tokens["pros"]})
	})
	t.Run("subscribe before the ack closes 4401", func(t *testing.T) {
		c := dial(t, le.srv.URL, "graphql-transport-ws")
		c.subscribe("1", scheduleChanged, nil)
		c.closed(4401)
	})
	t.Run("a second connection_init closes 4429", func(t *testing.T) {
		c := le.connect("pros")
		c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"token": le.tokens["pros"]}})
		c.closed(4429)
	})
	t.Run("a duplicate subscription id closes 4409", func(t *testing.T) {
		c := le.connect("pros")
		c.subscribe("dup", scheduleChanged, nil)
		c.subscribe("dup", scheduleChanged, nil)
		c.closed(4409)
	})
	t.Run("invalid messages close 4400", func(t *testing.T) {
		for _, raw := range []string{`not json`, `{"type":"bogus"}`, `{"type":"next","id":"1","payload":{}}`,
			`{"type":"subscribe","id":"","payload":{"query":"subscription { x }"}}`,
			`{"type":"subscribe","id":"1","payload":{"query":5}}`,
			`{"type":"subscribe","id":"1","payload":{"query":"subscription { x }","variables":[]}}`,
			`{"type":"complete"}`, `{"type":"ping","payload":"x"}`} {
			c := le.connect("pros")
			c.sendRaw([]byte(raw))
			c.closed(4400)
		}
		c := le.connect("pros")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.c.Write(ctx, websocket.MessageBinary, []byte(`{"type":"ping"}`))
		c.closed(4400)
	})
	t.Run("ping is answered with pong, before and after the ack", func(t *testing.T) {
		c := dial(t, le.srv.URL, "graphql-transport-ws")
		c.send(map[string]any{"type": "ping"})
		if m := c.read(); m.Type != "pong" || m.Payload != nil {
			t.Fatalf("%+v", m)
		}
		c.init(map[string]any{"token": le.tokens["pros"]})
		c.send(map[string]any{"type": "ping", "payload": map[string]any{"n": 1}})
		if m := c.read(); m.Type != "pong" || string(m.Payload) != `{"n":1}` {
			t.Fatalf("%+v %s", m, m.Payload)
		}
		c.send(map[string]any{"type": "pong"}) // unsolicited pongs are fine
		c.send(map[string]any{"type": "ping"})
		if m := c.read(); m.Type != "pong" {
			t.Fatalf("%+v", m)
		}
	})
	t.Run("refused operations answer error with extensions.code, and the connection stays", func(t *testing.T) {
		c := le.connect("pros")
		for _, tc := range []struct {
			query       string
			vars        map[string]any
			code, field string
		}{
			{`{ me { id } }`, nil, "INVALID", ""},
			{`mutation { logout }`, nil, "INVALID", ""},
			{`subscription { nope }`, nil, "INVALID", ""},
			{`subscription { scheduleChanged { nope } }`, nil, "INVALID", ""},
			{`subscription { a: scheduleChanged { change { by } } b: scheduleChanged { change { by } } }`, nil, "INVALID", ""},
			{`subscription { __typename }`, nil, "INVALID", ""},
			{`subscription { ...F } fragment F on Subscription { scheduleChanged { change { by } } }`, nil, "INVALID", ""},
			{`subscription { scheduleChanged { hearing { case { hearings { case { hearings { case { hearings { case { hearings { case { hearings { case { id } } } } } } } } } } } } }`,
				nil, "INVALID", ""},
			{scheduleChanged, map[string]any{"hearingId": "abc"}, "INVALID", "hearingId"},
			{scheduleChanged, map[string]any{"caseId": []any{1}}, "INVALID", "caseId"},
			{scheduleChanged, map[string]any{"hearingId": "999999"}, "NOT_FOUND", ""},
			{scheduleChanged, map[string]any{"caseId": "999999"}, "NOT_FOUND", ""},
		} {
			c.subscribe("q", tc.query, tc.vars)
			if code, field := c.errorCode("q"); code != tc.code || field != tc.field {
				t.Fatalf("%s %v: code %s field %q, want %s %q", tc.query, tc.vars, code, field, tc.code, tc.field)
			}
		}
		// Another office's hearing is not found either.
		pros2 := le.connect("pros2")
		pros2.subscribe("q", scheduleChanged, map[string]any{"hearingId": f.hearingID})
		if code, _ := pros2.errorCode("q"); code != "NOT_FOUND" {
			t.Fatalf("pros2 following pros's hearing: %s", code)
		}
		// The id of a refused operation is free, and the connection works.
		c.subscribe("q", scheduleChanged, map[string]any{"hearingId": f.hearingID})
		le.subscribers(1)
		seq := le.move("pros", f.hearingID, 20)
		if id, ch := c.change(); id != "q" || ch.Hearing.Sequence != seq {
			t.Fatalf("%s %+v", id, ch)
		}
		c.send(map[string]any{"id": "q", "type": "complete"})
		le.subscribers(0)
	})
	t.Run("more subscriptions than the cap are refused", func(t *testing.T) {
		c := le.connect("pros")
		for i := range graph.MaxSubscriptionsPerConnection {
			c.subscribe(fmt.Sprint(i), scheduleChanged, nil)
		}
		le.subscribers(graph.MaxSubscriptionsPerConnection)
		c.subscribe("one too many", scheduleChanged, nil)
		m := c.read()
		if m.Type != "error" || m.ID != "one too many" || !strings.Contains(string(m.Payload), `"rule":"subscriptions"`) ||
			!strings.Contains(string(m.Payload), `"code":"INVALID"`) {
			t.Fatalf("%+v %s", m, m.Payload)
		}
		c.send(map[string]any{"id": "0", "type": "complete"})
		le.subscribers(graph.MaxSubscriptionsPerConnection - 1)
		c.subscribe("one more", scheduleChanged, nil)
		le.subscribers(graph.MaxSubscriptionsPerConnection)
		c.c.Close(websocket.StatusNormalClosure, "")
		le.subscribers(0)
	})
	t.Run("a message larger than the limit closes 1009", func(t *testing.T) {
		c := le.connect("pros")
		c.subscribe("big", "subscription { scheduleChanged { change { by } } } # "+strings.Repeat("x", graph.MaxSubscriptionMessageBytes), nil)
		c.closed(websocket.StatusMessageTooBig)
	})
	t.Run("without a hub the upgrade answers 501", func(t *testing.T) {
		e := newEnvOn(le.env, func(c *graph.Config) { c.Hub = nil })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, res, err := websocket.Dial(ctx, wsURL(e.srv.URL), &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err == nil || res == nil || res.StatusCode != http.StatusNotImplemented {
			t.Fatalf("dial without a hub: %v %v", res, err)
		}
	})
	t.Run("subscriptions are refused over POST", func(t *testing.T) {
		le.gql("pros", scheduleChanged, nil).fails("INVALID")
	})
}

func TestSubscriptionInitTimeout(t *testing.T) {
	le := newLiveEnv(t)
	h := le.srv.Config.Handler
	graph.SetConnectionInitTimeout(h, 100*time.Millisecond)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dial(t, srv.URL, "graphql-transport-ws").closed(4408)
}

func TestSubscriptionCredentialsRechecked(t *testing.T) {
	le := newLiveEnv(t)
	f := le.setUpVictim()
	ctx := context.Background()
	tok, secret, err := storage.NewTokenService(le.db).CreateToken(ctx, le.users["pros"].ID, courtside.TokenAPI, "dashboard")
	if err != nil {
		t.Fatal(err)
	}
	const pw = "harbour lights at dawn 7"
	if _, err := storage.NewUserService(le.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "maria", Role: courtside.RoleCoordinator},
		OrganizationName: "Safe Harbor", Password: pw}); err != nil {
		t.Fatal(err)
	}
	var login struct{ Login struct{ Token string } }
	le.gql("", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": "maria", "p": pw}).ok(&login)
	le.caughtUp()

	api := dial(t, le.srv.URL, "graphql-transport-ws")
	api.init(map[string]any{"authorization": "Bearer " + secret})
	api.subscribe("1", scheduleChanged, nil)
	session := dial(t, le.srv.URL, "graphql-transport-ws")
	session.init(map[string]any{"authorization": "Bearer " + login.Login.Token})
	session.subscribe("1", scheduleChanged, nil)
	le.subscribers(2)

	seq := le.move("pros", f.hearingID, 10)
	for name, c := range map[string]*wsClient{"api token": api, "session": session} {
		if _, ch := c.change(); ch.Hearing.Sequence != seq {
			t.Fatalf("%s: %+v", name, ch)
		}
	}

	le.gql("pros", `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": strconv.FormatInt(tok.ID, 10)}).ok(nil)
	le.asBearer(login.Login.Token, `mutation { logout }`, nil).ok(nil)
	le.move("pros", f.hearingID, 11)
	api.closed(4403)
	session.closed(4403)
	le.subscribers(0)
}

// gatedHearings holds FindHearingByID, once armed, until the test opens the gate.
type gatedHearings struct {
	courtside.HearingService
	armed   atomic.Bool
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedHearings) FindHearingByID(ctx context.Context, id int64) (*courtside.Hearing, error) {
	if g.armed.Load() {
		g.entered <- struct{}{}
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.HearingService.FindHearingByID(ctx, id)
}

func TestSlowSubscriberDropped(t *testing.T) {
	gated := &gatedHearings{entered: make(chan struct{}, 8), gate: make(chan struct{})}
	le := newLiveEnvOn(t, graph.NewHub(1), func(c *graph.Config) {
		gated.HearingService = c.Hearings
		c.Hearings = gated
	})
	f := le.setUp()
	le.caughtUp()
	c := le.connect("pros")
	c.subscribe("1", scheduleChanged, nil)
	le.subscribers(1)

	gated.armed.Store(true)
	ev := func(n int) courtside.Event {
		return courtside.Event{ID: fmt.Sprint("slow-", n), Type: courtside.EventHearingChanged, HearingID: mustID(t, f.hearingID),
			CaseID: mustID(t, f.caseID)}
	}
	le.hub.Publish(ev(1))
	<-gated.entered       // the subscription is busy with event 1
	le.hub.Publish(ev(2)) // fills its buffer of one
	le.hub.Publish(ev(3)) // overflows it: Publish does not wait, the subscription is dropped
	le.subscribers(0)
	gated.armed.Store(false)
	close(gated.gate)

	// What it had taken or buffered still arrives, then the error that says why it ended.
	for range 2 {
		if id, ch := c.change(); id != "1" || ch.Hearing.ID != f.hearingID {
			t.Fatalf("%s %+v", id, ch)
		}
	}
	if code, _ := c.errorCode("1"); code != graph.CodeSlowSubscriber {
		t.Fatalf("code %s", code)
	}
	// The connection and the id are still usable.
	c.subscribe("1", scheduleChanged, nil)
	le.subscribers(1)
	seq := le.move("pros", f.hearingID, 10)
	if _, ch := c.change(); ch.Hearing.Sequence != seq {
		t.Fatalf("%+v", ch)
	}
}

func TestHub(t *testing.T) {
	ev := func(seq int) courtside.Event {
		return courtside.Event{ID: fmt.Sprint(seq), Type: courtside.EventHearingChanged, HearingID: 1, Sequence: seq}
	}
	hub := graph.NewHub(2)
	slow, err := hub.Subscribe(nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, _ := hub.Subscribe(nil)
	other, _ := hub.Subscribe(func(e courtside.Event) bool { return e.HearingID == 2 })
	for i := range 3 {
		hub.Publish(ev(i)) // never blocks, though slow reads nothing
		if got := <-fast.Events(); got.Sequence != i {
			t.Fatalf("fast got %+v", got)
		}
	}
	// slow held two events; the third overflowed its buffer and dropped it.
	var got []int
	for e := range slow.Events() {
		got = append(got, e.Sequence)
	}
	if len(got) != 2 || !errors.Is(slow.Err(), graph.ErrSlowSubscriber) {
		t.Fatalf("slow: %v, %v", got, slow.Err())
	}
	// The others are unaffected; the filter kept other's buffer empty.
	hub.Publish(ev(3))
	if e := <-fast.Events(); e.Sequence != 3 || hub.Subscribers() != 2 || len(other.Events()) != 0 {
		t.Fatalf("fast after slow was dropped: %+v, %d subscriptions", e, hub.Subscribers())
	}
	hub.Publish(courtside.Event{ID: "x", HearingID: 2})
	if e := <-other.Events(); e.ID != "x" {
		t.Fatalf("other: %+v", e)
	}

	other.Close()
	other.Close()
	if _, ok := <-other.Events(); ok || other.Err() != nil || hub.Subscribers() != 1 {
		t.Fatalf("closed subscription: %v, %d subscriptions", other.Err(), hub.Subscribers())
	}
	if e := <-fast.Events(); e.ID != "x" {
		t.Fatalf("fast: %+v", e)
	}
	hub.Close()
	if _, ok := <-fast.Events(); ok || !errors.Is(fast.Err(), graph.ErrHubClosed) {
		t.Fatalf("after Close: %v", fast.Err())
	}
	hub.Publish(ev(4))
	if _, err := hub.Subscribe(nil); !errors.Is(err, graph.ErrHubClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	hub.Close()
}

// mustID parses a decimal ID.
func mustID(t testing.TB, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// settledGoroutines returns the fewest goroutines seen over a short quiet period: the
// baseline a leak check compares with (background pollers come and go).
func settledGoroutines(t testing.TB) int {
	t.Helper()
	least := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(10 * time.Millisecond)
		least = min(least, runtime.NumGoroutine())
	}
	return least
}

// waitGoroutines waits, with a generous deadline, until no more goroutines run than
// baseline, and otherwise fails with every goroutine's stack.
func waitGoroutines(t testing.TB, baseline int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
