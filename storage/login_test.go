package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
)

// loginWorld is a database with a clock the test moves and one user with a password.
type loginWorld struct {
	db  *storage.DB
	now time.Time
	mu  sync.Mutex
}

const loginPassword = "tidal basin lantern 42"

func newLoginWorld(t *testing.T, limits storage.LoginLimits) *loginWorld {
	t.Helper()
	w := &loginWorld{db: MustOpenDB(t), now: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	w.db.Now = func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
	w.db.LoginLimits = limits
	ctx := context.Background()
	if _, err := storage.NewUserService(w.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "coord", Role: courtside.RoleCoordinator},
		OrganizationName: "Org", Password: loginPassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewUserService(w.db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "nopass", Role: courtside.RoleAdvocate},
		OrganizationName: "Org"}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *loginWorld) advance(d time.Duration) { w.mu.Lock(); w.now = w.now.Add(d); w.mu.Unlock() }

// outcomes counts the login audit rows by outcome.
func (w *loginWorld) outcomes(t *testing.T, action string) (ok, failed, denied, locks int) {
	t.Helper()
	err := w.db.Writer.QueryRow(`SELECT COUNT(*) FILTER (WHERE action = ? AND outcome = 'ok'), COUNT(*) FILTER (WHERE action = ? AND outcome = 'failed'),
		COUNT(*) FILTER (WHERE action = ? AND outcome = 'denied'), COUNT(*) FILTER (WHERE action = 'account.lock') FROM audit_log`,
		action, action, action).Scan(&ok, &failed, &denied, &locks)
	if err != nil {
		t.Fatal(err)
	}
	return
}

// unlimited throttles nothing in the tests that look at the lockout alone.
var unlimited = storage.LoginLimits{AddressBurst: 100000, AddressEvery: time.Millisecond, AccountBurst: 100000, AccountEvery: time.Millisecond}

// wrongPasswordsAtOnce sends n wrong passwords for "coord" at once, spread in turn over dbs
// (instances of one database), and fails unless each is refused as UNAUTHORIZED.
func wrongPasswordsAtOnce(t *testing.T, n int, dbs ...*storage.DB) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		db := dbs[i%len(dbs)]
		wg.Go(func() {
			_, _, err := storage.NewSessionService(db).Login(context.Background(), "coord", fmt.Sprintf("wrong password number %03d", i))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("a wrong password answered %v", err)
		}
	}
}

// TestSession_LockoutAtomicUnderConcurrency sends 100 wrong passwords for one account at once:
// exactly LoginFailureLimit of them are checked against the password (audited "failed"), the
// account is locked once, every other attempt is denied unchecked, and the right password is
// refused afterwards. Each attempt costs one argon2 evaluation all the same.
func TestSession_LockoutAtomicUnderConcurrency(t *testing.T) {
	w := newLoginWorld(t, unlimited)
	before := storage.Argon2Evaluations()
	wrongPasswordsAtOnce(t, 100, w.db)
	if _, _, err := storage.NewSessionService(w.db).Login(context.Background(), "coord", loginPassword); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("the right password after 100 wrong ones: %v, want the account locked", err)
	}
	ok, failed, denied, locks := w.outcomes(t, "login")
	if failed != courtside.LoginFailureLimit || denied != 101-courtside.LoginFailureLimit || ok != 0 || locks != 1 {
		t.Fatalf("audited: %d checked and failed, %d denied, %d ok, %d locks; want %d checked, %d denied, one lock",
			failed, denied, ok, locks, courtside.LoginFailureLimit, 101-courtside.LoginFailureLimit)
	}
	var lockedUntil string
	if err := w.db.Writer.QueryRow(`SELECT locked_until FROM users WHERE username = 'coord'`).Scan(&lockedUntil); err != nil ||
		lockedUntil != storage.FormatTime(w.now.Add(courtside.LoginLockout)) {
		t.Fatalf("locked_until %q, %v", lockedUntil, err)
	}
	if n := storage.Argon2Evaluations() - before; n != 101 {
		t.Fatalf("%d argon2 evaluations for 101 attempts, want one each", n)
	}
	// The lock ends after LoginLockout; the failures before it no longer count.
	w.advance(courtside.LoginLockout + time.Second)
	if _, _, err := storage.NewSessionService(w.db).Login(context.Background(), "coord", "wrong once more, after the lock"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatal(err)
	}
	if _, _, err := storage.NewSessionService(w.db).Login(context.Background(), "coord", loginPassword); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
}

// TestSession_EveryPathCostsOneArgon2 shows there is no username oracle: an unknown user, a
// user without a password, a locked account, a wrong and a right password each cost exactly one
// argon2 evaluation and one audit row, and every failure answers the same words.
func TestSession_EveryPathCostsOneArgon2(t *testing.T) {
	w := newLoginWorld(t, unlimited)
	ctx := context.Background()
	audits := func() int {
		var n int
		w.db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'login'`).Scan(&n)
		return n
	}
	attempt := func(name, username, password string) error {
		t.Helper()
		argon, rows := storage.Argon2Evaluations(), audits()
		_, _, err := storage.NewSessionService(w.db).Login(ctx, username, password)
		if n := storage.Argon2Evaluations() - argon; n != 1 {
			t.Errorf("%s: %d argon2 evaluations, want 1", name, n)
		}
		if n := audits() - rows; n != 1 {
			t.Errorf("%s: %d audit rows, want 1", name, n)
		}
		return err
	}
	var messages []string
	for _, c := range []struct{ name, username, password string }{
		{"unknown user", "nobody-at-all", loginPassword},
		{"user without a password", "nopass", loginPassword},
		{"wrong password", "coord", "not the password at all"},
	} {
		err := attempt(c.name, c.username, c.password)
		if courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("%s: %v", c.name, err)
		}
		messages = append(messages, courtside.ErrorMessage(err))
	}
	if err := attempt("right password", "coord", loginPassword); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for range courtside.LoginFailureLimit {
		storage.NewSessionService(w.db).Login(ctx, "coord", "not the password at all")
	}
	err := attempt("locked account", "coord", loginPassword)
	if courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("locked account: %v", err)
	}
	messages = append(messages, courtside.ErrorMessage(err))
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Fatalf("failures answer differently: %q", messages)
		}
	}
}

// TestSession_Throttled shows the token buckets in front of every check: attempts from one
// address beyond its burst, and attempts naming one username (known or not) beyond its burst,
// answer ERATELIMITED with the time to wait, cost no argon2 evaluation, and leave the lockout
// alone; an IPv6 client is one /64; the buckets refill with time.
func TestSession_Throttled(t *testing.T) {
	w := newLoginWorld(t, storage.LoginLimits{AddressBurst: 3, AddressEvery: 10 * time.Second, AccountBurst: 2, AccountEvery: time.Minute})
	from := func(addr string) context.Context {
		return courtside.NewContextWithClientAddr(context.Background(), addr)
	}
	limited := func(name string, err error) {
		t.Helper()
		if courtside.ErrorCode(err) != courtside.ERATELIMITED || courtside.ErrorRetryAfter(err) <= 0 {
			t.Fatalf("%s: %v, want ERATELIMITED with a time to wait", name, err)
		}
	}
	// One address: three attempts, then refused, whatever the username.
	for _, u := range []string{"coord", "nobody-1", "nobody-2"} {
		if _, _, err := storage.NewSessionService(w.db).Login(from("192.0.2.7"), u, "not the password at all"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("%s: %v", u, err)
		}
	}
	argon := storage.Argon2Evaluations()
	_, _, err := storage.NewSessionService(w.db).Login(from("192.0.2.7"), "nobody-3", "not the password at all")
	limited("a fourth attempt from one address", err)
	if storage.Argon2Evaluations() != argon {
		t.Fatal("a throttled attempt was hashed")
	}
	// One username: the second attempt from another address is its last; known or not alike.
	for _, u := range []string{"coord", "nobody-1"} {
		if _, _, err := storage.NewSessionService(w.db).Login(from("198.51.100.1"), u, "not the password at all"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("%s from another address: %v", u, err)
		}
		_, _, err := storage.NewSessionService(w.db).Login(from("198.51.100.2"), u, "not the password at all")
		limited("a third attempt naming "+u, err)
	}
	// Two attempts failed against coord: the throttled ones did not count towards the lock.
	if _, failed, _, _ := w.outcomes(t, "login"); failed != 5 { // coord twice, nobody-1 twice, nobody-2 once
		t.Fatalf("%d failed attempts audited, want 5", failed)
	}
	// IPv6: addresses of one /64 share a bucket; another /64 has its own.
	for i := range 3 {
		if _, _, err := storage.NewSessionService(w.db).Login(from(fmt.Sprintf("2001:db8:1:2::%x", i+1)), fmt.Sprintf("v6-%d", i), "x"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatal(err)
		}
	}
	_, _, err = storage.NewSessionService(w.db).Login(from("2001:db8:1:2:ffff::9"), "v6-9", "x")
	limited("a fourth attempt from one /64", err)
	if _, _, err := storage.NewSessionService(w.db).Login(from("2001:db8:1:3::1"), "v6-10", "x"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("another /64: %v", err)
	}
	// The buckets refill.
	w.advance(time.Minute)
	if _, _, err := storage.NewSessionService(w.db).Login(from("192.0.2.7"), "coord", loginPassword); err != nil {
		t.Fatalf("a minute later: %v", err)
	}
}

// TestSession_VerifyPassword shows re-authentication: the right password passes, a wrong one
// answers FORBIDDEN, is audited as "reauth" and counts towards the same lockout as logins.
func TestSession_VerifyPassword(t *testing.T) {
	w := newLoginWorld(t, unlimited)
	ctx := context.Background()
	u, err := storage.NewUserService(w.db).FindUserByUsername(ctx, "coord")
	if err != nil {
		t.Fatal(err)
	}
	if err := storage.NewSessionService(w.db).VerifyPassword(ctx, u.ID, loginPassword); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for range courtside.LoginFailureLimit {
		if err := storage.NewSessionService(w.db).VerifyPassword(ctx, u.ID, "not the password at all"); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if err := storage.NewSessionService(w.db).VerifyPassword(ctx, u.ID, loginPassword); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("right password on a locked account: %v", err)
	}
	if _, _, err := storage.NewSessionService(w.db).Login(ctx, "coord", loginPassword); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("login on the account that failed re-authentication: %v", err)
	}
	ok, failed, denied, locks := w.outcomes(t, "reauth")
	if ok != 1 || failed != courtside.LoginFailureLimit || denied != 1 || locks != 1 {
		t.Fatalf("reauth audited ok %d failed %d denied %d, locks %d", ok, failed, denied, locks)
	}
}
