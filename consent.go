package courtside

import (
	"strings"
	"time"
)

// Consent is a victim's purpose-scoped, time-limited, revocable release of information
// (VAWA, 34 U.S.C. 12291(b)(2)): no release, no disclosure of the victim's PII outside the
// advocacy organisation.
type Consent struct {
	ID        int64      `json:"id"`
	VictimID  int64      `json:"victimId"`
	Purpose   string     `json:"purpose"`
	Recipient string     `json:"recipient"`
	GrantedAt time.Time  `json:"grantedAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// MaxConsentLength bounds a release; VAWA releases are time-limited.
const MaxConsentLength = 366 * 24 * time.Hour

// Validate reports the first problem with c's fields as an EINVALID error.
func (c *Consent) Validate() error {
	if strings.TrimSpace(c.Purpose) == "" || len(c.Purpose) > 200 {
		return Invalidf("purpose", "Purpose must be 1 to 200 characters.")
	}
	if strings.TrimSpace(c.Recipient) == "" || len(c.Recipient) > 200 {
		return Invalidf("recipient", "Recipient must be 1 to 200 characters.")
	}
	if !c.ExpiresAt.After(c.GrantedAt) {
		return Invalidf("expiresAt", "A release must expire after it is granted.")
	}
	if c.ExpiresAt.Sub(c.GrantedAt) > MaxConsentLength {
		return Invalidf("expiresAt", "A release may last at most a year; renew it instead.")
	}
	return nil
}

// ActiveAt reports whether the release allows disclosure for purpose at time t: granted,
// not yet expired, not revoked, and for the same purpose.
func (c *Consent) ActiveAt(purpose string, t time.Time) bool {
	if c.RevokedAt != nil && !t.Before(*c.RevokedAt) {
		return false
	}
	return strings.EqualFold(c.Purpose, purpose) && !t.Before(c.GrantedAt) && t.Before(c.ExpiresAt)
}

// Revoke ends the release at t. Revoking twice keeps the first time.
func (c *Consent) Revoke(t time.Time) {
	if c.RevokedAt == nil {
		at := t.UTC()
		c.RevokedAt = &at
	}
}
