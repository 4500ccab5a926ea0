package graph

import (
	"context"
	"errors"
	"fmt"

	"courtside"

	"github.com/graphql-go/graphql"
)

// caseLister is implemented by a CaseService that lists the caller's cases page by page
// (storage.CaseService.ListCases).
type caseLister interface {
	ListCases(ctx context.Context, first int, after int64) ([]*courtside.Case, bool, error)
}

// victimLister is implemented by a VictimService that lists the caller's victims page by
// page, without PII (storage.VictimService.ListVictims).
type victimLister interface {
	ListVictims(ctx context.Context, first int, after int64) ([]*courtside.Victim, bool, error)
}

// listConnection is a page of a list: the objects, the cursor after the last, and whether
// more follow.
type listConnection struct {
	edges       interface{}
	endCursor   string
	hasNextPage bool
}

// connectionType defines a connection of node objects, named name.
func connectionType(name, description string, node *graphql.Object) *graphql.Object {
	return graphql.NewObject(graphql.ObjectConfig{
		Name:        name,
		Description: description,
		Fields: graphql.Fields{
			"edges": {Type: listOf(node), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*listConnection).edges, nil
			}},
			"endCursor": {Type: graphql.String, Description: "Pass it as after for the next page.", Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*listConnection).endCursor), nil
			}},
			"hasNextPage": {Type: nonNull(graphql.Boolean), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*listConnection).hasNextPage, nil
			}},
		},
	})
}

// The page sizes of myCases and myVictims: storage.MaxListPage at most.
const (
	maxListPage     = 500
	defaultListPage = 50
)

// pageArgs are the arguments of a list query.
var pageArgs = graphql.FieldConfigArgument{
	"first": {Type: graphql.Int, Description: fmt.Sprintf("Page size, 1 to %d; %d when absent.", maxListPage, defaultListPage)},
	"after": {Type: graphql.String, Description: "The endCursor of the previous page."},
}

// page reads first and after.
func page(p graphql.ResolveParams) (int, int64, error) {
	a := args{m: p.Args}
	first := defaultListPage
	if n := a.optInt("first"); n != nil {
		if *n < 1 || *n > maxListPage {
			return 0, 0, invalid("first", "first must be between 1 and %d.", maxListPage)
		}
		first = *n
	}
	var after int64
	if c := a.optStr("after"); c != nil {
		id, err := parseID(*c, "after")
		if err != nil {
			return 0, 0, err
		}
		after = id
	}
	return first, after, nil
}

// listQueries returns Query.myCases and Query.myVictims: the cases and victims the caller may
// see, page by page, under the same scope as Query.case and Query.victim, so that an ID found
// here is one those answer (and one revokeSecret or a mutation can be given).
func (s *server) listQueries() graphql.Fields {
	return graphql.Fields{
		"myCases": {
			Type: nonNull(connectionType("CaseConnection", "A page of cases in ID order.", s.caseType)),
			Description: "The cases the caller may see, in ID order: a prosecutor's office's own, a coordinator's with a victim of its organisation, " +
				"an advocate's and an interpreter's with a hearing they accompany or are booked for, every case for an admin.",
			Args: pageArgs,
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				first, after, err := page(p)
				if err != nil {
					return nil, err
				}
				lister, ok := s.cfg.Cases.(caseLister)
				if !ok {
					return nil, errors.New("graph: the case service cannot list")
				}
				cases, more, err := lister.ListCases(p.Context, first, after)
				if err != nil {
					return nil, err
				}
				if cases == nil {
					cases = []*courtside.Case{}
				}
				s.loaders(p.Context).primeCases(cases...)
				conn := &listConnection{edges: cases, hasNextPage: more}
				if n := len(cases); n > 0 {
					conn.endCursor = formatID(cases[n-1].ID)
				}
				return conn, nil
			}),
		},
		"myVictims": {
			Type: nonNull(connectionType("VictimConnection", "A page of victims in ID order.", s.victimType)),
			Description: "The victims the caller may see, in ID order, redacted as Query.victim is: a coordinator's organisation's, " +
				"an advocate's accompanied ones, a prosecutor's office's linked to its cases; none for admins and interpreters.",
			Args: pageArgs,
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				first, after, err := page(p)
				if err != nil {
					return nil, err
				}
				lister, ok := s.cfg.Victims.(victimLister)
				if !ok {
					return nil, errors.New("graph: the victim service cannot list")
				}
				vs, more, err := lister.ListVictims(p.Context, first, after)
				if err != nil {
					return nil, err
				}
				if vs == nil {
					vs = []*courtside.Victim{}
				}
				l := s.loaders(p.Context)
				for _, v := range vs {
					l.victims.put(v.ID, v)
				}
				conn := &listConnection{edges: vs, hasNextPage: more}
				if n := len(vs); n > 0 {
					conn.endCursor = formatID(vs[n-1].ID)
				}
				return conn, nil
			}),
		},
	}
}
