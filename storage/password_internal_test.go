package storage

import (
	"strings"
	"sync"
	"testing"
	"time"
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
	if !checkPassword(h, pw) {
		t.Fatal("the password does not match its hash")
	}
	changed := pw[:len(pw)-1] + "X"
	for _, wrong := range []string{changed, pw[:64], pw[:len(pw)-1], ""} {
		if checkPassword(h, wrong) {
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
		checkPassword(h, pw)
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
