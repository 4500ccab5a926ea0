package graph

import (
	"strings"

	"github.com/graphql-go/graphql"
)

// importMutations returns importHearings: the same CSV as `courtside import hearings`.
func (s *server) importMutations() graphql.Fields {
	resultType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "ImportResult",
		Description: "What a docket import did.",
		Fields: graphql.Fields{
			"created":   {Type: nonNull(graphql.Int)},
			"updated":   {Type: nonNull(graphql.Int)},
			"unchanged": {Type: nonNull(graphql.Int)},
		},
	})
	return graphql.Fields{
		"importHearings": {
			Type: nonNull(resultType),
			Description: "Imports the caller's docket (CSV: external_id,docket,court,kind,starts_at,ends_at,courtroom,judge,status) " +
				"in one transaction. Idempotent; a changed time is a continuance; an error names the line and column and imports nothing.",
			Args: graphql.FieldConfigArgument{"csv": {Type: nonNull(graphql.String)}},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				res, err := s.cfg.Imports.ImportHearings(p.Context, strings.NewReader(args{m: p.Args}.str("csv")), nil)
				if err != nil {
					return nil, err
				}
				return map[string]interface{}{"created": res.Created, "updated": res.Updated, "unchanged": res.Unchanged}, nil
			}),
		},
	}
}
