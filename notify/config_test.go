package notify_test

import (
	"context"
	"strings"
	"testing"

	"courtside"
	"courtside/notify"
	"courtside/notify/notifytest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestFromEnv_Channels checks which channels each configuration yields, and that the
// configured SMS sender really sends through the gateway it names.
func TestFromEnv_Channels(t *testing.T) {
	cs, err := notify.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Errorf("nothing configured gives %d channels, want only the webhook", len(cs))
	}
	if s, ok := cs.Sender(courtside.ChannelWebhook); !ok || s.Channel() != courtside.ChannelWebhook {
		t.Errorf("webhook sender %v, %v", s, ok)
	}
	if _, ok := cs.Sender(courtside.ChannelEmail); ok {
		t.Error("e-mail configured from nothing")
	}

	gw := notifytest.NewSMSGateway(t)
	cs, err = notify.FromEnv(env(map[string]string{
		notify.EnvSMTPURL:  "smtps://mailer:pw@mail.example",
		notify.EnvSMTPFrom: "notices@courtside.example",
		notify.EnvSMSURL:   gw.URL(),
		notify.EnvSMSFrom:  "+15550100000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range courtside.Channels {
		if s, ok := cs.Sender(c); !ok || s.Channel() != c {
			t.Errorf("channel %s: sender %v, %v", c, s, ok)
		}
	}
	sms, _ := cs.Sender(courtside.ChannelSMS)
	if err := sms.Send(context.Background(), smsMessage("k-env")); err != nil {
		t.Fatal(err)
	}
	if got := gw.Messages(); len(got) != 1 || got[0].From != "+15550100000" {
		t.Errorf("gateway got %+v", got)
	}
}

// TestFromEnv_Errors checks that each bad configuration names its variable and never shows
// a password or token, and that several problems are all reported.
func TestFromEnv_Errors(t *testing.T) {
	const secret = "s3cret-password-value"
	for _, tc := range []struct {
		vars  map[string]string
		names []string
	}{
		{map[string]string{notify.EnvSMTPURL: "smtp://u:" + secret + "@mail.example"}, []string{"COURTSIDE_SMTP_FROM"}},
		{map[string]string{notify.EnvSMTPFrom: "notices@courtside.example"}, []string{"COURTSIDE_SMTP_URL"}},
		{map[string]string{notify.EnvSMTPURL: "smtp://u:" + secret + "@mail.example:0x19", notify.EnvSMTPFrom: "n@c.example"}, []string{"COURTSIDE_SMTP_URL"}},
		{map[string]string{notify.EnvSMTPURL: "imap://u:" + secret + "@mail.example", notify.EnvSMTPFrom: "n@c.example"}, []string{"COURTSIDE_SMTP_URL"}},
		{map[string]string{notify.EnvSMTPURL: "smtp://u:" + secret + "@mail.example", notify.EnvSMTPFrom: "nobody"}, []string{"COURTSIDE_SMTP_FROM"}},
		{map[string]string{notify.EnvSMSURL: "https://AC1:" + secret + "@gw.example/2010-04-01"}, []string{"COURTSIDE_SMS_FROM"}},
		{map[string]string{notify.EnvSMSFrom: "+15550100000"}, []string{"COURTSIDE_SMS_URL"}},
		{map[string]string{notify.EnvSMSURL: "http://AC1:" + secret + "@gw.example/2010-04-01", notify.EnvSMSFrom: "+15550100000"}, []string{"COURTSIDE_SMS_URL"}},
		{map[string]string{
			notify.EnvSMTPURL: "smtp://u:" + secret + "%zz@mail.example", notify.EnvSMTPFrom: "n@c.example",
			notify.EnvSMSURL: "https://gw.example/2010-04-01", notify.EnvSMSFrom: "+15550100000",
		}, []string{"COURTSIDE_SMTP_URL", "COURTSIDE_SMS_URL"}},
	} {
		cs, err := notify.FromEnv(env(tc.vars))
		if err == nil {
			t.Errorf("%v: no error, channels %v", tc.vars, cs)
			continue
		}
		for _, name := range tc.names {
			if !strings.Contains(err.Error(), name+":") && !strings.Contains(err.Error(), name+" is set") && !strings.Contains(err.Error(), "but "+name+" is not") {
				t.Errorf("%v: error %q does not name %s", tc.vars, err, name)
			}
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%v: error shows the secret: %v", tc.vars, err)
		}
	}
}
