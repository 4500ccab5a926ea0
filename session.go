package courtside

import (
	"context"
	"time"
)

// Session rules: a session token dies after 30 idle minutes and at the latest 12 hours after
// login. Five failed logins in 15 minutes lock the account for 15 minutes.
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
	// attempt is audited. Returns EUNAUTHORIZED for wrong credentials and for a locked account,
	// with the same message, so that the answer does not tell which.
	Login(ctx context.Context, username, password string) (*Session, string, error)

	// AuthenticateSession returns the user of a live session token and extends its idle
	// timeout. Returns EUNAUTHORIZED.
	AuthenticateSession(ctx context.Context, token string) (*User, *Session, error)

	// Logout revokes the session token with immediate effect. Returns EUNAUTHORIZED.
	Logout(ctx context.Context, token string) error
}
