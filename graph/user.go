package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// defineUser defines User, Organization and OrganizationKind. A user's e-mail and phone are
// not exposed.
func (s *server) defineUser() {
	kindEnum := enum("OrganizationKind", "What an organisation is; it decides which roles its members have: PROSECUTION "+
		"(prosecutors), ADVOCACY (coordinators and advocates), INTERPRETING (interpreters).", courtside.OrganizationKinds)
	s.organizationType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Organization",
		Description: "A prosecutor's office, an advocacy organisation or an interpreters' agency.",
		Fields: graphql.Fields{
			"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return formatID(p.Source.(*courtside.Organization).ID), nil
			}},
			"name": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.Organization).Name, nil
			}},
			"kind": {Type: kindEnum, Description: "Null for an organisation that has no member yet to give it a kind.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					if k := p.Source.(*courtside.Organization).Kind; k != "" {
						return k, nil
					}
					return nil, nil
				}},
		},
	})
	s.userType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "User",
		Description: "A person or system that signs in to Courtside.",
		Fields: graphql.Fields{
			"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return formatID(p.Source.(*courtside.User).ID), nil
			}},
			"username": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.User).Username, nil
			}},
			"role": {Type: nonNull(s.roleEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.User).Role, nil
			}},
			"organization": {Type: s.organizationType, Resolve: s.resolve("", s.userOrganization)},
		},
	})
}

// userOrganization resolves User.organization, reading the user again when the organisation
// was not filled in.
func (s *server) userOrganization(p graphql.ResolveParams) (interface{}, error) {
	u := p.Source.(*courtside.User)
	if u.Organization != nil {
		return u.Organization, nil
	}
	if u.OrganizationID == 0 {
		return nil, nil
	}
	full, found, err := s.loaders(p.Context).users.load(p.Context, u.ID)
	if err != nil {
		return nil, err
	} else if !found || full.Organization == nil {
		return nil, nil
	}
	return full.Organization, nil
}

// userQueries returns Query.me.
func (s *server) userQueries() graphql.Fields {
	return graphql.Fields{
		"me": {
			Type:        nonNull(s.userType),
			Description: "The signed-in user.",
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				return courtside.UserFromContext(p.Context), nil
			}),
		},
	}
}
