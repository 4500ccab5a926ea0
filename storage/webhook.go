package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"courtside"
)

// WebhookService is the database's service for organisations' webhook receivers.
type WebhookService struct {
	db *DB
}

// NewWebhookService returns the webhook service of db.
func NewWebhookService(db *DB) *WebhookService { return &WebhookService{db: db} }

// SetWebhookEndpoint sets the organisation's webhook receiver to rawURL with secret, the
// signing secret ("whsec_..."), sealed at rest. It is an operator's action (the CLI), audited
// with no actor.
func (s *WebhookService) SetWebhookEndpoint(ctx context.Context, orgName, rawURL, secret string) error {
	// The webhook sender's own rule: a receiver it would refuse is refused now.
	u, err := courtside.ParseWebhookURL(rawURL)
	if err != nil {
		return err
	}
	if s.db.Sealer == nil {
		return fmt.Errorf("storage: no encryption key configured")
	}
	return s.db.update(ctx, func(tx *Tx) error {
		var orgID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE name = ?`, orgName).Scan(&orgID); errors.Is(err, sql.ErrNoRows) {
			return courtside.Invalidf("org", "No organisation is named %q.", orgName)
		} else if err != nil {
			return wrapErr("organisation", err)
		}
		sealed, err := s.db.Sealer.Seal(secret, "webhook_endpoints", "secret", orgID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (organization_id, url, secret_sealed, created_at) VALUES (?,?,?,?)
			ON CONFLICT (organization_id) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed, created_at = excluded.created_at`,
			orgID, u.String(), sealed, FormatTime(tx.now)); err != nil {
			return wrapErr("set webhook endpoint", err)
		}
		tx.Audit("webhook.set", fmt.Sprintf("organization:%d", orgID), courtside.OutcomeOK)
		return nil
	})
}

// webhookEndpoint returns an organisation's webhook receiver and its opened secret, or an
// error naming the organisation when it has none.
func (db *DB) webhookEndpoint(ctx context.Context, orgID int64) (string, string, error) {
	var u string
	var sealed []byte
	err := db.Reader.QueryRowContext(ctx, `SELECT url, secret_sealed FROM webhook_endpoints WHERE organization_id = ?`, orgID).Scan(&u, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", courtside.Errorf(courtside.ENOTFOUND, "Organisation %d has no webhook endpoint.", orgID)
	} else if err != nil {
		return "", "", wrapErr("webhook endpoint", err)
	}
	secret, err := db.Sealer.Open(sealed, "webhook_endpoints", "secret", orgID)
	if err != nil {
		return "", "", err
	}
	return u, secret, nil
}
