package main

import (
	"context"
	"courtside/storage"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"courtside"
)

// runTokenCreate issues a secret: `courtside token create`. Only the secret (or, for a feed,
// its URL) goes to stdout, so scripts can capture it.
func runTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("token create", &cfg, stderr)
	username := fs.String("username", "", "the user the secret belongs to (required)")
	kind := fs.String("kind", "api", "api (GraphQL bearer token), app (CalDAV app password) or feed (webcal URL)")
	label := fs.String("label", "", "what the secret is for, e.g. the device")
	fs.StringVar(&cfg.BaseURL, "base-url", env("COURTSIDE_BASE_URL", "http://"+cfg.Addr), "public URL of the service, for feed URLs (COURTSIDE_BASE_URL)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *username == "" {
		return usagef("--username is required")
	}
	k, err := courtside.ParseTokenKind(*kind)
	if err != nil {
		return err
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := storage.NewUserService(db).FindUserByUsername(ctx, *username)
	if err != nil {
		return usagef("--username: no user %q", *username)
	}
	t, secret, err := storage.NewTokenService(db).CreateToken(ctx, u.ID, k, *label)
	if err != nil {
		return err
	}
	if k == courtside.TokenFeed {
		fmt.Fprintf(stdout, "%s/feeds/%s.ics\n", cfg.BaseURL, secret)
	} else {
		fmt.Fprintln(stdout, secret)
	}
	fmt.Fprintf(stderr, "issued %s secret %d for %s; it is shown only this once\n", k, t.ID, u.Username)
	return nil
}

// runTokenList lists a user's live secrets: `courtside token list`. Never the secrets
// themselves, which are not stored: one line per secret with the ID that `revokeSecret` takes,
// its kind, label, when it was issued and when it last signed a request in.
func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("token list", &cfg, stderr)
	username := fs.String("username", "", "the user whose secrets to list (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *username == "" {
		return usagef("--username is required")
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := storage.NewUserService(db).FindUserByUsername(ctx, *username)
	if err != nil {
		return usagef("--username: no user %q", *username)
	}
	tokens, err := storage.NewTokenService(db).ListTokens(ctx, u.ID, 0)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tLABEL\tCREATED\tLAST USED")
	for _, t := range tokens {
		last := "never"
		if t.LastUsedAt != nil {
			last = t.LastUsedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Kind, strconv.Quote(t.Label), t.CreatedAt.UTC().Format(time.RFC3339), last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(tokens) == 0 {
		fmt.Fprintf(stderr, "%s has no live secrets\n", u.Username)
	}
	return nil
}
