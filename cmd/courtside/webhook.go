package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"courtside"
	"courtside/notify"
	"courtside/storage"
)

// runWebhookSet sets an organisation's webhook receiver: `courtside webhook set`. Without
// --secret-stdin it generates the signing secret and prints it once on stdout, for the
// receiver to verify signatures with.
func runWebhookSet(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("webhook set", &cfg, stderr)
	org := fs.String("org", "", "the organisation whose receiver this is (required)")
	rawURL := fs.String("url", "", "the receiver's http or https URL (required)")
	secretStdin := fs.Bool("secret-stdin", false, "read the signing secret (whsec_...) from standard input instead of generating one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if *org == "" {
		return usagef("--org is required")
	}
	if *rawURL == "" {
		return usagef("--url is required")
	}
	// The sender's own rule (courtside.ParseWebhookURL): a receiver it would refuse at every
	// send is refused now.
	if _, err := courtside.ParseWebhookURL(*rawURL); err != nil {
		return err
	}
	secret := notify.NewWebhookSecret()
	if *secretStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && line == "" {
			return usagef("--secret-stdin: no secret on standard input")
		}
		secret = strings.TrimSpace(line)
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, notify.WebhookSecretPrefix))
		if !strings.HasPrefix(secret, notify.WebhookSecretPrefix) || err != nil || len(key) < 24 || len(key) > 64 {
			return usagef("--secret-stdin: a secret is %s followed by the base64 of 24 to 64 random bytes", notify.WebhookSecretPrefix)
		}
	}
	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := storage.NewWebhookService(db).SetWebhookEndpoint(ctx, *org, *rawURL, secret); err != nil {
		return err
	}
	if !*secretStdin {
		fmt.Fprintln(stdout, secret)
		fmt.Fprintf(stderr, "webhook receiver set for %s; the signing secret is shown only this once\n", *org)
	} else {
		fmt.Fprintf(stderr, "webhook receiver set for %s\n", *org)
	}
	return nil
}
