package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/notify/notifytest"
)

// The published Standard Webhooks test vector.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = "1614265330"
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", vectorTimestamp)
	h.Set("webhook-signature", sig)
	return h
}

// TestVerifyWebhook_SpecVector verifies the specification's own example, alone and among
// other signatures, and refuses it when anything is changed.
func TestVerifyWebhook_SpecVector(t *testing.T) {
	at := time.Unix(1614265330, 0)
	for _, sig := range []string{vectorSignature, "v1,bm9wZQ== " + vectorSignature, "v1a,abc " + vectorSignature} {
		if err := notify.VerifyWebhook(vectorSecret, vectorHeader(sig), []byte(vectorBody), at, 5*time.Minute); err != nil {
			t.Errorf("signature header %q: %v", sig, err)
		}
	}
	for name, tc := range map[string]struct {
		secret string
		header http.Header
		body   string
		now    time.Time
		want   error
	}{
		"tampered body":       {vectorSecret, vectorHeader(vectorSignature), `{"test": 2432232315}`, at, notify.ErrWebhookSignature},
		"other secret":        {notify.NewWebhookSecret(), vectorHeader(vectorSignature), vectorBody, at, notify.ErrWebhookSignature},
		"v2 only":             {vectorSecret, vectorHeader("v2," + vectorSignature[3:]), vectorBody, at, notify.ErrWebhookSignature},
		"old timestamp":       {vectorSecret, vectorHeader(vectorSignature), vectorBody, at.Add(5*time.Minute + time.Second), notify.ErrWebhookTimestamp},
		"future timestamp":    {vectorSecret, vectorHeader(vectorSignature), vectorBody, at.Add(-5*time.Minute - time.Second), notify.ErrWebhookTimestamp},
		"no signature header": {vectorSecret, func() http.Header { h := vectorHeader(""); h.Del("webhook-signature"); return h }(), vectorBody, at, notify.ErrWebhookHeaders},
		"bad timestamp":       {vectorSecret, func() http.Header { h := vectorHeader(vectorSignature); h.Set("webhook-timestamp", "soon"); return h }(), vectorBody, at, notify.ErrWebhookHeaders},
		"other id": {vectorSecret, func() http.Header {
			h := vectorHeader(vectorSignature)
			h.Set("webhook-id", "msg_other")
			return h
		}(), vectorBody, at, notify.ErrWebhookSignature},
	} {
		err := notify.VerifyWebhook(tc.secret, tc.header, []byte(tc.body), tc.now, 5*time.Minute)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
	// Exactly at the tolerance is still accepted.
	if err := notify.VerifyWebhook(vectorSecret, vectorHeader(vectorSignature), []byte(vectorBody), at.Add(5*time.Minute), 5*time.Minute); err != nil {
		t.Errorf("at the tolerance: %v", err)
	}
	if err := notify.VerifyWebhook("not-a-secret", vectorHeader(vectorSignature), []byte(vectorBody), at, time.Minute); err == nil {
		t.Error("a malformed secret verified")
	}
}

// TestWebhook_SendsSignedPayload sends to the receiver sink and checks the payload, the
// headers and, independently of VerifyWebhook, the signature.
func TestWebhook_SendsSignedPayload(t *testing.T) {
	sent := time.Date(2026, 3, 4, 14, 30, 5, 0, time.UTC)
	clock := func() time.Time { return sent }
	rcv, err := notifytest.StartWebhookReceiver(notifytest.WebhookReceiverOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rcv.Close)
	w := &notify.Webhook{Now: clock}
	if w.Channel() != courtside.ChannelWebhook {
		t.Errorf("channel %s", w.Channel())
	}
	m := notify.Message{
		IdempotencyKey: "cs-ev-7f3a-u12-WEBHOOK",
		Kind:           courtside.NotifyHearingChanged,
		To:             "case-worker-ref-118",
		Subject:        "Phiên tòa đã dời",
		Body:           "Phiên tòa đã dời sang 9 giờ sáng.\n<b>&</b>",
		Language:       "vi",
		Webhook:        rcv.Endpoint(),
	}
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := rcv.Deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver has %d deliveries (%d rejected), want 1", len(got), rcv.Rejected())
	}
	d := got[0]
	if d.ID != m.IdempotencyKey || d.Timestamp != strconv.FormatInt(sent.Unix(), 10) {
		t.Errorf("webhook-id %q, webhook-timestamp %q", d.ID, d.Timestamp)
	}
	want := notify.WebhookPayload{
		Type:      "notice.hearing_changed",
		Timestamp: "2026-03-04T14:30:05Z",
		Data: notify.WebhookData{
			To: m.To, Kind: "HEARING_CHANGED", Language: "vi", Subject: m.Subject, Body: m.Body,
		},
	}
	if d.Payload != want {
		t.Errorf("payload %+v, want %+v", d.Payload, want)
	}
	if ct := d.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(rcv.Secret(), "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(d.ID + "." + d.Timestamp + "." + string(d.Body)))
	if sig, want := d.Header.Get("webhook-signature"), "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)); sig != want {
		t.Errorf("webhook-signature %q, want %q", sig, want)
	}

	// A retry carries the same webhook-id.
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := rcv.Deliveries(); len(got) != 2 || got[1].ID != got[0].ID {
		t.Errorf("retry: %+v", got)
	}
}

// TestWebhook_ErrorClassification checks which failures are Permanent.
func TestWebhook_ErrorClassification(t *testing.T) {
	rcv := notifytest.NewWebhookReceiver(t, "")
	w := &notify.Webhook{}
	ctx := context.Background()
	msg := func(ep *notify.Endpoint) notify.Message {
		return notify.Message{IdempotencyKey: "k-1", Kind: courtside.NotifyReminder, To: "ref-1", Body: "b", Webhook: ep}
	}
	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{503, false}, {500, false}, {429, false}, {408, false}, {400, true}, {410, true},
	} {
		rcv.FailNext(1, tc.status)
		err := w.Send(ctx, msg(rcv.Endpoint()))
		if err == nil || notify.IsPermanent(err) != tc.permanent || !strings.Contains(err.Error(), strconv.Itoa(tc.status)) {
			t.Errorf("%d: err = %v, permanent %v, want permanent %v", tc.status, err, notify.IsPermanent(err), tc.permanent)
		}
	}

	// Signed with another secret: the receiver answers 401, which is Permanent.
	other := &notify.Endpoint{URL: rcv.URL(), Secret: notify.NewWebhookSecret()}
	if err := w.Send(ctx, msg(other)); !notify.IsPermanent(err) || rcv.Rejected() != 1 {
		t.Errorf("wrong secret: %v, rejected %d", err, rcv.Rejected())
	}
	if n := len(rcv.Deliveries()); n != 0 {
		t.Fatalf("receiver recorded %d failed deliveries", n)
	}

	// A redirect is not followed.
	redirect := httptest.NewServer(http.RedirectHandler(rcv.URL(), http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	err := w.Send(ctx, msg(&notify.Endpoint{URL: redirect.URL, Secret: rcv.Secret()}))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("redirect: %v", err)
	}
	if n := len(rcv.Deliveries()); n != 0 {
		t.Errorf("the redirect was followed: %d deliveries", n)
	}

	// Endpoints that can never work are Permanent and never contacted; errors never
	// repeat the secret.
	secret := rcv.Secret()
	for name, ep := range map[string]*notify.Endpoint{
		"no endpoint":       nil,
		"plain http":        {URL: "http://hooks.org.example/x", Secret: secret},
		"not a URL":         {URL: "://", Secret: secret},
		"relative URL":      {URL: "/hooks", Secret: secret},
		"secret no prefix":  {URL: rcv.URL(), Secret: strings.TrimPrefix(secret, "whsec_")},
		"secret not base64": {URL: rcv.URL(), Secret: "whsec_" + strings.Repeat("!", 40)},
		"secret too short":  {URL: rcv.URL(), Secret: "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))},
	} {
		err := w.Send(ctx, msg(ep))
		if !notify.IsPermanent(err) {
			t.Errorf("%s: err = %v, want Permanent", name, err)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(secret, "whsec_")) {
			t.Errorf("%s: error contains the secret", name)
		}
	}
	bad := msg(rcv.Endpoint())
	bad.IdempotencyKey = "k\r\nX-Injected: 1"
	if err := w.Send(ctx, bad); !notify.IsPermanent(err) {
		t.Errorf("key with CRLF: %v", err)
	}
	if rcv.Rejected() != 1 || len(rcv.Deliveries()) != 0 {
		t.Errorf("a refused message reached the receiver")
	}

	// A receiver that is not there is temporary.
	rcv.Close()
	if err := w.Send(ctx, msg(rcv.Endpoint())); err == nil || notify.IsPermanent(err) {
		t.Errorf("closed receiver: %v", err)
	}
}

// TestNewWebhookSecret checks the secret's form and that secrets differ.
func TestNewWebhookSecret(t *testing.T) {
	a, b := notify.NewWebhookSecret(), notify.NewWebhookSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if !strings.HasPrefix(a, "whsec_") || err != nil || len(key) != 32 {
		t.Errorf("secret %q: %d bytes, %v", a, len(key), err)
	}
}
