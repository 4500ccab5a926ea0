package courtside

import (
	"strings"
	"time"
)

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
	Lead      Lead           `json:"lead"`
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

// Audience is the part a recipient plays for a hearing; it decides which messages and
// reminders the recipient gets.
type Audience string

// The audiences.
const (
	AudienceVictim      Audience = "VICTIM"
	AudienceAdvocate    Audience = "ADVOCATE"
	AudienceInterpreter Audience = "INTERPRETER"
	AudienceCoordinator Audience = "COORDINATOR"
)

// Lead is when a reminder fires: a duration before the hearing starts, or a wall-clock time on
// the hearing's day in the court's zone.
type Lead struct {
	Before time.Duration
	// At is "HH:MM" when the lead is a time on the hearing's day; Before is then zero.
	At string
}

// String returns the lead as stored: "168h0m0s" or "@07:00".
func (l Lead) String() string {
	if l.At != "" {
		return "@" + l.At
	}
	return l.Before.String()
}

// ParseLead parses a lead: a Go duration such as 168h or 2h30m, or @HH:MM.
func ParseLead(s string) (Lead, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "@") {
		if _, err := time.Parse("15:04", s[1:]); err != nil || len(s) != 6 {
			return Lead{}, Invalidf("reminders", "Lead %q: a time on the hearing's day is written @HH:MM, e.g. @07:00.", s)
		}
		return Lead{At: s[1:]}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > 90*24*time.Hour {
		return Lead{}, Invalidf("reminders", "Lead %q: give a duration such as 168h or 2h, at most 90 days.", s)
	}
	return Lead{Before: d}, nil
}

// DueAt returns when a reminder with this lead fires for a hearing starting at start in zone.
func (l Lead) DueAt(start time.Time, zone *time.Location) time.Time {
	if l.At == "" {
		return start.Add(-l.Before)
	}
	at, _ := time.Parse("15:04", l.At)
	local := start.In(zone)
	due := time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, zone)
	if due.After(start) {
		// An "on the day" reminder later than the hearing itself fires the day before.
		due = due.AddDate(0, 0, -1)
	}
	return due.UTC()
}

// ReminderPlan says which leads each audience gets.
type ReminderPlan map[Audience][]Lead

// DefaultReminderPlan is the plan of the issue: victims 7 days and 1 day before, advocates 2
// days and 2 hours before, interpreters 2 days before and at 07:00 on the day.
func DefaultReminderPlan() ReminderPlan {
	return ReminderPlan{
		AudienceVictim:      {{Before: 7 * 24 * time.Hour}, {Before: 24 * time.Hour}},
		AudienceAdvocate:    {{Before: 48 * time.Hour}, {Before: 2 * time.Hour}},
		AudienceInterpreter: {{Before: 48 * time.Hour}, {At: "07:00"}},
	}
}

// ParseReminderPlan parses a plan written "victim=168h,24h;advocate=48h,2h;interpreter=48h,@07:00".
// Audiences it does not name keep the default leads; an audience given with no leads gets none.
func ParseReminderPlan(s string) (ReminderPlan, error) {
	plan := DefaultReminderPlan()
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, leads, ok := strings.Cut(part, "=")
		if !ok {
			return nil, Invalidf("reminders", "%q: write audience=lead,lead, e.g. victim=168h,24h.", part)
		}
		a := Audience(strings.ToUpper(strings.TrimSpace(name)))
		switch a {
		case AudienceVictim, AudienceAdvocate, AudienceInterpreter:
		default:
			return nil, Invalidf("reminders", "Unknown audience %q: use victim, advocate or interpreter.", name)
		}
		plan[a] = nil
		for _, l := range strings.Split(leads, ",") {
			if strings.TrimSpace(l) == "" {
				continue
			}
			lead, err := ParseLead(l)
			if err != nil {
				return nil, err
			}
			plan[a] = append(plan[a], lead)
		}
	}
	return plan, nil
}
