package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"courtside"

	"golang.org/x/crypto/argon2"
)

// SessionService is the database's service for sign-in, sessions and password checks.
type SessionService struct {
	db *DB
}

// NewSessionService returns the session service of db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

var _ courtside.SessionService = (*SessionService)(nil)

// sessionPrefix marks session tokens.
const sessionPrefix = "cs_ses_"

// errBadLogin is the one answer to every failed login: it does not tell a wrong password from
// an unknown user or a locked account.
var errBadLogin = courtside.Errorf(courtside.EUNAUTHORIZED, "Wrong username or password, or the account is locked for a while.")

// errBadPassword is the one answer to a failed re-authentication.
var errBadPassword = courtside.Errorf(courtside.EFORBIDDEN, "The password is wrong, or the account is locked for a while.")

// dummyHash is what an unknown user's or a locked account's attempt is checked against, so
// that it costs what a wrong password costs: one argon2 evaluation. Making it is the process's
// own one-off work, not counted in Argon2Evaluations.
var dummyHash = sync.OnceValue(func() string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return encodeHash(salt, argon2.IDKey([]byte("courtside timing equaliser"), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen))
})

// LoginLimits throttle sign-in attempts (Login, VerifyPassword) with token buckets, before any
// password is checked: per client address (courtside.ClientAddrFromContext; IPv6 by /64) and
// per username, whether the user exists or not. An attempt over either answers ERATELIMITED with
// the time until the next one would be allowed. The lockout (LoginFailureLimit) is separate: it
// bounds the guesses checked against one account, these bound the work anyone can ask for.
type LoginLimits struct {
	AddressBurst int           // attempts from one address at once
	AddressEvery time.Duration // then one per AddressEvery
	AccountBurst int           // attempts naming one username at once
	AccountEvery time.Duration // then one per AccountEvery
}

// DefaultLoginLimits are the limits of a zero LoginLimits: 20 attempts from one address, then
// one every 3 seconds; 10 for one username, then one every 30 seconds.
var DefaultLoginLimits = LoginLimits{AddressBurst: 20, AddressEvery: 3 * time.Second, AccountBurst: 10, AccountEvery: 30 * time.Second}

// withDefaults fills the zero fields of l.
func (l LoginLimits) withDefaults() LoginLimits {
	d := DefaultLoginLimits
	if l.AddressBurst <= 0 {
		l.AddressBurst = d.AddressBurst
	}
	if l.AddressEvery <= 0 {
		l.AddressEvery = d.AddressEvery
	}
	if l.AccountBurst <= 0 {
		l.AccountBurst = d.AccountBurst
	}
	if l.AccountEvery <= 0 {
		l.AccountEvery = d.AccountEvery
	}
	return l
}

// loginGuard holds the sign-in throttles and the per-account turns. On PostgreSQL the
// throttles are shared (sharedThrottle) and a turn also holds the account's advisory lock
// (accountLock), so that every process on the database counts alike.
type loginGuard struct {
	once      sync.Once
	addresses *throttle
	accounts  *throttle
	// On PostgreSQL, in their stead.
	sharedAddresses *sharedThrottle
	sharedAccounts  *sharedThrottle

	mu    sync.Mutex
	turns map[string]*accountTurn // by loginKey
}

// accountTurn serialises the attempts that name one username, so that the lock decision and
// the failure count are one step: an attempt holds the turn from reading the account's state
// to recording its outcome. On SQLite, between attempts it keeps that state, which is the
// authority while this process runs (the database gets each change in the attempt's own
// batch). On PostgreSQL other processes may change it: each attempt reads it afresh in the
// account's advisory lock, and keeps nothing.
type accountTurn struct {
	held    chan struct{} // capacity 1: holding it is having the turn
	waiters int           // attempts holding or waiting; guarded by loginGuard.mu

	// Guarded by held.
	loaded      bool        // the fields below were read from the database for userID
	userID      int64       //
	failures    []time.Time // failed checks within LoginFailureWindow
	lockedUntil time.Time
}

// empty reports whether the turn holds nothing worth keeping at now.
func (t *accountTurn) empty(now time.Time) bool {
	return !t.loaded || (len(t.failures) == 0 && !t.lockedUntil.After(now))
}

// loginKey is the key of a username in the throttles and turns: fixed-size whatever was typed,
// and the same for every spelling the database's NOCASE collation takes as one.
func loginKey(username string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(username))))
	return string(sum[:])
}

// throttle takes one attempt from the address's and the username's buckets: in memory, or
// with pool (PostgreSQL's login pool) in login_buckets.
func (g *loginGuard) throttle(ctx context.Context, limits LoginLimits, pool *sql.DB, key string, now time.Time) error {
	g.once.Do(func() {
		l := limits.withDefaults()
		if pool != nil {
			g.sharedAddresses = newSharedThrottle(pool, "address", l.AddressBurst, l.AddressEvery)
			g.sharedAccounts = newSharedThrottle(pool, "username", l.AccountBurst, l.AccountEvery)
		} else {
			g.addresses = newThrottle(l.AddressBurst, l.AddressEvery)
			g.accounts = newThrottle(l.AccountBurst, l.AccountEvery)
		}
		g.turns = map[string]*accountTurn{}
	})
	if addr := courtside.ClientAddrFromContext(ctx); addr != "" {
		ok, wait, err := true, time.Duration(0), error(nil)
		if g.sharedAddresses != nil {
			ok, wait, err = g.sharedAddresses.allow(ctx, bucketKey(addressKey(addr)), now)
		} else {
			ok, wait = g.addresses.allow(addressKey(addr), now)
		}
		if err != nil {
			return err
		} else if !ok {
			return courtside.RateLimitedf(wait, "Too many sign-in attempts from your address; try again in %s.", roundUp(wait))
		}
	}
	ok, wait, err := true, time.Duration(0), error(nil)
	if g.sharedAccounts != nil {
		ok, wait, err = g.sharedAccounts.allow(ctx, []byte(key), now)
	} else {
		ok, wait = g.accounts.allow(key, now)
	}
	if err != nil {
		return err
	} else if !ok {
		return courtside.RateLimitedf(wait, "Too many sign-in attempts for this username; try again in %s.", roundUp(wait))
	}
	return nil
}

// roundUp rounds d up to whole seconds, at least one.
func roundUp(d time.Duration) time.Duration {
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}

// enter waits for the turn of key until ctx ends; now is the attempt's time.
func (g *loginGuard) enter(ctx context.Context, key string, now time.Time) (*accountTurn, error) {
	g.mu.Lock()
	t := g.turns[key]
	if t == nil {
		t = &accountTurn{held: make(chan struct{}, 1)}
		g.turns[key] = t
	}
	t.waiters++
	g.mu.Unlock()
	select {
	case t.held <- struct{}{}:
		return t, nil
	case <-ctx.Done():
		g.forget(key, t, now)
		return nil, ctx.Err()
	}
}

// leave gives the turn up.
func (g *loginGuard) leave(key string, t *accountTurn, now time.Time) {
	<-t.held
	g.forget(key, t, now)
}

// forget drops one waiter of t, and t itself when nobody else waits and it keeps nothing. The
// last waiter reads t's state after every holder has released it, under g.mu.
func (g *loginGuard) forget(key string, t *accountTurn, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t.waiters--
	if t.waiters == 0 && t.empty(now) && g.turns[key] == t {
		delete(g.turns, key)
	}
}

// signIn is one sign-in attempt for username: throttled (ERATELIMITED), then, in the
// account's turn, exactly one argon2 evaluation whatever the path (unknown user, locked
// account, wrong or right password) and one audit row with action, written with the other
// attempts of the moment in one transaction (group commit) that the attempt waits for. A wrong
// password counts towards the lockout; the LoginFailureLimit-th within LoginFailureWindow locks
// the account for LoginLockout. On the right password onSuccess runs in the transaction that
// records the success. It returns the user's ID, or errBadLogin.
//
// On PostgreSQL the throttles are shared by every process on the database, and the turn also
// holds the account's advisory lock, from reading the account's state (afresh: another
// process may have changed it) until the attempt's writes have committed.
func (db *DB) signIn(ctx context.Context, username, password, action string, onSuccess func(ctx context.Context, tx *Tx, userID int64) error) (int64, error) {
	key := loginKey(username)
	if err := db.logins.throttle(ctx, db.LoginLimits, db.loginPool, key, db.Now().UTC()); err != nil {
		return 0, err
	}
	now := db.Now().UTC()
	turn, err := db.logins.enter(ctx, key, now)
	if err != nil {
		return 0, err
	}
	var lock *accountLock
	if db.loginPool != nil {
		if lock, err = lockAccount(ctx, db.loginPool, key); err != nil {
			db.logins.leave(key, turn, now)
			return 0, err
		}
		turn.loaded = false
	}
	// leave gives the account's turn up; on PostgreSQL it keeps nothing of it.
	leave := func() {
		if lock != nil {
			turn.loaded = false
			lock.unlock()
		}
		db.logins.leave(key, turn, now)
	}
	var userID int64
	var hash, lockedUntil string
	var failures sql.NullString
	err = db.Reader.QueryRowContext(ctx, `SELECT id, password_hash, COALESCE(locked_until, ''),
		(SELECT string_agg(at, ' ') FROM login_failures f WHERE f.user_id = users.id AND f.at > ?)
		FROM users WHERE username = ?`, FormatTime(now.Add(-courtside.LoginFailureWindow)), strings.TrimSpace(username)).
		Scan(&userID, &hash, &lockedUntil, &failures)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		leave()
		return 0, fmt.Errorf("storage: login: %w", err)
	}
	known := err == nil && hash != ""
	if !known {
		if err != nil {
			userID = 0 // no such user; a user without a password keeps its ID for the audit row
		}
		turn.loaded = false
	} else if !turn.loaded || turn.userID != userID {
		turn.loaded, turn.userID, turn.failures, turn.lockedUntil = true, userID, nil, time.Time{}
		if lockedUntil != "" {
			if turn.lockedUntil, err = ParseTime(lockedUntil); err != nil {
				leave()
				return 0, err
			}
		}
		for _, at := range strings.Fields(failures.String) {
			t, err := ParseTime(at)
			if err != nil {
				leave()
				return 0, err
			}
			turn.failures = append(turn.failures, t)
		}
	}
	if known {
		kept := turn.failures[:0]
		for _, at := range turn.failures {
			if at.After(now.Add(-courtside.LoginFailureWindow)) {
				kept = append(kept, at)
			}
		}
		turn.failures = kept
	}
	locked := known && turn.lockedUntil.After(now)

	// The one argon2 evaluation of every path.
	target := dummyHash()
	if known && !locked {
		target = hash
	}
	match, err := checkPassword(ctx, target, password)
	if err != nil {
		leave() // nothing was checked: nothing to record
		return 0, err
	}
	match = match && target == hash

	object := "user:" + strconv.FormatInt(userID, 10)
	var job func(ctx context.Context, tx *Tx) error
	switch {
	case !known:
		job = func(ctx context.Context, tx *Tx) error {
			tx.Audit(action, object, courtside.OutcomeFailed)
			return nil
		}
	case locked:
		job = func(ctx context.Context, tx *Tx) error {
			tx.Audit(action, object, courtside.OutcomeDenied)
			return nil
		}
	case !match:
		turn.failures = append(turn.failures, now)
		lock := len(turn.failures) >= courtside.LoginFailureLimit
		if lock {
			turn.failures, turn.lockedUntil = nil, now.Add(courtside.LoginLockout)
		}
		job = func(ctx context.Context, tx *Tx) error {
			return recordLoginFailure(ctx, tx, userID, now, lock, action)
		}
	default:
		turn.failures = nil
		job = func(ctx context.Context, tx *Tx) error {
			if onSuccess != nil {
				if err := onSuccess(ctx, tx, userID); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE user_id = ?`, userID); err != nil {
				return fmt.Errorf("storage: clear login failures: %w", err)
			}
			tx.Audit(action, object, courtside.OutcomeOK)
			return nil
		}
	}
	// Submitted in the turn, so that the account's writes commit in the order decided. On
	// SQLite the turn ends there: this process's batches commit in order. On PostgreSQL it ends
	// once they have committed, for another process to read them; when ctx ends first, then
	// still (the job runs all the same), without this attempt waiting.
	done := make(chan error, 1)
	err = db.batch.submit(batchJob{actor: userID, fn: job, done: done})
	if lock == nil || err != nil {
		leave()
	}
	if err != nil {
		return 0, err
	}
	select {
	case err = <-done:
		if lock != nil {
			leave()
		}
	case <-ctx.Done():
		if lock != nil {
			go func() {
				<-done
				leave()
			}()
		}
		return 0, ctx.Err()
	}
	if !known || locked || !match {
		return 0, errBadLogin
	}
	if err != nil {
		return 0, err
	}
	return userID, nil
}

// Login checks a username and password and opens a session (signIn).
func (svc *SessionService) Login(ctx context.Context, username, password string) (*courtside.Session, string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("storage: session: %w", err)
	}
	token := sessionPrefix + base64.RawURLEncoding.EncodeToString(raw)
	s := &courtside.Session{}
	userID, err := svc.db.signIn(ctx, username, password, "login", func(ctx context.Context, tx *Tx, userID int64) error {
		s.UserID = userID
		s.CreatedAt, s.ExpiresAt = tx.now, tx.now.Add(courtside.SessionAbsoluteTimeout)
		err := tx.QueryRowContext(ctx, `INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at) VALUES (?,?,?,?,?) RETURNING id`,
			userID, hashSecret(token), FormatTime(s.CreatedAt), FormatTime(s.CreatedAt), FormatTime(s.ExpiresAt)).Scan(&s.ID)
		if err != nil {
			return fmt.Errorf("storage: insert session: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	s.UserID = userID
	return s, token, nil
}

// VerifyPassword checks the password of the user again, as a sign-in attempt with action
// "reauth" (signIn): throttled, counted towards the lockout, audited.
func (s *SessionService) VerifyPassword(ctx context.Context, userID int64, password string) error {
	var username string
	err := s.db.Reader.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, userID).Scan(&username)
	if errors.Is(err, sql.ErrNoRows) {
		return errBadPassword
	} else if err != nil {
		return fmt.Errorf("storage: reauth: %w", err)
	}
	if _, err := s.db.signIn(ctx, username, password, "reauth", nil); err != nil {
		if err == errBadLogin {
			return errBadPassword
		}
		return err
	}
	return nil
}

// AuthenticateSession returns the user of a live session token and extends its idle timeout.
func (svc *SessionService) AuthenticateSession(ctx context.Context, token string) (*courtside.User, *courtside.Session, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return nil, nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Invalid credentials.")
	}
	now := svc.db.Now().UTC()
	s := &courtside.Session{}
	var lastSeen time.Time
	err := svc.db.Reader.QueryRowContext(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at FROM sessions
		WHERE token_hash = ? AND revoked_at IS NULL`, hashSecret(token)).Scan(&s.ID, &s.UserID, scanTime{&s.CreatedAt}, scanTime{&lastSeen}, scanTime{&s.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!now.Before(s.ExpiresAt) || !now.Before(lastSeen.Add(courtside.SessionIdleTimeout)))) {
		return nil, nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Session expired or unknown; log in again.")
	} else if err != nil {
		return nil, nil, fmt.Errorf("storage: session: %w", err)
	}
	// Extend the idle timeout at most once a minute, to keep reads from writing.
	if now.Sub(lastSeen) > time.Minute {
		if _, err := svc.db.execWrite(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, FormatTime(now), s.ID); err != nil {
			return nil, nil, fmt.Errorf("storage: touch session: %w", err)
		}
	}
	u, err := NewUserService(svc.db).FindUserByID(ctx, s.UserID)
	if err != nil {
		return nil, nil, err
	}
	return u, s, nil
}

// Logout revokes the session token.
func (svc *SessionService) Logout(ctx context.Context, token string) error {
	_, s, err := svc.AuthenticateSession(ctx, token)
	if err != nil {
		return err
	}
	return svc.db.update(ctx, func(tx *Tx) error {
		tx.actor = s.UserID
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ?`, FormatTime(tx.now), s.ID); err != nil {
			return fmt.Errorf("storage: logout: %w", err)
		}
		tx.Audit("logout", "session:"+strconv.FormatInt(s.ID, 10), courtside.OutcomeOK)
		return nil
	})
}

// recordLoginFailure records a failed check of the user's password at now, audited with
// action; with lock, the account is locked until LoginLockout after now (audited as
// account.lock) and its failures are cleared.
func recordLoginFailure(ctx context.Context, tx *Tx, userID int64, now time.Time, lock bool, action string) error {
	object := "user:" + strconv.FormatInt(userID, 10)
	if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (user_id, at) VALUES (?, ?)`, userID, FormatTime(now)); err != nil {
		return fmt.Errorf("storage: record login failure: %w", err)
	}
	tx.Audit(action, object, courtside.OutcomeFailed)
	if lock {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, FormatTime(now.Add(courtside.LoginLockout)), userID); err != nil {
			return fmt.Errorf("storage: lock account: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("storage: clear login failures: %w", err)
		}
		tx.Audit("account.lock", object, courtside.OutcomeOK)
	}
	return nil
}
