package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// defineAccompaniment defines Accompaniment.
func (s *server) defineAccompaniment() {
	s.accompanimentType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Accompaniment",
		Description: "An advocate going with a victim to a hearing.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return formatID(p.Source.(*courtside.Accompaniment).ID), nil
				}},
				"hearing": {Type: nonNull(s.hearingType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.loadHearing(p, p.Source.(*courtside.Accompaniment).HearingID)
				})},
				"victim": {Type: nonNull(s.victimType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.victim(p, p.Source.(*courtside.Accompaniment).VictimID)
				})},
				"advocate": {Type: nonNull(s.userType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.user(p, p.Source.(*courtside.Accompaniment).AdvocateID)
				})},
				"status": {Type: nonNull(s.accompanimentStatusEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Accompaniment).Status, nil
				}},
			}
		}),
	})
}

// user loads a user by ID; NOT_FOUND when there is none.
func (s *server) user(p graphql.ResolveParams, id int64) (*courtside.User, error) {
	u, found, err := s.loaders(p.Context).users.load(p.Context, id)
	if err != nil {
		return nil, err
	} else if !found {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "User not found.")
	}
	return u, nil
}

// accompanimentMutations returns Mutation.assignAdvocate.
func (s *server) accompanimentMutations() graphql.Fields {
	return graphql.Fields{
		"assignAdvocate": {
			Type:        nonNull(s.accompanimentType),
			Description: "Assigns an advocate of the caller's organisation to accompany a victim to a hearing (coordinators).",
			Args: graphql.FieldConfigArgument{
				"hearingId":  {Type: nonNull(graphql.ID)},
				"victimId":   {Type: nonNull(graphql.ID)},
				"advocateId": {Type: nonNull(graphql.ID)},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				hearingID, err := a.id("hearingId")
				if err != nil {
					return nil, err
				}
				victimID, err := a.id("victimId")
				if err != nil {
					return nil, err
				}
				advocateID, err := a.id("advocateId")
				if err != nil {
					return nil, err
				}
				acc, err := s.cfg.Accompaniments.AssignAdvocate(p.Context, hearingID, victimID, advocateID)
				if err != nil {
					return nil, err
				}
				s.loaders(p.Context).primeAccompaniments([]*courtside.Accompaniment{acc})
				return acc, nil
			}),
		},
	}
}
