package web

import (
	"courtside"

	"context"
	"time"
)

// Pieces of Courtside that a build may not have yet: the web app takes them through these
// small interfaces, and a nil one makes its page say plainly that it is not available.

// VictimRequest is a victim's request (courtside.Request: to attend, to be accompanied, for an
// interpreter or transport, or to have texts restarted after STOP) as the coordinator's page
// shows it: by pseudonym, never by name.
type VictimRequest struct {
	ID        int64
	VictimID  int64
	Pseudonym string
	// HearingID is the hearing the request is about, 0 for none.
	HearingID  int64
	Kind       courtside.RequestKind
	Open       bool
	ReceivedAt time.Time
	ClosedAt   *time.Time
	// ClosedBy is the username of who closed it.
	ClosedBy string
	// Restored is true when closing it restored the victim's text messages.
	Restored bool
}

// RestartsSMS reports whether closing the request means confirming that texts may start again.
func (r VictimRequest) RestartsSMS() bool { return r.Kind == courtside.RequestSMSRestart }

// Asks is what the victim asks for, in English words (the page translates them).
func (r VictimRequest) Asks() string {
	switch r.Kind {
	case courtside.RequestAttend:
		return "Will attend"
	case courtside.RequestAccompaniment:
		return "Needs someone to go with them"
	case courtside.RequestInterpreter:
		return "Needs an interpreter"
	case courtside.RequestTransport:
		return "Needs transport"
	case courtside.RequestSMSRestart:
		return "Asks for text messages again (START)"
	}
	return string(r.Kind)
}

// FailedEvent is an event that a consumer group gave up on after its attempts (a dead
// letter), as the admin's page shows it: what, where and why, never a payload.
type FailedEvent struct {
	ID       int64
	Consumer string
	Type     string
	Attempts int
	Error    string
	FailedAt time.Time
}

// FailedEventService lists failed events and hands them back to their consumer group (admins
// only).
type FailedEventService interface {
	// FindFailedEvents returns the failed events, newest first, at most limit.
	FindFailedEvents(ctx context.Context, limit int) ([]FailedEvent, error)
	// RetryFailedEvent hands a failed event back to its consumer group. Returns ENOTFOUND or
	// EFORBIDDEN.
	RetryFailedEvent(ctx context.Context, id int64) error
}

// DocketPreview is what a docket CSV would do, found without writing anything.
type DocketPreview struct {
	// Lines are the lines that parsed, in file order.
	Lines []DocketLine
	// Problems are the lines that did not, each naming its line and column.
	Problems []DocketProblem
	// More is true when parsing stopped looking for problems after the first few.
	More bool
}

// DocketLine is one hearing of a docket CSV.
type DocketLine struct {
	Line       int
	ExternalID string
	Docket     string
	Court      string
	Zone       *time.Location
	Kind       string
	StartsAt   time.Time
	EndsAt     time.Time
	Courtroom  string
	Status     string
}

// DocketProblem is one line of a docket CSV that would be refused.
type DocketProblem struct {
	Line    int
	Message string
}
