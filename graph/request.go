package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// requestFields returns Query.requests and Query.smsHelp (queries) and Mutation.closeRequest,
// Mutation.confirmSMSRestart and Mutation.setSMSHelp (mutations): victims' answers to notices
// and what a HELP text reply tells.
func (s *server) requestFields() (queries, mutations graphql.Fields) {
	kindEnum := enum("RequestKind", "What a victim asked for in answer to a notice; SMS_RESTART is a phone's START after STOP.", courtside.RequestKinds)
	statusEnum := enum("RequestStatus", "Whether a request still needs handling.", []courtside.RequestStatus{courtside.RequestOpen, courtside.RequestClosed})
	field := func(get func(r *courtside.Request) interface{}) graphql.FieldResolveFn {
		return func(p graphql.ResolveParams) (interface{}, error) { return get(p.Source.(*courtside.Request)), nil }
	}
	requestType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Request",
		Description: "Something a victim asked for in answer to a notice, open until a coordinator or the victim's advocate closes it.",
		Fields: graphql.Fields{
			"id":     {Type: nonNull(graphql.ID), Resolve: field(func(r *courtside.Request) interface{} { return formatID(r.ID) })},
			"kind":   {Type: nonNull(kindEnum), Resolve: field(func(r *courtside.Request) interface{} { return r.Kind })},
			"status": {Type: nonNull(statusEnum), Resolve: field(func(r *courtside.Request) interface{} { return r.Status })},
			"via":    {Type: nonNull(s.ackMethodEnum), Resolve: field(func(r *courtside.Request) interface{} { return r.Via })},
			"victim": {Type: nonNull(s.victimType), Description: "The victim who asked, as the caller may see them.",
				Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.victim(p, p.Source.(*courtside.Request).VictimID)
				})},
			"hearing": {Type: s.hearingType, Description: "The hearing the answered notice was about; null for SMS_RESTART.",
				Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					if id := p.Source.(*courtside.Request).HearingID; id != 0 {
						return s.loadHearing(p, id)
					}
					return nil, nil
				})},
			"deliveryId": {Type: graphql.ID, Description: "The delivery whose notice the victim answered.",
				Resolve: field(func(r *courtside.Request) interface{} {
					if r.DeliveryID == 0 {
						return nil
					}
					return formatID(r.DeliveryID)
				})},
			"createdAt": {Type: nonNull(s.dateTime), Resolve: field(func(r *courtside.Request) interface{} { return r.CreatedAt })},
			"closedAt": {Type: s.dateTime, Resolve: field(func(r *courtside.Request) interface{} {
				if r.ClosedAt == nil {
					return nil
				}
				return *r.ClosedAt
			})},
			"outcome": {Type: graphql.String, Description: "SMS_RESTORED for a confirmed restart; null otherwise.",
				Resolve: field(func(r *courtside.Request) interface{} { return optString(r.Outcome) })},
		},
	})
	helpType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "SMSHelp",
		Description: "What a HELP text reply tells a victim: the organisation's neutral name and how to reach it.",
		Fields: graphql.Fields{
			"neutralName": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.SMSHelpSettings).NeutralName, nil
			}},
			"reach": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.SMSHelpSettings).Reach, nil
			}},
		},
	})
	byID := func(act func(p graphql.ResolveParams, id int64) (*courtside.Request, error)) graphql.FieldResolveFn {
		return s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
			id, err := args{m: p.Args}.id("id")
			if err != nil {
				return nil, err
			}
			return act(p, id)
		})
	}
	queries = graphql.Fields{
		"requests": {
			Type:        listOf(requestType),
			Description: "Victims' requests the caller may see, oldest first: a coordinator's organisation's, an advocate's accompanied victims'.",
			Args: withFirst("Query", "requests", graphql.FieldConfigArgument{
				"status":   {Type: statusEnum},
				"victimId": {Type: graphql.ID},
			}),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				var f courtside.RequestFilter
				if st, ok := p.Args["status"].(courtside.RequestStatus); ok {
					f.Status = &st
				}
				var err error
				if f.VictimID, err = (args{m: p.Args}).optID("victimId"); err != nil {
					return nil, err
				}
				rs, err := s.cfg.Requests.FindRequests(p.Context, f)
				if rs == nil && err == nil {
					rs = []*courtside.Request{}
				}
				return rs, err
			}),
		},
		"smsHelp": {
			Type:        helpType,
			Description: "The caller's organisation's HELP reply settings (coordinators); null when not set.",
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				h, err := s.cfg.Requests.SMSHelp(p.Context)
				if h == nil || err != nil {
					return nil, err
				}
				return h, nil
			}),
		},
	}
	mutations = graphql.Fields{
		"closeRequest": {
			Type:        nonNull(requestType),
			Description: "Closes a victim's request as handled (its organisation's coordinators, the victim's advocates).",
			Args:        graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: byID(func(p graphql.ResolveParams, id int64) (*courtside.Request, error) {
				return s.cfg.Requests.CloseRequest(p.Context, id)
			}),
		},
		"confirmSMSRestart": {
			Type: nonNull(requestType),
			Description: "Confirms that texting a victim whose phone answered START is safe again: SMS is allowed in their policy at the " +
				"detail it had before STOP, and the SMS_RESTART request is closed.",
			Args: graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: byID(func(p graphql.ResolveParams, id int64) (*courtside.Request, error) {
				return s.cfg.Requests.ConfirmSMSRestart(p.Context, id)
			}),
		},
		"setSMSHelp": {
			Type:        nonNull(helpType),
			Description: "Sets what a HELP text reply tells (coordinators, for their organisation).",
			Args: graphql.FieldConfigArgument{
				"neutralName": {Type: nonNull(graphql.String)},
				"reach":       {Type: nonNull(graphql.String)},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				return s.cfg.Requests.SetSMSHelp(p.Context, courtside.SMSHelpSettings{NeutralName: a.str("neutralName"), Reach: a.str("reach")})
			}),
		},
	}
	return queries, mutations
}
