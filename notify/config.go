package notify

import (
	"errors"
	"fmt"
	"strings"

	"courtside"
)

// The environment variables FromEnv reads.
const (
	EnvSMTPURL  = "COURTSIDE_SMTP_URL"
	EnvSMTPFrom = "COURTSIDE_SMTP_FROM"
	EnvSMSURL   = "COURTSIDE_SMS_URL"
	EnvSMSFrom  = "COURTSIDE_SMS_FROM"
	// EnvSMSInboundSecret is the key the SMS gateway signs its callbacks (replies and delivery
	// receipts) with: its auth token. Unset, /hooks/sms answers 503.
	EnvSMSInboundSecret = "COURTSIDE_SMS_INBOUND_SECRET"
)

// Channels holds the configured sender of each channel; a channel without a sender is not
// configured.
type Channels map[courtside.Channel]Sender

// Sender returns the sender for c, and whether there is one.
func (cs Channels) Sender(c courtside.Channel) (Sender, bool) {
	s, ok := cs[c]
	return s, ok && s != nil
}

// FromEnv reads the channels' configuration through getenv (os.Getenv in the binary):
// e-mail from COURTSIDE_SMTP_URL (smtp:// or smtps://user:pass@host:port) and
// COURTSIDE_SMTP_FROM, SMS from COURTSIDE_SMS_URL (https://SID:TOKEN@gateway/base) and
// COURTSIDE_SMS_FROM. A channel whose two variables are both unset is left out; one set
// without the other is an error. Webhooks are always available, since each organisation
// gives its own endpoint. Errors name the variable and never contain a password or token.
func FromEnv(getenv func(string) string) (Channels, error) {
	cs := Channels{courtside.ChannelWebhook: &Webhook{}}
	var errs []error

	smtpURL, smtpFrom := strings.TrimSpace(getenv(EnvSMTPURL)), strings.TrimSpace(getenv(EnvSMTPFrom))
	switch {
	case smtpURL == "" && smtpFrom == "":
	case smtpURL == "":
		errs = append(errs, fmt.Errorf("%s is set but %s is not", EnvSMTPFrom, EnvSMTPURL))
	case smtpFrom == "":
		errs = append(errs, fmt.Errorf("%s is set but %s is not", EnvSMTPURL, EnvSMTPFrom))
	default:
		s, err := NewSMTP(smtpURL, smtpFrom)
		if err != nil {
			errs = append(errs, envError(EnvSMTPURL, EnvSMTPFrom, err))
		} else {
			cs[courtside.ChannelEmail] = s
		}
	}

	smsURL, smsFrom := strings.TrimSpace(getenv(EnvSMSURL)), strings.TrimSpace(getenv(EnvSMSFrom))
	switch {
	case smsURL == "" && smsFrom == "":
	case smsURL == "":
		errs = append(errs, fmt.Errorf("%s is set but %s is not", EnvSMSFrom, EnvSMSURL))
	case smsFrom == "":
		errs = append(errs, fmt.Errorf("%s is set but %s is not", EnvSMSURL, EnvSMSFrom))
	default:
		s, err := NewSMS(smsURL, smsFrom)
		if err != nil {
			errs = append(errs, envError(EnvSMSURL, EnvSMSFrom, err))
		} else {
			cs[courtside.ChannelSMS] = s
		}
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cs, nil
}

// envError names the variable an error from NewSMTP or NewSMS is about: the sender
// variable when the error's field is "from", else the URL's.
func envError(urlVar, fromVar string, err error) error {
	name := urlVar
	if courtside.ErrorField(err) == "from" {
		name = fromVar
	}
	return fmt.Errorf("%s: %s", name, courtside.ErrorMessage(err))
}
