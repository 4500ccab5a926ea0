package notifytest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"courtside/notify"
)

// SMSMessage is one message an SMSGateway accepted.
type SMSMessage struct {
	To, From, Body string
	// IdempotencyKey is the Idempotency-Key header.
	IdempotencyKey string
	// SID is the message SID the gateway answered with.
	SID string
	// StatusCallback is the URL the sender asked delivery receipts to be posted to, or "".
	StatusCallback string
}

// SMSGatewayOptions configures StartSMSGateway.
type SMSGatewayOptions struct {
	// Addr is the address to listen on; "" means 127.0.0.1:0.
	Addr string
	// AccountSID and AuthToken are the Basic auth credentials; "" means generated ones.
	AccountSID, AuthToken string
	// BasePath is the API version path; "" means /2010-04-01.
	BasePath string
}

// SMSGateway is an HTTP server of the Messages API shape that records the messages it
// accepts: POST {base}/Accounts/{sid}/Messages.json with form fields To, From and Body and
// HTTP Basic auth. It answers 201 with a JSON message resource, 401 for wrong credentials,
// 400 (code 21211) for a To that is not E.164 or a missing field, and 404 for other paths.
type SMSGateway struct {
	server *httptest.Server
	opts   SMSGatewayOptions
	rec    recorder[SMSMessage]
}

// NewSMSGateway starts a gateway on 127.0.0.1:0, closed when the test ends.
func NewSMSGateway(tb testing.TB) *SMSGateway {
	tb.Helper()
	g, err := StartSMSGateway(SMSGatewayOptions{})
	if err != nil {
		tb.Fatalf("notifytest: start SMS gateway: %v", err)
	}
	tb.Cleanup(g.Close)
	return g
}

// StartSMSGateway starts a gateway; the caller closes it.
func StartSMSGateway(opts SMSGatewayOptions) (*SMSGateway, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.AccountSID == "" {
		opts.AccountSID = "AC" + randomHex(16)
	}
	if opts.AuthToken == "" {
		opts.AuthToken = randomHex(16)
	}
	if opts.BasePath == "" {
		opts.BasePath = "/2010-04-01"
	}
	g := &SMSGateway{opts: opts}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	g.server = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.server.Listener.Close()
	g.server.Listener = l
	g.server.Start()
	return g, nil
}

// Close stops the gateway.
func (g *SMSGateway) Close() { g.server.Close() }

// URL returns the base URL with the credentials: http://SID:TOKEN@addr/2010-04-01.
func (g *SMSGateway) URL() string {
	u, _ := url.Parse(g.server.URL + g.opts.BasePath)
	u.User = url.UserPassword(g.opts.AccountSID, g.opts.AuthToken)
	return u.String()
}

// AccountSID returns the account SID the gateway accepts.
func (g *SMSGateway) AccountSID() string { return g.opts.AccountSID }

// Messages returns copies of the accepted messages, oldest first.
func (g *SMSGateway) Messages() []SMSMessage {
	return g.rec.snapshot(func(m SMSMessage) SMSMessage { return m })
}

// WaitMessages returns once at least n messages are accepted, or with ctx's error.
func (g *SMSGateway) WaitMessages(ctx context.Context, n int) ([]SMSMessage, error) {
	return g.rec.wait(ctx, n, func(m SMSMessage) SMSMessage { return m })
}

// FailNext makes the gateway answer the next n authenticated requests with status (503
// for a temporary failure, 400 for a refusal, ...) without recording them.
func (g *SMSGateway) FailNext(n, status int) { g.rec.setFailure(n, status) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func gatewayError(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, map[string]any{"code": code, "message": message, "status": status})
}

func (g *SMSGateway) serve(w http.ResponseWriter, r *http.Request) {
	want := g.opts.BasePath + "/Accounts/" + g.opts.AccountSID + "/Messages.json"
	if !strings.HasPrefix(r.URL.Path, g.opts.BasePath+"/Accounts/") {
		gatewayError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(g.opts.AccountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(g.opts.AuthToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="notifytest"`)
		gatewayError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.URL.Path != want {
		gatewayError(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		gatewayError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		gatewayError(w, http.StatusUnsupportedMediaType, 20415, "Expected a form")
		return
	}
	if status := g.rec.takeFailure(); status != 0 {
		gatewayError(w, status, 30000+status, "notifytest: failure requested")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		gatewayError(w, http.StatusBadRequest, 20001, "Malformed form")
		return
	}
	m := SMSMessage{
		To:             r.PostForm.Get("To"),
		From:           r.PostForm.Get("From"),
		Body:           r.PostForm.Get("Body"),
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		StatusCallback: r.PostForm.Get("StatusCallback"),
	}
	if m.From == "" || m.Body == "" {
		gatewayError(w, http.StatusBadRequest, 21603, "A 'From' and a 'Body' are required")
		return
	}
	if !isE164(m.To) {
		gatewayError(w, http.StatusBadRequest, 21211, "The 'To' number is not a valid phone number")
		return
	}
	m.SID = "SM" + randomHex(16)
	g.rec.add(m)
	writeJSON(w, http.StatusCreated, map[string]any{
		"sid": m.SID, "account_sid": g.opts.AccountSID, "to": m.To, "from": m.From, "body": m.Body,
		"status": "queued", "uri": fmt.Sprintf("%s/Accounts/%s/Messages/%s.json", g.opts.BasePath, g.opts.AccountSID, m.SID),
	})
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AuthToken returns the auth token the gateway accepts, which also signs its callbacks (set
// COURTSIDE_SMS_INBOUND_SECRET to it).
func (g *SMSGateway) AuthToken() string { return g.opts.AuthToken }

// CallbackAnswer is what a callback the gateway posted was answered with.
type CallbackAnswer struct {
	Status int
	Body   string
	// MessageSID is the SID of the inbound message or of the receipt's message.
	MessageSID string
	// Form is the callback as posted, for replaying it.
	Form url.Values
}

// Inbound posts, as the gateway does when a text message arrives, an inbound message from
// number from with body to hookURL (Courtside's /hooks/sms), signed with the auth token, and
// returns the answer. Each call is a new message with a new SID.
func (g *SMSGateway) Inbound(ctx context.Context, hookURL, from, body string) (CallbackAnswer, error) {
	form := url.Values{"MessageSid": {"SM" + randomHex(16)}, "AccountSid": {g.opts.AccountSID}, "From": {from},
		"To": {"+15550000000"}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"},
		"ApiVersion": {strings.TrimPrefix(g.opts.BasePath, "/")}}
	return g.Post(ctx, hookURL, form, true)
}

// Report posts, as the gateway does, a delivery receipt with status (delivered, undelivered,
// failed, sent, ...) and errorCode for the accepted message sid to the StatusCallback it was
// sent with, signed with the auth token.
func (g *SMSGateway) Report(ctx context.Context, sid, status, errorCode string) (CallbackAnswer, error) {
	var callback, to string
	for _, m := range g.Messages() {
		if m.SID == sid {
			callback, to = m.StatusCallback, m.To
		}
	}
	if callback == "" {
		return CallbackAnswer{}, fmt.Errorf("notifytest: no message %s with a StatusCallback", sid)
	}
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {g.opts.AccountSID}, "MessageStatus": {status},
		"SmsStatus": {status}, "To": {to}, "From": {"+15550000000"}, "ApiVersion": {strings.TrimPrefix(g.opts.BasePath, "/")}}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	return g.Post(ctx, callback, form, true)
}

// Post posts form to rawURL as a callback of the gateway, signed with the auth token when
// signed is true, and returns the answer: for replaying a callback, or forging one.
func (g *SMSGateway) Post(ctx context.Context, rawURL string, form url.Values, signed bool) (CallbackAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return CallbackAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signed {
		req.Header.Set(notify.SMSSignatureHeader, notify.SMSSignature(g.opts.AuthToken, rawURL, form))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return CallbackAnswer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return CallbackAnswer{Status: resp.StatusCode, Body: string(body), MessageSID: form.Get("MessageSid"), Form: form}, err
}
