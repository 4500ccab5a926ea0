package graph

import (
	"time"

	"courtside"

	"github.com/graphql-go/graphql"
)

// coordinationQueries returns Query.coverage and Query.conflicts, and defines CoverageGap and
// Conflict.
func (s *server) coordinationQueries() graphql.Fields {
	gapType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "CoverageGap",
		Description: "An open hearing that lacks someone it needs.",
		Fields: graphql.Fields{
			"hearing": {Type: nonNull(s.hearingType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.CoverageGap).Hearing, nil
			}},
			"missing": {Type: nonNull(graphql.String),
				Description: `Whom: "advocate" (a victim who attends has no advocate; never which victim), or ` +
					`"interpreter (es)" (an interpreter was requested in that language and none has accepted).`,
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(courtside.CoverageGap).Missing, nil
				}},
		},
	})
	conflictType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Conflict",
		Description: "A problem with the schedule.",
		Fields: graphql.Fields{
			"kind": {Type: nonNull(graphql.String),
				Description: "ADVOCATE_DOUBLE_BOOKED, INTERPRETER_DOUBLE_BOOKED or VICTIM_OVERLAP: two hearings that one person cannot " +
					"both attend (their times overlap once 60 minutes of travel are allowed between different courts); " +
					"OUTSIDE_COURT_HOURS: a hearing before 08:00, after 18:00 or on a weekend in its court's time zone.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return string(p.Source.(courtside.Conflict).Kind), nil
				}},
			"hearings": {Type: listOf(s.hearingType), Description: "The two clashing hearings, the earlier first; or the one outside court hours.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(courtside.Conflict).Hearings, nil
				}},
			"who": {Type: nonNull(graphql.String),
				Description: `The advocate's or interpreter's username, "victim <pseudonym>", or "court <name>"; never a legal name.`,
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(courtside.Conflict).Who, nil
				}},
		},
	})
	rangeArgs := func(field string) graphql.FieldConfigArgument {
		return graphql.FieldConfigArgument{
			"from":  {Type: nonNull(s.dateTime)},
			"to":    {Type: nonNull(s.dateTime), Description: "At most 366 days after from."},
			"first": firstArg("Query", field)["first"],
		}
	}
	return graphql.Fields{
		"coverage": {
			Type: listOf(gapType),
			Description: "The open hearings overlapping [from, to) that lack an advocate or an interpreter, by start time: a coordinator's " +
				"organisation's (for its own victims), a prosecutor's office's own, or all for an admin.",
			Args: rangeArgs("coverage"),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				from, to, err := timeRange(p)
				if err != nil {
					return nil, err
				}
				gaps, err := s.cfg.Coordination.FindCoverage(p.Context, from, to)
				if err != nil {
					return nil, err
				}
				hs := make([]*courtside.Hearing, 0, len(gaps))
				for _, g := range gaps {
					hs = append(hs, g.Hearing)
				}
				s.loaders(p.Context).primeHearings(hs)
				if gaps == nil {
					gaps = []courtside.CoverageGap{}
				}
				return gaps, nil
			}),
		},
		"conflicts": {
			Type: listOf(conflictType),
			Description: "The conflicts with an open hearing overlapping [from, to), by the earlier hearing's start (coordinators: " +
				"their organisation's hearings and victims; admins: all hearings, no victims).",
			Args: rangeArgs("conflicts"),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				from, to, err := timeRange(p)
				if err != nil {
					return nil, err
				}
				cs, err := s.cfg.Coordination.FindConflicts(p.Context, from, to)
				if err != nil {
					return nil, err
				}
				var hs []*courtside.Hearing
				for _, c := range cs {
					hs = append(hs, c.Hearings...)
				}
				s.loaders(p.Context).primeHearings(hs)
				if cs == nil {
					cs = []courtside.Conflict{}
				}
				return cs, nil
			}),
		},
	}
}

// timeRange reads the arguments from and to; the service checks the range itself.
func timeRange(p graphql.ResolveParams) (from, to time.Time, err error) {
	a := args{m: p.Args}
	if from, err = a.time("from"); err != nil {
		return from, to, err
	}
	to, err = a.time("to")
	return from, to, err
}
