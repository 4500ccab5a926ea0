package courtside

import (
	"net/mail"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Contact addresses are checked where they enter: a victim's contact points, a user's e-mail
// address and phone number. An address that cannot be delivered to is refused at once, with
// its reason, rather than failing later at send time. Messages never repeat the address: a
// victim's address is PII.

// MaxEmailLength bounds an e-mail address (RFC 5321's limit on a path).
const MaxEmailLength = 254

// ValidateEmail returns EINVALID unless s is a plain e-mail address as RFC 5322 defines an
// addr-spec, with the rules a mail system adds: exactly one "@", no display name, comment or
// angle brackets, a local part of at most 64 bytes, and a domain of dot-separated labels of
// letters, digits and hyphens (at least two labels, none starting or ending with a hyphen).
func ValidateEmail(s string) error {
	bad := func(why string) error {
		return Invalidf("email", "Not an e-mail address: %s.", why)
	}
	if s == "" || len(s) > MaxEmailLength {
		return bad("it must be 1 to 254 characters")
	}
	if strings.Count(s, "@") != 1 {
		return bad("it must have exactly one @")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return bad("write it as name@example.org, without a display name, quotes or angle brackets")
	}
	local, domain, _ := strings.Cut(s, "@")
	if len(local) > 64 {
		return bad("the part before @ may be at most 64 characters")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return bad("the domain must have a dot, as in example.org")
	}
	for _, l := range labels {
		if !validDomainLabel(l) {
			return bad("the domain must be labels of letters, digits and hyphens separated by dots")
		}
	}
	return nil
}

// validDomainLabel reports whether l is a DNS label: 1 to 63 bytes of letters (any script, for
// internationalised domains), digits and hyphens, not starting or ending with a hyphen.
func validDomainLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// NormalizePhone returns s as an E.164 number (+ and up to 15 digits) when it is a valid
// phone number written in international form: a leading "+" and the country code, spaces,
// dots, dashes and parentheses allowed ("+1 (202) 555-0143"). Validity is the phone-number
// metadata's: the country code exists and the number fits its numbering plan. Returns EINVALID
// about "phone" otherwise.
func NormalizePhone(s string) (string, error) {
	bad := func(why string) (string, error) {
		return "", Invalidf("phone", "Not a phone number: %s.", why)
	}
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "+") {
		return bad("write it in international E.164 form with + and the country code, e.g. +12025550143")
	}
	for _, r := range t[1:] {
		if !strings.ContainsRune("0123456789 .-()", r) {
			return bad("only digits after the +, with spaces, dots, dashes or parentheses between them")
		}
	}
	n, err := phonenumbers.Parse(t, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return bad("no such number exists in the numbering plan of its country code")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// NormalizeContactAddress checks an address on a channel and returns it as stored: an SMS
// number in E.164 form, an e-mail address as given (trimmed). A webhook address is kept as
// given. Returns EINVALID about "address".
func NormalizeContactAddress(c Channel, address string) (string, error) {
	address = strings.TrimSpace(address)
	switch c {
	case ChannelSMS:
		n, err := NormalizePhone(address)
		if err != nil {
			return "", Invalidf("address", "%s", ErrorMessage(err))
		}
		return n, nil
	case ChannelEmail:
		if err := ValidateEmail(address); err != nil {
			return "", Invalidf("address", "%s", ErrorMessage(err))
		}
	}
	return address, nil
}
