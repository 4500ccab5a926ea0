package storage

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"courtside"
)

// TestPassword_Argon2idUntruncatedAndBounded shows the password hash is argon2id with m = 19 MiB,
// t = 2, salted per hash; that a long (90-byte) password is hashed whole (a change in its last
// byte, or cutting it at 64 bytes, no longer matches); and that no more than cap(hashSlots)
// hashes run at once.
func TestPassword_Argon2idUntruncatedAndBounded(t *testing.T) {
	pw := strings.Repeat("río-ñandú-7 ", 6) // 90 bytes
	if len(pw) < 70 {
		t.Fatal("test password too short")
	}
	h, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with m=19456 KiB, t=2", h)
	}
	if argonMemoryKiB < 19*1024 || argonTime < 2 {
		t.Fatal("argon2id parameters below m >= 19 MiB, t >= 2")
	}
	h2, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	ctx := context.Background()
	if ok, err := checkPassword(ctx, h, pw); !ok || err != nil {
		t.Fatalf("the password does not match its hash: %v", err)
	}
	changed := pw[:len(pw)-1] + "X"
	for _, wrong := range []string{changed, pw[:64], pw[:len(pw)-1], ""} {
		if ok, _ := checkPassword(ctx, h, wrong); ok {
			t.Errorf("%q (%d bytes) matches the hash of a %d-byte password", wrong, len(wrong), len(pw))
		}
	}

	// The semaphore: while every slot is taken, a hash waits.
	if cap(hashSlots) < 1 || cap(hashSlots) > 16 {
		t.Fatalf("hashSlots has %d slots", cap(hashSlots))
	}
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		checkPassword(ctx, h, pw)
		close(done)
	})
	select {
	case <-done:
		t.Fatal("a password was hashed while every slot was taken")
	case <-time.After(200 * time.Millisecond):
	}
	for range cap(hashSlots) {
		<-hashSlots
	}
	wg.Wait()
}

// TestPassword_WaitHonoursContextAndQueueIsBounded shows that a password check waiting for a
// hash slot gives up when its request's context ends, that no more than MaxHashWaiting checks
// wait at once (one more is refused at once with ERATELIMITED), and that nothing is hashed for
// either.
func TestPassword_WaitHonoursContextAndQueueIsBounded(t *testing.T) {
	h := encodeHash(make([]byte, 16), make([]byte, argonKeyLen))
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	defer func() {
		for range cap(hashSlots) {
			<-hashSlots
		}
	}()
	before := Argon2Evaluations()

	// A request that is gone stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := checkPassword(ctx, h, "anything at all here"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled request's check: %v, want context.Canceled", err)
	}

	// MaxHashWaiting waiters fill the queue; the next is refused without waiting.
	wait, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, MaxHashWaiting)
	for range MaxHashWaiting {
		wg.Go(func() {
			_, err := checkPassword(wait, h, "anything at all here")
			errs <- err
		})
	}
	for hashWaiting.Load() < MaxHashWaiting {
		runtime.Gosched()
	}
	_, err := checkPassword(context.Background(), h, "anything at all here")
	if courtside.ErrorCode(err) != courtside.ERATELIMITED || courtside.ErrorRetryAfter(err) <= 0 {
		t.Fatalf("a check beyond the queue: %v, want ERATELIMITED with a retry time", err)
	}
	stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a waiter whose request ended: %v", err)
		}
	}
	if n := Argon2Evaluations() - before; n != 0 {
		t.Fatalf("%d argon2 evaluations while no slot was free", n)
	}
}
