package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"courtside"

	"github.com/coder/websocket"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// GraphQL subscriptions over WebSocket, in the graphql-transport-ws protocol of the npm
// graphql-ws client (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md), on
// github.com/coder/websocket, fed by a Hub.
//
// One connection runs these goroutines, all of which end before ServeHTTP returns:
//   - the handler's own, which reads and answers messages;
//   - a keep-alive that pings the peer, so that a vanished peer is noticed;
//   - per subscription: ours, which writes its results; graphql-go's, which executes the
//     selection set per event (graphql.Subscribe); and the source, which reads the hub,
//     checks each event against the subscriber's rights and feeds graphql-go.
//
// graphql-go v0.8.1's subscription goroutine blocks for ever sending a result nobody reads
// (graphql-go#758), so after cancelling a subscription its result channel is always drained.

// The protocol's subprotocol name and message types.
const (
	wsSubprotocol = "graphql-transport-ws"

	msgConnectionInit = "connection_init"
	msgConnectionAck  = "connection_ack"
	msgPing           = "ping"
	msgPong           = "pong"
	msgSubscribe      = "subscribe"
	msgNext           = "next"
	msgError          = "error"
	msgComplete       = "complete"
)

// The protocol's close codes.
const (
	closeBadRequest       websocket.StatusCode = 4400
	closeUnauthorized     websocket.StatusCode = 4401
	closeForbidden        websocket.StatusCode = 4403
	closeSubprotocol      websocket.StatusCode = 4406
	closeInitTimeout      websocket.StatusCode = 4408
	closeSubscriberExists websocket.StatusCode = 4409
	closeTooManyInits     websocket.StatusCode = 4429
	closeInternal         websocket.StatusCode = 4500
)

// CodeSlowSubscriber is the extensions.code of the error that ends a subscription which fell
// so far behind the live feed that the hub dropped it (ErrSlowSubscriber). The client should
// read afresh what it follows, then subscribe again.
const CodeSlowSubscriber = "SLOW_SUBSCRIBER"

// Limits of one WebSocket connection.
const (
	// MaxSubscriptionsPerConnection caps the subscriptions running at once on one connection;
	// one more is refused with an error message (INVALID, rule "subscriptions").
	MaxSubscriptionsPerConnection = 20
	// MaxSubscriptionMessageBytes caps one message from the client; a larger one closes the
	// connection with 1009 (message too big).
	MaxSubscriptionMessageBytes = 64 << 10
	// ConnectionInitTimeout is how long a client has to send connection_init; then 4408.
	ConnectionInitTimeout = 10 * time.Second
	// MaxConnectionsPerUser caps the signed-in WebSocket connections of one user, across the
	// hub; connection_init on one more closes it with 1008 (policy violation), which the npm
	// client does not retry.
	MaxConnectionsPerUser = 8
)

// wsLimits are the limits and timers of WebSocket connections; zero fields take the defaults.
type wsLimits struct {
	initTimeout      time.Duration
	maxSubscriptions int
	maxMessageBytes  int64
	writeTimeout     time.Duration // a write that takes longer drops the connection
	pingInterval     time.Duration // how often an idle peer is pinged, and how long it has to answer
	maxPerUser       int           // signed-in connections per user
}

// withDefaults fills in the zero fields.
func (l wsLimits) withDefaults() wsLimits {
	if l.initTimeout <= 0 {
		l.initTimeout = ConnectionInitTimeout
	}
	if l.maxSubscriptions <= 0 {
		l.maxSubscriptions = MaxSubscriptionsPerConnection
	}
	if l.maxMessageBytes <= 0 {
		l.maxMessageBytes = MaxSubscriptionMessageBytes
	}
	if l.writeTimeout <= 0 {
		l.writeTimeout = 10 * time.Second
	}
	if l.pingInterval <= 0 {
		l.pingInterval = 30 * time.Second
	}
	if l.maxPerUser <= 0 {
		l.maxPerUser = MaxConnectionsPerUser
	}
	return l
}

// inMessage is a message from the client.
type inMessage struct {
	ID      *string         `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// outMessage is a message to the client.
type outMessage struct {
	ID      string      `json:"id,omitempty"`
	Type    string      `json:"type"`
	Payload interface{} `json:"payload,omitempty"`
}

// subscribePayload is the payload of a subscribe message.
type subscribePayload struct {
	Query         *string                `json:"query"`
	Variables     map[string]interface{} `json:"variables"`
	OperationName *string                `json:"operationName"`
	Extensions    map[string]interface{} `json:"extensions"`
}

// nextPayload is the execution result a next message carries.
type nextPayload struct {
	Data   interface{} `json:"data"`
	Errors []outError  `json:"errors,omitempty"`
}

// isObjectOrNull reports whether raw is absent, null or a JSON object.
func isObjectOrNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || strings.HasPrefix(s, "{")
}

// parseMessage decodes and checks a client message as graphql-ws does; an error closes the
// connection with 4400.
func parseMessage(data []byte) (inMessage, *subscribePayload, error) {
	var m inMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return m, nil, err
	}
	switch m.Type {
	case msgConnectionInit, msgPing, msgPong:
		if !isObjectOrNull(m.Payload) {
			return m, nil, errors.New("payload must be an object")
		}
		return m, nil, nil
	case msgComplete:
		if m.ID == nil || *m.ID == "" {
			return m, nil, errors.New("complete needs an id")
		}
		return m, nil, nil
	case msgSubscribe:
		if m.ID == nil || *m.ID == "" {
			return m, nil, errors.New("subscribe needs an id")
		}
		if !strings.HasPrefix(strings.TrimSpace(string(m.Payload)), "{") {
			return m, nil, errors.New("subscribe needs a payload object")
		}
		var p subscribePayload
		if err := json.Unmarshal(m.Payload, &p); err != nil || p.Query == nil {
			return m, nil, errors.New("subscribe payload needs a query string")
		}
		return m, &p, nil
	}
	return m, nil, fmt.Errorf("unknown message type %q", m.Type)
}

// serveWebSocket serves one graphql-transport-ws connection until the client leaves, a
// protocol error closes it, or the hub closes.
func (h *handler) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	hub := h.s.cfg.Hub
	if !hub.enter() {
		http.Error(w, "The server is shutting down.", http.StatusServiceUnavailable)
		return
	}
	defer hub.leave()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsSubprotocol}})
	if err != nil {
		return // Accept has answered
	}
	lim := h.ws.withDefaults()
	c.SetReadLimit(lim.maxMessageBytes)
	// The request's context must not be used after the hijack; the connection has its own.
	ctx, cancel := context.WithCancel(context.Background())
	conn := &wsConn{h: h, c: c, lim: lim, ctx: ctx, cancel: cancel, closed: make(chan struct{}),
		ops: map[string]*operation{}}
	defer conn.end()

	if c.Subprotocol() != wsSubprotocol {
		conn.close(closeSubprotocol, "Subprotocol not acceptable")
		return
	}
	initTimer := time.AfterFunc(lim.initTimeout, func() {
		if !conn.initReceived.Load() {
			conn.close(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	defer initTimer.Stop()
	stopHub := context.AfterFunc(hub.done(), func() { conn.close(websocket.StatusGoingAway, "Server shutting down") })
	defer stopHub()
	conn.wg.Add(1)
	go conn.keepAlive()
	conn.readLoop()
}

// wsConn is one WebSocket connection.
type wsConn struct {
	h   *handler
	c   *websocket.Conn
	lim wsLimits

	// ctx is the parent of the subscriptions' contexts; cancelled when the connection starts
	// to close. Reads and writes never use it: a cancelled context makes coder/websocket drop
	// the connection without its close frame.
	ctx    context.Context
	cancel context.CancelFunc

	closing atomic.Bool
	closed  chan struct{} // closed once the closing goroutine is done with the connection

	initReceived atomic.Bool
	// Set by the reading goroutine at connection_init, before any subscription starts.
	acked   bool
	claimed bool // the connection counts towards its user's MaxConnectionsPerUser
	user    *courtside.User
	secret  string

	mu  sync.Mutex
	ops map[string]*operation
	wg  sync.WaitGroup // the keep-alive and the subscriptions
}

// close closes the connection with code and reason, once; later calls do nothing. It cancels
// the subscriptions first, so that nothing more is sent.
func (conn *wsConn) close(code websocket.StatusCode, reason string) {
	if conn.closing.Swap(true) {
		return
	}
	conn.cancel()
	conn.c.Close(code, reason)
	close(conn.closed)
}

// closeNow drops the connection without a close handshake, once.
func (conn *wsConn) closeNow() {
	if conn.closing.Swap(true) {
		return
	}
	conn.cancel()
	conn.c.CloseNow()
	close(conn.closed)
}

// end runs when the reading goroutine stops: it closes the connection if nobody has, and
// waits for the closing and for every goroutine of the connection.
func (conn *wsConn) end() {
	conn.closeNow()
	<-conn.closed
	conn.wg.Wait()
	if conn.claimed {
		conn.h.s.cfg.Hub.releaseUser(conn.user.ID)
	}
}

// send writes one message, within the write timeout.
func (conn *wsConn) send(m outMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		logInternal(conn.ctx, conn.h.s.cfg.Logger, fmt.Errorf("graph: encode %s message: %w", m.Type, err))
		b, _ = json.Marshal(outMessage{ID: m.ID, Type: msgError, Payload: outErrors([]gqlerrors.FormattedError{
			formatted(&Error{Code: CodeInternal, Message: internalMessage})})})
	}
	ctx, cancel := context.WithTimeout(context.Background(), conn.lim.writeTimeout)
	defer cancel()
	return conn.c.Write(ctx, websocket.MessageText, b)
}

// keepAlive pings the peer every ping interval and drops the connection when a pong does not
// come back within the next one: TCP alone may take many minutes to notice a vanished peer.
func (conn *wsConn) keepAlive() {
	defer conn.wg.Done()
	t := time.NewTicker(conn.lim.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-conn.ctx.Done():
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), conn.lim.pingInterval)
			err := conn.c.Ping(ctx)
			cancel()
			if err != nil {
				conn.closeNow()
				return
			}
		}
	}
}

// readLoop reads and handles messages until the connection closes.
func (conn *wsConn) readLoop() {
	for {
		typ, data, err := conn.c.Read(context.Background())
		if err != nil {
			return // the peer left, we closed, or the message was too big (1009 sent)
		}
		if typ != websocket.MessageText {
			conn.close(closeBadRequest, "Invalid message received")
			return
		}
		m, sub, err := parseMessage(data)
		if err != nil {
			conn.close(closeBadRequest, "Invalid message received")
			return
		}
		if !conn.handle(m, sub) {
			return
		}
	}
}

// handle answers one message; false when it closed the connection.
func (conn *wsConn) handle(m inMessage, sub *subscribePayload) bool {
	switch m.Type {
	case msgConnectionInit:
		if conn.initReceived.Swap(true) {
			conn.close(closeTooManyInits, "Too many initialisation requests")
			return false
		}
		return conn.connectionInit(m.Payload)
	case msgPing:
		pong := outMessage{Type: msgPong}
		if s := strings.TrimSpace(string(m.Payload)); s != "" && s != "null" {
			pong.Payload = m.Payload
		}
		conn.send(pong)
	case msgPong:
	case msgSubscribe:
		if !conn.acked {
			conn.close(closeUnauthorized, "Unauthorized")
			return false
		}
		return conn.subscribe(*m.ID, sub)
	case msgComplete:
		conn.mu.Lock()
		op := conn.ops[*m.ID]
		delete(conn.ops, *m.ID)
		conn.mu.Unlock()
		if op != nil {
			op.cancel() // the client stopped listening: nothing more is sent for this id
		}
	}
	return true
}

// bearerFromPayload returns the secret of connection_init's payload: {"authorization":
// "Bearer <token>"} (the key in any letter case) or {"token": "<token>"}.
func bearerFromPayload(payload json.RawMessage) (string, bool) {
	var p map[string]interface{}
	if err := json.Unmarshal(payload, &p); err != nil || p == nil {
		return "", false
	}
	var auth []string
	for k, v := range p {
		if strings.EqualFold(k, "authorization") {
			s, ok := v.(string)
			if !ok {
				return "", false
			}
			auth = append(auth, s)
		}
	}
	switch {
	case len(auth) > 1:
		return "", false
	case len(auth) == 1:
		scheme, secret, ok := strings.Cut(strings.TrimSpace(auth[0]), " ")
		secret = strings.TrimSpace(secret)
		return secret, ok && strings.EqualFold(scheme, "Bearer") && secret != ""
	}
	secret, _ := p["token"].(string)
	secret = strings.TrimSpace(secret)
	return secret, secret != ""
}

// connectionInit authenticates connection_init with the same tokens as HTTP (API tokens and
// session tokens) and acknowledges it; a missing or bad token closes with 4403.
func (conn *wsConn) connectionInit(payload json.RawMessage) bool {
	secret, ok := bearerFromPayload(payload)
	if !ok {
		conn.close(closeForbidden, "Forbidden")
		return false
	}
	user, err := conn.h.s.authenticateSecret(conn.ctx, secret)
	if err != nil || user == nil {
		if err != nil && courtside.ErrorCode(err) == courtside.EINTERNAL {
			logInternal(conn.ctx, conn.h.s.cfg.Logger, err)
			conn.close(closeInternal, "Internal server error")
			return false
		}
		conn.close(closeForbidden, "Forbidden")
		return false
	}
	if !conn.h.s.cfg.Hub.claimUser(user.ID, conn.lim.maxPerUser) {
		conn.close(websocket.StatusPolicyViolation, "Too many connections for this user")
		return false
	}
	conn.user, conn.secret, conn.acked, conn.claimed = user, secret, true, true
	return conn.send(outMessage{Type: msgConnectionAck}) == nil
}

// recheck authenticates the connection's token again, so that a revoked token or an ended
// session stops a running subscription at its next event (a session's idle timeout is
// extended by it, as by any request). It returns EUNAUTHORIZED as well when the token's user
// is no longer the same user in the same role and organisation.
func (conn *wsConn) recheck(ctx context.Context) error {
	user, err := conn.h.s.authenticateSecret(ctx, conn.secret)
	if err != nil {
		return err
	}
	if user == nil || user.ID != conn.user.ID || user.Role != conn.user.Role || user.OrganizationID != conn.user.OrganizationID {
		return courtside.Errorf(courtside.EUNAUTHORIZED, "The user has changed; sign in again.")
	}
	return nil
}

// sendErrors sends an error message for id: the operation is over.
func (conn *wsConn) sendErrors(id string, errs []gqlerrors.FormattedError) {
	conn.send(outMessage{ID: id, Type: msgError, Payload: outErrors(errs)})
}

// subscribe starts the subscription id, or answers why not; false when it closed the
// connection.
func (conn *wsConn) subscribe(id string, p *subscribePayload) bool {
	conn.mu.Lock()
	_, exists := conn.ops[id]
	running := len(conn.ops)
	conn.mu.Unlock()
	if exists {
		reason := "Subscriber for " + id + " already exists"
		if len(reason) > 120 {
			reason = "Subscriber already exists"
		}
		conn.close(closeSubscriberExists, reason)
		return false
	}
	if running >= conn.lim.maxSubscriptions {
		conn.sendErrors(id, []gqlerrors.FormattedError{formatted(&Error{Code: CodeInvalid, Rule: "subscriptions",
			Message: fmt.Sprintf("At most %d subscriptions may run on one connection; complete one first.", conn.lim.maxSubscriptions)})})
		return true
	}
	req := request{Query: *p.Query, Variables: p.Variables}
	if p.OperationName != nil {
		req.OperationName = *p.OperationName
	}
	if errs := conn.h.validateSubscription(req); len(errs) > 0 {
		conn.sendErrors(id, errs)
		return true
	}

	op := &operation{conn: conn, id: id, req: req}
	ctx := courtside.NewContextWithUser(conn.ctx, conn.user)
	ctx = context.WithValue(conn.h.s.withLoaders(ctx), operationKey{}, op)
	op.ctx, op.cancel = context.WithCancel(ctx)
	conn.mu.Lock()
	conn.ops[id] = op
	conn.mu.Unlock()
	conn.wg.Add(1)
	go op.run()
	return true
}

// validateSubscription parses and validates a subscription as the HTTP handler does an
// operation (nesting, our limits, then the specification's rules), and adds what graphql-go
// does not check: the operation is a subscription with exactly one root field.
func (h *handler) validateSubscription(req request) []gqlerrors.FormattedError {
	one := func(e *Error) []gqlerrors.FormattedError { return []gqlerrors.FormattedError{formatted(e)} }
	if strings.TrimSpace(req.Query) == "" {
		return one(invalid("query", "The query is missing."))
	}
	if !nestingOK(req.Query, h.maxNesting) {
		return one(&Error{Code: CodeInvalid, Rule: "depth", Message: fmt.Sprintf("The document nests brackets more than %d deep.", h.maxNesting)})
	}
	doc, errs := parseDocument(req.Query)
	if errs != nil {
		return errs
	}
	op := selectOperation(doc, req.OperationName)
	if op == nil {
		return one(invalid("operationName", "Name the operation to run with operationName: the document has none of that name, or several."))
	}
	if op.Operation != ast.OperationTypeSubscription {
		return one(invalid("", "Only subscriptions run over WebSocket; send queries and mutations by POST."))
	}
	if sel := op.SelectionSet; sel == nil || len(sel.Selections) != 1 {
		return one(invalid("", "A subscription selects exactly one root field."))
	} else if f, ok := sel.Selections[0].(*ast.Field); !ok || len(f.Directives) > 0 || f.Name == nil || strings.HasPrefix(f.Name.Value, "__") {
		return one(invalid("", "A subscription selects exactly one root field, without directives or fragments."))
	}
	if errs := h.validate(doc); errs != nil {
		return errs
	}
	if e := h.checkNodes(doc, req); e != nil {
		return one(e)
	}
	return nil
}

// operationKey is the context key of a subscription's operation.
type operationKey struct{}

// operation is one running subscription of a connection.
type operation struct {
	conn   *wsConn
	id     string
	req    request
	ctx    context.Context // carries the user, the loaders and the operation itself
	cancel context.CancelFunc

	// started is set once the subscription resolver has joined the hub: from then on every
	// result graphql-go sends is the result of an event.
	started atomic.Bool
	source  sync.WaitGroup // the source goroutine

	mu       sync.Mutex
	setupErr *Error // why the subscription resolver refused
	endErr   *Error // why the source ended early
	errored  bool   // an error message was sent: no complete follows
}

// fail records why the subscription resolver refused, for the error message.
func (op *operation) fail(e *Error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.setupErr = e
}

// stop records why the source ended before the client completed.
func (op *operation) stop(e *Error) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if op.endErr == nil {
		op.endErr = e
	}
}

// run executes the subscription with graphql.Subscribe and sends its results until it ends,
// the client completes it or the connection closes.
func (op *operation) run() {
	conn := op.conn
	defer conn.wg.Done()
	defer op.release()
	results := graphql.Subscribe(graphql.Params{
		Schema:         conn.h.schema,
		RequestString:  op.req.Query,
		VariableValues: op.req.Variables,
		OperationName:  op.req.OperationName,
		Context:        op.ctx,
	})
	op.serve(results)
	// Whatever ended it, stop the source and graphql-go and wait for both. Once results is
	// closed, graphql-go's goroutine has returned, after the resolver's source.Add if any.
	op.cancel()
	for range results { // graphql-go#758: its goroutine may be blocked sending us a result
	}
	op.source.Wait()
}

// release frees the operation's id, so that the client may use it again. It runs before the
// error or complete message that ends the operation, which tells the client the id is free.
func (op *operation) release() {
	op.conn.mu.Lock()
	defer op.conn.mu.Unlock()
	if op.conn.ops[op.id] == op {
		delete(op.conn.ops, op.id)
	}
}

// serve sends the results until graphql-go closes the channel or the operation is cancelled.
func (op *operation) serve(results <-chan *graphql.Result) {
	for {
		select {
		case <-op.ctx.Done():
			return
		case res, ok := <-results:
			if !ok {
				op.finish()
				return
			}
			op.deliver(res)
		}
	}
}

// deliver sends one result of graphql-go: an event's result as next; before the subscription
// started, the reason it did not as error.
func (op *operation) deliver(res *graphql.Result) {
	conn := op.conn
	if op.ctx.Err() != nil {
		return
	}
	logger := conn.h.s.cfg.Logger
	if !op.started.Load() {
		op.mu.Lock()
		op.errored = true
		setupErr := op.setupErr
		op.mu.Unlock()
		var errs []gqlerrors.FormattedError
		if setupErr != nil {
			errs = []gqlerrors.FormattedError{formatted(setupErr)}
		} else {
			for _, fe := range res.Errors {
				errs = append(errs, classify(op.ctx, logger, fe))
			}
			if len(errs) == 0 {
				errs = []gqlerrors.FormattedError{classify(op.ctx, logger, gqlerrors.NewFormattedError("subscription produced no source"))}
			}
		}
		op.release()
		conn.sendErrors(op.id, errs)
		return
	}
	p := nextPayload{Data: res.Data}
	if len(res.Errors) > 0 {
		errs := make([]gqlerrors.FormattedError, 0, len(res.Errors))
		for _, fe := range res.Errors {
			errs = append(errs, classify(op.ctx, logger, fe))
		}
		p.Errors = outErrors(errs)
	}
	conn.send(outMessage{ID: op.id, Type: msgNext, Payload: p})
}

// finish tells the client that the subscription ended by itself: complete, or error when
// the source ended it early.
func (op *operation) finish() {
	if op.ctx.Err() != nil {
		return // the client completed it, or the connection is closing
	}
	op.mu.Lock()
	errored, endErr := op.errored, op.endErr
	op.mu.Unlock()
	op.release()
	switch {
	case errored:
	case endErr != nil:
		op.conn.sendErrors(op.id, []gqlerrors.FormattedError{formatted(endErr)})
	default:
		op.conn.send(outMessage{ID: op.id, Type: msgComplete})
	}
}
