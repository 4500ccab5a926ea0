package courtside

import "time"

// EventTopic is the event-log topic every domain event is published to. Each handler reads it
// in its own consumer group.
const EventTopic = "courtside.events"

// EventType says what happened.
type EventType string

// The event types.
const (
	EventCaseOpened            EventType = "case.opened"
	EventHearingScheduled      EventType = "hearing.scheduled"
	EventHearingChanged        EventType = "hearing.changed"
	EventHearingCancelled      EventType = "hearing.cancelled"
	EventVictimRegistered      EventType = "victim.registered"
	EventVictimLinked          EventType = "victim.linked"
	EventVictimPolicyChanged   EventType = "victim.policy_changed"
	EventAccompanimentAssigned EventType = "accompaniment.assigned"
	// Accompaniments reacting to their hearing: a move of its time or courtroom makes a
	// confirmed accompaniment need reconfirmation; a cancellation cancels a live one. They
	// carry the accompaniment, its hearing and the advocate as UserID, never the victim.
	EventAccompanimentNeedsReconfirmation EventType = "accompaniment.needs_reconfirmation"
	EventAccompanimentCancelled           EventType = "accompaniment.cancelled"

	// Interpreter bookings. They carry the booking, its hearing and, except booking.unfilled,
	// the interpreter as UserID.
	EventBookingOffered  EventType = "booking.offered"
	EventBookingAccepted EventType = "booking.accepted"
	EventBookingDeclined EventType = "booking.declined"
	EventBookingExpired  EventType = "booking.expired"
	// EventBookingUnfilled reports a declined booking that nobody was left to be offered.
	EventBookingUnfilled EventType = "booking.unfilled"
	// EventBookingNeedsReconfirmation reports an accepted booking whose hearing moved (time or
	// courtroom); EventBookingCancelled a live booking cancelled with its hearing.
	EventBookingNeedsReconfirmation EventType = "booking.needs_reconfirmation"
	EventBookingCancelled           EventType = "booking.cancelled"

	// EventReminderDue reports a planned reminder whose time has come; it carries the
	// reminder and its hearing.
	EventReminderDue EventType = "reminder.due"

	// EventRequestCreated and EventRequestClosed report a victim's request (in answer to a
	// notice) and its closing; they carry the request, the victim and the hearing.
	EventRequestCreated EventType = "request.created"
	EventRequestClosed  EventType = "request.closed"
)

// Sharing events.
const (
	// EventVictimUnlinked reports a victim's link to a case removed: by its coordinator, or
	// because the case's office withdrew the share with the victim's organisation.
	EventVictimUnlinked EventType = "victim.unlinked"
	// EventCaseShared and EventCaseUnshared report an office sharing a case with an advocacy
	// organisation (OrganizationID) and withdrawing it.
	EventCaseShared   EventType = "case.shared"
	EventCaseUnshared EventType = "case.unshared"
)

// Event is a fact written to the event log in the same transaction as the change it reports.
// It carries identifiers, never victim PII.
type Event struct {
	ID              string         `json:"id"`
	Type            EventType      `json:"type"`
	At              time.Time      `json:"at"`
	ActorID         int64          `json:"actorId,omitempty"`
	CaseID          int64          `json:"caseId,omitempty"`
	HearingID       int64          `json:"hearingId,omitempty"`
	VictimID        int64          `json:"victimId,omitempty"`
	AccompanimentID int64          `json:"accompanimentId,omitempty"`
	BookingID       int64          `json:"bookingId,omitempty"`
	UserID          int64          `json:"userId,omitempty"`
	ReminderID      int64          `json:"reminderId,omitempty"`
	OrganizationID  int64          `json:"organizationId,omitempty"`
	RequestID       int64          `json:"requestId,omitempty"`
	Sequence        int            `json:"sequence,omitempty"`
	Change          *HearingChange `json:"change,omitempty"`
}
