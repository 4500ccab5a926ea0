package notify_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"courtside"
	"courtside/notify"
	"courtside/notify/notifytest"
)

const testSMSFrom = "+15550100000"

func smsMessage(key string) notify.Message {
	return notify.Message{
		IdempotencyKey: key,
		Kind:           courtside.NotifyReminder,
		To:             "+15550123456",
		Body:           "Напоминание: слушание завтра в 10:00, зал 4. Nhắc nhở: phiên tòa ngày mai.",
		Language:       "ru",
	}
}

func newSMS(t *testing.T, rawURL string) *notify.SMS {
	t.Helper()
	s, err := notify.NewSMS(rawURL, testSMSFrom)
	if err != nil {
		t.Fatalf("NewSMS: %v", err)
	}
	return s
}

// TestSMS_PostsMessagesAPIForm sends through the gateway sink and checks the form fields,
// the Basic auth (the sink refuses without it) and the Idempotency-Key header.
func TestSMS_PostsMessagesAPIForm(t *testing.T) {
	gw := notifytest.NewSMSGateway(t)
	s := newSMS(t, gw.URL())
	if s.Channel() != courtside.ChannelSMS {
		t.Errorf("channel %s", s.Channel())
	}
	m := smsMessage("cs-rem-9-v2-SMS")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := gw.Messages()
	if len(msgs) != 1 {
		t.Fatalf("gateway has %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.To != m.To || got.From != testSMSFrom || got.Body != m.Body || got.IdempotencyKey != m.IdempotencyKey {
		t.Errorf("gateway got %+v", got)
	}
	if str := s.String(); strings.Contains(str, "@") || !strings.HasSuffix(str, "/2010-04-01/Accounts/"+gw.AccountSID()+"/Messages.json") {
		t.Errorf("String() = %q", str)
	}
}

// TestSMS_ErrorClassification checks which gateway answers are Permanent.
func TestSMS_ErrorClassification(t *testing.T) {
	gw := notifytest.NewSMSGateway(t)
	s := newSMS(t, gw.URL())
	ctx := context.Background()
	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{503, false}, {500, false}, {429, false}, {408, false}, {400, true}, {404, true},
	} {
		gw.FailNext(1, tc.status)
		err := s.Send(ctx, smsMessage("k-fail"))
		if err == nil {
			t.Errorf("%d: Send succeeded", tc.status)
			continue
		}
		if notify.IsPermanent(err) != tc.permanent {
			t.Errorf("%d: IsPermanent(%v) = %v, want %v", tc.status, err, !tc.permanent, tc.permanent)
		}
		if !strings.Contains(err.Error(), "gateway code") || strings.Contains(err.Error(), "failure requested") {
			t.Errorf("%d: error %q should carry the gateway's code and not its text", tc.status, err)
		}
	}
	if n := len(gw.Messages()); n != 0 {
		t.Fatalf("gateway recorded %d failed messages", n)
	}
	if err := s.Send(ctx, smsMessage("k-ok")); err != nil {
		t.Fatalf("Send after failures: %v", err)
	}

	// A wrong token is a 401: Permanent, and the token is not in the error.
	u, _ := url.Parse(gw.URL())
	u.User = url.UserPassword(gw.AccountSID(), "wrong-token-value")
	err := newSMS(t, u.String()).Send(ctx, smsMessage("k-badtoken"))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong-token-value") {
		t.Errorf("wrong token: %v", err)
	}

	// A gateway that is not there is temporary.
	gw.Close()
	if err := s.Send(ctx, smsMessage("k-gone")); err == nil || notify.IsPermanent(err) {
		t.Errorf("closed gateway: %v", err)
	}
	if n := len(gw.Messages()); n != 1 {
		t.Errorf("gateway has %d messages, want 1", n)
	}
}

// TestSMS_RefusesBeforeSending checks that messages that can never be sent are Permanent
// and never reach the gateway, and that 1600 characters are still accepted.
func TestSMS_RefusesBeforeSending(t *testing.T) {
	gw := notifytest.NewSMSGateway(t)
	s := newSMS(t, gw.URL())
	for name, mutate := range map[string]func(*notify.Message){
		"1601 characters":  func(m *notify.Message) { m.Body = strings.Repeat("ж", 1601) },
		"empty body":       func(m *notify.Message) { m.Body = " \n" },
		"not E.164":        func(m *notify.Message) { m.To = "555-0123" },
		"E.164 with CRLF":  func(m *notify.Message) { m.To = "+15550123456\r\n" },
		"key with a space": func(m *notify.Message) { m.IdempotencyKey = "a b" },
		"key with CRLF":    func(m *notify.Message) { m.IdempotencyKey = "a\r\nX-Injected: 1" },
	} {
		m := smsMessage("k-bad")
		mutate(&m)
		if err := s.Send(context.Background(), m); !notify.IsPermanent(err) {
			t.Errorf("%s: err = %v, want Permanent", name, err)
		}
	}
	if n := len(gw.Messages()); n != 0 {
		t.Fatalf("gateway got %d refused messages", n)
	}
	m := smsMessage("k-1600")
	m.Body = strings.Repeat("ж", 1600)
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("1600 characters: %v", err)
	}
}

// TestSMS_Redirects follows a redirect on the same host, with its credentials, and refuses
// one to another host without sending anything there.
func TestSMS_Redirects(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	same := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/old/") {
			http.Redirect(w, r, "/new/"+strings.TrimPrefix(r.URL.Path, "/old/"), http.StatusPermanentRedirect)
			return
		}
		user, pass, _ := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+user+":"+pass+" "+string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM1"}`)
	}))
	t.Cleanup(same.Close)
	u, _ := url.Parse(same.URL + "/old")
	u.User = url.UserPassword("AC1", "tok")
	m := smsMessage("k-redirect")
	m.Body = "Hello"
	if err := newSMS(t, u.String()).Send(context.Background(), m); err != nil {
		t.Fatalf("same-host redirect: %v", err)
	}
	want := "/new/Accounts/AC1/Messages.json AC1:tok Body=Hello&From=%2B15550100000&To=%2B15550123456"
	if len(seen) != 1 || seen[0] != want {
		t.Errorf("after the redirect the gateway saw %q, want %q", seen, want)
	}

	gw := notifytest.NewSMSGateway(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target, _ := url.Parse(gw.URL())
		target.User = nil
		http.Redirect(w, r, target.String()+"/Accounts/"+gw.AccountSID()+"/Messages.json", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(other.Close)
	u, _ = url.Parse(other.URL)
	u.User = url.UserPassword(gw.AccountSID(), "tok")
	err := newSMS(t, u.String()).Send(context.Background(), smsMessage("k-away"))
	if !notify.IsPermanent(err) || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("redirect to another host: %v", err)
	}
	if n := len(gw.Messages()); n != 0 {
		t.Errorf("the other host got %d messages", n)
	}
}

// TestNewSMS_BadURLs checks that bad configuration is refused without echoing the token.
func TestNewSMS_BadURLs(t *testing.T) {
	const token = "tok-very-secret-value"
	for _, tc := range []struct{ url, from, want string }{
		{"http://AC1:" + token + "@gateway.example/2010-04-01", testSMSFrom, "https"},
		{"ftp://AC1:" + token + "@gateway.example/", testSMSFrom, "https"},
		{"https://gateway.example/2010-04-01", testSMSFrom, "credentials"},
		{"https://AC1@gateway.example/2010-04-01", testSMSFrom, "auth token"},
		{"https://AC/1:" + token + "@gateway.example/", testSMSFrom, "credentials"},
		{"https://AC1:" + token + "%zz@gateway.example/", testSMSFrom, "not a valid URL"},
		{"https://AC1:" + token + "@gateway.example/?x=1", testSMSFrom, "query"},
		{"https://AC1:" + token + "@gateway.example/", "", "sending number"},
		{"https://AC1:" + token + "@gateway.example/", "+15\n55", "sending number"},
	} {
		_, err := notify.NewSMS(tc.url, tc.from)
		if err == nil {
			t.Errorf("NewSMS(%q) succeeded", tc.url)
			continue
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("NewSMS(%q): error contains the token: %v", tc.url, err)
		}
		if !strings.Contains(courtside.ErrorMessage(err), tc.want) {
			t.Errorf("NewSMS(%q) = %v, want it to mention %q", tc.url, err, tc.want)
		}
	}
	if _, err := notify.NewSMS("http://AC1:"+token+"@127.0.0.1:8080/2010-04-01", testSMSFrom); err != nil {
		t.Errorf("plain http on loopback: %v", err)
	}
}
