package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/notify"
	"courtside/storage"
)

// The signature is the Messages API's: this is the example its documentation signs.
func TestSMSSignature_KnownVector(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	if got := notify.SMSSignature("12345", u, form); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("signature = %q", got)
	}
	if !notify.VerifySMSSignature("12345", u, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") {
		t.Error("the documented signature does not verify")
	}
	for name, bad := range map[string]func() bool{
		"another secret": func() bool { return notify.VerifySMSSignature("12346", u, form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") },
		"another URL":    func() bool { return notify.VerifySMSSignature("12345", u+"&x=1", form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=") },
		"no secret":      func() bool { return notify.VerifySMSSignature("", u, form, notify.SMSSignature("", u, form)) },
		"no signature":   func() bool { return notify.VerifySMSSignature("12345", u, form, "") },
		"a changed field": func() bool {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("Digits", "1235")
			return notify.VerifySMSSignature("12345", u, f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
		},
		"an added field": func() bool {
			f := url.Values{"Extra": {""}}
			for k, v := range form {
				f[k] = v
			}
			return notify.VerifySMSSignature("12345", u, f, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
		},
	} {
		if bad() {
			t.Errorf("%s verifies", name)
		}
	}
}

// inboundWorld is the worker world with the gateway's callbacks served by the real handler, and
// texts asking for receipts.
type inboundWorld struct {
	*workerWorld
	hooks *httptest.Server
}

// newInboundWorld serves the callbacks checked with the gateway's own token as the key, or with
// no key at all.
func newInboundWorld(t *testing.T, withKey bool) *inboundWorld {
	t.Helper()
	w := &inboundWorld{workerWorld: newWorkerWorld(t)}
	secret := ""
	if withKey {
		secret = w.sms.AuthToken()
	}
	mux := http.NewServeMux()
	w.hooks = httptest.NewServer(mux)
	t.Cleanup(w.hooks.Close)
	h := notify.NewInboundHandler(notify.InboundConfig{Service: storage.NewInboundSMSService(w.db), Secret: secret, BaseURL: w.hooks.URL})
	mux.Handle("/hooks/sms", h)
	mux.Handle("/hooks/sms/status", h)
	w.worker.Senders[courtside.ChannelSMS].(*notify.SMS).StatusCallback = w.hooks.URL + "/hooks/sms/status"
	w.worker.AckURL = func(deliveryID, victimID int64, expires time.Time) string {
		return "https://m.example.org/m/1?t=" + storage.NewNoticeLinkService(w.db).NoticeLinkToken(deliveryID, victimID, expires)
	}
	return w
}

func (w *inboundWorld) scalar(t *testing.T, query string, args ...any) string {
	t.Helper()
	var s string
	if err := w.db.Writer.QueryRow(query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s
}

func TestInboundHandler_RepliesAcknowledgeAndStop(t *testing.T) {
	w := newInboundWorld(t, true)
	if _, err := storage.NewRequestService(w.db).SetSMSHelp(courtside.NewContextWithUser(context.Background(), w.coord),
		courtside.SMSHelpSettings{NeutralName: "Harbor Office", Reach: "+1 555 0100"}); err != nil {
		t.Fatal(err)
	}
	w.run(t)
	texts := w.sms.Messages()
	if len(texts) != 1 || texts[0].StatusCallback != w.hooks.URL+"/hooks/sms/status" || !strings.Contains(texts[0].Body, "https://m.example.org/m/1?t=") ||
		!strings.Contains(texts[0].Body, "Responda SI") {
		t.Fatalf("texts = %+v", texts)
	}
	ctx := context.Background()
	hook := w.hooks.URL + "/hooks/sms"
	ans, err := w.sms.Inbound(ctx, hook, "+12025550123", "Sí")
	if err != nil || ans.Status != http.StatusOK || !strings.Contains(ans.Body, "<Message>Gracias. Recibimos su respuesta.</Message>") {
		t.Fatalf("SI: %+v, %v", ans, err)
	}
	if by := w.scalar(t, `SELECT COALESCE(acknowledged_by, '') FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`); by != "SMS_REPLY" {
		t.Fatalf("acknowledged by %q", by)
	}
	// Replayed: the same answer, nothing new.
	inbound := w.scalar(t, `SELECT COUNT(*) FROM sms_inbound`)
	again, err := w.sms.Post(ctx, hook, ans.Form, true)
	if err != nil || again.Status != http.StatusOK || again.Body != ans.Body || w.scalar(t, `SELECT COUNT(*) FROM sms_inbound`) != inbound {
		t.Errorf("replayed: %+v, %v", again, err)
	}
	// Unsigned, signed with another key, or changed after signing: 403, nothing changed.
	stop := url.Values{"MessageSid": {"SMforged1"}, "From": {"+12025550123"}, "Body": {"STOP"}}
	if a, err := w.sms.Post(ctx, hook, stop, false); err != nil || a.Status != http.StatusForbidden {
		t.Errorf("unsigned: %+v, %v", a, err)
	}
	req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(stop.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(notify.SMSSignatureHeader, notify.SMSSignature("not the key", hook, stop))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("another key: %v %v", resp, err)
	}
	signed := notify.SMSSignature(w.sms.AuthToken(), hook, url.Values{"MessageSid": {"SMforged2"}, "From": {"+12025550123"}, "Body": {"1"}})
	req, _ = http.NewRequest(http.MethodPost, hook, strings.NewReader(url.Values{"MessageSid": {"SMforged2"}, "From": {"+12025550123"}, "Body": {"STOP"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(notify.SMSSignatureHeader, signed)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a body changed after signing: %v %v", resp, err)
	}
	if n := w.scalar(t, `SELECT COUNT(*) FROM victim_sms_stops`); n != "0" || w.scalar(t, `SELECT COUNT(*) FROM sms_inbound`) != inbound {
		t.Fatalf("a refused callback changed something: %s stops", n)
	}
	// STOP in Russian, from a Spanish speaker's phone: withdrawn, confirmed in Spanish.
	ans, err = w.sms.Inbound(ctx, hook, "+12025550123", "стоп")
	if err != nil || ans.Status != http.StatusOK || !strings.Contains(ans.Body, "no recibirá más mensajes de texto") || !strings.Contains(ans.Body, "Harbor Office") {
		t.Fatalf("STOP: %+v, %v", ans, err)
	}
	ans, err = w.sms.Inbound(ctx, hook, "+12025550123", "STOP")
	if err != nil || ans.Status != http.StatusOK || strings.Contains(ans.Body, "<Message>") {
		t.Errorf("STOP again is not confirmed again: %+v, %v", ans, err)
	}
	// A move after STOP does not go by SMS, and the advocate hears of the STOP.
	w.moveADay(t)
	w.run(t)
	w.run(t)
	if n := len(w.sms.Messages()); n != 1 {
		t.Errorf("%d texts after STOP", n)
	}
	if got := w.scalar(t, `SELECT status FROM deliveries WHERE kind = 'SMS_STOPPED'`); got != "SENT" {
		t.Errorf("SMS_STOPPED: %s", got)
	}
	var told bool
	for _, m := range w.smtp.Messages() {
		body, _ := m.Body()
		told = told || strings.Contains(body, "V-9") && strings.Contains(body, "STOP")
	}
	if !told {
		t.Error("the advocate was not told of the STOP by e-mail")
	}
}

func TestInboundHandler_ReceiptsAndRefusals(t *testing.T) {
	w := newInboundWorld(t, true)
	w.run(t)
	ctx := context.Background()
	texts := w.sms.Messages()
	if len(texts) != 1 {
		t.Fatalf("%d texts", len(texts))
	}
	if got := w.scalar(t, `SELECT provider_id FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`); got != texts[0].SID {
		t.Fatalf("provider id %q, the gateway's SID %q", got, texts[0].SID)
	}
	// On the way: nothing changes.
	if a, err := w.sms.Report(ctx, texts[0].SID, "sent", ""); err != nil || a.Status != http.StatusNoContent {
		t.Errorf("sent: %+v, %v", a, err)
	}
	if got := w.scalar(t, `SELECT status FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`); got != "SENT" {
		t.Errorf("after 'sent': %s", got)
	}
	for i := 0; i < 2; i++ {
		if a, err := w.sms.Report(ctx, texts[0].SID, "delivered", ""); err != nil || a.Status != http.StatusNoContent {
			t.Errorf("delivered: %+v, %v", a, err)
		}
	}
	if got := w.scalar(t, `SELECT status FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`); got != "DELIVERED" {
		t.Errorf("after 'delivered': %s", got)
	}
	if got := w.scalar(t, `SELECT COUNT(*) FROM sms_receipts`); got != "1" {
		t.Errorf("%s receipts recorded for one delivered twice", got)
	}
	status := w.hooks.URL + "/hooks/sms/status"
	forged := url.Values{"MessageSid": {texts[0].SID}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}}
	if a, err := w.sms.Post(ctx, status, forged, false); err != nil || a.Status != http.StatusForbidden {
		t.Errorf("an unsigned receipt: %+v, %v", a, err)
	}
	if a, err := w.sms.Post(ctx, status, url.Values{"MessageSid": {texts[0].SID}, "MessageStatus": {"exploded"}}, true); err != nil || a.Status != http.StatusBadRequest {
		t.Errorf("an unknown status: %+v, %v", a, err)
	}
	if a, err := w.sms.Post(ctx, w.hooks.URL+"/hooks/sms", url.Values{"MessageSid": {"bad sid!"}, "From": {"+12025550123"}, "Body": {"1"}}, true); err != nil || a.Status != http.StatusBadRequest {
		t.Errorf("a bad SID: %+v, %v", a, err)
	}
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		req, _ := http.NewRequest(m, status, nil)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %v %v", m, resp, err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, status, strings.NewReader(`{"MessageSid":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("JSON: %v %v", resp, err)
	}
	big := url.Values{"MessageSid": {"SM1"}, "Body": {strings.Repeat("x", notify.MaxInboundBytes)}}
	if a, err := w.sms.Post(ctx, w.hooks.URL+"/hooks/sms", big, true); err != nil || a.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %+v, %v", a, err)
	}
	if got := w.scalar(t, `SELECT status FROM deliveries WHERE kind = 'HEARING_SCHEDULED'`); got != "DELIVERED" {
		t.Errorf("after the refused receipts: %s", got)
	}

	// Without a key, every callback is refused.
	off := newInboundWorld(t, false)
	if a, err := off.sms.Inbound(ctx, off.hooks.URL+"/hooks/sms", "+12025550123", "yes"); err != nil || a.Status != http.StatusServiceUnavailable {
		t.Errorf("no key: %+v, %v", a, err)
	}
}
