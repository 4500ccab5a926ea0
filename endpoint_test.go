package courtside_test

import (
	"net/url"
	"strings"
	"testing"

	"courtside"
)

// TestParseWebhookURL: the one rule for a webhook receiver, applied when it is set and at each
// send: https, or http to a loopback host; no credentials; errors name scheme and host only.
func TestParseWebhookURL(t *testing.T) {
	for _, ok := range []string{"https://cms.example.org/hooks/courtside", "https://10.0.0.1/hook", "http://127.0.0.1:9000/hook",
		"http://localhost/hook", "http://[::1]:8080/h", " https://cms.example.org/h "} {
		if _, err := courtside.ParseWebhookURL(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1/hook", "http://cms.example.org/hook", "ftp://cms.example.org/h", "cms.example.org/h",
		"https:///h", "https://user:secret-pw@cms.example.org/h", "mailto:a@b.org", "://", "https://cms.example.org:99999999/x/secret-path"} {
		_, err := courtside.ParseWebhookURL(bad)
		if courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != "url" {
			t.Errorf("%q: %v, want EINVALID on url", bad, err)
			continue
		}
		if msg := courtside.ErrorMessage(err); strings.Contains(msg, "secret") {
			t.Errorf("%q: the error repeats a secret: %s", bad, msg)
		}
	}
	// The SMS gateway shares the scheme rule.
	u, _ := url.Parse("http://gateway.example.org/2010-04-01")
	if courtside.CheckSendURL(u) == nil {
		t.Error("plain http to another host accepted for sending")
	}
}
