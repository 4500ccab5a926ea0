package main

import (
	"flag"
	"io"
	"testing"
	"time"
)

// TestClientAddress shows whom sign-in throttling takes the client to be: the connection's
// peer, whatever X-Forwarded-For says, unless the peer is a trusted proxy; then the rightmost
// forwarded address that is not itself a trusted proxy, and never an address left of a garbled
// entry.
func TestClientAddress(t *testing.T) {
	var g guardConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.flags(fs)
	if err := fs.Parse([]string{"--trusted-proxies", "10.0.0.0/8, 192.0.2.1,2001:db8::/32"}); err != nil {
		t.Fatal(err)
	}
	if err := g.parse(); err != nil {
		t.Fatal(err)
	}
	if l := g.LoginLimits; l.AddressBurst != 20 || l.AddressEvery != 3*time.Second || l.AccountBurst != 10 || l.AccountEvery != 30*time.Second {
		t.Fatalf("default login limits %+v", l)
	}
	for _, c := range []struct {
		remote    string
		forwarded []string
		want      string
	}{
		{"198.51.100.4:5555", nil, "198.51.100.4"},
		{"198.51.100.4:5555", []string{"203.0.113.9"}, "198.51.100.4"}, // not a proxy: the header is ignored
		{"10.1.2.3:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"10.1.2.3:5555", []string{"203.0.113.9, 10.9.9.9"}, "203.0.113.9"},             // through two proxies
		{"10.1.2.3:5555", []string{"6.6.6.6", "203.0.113.9, 192.0.2.1"}, "203.0.113.9"}, // the client's own claim is left of it
		{"10.1.2.3:5555", []string{"203.0.113.9, garbage"}, "10.1.2.3"},
		{"10.1.2.3:5555", []string{"[2001:db9::1]:443"}, "2001:db9::1"},
		{"10.1.2.3:5555", []string{"10.4.4.4"}, "10.4.4.4"}, // only proxies: the leftmost
		{"10.1.2.3:5555", nil, "10.1.2.3"},
		{"[::ffff:10.1.2.3]:5555", []string{"203.0.113.9"}, "203.0.113.9"},
		{"[2001:db8::7]:5555", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		if got := clientAddress(c.remote, c.forwarded, g.trusted); got != c.want {
			t.Errorf("%s %q: %s, want %s", c.remote, c.forwarded, got, c.want)
		}
	}
	for _, bad := range [][]string{{"--trusted-proxies", "proxy.internal"}, {"--request-timeout", "0s"}, {"--request-timeout", "11m"}, {"--request-timeout", "soon"},
		{"--login-rate-per-address", "lots"}, {"--login-rate-per-account", "0/1s"}, {"--login-rate-per-account", "5/never"}} {
		var g guardConfig
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		g.flags(fs)
		if err := fs.Parse(bad); err != nil {
			t.Fatal(err)
		}
		if err := g.parse(); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
