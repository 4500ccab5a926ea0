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
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	VictimID  *int64
	HearingID *int64
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
