package courtside

import (
	"context"
	"time"
)

// RequestKind is what a victim asks for in answer to a notice.
type RequestKind string

// The request kinds. The first four are the answers a notice's page (and the keywords of a
// text reply) offer; SMS_RESTART is made when a victim's phone answers START after STOP.
const (
	RequestAttend        RequestKind = "ATTEND"
	RequestAccompaniment RequestKind = "ACCOMPANIMENT"
	RequestInterpreter   RequestKind = "INTERPRETER"
	RequestTransport     RequestKind = "TRANSPORT"
	RequestSMSRestart    RequestKind = "SMS_RESTART"
)

// AnswerKinds are the answers a victim may give to a notice, in the order the page shows
// them: "I will attend", "I need someone to go with me", "I need an interpreter", "I need
// transport".
var AnswerKinds = []RequestKind{RequestAttend, RequestAccompaniment, RequestInterpreter, RequestTransport}

// RequestKinds lists every kind.
var RequestKinds = append(append([]RequestKind(nil), AnswerKinds...), RequestSMSRestart)

// ParseAnswer parses one of AnswerKinds.
func ParseAnswer(s string) (RequestKind, error) {
	for _, k := range AnswerKinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", Invalidf("answer", "Answer must be one of ATTEND, ACCOMPANIMENT, INTERPRETER, TRANSPORT.")
}

// AnswersOffered returns the answers the page of a notice of kind k sent at detail level d
// offers: none at CONTENT_FREE, whose page must say nothing the message did not, and none for
// a cancelled hearing, which there is nothing to prepare for.
func AnswersOffered(k NotificationKind, d DetailLevel) []RequestKind {
	if d == DetailContentFree || k == NotifyHearingCancelled {
		return nil
	}
	return AnswerKinds
}

// RequestStatus is where a request stands.
type RequestStatus string

// The request statuses: open until someone handles it.
const (
	RequestOpen   RequestStatus = "OPEN"
	RequestClosed RequestStatus = "CLOSED"
)

// Request is something a victim asked for in answer to a notice: a task for the organisation's
// coordinators, open until one of them (or an advocate accompanying the victim) closes it.
// One kind of request is open at most once per victim and hearing.
type Request struct {
	ID             int64         `json:"id"`
	OrganizationID int64         `json:"organizationId"`
	VictimID       int64         `json:"victimId"`
	HearingID      int64         `json:"hearingId,omitempty"`
	DeliveryID     int64         `json:"deliveryId,omitempty"`
	Kind           RequestKind   `json:"kind"`
	Via            AckMethod     `json:"via"`
	Status         RequestStatus `json:"status"`
	CreatedAt      time.Time     `json:"createdAt"`
	ClosedAt       *time.Time    `json:"closedAt,omitempty"`
	ClosedBy       int64         `json:"closedBy,omitempty"`
	// Outcome says how a closed request was handled: "SMS_RESTORED" for a confirmed restart,
	// else "".
	Outcome string `json:"outcome,omitempty"`
}

// RequestFilter selects requests.
type RequestFilter struct {
	Status   *RequestStatus
	VictimID *int64
}

// RequestService lists and closes victims' requests.
type RequestService interface {
	// FindRequests returns the requests the caller may see, oldest first: a coordinator's
	// organisation's, an advocate's accompanied victims'. Other roles are FORBIDDEN.
	FindRequests(ctx context.Context, f RequestFilter) ([]*Request, error)
	// CloseRequest closes an open request as handled (ECONFLICT when closed already).
	// Returns ENOTFOUND for a request the caller may not see.
	CloseRequest(ctx context.Context, id int64) (*Request, error)
	// ConfirmSMSRestart confirms an SMS_RESTART request: SMS is allowed again in the victim's
	// policy at the detail it had before STOP, and the request is closed. Only a coordinator
	// of the victim's organisation or an advocate accompanying the victim may.
	ConfirmSMSRestart(ctx context.Context, id int64) (*Request, error)

	// SMSHelp returns the caller's organisation's HELP settings (coordinators), nil when unset.
	SMSHelp(ctx context.Context) (*SMSHelpSettings, error)
	// SetSMSHelp sets them (coordinators). Returns EINVALID or EFORBIDDEN.
	SetSMSHelp(ctx context.Context, s SMSHelpSettings) (*SMSHelpSettings, error)
}
