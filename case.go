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

// CaseVictim is a victim's link to a case, and whether the victim attends its hearings.
type CaseVictim struct {
	CaseID   int64 `json:"caseId"`
	VictimID int64 `json:"victimId"`
	Attends  bool  `json:"attends"`
}

// CaseService manages cases and the victims linked to them.
type CaseService interface {
	// OpenCase opens a case for the caller's prosecutor's office. Returns EINVALID, EFORBIDDEN,
	// ENOTFOUND (court) or ECONFLICT (docket already open in that court).
	OpenCase(ctx context.Context, c *Case) error

	// FindCaseByID returns a case the caller may see. Returns ENOTFOUND.
	FindCaseByID(ctx context.Context, id int64) (*Case, error)

	// FindCaseByDocket returns the organisation's case with the docket number in the court.
	// Returns ENOTFOUND.
	FindCaseByDocket(ctx context.Context, orgID, courtID int64, docket string) (*Case, error)

	// LinkVictim links a victim of the caller's organisation to a case (coordinators).
	// Linking again updates attends. Returns EFORBIDDEN or ENOTFOUND.
	LinkVictim(ctx context.Context, caseID, victimID int64, attends bool) error

	// FindCaseVictims returns the victims linked to the cases.
	FindCaseVictims(ctx context.Context, caseIDs ...int64) ([]*CaseVictim, error)
}
