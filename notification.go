package courtside

import (
	"context"
	"strings"
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
	// NotifyBookingExpired tells an interpreter that an offer they did not answer in time has
	// lapsed: the hearing goes on, but they are no longer asked. By e-mail it withdraws the
	// offer's invitation from their calendar.
	NotifyBookingExpired NotificationKind = "BOOKING_EXPIRED"
	// NotifyNoticeUnacknowledged tells the advocates accompanying a victim at a hearing (or,
	// when none does, the organisation's coordinators) that a notice to the victim about it was
	// not acknowledged in time: the escalation of an unanswered notice.
	NotifyNoticeUnacknowledged NotificationKind = "NOTICE_UNACKNOWLEDGED"
	// NotifySMSStopped tells a victim's advocates (else the coordinators) that the victim's
	// phone answered STOP: text messages are withdrawn from the victim's policy.
	NotifySMSStopped NotificationKind = "SMS_STOPPED"
	// NotifySMSStartRequested tells a victim's advocates (else the coordinators) that the
	// victim's phone answered START: text messages stay off until someone confirms that it is
	// safe (confirmSMSRestart).
	NotifySMSStartRequested NotificationKind = "SMS_START_REQUESTED"
	// NotifyRequestCreated tells an organisation's coordinators that a victim asked for
	// something in answer to a notice (see Request).
	NotifyRequestCreated NotificationKind = "REQUEST_CREATED"
)

// NotificationKinds lists every kind, in the order the templates document them.
var NotificationKinds = []NotificationKind{
	NotifyHearingScheduled, NotifyHearingChanged, NotifyHearingCancelled, NotifyReminder,
	NotifyBookingOffer, NotifyBookingExpired, NotifyAccompanimentAssigned, NotifyNoticeSuppressed,
	NotifyBookingUnfilled, NotifyNoticeUnacknowledged, NotifySMSStopped, NotifySMSStartRequested,
	NotifyRequestCreated,
}

// AckMethod is how a victim acknowledged a notice.
type AckMethod string

// The acknowledgement methods: the notice's signed link, or a reply to a text message.
const (
	AckByLink     AckMethod = "LINK"
	AckBySMSReply AckMethod = "SMS_REPLY"
)

// DefaultAckWindow is how long a victim has to acknowledge a notice before it escalates,
// unless the hearing is nearer (see AckDeadline).
const DefaultAckWindow = 24 * time.Hour

// Escalates reports whether a notice of kind k to a victim escalates when it is not
// acknowledged: the notices of a new, changed or cancelled hearing. Reminders carry the link
// too, and acknowledging one covers the notices before it, but a reminder never escalates.
func Escalates(k NotificationKind) bool {
	return k == NotifyHearingScheduled || k == NotifyHearingChanged || k == NotifyHearingCancelled
}

// ActBy returns the earlier of from+window and the moment halfway between from and the
// hearing's start, so that whoever acts next has as long before the hearing as the one before
// had. It reports false when the hearing has begun (or its start is unknown).
func ActBy(from, hearingStart time.Time, window time.Duration) (time.Time, bool) {
	if hearingStart.IsZero() || !hearingStart.After(from) {
		return time.Time{}, false
	}
	return from.Add(min(window, hearingStart.Sub(from)/2)), true
}

// AckDeadline returns when a notice of kind k sent at sent, about a hearing starting at
// hearingStart, escalates if the victim has not acknowledged it: window after sending, or
// halfway to the hearing when that comes sooner. It reports false for a notice that never
// escalates (see Escalates) and for one sent after the hearing began.
func AckDeadline(k NotificationKind, sent, hearingStart time.Time, window time.Duration) (time.Time, bool) {
	if !Escalates(k) {
		return time.Time{}, false
	}
	return ActBy(sent, hearingStart, window)
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
	// AcknowledgedAt and AcknowledgedBy say when and how the victim said "I got this";
	// EscalateAt is when an unacknowledged notice escalates, EscalatedAt when it did.
	AcknowledgedAt *time.Time `json:"acknowledgedAt,omitempty"`
	AcknowledgedBy AckMethod  `json:"acknowledgedBy,omitempty"`
	EscalateAt     *time.Time `json:"escalateAt,omitempty"`
	EscalatedAt    *time.Time `json:"escalatedAt,omitempty"`
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
	// Pseudonym names the victim a NOTICE_UNACKNOWLEDGED, SMS_STOPPED, SMS_START_REQUESTED or
	// REQUEST_CREATED message is about, to the staff who support them.
	Pseudonym string `json:"pseudonym,omitempty"`
	// NoticeKind, SentAt and Channels describe the unacknowledged notice, for
	// NOTICE_UNACKNOWLEDGED: its kind, when it was sent, and every channel it was tried on.
	NoticeKind NotificationKind `json:"noticeKind,omitempty"`
	SentAt     *time.Time       `json:"sentAt,omitempty"`
	Channels   []Channel        `json:"channels,omitempty"`
	// Request is what the victim asked for, for REQUEST_CREATED.
	Request RequestKind `json:"request,omitempty"`
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
	// Fallback is true when another channel may still reach the recipient should this one
	// fail; on the last channel the worker keeps retrying a temporary failure instead of
	// giving up after its attempts (so a notice survives an outage of its server).
	Fallback bool
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
	// ProviderID is the receiver's own name for a SENT message (the SMS gateway's message
	// SID), which its delivery receipts quote.
	ProviderID string
	// EscalateAt, for a SENT notice to a victim that escalates, is when it does unless it is
	// acknowledged (AckDeadline).
	EscalateAt time.Time
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

// LinkedNotice is a notice to a victim as the page of its acknowledgement link shows it: the
// delivery with its facts, and the detail level, language, zone and sender name the message
// was written with, so that the page says no more than the message did.
type LinkedNotice struct {
	Delivery *PendingDelivery
	// Detail is the detail level the message was sent at.
	Detail DetailLevel
	// Language is the victim's preferred language now; Zone the victim's time zone (the
	// policy's, else the court's) as an IANA name.
	Language string
	Zone     string
	// SenderName is the victim's neutral sender name, or "".
	SenderName string
	// Answers are what the page may offer the victim to ask for (none at CONTENT_FREE).
	Answers []RequestKind
	// Acknowledged is set once the notice was acknowledged, by the link or a text reply.
	Acknowledged bool
}

// NoticeLinkService acknowledges victims' notices through the short signed link each one
// carries, {ack-base-url}/m/{delivery id}?t=... The token is the credential: no user is signed
// in. It is single-purpose (it acknowledges one delivery, nothing else) and single-use.
type NoticeLinkService interface {
	// NoticeLinkToken returns the token of the link for delivery deliveryID to victimID,
	// valid until expires. It does no I/O.
	NoticeLinkToken(deliveryID, victimID int64, expires time.Time) string

	// FindNoticeByLink checks the token and returns the notice. Returns ENOTFOUND for a
	// malformed, forged or foreign token, and ECONFLICT with field "used" or "expired" for a
	// used or expired link. It changes nothing.
	FindNoticeByLink(ctx context.Context, deliveryID int64, token string) (*LinkedNotice, error)

	// AcknowledgeByLink records that the victim got the notice (the first acknowledgement is
	// kept) and makes a request of each answer, once per link. Returns what FindNoticeByLink
	// does, and EINVALID for an answer the page did not offer.
	AcknowledgeByLink(ctx context.Context, deliveryID int64, token string, answers []RequestKind) (*LinkedNotice, error)
}

// SMSAction is what an inbound text message asks for.
type SMSAction string

// The inbound actions: acknowledge the latest notice, answer it (a request), stop or restart
// text messages, ask for help, or nothing understood.
const (
	SMSAck    SMSAction = "ACK"
	SMSAnswer SMSAction = "ANSWER"
	SMSStop   SMSAction = "STOP"
	SMSStart  SMSAction = "START"
	SMSHelp   SMSAction = "HELP"
	SMSNone   SMSAction = "NONE"
)

// InboundSMS is a text message the SMS gateway received for us, already read: its body was
// matched against the keywords of every language and is not kept.
type InboundSMS struct {
	// MessageID is the gateway's message SID: a message handled once stays handled.
	MessageID string
	// From is the sender's number; it is looked up by its blind index, never stored.
	From   string
	Action SMSAction
	// Answer is what the victim asks for, with SMSAnswer.
	Answer RequestKind
	// Language is the language whose keyword matched, when only one did.
	Language string
}

// SMSReply is which answer, if any, goes back to the sender of an inbound message.
type SMSReply string

// The replies. None is an empty answer: nothing is texted back.
const (
	ReplyNone    SMSReply = ""
	ReplyAck     SMSReply = "ACK"
	ReplyAnswer  SMSReply = "ANSWER"
	ReplyStop    SMSReply = "STOP"
	ReplyStart   SMSReply = "START"
	ReplyHelp    SMSReply = "HELP"
	ReplyUnknown SMSReply = "UNKNOWN"
)

// InboundResult is what became of an inbound message: the reply, in which language, and the
// words a HELP or STOP reply names. It carries no victim PII.
type InboundResult struct {
	Reply    SMSReply
	Language string
	// Help is the organisation's neutral name and how to reach it, for HELP and STOP.
	Help SMSHelpSettings
	// Replayed is true when the message was handled before (the same message SID).
	Replayed bool
}

// SMSReceipt is a delivery receipt (status callback) of the SMS gateway.
type SMSReceipt struct {
	MessageID string
	// Status is DELIVERED or FAILED.
	Status DeliveryStatus
	// ErrorCode is the gateway's numeric error code of a failure, or "".
	ErrorCode string
}

// InboundSMSService handles what the SMS gateway posts back: replies and delivery receipts.
// It needs no user in ctx: the gateway's signature, checked before, is the credential.
type InboundSMSService interface {
	// HandleInboundSMS acts on an inbound message once per message SID: acknowledges the
	// latest notice texted to that number, records an answer as a request, withdraws SMS
	// from the victim's policy on STOP (telling the advocates), asks the advocates to confirm
	// a START. A replayed message changes nothing and gets the same reply.
	HandleInboundSMS(ctx context.Context, m InboundSMS) (*InboundResult, error)
	// RecordSMSReceipt moves the SENT delivery the receipt names to DELIVERED, or to FAILED
	// and on to the next channel; a receipt seen before changes nothing.
	RecordSMSReceipt(ctx context.Context, r SMSReceipt) error
}

// SMSHelpSettings is what a HELP reply tells: the organisation's neutral name and how to
// reach it (a phone number, say). Neither names the program's purpose.
type SMSHelpSettings struct {
	NeutralName string `json:"neutralName"`
	Reach       string `json:"reach"`
}

// Validate reports the first problem with the settings as an EINVALID error.
func (s *SMSHelpSettings) Validate() error {
	s.NeutralName, s.Reach = strings.TrimSpace(s.NeutralName), strings.TrimSpace(s.Reach)
	if s.NeutralName == "" || len(s.NeutralName) > 40 || strings.ContainsAny(s.NeutralName, "\r\n<>\"") {
		return Invalidf("neutralName", "The neutral name must be 1 to 40 characters, without quotes or angle brackets.")
	}
	if s.Reach == "" || len(s.Reach) > 60 || strings.ContainsAny(s.Reach, "\r\n<>\"") {
		return Invalidf("reach", "How to reach the organisation must be 1 to 60 characters, such as a phone number.")
	}
	return nil
}

// NoticePage is the acknowledgement page of a notice in one language: its words, and the
// notice's message as the victim was sent it. It is neutral: no word for court or victim at
// CONTENT_FREE, no product name.
type NoticePage struct {
	// Language is the BCP 47 tag of the page's language.
	Language string
	Title    string
	// Message is the message as the victim was sent it, without the link.
	Message                        string
	GotIt, AnswersLegend           string
	Thanks, ThanksAsked, Done      string
	BadLink, UsedLink, ExpiredLink string
	// Answers names each answer the page may offer.
	Answers map[RequestKind]string
}
