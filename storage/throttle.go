package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// throttle is a token bucket (golang.org/x/time/rate) per key: burst attempts at once, then
// one per every. It keeps at most maxKeys buckets: buckets that have refilled are forgotten (a
// new one starts full, which is the same), and when every bucket is still in use a new key is
// refused, so that a flood of keys cannot grow memory without bound.
type throttle struct {
	every   time.Duration
	burst   int
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	added   int // buckets added since the last sweep
}

// throttleMaxKeys is how many keys a throttle remembers at most.
const throttleMaxKeys = 100_000

// newThrottle returns a throttle of burst attempts, then one per every.
func newThrottle(burst int, every time.Duration) *throttle {
	return &throttle{every: every, burst: burst, maxKeys: throttleMaxKeys, buckets: map[string]*rate.Limiter{}}
}

// allow takes one attempt from key's bucket at now. When the bucket is empty it answers false
// and how long until the next attempt would be allowed.
func (t *throttle) allow(key string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[key]
	if b == nil {
		if t.added >= 1024 || len(t.buckets) >= t.maxKeys {
			t.sweep(now)
		}
		if len(t.buckets) >= t.maxKeys {
			return false, t.every
		}
		b = rate.NewLimiter(rate.Every(t.every), t.burst)
		t.buckets[key] = b
		t.added++
	}
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, t.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets the buckets that are full again.
func (t *throttle) sweep(now time.Time) {
	for k, b := range t.buckets {
		if b.TokensAt(now) >= float64(t.burst) {
			delete(t.buckets, k)
		}
	}
	t.added = 0
}

// sharedThrottle is throttle's counterpart on PostgreSQL, where several processes serve one
// database: its buckets are rows of login_buckets under its scope, shared by all of them. One
// statement refills a bucket for the time since its last use and takes a token, or refuses
// when less than one is left, atomically whatever else runs. Every sweepEvery attempts, and at
// the first, the buckets full again are deleted; when maxKeys buckets are still in use after a
// sweep, new keys are refused until a sweep finds room, as throttle does.
type sharedThrottle struct {
	pool    *sql.DB // the login pool (loginshare.go)
	scope   string  // 'address' or 'username'
	every   time.Duration
	burst   int
	maxKeys int

	calls atomic.Int64 // attempts since the throttle was made
	full  atomic.Bool  // the last sweep left maxKeys buckets or more
}

// sweepEvery is how many attempts a sharedThrottle takes between sweeps.
const sweepEvery = 1024

// newSharedThrottle returns a throttle of burst attempts, then one per every, whose buckets
// are the rows of scope in login_buckets on pool.
func newSharedThrottle(pool *sql.DB, scope string, burst int, every time.Duration) *sharedThrottle {
	return &sharedThrottle{pool: pool, scope: scope, every: every, burst: burst, maxKeys: throttleMaxKeys}
}

// The statements of sharedThrottle.allow. $1 scope, $2 key, $3 burst, $4 now and $5 every in
// microseconds. Each answers whether a token was taken, and the bucket as it was before (from
// the statement's snapshot), from which a refusal's wait is worked out. takeOrAdd starts a
// bucket that does not exist yet, full less the token taken; take refuses a key without one.
const (
	bucketBefore = `WITH before AS (SELECT tokens, at FROM login_buckets WHERE scope = $1 AND key = $2), taken AS (`
	bucketAfter  = ` RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM taken), (SELECT tokens FROM before), (SELECT at FROM before)`
	bucketRefill = `LEAST($3::float8, b.tokens + GREATEST(0, $4::bigint - b.at) / $5::float8)`
	takeOrAdd    = bucketBefore + `INSERT INTO login_buckets AS b (scope, key, tokens, at) VALUES ($1, $2, $3::float8 - 1, $4::bigint)
		ON CONFLICT (scope, key) DO UPDATE SET tokens = ` + bucketRefill + ` - 1, at = GREATEST(b.at, $4::bigint)
		WHERE ` + bucketRefill + ` >= 1` + bucketAfter
	take = bucketBefore + `UPDATE login_buckets AS b SET tokens = ` + bucketRefill + ` - 1, at = GREATEST(b.at, $4::bigint)
		WHERE scope = $1 AND key = $2 AND ` + bucketRefill + ` >= 1` + bucketAfter
)

// allow takes one attempt from key's bucket at now. When the bucket is empty it answers false
// and how long until the next attempt would be allowed.
func (t *sharedThrottle) allow(ctx context.Context, key []byte, now time.Time) (bool, time.Duration, error) {
	if t.calls.Add(1)%sweepEvery == 1 {
		if err := t.sweep(ctx, now); err != nil {
			return false, 0, err
		}
	}
	query := takeOrAdd
	if t.full.Load() {
		query = take
	}
	at, every := now.UnixMicro(), float64(t.every.Microseconds())
	var ok bool
	var tokens sql.NullFloat64
	var last sql.NullInt64
	if err := t.pool.QueryRowContext(ctx, query, t.scope, key, float64(t.burst), at, every).Scan(&ok, &tokens, &last); err != nil {
		return false, 0, fmt.Errorf("storage: throttle: %w", err)
	}
	if ok {
		return true, 0, nil
	}
	// Refused. The bucket as this statement saw it tells the wait; when it did not see one (a
	// new key while the table is full) or another attempt took the token it saw, one period.
	wait := t.every
	if tokens.Valid && last.Valid {
		left := min(float64(t.burst), tokens.Float64+float64(max(0, at-last.Int64))/every)
		if w := time.Duration((1-left)*every) * time.Microsecond; w > 0 {
			wait = w
		}
	}
	return false, wait, nil
}

// sweep deletes the buckets of the throttle's scope that are full again at now, then notes
// whether maxKeys buckets or more are left.
func (t *sharedThrottle) sweep(ctx context.Context, now time.Time) error {
	if _, err := t.pool.ExecContext(ctx, `DELETE FROM login_buckets
		WHERE scope = $1 AND tokens + GREATEST(0, $2::bigint - at) / $3::float8 >= $4::float8`,
		t.scope, now.UnixMicro(), float64(t.every.Microseconds()), float64(t.burst)); err != nil {
		return fmt.Errorf("storage: sweep throttle: %w", err)
	}
	var n int
	if err := t.pool.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_buckets WHERE scope = $1`, t.scope).Scan(&n); err != nil {
		return fmt.Errorf("storage: sweep throttle: %w", err)
	}
	t.full.Store(n >= t.maxKeys)
	return nil
}

// bucketKey is what login_buckets keeps of an address's throttling key (addressKey): its
// SHA-256, as a username's is its loginKey, so that the table holds no address as it came.
func bucketKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// addressKey is the throttling key of a client address: the address itself for IPv4, its /64
// network for IPv6 (one subscriber usually holds a whole /64). An address that does not parse
// is its own key.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return "?" + addr[:min(len(addr), 64)]
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return ip.String()
	}
	return p.String()
}
