package courtside

import (
	"context"
	"strings"
	"time"
)

// Role is what a user does in Courtside; it decides what the user may see and do.
type Role string

// The roles; docs/operations.md says who each one is and what it sees.
const (
	RoleAdmin       Role = "ADMIN"
	RoleCoordinator Role = "COORDINATOR"
	RoleAdvocate    Role = "ADVOCATE"
	RoleProsecutor  Role = "PROSECUTOR"
	RoleInterpreter Role = "INTERPRETER"
)

// Roles lists every role, in the order of the schema's enum.
var Roles = []Role{RoleAdmin, RoleCoordinator, RoleAdvocate, RoleProsecutor, RoleInterpreter}

// ParseRole parses a role name in any letter case.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range Roles {
		if r == known {
			return r, nil
		}
	}
	return "", Invalidf("role", "Role must be one of admin, coordinator, advocate, prosecutor, interpreter.")
}

// Organization is a prosecutor's office, an advocacy organisation or an interpreters' agency:
// its Kind says which, and decides which roles its members may have (KindForRole).
type Organization struct {
	ID   int64            `json:"id"`
	Name string           `json:"name"`
	Kind OrganizationKind `json:"kind"`

	// Created is set on the organisation UserService.CreateUser returns when that call created
	// it, so that the caller can say so.
	Created bool `json:"-"`
}

// User is a person or system that signs in to Courtside.
type User struct {
	ID             int64         `json:"id"`
	Username       string        `json:"username"`
	Role           Role          `json:"role"`
	OrganizationID int64         `json:"organizationId,omitempty"`
	Organization   *Organization `json:"organization,omitempty"`
	Email          string        `json:"email,omitempty"`
	Phone          string        `json:"phone,omitempty"`
	CreatedAt      time.Time     `json:"createdAt"`

	// Languages is set for interpreters: the languages they interpret and their tier in each.
	Languages []InterpreterLanguage `json:"languages,omitempty"`
}

// Validate reports the first problem with u's fields as an EINVALID error. A phone number is
// rewritten in E.164 form.
func (u *User) Validate() error {
	if !validUsername(u.Username) {
		return Invalidf("username", "Username must be 1 to 64 letters, digits, '.', '_' or '-'.")
	}
	if _, err := ParseRole(string(u.Role)); err != nil {
		return err
	}
	if u.Email != "" {
		if err := ValidateEmail(u.Email); err != nil {
			return Invalidf("email", "%s", ErrorMessage(err))
		}
	}
	if u.Phone != "" {
		phone, err := NormalizePhone(u.Phone)
		if err != nil {
			return Invalidf("phone", "%s", ErrorMessage(err))
		}
		u.Phone = phone
	}
	if u.Role != RoleInterpreter && len(u.Languages) > 0 {
		return Invalidf("languages", "Only interpreters have interpreter languages.")
	}
	for _, l := range u.Languages {
		if err := l.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func validUsername(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// NewUser is what UserService.CreateUser needs: the user and, optionally, an organisation name
// (created when it does not exist) and a password.
type NewUser struct {
	User             User
	OrganizationName string
	Password         string
}

// UserFilter selects users.
type UserFilter struct {
	ID       *int64
	Username *string
	Role     *Role
}

// UserService manages users and organisations.
type UserService interface {
	// CreateUser creates a user, and its organisation if it is new. Returns EINVALID or ECONFLICT
	// (username taken).
	CreateUser(ctx context.Context, nu NewUser) (*User, error)

	// FindUserByID returns a user. Returns ENOTFOUND.
	FindUserByID(ctx context.Context, id int64) (*User, error)

	// FindUserByUsername returns a user. Returns ENOTFOUND.
	FindUserByUsername(ctx context.Context, username string) (*User, error)

	// FindUsers returns the users matching filter, in ID order.
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, error)

	// CountUsers returns how many users exist.
	CountUsers(ctx context.Context) (int, error)
}
