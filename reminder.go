package courtside

import "time"

// ReminderStatus is where a planned reminder stands.
type ReminderStatus string

// The reminder statuses. A reminder is superseded when its hearing moves (a new one is planned
// for the new time) and cancelled when the hearing is cancelled.
const (
	ReminderPlanned    ReminderStatus = "PLANNED"
	ReminderFired      ReminderStatus = "FIRED"
	ReminderSuperseded ReminderStatus = "SUPERSEDED"
	ReminderCancelled  ReminderStatus = "CANCELLED"
)

// Reminder is a row, not a delayed message: hearings are continued all the time and a delayed
// message cannot be taken back.
type Reminder struct {
	ID        int64          `json:"id"`
	HearingID int64          `json:"hearingId"`
	VictimID  int64          `json:"victimId,omitempty"`
	UserID    int64          `json:"userId,omitempty"`
	Lead      time.Duration  `json:"lead"`
	DueAt     time.Time      `json:"dueAt"`
	Sequence  int            `json:"sequence"`
	Status    ReminderStatus `json:"status"`
}

// HearingMoved supersedes a planned reminder planned for an older sequence of the hearing.
// It reports whether the status changed.
func (r *Reminder) HearingMoved(sequence int) bool {
	if r.Status != ReminderPlanned || r.Sequence >= sequence {
		return false
	}
	r.Status = ReminderSuperseded
	return true
}

// HearingCancelled cancels a planned reminder. It reports whether the status changed.
func (r *Reminder) HearingCancelled() bool {
	if r.Status != ReminderPlanned {
		return false
	}
	r.Status = ReminderCancelled
	return true
}

// Due reports whether a planned reminder should fire at t.
func (r *Reminder) Due(t time.Time) bool {
	return r.Status == ReminderPlanned && !t.Before(r.DueAt)
}
