package main

import (
	"context"
	"courtside/storage"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"courtside"
)

// runImport imports a prosecutor's docket: `courtside import hearings`.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("import hearings", &cfg, stderr)
	org := fs.String("org", "", "the prosecutor's office the docket belongs to (required)")
	file := fs.String("file", "", "the CSV file: external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status (required)")
	as := fs.String("as", "", "username of the prosecutor the import is recorded as; default: the office's first prosecutor")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *org == "" {
		return usagef("--org is required")
	}
	if *file == "" {
		return usagef("--file is required")
	}
	f, err := os.Open(*file)
	if err != nil {
		return usagef("--file: %v", err)
	}
	defer f.Close()
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	actor, err := actorIn(ctx, storage.NewUserService(db), courtside.RoleProsecutor, *org, *as,
		fmt.Sprintf("no prosecutor's office named %q (create a prosecutor with `courtside user add --org`)", *org))
	if err != nil {
		return err
	}
	// The progress line is rewritten in place; whatever else is printed starts a new line.
	open := false
	show := importProgress(stderr)
	progress := func(p courtside.ImportProgress) { show(p); open = true }
	endLine := func() {
		if open {
			fmt.Fprintln(stderr)
			open = false
		}
	}
	// The import is one transaction: it waits its turn while another process (the running
	// service working through its events, another import) writes, and says so.
	wait := waitingLine(stderr)
	db.Waiting = func(waited time.Duration) { endLine(); wait(waited) }
	res, err := storage.NewImportService(db).ImportHearings(courtside.NewContextWithUser(ctx, actor), f, progress)
	endLine()
	if err != nil {
		if courtside.ErrorCode(err) == courtside.EINVALID {
			return usagef("--file %s: %s; nothing was imported", *file, courtside.ErrorMessage(err))
		}
		if errors.Is(err, context.Canceled) {
			return errors.New("interrupted; nothing was imported")
		}
		return err
	}
	fmt.Fprintf(stdout, "created %d, updated %d, unchanged %d\n", res.Created, res.Updated, res.Unchanged)
	followBacklog(ctx, db, cfg.DB, stderr)
	return nil
}

// actorIn picks the user of role in the organisation named org that a command acts as: the
// one named by --as, else the first. notFound is the --org error when there is none.
func actorIn(ctx context.Context, service interface {
	FindUsers(context.Context, courtside.UserFilter) ([]*courtside.User, error)
}, role courtside.Role, org, username, notFound string) (*courtside.User, error) {
	filter := courtside.UserFilter{Role: &role}
	if username != "" {
		filter.Username = &username
	}
	users, err := service.FindUsers(ctx, filter)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Organization != nil && u.Organization.Name == org {
			return u, nil
		}
	}
	if username != "" {
		return nil, usagef("--as: %q is not a %s of %q", username, strings.ToLower(string(role)), org)
	}
	return nil, usagef("--org: %s", notFound)
}
