package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"courtside"
	"courtside/graph"
	"courtside/storage"
)

// guardConfig is what `serve` takes to hold under hostile load: the GraphQL request deadline,
// which proxies may say who the client is, and how often people may try to sign in.
type guardConfig struct {
	// RequestTimeout is each GraphQL request's deadline (--request-timeout).
	RequestTimeout time.Duration
	// TrustedProxies are the peers whose X-Forwarded-For is believed (--trusted-proxies).
	TrustedProxies []netip.Prefix
	// LoginLimits throttle sign-in attempts (--login-rate-per-address, --login-rate-per-account).
	LoginLimits storage.LoginLimits

	timeoutFlag, proxiesFlag, addressRateFlag, accountRateFlag string
}

// maxRequestTimeout bounds --request-timeout: a deadline is there to be short.
const maxRequestTimeout = 10 * time.Minute

// flags adds the guard's flags to fs; parse turns them into values.
func (g *guardConfig) flags(fs *flag.FlagSet) {
	fs.StringVar(&g.timeoutFlag, "request-timeout", env("COURTSIDE_REQUEST_TIMEOUT", graph.DefaultRequestTimeout.String()),
		"deadline of each GraphQL request, such as 30s or 2m; the work stops when it passes or the client goes away (COURTSIDE_REQUEST_TIMEOUT)")
	fs.StringVar(&g.proxiesFlag, "trusted-proxies", env("COURTSIDE_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (for sign-in throttling); "+
			"none by default: the client is the connection's peer (COURTSIDE_TRUSTED_PROXIES)")
	d := storage.DefaultLoginLimits
	fs.StringVar(&g.addressRateFlag, "login-rate-per-address", env("COURTSIDE_LOGIN_RATE_PER_ADDRESS", fmt.Sprintf("%d/%s", d.AddressBurst, d.AddressEvery)),
		"sign-in attempts from one client address: BURST/EVERY, that many at once then one per EVERY; raise it for an office behind one address (COURTSIDE_LOGIN_RATE_PER_ADDRESS)")
	fs.StringVar(&g.accountRateFlag, "login-rate-per-account", env("COURTSIDE_LOGIN_RATE_PER_ACCOUNT", fmt.Sprintf("%d/%s", d.AccountBurst, d.AccountEvery)),
		"sign-in attempts naming one username: BURST/EVERY (COURTSIDE_LOGIN_RATE_PER_ACCOUNT)")
}

// parseRate parses BURST/EVERY, such as 20/3s.
func parseRate(flagName, s string) (int, time.Duration, error) {
	burst, every, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(burst)
	d, derr := time.ParseDuration(every)
	if !ok || err != nil || derr != nil || n < 1 || d <= 0 {
		return 0, 0, usagef("--%s: want BURST/EVERY such as 20/3s (that many at once, then one per EVERY); got %q", flagName, s)
	}
	return n, d, nil
}

// parse checks the flags' values.
func (g *guardConfig) parse() error {
	d, err := time.ParseDuration(strings.TrimSpace(g.timeoutFlag))
	if err != nil || d <= 0 || d > maxRequestTimeout {
		return usagef("--request-timeout: want a duration from 1ms to %s, such as 30s; got %q", maxRequestTimeout, g.timeoutFlag)
	}
	g.RequestTimeout = d
	g.TrustedProxies = nil
	for _, s := range strings.Split(g.proxiesFlag, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return usagef("--trusted-proxies: %q is neither an address nor a CIDR range such as 10.0.0.0/8", s)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		g.TrustedProxies = append(g.TrustedProxies, p.Masked())
	}
	if g.LoginLimits.AddressBurst, g.LoginLimits.AddressEvery, err = parseRate("login-rate-per-address", g.addressRateFlag); err != nil {
		return err
	}
	if g.LoginLimits.AccountBurst, g.LoginLimits.AccountEvery, err = parseRate("login-rate-per-account", g.accountRateFlag); err != nil {
		return err
	}
	return nil
}

// trusted reports whether addr is one of the trusted proxies.
func (g *guardConfig) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range g.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// withClientAddr puts each request's client address into its context
// (courtside.NewContextWithClientAddr), for sign-in throttling: the connection's peer; when
// that peer is a trusted proxy, the rightmost address of X-Forwarded-For that is not itself a
// trusted proxy. Without --trusted-proxies the header is ignored, so that a client cannot
// choose its own address.
func (g *guardConfig) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddress(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), g.trusted)
		next.ServeHTTP(w, r.WithContext(courtside.NewContextWithClientAddr(r.Context(), addr)))
	})
}

// clientAddress returns the client of a request from its peer (host:port) and its
// X-Forwarded-For lines, believing the header only as far as trusted hops reach.
func clientAddress(remote string, forwarded []string, trusted func(netip.Addr) bool) string {
	peer, ok := parseHop(remote)
	if !ok {
		return remote
	}
	if !trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, line := range forwarded {
		hops = append(hops, strings.Split(line, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break // a garbled entry: believe nothing left of it
		}
		client = hop
		if !trusted(hop) {
			break
		}
	}
	return client.String()
}

// parseHop parses an address with or without a port ("192.0.2.1", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
