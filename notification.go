package courtside

import (
	"context"
	"time"
)

// DeliveryStatus is where one message to one person on one channel stands.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending    DeliveryStatus = "PENDING"
	DeliverySent       DeliveryStatus = "SENT"
	DeliveryDelivered  DeliveryStatus = "DELIVERED"
	DeliveryFailed     DeliveryStatus = "FAILED"
	DeliverySuppressed DeliveryStatus = "SUPPRESSED"
)

// NotificationKind is what a message is about.
type NotificationKind string

// The notification kinds.
const (
	NotifyHearingScheduled      NotificationKind = "HEARING_SCHEDULED"
	NotifyHearingChanged        NotificationKind = "HEARING_CHANGED"
	NotifyHearingCancelled      NotificationKind = "HEARING_CANCELLED"
	NotifyReminder              NotificationKind = "REMINDER"
	NotifyBookingOffer          NotificationKind = "BOOKING_OFFER"
	NotifyAccompanimentAssigned NotificationKind = "ACCOMPANIMENT_ASSIGNED"
	// NotifyNoticeSuppressed tells a victim's advocates that a message to the victim was not
	// sent because the victim's contact policy forbids it, or that every channel failed.
	NotifyNoticeSuppressed NotificationKind = "NOTICE_SUPPRESSED"
	// NotifyBookingUnfilled tells an organisation's coordinators that no interpreter is left
	// to offer a booking to.
	NotifyBookingUnfilled NotificationKind = "BOOKING_UNFILLED"
)

// NotificationKinds lists every kind, in the order the templates document them.
var NotificationKinds = []NotificationKind{
	NotifyHearingScheduled, NotifyHearingChanged, NotifyHearingCancelled, NotifyReminder,
	NotifyBookingOffer, NotifyAccompanimentAssigned, NotifyNoticeSuppressed, NotifyBookingUnfilled,
}

// Delivery is one message to one recipient on one channel: the evidence that notice was given,
// and how long before the hearing.
type Delivery struct {
	ID              int64            `json:"id"`
	Kind            NotificationKind `json:"kind"`
	HearingID       int64            `json:"hearingId"`
	VictimID        int64            `json:"victimId,omitempty"`
	UserID          int64            `json:"userId,omitempty"`
	Channel         Channel          `json:"channel"`
	Language        string           `json:"language"`
	Status          DeliveryStatus   `json:"status"`
	IdempotencyKey  string           `json:"idempotencyKey"`
	Attempts        int              `json:"attempts"`
	CreatedAt       time.Time        `json:"createdAt"`
	SentAt          *time.Time       `json:"sentAt,omitempty"`
	LeadTimeMinutes *int             `json:"leadTimeMinutes,omitempty"`
	Reason          string           `json:"reason,omitempty"`
	// Audience is the part the recipient plays; Sequence the hearing's sequence the notice is
	// about (which change); Detail the detail level the message was sent at.
	Audience Audience    `json:"audience,omitempty"`
	Sequence int         `json:"sequence"`
	Detail   DetailLevel `json:"detail,omitempty"`
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	VictimID  *int64
	HearingID *int64
	// Sequence selects the notices about one version of the hearing.
	Sequence *int
}

// DeliveryService answers whether, when, how and how long before the hearing notice was given.
type DeliveryService interface {
	// FindDeliveries returns the deliveries the caller may see that match filter, oldest
	// first: a coordinator's organisation's victims and users, an advocate's accompanied
	// victims and its own, a prosecutor's office's hearings (evidence of notice, never
	// addresses or bodies), a user's own. Returns ENOTFOUND for a victim or hearing the caller
	// may not see.
	FindDeliveries(ctx context.Context, filter DeliveryFilter) ([]*Delivery, error)
}

// UrgentWithin is how close to a hearing a change must be to break the victim's quiet hours.
const UrgentWithin = 24 * time.Hour

// SendDecision is what the contact policy says about one message on one channel, now.
type SendDecision struct {
	// Send is true when the message may go now, at Detail.
	Send   bool
	Detail DetailLevel
	// DeferUntil is set when quiet hours hold the message back until then.
	DeferUntil time.Time
	// Reason says why a message is not sent (Send false and DeferUntil zero: suppressed) or
	// why it is deferred. It never carries an address.
	Reason string
}

// SendRequest is what DecideSend looks at.
type SendRequest struct {
	Policy   *ContactPolicy
	Contacts []ContactPoint
	Channel  Channel
	Kind     NotificationKind
	Now      time.Time
	// HearingStart is when the hearing the message is about starts.
	HearingStart time.Time
	// Zone is the victim's time zone, which quiet hours are in.
	Zone *time.Location
}

// DecideSend applies a victim's contact policy to one message at send time: the channel must
// be allowed and the victim's address on it confirmed safe; quiet hours defer the message to
// their end, except an urgent one (a new, changed or cancelled hearing within UrgentWithin);
// a reminder is never deferred past its hearing's start.
func DecideSend(r SendRequest) SendDecision {
	if r.Policy == nil {
		return SendDecision{Reason: "no contact policy"}
	}
	rule := r.Policy.Rule(r.Channel)
	if !rule.Allowed {
		return SendDecision{Reason: "policy: " + string(r.Channel) + " not allowed"}
	}
	if !confirmedSafe(r.Contacts, r.Channel) {
		return SendDecision{Reason: "policy: no " + string(r.Channel) + " address confirmed safe"}
	}
	d := SendDecision{Send: true, Detail: rule.Detail}
	if until, quiet := r.Policy.quietUntil(r.Now, r.Zone); quiet {
		urgent := r.Kind != NotifyReminder && r.HearingStart.Sub(r.Now) < UrgentWithin
		if !urgent && (r.Kind != NotifyReminder || until.Before(r.HearingStart)) {
			return SendDecision{Detail: rule.Detail, DeferUntil: until, Reason: "quiet hours"}
		}
	}
	return d
}

// NextChannel returns the first channel, in the policy's order, that is allowed, has an
// address confirmed safe and is not in tried.
func NextChannel(p *ContactPolicy, contacts []ContactPoint, tried []Channel) (Channel, bool) {
	if p == nil {
		return "", false
	}
next:
	for _, r := range p.Channels {
		for _, t := range tried {
			if t == r.Channel {
				continue next
			}
		}
		if r.Allowed && confirmedSafe(contacts, r.Channel) {
			return r.Channel, true
		}
	}
	return "", false
}

func confirmedSafe(contacts []ContactPoint, c Channel) bool {
	for _, cp := range contacts {
		if cp.Channel == c && cp.ConfirmedSafeAt != nil {
			return true
		}
	}
	return false
}

// quietUntil reports whether t falls in the policy's quiet hours in zone, and when they end.
// Quiet hours may wrap midnight (21:00 to 08:00); equal ends mean none.
func (p *ContactPolicy) quietUntil(t time.Time, zone *time.Location) (time.Time, bool) {
	if p.QuietHoursStart == "" || p.QuietHoursEnd == "" || p.QuietHoursStart == p.QuietHoursEnd {
		return time.Time{}, false
	}
	if zone == nil {
		zone = time.UTC
	}
	start, err1 := time.Parse("15:04", p.QuietHoursStart)
	end, err2 := time.Parse("15:04", p.QuietHoursEnd)
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	local := t.In(zone)
	at := func(day time.Time, hm time.Time) time.Time {
		return time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, zone)
	}
	// Look at the quiet period that began today and the one that began yesterday.
	for _, day := range []time.Time{local.AddDate(0, 0, -1), local} {
		from := at(day, start)
		to := at(day, end)
		if !to.After(from) {
			to = at(day.AddDate(0, 0, 1), end)
		}
		if !local.Before(from) && local.Before(to) {
			return to.UTC(), true
		}
	}
	return time.Time{}, false
}

// HearingFacts are the facts about a hearing that a message may tell, as they stood when the
// notice was planned.
type HearingFacts struct {
	Kind      HearingKind   `json:"kind"`
	Status    HearingStatus `json:"status"`
	StartsAt  time.Time     `json:"startsAt"`
	EndsAt    time.Time     `json:"endsAt"`
	Court     string        `json:"court"`
	Address   string        `json:"address,omitempty"`
	Courtroom string        `json:"courtroom,omitempty"`
	Docket    string        `json:"docket"`
	// Zone is the court's IANA time zone.
	Zone string `json:"zone"`
}

// NoticeFacts are what a delivery's message is rendered from at send time. They carry no
// victim PII.
type NoticeFacts struct {
	Hearing HearingFacts `json:"hearing"`
	// Before is the hearing before the change, for HEARING_CHANGED.
	Before *HearingFacts `json:"before,omitempty"`
	// Lead is the reminder's lead ("168h0m0s", "@07:00"), for REMINDER.
	Lead string `json:"lead,omitempty"`
	// BookingID, InterpreterID, RespondBy and Language describe an offer or an unfilled
	// booking: the language needed.
	BookingID     int64      `json:"bookingId,omitempty"`
	InterpreterID int64      `json:"interpreterId,omitempty"`
	RespondBy     *time.Time `json:"respondBy,omitempty"`
	Language      string     `json:"language,omitempty"`
	// Reason is why a victim's notice was suppressed, for NOTICE_SUPPRESSED.
	Reason string `json:"reason,omitempty"`
}

// PendingDelivery is a delivery leased to the worker, with what it needs to render and send.
type PendingDelivery struct {
	Delivery
	Audience       Audience
	Notice         NoticeFacts
	Sequence       int
	OrganizationID int64
}

// Recipient is where and how a leased delivery goes: the address on the delivery's channel,
// the language and zone, and for a victim the contact policy and contact points in force now.
type Recipient struct {
	Address  string
	Language string
	Zone     *time.Location
	// Policy and Contacts are set for victims only; staff have no policy.
	Policy   *ContactPolicy
	Contacts []ContactPoint
	// WebhookURL and WebhookSecret are the recipient's organisation's webhook receiver.
	WebhookURL    string
	WebhookSecret string
}

// DeliveryOutcome is what became of one attempt.
type DeliveryOutcome struct {
	// Status is SENT, FAILED or SUPPRESSED; PENDING with NextAttemptAt to try again later
	// (a backoff after a failure, or quiet hours).
	Status        DeliveryStatus
	At            time.Time
	NextAttemptAt time.Time
	// Attempted is true when a send was tried (it counts towards the limit).
	Attempted bool
	Detail    DetailLevel
	// Reason says why a delivery failed, was suppressed or waits. With FAILED or SUPPRESSED
	// the notice goes on the next channel that may reach the recipient, as a new delivery
	// with its own idempotency key; when none is left, a victim's advocates are told.
	Reason string
}

// DeliveryQueue is the delivery worker's view of storage: it leases due deliveries, resolves
// their recipients, and records outcomes. Sends happen between these calls, outside any
// transaction.
type DeliveryQueue interface {
	// LeaseDeliveries leases up to n due, pending deliveries for leaseFor. A delivery whose
	// lease runs out before its outcome is recorded is leased again, and sent again under the
	// same idempotency key. The lease audits the opening of each victim's contact point that
	// DeliveryRecipient will do.
	LeaseDeliveries(ctx context.Context, n int, leaseFor time.Duration) ([]*PendingDelivery, error)
	// DeliveryRecipient opens the recipient's address on the delivery's channel.
	DeliveryRecipient(ctx context.Context, d *PendingDelivery) (*Recipient, error)
	// RecordDelivery records an outcome, and in the same transaction the follow-ups it calls
	// for: the next channel's delivery, or a NOTICE_SUPPRESSED message to the advocates.
	RecordDelivery(ctx context.Context, d *PendingDelivery, o DeliveryOutcome) error
}
