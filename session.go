package courtside

import (
	"context"
	"time"
)

// Session rules: a session token dies after 30 idle minutes and at the latest 12 hours after
// login. Five failed logins in 15 minutes lock the account for 15 minutes: at most
// LoginFailureLimit guesses are ever checked against an account's password per window, however
// many attempts arrive at once.
const (
	SessionIdleTimeout     = 30 * time.Minute
	SessionAbsoluteTimeout = 12 * time.Hour
	LoginFailureLimit      = 5
	LoginFailureWindow     = 15 * time.Minute
	LoginLockout           = 15 * time.Minute
)

// Session is a person's signed-in session. Its token is shown once, at login.
type Session struct {
	ID        int64     `json:"id"`
	UserID    int64     `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// SessionService signs people in and out.
type SessionService interface {
	// Login checks a username and password and opens a session, returning its token. Every
	// attempt that is checked is audited. Returns EUNAUTHORIZED for wrong credentials, an
	// unknown user and a locked account alike, with the same message and at the same cost, so
	// that the answer does not tell which; ERATELIMITED when attempts from the client's address
	// (ClientAddrFromContext) or for the username come too often.
	Login(ctx context.Context, username, password string) (*Session, string, error)

	// VerifyPassword checks the password of the user again (re-authentication before a
	// sensitive operation), under the same throttling and lockout as Login, and audits it.
	// Returns EFORBIDDEN for a wrong password or a locked account, ERATELIMITED.
	VerifyPassword(ctx context.Context, userID int64, password string) error

	// AuthenticateSession returns the user of a live session token and extends its idle
	// timeout. Returns EUNAUTHORIZED.
	AuthenticateSession(ctx context.Context, token string) (*User, *Session, error)

	// Logout revokes the session token with immediate effect. Returns EUNAUTHORIZED.
	Logout(ctx context.Context, token string) error
}
