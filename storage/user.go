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

// CreateUser creates a user, and its organisation if it is new.
func (db *DB) CreateUser(ctx context.Context, nu courtside.NewUser) (*courtside.User, error) {
	u := nu.User
	u.Username = strings.TrimSpace(u.Username)
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
	if len(orgName) > 200 {
		return nil, courtside.Invalidf("org", "Organisation name must be at most 200 characters.")
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
	err := db.update(ctx, func(tx *Tx) error {
		u.CreatedAt = tx.now
		if orgName != "" {
			org, err := upsertOrganization(ctx, tx, orgName)
			if err != nil {
				return err
			}
			u.OrganizationID, u.Organization = org.ID, org
		}
		var orgArg any
		if u.OrganizationID != 0 {
			orgArg = u.OrganizationID
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, role, organization_id, email, phone, password_hash, created_at) VALUES (?,?,?,?,?,?,?)`,
			u.Username, u.Role, orgArg, u.Email, u.Phone, passwordHash, FormatTime(u.CreatedAt))
		if err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return courtside.Errorf(courtside.ECONFLICT, "Username %q is taken.", u.Username)
			}
			return fmt.Errorf("storage: insert user: %w", err)
		}
		if u.ID, err = res.LastInsertId(); err != nil {
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

// upsertOrganization returns the organisation with the name, creating it when new.
func upsertOrganization(ctx context.Context, tx *Tx, name string) (*courtside.Organization, error) {
	org := &courtside.Organization{Name: name}
	err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE name = ?`, name).Scan(&org.ID)
	if err == nil {
		return org, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("storage: find organisation: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO organizations (name, created_at) VALUES (?, ?)`, name, FormatTime(tx.now))
	if err != nil {
		return nil, fmt.Errorf("storage: insert organisation: %w", err)
	}
	if org.ID, err = res.LastInsertId(); err != nil {
		return nil, fmt.Errorf("storage: insert organisation: %w", err)
	}
	tx.Audit("organization.create", "organization:"+strconv.FormatInt(org.ID, 10), courtside.OutcomeOK)
	return org, nil
}

// FindUserByID returns a user.
func (db *DB) FindUserByID(ctx context.Context, id int64) (*courtside.User, error) {
	users, err := db.FindUsers(ctx, courtside.UserFilter{ID: &id})
	if err != nil {
		return nil, err
	} else if len(users) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "User not found.")
	}
	return users[0], nil
}

// FindUserByUsername returns a user.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (*courtside.User, error) {
	users, err := db.FindUsers(ctx, courtside.UserFilter{Username: &username})
	if err != nil {
		return nil, err
	} else if len(users) == 0 {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "User not found.")
	}
	return users[0], nil
}

// FindUsers returns the users matching filter, in ID order, with organisation and languages.
func (db *DB) FindUsers(ctx context.Context, filter courtside.UserFilter) ([]*courtside.User, error) {
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
	return db.queryUsers(ctx, db.Reader, strings.Join(where, " AND "), args...)
}

// queryer is what both pools and transactions can do.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) queryUsers(ctx context.Context, q queryer, where string, args ...any) ([]*courtside.User, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT u.id, u.username, u.role, COALESCE(u.organization_id, 0), COALESCE(o.name, ''), u.email, u.phone, u.created_at
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
		if err := rows.Scan(&u.ID, &u.Username, &u.Role, &u.OrganizationID, &orgName, &u.Email, &u.Phone, scanTime{&u.CreatedAt}); err != nil {
			return nil, fmt.Errorf("storage: scan user: %w", err)
		}
		if u.OrganizationID != 0 {
			u.Organization = &courtside.Organization{ID: u.OrganizationID, Name: orgName}
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
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.Reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
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
