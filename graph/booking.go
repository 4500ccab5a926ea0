package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// defineBooking defines InterpreterBooking, Interpreter and InterpreterLanguage. Nothing
// returns bookings yet (Hearing.bookings is empty); the types hold the schema's shape.
func (s *server) defineBooking() {
	s.interpreterLanguageType = graphql.NewObject(graphql.ObjectConfig{
		Name: "InterpreterLanguage",
		Fields: graphql.Fields{
			"language": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.InterpreterLanguage).Language, nil
			}},
			"tier": {Type: nonNull(s.tierEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(courtside.InterpreterLanguage).Tier, nil
			}},
		},
	})
	s.interpreterType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Interpreter",
		Description: "A court interpreter (a user with the INTERPRETER role).",
		Fields: graphql.Fields{
			"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return formatID(p.Source.(*courtside.User).ID), nil
			}},
			"name": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.User).Username, nil
			}},
			"languages": {Type: listOf(s.interpreterLanguageType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				if ls := p.Source.(*courtside.User).Languages; ls != nil {
					return ls, nil
				}
				return []courtside.InterpreterLanguage{}, nil
			}},
		},
	})
	s.bookingType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "InterpreterBooking",
		Description: "An interpreter offered or booked for a hearing in one language.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return formatID(p.Source.(*courtside.InterpreterBooking).ID), nil
				}},
				"hearing": {Type: nonNull(s.hearingType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.loadHearing(p, p.Source.(*courtside.InterpreterBooking).HearingID)
				})},
				"language": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.InterpreterBooking).Language, nil
				}},
				"interpreter": {Type: s.interpreterType, Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					id := p.Source.(*courtside.InterpreterBooking).InterpreterID
					if id == 0 {
						return nil, nil
					}
					return s.user(p, id)
				})},
				"status": {Type: nonNull(s.bookingStatusEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.InterpreterBooking).Status, nil
				}},
				"respondBy": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.InterpreterBooking).RespondBy, nil
				}},
				"fallbackReason": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.InterpreterBooking).FallbackReason), nil
				}},
			}
		}),
	})
}
