package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// WebhookSecretPrefix starts every webhook secret, as the Standard Webhooks specification
// says.
const WebhookSecretPrefix = "whsec_"

// Webhook sends messages to an organisation's own system as JSON POSTs signed as the
// Standard Webhooks specification says: headers webhook-id (the idempotency key),
// webhook-timestamp (Unix seconds) and webhook-signature ("v1," and the base64 of
// HMAC-SHA256 over id.timestamp.body, keyed with the secret's bytes).
type Webhook struct {
	// Client sends the requests; nil means a client with a 10 s timeout. Redirects are
	// never followed.
	Client *http.Client
	// Now is the clock for the timestamps; nil means time.Now.
	Now func() time.Time
}

// WebhookPayload is the JSON body of a webhook.
type WebhookPayload struct {
	// Type is "notice." followed by the notification kind in lower case.
	Type string `json:"type"`
	// Timestamp is when the message was sent, RFC 3339 in UTC.
	Timestamp string      `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData is the message inside a WebhookPayload.
type WebhookData struct {
	// To is the recipient's reference in the organisation's own system.
	To       string `json:"to"`
	Kind     string `json:"kind"`
	Language string `json:"language"`
	Subject  string `json:"subject"`
	Body     string `json:"body"`
}

// Channel reports WEBHOOK.
func (w *Webhook) Channel() courtside.Channel { return courtside.ChannelWebhook }

// Send posts m, signed, to m.Webhook.URL. A 4xx answer other than 408 and 429, a redirect,
// and a missing or malformed endpoint or secret are Permanent; 5xx, 408, 429 and network
// failures are temporary.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if m.Webhook == nil {
		return Permanent(courtside.Invalidf("webhook", "The message has no webhook endpoint."))
	}
	// The rule `courtside webhook set` applies when the receiver is stored.
	u, err := courtside.ParseWebhookURL(m.Webhook.URL)
	if err != nil {
		return Permanent(courtside.Invalidf("webhook", "%s", courtside.ErrorMessage(err)))
	}
	key, err := webhookKey(m.Webhook.Secret)
	if err != nil {
		return Permanent(err)
	}
	if !validHeaderToken(m.IdempotencyKey) {
		return Permanent(courtside.Invalidf("idempotencyKey", "The idempotency key is empty or has characters a webhook-id cannot carry."))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	t := now().UTC().Truncate(time.Second)
	body, err := json.Marshal(WebhookPayload{
		Type:      "notice." + strings.ToLower(string(m.Kind)),
		Timestamp: t.Format(time.RFC3339),
		Data: WebhookData{
			To:       m.To,
			Kind:     string(m.Kind),
			Language: m.Language,
			Subject:  m.Subject,
			Body:     m.Body,
		},
	})
	if err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	ts := strconv.FormatInt(t.Unix(), 10)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Courtside-Webhook")
	req.Header.Set("webhook-id", m.IdempotencyKey)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+signWebhook(key, m.IdempotencyKey, ts, body))

	resp, err := doHTTP(w.Client, req, false)
	if err != nil {
		return classifyHTTPError("webhook", err)
	}
	defer drain(resp)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return statusError("webhook: receiver", resp.StatusCode, "")
}

// NewWebhookSecret returns a new secret: "whsec_" and the base64 of 32 random bytes.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// webhookKey decodes the key bytes of a "whsec_" secret. The error never repeats the secret.
func webhookKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, WebhookSecretPrefix)
	if !ok {
		return nil, courtside.Invalidf("secret", "A webhook secret starts with %q.", WebhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, courtside.Invalidf("secret", "A webhook secret is %q followed by base64.", WebhookSecretPrefix)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, courtside.Invalidf("secret", "A webhook secret holds 24 to 64 bytes.")
	}
	return key, nil
}

// signWebhook returns the base64 HMAC-SHA256 of id.timestamp.body under key.
func signWebhook(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Errors of VerifyWebhook.
var (
	// ErrWebhookHeaders means a webhook-id, webhook-timestamp or webhook-signature header
	// is missing or malformed.
	ErrWebhookHeaders = errors.New("webhook: missing or malformed webhook headers")
	// ErrWebhookTimestamp means the webhook-timestamp is further from now than the tolerance.
	ErrWebhookTimestamp = errors.New("webhook: timestamp outside the tolerance")
	// ErrWebhookSignature means no v1 signature matches.
	ErrWebhookSignature = errors.New("webhook: no matching signature")
)

// VerifyWebhook checks a received webhook as a receiver should: the webhook-timestamp must
// be within tolerance of now (either side), and one of the space-separated "v1,<base64>"
// entries of webhook-signature must equal the HMAC-SHA256 of
// webhook-id + "." + webhook-timestamp + "." + body under the secret's key. The comparison
// takes constant time. body must be the raw bytes received, before any JSON parsing.
func VerifyWebhook(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := webhookKey(secret)
	if err != nil {
		return err
	}
	id := header.Get("webhook-id")
	ts := header.Get("webhook-timestamp")
	sigs := header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return ErrWebhookHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrWebhookHeaders
	}
	sent := time.Unix(sec, 0)
	if now.Sub(sent) > tolerance || sent.Sub(now) > tolerance {
		return ErrWebhookTimestamp
	}
	want := []byte(signWebhook(key, id, ts, body))
	for _, entry := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(entry, ",")
		if ok && version == "v1" && hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrWebhookSignature
}
