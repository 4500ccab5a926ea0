package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"database/sql"

	"courtside"
)

// TokenService is the database's service for API tokens, app passwords and feed secrets.
type TokenService struct {
	db *DB
}

// NewTokenService returns the token service of db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

var _ courtside.TokenService = (*TokenService)(nil)

// secretPrefix marks each kind of secret, so a leaked one is recognisable in a scan.
var secretPrefix = map[courtside.TokenKind]string{
	courtside.TokenAPI: "cs_api_", courtside.TokenApp: "cs_app_", courtside.TokenFeed: "cs_feed_",
}

// CreateToken issues a 256-bit random secret; only its SHA-256 is stored.
func (s *TokenService) CreateToken(ctx context.Context, userID int64, kind courtside.TokenKind, label string) (*courtside.Token, string, error) {
	if _, err := courtside.ParseTokenKind(string(kind)); err != nil {
		return nil, "", err
	}
	label = strings.TrimSpace(label)
	if len(label) > 100 {
		return nil, "", courtside.Invalidf("label", "Label must be at most 100 characters.")
	}
	if caller := courtside.UserFromContext(ctx); caller != nil && caller.ID != userID && caller.Role != courtside.RoleAdmin {
		return nil, "", courtside.Errorf(courtside.EFORBIDDEN, "You may issue secrets only for yourself.")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("storage: token: %w", err)
	}
	secret := secretPrefix[kind] + base64.RawURLEncoding.EncodeToString(raw)
	t := &courtside.Token{UserID: userID, Kind: kind, Label: label}
	err := s.db.update(ctx, func(tx *Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, userID).Scan(&exists); err != nil {
			return fmt.Errorf("storage: token user: %w", err)
		} else if exists == 0 {
			return courtside.Errorf(courtside.ENOTFOUND, "User not found.")
		}
		t.CreatedAt = tx.now
		err := tx.QueryRowContext(ctx, `INSERT INTO tokens (user_id, kind, label, secret_hash, created_at) VALUES (?,?,?,?,?) RETURNING id`,
			userID, kind, label, hashSecret(secret), FormatTime(t.CreatedAt)).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("storage: insert token: %w", err)
		}
		tx.Audit("secret.issue", "token:"+strconv.FormatInt(t.ID, 10), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Authenticate returns the owner of a live secret of the given kind, and notes when the secret
// was used (touchToken).
func (s *TokenService) Authenticate(ctx context.Context, kind courtside.TokenKind, secret string) (*courtside.User, error) {
	if !strings.HasPrefix(secret, secretPrefix[kind]) {
		return nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Invalid credentials.")
	}
	var id, userID int64
	var lastUsed sql.NullString
	err := s.db.Reader.QueryRowContext(ctx, `SELECT id, user_id, last_used_at FROM tokens WHERE secret_hash = ? AND kind = ? AND revoked_at IS NULL`,
		hashSecret(secret), kind).Scan(&id, &userID, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Invalid credentials.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: authenticate: %w", err)
	}
	u, err := NewUserService(s.db).FindUserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if now := s.db.Now().UTC(); !lastUsed.Valid || lastUsed.String <= FormatTime(now.Add(-courtside.TokenUseResolution)) {
		s.db.touchToken(ctx, id, now)
	}
	return u, nil
}

// touchToken records that the secret id was used at now, at most once per TokenUseResolution:
// a write with the other small writes of the moment (group commit), waited for so that a
// listing right after shows it. A failure is logged, never the request's.
func (db *DB) touchToken(ctx context.Context, id int64, now time.Time) {
	at, before := FormatTime(now), FormatTime(now.Add(-courtside.TokenUseResolution))
	err := db.batch.do(ctx, 0, func(ctx context.Context, tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`, at, id, before)
		return err
	})
	if err != nil && ctx.Err() == nil {
		db.Logger.Error("storage: note secret use", "token", id, "err", err)
	}
}

// ListTokens returns the user's live secrets, oldest first, without the secrets.
func (s *TokenService) ListTokens(ctx context.Context, userID int64, limit int) ([]*courtside.Token, error) {
	if caller := courtside.UserFromContext(ctx); caller != nil && caller.ID != userID && caller.Role != courtside.RoleAdmin {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "You may list only your own secrets.")
	}
	if limit <= 0 || limit > courtside.MaxTokensListed {
		limit = courtside.MaxTokensListed
	}
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT id, user_id, kind, label, created_at, last_used_at FROM tokens
		WHERE user_id = ? AND revoked_at IS NULL ORDER BY id LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: list tokens: %w", err)
	}
	defer rows.Close()
	out := []*courtside.Token{}
	for rows.Next() {
		t := &courtside.Token{}
		if err := rows.Scan(&t.ID, &t.UserID, &t.Kind, &t.Label, scanTime{&t.CreatedAt}, scanOptTime{&t.LastUsedAt}); err != nil {
			return nil, fmt.Errorf("storage: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: list tokens: %w", err)
	}
	return out, nil
}

// AuthenticateAppPassword checks an app password for the named user.
func (s *TokenService) AuthenticateAppPassword(ctx context.Context, username, secret string) (*courtside.User, error) {
	u, err := s.Authenticate(ctx, courtside.TokenApp, secret)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(u.Username, username) {
		return nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Invalid credentials.")
	}
	return u, nil
}

// RevokeToken revokes a secret of the caller's, or any for an admin, with immediate effect.
func (s *TokenService) RevokeToken(ctx context.Context, id int64) error {
	caller, err := requireUser(ctx)
	if err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *Tx) error {
		var owner int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM tokens WHERE id = ?`, id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != caller.ID && caller.Role != courtside.RoleAdmin) {
			return courtside.Errorf(courtside.ENOTFOUND, "Secret not found.")
		} else if err != nil {
			return fmt.Errorf("storage: find token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, FormatTime(tx.now), id); err != nil {
			return fmt.Errorf("storage: revoke token: %w", err)
		}
		tx.Audit("secret.revoke", "token:"+strconv.FormatInt(id, 10), courtside.OutcomeOK)
		return nil
	})
}
