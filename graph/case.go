package graph

import (
	"context"

	"courtside"

	"github.com/graphql-go/graphql"
)

// sharingTypes are the types of case sharing and of the consent ledger.
type sharingTypes struct {
	caseShare          *graphql.Object
	accessRequest      *graphql.Object
	accessStatus       *graphql.Enum
	release            *graphql.Object
	releasePurpose     *graphql.Enum
	recordReleaseInput *graphql.InputObject
}

// defineCase defines Case, CaseVictim, OpenCaseInput and the types of case sharing.
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
				"victims": {Type: listOf(s.caseVictimType), Args: firstArg("Case", "victims"), Resolve: s.resolve("", s.caseVictims),
					Description: "The links to the victims the caller may see: a coordinator its organisation's, a prosecutor's " +
						"office those who released it to the office (Release), an advocate those it accompanies."},
				"victimCount": {Type: nonNull(graphql.Int), Resolve: s.resolve("", s.caseVictimCount),
					Description: "How many victims are linked to the case: all of them for the case's office, whatever their " +
						"releases; for anyone else the links in victims."},
				"shares": {Type: listOf(s.sharing.caseShare), Resolve: s.resolve("", s.caseShares),
					Description: "The advocacy organisations the case is shared with: all for the case's office, the caller's " +
						"own for an advocacy organisation."},
			}
		}),
	})
	s.sharing.accessStatus = enum("AccessRequestStatus", "Where a request for access to a case stands.", courtside.AccessRequestStatuses)
	s.sharing.caseShare = graphql.NewObject(graphql.ObjectConfig{
		Name:        "CaseShare",
		Description: "A prosecutor's office sharing one of its cases with an advocacy organisation.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"case": {Type: nonNull(s.caseType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.loadCase(p, p.Source.(*courtside.CaseShare).CaseID)
				})},
				"organization": {Type: nonNull(s.organizationType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseShare).Organization, nil
				}},
				"sharedAt": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseShare).SharedAt, nil
				}},
				"sharedBy": {Type: graphql.String, Description: "The username of who shared it.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return optString(p.Source.(*courtside.CaseShare).SharedBy), nil
					}},
			}
		}),
	})
	s.sharing.accessRequest = graphql.NewObject(graphql.ObjectConfig{
		Name: "CaseAccessRequest",
		Description: "An advocacy organisation asking the office that owns a docket to share the case. It names the " +
			"court and docket number, and answers the same whether or not such a case exists.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return formatID(p.Source.(*courtside.CaseAccessRequest).ID), nil
				}},
				"organization": {Type: nonNull(s.organizationType), Description: "The organisation asking.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return p.Source.(*courtside.CaseAccessRequest).Organization, nil
					}},
				"court": {Type: nonNull(s.courtType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.court(p, p.Source.(*courtside.CaseAccessRequest).CourtID)
				})},
				"docket": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseAccessRequest).Docket, nil
				}},
				"note": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.CaseAccessRequest).Note), nil
				}},
				"status": {Type: nonNull(s.sharing.accessStatus), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseAccessRequest).Status, nil
				}},
				"requestedAt": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseAccessRequest).RequestedAt, nil
				}},
				"decidedAt": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.CaseAccessRequest).DecidedAt, nil
				}},
				"case": {Type: s.caseType, Description: "The case, once the caller may see it: for the office always, for the " +
					"requester once it is shared.", Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					id := p.Source.(*courtside.CaseAccessRequest).CaseID
					if id == 0 {
						return nil, nil
					}
					c, found, err := s.loaders(p.Context).cases.load(p.Context, id)
					if err != nil || !found {
						return nil, err
					}
					return c, nil
				})},
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
				"accompanied": {Type: nonNull(graphql.Boolean), Description: "Whether an advocate accompanies the victim to a hearing of the case.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return p.Source.(*courtside.CaseVictim).Accompanied, nil
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

// caseVictimCount resolves Case.victimCount: every link for the case's own office (which may
// count the victims of its case but see only those who released it), the visible links for
// anyone else.
func (s *server) caseVictimCount(p graphql.ResolveParams) (interface{}, error) {
	c := p.Source.(*courtside.Case)
	if u := courtside.UserFromContext(p.Context); courtside.CanShareCasesOf(u, c.OrganizationID) {
		cvs, _, err := s.loaders(p.Context).caseVictims.load(p.Context, c.ID)
		return len(cvs), err
	}
	visible, err := s.caseVictims(p)
	if err != nil {
		return nil, err
	}
	return len(visible.([]*courtside.CaseVictim)), nil
}

// caseShares resolves Case.shares, batched across cases.
func (s *server) caseShares(p graphql.ResolveParams) (interface{}, error) {
	ss, _, err := s.loaders(p.Context).caseShares.load(p.Context, p.Source.(*courtside.Case).ID)
	if err != nil {
		return nil, err
	}
	if ss == nil {
		ss = []*courtside.CaseShare{}
	}
	return ss, nil
}

// newCaseSharesBatch returns the batch of Case.shares: the shares of many cases in one call.
func (l *loaders) newCaseSharesBatch() *batch[int64, []*courtside.CaseShare] {
	return newBatch(func(ctx context.Context, ids []int64) (map[int64][]*courtside.CaseShare, error) {
		ss, err := l.s.cfg.Cases.FindCaseShares(ctx, ids...)
		if err != nil {
			return nil, err
		}
		return groupBy(ss, func(cs *courtside.CaseShare) int64 { return cs.CaseID }), nil
	})
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

// caseQueries returns Query.case, Query.sharedCases and Query.caseAccessRequests.
func (s *server) caseQueries() graphql.Fields {
	return graphql.Fields{
		"sharedCases": {
			Type: listOf(s.sharing.caseShare),
			Args: firstArg("Query", "sharedCases"),
			Description: "The cases shared with the caller's advocacy organisation, newest share first; for a prosecutor's " +
				"office, the shares of its cases.",
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				ss, err := s.cfg.Cases.FindSharedCases(p.Context)
				if err != nil {
					return nil, err
				}
				l := s.loaders(p.Context)
				for _, sh := range ss {
					l.cases.prime(sh.CaseID)
				}
				if ss == nil {
					ss = []*courtside.CaseShare{}
				}
				return ss, nil
			}),
		},
		"caseAccessRequests": {
			Type: listOf(s.sharing.accessRequest),
			Description: "Requests for access to cases, newest first: for a prosecutor's office those for its dockets, for " +
				"a coordinator its organisation's.",
			Args: withFirst("Query", "caseAccessRequests", graphql.FieldConfigArgument{
				"status": {Type: s.sharing.accessStatus, Description: "Only requests with this status."}}),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				var status *courtside.AccessRequestStatus
				if st, ok := p.Args["status"].(courtside.AccessRequestStatus); ok {
					status = &st
				}
				rs, err := s.cfg.Cases.FindCaseAccessRequests(p.Context, status)
				if err != nil {
					return nil, err
				}
				if rs == nil {
					rs = []*courtside.CaseAccessRequest{}
				}
				return rs, nil
			}),
		},
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
		"unlinkVictim": {
			Type: nonNull(s.caseType),
			Description: "Removes a victim of the caller's organisation from a case (coordinators), cancelling the victim's " +
				"accompaniments to the case's hearings.",
			Args: graphql.FieldConfigArgument{
				"caseId":   {Type: nonNull(graphql.ID)},
				"victimId": {Type: nonNull(graphql.ID)},
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
				if err := s.cfg.Cases.UnlinkVictim(p.Context, caseID, victimID); err != nil {
					return nil, err
				}
				return s.loadCase(p, caseID)
			}),
		},
		"shareCase": {
			Type: nonNull(s.sharing.caseShare),
			Description: "Shares a case of the caller's prosecutor's office with an advocacy organisation, named exactly; " +
				"its coordinators then see the case and may link victims to it. Grants the organisation's pending requests for it.",
			Args: graphql.FieldConfigArgument{
				"caseId":       {Type: nonNull(graphql.ID)},
				"organisation": {Type: nonNull(graphql.String), Description: "The advocacy organisation's name."},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				caseID, err := a.id("caseId")
				if err != nil {
					return nil, err
				}
				return s.cfg.Cases.ShareCase(p.Context, caseID, a.str("organisation"))
			}),
		},
		"unshareCase": {
			Type: nonNull(s.caseType),
			Description: "Withdraws a share: the organisation no longer sees the case, its victims' links to the case are " +
				"removed and its advocates' accompaniments to the case's hearings cancelled.",
			Args: graphql.FieldConfigArgument{
				"caseId":       {Type: nonNull(graphql.ID)},
				"organisation": {Type: nonNull(graphql.String)},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				caseID, err := a.id("caseId")
				if err != nil {
					return nil, err
				}
				if err := s.cfg.Cases.UnshareCase(p.Context, caseID, a.str("organisation")); err != nil {
					return nil, err
				}
				return s.loadCase(p, caseID)
			}),
		},
		"requestCaseAccess": {
			Type: nonNull(s.sharing.accessRequest),
			Description: "Asks the office that owns a docket to share the case with the caller's advocacy organisation " +
				"(coordinators). The answer is the same whether or not the docket exists.",
			Args: graphql.FieldConfigArgument{
				"docket":  {Type: nonNull(graphql.String)},
				"courtId": {Type: nonNull(graphql.ID)},
				"note":    {Type: graphql.String, Description: "For the office, at most 500 characters; never a victim's name."},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				courtID, err := a.id("courtId")
				if err != nil {
					return nil, err
				}
				r := &courtside.CaseAccessRequest{Docket: a.str("docket"), CourtID: courtID, Note: a.str("note")}
				if err := s.cfg.Cases.RequestCaseAccess(p.Context, r); err != nil {
					return nil, err
				}
				return r, nil
			}),
		},
		"grantCaseAccess":  s.decideCaseAccess(true),
		"refuseCaseAccess": s.decideCaseAccess(false),
	}
}

// decideCaseAccess returns Mutation.grantCaseAccess or Mutation.refuseCaseAccess.
func (s *server) decideCaseAccess(grant bool) *graphql.Field {
	desc := "Grants a pending request for a case of the caller's office: shares the case with the organisation."
	if !grant {
		desc = "Refuses a pending request for a case of the caller's office; links the organisation already has to the case are removed."
	}
	return &graphql.Field{
		Type:        nonNull(s.sharing.accessRequest),
		Description: desc,
		Args:        graphql.FieldConfigArgument{"requestId": {Type: nonNull(graphql.ID)}},
		Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
			id, err := args{m: p.Args}.id("requestId")
			if err != nil {
				return nil, err
			}
			return s.cfg.Cases.DecideCaseAccess(p.Context, id, grant)
		}),
	}
}
