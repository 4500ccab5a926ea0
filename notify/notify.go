// Package notify puts notices into words and sends them: SMTP e-mail, an SMS gateway of the
// Messages API shape, and webhooks to an organisation's own system signed as the Standard
// Webhooks specification says.
//
// A Sender does network I/O and nothing else: the delivery worker (package events) leases a
// delivery row, calls Send outside any transaction, and records the outcome. Every Message
// carries its delivery's idempotency key, which each channel hands to the receiving side
// (Message-ID, an Idempotency-Key header, webhook-id), so a send repeated after a crash is
// recognisable as the same message.
package notify

import (
	"context"
	"errors"

	"courtside"
)

// Message is one rendered message to one recipient on one channel.
type Message struct {
	// IdempotencyKey is the delivery's key; the same key is sent again on a retry.
	IdempotencyKey string
	// Kind is what the message is about.
	Kind courtside.NotificationKind
	// To is the recipient's address: an e-mail address, an E.164 phone number, or for a
	// webhook the recipient's reference in the organisation's own system.
	To string
	// SenderName is the display name the recipient sees (a victim's neutral sender name).
	SenderName string
	// Subject is the e-mail subject; SMS ignores it.
	Subject string
	// Body is the plain-text body.
	Body string
	// Language is the BCP 47 tag of the language the message is written in.
	Language string
	// Webhook is where a WEBHOOK message goes; nil for other channels.
	Webhook *Endpoint
	// Calendar is the iTIP object an e-mail carries beside its text (iMIP, RFC 6047): the
	// invitation of an interpreter's booking, its update or its cancellation. nil for none;
	// other channels ignore it.
	Calendar *CalendarPart
}

// CalendarPart is an iCalendar object sent with an e-mail as its text/calendar alternative.
type CalendarPart struct {
	// Method is the iTIP method of the object (REQUEST, CANCEL), repeated in the part's
	// Content-Type as RFC 6047 section 2.4 asks.
	Method string
	// Data is the iCalendar object, one VCALENDAR with CRLF line endings.
	Data []byte
}

// Endpoint is an organisation's webhook receiver and the secret its messages are signed with
// ("whsec_" followed by the base64 of the key).
type Endpoint struct {
	URL    string
	Secret string
}

// Sender sends messages on one channel.
type Sender interface {
	// Channel is the channel the sender sends on.
	Channel() courtside.Channel
	// Send sends m once. An error wrapped with Permanent means that retrying cannot help
	// (an address the receiver refuses); any other error is worth a retry after a backoff.
	Send(ctx context.Context, m Message) error
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
