package graph

import (
	"context"
	"errors"

	"courtside"

	"github.com/graphql-go/graphql"
)

// AuditLogService reads the audit log (storage.AuditService implements it).
type AuditLogService interface {
	// ListAuditEntries returns up to first entries with ids below before, newest first, with
	// their actors' usernames, and whether older ones remain. Only admins may call it.
	ListAuditEntries(ctx context.Context, first int, before int64) ([]*courtside.AuditEntry, bool, error)
}

// Page sizes of Query.auditLog.
const (
	defaultAuditPage = 50
	maxAuditPage     = 500
)

// auditConnection is a page of the audit log.
type auditConnection struct {
	edges       []*courtside.AuditEntry
	endCursor   string
	hasNextPage bool
}

// auditQueries returns Query.auditLog: the audit log for admins, newest first. Entries name
// objects by type and ID; they never hold a PII value.
func (s *server) auditQueries() graphql.Fields {
	field := func(get func(e *courtside.AuditEntry) interface{}) graphql.FieldResolveFn {
		return func(p graphql.ResolveParams) (interface{}, error) { return get(p.Source.(*courtside.AuditEntry)), nil }
	}
	entryType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "AuditEntry",
		Description: "Who did or read what, when, with what outcome. Objects are named by type and ID, never by value.",
		Fields: graphql.Fields{
			"id": {Type: nonNull(graphql.ID), Resolve: field(func(e *courtside.AuditEntry) interface{} { return formatID(e.ID) })},
			"at": {Type: nonNull(s.dateTime), Resolve: field(func(e *courtside.AuditEntry) interface{} { return e.At })},
			"actor": {Type: graphql.String, Description: "The acting user's username; null for the system or an unknown caller.",
				Resolve: field(func(e *courtside.AuditEntry) interface{} { return optString(e.Actor) })},
			"action":  {Type: nonNull(graphql.String), Resolve: field(func(e *courtside.AuditEntry) interface{} { return e.Action })},
			"object":  {Type: nonNull(graphql.String), Resolve: field(func(e *courtside.AuditEntry) interface{} { return e.Object })},
			"outcome": {Type: nonNull(graphql.String), Resolve: field(func(e *courtside.AuditEntry) interface{} { return e.Outcome })},
		},
	})
	connType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "AuditLogConnection",
		Description: "A page of the audit log, newest first; pass endCursor as after for older entries.",
		Fields: graphql.Fields{
			"edges": {Type: listOf(entryType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*auditConnection).edges, nil
			}},
			"endCursor": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*auditConnection).endCursor), nil
			}},
			"hasNextPage": {Type: nonNull(graphql.Boolean), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*auditConnection).hasNextPage, nil
			}},
		},
	})
	return graphql.Fields{
		"auditLog": {
			Type:        nonNull(connType),
			Description: "The audit log, newest first. ADMIN only; everyone else gets FORBIDDEN.",
			Args: graphql.FieldConfigArgument{
				"first": {Type: graphql.Int, Description: "Page size, 1 to 500; 50 when absent."},
				"after": {Type: graphql.String, Description: "The endCursor of the previous page."},
			},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				if u := courtside.UserFromContext(p.Context); u == nil || u.Role != courtside.RoleAdmin {
					if s.cfg.AuditLog != nil {
						// The storage call audits the denied attempt and answers FORBIDDEN.
						_, _, err := s.cfg.AuditLog.ListAuditEntries(p.Context, 1, 0)
						if err != nil {
							return nil, err
						}
					}
					return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only an admin may read the audit log.")
				}
				if s.cfg.AuditLog == nil {
					return nil, errors.New("graph: no audit log service configured")
				}
				a := args{m: p.Args}
				first := defaultAuditPage
				if n := a.optInt("first"); n != nil {
					if *n < 1 || *n > maxAuditPage {
						return nil, invalid("first", "first must be between 1 and %d.", maxAuditPage)
					}
					first = *n
				}
				var before int64
				if c := a.optStr("after"); c != nil {
					id, err := parseID(*c, "after")
					if err != nil {
						return nil, err
					}
					before = id
				}
				entries, more, err := s.cfg.AuditLog.ListAuditEntries(p.Context, first, before)
				if err != nil {
					return nil, err
				}
				conn := &auditConnection{edges: entries, hasNextPage: more}
				if conn.edges == nil {
					conn.edges = []*courtside.AuditEntry{}
				}
				if n := len(conn.edges); n > 0 {
					conn.endCursor = formatID(conn.edges[n-1].ID)
				}
				return conn, nil
			}),
		},
	}
}
