package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"courtside"
)

// sessionPrefix marks session tokens.
const sessionPrefix = "cs_ses_"

// errBadLogin is the one answer to every failed login: it does not tell a wrong password from
// an unknown user or a locked account.
var errBadLogin = courtside.Errorf(courtside.EUNAUTHORIZED, "Wrong username or password, or the account is locked for a while.")

// dummyHash is checked against when the user does not exist, so that the answer takes as long.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword("courtside timing equaliser")
	return h
})

// Login checks a username and password and opens a session.
func (db *DB) Login(ctx context.Context, username, password string) (*courtside.Session, string, error) {
	var userID int64
	var hash string
	err := db.Reader.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE username = ?`, strings.TrimSpace(username)).Scan(&userID, &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && hash == "") {
		checkPassword(dummyHash(), password)
		db.auditAs(ctx, userID, "login", "user:"+strconv.FormatInt(userID, 10), courtside.OutcomeFailed)
		return nil, "", errBadLogin
	} else if err != nil {
		return nil, "", fmt.Errorf("storage: login: %w", err)
	}
	now := db.Now().UTC()
	var lockedUntil sql.NullString
	if err := db.Reader.QueryRowContext(ctx, `SELECT locked_until FROM users WHERE id = ?`, userID).Scan(&lockedUntil); err != nil {
		return nil, "", fmt.Errorf("storage: lockout: %w", err)
	}
	locked := lockedUntil.Valid && lockedUntil.String > FormatTime(now)
	if locked || !checkPassword(hash, password) {
		outcome := courtside.OutcomeFailed
		if locked {
			outcome = courtside.OutcomeDenied
		}
		err := db.update(ctx, func(tx *Tx) error {
			tx.actor = userID
			if !locked {
				if err := recordLoginFailure(ctx, tx, userID); err != nil {
					return err
				}
			}
			tx.Audit("login", "user:"+strconv.FormatInt(userID, 10), outcome)
			return nil
		})
		if err != nil {
			return nil, "", err
		}
		return nil, "", errBadLogin
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("storage: session: %w", err)
	}
	token := sessionPrefix + base64.RawURLEncoding.EncodeToString(raw)
	s := &courtside.Session{UserID: userID}
	err = db.update(ctx, func(tx *Tx) error {
		tx.actor = userID
		s.CreatedAt, s.ExpiresAt = tx.now, tx.now.Add(courtside.SessionAbsoluteTimeout)
		res, err := tx.ExecContext(ctx, `INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at) VALUES (?,?,?,?,?)`,
			userID, hashSecret(token), FormatTime(s.CreatedAt), FormatTime(s.CreatedAt), FormatTime(s.ExpiresAt))
		if err != nil {
			return fmt.Errorf("storage: insert session: %w", err)
		}
		if s.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("storage: insert session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("storage: clear login failures: %w", err)
		}
		tx.Audit("login", "user:"+strconv.FormatInt(userID, 10), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return s, token, nil
}

// auditAs writes a standalone audit row for an actor who is not (yet) in the context.
func (db *DB) auditAs(ctx context.Context, actor int64, action, object, outcome string) {
	err := db.update(ctx, func(tx *Tx) error {
		tx.actor = actor
		tx.Audit(action, object, outcome)
		return nil
	})
	if err != nil {
		db.Logger.Error("audit", "action", action, "err", err)
	}
}

// AuthenticateSession returns the user of a live session token and extends its idle timeout.
func (db *DB) AuthenticateSession(ctx context.Context, token string) (*courtside.User, *courtside.Session, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return nil, nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Invalid credentials.")
	}
	now := db.Now().UTC()
	s := &courtside.Session{}
	var lastSeen time.Time
	err := db.Reader.QueryRowContext(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at FROM sessions
		WHERE token_hash = ? AND revoked_at IS NULL`, hashSecret(token)).Scan(&s.ID, &s.UserID, scanTime{&s.CreatedAt}, scanTime{&lastSeen}, scanTime{&s.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!now.Before(s.ExpiresAt) || !now.Before(lastSeen.Add(courtside.SessionIdleTimeout)))) {
		return nil, nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Session expired or unknown; log in again.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("storage: session: %w", err)
	}
	// Extend the idle timeout at most once a minute, to keep reads from writing.
	if now.Sub(lastSeen) > time.Minute {
		if _, err := db.execWrite(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, FormatTime(now), s.ID); err != nil {
			return nil, nil, fmt.Errorf("storage: touch session: %w", err)
		}
	}
	u, err := db.FindUserByID(ctx, s.UserID)
	if err != nil {
		return nil, nil, err
	}
	return u, s, nil
}

// Logout revokes the session token.
func (db *DB) Logout(ctx context.Context, token string) error {
	_, s, err := db.AuthenticateSession(ctx, token)
	if err != nil {
		return err
	}
	return db.update(ctx, func(tx *Tx) error {
		tx.actor = s.UserID
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ?`, FormatTime(tx.now), s.ID); err != nil {
			return fmt.Errorf("storage: logout: %w", err)
		}
		tx.Audit("logout", "session:"+strconv.FormatInt(s.ID, 10), courtside.OutcomeOK)
		return nil
	})
}

// recordLoginFailure records a failed login and locks the account when it is the
// LoginFailureLimit-th within LoginFailureWindow.
func recordLoginFailure(ctx context.Context, tx *Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (user_id, at) VALUES (?, ?)`, userID, FormatTime(tx.now)); err != nil {
		return fmt.Errorf("storage: record login failure: %w", err)
	}
	var failures int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures WHERE user_id = ? AND at > ?`,
		userID, FormatTime(tx.now.Add(-courtside.LoginFailureWindow))).Scan(&failures); err != nil {
		return fmt.Errorf("storage: count login failures: %w", err)
	}
	if failures >= courtside.LoginFailureLimit {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, FormatTime(tx.now.Add(courtside.LoginLockout)), userID); err != nil {
			return fmt.Errorf("storage: lock account: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("storage: clear login failures: %w", err)
		}
		tx.Audit("account.lock", "user:"+strconv.FormatInt(userID, 10), courtside.OutcomeOK)
	}
	return nil
}
