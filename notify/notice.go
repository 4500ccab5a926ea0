package notify

import (
	"time"

	"courtside"
)

// Audience is the part a recipient plays for a hearing; it is the domain's audience.
type Audience = courtside.Audience

// The audiences a message can be written for.
const (
	AudienceVictim      = courtside.AudienceVictim
	AudienceAdvocate    = courtside.AudienceAdvocate
	AudienceInterpreter = courtside.AudienceInterpreter
	AudienceCoordinator = courtside.AudienceCoordinator
)

// Notice is what one message says, before it is put into words.
type Notice struct {
	// Kind is what the message is about: one of courtside.NotificationKinds.
	Kind courtside.NotificationKind
	// Audience is who the message is for; it decides which kinds may be sent at all.
	Audience Audience
	// Detail is how much a message to a victim may say; staff are always rendered FULL.
	Detail courtside.DetailLevel
	// Language is the recipient's preferred BCP 47 tag. Anything unknown or unparsable
	// falls back to English.
	Language string
	// Zone is the recipient's time zone; dates and times are shown in it (UTC when nil).
	Zone *time.Location
	// Channel is the channel the message goes out on. An SMS rendering has no subject and
	// is at most MaxSMSLength characters (plus a victim's acknowledgement line).
	Channel courtside.Channel
	// Hearing is the hearing now, after any change.
	Hearing HearingFacts
	// Before is the hearing before the change, for HEARING_CHANGED.
	Before *HearingFacts
	// Lead is how long before the hearing a REMINDER goes out, such as 7 days or 2 hours.
	Lead time.Duration
	// RespondURL is the signed one-click link to accept or decline a BOOKING_OFFER.
	RespondURL string
	// RespondBy is the deadline to answer a BOOKING_OFFER.
	RespondBy time.Time
	// Language2 is the interpreting language needed, as a BCP 47 tag, for BOOKING_OFFER and
	// BOOKING_UNFILLED.
	Language2 string
	// Reason is the short machine reason a NOTICE_SUPPRESSED message reports, such as
	// "quiet hours" or "all channels failed". It never carries an address.
	Reason string
	// SenderName is the organisation's name for signature lines; it may be empty.
	SenderName string
	// AckURL is the signed link a victim acknowledges the notice with (every message to a
	// victim carries it, and on SMS the keyword to reply).
	AckURL string
	// Pseudonym names the victim a NOTICE_UNACKNOWLEDGED, SMS_STOPPED, SMS_START_REQUESTED or
	// REQUEST_CREATED message to staff is about.
	Pseudonym string
	// NoticeKind, SentAt and Channels describe the unacknowledged notice of a
	// NOTICE_UNACKNOWLEDGED message: what it told, when it was sent, the channels it was tried on.
	NoticeKind courtside.NotificationKind
	SentAt     time.Time
	Channels   []courtside.Channel
	// Request is what the victim asked for, for REQUEST_CREATED.
	Request courtside.RequestKind
}

// HearingFacts are the facts about a hearing that a message may tell, depending on its
// audience and detail level.
type HearingFacts struct {
	// Kind is the domain's hearing kind, such as ARRAIGNMENT or TRIAL.
	Kind      string
	StartsAt  time.Time
	EndsAt    time.Time
	Court     string
	Courtroom string
	// Address is the court's street address; it may be empty.
	Address string
	Docket  string
	// Status is the hearing's status, such as SCHEDULED or CANCELLED.
	Status string
}

// FactsFrom converts the domain's hearing facts, as stored with a delivery, into the facts a
// message is rendered from.
func FactsFrom(h courtside.HearingFacts) HearingFacts {
	return HearingFacts{
		Kind:      string(h.Kind),
		StartsAt:  h.StartsAt,
		EndsAt:    h.EndsAt,
		Court:     h.Court,
		Courtroom: h.Courtroom,
		Address:   h.Address,
		Docket:    h.Docket,
		Status:    string(h.Status),
	}
}

// Rendered is one message in words.
type Rendered struct {
	// Subject is the e-mail subject: one line. It is empty for SMS.
	Subject string
	// Body is the plain-text body.
	Body string
	// Language is the tag of the template language actually used, such as "es" or "zh-Hans".
	Language string
}

// MaxSMSLength is the most characters (Unicode code points) an SMS rendering may have, before
// the acknowledgement line a message to a victim ends with.
const MaxSMSLength = 320

// MaxAckLineLength is the most characters of the acknowledgement line of a text message to a
// victim ("Got this message? Reply YES or open <link>"), link included: a text message to a
// victim is at most MaxSMSLength + 2 + MaxAckLineLength characters.
const MaxAckLineLength = 130

// receives says which kinds each audience is sent.
var receives = map[Audience][]courtside.NotificationKind{
	AudienceVictim: {
		courtside.NotifyHearingScheduled, courtside.NotifyHearingChanged,
		courtside.NotifyHearingCancelled, courtside.NotifyReminder,
	},
	AudienceAdvocate: {
		courtside.NotifyHearingScheduled, courtside.NotifyHearingChanged,
		courtside.NotifyHearingCancelled, courtside.NotifyReminder,
		courtside.NotifyAccompanimentAssigned, courtside.NotifyNoticeSuppressed,
		courtside.NotifyNoticeUnacknowledged, courtside.NotifySMSStopped, courtside.NotifySMSStartRequested,
	},
	AudienceInterpreter: {
		courtside.NotifyHearingChanged, courtside.NotifyHearingCancelled,
		courtside.NotifyReminder, courtside.NotifyBookingOffer, courtside.NotifyBookingExpired,
	},
	AudienceCoordinator: {
		courtside.NotifyBookingUnfilled, courtside.NotifyNoticeSuppressed,
		courtside.NotifyNoticeUnacknowledged, courtside.NotifySMSStopped, courtside.NotifySMSStartRequested,
		courtside.NotifyRequestCreated,
	},
}

// AboutAHearing reports whether messages of kind k tell of a hearing. SMS_STOPPED and
// SMS_START_REQUESTED are about a victim's phone, not a hearing.
func AboutAHearing(k courtside.NotificationKind) bool {
	return k != courtside.NotifySMSStopped && k != courtside.NotifySMSStartRequested
}

// CarriesInvitation reports whether the message of delivery d, by e-mail, carries the iTIP
// object of an interpreter's booking (Worker.Invitation): the offer (a REQUEST), a move of its
// hearing (the REQUEST again, updated), the hearing's cancellation (a CANCEL) and the offer's
// expiry (a CANCEL that withdraws the invitation alone), when the delivery names the booking.
func CarriesInvitation(d *courtside.PendingDelivery) bool {
	if d.Audience != AudienceInterpreter || d.Notice.BookingID == 0 {
		return false
	}
	switch d.Kind {
	case courtside.NotifyBookingOffer, courtside.NotifyHearingChanged, courtside.NotifyHearingCancelled,
		courtside.NotifyBookingExpired:
		return true
	}
	return false
}

// Audiences lists the audiences in the order the templates document them.
var Audiences = []Audience{AudienceVictim, AudienceAdvocate, AudienceInterpreter, AudienceCoordinator}

// Receives reports whether audience a is ever sent messages of kind k.
func Receives(a Audience, k courtside.NotificationKind) bool {
	for _, known := range receives[a] {
		if known == k {
			return true
		}
	}
	return false
}

// KindsFor lists the kinds audience a is sent, in the order of courtside.NotificationKinds.
func KindsFor(a Audience) []courtside.NotificationKind {
	return append([]courtside.NotificationKind(nil), receives[a]...)
}

// DetailsFor lists the detail levels a message to audience a can be rendered at: all three for
// a victim, FULL for staff.
func DetailsFor(a Audience) []courtside.DetailLevel {
	if a == AudienceVictim {
		return []courtside.DetailLevel{courtside.DetailFull, courtside.DetailMinimal, courtside.DetailContentFree}
	}
	return []courtside.DetailLevel{courtside.DetailFull}
}
