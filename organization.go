package courtside

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// OrganizationKind says what an organisation is. It is set from the role of the organisation's
// first member and decides which roles its later members may have.
type OrganizationKind string

// The organisation kinds.
const (
	// KindProsecution is a prosecutor's office: its members are prosecutors; it owns cases.
	KindProsecution OrganizationKind = "PROSECUTION"
	// KindAdvocacy is an advocacy organisation: coordinators and advocates; it serves victims.
	KindAdvocacy OrganizationKind = "ADVOCACY"
	// KindInterpreting is an interpreters' agency: interpreters.
	KindInterpreting OrganizationKind = "INTERPRETING"
)

// OrganizationKinds lists every kind, in the order of the schema's enum.
var OrganizationKinds = []OrganizationKind{KindProsecution, KindAdvocacy, KindInterpreting}

// Noun names the kind in words: "prosecutor's office".
func (k OrganizationKind) Noun() string {
	switch k {
	case KindProsecution:
		return "prosecutor's office"
	case KindAdvocacy:
		return "advocacy organisation"
	case KindInterpreting:
		return "interpreters' agency"
	}
	return "organisation of no kind yet"
}

// Describe names the kind in words with its article: "a prosecutor's office".
func (k OrganizationKind) Describe() string {
	if k == KindAdvocacy || k == KindInterpreting || k == "" {
		return "an " + k.Noun()
	}
	return "a " + k.Noun()
}

// KindForRole returns the kind of organisation a member with role r belongs to, and "" for
// administrators, who belong to none.
func KindForRole(r Role) OrganizationKind {
	switch r {
	case RoleProsecutor:
		return KindProsecution
	case RoleCoordinator, RoleAdvocate:
		return KindAdvocacy
	case RoleInterpreter:
		return KindInterpreting
	}
	return ""
}

// CheckMembership returns EINVALID, about the field "org", unless a user with role r may be a
// member of org: the organisation's kind must be the kind of the role. An organisation that has
// no kind yet takes any role but an administrator's.
func CheckMembership(r Role, org *Organization) error {
	want := KindForRole(r)
	if want == "" {
		return Invalidf("org", "An administrator belongs to no organisation; leave the organisation out.")
	}
	if org == nil || org.Kind == "" || org.Kind == want {
		return nil
	}
	return Invalidf("org", "%q is %s (%s); a %s belongs to %s (%s).", org.Name, org.Kind.Describe(), org.Kind,
		strings.ToLower(string(r)), want.Describe(), want)
}

// MaxOrganizationName bounds an organisation's name.
const MaxOrganizationName = 200

// ValidateOrganizationName reports a name an organisation may not have: empty, longer than
// MaxOrganizationName bytes, or with control characters. Returns EINVALID about "org".
func ValidateOrganizationName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > MaxOrganizationName {
		return Invalidf("org", "Organisation name must be 1 to %d characters.", MaxOrganizationName)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return Invalidf("org", "Organisation name must not contain control characters.")
		}
	}
	return nil
}

// organizationNameKey is the form in which two names that differ only in letter case, accents,
// spacing or punctuation are equal: letters folded to lower case without their accents, "&"
// read as "and", and nothing but letters and digits kept.
func organizationNameKey(name string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(name) {
		switch {
		case r == '&':
			b.WriteString("and")
		case unicode.Is(unicode.Mn, r):
			// a combining accent, dropped
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// SimilarOrganizationNames reports whether two names are likely the same organisation typed
// twice: equal once case, accents, spacing and punctuation are ignored ("County DA",
// "county da", "County D.A."), or a small typing error apart ("Couny DA"): one edit for names of
// 5 to 11 letters and digits, two from 12. Names whose digits differ ("District 1", "District
// 2") are different organisations.
func SimilarOrganizationNames(a, b string) bool {
	ka, kb := organizationNameKey(a), organizationNameKey(b)
	if ka == kb {
		return true
	}
	if digitsOf(ka) != digitsOf(kb) {
		return false
	}
	shorter := min(len([]rune(ka)), len([]rune(kb)))
	allowed := 0
	switch {
	case shorter >= 12:
		allowed = 2
	case shorter >= 5:
		allowed = 1
	}
	return allowed > 0 && editDistance(ka, kb, allowed) <= allowed
}

// digitsOf returns the digits of s, in order.
func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// editDistance returns the Levenshtein distance between a and b, counted in runes, or
// limit+1 as soon as it is known to exceed limit.
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
