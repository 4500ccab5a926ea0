package graph

import (
	"errors"

	"courtside"

	"github.com/graphql-go/graphql"
)

// reportQueries returns Query.caseloadReport: the one report that may leave an advocacy
// organisation. It carries counts per court and hearing kind, small counts suppressed
// (courtside.BuildCaseloadReport), and no row about any victim.
func (s *server) reportQueries() graphql.Fields {
	countType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "ReportCount",
		Description: "A published count: value is null and suppressed true when the count is small enough to point at a person (1 to 10), or when it would give such a count away.",
		Fields: graphql.Fields{
			"value": {Type: graphql.Int, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				c := p.Source.(courtside.ReportCell)
				if c.Suppressed || c.Value == nil {
					return nil, nil
				}
				return *c.Value, nil
			}},
			"suppressed": {Type: nonNull(graphql.Boolean), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.ReportCell).Suppressed, nil
			}},
		},
	})
	notice := func(i int) *graphql.Field {
		return &graphql.Field{Type: nonNull(countType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
			return p.Source.(courtside.CaseloadRow).Notices[i], nil
		}}
	}
	noticesType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "NoticeCounts",
		Description: "Notices about the hearings of a row, to the organisation's victims and staff, by delivery status.",
		Fields: graphql.Fields{
			"pending": notice(0), "sent": notice(1), "delivered": notice(2), "failed": notice(3), "suppressed": notice(4),
		},
	})
	row := func(get func(r courtside.CaseloadRow) interface{}) graphql.FieldResolveFn {
		return func(p graphql.ResolveParams) (interface{}, error) { return get(p.Source.(courtside.CaseloadRow)), nil }
	}
	rowType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "CaseloadRow",
		Description: "The counts of one court and hearing kind.",
		Fields: graphql.Fields{
			"courtId":   {Type: nonNull(graphql.ID), Resolve: row(func(r courtside.CaseloadRow) interface{} { return formatID(r.CourtID) })},
			"courtName": {Type: nonNull(graphql.String), Resolve: row(func(r courtside.CaseloadRow) interface{} { return r.CourtName })},
			"kind":      {Type: nonNull(s.hearingKindEnum), Resolve: row(func(r courtside.CaseloadRow) interface{} { return r.Kind })},
			"hearings": {Type: nonNull(countType), Description: "Hearings starting in the period, not cancelled.",
				Resolve: row(func(r courtside.CaseloadRow) interface{} { return r.Hearings })},
			"victimsAccompanied": {Type: nonNull(countType), Description: "Distinct victims of the organisation accompanied to those hearings.",
				Resolve: row(func(r courtside.CaseloadRow) interface{} { return r.VictimsAccompanied })},
			"withInterpreter": {Type: nonNull(countType), Description: "Those hearings with an accepted interpreter booking.",
				Resolve: row(func(r courtside.CaseloadRow) interface{} { return r.WithInterpreter })},
			"notices": {Type: nonNull(noticesType), Resolve: row(func(r courtside.CaseloadRow) interface{} { return r })},
		},
	})
	reportType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "CaseloadReport",
		Description: "An organisation's caseload over a period: aggregates only, small cells suppressed, no totals.",
		Fields: graphql.Fields{
			"from": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.CaseloadReport).From, nil
			}},
			"to": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.CaseloadReport).To, nil
			}},
			"rows": {Type: listOf(rowType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				rows := p.Source.(*courtside.CaseloadReport).Rows
				if rows == nil {
					rows = []courtside.CaseloadRow{}
				}
				return rows, nil
			}},
		},
	})
	return graphql.Fields{
		"caseloadReport": {
			Type: nonNull(reportType),
			Description: "The caseload of the caller's organisation for hearings starting in [from, to), at most 366 days: " +
				"COORDINATOR only (audited); every other role gets FORBIDDEN.",
			Args: graphql.FieldConfigArgument{
				"from": {Type: nonNull(s.dateTime)},
				"to":   {Type: nonNull(s.dateTime)},
			},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				if s.cfg.Reports == nil {
					return nil, errors.New("graph: no report service configured")
				}
				a := args{m: p.Args}
				from, err := a.time("from")
				if err != nil {
					return nil, err
				}
				to, err := a.time("to")
				if err != nil {
					return nil, err
				}
				return s.cfg.Reports.CaseloadReport(p.Context, from, to)
			}),
		},
	}
}
