package courtside

import (
	"context"
	"time"
)

// TokenKind says what a secret is for. Each kind is accepted in one place only.
type TokenKind string

// The kinds of secret.
const (
	TokenAPI  TokenKind = "api"  // bearer token for GraphQL
	TokenApp  TokenKind = "app"  // app password for CalDAV Basic auth
	TokenFeed TokenKind = "feed" // secret webcal feed URL
)

// ParseTokenKind parses a token kind.
func ParseTokenKind(s string) (TokenKind, error) {
	switch k := TokenKind(s); k {
	case TokenAPI, TokenApp, TokenFeed:
		return k, nil
	}
	return "", Invalidf("kind", "Kind must be one of api, app, feed.")
}

// Token is an issued secret. Only its hash is stored; the secret is shown once, at issue.
type Token struct {
	ID        int64      `json:"id"`
	UserID    int64      `json:"userId"`
	Kind      TokenKind  `json:"kind"`
	Label     string     `json:"label"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// LastUsedAt is when the secret last authenticated a request, to the minute (it is
	// written at most once a minute); nil when never.
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// MaxTokensListed caps one listing of a user's secrets.
const MaxTokensListed = 200

// TokenUseResolution is how often a secret's LastUsedAt is written at most.
const TokenUseResolution = time.Minute

// TokenService issues, checks and revokes secrets.
type TokenService interface {
	// CreateToken issues a secret for the user and returns it with its record. The secret is
	// never stored or returned again. Returns EINVALID or ENOTFOUND.
	CreateToken(ctx context.Context, userID int64, kind TokenKind, label string) (*Token, string, error)

	// Authenticate returns the user who owns a live secret of the given kind. Returns
	// EUNAUTHORIZED for an unknown, revoked or wrong-kind secret.
	Authenticate(ctx context.Context, kind TokenKind, secret string) (*User, error)

	// AuthenticatePassword checks an app password for the named user (CalDAV Basic auth; the
	// account password is never accepted there). Returns EUNAUTHORIZED.
	AuthenticateAppPassword(ctx context.Context, username, secret string) (*User, error)

	// RevokeToken revokes a secret of the caller's, or any for an admin. Returns ENOTFOUND.
	RevokeToken(ctx context.Context, id int64) error

	// ListTokens returns the user's live secrets (not revoked), oldest first, at most limit
	// (MaxTokensListed when limit <= 0 or above it), without the secrets themselves. The caller
	// in ctx must be the user or an admin (none: the command line). Returns EFORBIDDEN.
	ListTokens(ctx context.Context, userID int64, limit int) ([]*Token, error)
}
