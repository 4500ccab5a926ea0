package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"courtside"
)

// Worker is the delivery worker: it leases due deliveries, applies the victim's contact
// policy as it stands now, renders each message in the recipient's language, sends it
// outside any transaction with its idempotency key, and records what happened.
type Worker struct {
	Queue     courtside.DeliveryQueue
	Senders   map[courtside.Channel]Sender
	Templates *Templates
	Logger    *slog.Logger
	Now       func() time.Time

	// RespondURL returns the signed one-click link of an offered booking; nil leaves offers
	// without a link.
	RespondURL func(bookingID, interpreterID int64, expires time.Time) string
	// Invitation returns the iTIP object (RFC 5546) that an e-mail to an interpreter about
	// their booking carries as its text/calendar part (iMIP, RFC 6047): the offer's invitation,
	// its update after a move, its cancellation or withdrawal (CarriesInvitation). to is the recipient's
	// address, now the time of the send. nil leaves e-mails without one; an error is logged
	// and the message goes without it.
	Invitation func(d *courtside.PendingDelivery, to string, now time.Time) (*CalendarPart, error)
	// AckURL returns the signed link a victim acknowledges delivery deliveryID with, valid
	// until expires; nil leaves victims' messages without a link (a text reply still works).
	AckURL func(deliveryID, victimID int64, expires time.Time) string
	// AckWindow is how long a victim has to acknowledge a notice before it escalates, unless
	// the hearing is nearer (courtside.AckDeadline); default courtside.DefaultAckWindow.
	AckWindow time.Duration

	// Batch is how many deliveries are leased at once (default 50); Parallel how many are
	// sent at once (default 8); Lease how long a lease lasts (default 2 minutes, longer than
	// any send).
	Batch    int
	Parallel int
	Lease    time.Duration
	// MaxAttempts is how many failed sends make a delivery FAILED when another channel may
	// still reach the recipient (default 5); Backoff the wait after the n-th failure (default
	// 30 s doubling to at most MaxBackoff, with jitter).
	MaxAttempts int
	Backoff     func(n int) time.Duration
	// RetryFor is how long a temporary failure on the recipient's last channel is retried,
	// from the delivery's planning (default 24 h), and never past halfway to the hearing
	// (courtside.ActBy): a notice planned while its server is down goes out, under the same
	// key, when the server is back within that time.
	RetryFor time.Duration
	// SendTimeout bounds one send (default 30 s).
	SendTimeout time.Duration

	// Wake, when set, returns a channel that is closed when new deliveries may have been
	// committed (serve: the notice planner's events.Router.Handled). Run then looks at once
	// instead of waiting out its interval, which remains for retries falling due.
	Wake func() <-chan struct{}
}

func (w *Worker) defaults() {
	if w.Batch <= 0 {
		w.Batch = 50
	}
	if w.Parallel <= 0 {
		w.Parallel = 8
	}
	if w.Lease <= 0 {
		w.Lease = 2 * time.Minute
	}
	if w.MaxAttempts <= 0 {
		w.MaxAttempts = 5
	}
	if w.RetryFor <= 0 {
		w.RetryFor = DefaultRetryFor
	}
	if w.AckWindow <= 0 {
		w.AckWindow = courtside.DefaultAckWindow
	}
	if w.Backoff == nil {
		w.Backoff = DefaultBackoff
	}
	if w.SendTimeout <= 0 {
		w.SendTimeout = 30 * time.Second
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	if w.Templates == nil {
		w.Templates = DefaultTemplates()
	}
}

// MaxBackoff is the longest wait between two tries of a delivery: a server back from an
// outage is found within it.
const MaxBackoff = 15 * time.Minute

// DefaultRetryFor is how long a temporary failure on a recipient's last channel is retried.
const DefaultRetryFor = 24 * time.Hour

// DefaultBackoff waits 30 s after the first failure, doubling up to MaxBackoff, plus up to 20%
// jitter so that retries after an outage do not arrive together.
func DefaultBackoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d/5)+1))
}

// Run delivers until ctx is done, polling every interval when there is nothing to do. The
// batch in flight when ctx ends is finished and recorded before Run returns.
func (w *Worker) Run(ctx context.Context, interval time.Duration) {
	w.defaults()
	for {
		// The wake channel is taken before the look, so that deliveries committed during
		// RunOnce wake the wait after it.
		var wake <-chan struct{}
		if w.Wake != nil {
			wake = w.Wake()
		}
		n, err := w.RunOnce(context.WithoutCancel(ctx))
		if err != nil {
			w.Logger.Error("delivery worker", "err", err)
		}
		if n > 0 && err == nil && ctx.Err() == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(interval):
		}
	}
}

// RunOnce leases one batch, sends it and records the outcomes. It returns how many
// deliveries it handled.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	batch, err := w.Queue.LeaseDeliveries(ctx, w.Batch, w.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, w.Parallel)
	for _, d := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := w.deliver(ctx, d); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return len(batch), errors.Join(errs...)
}

// deliver handles one leased delivery. An error means its outcome could not be recorded;
// the lease then runs out and it is tried again under the same idempotency key.
func (w *Worker) deliver(ctx context.Context, d *courtside.PendingDelivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("delivery %d: panic: %v", d.ID, p)
		}
	}()
	o := w.attempt(ctx, d)
	o.At = w.Now().UTC()
	if err := w.Queue.RecordDelivery(ctx, d, o); err != nil {
		return fmt.Errorf("delivery %d: record: %w", d.ID, err)
	}
	w.Logger.Info("delivery", "id", d.ID, "kind", d.Kind, "channel", d.Channel, "status", o.Status, "attempts", d.Attempts+btoi(o.Attempted))
	return nil
}

// attempt decides, renders and sends one delivery, and says what became of it.
func (w *Worker) attempt(ctx context.Context, d *courtside.PendingDelivery) courtside.DeliveryOutcome {
	now := w.Now().UTC()
	r, err := w.Queue.DeliveryRecipient(ctx, d)
	if courtside.ErrorCode(err) == courtside.ENOTFOUND {
		return courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, Reason: courtside.ErrorMessage(err)}
	} else if err != nil {
		w.Logger.Error("delivery recipient", "id", d.ID, "err", err)
		return w.retry(d, now, "recipient: internal error")
	}
	detail := courtside.DetailFull
	sender := "Courtside"
	if d.VictimID != 0 && r.Policy != nil && r.Policy.TimeZone != "" {
		if loc, err := time.LoadLocation(r.Policy.TimeZone); err == nil {
			r.Zone = loc
		}
	}
	if d.VictimID != 0 {
		dec := courtside.DecideSend(courtside.SendRequest{Policy: r.Policy, Contacts: r.Contacts, Channel: d.Channel, Kind: d.Kind,
			Now: now, HearingStart: d.Notice.Hearing.StartsAt, Zone: r.Zone})
		if !dec.Send && !dec.DeferUntil.IsZero() {
			return courtside.DeliveryOutcome{Status: courtside.DeliveryPending, NextAttemptAt: dec.DeferUntil, Reason: dec.Reason}
		}
		if !dec.Send {
			return courtside.DeliveryOutcome{Status: courtside.DeliverySuppressed, Reason: dec.Reason}
		}
		detail = dec.Detail
		if r.Policy.NeutralSender != "" {
			sender = r.Policy.NeutralSender
		}
	}
	if r.Address == "" {
		return courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, Detail: detail, Reason: "no address on " + string(d.Channel)}
	}
	s := w.Senders[d.Channel]
	if s == nil {
		return courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, Detail: detail, Reason: string(d.Channel) + " is not configured"}
	}
	n := w.notice(d, r, detail, sender)
	text, err := w.Templates.Render(n)
	if err != nil && (n.RespondURL != "" || n.AckURL != "") {
		// A link too long for a text message: the offer says to answer in Courtside instead,
		// and the notice to reply.
		n.RespondURL, n.AckURL = "", ""
		text, err = w.Templates.Render(n)
	}
	if err != nil {
		w.Logger.Error("render", "id", d.ID, "kind", d.Kind, "err", err)
		return courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, Detail: detail, Reason: "the message could not be rendered"}
	}
	m := Message{IdempotencyKey: d.IdempotencyKey, Kind: d.Kind, To: r.Address, SenderName: sender, Subject: text.Subject,
		Body: text.Body, Language: text.Language}
	if d.Channel == courtside.ChannelWebhook {
		m.Webhook = &Endpoint{URL: r.WebhookURL, Secret: r.WebhookSecret}
	}
	if d.Channel == courtside.ChannelEmail && w.Invitation != nil && CarriesInvitation(d) {
		if part, err := w.Invitation(d, r.Address, now); err != nil {
			w.Logger.Error("invitation", "id", d.ID, "kind", d.Kind, "err", err)
		} else {
			m.Calendar = part
		}
	}
	sendCtx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	defer cancel()
	var providerID string
	if withID, ok := s.(interface {
		SendForID(context.Context, Message) (string, error)
	}); ok {
		providerID, err = withID.SendForID(sendCtx, m)
	} else {
		err = s.Send(sendCtx, m)
	}
	if err == nil {
		o := courtside.DeliveryOutcome{Status: courtside.DeliverySent, Attempted: true, Detail: detail, ProviderID: providerID}
		if d.VictimID != 0 {
			o.EscalateAt, _ = courtside.AckDeadline(d.Kind, w.Now().UTC(), d.Notice.Hearing.StartsAt, w.AckWindow)
		}
		return o
	}
	// The reason is kept and shown to coordinators: never the address.
	reason := strings.ReplaceAll(err.Error(), r.Address, "[address]")
	if IsPermanent(err) {
		return courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, Attempted: true, Detail: detail, Reason: reason}
	}
	if d.Attempts+1 >= w.MaxAttempts {
		// With another channel left, the notice moves on to it; on the last channel it is
		// retried until RetryFor runs out, so that it survives an outage of its server.
		if deadline, ok := w.retryDeadline(d); !r.Fallback && ok && now.Before(deadline) {
			o := w.retry(d, now, fmt.Sprintf("still trying after %d attempts: %s", d.Attempts+1, reason))
			o.NextAttemptAt = minTime(o.NextAttemptAt, deadline)
			o.Attempted = true
			return o
		}
		return courtside.DeliveryOutcome{Status: courtside.DeliveryFailed, Attempted: true, Detail: detail,
			Reason: fmt.Sprintf("gave up after %d attempts: %s", d.Attempts+1, reason)}
	}
	o := w.retry(d, now, reason)
	o.Attempted = true
	return o
}

// retryDeadline is when a delivery on its recipient's last channel stops being retried:
// RetryFor after it was planned, or halfway to its hearing when that comes sooner. It reports
// false once the hearing has begun.
func (w *Worker) retryDeadline(d *courtside.PendingDelivery) (time.Time, bool) {
	if !AboutAHearing(d.Kind) || d.Notice.Hearing.StartsAt.IsZero() {
		return d.CreatedAt.Add(w.RetryFor), true
	}
	return courtside.ActBy(d.CreatedAt, d.Notice.Hearing.StartsAt, w.RetryFor)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func (w *Worker) retry(d *courtside.PendingDelivery, now time.Time, reason string) courtside.DeliveryOutcome {
	return courtside.DeliveryOutcome{Status: courtside.DeliveryPending, NextAttemptAt: now.Add(w.Backoff(d.Attempts + 1)), Reason: reason}
}

// notice turns a delivery's stored facts into what the templates render, with its links.
func (w *Worker) notice(d *courtside.PendingDelivery, r *courtside.Recipient, detail courtside.DetailLevel, sender string) Notice {
	n := NoticeOf(d, r.Language, r.Zone, detail, sender)
	if d.Notice.RespondBy != nil && w.RespondURL != nil {
		n.RespondURL = w.RespondURL(d.Notice.BookingID, d.Notice.InterpreterID, *d.Notice.RespondBy)
	}
	if d.VictimID != 0 && w.AckURL != nil {
		// The link works until the hearing begins: then there is nothing left to answer.
		n.AckURL = w.AckURL(d.ID, d.VictimID, d.Notice.Hearing.StartsAt)
	}
	return n
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
