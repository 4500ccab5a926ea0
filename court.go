package courtside

import (
	"context"
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
	return nil
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
}
