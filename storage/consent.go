package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// The consent ledger (migrations/00013_releases.sql): victims' releases of information to
// prosecutors' offices. What an office may see of a victim is decided at every read by
// releasedTo against the clock, so a release that expires or is revoked stops disclosure by
// itself, with nothing to run.

// releasedTo returns the SQL condition that the victim whose ID is the SQL expression victim has
// a release for case coordination to the organisation orgID that is active at now: signed, not
// expired, not revoked.
func releasedTo(victim string, orgID int64, now time.Time) (string, []any) {
	t := FormatTime(now)
	return `EXISTS (SELECT 1 FROM releases rl WHERE rl.victim_id = ` + victim + ` AND rl.recipient_organization_id = ?
		AND rl.purpose = ? AND rl.granted_at <= ? AND rl.expires_at > ? AND (rl.revoked_at IS NULL OR rl.revoked_at > ?))`,
		[]any{orgID, courtside.PurposeCaseCoordination, t, t, t}
}

func releaseObject(victimID, id int64) string {
	return victimObject(victimID) + " release:" + strconv.FormatInt(id, 10)
}

// managedVictim checks, through q, that the caller may manage the releases of the victim:
// ENOTFOUND for a victim that does not exist or is not of the caller's organisation.
func managedVictim(ctx context.Context, q queryer, u *courtside.User, victimID int64) error {
	var org int64
	err := q.QueryRowContext(ctx, `SELECT organization_id FROM victims WHERE id = ?`, victimID).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !courtside.CanManageReleasesOf(u, org)) {
		return courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
	} else if err != nil {
		return fmt.Errorf("storage: find victim: %w", err)
	}
	return nil
}

// requireReleaseManager returns the caller if it is a coordinator, else EFORBIDDEN.
func requireReleaseManager(ctx context.Context) (*courtside.User, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator of the victim's organisation may manage the victim's releases.")
	}
	return u, nil
}

// RecordRelease records a victim's written release to the prosecutor's office named recipient.
func (s *VictimService) RecordRelease(ctx context.Context, r *courtside.Release, recipient string) error {
	u, err := requireReleaseManager(ctx)
	if err != nil {
		return err
	}
	if s.db.Sealer == nil {
		return fmt.Errorf("storage: no encryption key configured")
	}
	r.Reference = strings.TrimSpace(r.Reference)
	if r.Purpose, err = courtside.ParseReleasePurpose(string(r.Purpose)); err != nil {
		return err
	}
	r.GrantedAt, r.ExpiresAt = r.GrantedAt.UTC(), r.ExpiresAt.UTC()
	return s.db.update(ctx, func(tx *Tx) error {
		if err := managedVictim(ctx, tx, u, r.VictimID); err != nil {
			return err
		}
		org, err := findOrganizationOfKind(ctx, tx, recipient, courtside.KindProsecution, "recipient")
		if err != nil {
			return err
		}
		if r.GrantedAt.IsZero() {
			r.GrantedAt = tx.now
		}
		if err := r.Validate(tx.now); err != nil {
			return err
		}
		r.RecipientID, r.Recipient = org.ID, org
		r.RecordedAt, r.RecordedBy, r.RevokedAt = tx.now, u.Username, nil
		r.Active = r.ActiveAt(r.Purpose, tx.now)
		err = tx.QueryRowContext(ctx, `INSERT INTO releases (victim_id, recipient_organization_id, purpose, granted_at, expires_at,
			recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?) RETURNING id`, r.VictimID, r.RecipientID, r.Purpose, FormatTime(r.GrantedAt),
			FormatTime(r.ExpiresAt), u.ID, FormatTime(r.RecordedAt)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("storage: insert release: %w", err)
		}
		sealed, err := s.db.Sealer.Seal(r.Reference, "releases", "reference", r.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE releases SET reference_sealed = ? WHERE id = ?`, sealed, r.ID); err != nil {
			return fmt.Errorf("storage: seal release: %w", err)
		}
		tx.Audit("release.record", releaseObject(r.VictimID, r.ID), courtside.OutcomeOK)
		return nil
	})
}

// RevokeRelease revokes a release now; a revoked release keeps its first revocation time.
func (s *VictimService) RevokeRelease(ctx context.Context, id int64) (*courtside.Release, error) {
	u, err := requireReleaseManager(ctx)
	if err != nil {
		return nil, err
	}
	var out *courtside.Release
	err = s.db.update(ctx, func(tx *Tx) error {
		rs, err := s.db.queryReleases(ctx, tx, "r.id = ?", id)
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return courtside.Errorf(courtside.ENOTFOUND, "Release not found.")
		}
		out = rs[0]
		if err := managedVictim(ctx, tx, u, out.VictimID); err != nil {
			return courtside.Errorf(courtside.ENOTFOUND, "Release not found.")
		}
		out.Active = false
		if out.RevokedAt == nil {
			out.Revoke(tx.now)
			if _, err := tx.ExecContext(ctx, `UPDATE releases SET revoked_at = ?, revoked_by = ? WHERE id = ?`,
				FormatTime(*out.RevokedAt), u.ID, id); err != nil {
				return fmt.Errorf("storage: revoke release: %w", err)
			}
		}
		tx.Audit("release.revoke", releaseObject(out.VictimID, out.ID), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindReleases returns a victim's releases, newest first, references opened; the read is
// audited by victim.
func (s *VictimService) FindReleases(ctx context.Context, victimID int64) ([]*courtside.Release, error) {
	u, err := requireReleaseManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := managedVictim(ctx, s.db.Reader, u, victimID); err != nil {
		return nil, err
	}
	rs, err := s.db.queryReleases(ctx, s.db.Reader, "r.victim_id = ?", victimID)
	if err != nil {
		return nil, err
	}
	if err := s.db.Audit(ctx, "release.read", victimObject(victimID), courtside.OutcomeOK); err != nil {
		return nil, err
	}
	return rs, nil
}

// queryReleases reads the releases matching cond, on alias r, newest first, with their
// recipients and references opened.
func (db *DB) queryReleases(ctx context.Context, q queryer, cond string, args ...any) ([]*courtside.Release, error) {
	if db.Sealer == nil {
		return nil, fmt.Errorf("storage: no encryption key configured")
	}
	now := db.Now()
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.victim_id, r.recipient_organization_id, o.name, o.kind, r.purpose, r.reference_sealed,
		r.granted_at, r.expires_at, r.revoked_at, r.recorded_at, COALESCE(u.username, '')
		FROM releases r JOIN organizations o ON o.id = r.recipient_organization_id LEFT JOIN users u ON u.id = r.recorded_by
		WHERE `+cond+` ORDER BY r.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find releases: %w", err)
	}
	return collect(rows, "release", func(s scanner) (*courtside.Release, error) {
		r := &courtside.Release{Recipient: &courtside.Organization{}}
		var sealed []byte
		if err := s.Scan(&r.ID, &r.VictimID, &r.RecipientID, &r.Recipient.Name, &r.Recipient.Kind, &r.Purpose, &sealed,
			scanTime{&r.GrantedAt}, scanTime{&r.ExpiresAt}, scanOptTime{&r.RevokedAt}, scanTime{&r.RecordedAt}, &r.RecordedBy); err != nil {
			return nil, err
		}
		r.Recipient.ID = r.RecipientID
		ref, err := db.Sealer.Open(sealed, "releases", "reference", r.ID)
		if err != nil {
			return nil, err
		}
		r.Reference = ref
		r.Active = r.ActiveAt(r.Purpose, now)
		return r, nil
	})
}
