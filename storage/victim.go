package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// VictimService is the database's service for victims, their sealed contact details, their
// contact policies and the consent ledger.
type VictimService struct {
	db *DB
}

// NewVictimService returns the victim service of db.
func NewVictimService(db *DB) *VictimService { return &VictimService{db: db} }

var _ courtside.VictimService = (*VictimService)(nil)

// RegisterVictim registers a victim in the caller's advocacy organisation. The legal name and
// contact addresses are sealed before they reach the database.
func (s *VictimService) RegisterVictim(ctx context.Context, v *courtside.Victim) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may register victims.")
	}
	v.Pseudonym, v.LegalName = strings.TrimSpace(v.Pseudonym), strings.TrimSpace(v.LegalName)
	if err := v.Validate(); err != nil {
		return err
	}
	if s.db.Sealer == nil {
		return fmt.Errorf("storage: no encryption key configured")
	}
	v.OrganizationID = u.OrganizationID
	if v.Policy == nil {
		v.Policy = &courtside.ContactPolicy{Channels: []courtside.ChannelRule{}}
	}
	policy, err := json.Marshal(v.Policy)
	if err != nil {
		return fmt.Errorf("storage: policy: %w", err)
	}
	return s.db.update(ctx, func(tx *Tx) error {
		v.CreatedAt = tx.now
		err := tx.QueryRowContext(ctx, `INSERT INTO victims (organization_id, pseudonym, preferred_language, policy, created_at) VALUES (?,?,?,?,?) RETURNING id`,
			v.OrganizationID, v.Pseudonym, v.PreferredLanguage, string(policy), FormatTime(v.CreatedAt)).Scan(&v.ID)
		if err != nil {
			return fmt.Errorf("storage: insert victim: %w", err)
		}
		sealed, err := s.db.Sealer.Seal(v.LegalName, "victims", "legal_name", v.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE victims SET legal_name_sealed = ? WHERE id = ?`, sealed, v.ID); err != nil {
			return fmt.Errorf("storage: seal victim: %w", err)
		}
		for i := range v.Contacts {
			c := &v.Contacts[i]
			var cid int64
			err := tx.QueryRowContext(ctx, `INSERT INTO victim_contacts (victim_id, channel, address_sealed) VALUES (?,?,?) RETURNING id`, v.ID, c.Channel, []byte{}).Scan(&cid)
			if err != nil {
				return fmt.Errorf("storage: insert contact: %w", err)
			}
			sealed, err := s.db.Sealer.Seal(c.Address, "victim_contacts", "address", cid)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE victim_contacts SET address_sealed = ?, address_index = ? WHERE id = ?`,
				sealed, s.db.Sealer.BlindIndex(c.Channel, c.Address), cid); err != nil {
				return fmt.Errorf("storage: seal contact: %w", err)
			}
		}
		v.PIIVisible = true
		tx.Audit("victim.register", victimObject(v.ID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventVictimRegistered, VictimID: v.ID})
		return nil
	})
}

func victimObject(id int64) string { return "victim:" + strconv.FormatInt(id, 10) }

// victimScope returns the SQL condition, on alias v, limiting victims to those the caller may
// see at all (by pseudonym at least) at time now. Admins and interpreters see none. A
// prosecutor's office sees a victim linked to one of its cases only while the victim has an
// active release to the office (consent.go); otherwise it can only count the links.
func victimScope(u *courtside.User, now time.Time) (string, []any) {
	switch u.Role {
	case courtside.RoleCoordinator:
		return "v.organization_id = ?", []any{u.OrganizationID}
	case courtside.RoleAdvocate:
		return "EXISTS (SELECT 1 FROM accompaniments a WHERE a.victim_id = v.id AND a.advocate_id = ?)", []any{u.ID}
	case courtside.RoleProsecutor:
		released, args := releasedTo("v.id", u.OrganizationID, now)
		return `EXISTS (SELECT 1 FROM case_victims cv JOIN cases c ON c.id = cv.case_id
			WHERE cv.victim_id = v.id AND c.organization_id = ?) AND ` + released, append([]any{u.OrganizationID}, args...)
	}
	return "0 = 1", nil
}

// FindVictimsByContact returns the victims, without PII (see FindVictims), with a contact point
// on channel whose address equals address once normalised (NormalizeContact). The match is made
// on the blind index, so the address is never stored or compared in the clear. Only coordinators
// may look up by contact, and only among their own organisation's victims: to anyone else a
// match would tell whom an address belongs to. The lookup is audited by victim, never by address.
func (s *VictimService) FindVictimsByContact(ctx context.Context, channel courtside.Channel, address string) ([]*courtside.Victim, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleCoordinator || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may look victims up by contact.")
	}
	if channel, err = courtside.ParseChannel(string(channel)); err != nil {
		return nil, err
	}
	if s.db.Sealer == nil {
		return nil, fmt.Errorf("storage: no encryption key configured")
	}
	if NormalizeContact(channel, address) == "" {
		return nil, nil
	}
	indexes := s.db.Sealer.blindIndexes(channel, address)
	args := []any{channel}
	for _, ix := range indexes {
		args = append(args, ix)
	}
	scope, scopeArgs := victimScope(u, s.db.Now())
	rows, err := s.db.Reader.QueryContext(ctx, `SELECT DISTINCT v.id FROM victim_contacts c JOIN victims v ON v.id = c.victim_id
		WHERE c.channel = ? AND c.address_index IN (`+placeholders(len(indexes))+`) AND `+scope+` ORDER BY v.id`,
		append(args, scopeArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: find victims by contact: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("storage: find victims by contact: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: find victims by contact: %w", err)
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		tx.Audit("victim.find_by_contact", "victim:none", courtside.OutcomeOK)
	}
	for _, id := range ids {
		tx.Audit("victim.find_by_contact", victimObject(id), courtside.OutcomeOK)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return s.FindVictims(ctx, ids...)
}

// FindVictimByID returns a victim the caller may see, without PII (see FindVictims).
func (s *VictimService) FindVictimByID(ctx context.Context, id int64) (*courtside.Victim, error) {
	vs, err := s.FindVictims(ctx, id)
	if err != nil {
		return nil, err
	} else if len(vs) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
	}
	return vs[0], nil
}

// FindVictims returns the victims among ids that the caller may see, without PII: the legal
// name and contacts stay sealed, and PIIVisible says whether OpenVictimPII would open them for
// this caller. Nothing is decrypted, so nothing needs an audit row.
func (s *VictimService) FindVictims(ctx context.Context, ids ...int64) ([]*courtside.Victim, error) {
	vs, _, err := s.db.findVictims(ctx, ids)
	return vs, err
}

// OpenVictimPII returns the victims among ids whose PII the caller may see, with the legal
// name, contacts and contact policy opened. Every victim opened is an audit row naming the
// victim, never the values.
func (s *VictimService) OpenVictimPII(ctx context.Context, ids ...int64) ([]*courtside.Victim, error) {
	vs, sealed, err := s.db.findVictims(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []*courtside.Victim
	var piiIDs []int64
	for _, v := range vs {
		if !v.PIIVisible {
			continue
		}
		if s.db.Sealer == nil {
			return nil, fmt.Errorf("storage: no encryption key configured")
		}
		if v.LegalName, err = s.db.Sealer.Open(sealed[v.ID].name, "victims", "legal_name", v.ID); err != nil {
			return nil, err
		}
		v.Policy = &courtside.ContactPolicy{}
		if err := json.Unmarshal([]byte(sealed[v.ID].policy), v.Policy); err != nil {
			return nil, fmt.Errorf("storage: victim policy: %w", err)
		}
		v.Contacts = []courtside.ContactPoint{}
		out = append(out, v)
		piiIDs = append(piiIDs, v.ID)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := s.db.openContacts(ctx, out, piiIDs); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range piiIDs {
		tx.Audit("victim.read_pii", victimObject(id), courtside.OutcomeOK)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// sealedVictim is what findVictims keeps back of a victim whose PII the caller may open.
type sealedVictim struct {
	name   []byte
	policy string
}

// findVictims reads the victims among ids that the caller may see, with PII still sealed.
func (db *DB) findVictims(ctx context.Context, ids []int64) ([]*courtside.Victim, map[int64]sealedVictim, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	scope, scopeArgs := victimScope(u, db.Now())
	rows, err := db.Reader.QueryContext(ctx, `SELECT v.id, v.organization_id, v.pseudonym, v.preferred_language, v.legal_name_sealed, v.policy, v.created_at,
		EXISTS (SELECT 1 FROM accompaniments a WHERE a.victim_id = v.id AND a.advocate_id = ? AND a.status <> 'CANCELLED')
		FROM victims v WHERE v.id IN (`+placeholders(len(ids))+`) AND `+scope+` ORDER BY v.id`,
		append(append([]any{u.ID}, int64Args(ids)...), scopeArgs...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: find victims: %w", err)
	}
	defer rows.Close()
	var out []*courtside.Victim
	sealed := map[int64]sealedVictim{}
	for rows.Next() {
		var v courtside.Victim
		var s sealedVictim
		var accompanies bool
		if err := rows.Scan(&v.ID, &v.OrganizationID, &v.Pseudonym, &v.PreferredLanguage, &s.name, &s.policy, scanTime{&v.CreatedAt}, &accompanies); err != nil {
			return nil, nil, fmt.Errorf("storage: scan victim: %w", err)
		}
		if courtside.CanSeeVictimPII(u, &v, accompanies) {
			v.PIIVisible = true
			sealed[v.ID] = s
		}
		out = append(out, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("storage: find victims: %w", err)
	}
	return out, sealed, nil
}

// openContacts fills in the contact points of the victims with ids.
func (db *DB) openContacts(ctx context.Context, victims []*courtside.Victim, ids []int64) error {
	byID := map[int64]*courtside.Victim{}
	for _, v := range victims {
		byID[v.ID] = v
	}
	rows, err := db.Reader.QueryContext(ctx, `SELECT id, victim_id, channel, address_sealed, confirmed_safe_at FROM victim_contacts
		WHERE victim_id IN (`+placeholders(len(ids))+`) ORDER BY id`, int64Args(ids)...)
	if err != nil {
		return fmt.Errorf("storage: contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, victimID int64
		var c courtside.ContactPoint
		var sealed []byte
		if err := rows.Scan(&id, &victimID, &c.Channel, &sealed, scanOptTime{&c.ConfirmedSafeAt}); err != nil {
			return fmt.Errorf("storage: scan contact: %w", err)
		}
		if c.Address, err = db.Sealer.Open(sealed, "victim_contacts", "address", id); err != nil {
			return err
		}
		byID[victimID].Contacts = append(byID[victimID].Contacts, c)
	}
	return rows.Err()
}

// SetContactPolicy replaces the victim's contact policy and confirms contact points safe.
func (s *VictimService) SetContactPolicy(ctx context.Context, victimID int64, policy courtside.ContactPolicy, confirmSafe []courtside.Channel) (*courtside.Victim, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleCoordinator {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a coordinator may set a victim's contact policy.")
	}
	if policy.Channels == nil {
		policy.Channels = []courtside.ChannelRule{}
	}
	policy.NeutralSender = strings.TrimSpace(policy.NeutralSender)
	if err := policy.Validate(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(policy)
	if err != nil {
		return nil, fmt.Errorf("storage: policy: %w", err)
	}
	err = s.db.update(ctx, func(tx *Tx) error {
		var org int64
		err := tx.QueryRowContext(ctx, `SELECT organization_id FROM victims WHERE id = ?`, victimID).Scan(&org)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !courtside.CanManageVictimsOf(u, org)) {
			return courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
		} else if err != nil {
			return fmt.Errorf("storage: find victim: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE victims SET policy = ? WHERE id = ?`, string(raw), victimID); err != nil {
			return fmt.Errorf("storage: set policy: %w", err)
		}
		for _, c := range confirmSafe {
			if _, err := tx.ExecContext(ctx, `UPDATE victim_contacts SET confirmed_safe_at = ? WHERE victim_id = ? AND channel = ?`,
				FormatTime(tx.now), victimID, c); err != nil {
				return fmt.Errorf("storage: confirm contact: %w", err)
			}
		}
		tx.Audit("victim.set_policy", victimObject(victimID), courtside.OutcomeOK)
		tx.Event(courtside.Event{Type: courtside.EventVictimPolicyChanged, VictimID: victimID})
		return nil
	})
	if err != nil {
		return nil, err
	}
	vs, err := s.OpenVictimPII(ctx, victimID)
	if err != nil {
		return nil, err
	} else if len(vs) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Victim not found.")
	}
	return vs[0], nil
}
