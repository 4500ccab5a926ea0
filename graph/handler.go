// Package graph serves Courtside's GraphQL API (github.com/graphql-go/graphql): the schema
// (docs/schema.graphql), its resolvers over the root package's services, and an HTTP handler.
//
// The handler is its own, not graphql-go/handler: operations only by POST with
// application/json, a body limit, depth, alias and cost limits, a budget of returned objects,
// a deadline per request, a bound on the answer's size, introspection that can be switched
// off, and every error with extensions.code.
package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/location"
)

// Defaults of Config's limits.
const (
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxDepth         = 12
	DefaultMaxAliases       = 30
	DefaultMaxFields        = 1000
	DefaultMaxNodes         = 100_000
	DefaultRequestTimeout   = 30 * time.Second
	DefaultMaxResponseBytes = 16 << 20
)

// Config is what NewHandler needs: the services the resolvers call, and the limits.
type Config struct {
	Users          courtside.UserService
	Tokens         courtside.TokenService
	Courts         courtside.CourtService
	Cases          courtside.CaseService
	Hearings       courtside.HearingService
	Victims        courtside.VictimService
	Accompaniments courtside.AccompanimentService
	Sessions       courtside.SessionService
	Imports        courtside.ImportService
	Deliveries     courtside.DeliveryService
	Bookings       courtside.BookingService
	Coordination   courtside.CoordinationService
	Requests       courtside.RequestService
	// AuditLog serves Query.auditLog to admins; nil answers it with an internal error.
	AuditLog AuditLogService
	// Reports serves Query.caseloadReport; nil answers it with an internal error.
	Reports courtside.ReportService

	// BaseURL is the service's public URL, for the feed URLs createFeedToken returns.
	BaseURL string

	// Logger receives internal errors (never victim PII or secrets). Nil discards them.
	Logger *slog.Logger

	// MaxBodyBytes caps a request body; larger ones answer 413. Zero means 1 MiB.
	MaxBodyBytes int64
	// MaxDepth caps how deeply fields nest; a root field is at depth 1. Zero means 12.
	MaxDepth int
	// MaxAliases caps the aliased fields of an operation, fragments expanded. Zero means 30.
	MaxAliases int
	// MaxFields caps the field selections of an operation, fragments expanded (a simple cost
	// limit). Zero means 1000.
	MaxFields int
	// MaxNodes caps the objects an operation could return in the worst case: each list field
	// counted at its `first` or its cap, multiplied down the nesting (limits.go). Zero means
	// 100,000.
	MaxNodes int
	// RequestTimeout is each request's deadline, from its arrival to its answer; the work
	// stops when it passes (TIMEOUT) or when the client goes away. Zero means 30 s.
	RequestTimeout time.Duration
	// MaxResponseBytes caps an answer's JSON; a larger one is replaced by an INVALID error
	// (rule "response"). Zero means 16 MiB.
	MaxResponseBytes int
	// Introspection allows __schema and __type queries.
	Introspection bool

	// Hub is the live feed of subscriptions, served over WebSocket (graphql-transport-ws) on
	// GET. Nil switches subscriptions off: the WebSocket upgrade answers 501.
	Hub *Hub

	// MaxConcurrentQueries caps how many queries validate and execute at once; the others wait
	// their turn in arrival order. Mutations never wait for a turn, so that a write is not held
	// up behind CPU-bound reads. Zero means no cap.
	MaxConcurrentQueries int
}

// handler serves GraphQL over HTTP.
type handler struct {
	s      *server
	schema graphql.Schema
	// limits run first: the specification's rules are only safe on documents they passed.
	limits     []graphql.ValidationRuleFn
	maxNesting int
	ws         wsLimits      // of WebSocket connections; zero fields take the defaults
	queries    chan struct{} // a slot per query executing (Config.MaxConcurrentQueries); nil: no cap
}

// clientAddr returns the client's address for r: the one ctx carries (set by the server in
// front, which knows whether a proxy is trusted), else the connection's peer.
func clientAddr(ctx context.Context, r *http.Request) string {
	if addr := courtside.ClientAddrFromContext(ctx); addr != "" {
		return addr
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// NewHandler returns the GraphQL HTTP handler: POST application/json runs an operation
// ({query, variables, operationName}); GET serves a small query page, or with Config.Hub
// upgrades to WebSocket for subscriptions (subscription.go). A request with
// "Authorization: Bearer <API token>" runs as the token's user; one without runs anonymously,
// and every field that needs a user answers UNAUTHENTICATED.
func NewHandler(cfg Config) (http.Handler, error) {
	for name, svc := range map[string]interface{}{
		"Users": cfg.Users, "Tokens": cfg.Tokens, "Courts": cfg.Courts, "Cases": cfg.Cases,
		"Hearings": cfg.Hearings, "Victims": cfg.Victims, "Accompaniments": cfg.Accompaniments,
		"Sessions": cfg.Sessions, "Imports": cfg.Imports, "Deliveries": cfg.Deliveries, "Bookings": cfg.Bookings,
		"Coordination": cfg.Coordination,
	} {
		if svc == nil {
			return nil, fmt.Errorf("graph: Config.%s is required", name)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.MaxAliases <= 0 {
		cfg.MaxAliases = DefaultMaxAliases
	}
	if cfg.MaxFields <= 0 {
		cfg.MaxFields = DefaultMaxFields
	}
	if cfg.MaxNodes <= 0 {
		cfg.MaxNodes = DefaultMaxNodes
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	s := &server{cfg: cfg}
	schema, err := s.newSchema()
	if err != nil {
		return nil, fmt.Errorf("graph: schema: %w", err)
	}
	capLists(&schema)
	limits := []graphql.ValidationRuleFn{limitsRule(cfg.MaxDepth, cfg.MaxAliases, cfg.MaxFields)}
	if !cfg.Introspection {
		limits = append(limits, noIntrospectionRule)
	}
	h := &handler{s: s, schema: schema, limits: limits, maxNesting: 2*cfg.MaxDepth + 32}
	if cfg.MaxConcurrentQueries > 0 {
		h.queries = make(chan struct{}, cfg.MaxConcurrentQueries)
	}
	return h, nil
}

// ServeHTTP dispatches on the method.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.serveOperation(w, r)
	case http.MethodGet, http.MethodHead:
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			if h.s.cfg.Hub == nil {
				http.Error(w, "Subscriptions over WebSocket are not available.", http.StatusNotImplemented)
				return
			}
			h.serveWebSocket(w, r)
			return
		}
		servePage(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeErrors(w, http.StatusMethodNotAllowed, invalid("", "Send GraphQL operations by POST with Content-Type: application/json."))
	}
}

// request is the body of a POST.
type request struct {
	Query         string                 `json:"query"`
	Variables     map[string]interface{} `json:"variables"`
	OperationName string                 `json:"operationName"`
}

// serveOperation runs one operation: content type, body limit, authentication, parse,
// validate, count, execute, within the request's deadline.
func (h *handler) serveOperation(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.s.cfg.RequestTimeout)
	defer cancel()
	ctx = courtside.NewContextWithClientAddr(ctx, clientAddr(ctx, r))
	logger := h.s.cfg.Logger
	defer func() {
		if rec := recover(); rec != nil {
			writeErrors(w, http.StatusInternalServerError, recoverError(ctx, logger, rec))
		}
	}()

	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "application/json" || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		writeErrors(w, http.StatusUnsupportedMediaType, invalid("", "Send GraphQL operations with Content-Type: application/json."))
		return
	}
	limit := h.s.cfg.MaxBodyBytes
	tooLarge := invalid("", "The request body is larger than %d bytes.", limit)
	if r.ContentLength > limit {
		writeErrors(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}

	ctx, status, gerr := h.authenticate(ctx, r)
	if gerr != nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="courtside", error="invalid_token"`)
		}
		writeErrors(w, status, gerr)
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeErrors(w, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		writeErrors(w, http.StatusBadRequest, invalid("", "The request body could not be read."))
		return
	}
	var req request
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		writeErrors(w, http.StatusBadRequest, invalid("", "Batched requests are not supported; send one operation per request."))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil || dec.More() {
		writeErrors(w, http.StatusBadRequest, invalid("", "The body must be one JSON object {query, variables, operationName}."))
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeErrors(w, http.StatusBadRequest, invalid("query", "The query is missing."))
		return
	}

	st := &requestStats{}
	res := h.execute(context.WithValue(h.s.withLoaders(ctx), statsKey{}, st), req)
	if err := ctx.Err(); err != nil && (res.stoppedEarly || res.ran && (st.skipped.Load() > 0 || cutShort(res.errors))) {
		if res.ran {
			res.errors = oneStopped(res.errors, err)
		}
		logStopped(logger, err, req.OperationName, st)
	}
	h.writeResult(w, res)
}

// logStopped logs an operation that its request's end stopped (or kept from starting), once
// the work has stopped: why, and how many fields it resolved and refused.
func logStopped(logger *slog.Logger, err error, operation string, st *requestStats) {
	reason := "client gone"
	if errors.Is(err, context.DeadlineExceeded) {
		reason = "deadline"
	}
	logger.Info("graphql: operation stopped", slog.String("reason", reason), slog.String("operation", operation),
		slog.Int64("resolved", st.resolved.Load()), slog.Int64("refused", st.skipped.Load()))
}

// cutShort reports whether errs hold a field that failed as its request ended: refused
// (TIMEOUT), or a lookup whose SQL saw the cancellation (INTERNAL).
func cutShort(errs []gqlerrors.FormattedError) bool {
	for _, fe := range errs {
		if c := fe.Extensions["code"]; c == CodeTimeout || c == CodeInternal {
			return true
		}
	}
	return false
}

// oneStopped replaces the errors of the fields left unresolved when the request ended by one.
func oneStopped(errs []gqlerrors.FormattedError, err error) []gqlerrors.FormattedError {
	out := errs[:0:0]
	for _, fe := range errs {
		if fe.Extensions["code"] != CodeTimeout && fe.Extensions["code"] != CodeInternal {
			out = append(out, fe)
		}
	}
	return append(out, formatted(stopped(err)))
}

// authenticate puts the user of the bearer token into ctx. No Authorization header is an
// anonymous request; a malformed or unknown token answers 401.
func (h *handler) authenticate(ctx context.Context, r *http.Request) (context.Context, int, *Error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return ctx, 0, nil
	}
	scheme, secret, ok := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return ctx, http.StatusUnauthorized, &Error{Code: CodeUnauthenticated, Message: "Authorization must be Bearer <API token or session token>."}
	}
	user, err := h.s.authenticateSecret(ctx, secret)
	if strings.HasPrefix(secret, sessionPrefix) {
		ctx = context.WithValue(ctx, sessionTokenKey{}, secret)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx, http.StatusServiceUnavailable, stopped(ctx.Err())
		}
		e := toError(ctx, h.s.cfg.Logger, err, "")
		if e.Code == CodeInternal {
			return ctx, http.StatusInternalServerError, e
		}
		return ctx, http.StatusUnauthorized, &Error{Code: CodeUnauthenticated, Message: "The token is unknown, expired or revoked."}
	}
	return courtside.NewContextWithUser(ctx, user), 0, nil
}

// result is a GraphQL response. Data is absent when the operation did not run.
type result struct {
	data     interface{}
	ran      bool
	mutation bool // the operation was a mutation
	// stoppedEarly: the request ended while the operation waited for its turn to run.
	stoppedEarly bool
	errors       []gqlerrors.FormattedError
}

// execute parses, validates (our limits, then the specification's rules) and executes one
// operation.
func (h *handler) execute(ctx context.Context, req request) result {
	logger := h.s.cfg.Logger
	if !nestingOK(req.Query, h.maxNesting) {
		return result{errors: []gqlerrors.FormattedError{formatted(&Error{Code: CodeInvalid, Rule: "depth",
			Message: fmt.Sprintf("The document nests brackets more than %d deep.", h.maxNesting)})}}
	}
	doc, errs := parseDocument(req.Query)
	if errs != nil {
		return result{errors: errs}
	}
	op := selectOperation(doc, req.OperationName)
	if op != nil && op.Operation == ast.OperationTypeSubscription {
		return result{errors: []gqlerrors.FormattedError{formatted(invalid("", "Subscriptions run over WebSocket: GET /graphql with subprotocol graphql-transport-ws."))}}
	}
	if h.queries != nil && (op == nil || op.Operation == ast.OperationTypeQuery) {
		select {
		case h.queries <- struct{}{}:
			defer func() { <-h.queries }()
		case <-ctx.Done():
			return result{errors: []gqlerrors.FormattedError{formatted(stopped(ctx.Err()))}, stoppedEarly: true}
		}
	}
	if errs := h.validate(doc); errs != nil {
		return result{errors: errs}
	}
	if e := h.checkNodes(doc, req); e != nil {
		return result{errors: []gqlerrors.FormattedError{formatted(e)}}
	}
	res := graphql.Execute(graphql.ExecuteParams{
		Schema:        h.schema,
		AST:           doc,
		OperationName: req.OperationName,
		Args:          req.Variables,
		Context:       withLive(ctx),
	})
	out := result{data: res.Data, ran: true}
	if op := selectOperation(doc, req.OperationName); op != nil && op.Operation == ast.OperationTypeMutation {
		out.mutation = true
	}
	for _, fe := range res.Errors {
		out.errors = append(out.errors, classify(ctx, logger, fe))
	}
	if res.Data == nil && len(out.errors) > 0 && isRequestError(out.errors) {
		out.ran = false // the operation never started: bad variables or operation name
	}
	return out
}

// checkNodes refuses the operation req runs when it could return more than MaxNodes objects.
func (h *handler) checkNodes(doc *ast.Document, req request) *Error {
	op := selectOperation(doc, req.OperationName)
	if op == nil {
		return nil // graphql-go refuses it
	}
	if n := countNodes(&h.schema, doc, op, req.Variables); n > int64(h.s.cfg.MaxNodes) {
		return nodesError(n, h.s.cfg.MaxNodes)
	}
	return nil
}

// isRequestError reports whether errs are about the request rather than its execution.
func isRequestError(errs []gqlerrors.FormattedError) bool {
	for _, fe := range errs {
		if fe.Extensions["code"] != CodeInvalid || len(fe.Path) > 0 {
			return false
		}
	}
	return true
}

// selectOperation returns the operation that will run, or nil when execution will refuse.
func selectOperation(doc *ast.Document, name string) *ast.OperationDefinition {
	var found *ast.OperationDefinition
	for _, def := range doc.Definitions {
		op, ok := def.(*ast.OperationDefinition)
		if !ok {
			continue
		}
		if name == "" {
			if found != nil {
				return nil
			}
			found = op
		} else if op.Name != nil && op.Name.Value == name {
			return op
		}
	}
	return found
}

// outError is one error of a response.
type outError struct {
	Message    string                    `json:"message"`
	Locations  []location.SourceLocation `json:"locations,omitempty"`
	Path       []interface{}             `json:"path,omitempty"`
	Extensions map[string]interface{}    `json:"extensions"`
}

// outErrors converts graphql-go errors to the response shape.
func outErrors(errs []gqlerrors.FormattedError) []outError {
	out := make([]outError, 0, len(errs))
	for _, fe := range errs {
		out = append(out, outError{Message: fe.Message, Locations: fe.Locations, Path: fe.Path, Extensions: fe.Extensions})
	}
	return out
}

// setJSONHeaders sets the headers of every JSON answer: nothing is cached, nothing sniffed.
func setJSONHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// writeResult writes a GraphQL response with status 200, as GraphQL over HTTP asks of
// application/json answers to well-formed requests; 429 with Retry-After when an attempt was
// refused as too frequent (RATE_LIMITED). An answer over MaxResponseBytes is replaced by an
// INVALID error.
func (h *handler) writeResult(w http.ResponseWriter, res result) {
	body := map[string]interface{}{}
	if res.ran {
		body["data"] = res.data
	}
	status, retry := http.StatusOK, 0
	if res.stoppedEarly {
		status = http.StatusServiceUnavailable // the operation never started
	}
	for _, fe := range res.errors {
		if fe.Extensions["code"] == CodeRateLimited {
			status = http.StatusTooManyRequests
			if n, ok := fe.Extensions["retryAfter"].(int); ok {
				retry = max(retry, n)
			}
		}
	}
	if len(res.errors) > 0 {
		body["errors"] = outErrors(res.errors)
	}
	b, err := json.Marshal(body)
	if err != nil {
		logInternal(context.Background(), h.s.cfg.Logger, fmt.Errorf("graph: encode answer: %w", err))
		writeErrors(w, http.StatusInternalServerError, &Error{Code: CodeInternal, Message: internalMessage})
		return
	}
	if limit := h.s.cfg.MaxResponseBytes; len(b) > limit {
		msg := fmt.Sprintf("The answer is larger than %d bytes; ask for fewer objects (first) or fewer fields.", limit)
		if res.mutation {
			msg += " The mutations ran all the same."
		}
		b, _ = json.Marshal(map[string]interface{}{"errors": outErrors([]gqlerrors.FormattedError{
			formatted(&Error{Code: CodeInvalid, Rule: "response", Message: msg})})})
	}
	setJSONHeaders(w)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, retry)))
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeErrors writes an answer that is not a GraphQL result: the HTTP status, and the error
// in the GraphQL shape so that clients read it the same way.
func writeErrors(w http.ResponseWriter, status int, e *Error) {
	setJSONHeaders(w)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]interface{}{"errors": outErrors([]gqlerrors.FormattedError{formatted(e)})})
}

//go:embed graphiql.html
var pageHTML string

// servePage serves the query page: self-contained, its script and style allowed by a nonce,
// and forbidden to be framed.
func servePage(w http.ResponseWriter, r *http.Request) {
	var b [18]byte
	rand.Read(b[:])
	nonce := base64.StdEncoding.EncodeToString(b[:])
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+
		"'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, strings.ReplaceAll(pageHTML, "{{NONCE}}", nonce))
}
