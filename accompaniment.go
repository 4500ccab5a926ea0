package courtside

import (
	"context"
	"time"
)

// AccompanimentStatus is where an advocate's accompaniment of a victim to a hearing stands.
type AccompanimentStatus string

// The accompaniment statuses.
const (
	AccompanimentAssigned            AccompanimentStatus = "ASSIGNED"
	AccompanimentConfirmed           AccompanimentStatus = "CONFIRMED"
	AccompanimentCancelled           AccompanimentStatus = "CANCELLED"
	AccompanimentNeedsReconfirmation AccompanimentStatus = "NEEDS_RECONFIRMATION"
)

// Accompaniment is an advocate going with a victim to a hearing.
type Accompaniment struct {
	ID           int64               `json:"id"`
	HearingID    int64               `json:"hearingId"`
	VictimID     int64               `json:"victimId"`
	AdvocateID   int64               `json:"advocateId"`
	Status       AccompanimentStatus `json:"status"`
	MeetingPoint string              `json:"meetingPoint,omitempty"`
	CreatedAt    time.Time           `json:"createdAt"`
	UpdatedAt    time.Time           `json:"updatedAt"`
}

// Live reports whether the accompaniment still stands.
func (a *Accompaniment) Live() bool { return a.Status != AccompanimentCancelled }

// Confirm records the advocate's confirmation.
func (a *Accompaniment) Confirm(at time.Time) error {
	if a.Status != AccompanimentAssigned && a.Status != AccompanimentNeedsReconfirmation {
		return Errorf(ECONFLICT, "Accompaniment is %s and cannot be confirmed.", a.Status)
	}
	a.Status = AccompanimentConfirmed
	a.UpdatedAt = at.UTC()
	return nil
}

// HearingMoved reacts to a change of the hearing's time or court: a confirmed accompaniment
// needs reconfirmation. It reports whether the status changed.
func (a *Accompaniment) HearingMoved(at time.Time) bool {
	if a.Status != AccompanimentConfirmed {
		return false
	}
	a.Status = AccompanimentNeedsReconfirmation
	a.UpdatedAt = at.UTC()
	return true
}

// HearingCancelled cancels a live accompaniment. It reports whether the status changed.
func (a *Accompaniment) HearingCancelled(at time.Time) bool {
	if !a.Live() {
		return false
	}
	a.Status = AccompanimentCancelled
	a.UpdatedAt = at.UTC()
	return true
}

// AccompanimentFilter selects accompaniments.
type AccompanimentFilter struct {
	HearingIDs []int64
	AdvocateID *int64
}

// AccompanimentService manages accompaniments.
type AccompanimentService interface {
	// AssignAdvocate assigns an advocate of the caller's organisation to accompany a victim of
	// the organisation, linked to the hearing's case, to the hearing (coordinators). Assigning
	// the same advocate again returns the live accompaniment. Returns EINVALID, EFORBIDDEN,
	// ENOTFOUND or ECONFLICT (hearing no longer open).
	AssignAdvocate(ctx context.Context, hearingID, victimID, advocateID int64) (*Accompaniment, error)

	// FindAccompaniments returns the accompaniments the caller may see that match filter.
	FindAccompaniments(ctx context.Context, filter AccompanimentFilter) ([]*Accompaniment, error)
}
