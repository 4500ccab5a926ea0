package main

import (
	"bufio"
	"context"
	"courtside/storage"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"courtside"
)

// runUserAdd creates a user: `courtside user add`.
func runUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("user add", &cfg, stderr)
	username := fs.String("username", "", "login name (required)")
	role := fs.String("role", "", "admin, coordinator, advocate, prosecutor or interpreter (required)")
	org := fs.String("org", "", "organisation name; created when new, of the kind the role belongs to (a near-duplicate of an existing name is refused)")
	email := fs.String("email", "", "e-mail address")
	phone := fs.String("phone", "", "phone number in international E.164 form, e.g. +12025550143")
	langs := fs.String("interpreter-languages", "", "for interpreters: LANG:TIER,... e.g. es:CERTIFIED,ru:LANGUAGE_SKILLED")
	passwordStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *username == "" {
		return usagef("--username is required")
	}
	if *role == "" {
		return usagef("--role is required")
	}
	r, err := courtside.ParseRole(*role)
	if err != nil {
		return err
	}
	nu := courtside.NewUser{User: courtside.User{Username: *username, Role: r, Email: *email, Phone: *phone}, OrganizationName: *org}
	// Check the flags before opening the database; CreateUser checks them again.
	if err := nu.User.Validate(); err != nil {
		return err
	}
	if *langs != "" {
		if nu.User.Languages, err = courtside.ParseInterpreterLanguages(*langs); err != nil {
			return err
		}
	}
	if *passwordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return usagef("--password-stdin: %v", err)
		}
		nu.Password = strings.TrimRight(line, "\r\n")
		if nu.Password == "" {
			return usagef("--password-stdin: standard input held no password")
		}
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := storage.NewUserService(db).CreateUser(ctx, nu)
	if err != nil {
		return err
	}
	if o := u.Organization; o != nil && o.Created {
		fmt.Fprintf(stderr, "created organisation %q, %s (%s)\n", o.Name, o.Kind.Describe(), o.Kind)
	}
	fmt.Fprintf(stderr, "created user %s (id %d, %s)\n", u.Username, u.ID, strings.ToLower(string(u.Role)))
	return nil
}

// runUserList prints every user, one a line: ID, username, role, organisation and when the
// user was created. It never prints a password, token or contact address.
func runUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	db, _, err := openCommandDB("user list", args, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	users, err := storage.NewUserService(db).FindUsers(ctx, courtside.UserFilter{})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tROLE\tORGANISATION\tCREATED")
	for _, u := range users {
		org := "-"
		if u.Organization != nil {
			org = u.Organization.Name
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Username, strings.ToLower(string(u.Role)), org, u.CreatedAt.UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d users\n", len(users))
	return nil
}
