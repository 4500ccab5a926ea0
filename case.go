package courtside

import (
	"context"
	"strings"
	"time"
)

// Case is a prosecution, owned by one prosecutor's office. Defendant names are not stored.
type Case struct {
	ID             int64     `json:"id"`
	Docket         string    `json:"docket"`
	CourtID        int64     `json:"courtId"`
	OrganizationID int64     `json:"organizationId"`
	CreatedAt      time.Time `json:"createdAt"`
}

// Validate reports the first problem with c's fields as an EINVALID error.
func (c *Case) Validate() error {
	if strings.TrimSpace(c.Docket) == "" || len(c.Docket) > 100 {
		return Invalidf("docket", "Docket number must be 1 to 100 characters.")
	}
	if c.CourtID <= 0 {
		return Invalidf("courtId", "Court is required.")
	}
	return nil
}

// CaseVictim is a victim's link to a case, whether the victim attends its hearings, and
// whether an advocate accompanies the victim to one of them (a live accompaniment).
type CaseVictim struct {
	CaseID      int64 `json:"caseId"`
	VictimID    int64 `json:"victimId"`
	Attends     bool  `json:"attends"`
	Accompanied bool  `json:"accompanied"`
}

// CaseShare is a prosecutor's office's decision to let an advocacy organisation work on one of
// its cases: while it stands, the organisation's coordinators see the case and its hearings
// and may link the organisation's victims to it.
type CaseShare struct {
	CaseID         int64         `json:"caseId"`
	OrganizationID int64         `json:"organizationId"`
	Organization   *Organization `json:"organization,omitempty"`
	SharedAt       time.Time     `json:"sharedAt"`
	// SharedBy is the username of who shared it.
	SharedBy string `json:"sharedBy,omitempty"`
}

// AccessRequestStatus is where a request for access to a case stands.
type AccessRequestStatus string

// The access request statuses.
const (
	AccessPending AccessRequestStatus = "PENDING"
	AccessGranted AccessRequestStatus = "GRANTED"
	AccessRefused AccessRequestStatus = "REFUSED"
)

// AccessRequestStatuses lists every status, in the order of the schema's enum.
var AccessRequestStatuses = []AccessRequestStatus{AccessPending, AccessGranted, AccessRefused}

// CaseAccessRequest is an advocacy organisation's request to have a case shared with it. It
// names the case by court and docket number, which the organisation knows from the court
// record, not by ID: the request answers the same whether or not such a case exists, and the
// office that owns the docket sees it.
type CaseAccessRequest struct {
	ID             int64               `json:"id"`
	OrganizationID int64               `json:"organizationId"`
	Organization   *Organization       `json:"organization,omitempty"`
	CourtID        int64               `json:"courtId"`
	Docket         string              `json:"docket"`
	Note           string              `json:"note,omitempty"`
	Status         AccessRequestStatus `json:"status"`
	RequestedAt    time.Time           `json:"requestedAt"`
	DecidedAt      *time.Time          `json:"decidedAt,omitempty"`
	// CaseID is the matching case, filled in only for the office that owns it.
	CaseID int64 `json:"caseId,omitempty"`
}

// MaxAccessNote bounds the note of an access request.
const MaxAccessNote = 500

// Validate reports the first problem with r's fields as an EINVALID error.
func (r *CaseAccessRequest) Validate() error {
	if strings.TrimSpace(r.Docket) == "" || len(r.Docket) > 100 {
		return Invalidf("docket", "Docket number must be 1 to 100 characters.")
	}
	if r.CourtID <= 0 {
		return Invalidf("courtId", "Court is required.")
	}
	if len(r.Note) > MaxAccessNote {
		return Invalidf("note", "The note must be at most %d characters.", MaxAccessNote)
	}
	return nil
}

// CanShareCasesOf reports whether u may share, unshare and answer requests for the cases of
// the organisation caseOrgID: a prosecutor of the office that owns them.
func CanShareCasesOf(u *User, caseOrgID int64) bool {
	return CanChangeHearingsOf(u, caseOrgID)
}

// CanRequestCaseAccess reports whether u may ask an office to share a case: a coordinator.
func CanRequestCaseAccess(u *User) bool {
	return u != nil && u.Role == RoleCoordinator && u.OrganizationID != 0
}

// CaseService manages cases, their sharing with advocacy organisations and the victims linked
// to them.
//
// Sharing is the office's decision. Only a case shared with the caller's organisation is
// visible to its coordinators, and only such a case takes links to the organisation's victims;
// to any other organisation it answers ENOTFOUND exactly as a case that does not exist.
// Withdrawing a share ends the organisation's access to the docket at once: its victims'
// links to the case are removed and its advocates' live accompaniments to the case's hearings
// are cancelled, in the same transaction.
type CaseService interface {
	// OpenCase opens a case for the caller's prosecutor's office. Returns EINVALID, EFORBIDDEN,
	// ENOTFOUND (court) or ECONFLICT (docket already open in that court).
	OpenCase(ctx context.Context, c *Case) error

	// FindCaseByID returns a case the caller may see. Returns ENOTFOUND.
	FindCaseByID(ctx context.Context, id int64) (*Case, error)

	// FindCaseByDocket returns the organisation's case with the docket number in the court.
	// Returns ENOTFOUND.
	FindCaseByDocket(ctx context.Context, orgID, courtID int64, docket string) (*Case, error)

	// LinkVictim links a victim of the caller's organisation to a case shared with it
	// (coordinators). Linking again updates attends. Returns EFORBIDDEN or ENOTFOUND (the
	// victim, or a case that is not shared with the caller's organisation).
	LinkVictim(ctx context.Context, caseID, victimID int64, attends bool) error

	// UnlinkVictim removes a victim of the caller's organisation from a case (coordinators),
	// and cancels the live accompaniments of the victim to the case's hearings. Returns
	// EFORBIDDEN or ENOTFOUND (the victim, the case, or a victim not linked to it).
	UnlinkVictim(ctx context.Context, caseID, victimID int64) error

	// FindCaseVictims returns the victims linked to the cases, with whether each is
	// accompanied to a hearing of the case. Callers show only the links to victims the user
	// may see (VictimService.FindVictims).
	FindCaseVictims(ctx context.Context, caseIDs ...int64) ([]*CaseVictim, error)

	// ShareCase shares a case of the caller's office with the advocacy organisation named
	// orgName (prosecutors), and grants the organisation's pending requests for the case.
	// Sharing again changes nothing. Returns EFORBIDDEN, ENOTFOUND (case) or EINVALID (no
	// advocacy organisation of that name).
	ShareCase(ctx context.Context, caseID int64, orgName string) (*CaseShare, error)

	// UnshareCase withdraws a share (prosecutors of the case's office): the organisation loses
	// the docket, its victims' links to the case are removed and its live accompaniments to the
	// case's hearings cancelled. Returns EFORBIDDEN, ENOTFOUND (case, or no such share) or
	// EINVALID.
	UnshareCase(ctx context.Context, caseID int64, orgName string) error

	// FindCaseShares returns the shares of the cases the caller may see: an office all of its
	// cases' shares, an advocacy organisation's members only their organisation's.
	FindCaseShares(ctx context.Context, caseIDs ...int64) ([]*CaseShare, error)

	// FindSharedCases returns the cases shared with the caller's organisation, newest share
	// first (coordinators and advocates), or the office's shared cases (prosecutors).
	FindSharedCases(ctx context.Context) ([]*CaseShare, error)

	// RequestCaseAccess asks the office that owns the docket in the court to share it with
	// the caller's organisation (coordinators). The answer is the same whether or not such a
	// case exists. Returns EFORBIDDEN, EINVALID or ECONFLICT (a request of the organisation for
	// that docket is already pending).
	RequestCaseAccess(ctx context.Context, r *CaseAccessRequest) error

	// DecideCaseAccess grants (sharing the case) or refuses a pending request for a case of
	// the caller's office (prosecutors). Refusing removes links the requesting organisation
	// already has to the case, as withdrawing a share does. Returns EFORBIDDEN, ENOTFOUND or
	// ECONFLICT (already decided).
	DecideCaseAccess(ctx context.Context, requestID int64, grant bool) (*CaseAccessRequest, error)

	// FindCaseAccessRequests returns, newest first, the requests the caller may see with the
	// given status (any when nil): an office the requests for its cases' dockets, a coordinator
	// its organisation's.
	FindCaseAccessRequests(ctx context.Context, status *AccessRequestStatus) ([]*CaseAccessRequest, error)
}
