package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// defineCase defines Case, CaseVictim and OpenCaseInput.
func (s *server) defineCase() {
	s.caseType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Case",
		Description: "A prosecution, owned by one prosecutor's office.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return formatID(p.Source.(*courtside.Case).ID), nil
				}},
				"docket": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Case).Docket, nil
				}},
				"court": {Type: nonNull(s.courtType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.court(p, p.Source.(*courtside.Case).CourtID)
				})},
				"hearings": {Type: listOf(s.hearingType), Args: firstArg("Case", "hearings"), Resolve: s.resolve("", s.caseHearings),
					Description: "The case's hearings the caller may see, by start time; page through more with Query.hearings(caseId:)."},
				"victims": {Type: listOf(s.caseVictimType), Args: firstArg("Case", "victims"), Resolve: s.resolve("", s.caseVictims)},
			}
		}),
	})
	s.caseVictimType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "CaseVictim",
		Description: "A victim's link to a case.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"victim": {Type: nonNull(s.victimType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.victim(p, p.Source.(*courtside.CaseVictim).VictimID)
				})},
				"attends": {Type: nonNull(graphql.Boolean), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseVictim).Attends, nil
				}},
			}
		}),
	})
	s.openCaseInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "OpenCaseInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"docket":  {Type: nonNull(graphql.String)},
			"courtId": {Type: nonNull(graphql.ID)},
		},
	})
}

// caseHearings resolves Case.hearings: the case's hearings the caller may see.
func (s *server) caseHearings(p graphql.ResolveParams) (interface{}, error) {
	l := s.loaders(p.Context)
	hs, _, err := l.caseHearings.load(p.Context, p.Source.(*courtside.Case).ID)
	if err != nil {
		return nil, err
	}
	l.primeHearings(hs)
	return hs, nil
}

// caseVictims resolves Case.victims: the links to the victims the caller may see. Links to
// victims the service does not return for this caller are left out, and interpreters get none.
func (s *server) caseVictims(p graphql.ResolveParams) (interface{}, error) {
	if !courtside.CanSeeVictimPseudonym(courtside.UserFromContext(p.Context)) {
		return []*courtside.CaseVictim{}, nil
	}
	l := s.loaders(p.Context)
	cvs, _, err := l.caseVictims.load(p.Context, p.Source.(*courtside.Case).ID)
	if err != nil {
		return nil, err
	}
	out := []*courtside.CaseVictim{}
	for _, cv := range cvs {
		_, found, err := l.victims.load(p.Context, cv.VictimID)
		if err != nil {
			return nil, err
		} else if found {
			out = append(out, cv)
		}
	}
	return out, nil
}

// loadCase loads the case with the given ID the caller may see; NOT_FOUND otherwise.
func (s *server) loadCase(p graphql.ResolveParams, id int64) (*courtside.Case, error) {
	l := s.loaders(p.Context)
	c, found, err := l.cases.load(p.Context, id)
	if err != nil {
		return nil, err
	} else if !found {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Case not found.")
	}
	l.primeCases(c)
	return c, nil
}

// caseQueries returns Query.case.
func (s *server) caseQueries() graphql.Fields {
	return graphql.Fields{
		"case": {
			Type:        s.caseType,
			Description: "A case the caller may see; null with NOT_FOUND otherwise.",
			Args:        graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				id, err := args{m: p.Args}.id("id")
				if err != nil {
					return nil, err
				}
				return s.loadCase(p, id)
			}),
		},
	}
}

// caseMutations returns Mutation.openCase and Mutation.linkVictim.
func (s *server) caseMutations() graphql.Fields {
	return graphql.Fields{
		"openCase": {
			Type:        nonNull(s.caseType),
			Description: "Opens a case for the caller's prosecutor's office.",
			Args:        graphql.FieldConfigArgument{"input": {Type: nonNull(s.openCaseInput)}},
			Resolve: s.mutation("input.", func(p graphql.ResolveParams) (interface{}, error) {
				in := args{m: p.Args}.input("input")
				courtID, err := in.id("courtId")
				if err != nil {
					return nil, err
				}
				c := &courtside.Case{Docket: in.str("docket"), CourtID: courtID}
				if err := s.cfg.Cases.OpenCase(p.Context, c); err != nil {
					return nil, err
				}
				s.loaders(p.Context).primeCases(c)
				return c, nil
			}),
		},
		"linkVictim": {
			Type:        nonNull(s.caseType),
			Description: "Links a victim of the caller's organisation to a case (coordinators); linking again updates attends.",
			Args: graphql.FieldConfigArgument{
				"caseId":   {Type: nonNull(graphql.ID)},
				"victimId": {Type: nonNull(graphql.ID)},
				"attends":  {Type: nonNull(graphql.Boolean)},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				caseID, err := a.id("caseId")
				if err != nil {
					return nil, err
				}
				victimID, err := a.id("victimId")
				if err != nil {
					return nil, err
				}
				attends, _ := p.Args["attends"].(bool)
				if err := s.cfg.Cases.LinkVictim(p.Context, caseID, victimID, attends); err != nil {
					return nil, err
				}
				return s.loadCase(p, caseID)
			}),
		},
	}
}
