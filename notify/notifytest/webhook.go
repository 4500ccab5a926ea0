package notifytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"courtside/notify"
)

// WebhookDelivery is one webhook a WebhookReceiver accepted.
type WebhookDelivery struct {
	// ID is the webhook-id header: the message's idempotency key.
	ID string
	// Timestamp is the webhook-timestamp header.
	Timestamp string
	// Header is the request's header.
	Header http.Header
	// Body is the raw body.
	Body []byte
	// Payload is Body decoded.
	Payload notify.WebhookPayload
}

func cloneWebhookDelivery(d WebhookDelivery) WebhookDelivery {
	d.Header = d.Header.Clone()
	d.Body = bytes.Clone(d.Body)
	return d
}

// WebhookReceiverOptions configures StartWebhookReceiver.
type WebhookReceiverOptions struct {
	// Addr is the address to listen on; "" means 127.0.0.1:0.
	Addr string
	// Secret is the endpoint's secret; "" means a new one.
	Secret string
	// Tolerance is how far the webhook-timestamp may be from Now; 0 means 5 minutes.
	Tolerance time.Duration
	// Now is the receiver's clock; nil means time.Now.
	Now func() time.Time
}

// WebhookReceiver is an HTTP server that verifies webhooks with notify.VerifyWebhook and
// records the ones that pass. It answers 204 to a verified webhook, 401 to a bad signature
// or timestamp, 400 to a body that is not a payload, and 405 to anything but POST.
type WebhookReceiver struct {
	server *httptest.Server
	opts   WebhookReceiverOptions
	rec    recorder[WebhookDelivery]
	bad    recorder[struct{}]
}

// NewWebhookReceiver starts a receiver on 127.0.0.1:0 that verifies with secret ("" means a
// new one), closed when the test ends.
func NewWebhookReceiver(tb testing.TB, secret string) *WebhookReceiver {
	tb.Helper()
	r, err := StartWebhookReceiver(WebhookReceiverOptions{Secret: secret})
	if err != nil {
		tb.Fatalf("notifytest: start webhook receiver: %v", err)
	}
	tb.Cleanup(r.Close)
	return r
}

// StartWebhookReceiver starts a receiver; the caller closes it.
func StartWebhookReceiver(opts WebhookReceiverOptions) (*WebhookReceiver, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Secret == "" {
		opts.Secret = notify.NewWebhookSecret()
	}
	if opts.Tolerance == 0 {
		opts.Tolerance = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	wr := &WebhookReceiver{opts: opts}
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	wr.server = httptest.NewUnstartedServer(http.HandlerFunc(wr.serve))
	wr.server.Listener.Close()
	wr.server.Listener = l
	wr.server.Start()
	return wr, nil
}

// Close stops the receiver.
func (wr *WebhookReceiver) Close() { wr.server.Close() }

// URL returns the receiver's URL.
func (wr *WebhookReceiver) URL() string { return wr.server.URL + "/hooks/courtside" }

// Secret returns the secret the receiver verifies with.
func (wr *WebhookReceiver) Secret() string { return wr.opts.Secret }

// Endpoint returns the receiver as a notify.Endpoint.
func (wr *WebhookReceiver) Endpoint() *notify.Endpoint {
	return &notify.Endpoint{URL: wr.URL(), Secret: wr.opts.Secret}
}

// Deliveries returns copies of the verified webhooks, oldest first.
func (wr *WebhookReceiver) Deliveries() []WebhookDelivery {
	return wr.rec.snapshot(cloneWebhookDelivery)
}

// Messages is Deliveries, named like the other sinks' method.
func (wr *WebhookReceiver) Messages() []WebhookDelivery { return wr.Deliveries() }

// WaitMessages returns once at least n webhooks are verified, or with ctx's error.
func (wr *WebhookReceiver) WaitMessages(ctx context.Context, n int) ([]WebhookDelivery, error) {
	return wr.rec.wait(ctx, n, cloneWebhookDelivery)
}

// Rejected returns how many requests failed verification.
func (wr *WebhookReceiver) Rejected() int {
	return len(wr.bad.snapshot(func(v struct{}) struct{} { return v }))
}

// FailNext makes the receiver answer the next n verified webhooks with status (503, 400,
// 429, ...) without recording them.
func (wr *WebhookReceiver) FailNext(n, status int) { wr.rec.setFailure(n, status) }

func (wr *WebhookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if err := notify.VerifyWebhook(wr.opts.Secret, r.Header, body, wr.opts.Now(), wr.opts.Tolerance); err != nil {
		wr.bad.add(struct{}{})
		http.Error(w, "signature verification failed", http.StatusUnauthorized)
		return
	}
	if status := wr.rec.takeFailure(); status != 0 {
		http.Error(w, "notifytest: failure requested", status)
		return
	}
	var p notify.WebhookPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		http.Error(w, "body is not a webhook payload", http.StatusBadRequest)
		return
	}
	wr.rec.add(WebhookDelivery{
		ID:        r.Header.Get("webhook-id"),
		Timestamp: r.Header.Get("webhook-timestamp"),
		Header:    r.Header.Clone(),
		Body:      body,
		Payload:   p,
	})
	w.WriteHeader(http.StatusNoContent)
}
