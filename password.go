package courtside

import (
	"strings"
	"unicode/utf8"
)

// Password length bounds (NIST SP 800-63B: at least 15 characters when a password is the only
// factor; at least 64 accepted; no composition rules; no truncation).
const (
	MinPasswordLength = 15
	MaxPasswordLength = 256
)

// commonPasswords is a small blocklist of passwords that appear in breach corpora and pass the
// length rule. Checked case-insensitively.
var commonPasswords = map[string]bool{
	"passwordpassword": true, "123456789012345": true, "1234567890123456": true,
	"qwertyuiopasdfgh": true, "iloveyouiloveyou": true, "aaaaaaaaaaaaaaa": true,
	"password1234567": true, "correcthorsebatterystaple": true, "letmeinletmein1": true,
	"welcomewelcome1": true, "qwertyqwertyqwerty": true, "abc123abc123abc": true,
}

// ValidatePassword applies the NIST SP 800-63B rules: long enough, not absurdly long, not a
// known-common password, not the username.
func ValidatePassword(username, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return Invalidf("password", "Password must be at least %d characters.", MinPasswordLength)
	}
	if n > MaxPasswordLength {
		return Invalidf("password", "Password must be at most %d characters.", MaxPasswordLength)
	}
	lower := strings.ToLower(password)
	if commonPasswords[lower] || strings.Contains(lower, strings.ToLower(username)) && username != "" {
		return Invalidf("password", "Password is too easy to guess; choose another.")
	}
	if strings.Count(password, password[:1]) == len(password) {
		return Invalidf("password", "Password is too easy to guess; choose another.")
	}
	return nil
}
