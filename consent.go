package courtside

import (
	"context"
	"strings"
	"time"
)

// ReleasePurpose is what a victim's release of information allows Courtside to disclose, and
// to whom: a release is purpose-scoped, and a disclosure checks the purpose it serves.
type ReleasePurpose string

// The release purposes.
const (
	// PurposeCaseCoordination lets the recipient prosecutor's office see, for its cases to
	// which the victim is linked, the victim's pseudonym, whether the victim attends and
	// whether an advocate accompanies the victim. Without it the office sees how many victims
	// are linked, nothing more.
	PurposeCaseCoordination ReleasePurpose = "CASE_COORDINATION"
)

// ReleasePurposes lists every purpose, in the order of the schema's enum.
var ReleasePurposes = []ReleasePurpose{PurposeCaseCoordination}

// ParseReleasePurpose parses a purpose name in any letter case.
func ParseReleasePurpose(s string) (ReleasePurpose, error) {
	p := ReleasePurpose(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range ReleasePurposes {
		if p == known {
			return p, nil
		}
	}
	return "", Invalidf("purpose", "Purpose must be CASE_COORDINATION.")
}

// Release is a victim's release of information (VAWA, 34 U.S.C. 12291(b)(2)): informed,
// written, purpose-scoped, time-limited and revocable. Without an active release to it, no
// organisation outside the victim's own learns anything about the victim from Courtside but a
// count. Courtside records that the written release exists (Reference says where the signed
// paper is kept) and when it was signed; it checks the release at every read, against the
// clock, so an expired or revoked release stops disclosure by itself.
type Release struct {
	ID       int64 `json:"id"`
	VictimID int64 `json:"victimId"`
	// RecipientID is the organisation the victim releases information to: a prosecutor's
	// office (KindProsecution).
	RecipientID int64          `json:"recipientId"`
	Recipient   *Organization  `json:"recipient,omitempty"`
	Purpose     ReleasePurpose `json:"purpose"`
	// Reference says where the signed written release is kept, such as "form R-7 in the
	// victim's file"; sealed at rest, since it may say more about the victim than intended.
	Reference  string     `json:"-"`
	GrantedAt  time.Time  `json:"grantedAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	RecordedAt time.Time  `json:"recordedAt"`
	// RecordedBy is the username of the coordinator who recorded it.
	RecordedBy string `json:"recordedBy,omitempty"`
	// Active reports whether the release allowed disclosure when it was read.
	Active bool `json:"active"`
}

// MaxReleaseLength bounds a release; VAWA releases are time-limited.
const MaxReleaseLength = 366 * 24 * time.Hour

// MaxReleaseReference bounds a release's reference to its written form.
const MaxReleaseReference = 200

// Validate reports the first problem with r's fields as an EINVALID error, now being the time
// the release is recorded: a known purpose, a reference to the written release, signed no
// later than now, expiring after now and at most MaxReleaseLength after it was signed.
func (r *Release) Validate(now time.Time) error {
	if _, err := ParseReleasePurpose(string(r.Purpose)); err != nil {
		return err
	}
	if strings.TrimSpace(r.Reference) == "" || len(r.Reference) > MaxReleaseReference {
		return Invalidf("reference", "Say where the signed written release is kept, in 1 to %d characters.", MaxReleaseReference)
	}
	if r.GrantedAt.IsZero() {
		return Invalidf("grantedAt", "The date the release was signed is required.")
	}
	if r.GrantedAt.After(now) {
		return Invalidf("grantedAt", "A release cannot be signed in the future.")
	}
	if !r.ExpiresAt.After(r.GrantedAt) {
		return Invalidf("expiresAt", "A release must expire after it is signed.")
	}
	if !r.ExpiresAt.After(now) {
		return Invalidf("expiresAt", "That release has already expired; record a new one instead.")
	}
	if r.ExpiresAt.Sub(r.GrantedAt) > MaxReleaseLength {
		return Invalidf("expiresAt", "A release may last at most a year; renew it instead.")
	}
	return nil
}

// ActiveAt reports whether the release allows disclosure for purpose at time t: signed, not
// yet expired, not revoked, and for that purpose.
func (r *Release) ActiveAt(purpose ReleasePurpose, t time.Time) bool {
	if r.RevokedAt != nil && !t.Before(*r.RevokedAt) {
		return false
	}
	return r.Purpose == purpose && !t.Before(r.GrantedAt) && t.Before(r.ExpiresAt)
}

// Revoke ends the release at t. Revoking twice keeps the first time.
func (r *Release) Revoke(t time.Time) {
	if r.RevokedAt == nil {
		at := t.UTC()
		r.RevokedAt = &at
	}
}

// CanManageReleasesOf reports whether u may record, revoke and read the releases of a victim of
// the organisation orgID: the victim's own coordinators.
func CanManageReleasesOf(u *User, orgID int64) bool {
	return CanManageVictimsOf(u, orgID)
}

// ReleaseService is the consent ledger: the victims' releases of information. Every call is
// audited by victim.
type ReleaseService interface {
	// RecordRelease records a victim's written release to the prosecutor's office named
	// recipient (coordinators of the victim's organisation); a zero GrantedAt means now.
	// Returns EINVALID, EFORBIDDEN or ENOTFOUND (victim).
	RecordRelease(ctx context.Context, r *Release, recipient string) error

	// RevokeRelease revokes a release now; revoking again changes nothing (coordinators of the
	// victim's organisation). Returns EFORBIDDEN or ENOTFOUND.
	RevokeRelease(ctx context.Context, id int64) (*Release, error)

	// FindReleases returns a victim's releases, newest first, with their references opened
	// (coordinators of the victim's organisation). Returns EFORBIDDEN or ENOTFOUND.
	FindReleases(ctx context.Context, victimID int64) ([]*Release, error)
}
