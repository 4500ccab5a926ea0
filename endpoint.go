package courtside

import (
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CheckSendURL reports what is wrong with u as the address Courtside sends messages to (an
// SMS gateway, an organisation's webhook receiver), as an EINVALID error on field "url": it
// must be an absolute https URL, or plain http to a loopback host (a receiver on the same
// machine), with a port from 1 to 65535 when it names one. Messages name hearings and
// victims' pseudonyms: they never cross a network in the clear. The error names the scheme
// and host only, never a path or credentials.
func CheckSendURL(u *url.URL) error {
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return Invalidf("url", "%s is not an absolute URL with a host", hostOnly(u))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return Invalidf("url", "%s has an invalid port", u.Scheme+"://"+u.Hostname())
		}
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return Invalidf("url", "%s must use https (plain http only for a loopback host)", hostOnly(u))
	}
	return Invalidf("url", "%s must be an https URL", hostOnly(u))
}

// ParseWebhookURL parses an organisation's webhook receiver and checks it as the webhook
// sender does (CheckSendURL), and that it carries no credentials: the receiver verifies the
// signature instead. Setting a receiver and sending to it apply this one rule, so a receiver
// is refused when it is set rather than at every send. Returns EINVALID on field "url".
func ParseWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, Invalidf("url", "The webhook URL is not a valid URL.")
	}
	if err := CheckSendURL(u); err != nil {
		return nil, err
	}
	if u.User != nil {
		return nil, Invalidf("url", "%s must not carry credentials; receivers verify the signature", hostOnly(u))
	}
	return u, nil
}

// hostOnly describes u for an error message: scheme and host, never user information or a
// path (a malformed URL can carry a secret there).
func hostOnly(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
