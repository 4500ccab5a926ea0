package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"courtside"
)

// UserService is the database's service for users and their organisations.
type UserService struct {
	db *DB
}

// NewUserService returns the user service of db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

var _ courtside.UserService = (*UserService)(nil)

// CreateUser creates a user, and its organisation if it is new. The user's role must fit the
// organisation's kind (courtside.CheckMembership); a new organisation takes its kind from the
// role, and its name must not be a near-duplicate of an existing one's.
func (s *UserService) CreateUser(ctx context.Context, nu courtside.NewUser) (*courtside.User, error) {
	u := nu.User
	u.Username = strings.TrimSpace(u.Username)
	u.Email = strings.TrimSpace(u.Email)
	if err := u.Validate(); err != nil {
		return nil, err
	}
	orgName := strings.TrimSpace(nu.OrganizationName)
	switch u.Role {
	case courtside.RoleProsecutor, courtside.RoleCoordinator, courtside.RoleAdvocate:
		if orgName == "" {
			return nil, courtside.Invalidf("org", "A %s belongs to an organisation; give its name.", strings.ToLower(string(u.Role)))
		}
	}
	if orgName != "" {
		if err := courtside.ValidateOrganizationName(orgName); err != nil {
			return nil, err
		}
		if err := courtside.CheckMembership(u.Role, nil); err != nil {
			return nil, err
		}
	}
	var passwordHash string
	if nu.Password != "" {
		if err := courtside.ValidatePassword(u.Username, nu.Password); err != nil {
			return nil, err
		}
		var err error
		if passwordHash, err = hashPassword(nu.Password); err != nil {
			return nil, err
		}
	}
	err := s.db.update(ctx, func(tx *Tx) error {
		u.CreatedAt = tx.now
		if orgName != "" {
			org, err := joinOrganization(ctx, tx, orgName, u.Role)
			if err != nil {
				return err
			}
			u.OrganizationID, u.Organization = org.ID, org
		}
		var orgArg any
		if u.OrganizationID != 0 {
			orgArg = u.OrganizationID
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO users (username, role, organization_id, email, phone, password_hash, created_at) VALUES (?,?,?,?,?,?,?) RETURNING id`,
			u.Username, u.Role, orgArg, u.Email, u.Phone, passwordHash, FormatTime(u.CreatedAt)).Scan(&u.ID)
		if err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return courtside.Errorf(courtside.ECONFLICT, "Username %q is taken.", u.Username)
			}
			return fmt.Errorf("storage: insert user: %w", err)
		}
		for _, l := range u.Languages {
			if _, err := tx.ExecContext(ctx, `INSERT INTO interpreter_languages (user_id, language, tier) VALUES (?,?,?)`, u.ID, l.Language, l.Tier); err != nil {
				if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
					return courtside.Invalidf("languages", "Language %s is listed twice.", l.Language)
				}
				return fmt.Errorf("storage: insert interpreter language: %w", err)
			}
		}
		tx.Audit("user.create", "user:"+strconv.FormatInt(u.ID, 10), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// joinOrganization returns the organisation named name for a new member with role r. An
// existing organisation must be of the role's kind (one that has no kind yet takes it). A new
// one is created with the role's kind, unless its name is a near-duplicate of an existing
// organisation's (courtside.SimilarOrganizationNames): then the answer names the existing one,
// so that a typo does not create a second organisation.
func joinOrganization(ctx context.Context, tx *Tx, name string, r courtside.Role) (*courtside.Organization, error) {
	org, err := findOrganization(ctx, tx, name)
	if err == nil {
		if err := courtside.CheckMembership(r, org); err != nil {
			return nil, err
		}
		if org.Kind == "" {
			org.Kind = courtside.KindForRole(r)
			if _, err := tx.ExecContext(ctx, `UPDATE organizations SET kind = ? WHERE id = ?`, org.Kind, org.ID); err != nil {
				return nil, fmt.Errorf("storage: set organisation kind: %w", err)
			}
			tx.Audit("organization.kind", organizationObject(org.ID), courtside.OutcomeOK)
		}
		return org, nil
	} else if courtside.ErrorCode(err) != courtside.ENOTFOUND {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM organizations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("storage: organisation names: %w", err)
	}
	names, err := collect(rows, "organisation name", func(s scanner) (string, error) {
		var n string
		err := s.Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, err
	}
	for _, existing := range names {
		if courtside.SimilarOrganizationNames(name, existing) {
			return nil, courtside.Invalidf("org", "%q is so close to the existing organisation %q that it is probably a typo; give %q exactly to join it, or a clearly different name for a new organisation.",
				name, existing, existing)
		}
	}
	org = &courtside.Organization{Name: name, Kind: courtside.KindForRole(r), Created: true}
	err = tx.QueryRowContext(ctx, `INSERT INTO organizations (name, kind, created_at) VALUES (?, ?, ?) RETURNING id`, name, org.Kind, FormatTime(tx.now)).Scan(&org.ID)
	if err != nil {
		return nil, fmt.Errorf("storage: insert organisation: %w", err)
	}
	tx.Audit("organization.create", organizationObject(org.ID), courtside.OutcomeOK)
	return org, nil
}

func organizationObject(id int64) string { return "organization:" + strconv.FormatInt(id, 10) }

// findOrganization returns the organisation with exactly the name, through q. Returns
// ENOTFOUND.
func findOrganization(ctx context.Context, q queryer, name string) (*courtside.Organization, error) {
	org := &courtside.Organization{}
	err := q.QueryRowContext(ctx, `SELECT id, name, kind FROM organizations WHERE name = ?`, strings.TrimSpace(name)).Scan(&org.ID, &org.Name, &org.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "No organisation is named %q.", name)
	} else if err != nil {
		return nil, fmt.Errorf("storage: find organisation: %w", err)
	}
	return org, nil
}

// findOrganizationOfKind returns the organisation of the kind with exactly the name, through
// q, for the input field named field. Returns EINVALID naming the field, and the existing
// organisation whose name is close when there is one.
func findOrganizationOfKind(ctx context.Context, q queryer, name string, kind courtside.OrganizationKind, field string) (*courtside.Organization, error) {
	org, err := findOrganization(ctx, q, name)
	if err == nil && org.Kind == kind {
		return org, nil
	} else if err != nil && courtside.ErrorCode(err) != courtside.ENOTFOUND {
		return nil, err
	}
	if org != nil {
		return nil, courtside.Invalidf(field, "%q is %s, not %s.", org.Name, org.Kind.Describe(), kind.Describe())
	}
	rows, err := q.QueryContext(ctx, `SELECT name FROM organizations WHERE kind = ? ORDER BY id`, kind)
	if err != nil {
		return nil, fmt.Errorf("storage: organisation names: %w", err)
	}
	names, err := collect(rows, "organisation name", func(s scanner) (string, error) {
		var n string
		err := s.Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, err
	}
	for _, existing := range names {
		if courtside.SimilarOrganizationNames(name, existing) {
			return nil, courtside.Invalidf(field, "There is no %s named %q; did you mean %q?", kind.Noun(), name, existing)
		}
	}
	return nil, courtside.Invalidf(field, "There is no %s named %q.", kind.Noun(), name)
}

// FindUserByID returns a user.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*courtside.User, error) {
	users, err := s.FindUsers(ctx, courtside.UserFilter{ID: &id})
	if err != nil {
		return nil, err
	} else if len(users) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "User not found.")
	}
	return users[0], nil
}

// FindUserByUsername returns a user.
func (s *UserService) FindUserByUsername(ctx context.Context, username string) (*courtside.User, error) {
	users, err := s.FindUsers(ctx, courtside.UserFilter{Username: &username})
	if err != nil {
		return nil, err
	} else if len(users) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "User not found.")
	}
	return users[0], nil
}

// FindUsers returns the users matching filter, in ID order, with organisation and languages.
func (s *UserService) FindUsers(ctx context.Context, filter courtside.UserFilter) ([]*courtside.User, error) {
	where, args := []string{"1 = 1"}, []any{}
	if filter.ID != nil {
		where, args = append(where, "u.id = ?"), append(args, *filter.ID)
	}
	if filter.Username != nil {
		where, args = append(where, "u.username = ?"), append(args, *filter.Username)
	}
	if filter.Role != nil {
		where, args = append(where, "u.role = ?"), append(args, *filter.Role)
	}
	return s.db.queryUsers(ctx, s.db.Reader, strings.Join(where, " AND "), args...)
}

// queryer is what both pools and transactions can do.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) queryUsers(ctx context.Context, q queryer, where string, args ...any) ([]*courtside.User, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT u.id, u.username, u.role, COALESCE(u.organization_id, 0), COALESCE(o.name, ''), COALESCE(o.kind, ''), u.email, u.phone, u.created_at
		FROM users u LEFT JOIN organizations o ON o.id = u.organization_id
		WHERE `+where+` ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find users: %w", err)
	}
	defer rows.Close()
	var users []*courtside.User
	byID := map[int64]*courtside.User{}
	for rows.Next() {
		var u courtside.User
		var orgName string
		var orgKind courtside.OrganizationKind
		if err := rows.Scan(&u.ID, &u.Username, &u.Role, &u.OrganizationID, &orgName, &orgKind, &u.Email, &u.Phone, scanTime{&u.CreatedAt}); err != nil {
			return nil, fmt.Errorf("storage: scan user: %w", err)
		}
		if u.OrganizationID != 0 {
			u.Organization = &courtside.Organization{ID: u.OrganizationID, Name: orgName, Kind: orgKind}
		}
		users = append(users, &u)
		byID[u.ID] = &u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: find users: %w", err)
	}
	var ids []int64
	for _, u := range users {
		if u.Role == courtside.RoleInterpreter {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) > 0 {
		lrows, err := q.QueryContext(ctx, `SELECT user_id, language, tier FROM interpreter_languages WHERE user_id IN (`+placeholders(len(ids))+`) ORDER BY user_id, language`, int64Args(ids)...)
		if err != nil {
			return nil, fmt.Errorf("storage: interpreter languages: %w", err)
		}
		defer lrows.Close()
		for lrows.Next() {
			var id int64
			var l courtside.InterpreterLanguage
			if err := lrows.Scan(&id, &l.Language, &l.Tier); err != nil {
				return nil, fmt.Errorf("storage: interpreter languages: %w", err)
			}
			byID[id].Languages = append(byID[id].Languages, l)
		}
		if err := lrows.Err(); err != nil {
			return nil, fmt.Errorf("storage: interpreter languages: %w", err)
		}
	}
	return users, nil
}

// CountUsers returns how many users exist.
func (s *UserService) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.Reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("storage: count users: %w", err)
	}
	return n, nil
}

// requireUser returns the caller, or EUNAUTHORIZED.
func requireUser(ctx context.Context) (*courtside.User, error) {
	u := courtside.UserFromContext(ctx)
	if u == nil {
		return nil, courtside.Errorf(courtside.EUNAUTHORIZED, "Sign in first.")
	}
	return u, nil
}
