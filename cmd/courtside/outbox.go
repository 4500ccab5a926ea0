package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"courtside"
	"courtside/notify"
)

// outboxSize is how many messages the demo's outbox keeps, the newest.
const outboxSize = 500

// outbox is the demo's built-in mailbox: with --demo every channel delivers into it instead of
// a network, and GET /demo/outbox shows what the people of the demo would have received. It
// lives in memory and is empty after a restart; the deliveries themselves stay recorded in
// the database as SENT, as with a real channel.
type outbox struct {
	now func() time.Time

	mu   sync.Mutex
	msgs []outboxMessage // oldest first
}

// outboxMessage is one message the outbox received.
type outboxMessage struct {
	at      time.Time
	channel courtside.Channel
	msg     notify.Message
}

// senders returns a sender into the outbox for every channel.
func (o *outbox) senders() map[courtside.Channel]notify.Sender {
	m := map[courtside.Channel]notify.Sender{}
	for _, c := range courtside.Channels {
		m[c] = outboxSender{o: o, channel: c}
	}
	return m
}

// outboxSender is the outbox seen as one channel's sender.
type outboxSender struct {
	o       *outbox
	channel courtside.Channel
}

// Channel reports the channel the sender stands in for.
func (s outboxSender) Channel() courtside.Channel { return s.channel }

// Send keeps m in the outbox. A message repeated after a crash (the same idempotency key)
// is kept once, as a receiver that honours the key would.
func (s outboxSender) Send(ctx context.Context, m notify.Message) error {
	o := s.o
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, old := range o.msgs {
		if old.msg.IdempotencyKey == m.IdempotencyKey {
			return nil
		}
	}
	m.Webhook = nil // the signing secret stays out of the page
	o.msgs = append(o.msgs, outboxMessage{at: o.now().UTC(), channel: s.channel, msg: m})
	if len(o.msgs) > outboxSize {
		o.msgs = append([]outboxMessage(nil), o.msgs[len(o.msgs)-outboxSize:]...)
	}
	return nil
}

// ServeHTTP answers GET /demo/outbox: every message, newest first, as plain text; with
// ?kind=HEARING_CHANGED only the messages of that kind.
func (o *outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("kind")))
	o.mu.Lock()
	var msgs []outboxMessage
	for _, m := range o.msgs {
		if kind == "" || string(m.msg.Kind) == kind {
			msgs = append(msgs, m)
		}
	}
	o.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, "Demo outbox: %d messages, newest first. With --demo nothing leaves this process; every\n"+
		"message a victim, advocate or interpreter would receive lands here.\n", len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		fmt.Fprintf(w, "\n---- %s  %s to %s  (%s, %s)\n", m.at.Format(time.RFC3339), m.channel, m.msg.To, m.msg.Kind, m.msg.Language)
		if m.msg.SenderName != "" {
			fmt.Fprintf(w, "From: %s\n", m.msg.SenderName)
		}
		if m.msg.Subject != "" && m.channel != courtside.ChannelSMS {
			fmt.Fprintf(w, "Subject: %s\n", m.msg.Subject)
		}
		fmt.Fprintf(w, "\n%s\n", m.msg.Body)
	}
}
