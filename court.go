package courtside

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Court is a courthouse; hearing times are shown in its time zone.
type Court struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	TimeZone  string    `json:"timeZone"`
	Address   string    `json:"address,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// Hours are the hours the court sits, in its time zone; the zero value means
	// DefaultCourtHours.
	Hours CourtHours `json:"hours"`
}

// Validate reports the first problem with c's fields as an EINVALID error.
func (c *Court) Validate() error {
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 {
		return Invalidf("name", "Court name must be 1 to 200 characters.")
	}
	if c.TimeZone == "" || c.TimeZone == "Local" {
		return Invalidf("timeZone", "Time zone must be an IANA name such as America/New_York.")
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return Invalidf("timeZone", "Unknown time zone %q; use an IANA name such as America/New_York.", c.TimeZone)
	}
	if len(c.Address) > 500 {
		return Invalidf("address", "Address must be at most 500 characters.")
	}
	if c.Hours != (CourtHours{}) && !(c.Hours.Opens >= 0 && c.Hours.Opens < c.Hours.Closes && c.Hours.Closes <= 24*time.Hour) {
		return Invalidf("closesAt", "The court must close after it opens, on the same day.")
	}
	return nil
}

// EffectiveHours returns the court's hours, DefaultCourtHours when none are set.
func (c *Court) EffectiveHours() CourtHours {
	if c.Hours == (CourtHours{}) {
		return DefaultCourtHours
	}
	return c.Hours
}

// ParseClock parses a time of day "HH:MM" (00:00 to 24:00) as the duration since midnight.
// Returns EINVALID naming field.
func ParseClock(field, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var h, m int
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, Invalidf(field, "%s must be a time of day HH:MM such as 08:30.", field)
	}
	h, m = int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, Invalidf(field, "%s must be a time of day HH:MM between 00:00 and 24:00.", field)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// FormatClock renders a duration since midnight as "HH:MM".
func FormatClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// MaxTravelMinutes bounds the travel time configured between two courts.
const MaxTravelMinutes = 720

// ValidateTravelTime reports a travel time that cannot be configured: between a court and
// itself, or outside 0 to MaxTravelMinutes minutes. Returns EINVALID.
func ValidateTravelTime(fromCourtID, toCourtID int64, minutes int) error {
	if fromCourtID == toCourtID {
		return Invalidf("toCourtId", "A travel time is between two different courts.")
	}
	if minutes < 0 || minutes > MaxTravelMinutes {
		return Invalidf("minutes", "Travel time must be 0 to %d minutes.", MaxTravelMinutes)
	}
	return nil
}

// CanSetTravelTimes reports whether u may configure travel times between courts: admins only.
// A travel time is a fact about two courthouses, and every organisation's ranking and
// conflicts use it: no one organisation may change the buffers the others plan with.
func CanSetTravelTimes(u *User) bool {
	return u != nil && u.Role == RoleAdmin
}

// Location returns the court's time zone. The zone was validated when the court was created.
func (c *Court) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// CourtService manages courts.
type CourtService interface {
	// CreateCourt creates a court (admins only). Returns EINVALID, EFORBIDDEN or ECONFLICT.
	CreateCourt(ctx context.Context, court *Court) error

	// FindCourtByID returns a court. Returns ENOTFOUND.
	FindCourtByID(ctx context.Context, id int64) (*Court, error)

	// FindCourtByName returns a court by its exact name. Returns ENOTFOUND.
	FindCourtByName(ctx context.Context, name string) (*Court, error)

	// FindCourts returns every court, by name.
	FindCourts(ctx context.Context) ([]*Court, error)

	// SetTravelTime sets the travel time between two courts, both ways, in minutes (admins
	// only), and returns it. Returns EINVALID (the same court, minutes outside 0 to
	// MaxTravelMinutes), EFORBIDDEN or ENOTFOUND (a court).
	SetTravelTime(ctx context.Context, fromCourtID, toCourtID int64, minutes int) (int, error)

	// TravelTime returns the travel time between two courts in minutes: the configured one,
	// or DefaultTravelTime when none is; 0 within one court. Any signed-in user. Returns
	// ENOTFOUND (a court).
	TravelTime(ctx context.Context, fromCourtID, toCourtID int64) (int, error)
}

// MarshalJSON writes court hours as wall-clock times, {"opens":"08:00","closes":"18:00"}.
func (h CourtHours) MarshalJSON() ([]byte, error) {
	return []byte(`{"opens":"` + FormatClock(h.Opens) + `","closes":"` + FormatClock(h.Closes) + `"}`), nil
}
