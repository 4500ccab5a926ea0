package main

import (
	"context"
	"fmt"
	"io"

	"courtside"
	"courtside/storage"
)

// runCourtAdd creates a court: `courtside court add`, under the rules of GraphQL's
// createCourt (an IANA time zone, hours that close after they open on the same day, a name
// no other court has). The court is created as an administrator: the one named by --as, else
// the first.
func runCourtAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("court add", &cfg, stderr)
	name := fs.String("name", "", "the court's name, as docket CSV files name it (required)")
	zone := fs.String("time-zone", "", "the court's IANA time zone, e.g. America/New_York (required)")
	opens := fs.String("opens-at", "", "when the court opens, HH:MM in its zone (default "+courtside.FormatClock(courtside.DefaultCourtHours.Opens)+")")
	closes := fs.String("closes-at", "", "when the court closes, HH:MM in its zone (default "+courtside.FormatClock(courtside.DefaultCourtHours.Closes)+")")
	address := fs.String("address", "", "the court's street address")
	as := fs.String("as", "", "username of the administrator the court is created as; default: the first administrator")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *name == "" {
		return usagef("--name is required")
	}
	if *zone == "" {
		return usagef("--time-zone is required, e.g. America/New_York")
	}
	c := &courtside.Court{Name: *name, TimeZone: *zone, Address: *address, Hours: courtside.DefaultCourtHours}
	var err error
	if *opens != "" {
		if c.Hours.Opens, err = courtside.ParseClock("opensAt", *opens); err != nil {
			return err
		}
	}
	if *closes != "" {
		if c.Hours.Closes, err = courtside.ParseClock("closesAt", *closes); err != nil {
			return err
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	admin, err := adminActor(ctx, storage.NewUserService(db), *as, cfg.DB)
	if err != nil {
		return err
	}
	if err := storage.NewCourtService(db).CreateCourt(courtside.NewContextWithUser(ctx, admin), c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created court %d: %s (%s, %s to %s)\n", c.ID, c.Name, c.TimeZone,
		courtside.FormatClock(c.Hours.Opens), courtside.FormatClock(c.Hours.Closes))
	return nil
}

// adminActor returns the administrator a command acts as: the one named username, else the
// first one.
func adminActor(ctx context.Context, service interface {
	FindUsers(context.Context, courtside.UserFilter) ([]*courtside.User, error)
}, username, dbPath string) (*courtside.User, error) {
	role := courtside.RoleAdmin
	filter := courtside.UserFilter{Role: &role}
	if username != "" {
		filter.Username = &username
	}
	users, err := service.FindUsers(ctx, filter)
	if err != nil {
		return nil, err
	}
	if len(users) > 0 {
		return users[0], nil
	}
	if username != "" {
		return nil, usagef("--as: %q is not an administrator", username)
	}
	return nil, usagef("--as: the database has no administrator yet; create one with `courtside user add --db %s --username admin --role admin --password-stdin`", storage.DisplayName(dbPath))
}
