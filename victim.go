package courtside

import (
	"context"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Channel is a way to reach a person.
type Channel string

// The delivery channels.
const (
	ChannelEmail   Channel = "EMAIL"
	ChannelSMS     Channel = "SMS"
	ChannelWebhook Channel = "WEBHOOK"
)

// Channels lists every channel.
var Channels = []Channel{ChannelEmail, ChannelSMS, ChannelWebhook}

// ParseChannel parses a channel name.
func ParseChannel(s string) (Channel, error) {
	c := Channel(strings.ToUpper(s))
	for _, known := range Channels {
		if c == known {
			return c, nil
		}
	}
	return "", Invalidf("channel", "Channel must be one of EMAIL, SMS, WEBHOOK.")
}

// DetailLevel is how much a message to a victim may say.
type DetailLevel string

// The detail levels: FULL gives date, time, court and courtroom; MINIMAL date and time only;
// CONTENT_FREE only "you have a new message, call your advocate".
const (
	DetailFull        DetailLevel = "FULL"
	DetailMinimal     DetailLevel = "MINIMAL"
	DetailContentFree DetailLevel = "CONTENT_FREE"
)

// Victim is a person a case concerns. Most roles see only the pseudonym; the legal name and
// contact points are encrypted at rest and shown only to the victim's own advocates and
// coordinators.
type Victim struct {
	ID                int64          `json:"id"`
	OrganizationID    int64          `json:"organizationId"`
	Pseudonym         string         `json:"pseudonym"`
	PreferredLanguage string         `json:"preferredLanguage"`
	CreatedAt         time.Time      `json:"createdAt"`
	LegalName         string         `json:"-"`
	Contacts          []ContactPoint `json:"-"`
	Policy            *ContactPolicy `json:"-"`

	// PIIVisible reports whether the caller may see the legal name, contacts and policy
	// (VictimService.OpenVictimPII opens them).
	PIIVisible bool `json:"-"`
}

// ContactPoint is an address on one channel.
type ContactPoint struct {
	Channel         Channel    `json:"channel"`
	Address         string     `json:"address"`
	ConfirmedSafeAt *time.Time `json:"confirmedSafeAt,omitempty"`
}

// ContactPolicy is the victim's rule for being contacted.
type ContactPolicy struct {
	Channels        []ChannelRule `json:"channels"`
	QuietHoursStart string        `json:"quietHoursStart,omitempty"`
	QuietHoursEnd   string        `json:"quietHoursEnd,omitempty"`
	NeutralSender   string        `json:"neutralSender,omitempty"`
	// TimeZone is the victim's IANA time zone: quiet hours are in it, and messages give dates
	// and times in it. Empty means the zone of the hearing's court.
	TimeZone string `json:"timeZone,omitempty"`
}

// ChannelRule says whether, and in how much detail, a channel may be used.
type ChannelRule struct {
	Channel Channel     `json:"channel"`
	Allowed bool        `json:"allowed"`
	Detail  DetailLevel `json:"detail"`
}

// Validate reports the first problem with v's fields as an EINVALID error. Contact addresses
// must be deliverable on their channel (NormalizeContactAddress: E.164 for SMS, RFC 5322 for
// e-mail) and are rewritten in their stored form.
func (v *Victim) Validate() error {
	if strings.TrimSpace(v.Pseudonym) == "" || len(v.Pseudonym) > 100 {
		return Invalidf("pseudonym", "Pseudonym must be 1 to 100 characters.")
	}
	if len(v.LegalName) > 200 {
		return Invalidf("legalName", "Legal name must be at most 200 characters.")
	}
	tag, err := language.Parse(v.PreferredLanguage)
	if err != nil || v.PreferredLanguage == "" {
		return Invalidf("preferredLanguage", "Preferred language must be a BCP 47 tag such as es or zh-Hans.")
	}
	v.PreferredLanguage = tag.String()
	for i, c := range v.Contacts {
		if _, err := ParseChannel(string(c.Channel)); err != nil {
			return Invalidf("contacts", "Contact %d: channel must be one of EMAIL, SMS, WEBHOOK.", i+1)
		}
		if strings.TrimSpace(c.Address) == "" || len(c.Address) > 320 {
			return Invalidf("contacts", "Contact %d: address must be 1 to 320 characters.", i+1)
		}
		addr, err := NormalizeContactAddress(c.Channel, c.Address)
		if err != nil {
			return Invalidf("contacts", "Contact %d: %s", i+1, ErrorMessage(err))
		}
		v.Contacts[i].Address = addr
	}
	return nil
}

// Validate reports the first problem with the policy as an EINVALID error: each channel at
// most once, a known detail level, quiet hours as HH:MM pairs, a short neutral sender name, a
// known time zone.
func (p *ContactPolicy) Validate() error {
	seen := map[Channel]bool{}
	for _, r := range p.Channels {
		if _, err := ParseChannel(string(r.Channel)); err != nil {
			return Invalidf("channels", "Channel must be one of EMAIL, SMS, WEBHOOK.")
		}
		if seen[r.Channel] {
			return Invalidf("channels", "Channel %s is listed twice.", r.Channel)
		}
		seen[r.Channel] = true
		switch r.Detail {
		case DetailFull, DetailMinimal, DetailContentFree:
		default:
			return Invalidf("channels", "Detail must be FULL, MINIMAL or CONTENT_FREE.")
		}
	}
	if (p.QuietHoursStart == "") != (p.QuietHoursEnd == "") {
		return Invalidf("quietHoursEnd", "Give both ends of the quiet hours, or neither.")
	}
	for field, v := range map[string]string{"quietHoursStart": p.QuietHoursStart, "quietHoursEnd": p.QuietHoursEnd} {
		if _, err := time.Parse("15:04", v); v != "" && (err != nil || len(v) != 5) {
			return Invalidf(field, "Quiet hours are HH:MM in the victim's time zone, e.g. 21:00.")
		}
	}
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" || len(p.TimeZone) > 64 {
			return Invalidf("timeZone", "Time zone must be an IANA name such as America/New_York.")
		}
	}
	if len(p.NeutralSender) > 40 || strings.ContainsAny(p.NeutralSender, "\r\n<>\"") {
		return Invalidf("neutralSender", "The neutral sender name must be at most 40 characters, without quotes or angle brackets.")
	}
	return nil
}

// Rule returns the policy's rule for a channel; a channel the policy does not name is not
// allowed.
func (p *ContactPolicy) Rule(c Channel) ChannelRule {
	for _, r := range p.Channels {
		if r.Channel == c {
			return r
		}
	}
	return ChannelRule{Channel: c, Allowed: false, Detail: DetailContentFree}
}

// VictimService manages victims. Reads fill in PII only for callers allowed to see it, and are
// audited.
type VictimService interface {
	// ReleaseService is the consent ledger of the victims' releases of information.
	ReleaseService

	// RegisterVictim registers a victim in the caller's advocacy organisation (coordinators).
	// Returns EINVALID or EFORBIDDEN.
	RegisterVictim(ctx context.Context, v *Victim) error

	// FindVictimByID returns a victim the caller may see, without PII. Returns ENOTFOUND.
	FindVictimByID(ctx context.Context, id int64) (*Victim, error)

	// FindVictims returns the victims the caller may see among ids, without PII; PIIVisible
	// says whether OpenVictimPII would open a victim's PII for the caller.
	FindVictims(ctx context.Context, ids ...int64) ([]*Victim, error)

	// OpenVictimPII returns the victims among ids whose legal name, contacts and contact policy
	// the caller may see, with those opened. Each victim opened is audited.
	OpenVictimPII(ctx context.Context, ids ...int64) ([]*Victim, error)

	// SetContactPolicy replaces the victim's contact policy and marks the victim's contact
	// points on the channels in confirmSafe as confirmed safe now (coordinators of the victim's
	// organisation). Returns EINVALID, EFORBIDDEN or ENOTFOUND.
	SetContactPolicy(ctx context.Context, victimID int64, policy ContactPolicy, confirmSafe []Channel) (*Victim, error)
}
