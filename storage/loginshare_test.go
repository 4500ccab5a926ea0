package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"courtside"
	"courtside/storage"
	"courtside/storage/storagetest"
)

// twoInstances is a loginWorld with a second handle on its PostgreSQL database, as a second
// service process would have, on the same clock and limits.
func twoInstances(t *testing.T, limits storage.LoginLimits) (w *loginWorld, a, b *storage.DB) {
	t.Helper()
	if !storagetest.Postgres() {
		t.Skip("PostgreSQL's: run with COURTSIDE_TEST_ENGINE=postgres (make test-postgres)")
	}
	w = newLoginWorld(t, limits)
	b = openHandle(t, w.db.Path)
	b.Now = w.db.Now
	b.LoginLimits = limits
	return w, w.db, b
}

// TestLoginShare_LockoutCountsEveryInstance sends 60 wrong passwords for one account at once,
// half through each of two instances: exactly LoginFailureLimit of them are checked (audited
// "failed"), the account is locked once, every other attempt is denied unchecked, and the right
// password is refused afterwards on either instance.
func TestLoginShare_LockoutCountsEveryInstance(t *testing.T) {
	w, a, b := twoInstances(t, unlimited)
	const attempts = 60
	wrongPasswordsAtOnce(t, attempts, a, b)
	for name, db := range map[string]*storage.DB{"A": a, "B": b} {
		if _, _, err := storage.NewSessionService(db).Login(context.Background(), "coord", loginPassword); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("the right password on instance %s after %d wrong ones: %v, want the account locked", name, attempts, err)
		}
	}
	ok, failed, denied, locks := w.outcomes(t, "login")
	if failed != courtside.LoginFailureLimit || denied != attempts+2-courtside.LoginFailureLimit || ok != 0 || locks != 1 {
		t.Fatalf("audited: %d checked and failed, %d denied, %d ok, %d locks; want %d checked, %d denied, one lock",
			failed, denied, ok, locks, courtside.LoginFailureLimit, attempts+2-courtside.LoginFailureLimit)
	}
}

// TestLoginShare_LockMadeOnOneInstanceHoldsOnTheOther: instance B has seen the account (one
// wrong password), then instance A takes it to the lockout; the right password on B is refused,
// because B reads the account's state afresh rather than from what it saw. Once the lockout is
// over, the right password passes on B.
func TestLoginShare_LockMadeOnOneInstanceHoldsOnTheOther(t *testing.T) {
	w, a, b := twoInstances(t, unlimited)
	ctx := context.Background()
	if _, _, err := storage.NewSessionService(b).Login(ctx, "coord", "wrong on instance B"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatal(err)
	}
	// B's failure counts on A: one fewer is enough there.
	for i := range courtside.LoginFailureLimit - 1 {
		if _, _, err := storage.NewSessionService(a).Login(ctx, "coord", fmt.Sprintf("wrong on instance A %d", i)); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatal(err)
		}
	}
	if _, _, _, locks := w.outcomes(t, "login"); locks != 1 {
		t.Fatalf("%d locks after %d failures over two instances, want 1", locks, courtside.LoginFailureLimit)
	}
	if _, _, err := storage.NewSessionService(b).Login(ctx, "coord", loginPassword); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		t.Fatalf("the right password on instance B while A's lock lasts: %v", err)
	}
	u, err := storage.NewUserService(b).FindUserByUsername(ctx, "coord")
	if err != nil {
		t.Fatal(err)
	}
	if err := storage.NewSessionService(b).VerifyPassword(ctx, u.ID, loginPassword); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("re-authentication on instance B while A's lock lasts: %v", err)
	}
	if ok, failed, denied, _ := w.outcomes(t, "login"); ok != 0 || failed != courtside.LoginFailureLimit || denied != 1 {
		t.Fatalf("login audited ok %d failed %d denied %d", ok, failed, denied)
	}
	w.advance(courtside.LoginLockout + time.Second)
	if _, _, err := storage.NewSessionService(b).Login(ctx, "coord", loginPassword); err != nil {
		t.Fatalf("on instance B after the lockout: %v", err)
	}
}

// TestLoginShare_ThrottlesCountEveryInstance: the buckets of one username and of one address
// are the same on both instances. Attempts alternating between them use up one burst, then
// both refuse with the time until the bucket has a token again; the buckets keep the digests of
// usernames and addresses, never what was typed.
func TestLoginShare_ThrottlesCountEveryInstance(t *testing.T) {
	limits := storage.LoginLimits{AddressBurst: 3, AddressEvery: 10 * time.Second, AccountBurst: 4, AccountEvery: time.Minute}
	w, a, b := twoInstances(t, limits)
	from := func(addr string) context.Context {
		return courtside.NewContextWithClientAddr(context.Background(), addr)
	}
	limited := func(name string, err error, wait time.Duration) {
		t.Helper()
		if courtside.ErrorCode(err) != courtside.ERATELIMITED || courtside.ErrorRetryAfter(err) != wait {
			t.Fatalf("%s: %v (wait %s), want ERATELIMITED with a wait of %s", name, err, courtside.ErrorRetryAfter(err), wait)
		}
	}
	instances := []*storage.DB{a, b}
	// One username, from addresses of their own: four attempts over both, then neither.
	for i := range limits.AccountBurst {
		if _, _, err := storage.NewSessionService(instances[i%2]).Login(from(fmt.Sprintf("198.51.100.%d", i+1)), "Coord", "not the password at all"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	argon := storage.Argon2Evaluations()
	for i, db := range instances {
		_, _, err := storage.NewSessionService(db).Login(from(fmt.Sprintf("198.51.100.%d", 10+i)), "coord", "not the password at all")
		limited(fmt.Sprintf("the fifth attempt naming coord, on instance %d", i+1), err, limits.AccountEvery)
	}
	if storage.Argon2Evaluations() != argon {
		t.Fatal("a throttled attempt was hashed")
	}
	// Half the period later, half a token: the wait is the other half.
	w.advance(limits.AccountEvery / 2)
	_, _, err := storage.NewSessionService(a).Login(from("198.51.100.20"), "coord", "not the password at all")
	limited("half a period later", err, limits.AccountEvery/2)
	w.advance(limits.AccountEvery / 2)
	if _, _, err := storage.NewSessionService(b).Login(from("198.51.100.21"), "coord", loginPassword); err != nil {
		t.Fatalf("a period later, on instance B: %v", err)
	}
	// One address, naming usernames of their own: three attempts over both, then neither.
	for i := range limits.AddressBurst {
		if _, _, err := storage.NewSessionService(instances[i%2]).Login(from("192.0.2.7"), fmt.Sprintf("nobody-%d", i), "x"); courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			t.Fatalf("attempt %d from one address: %v", i, err)
		}
	}
	for i, db := range instances {
		_, _, err := storage.NewSessionService(db).Login(from("192.0.2.7"), fmt.Sprintf("nobody-%d", 10+i), "x")
		limited(fmt.Sprintf("the fourth attempt from one address, on instance %d", i+1), err, limits.AddressEvery)
	}
	// The table holds digests only.
	rows, err := w.db.Writer.Query(`SELECT key FROM login_buckets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var key []byte
		if err := rows.Scan(&key); err != nil {
			t.Fatal(err)
		}
		n++
		for _, typed := range []string{"coord", "Coord", "nobody", "192.0.2.7", "198.51.100"} {
			if len(key) != 32 || bytes.Contains(key, []byte(typed)) {
				t.Fatalf("a bucket's key %q is not a digest", key)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no buckets in login_buckets")
	}
}

// TestLoginShare_CancelledAttemptsLeaveNoLock: while instance A's attempt holds the account's
// lock (its writes wait for A's writer, held by the test), an attempt on instance B waits for
// it; B's request gives up, and its wait ends without a lock. A's request gives up too: A keeps
// the lock until its writes have committed, then lets it go. In the end pg_locks shows no lock
// of the accounts' class, and A's failure was recorded.
func TestLoginShare_CancelledAttemptsLeaveNoLock(t *testing.T) {
	w, a, b := twoInstances(t, unlimited)
	locks := func() (held, waiting int) {
		t.Helper()
		err := b.Reader.QueryRow(`SELECT COUNT(*) FILTER (WHERE granted), COUNT(*) FILTER (WHERE NOT granted) FROM pg_locks
			WHERE locktype = 'advisory' AND classid = ? AND objsubid = 2
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, storage.LoginLockClass).Scan(&held, &waiting)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	// until polls pg_locks until it shows held and waiting locks of the class, while attempt
	// has not returned; it gives up shortly before the test's deadline rather than hang.
	until := func(held, waiting int, attempt chan error) {
		t.Helper()
		deadline, bounded := t.Deadline()
		for {
			h, w := locks()
			if h == held && w == waiting {
				return
			}
			select {
			case err := <-attempt:
				t.Fatalf("the attempt returned (%v) before pg_locks showed %d held and %d waiting (it shows %d and %d)", err, held, waiting, h, w)
			default:
			}
			if bounded && time.Until(deadline) < 10*time.Second {
				t.Fatalf("pg_locks never showed %d held and %d waiting (it shows %d and %d)", held, waiting, h, w)
			}
			time.Sleep(time.Millisecond)
		}
	}
	busy, err := a.Writer.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Rollback()
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	doneA := make(chan error, 1)
	go func() {
		_, _, err := storage.NewSessionService(a).Login(ctxA, "coord", "wrong on instance A")
		doneA <- err
	}()
	until(1, 0, doneA)
	ctxB, cancelB := context.WithCancel(context.Background())
	doneB := make(chan error, 1)
	go func() {
		_, _, err := storage.NewSessionService(b).Login(ctxB, "coord", loginPassword)
		doneB <- err
	}()
	until(1, 1, doneB)
	cancelB()
	if err := <-doneB; !errors.Is(err, context.Canceled) {
		t.Fatalf("instance B's attempt given up while it waited: %v", err)
	}
	if held, waiting := locks(); held != 1 || waiting != 0 {
		t.Fatalf("after B gave up: %d locks held, %d waiting; want A's alone", held, waiting)
	}
	cancelA()
	if err := <-doneA; !errors.Is(err, context.Canceled) {
		t.Fatalf("instance A's attempt given up while its writes waited: %v", err)
	}
	if held, waiting := locks(); held != 1 || waiting != 0 {
		t.Fatalf("after A gave up before its writes committed: %d locks held, %d waiting; want A's still", held, waiting)
	}
	if err := busy.Rollback(); err != nil {
		t.Fatal(err)
	}
	// B's next attempt takes the lock once A's writes have committed.
	if _, _, err := storage.NewSessionService(b).Login(context.Background(), "coord", loginPassword); err != nil {
		t.Fatalf("instance B's next attempt: %v", err)
	}
	if held, waiting := locks(); held != 0 || waiting != 0 {
		t.Fatalf("in the end %d locks held, %d waiting; want none", held, waiting)
	}
	if ok, failed, _, _ := w.outcomes(t, "login"); ok != 1 || failed != 1 {
		t.Fatalf("login audited ok %d failed %d; want A's failure and B's success", ok, failed)
	}
}
