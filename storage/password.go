package storage

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"courtside"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: 19 MiB, 2 passes, 1 lane (OWASP's minimum for argon2id).
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
)

// hashSlots bounds how many password hashes run at once, so a login storm cannot exhaust memory.
var hashSlots = make(chan struct{}, 2)

// MaxHashWaiting bounds the queue for hashSlots: one more caller waiting for a slot is refused
// at once (ERATELIMITED), so that a login storm cannot pile up goroutines and requests.
const MaxHashWaiting = 64

// hashWaiting counts the callers waiting for a slot.
var hashWaiting atomic.Int32

// errHashBusy refuses a password check when MaxHashWaiting callers already wait.
var errHashBusy = courtside.RateLimitedf(time.Second, "Too many sign-ins at once; try again in a moment.")

// argonEvaluations counts argon2 key derivations made for callers (not the process's one-off
// timing equaliser).
var argonEvaluations atomic.Int64

// Argon2Evaluations returns how many argon2 key derivations this process has made for
// passwords. Tests use it to show that every sign-in path (unknown user, locked account, wrong
// password, right password) costs the same one evaluation.
func Argon2Evaluations() int64 { return argonEvaluations.Load() }

// acquireHashSlot waits for one of hashSlots, giving up when ctx ends or when the queue is full.
func acquireHashSlot(ctx context.Context) error {
	select {
	case hashSlots <- struct{}{}:
		return nil
	default:
	}
	if hashWaiting.Add(1) > MaxHashWaiting {
		hashWaiting.Add(-1)
		return errHashBusy
	}
	defer hashWaiting.Add(-1)
	select {
	case hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deriveKey runs argon2id in a slot and counts it.
func deriveKey(ctx context.Context, password string, salt []byte, t, m uint32, p uint8, keyLen uint32) ([]byte, error) {
	if err := acquireHashSlot(ctx); err != nil {
		return nil, err
	}
	defer func() { <-hashSlots }()
	argonEvaluations.Add(1)
	return argon2.IDKey([]byte(password), salt, t, m, p, keyLen), nil
}

// hashPassword returns an argon2id hash in the PHC string format.
func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("storage: salt: %w", err)
	}
	key, err := deriveKey(context.Background(), password, salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	return encodeHash(salt, key), nil
}

// encodeHash renders a salt and key in the PHC string format with our parameters.
func encodeHash(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// checkPassword reports whether password matches an argon2id hash made by hashPassword. It
// waits for a hash slot until ctx ends, and gives up at once when too many callers wait
// (ERATELIMITED); a malformed hash matches nothing.
func checkPassword(ctx context.Context, encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, nil
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, nil
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, nil
	}
	got, err := deriveKey(ctx, password, salt, t, m, p, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
