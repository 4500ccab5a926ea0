package storage

import (
	"net/netip"
	"sync"
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
