package courtside

import (
	"strings"

	"golang.org/x/text/language"
)

// Tier is an interpreter's qualification in one language, in the federal order of preference
// (28 U.S.C. 1827): CERTIFIED before PROFESSIONALLY_QUALIFIED before LANGUAGE_SKILLED.
type Tier string

// The tiers, best first.
const (
	TierCertified               Tier = "CERTIFIED"
	TierProfessionallyQualified Tier = "PROFESSIONALLY_QUALIFIED"
	TierLanguageSkilled         Tier = "LANGUAGE_SKILLED"
)

// Tiers lists the tiers, best first.
var Tiers = []Tier{TierCertified, TierProfessionallyQualified, TierLanguageSkilled}

// Rank returns 0 for the best tier and higher numbers for lower ones; -1 for an unknown tier.
func (t Tier) Rank() int {
	for i, known := range Tiers {
		if t == known {
			return i
		}
	}
	return -1
}

// AtLeast reports whether t is as good as min or better.
func (t Tier) AtLeast(min Tier) bool {
	return t.Rank() >= 0 && min.Rank() >= 0 && t.Rank() <= min.Rank()
}

// InterpreterLanguage is one language an interpreter works in, and the tier in it.
type InterpreterLanguage struct {
	Language string `json:"language"`
	Tier     Tier   `json:"tier"`
}

// Validate reports a bad language tag or tier as an EINVALID error, and canonicalises the tag.
func (l *InterpreterLanguage) Validate() error {
	tag, err := language.Parse(l.Language)
	if err != nil || l.Language == "" {
		return Invalidf("languages", "Language %q is not a BCP 47 tag such as es or zh-Hans.", l.Language)
	}
	l.Language = tag.String()
	if l.Tier.Rank() < 0 {
		return Invalidf("languages", "Tier %q must be one of CERTIFIED, PROFESSIONALLY_QUALIFIED, LANGUAGE_SKILLED.", l.Tier)
	}
	return nil
}

// ParseInterpreterLanguages parses "es:CERTIFIED,ru:LANGUAGE_SKILLED".
func ParseInterpreterLanguages(s string) ([]InterpreterLanguage, error) {
	var out []InterpreterLanguage
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lang, tier, ok := strings.Cut(part, ":")
		if !ok {
			return nil, Invalidf("languages", "%q must be LANGUAGE:TIER, e.g. es:CERTIFIED.", part)
		}
		l := InterpreterLanguage{Language: strings.TrimSpace(lang), Tier: Tier(strings.ToUpper(strings.TrimSpace(tier)))}
		if err := l.Validate(); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
