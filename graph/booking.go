package graph

import (
	"context"

	"courtside"

	"github.com/graphql-go/graphql"
)

// defineBooking defines InterpreterBooking, Interpreter and InterpreterLanguage.
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
			"name": {Type: nonNull(graphql.String), Description: "The interpreter's username; no personal names are stored.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
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
		Name: "InterpreterBooking",
		Description: "An interpreter offered or booked for a hearing in one language. Each offer is a booking of its own: " +
			"a decline ends it and offers the next ranked interpreter in a new booking.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return formatID(p.Source.(*courtside.InterpreterBooking).ID), nil
				}},
				"hearing": {Type: nonNull(s.hearingType),
					Description: "The hearing. An interpreter sees it while the booking is offered, accepted or awaiting reconfirmation.",
					Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
						return s.loadHearing(p, p.Source.(*courtside.InterpreterBooking).HearingID)
					})},
				"language": {Type: nonNull(graphql.String), Description: "The requested BCP 47 tag.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
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
				"respondBy": {Type: s.dateTime, Description: "The deadline of the offer.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return p.Source.(*courtside.InterpreterBooking).RespondBy, nil
					}},
				"fallbackReason": {Type: graphql.String, Description: "Why an interpreter below CERTIFIED was offered (28 U.S.C. 1827).",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return optString(p.Source.(*courtside.InterpreterBooking).FallbackReason), nil
					}},
				"declineReason": {Type: graphql.String, Description: "What the interpreter said when declining.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return optString(p.Source.(*courtside.InterpreterBooking).DeclineReason), nil
					}},
			}
		}),
	})
}

// newBookingsBatch returns the batch of Hearing.bookings: the bookings of many hearings in
// one FindBookings call.
func (l *loaders) newBookingsBatch() *batch[int64, []*courtside.InterpreterBooking] {
	return newBatch(func(ctx context.Context, ids []int64) (map[int64][]*courtside.InterpreterBooking, error) {
		bs, err := l.s.cfg.Bookings.FindBookings(ctx, courtside.BookingFilter{HearingIDs: ids})
		if err != nil {
			return nil, err
		}
		l.primeBookings(bs)
		return groupBy(bs, func(b *courtside.InterpreterBooking) int64 { return b.HearingID }), nil
	})
}

// primeBookings queues the keys of the bookings' hearings and interpreters.
func (l *loaders) primeBookings(bs []*courtside.InterpreterBooking) {
	for _, b := range bs {
		l.hearings.prime(b.HearingID)
		if b.InterpreterID != 0 {
			l.users.prime(b.InterpreterID)
		}
	}
}

// bookingQueries returns Query.interpreterCandidates and Query.bookings, and defines Candidate.
func (s *server) bookingQueries() graphql.Fields {
	candidateType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Candidate",
		Description: "An interpreter considered for a hearing in one language.",
		Fields: graphql.Fields{
			"interpreter": {Type: nonNull(s.interpreterType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.Candidate).Interpreter, nil
			}},
			"tier": {Type: nonNull(s.tierEnum), Description: "The interpreter's tier in the language that serves the request.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Candidate).Tier, nil
				}},
			"language": {Type: nonNull(graphql.String), Description: "The interpreter's language that serves the request.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Candidate).Language, nil
				}},
			"available": {Type: nonNull(graphql.Boolean), Description: "Whether the interpreter can be offered the hearing now.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Candidate).Available, nil
				}},
			"reason": {Type: graphql.String, Description: "Why the interpreter is not available, or which close language serves.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.Candidate).Reason), nil
				}},
			"weekBookings": {Type: nonNull(graphql.Int), Description: "The interpreter's live bookings in the hearing's week.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Candidate).WeekBookings, nil
				}},
		},
	})
	return graphql.Fields{
		"interpreterCandidates": {
			Type: listOf(candidateType),
			Description: "The interpreters whose languages serve language, best first: language match, tier, availability, " +
				"fewest bookings that week (coordinators with a victim in the hearing's case, and the hearing's prosecutor's office).",
			Args: graphql.FieldConfigArgument{
				"hearingId": {Type: nonNull(graphql.ID)},
				"language":  {Type: nonNull(graphql.String), Description: "A BCP 47 tag such as es, es-MX or zh-Hans."},
				"first":     firstArg("Query", "interpreterCandidates")["first"],
			},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				hearingID, err := a.id("hearingId")
				if err != nil {
					return nil, err
				}
				cs, err := s.cfg.Bookings.InterpreterCandidates(p.Context, hearingID, a.str("language"))
				if err != nil {
					return nil, err
				}
				if cs == nil {
					cs = []*courtside.Candidate{}
				}
				return cs, nil
			}),
		},
		"bookings": {
			Type:        listOf(s.bookingType),
			Description: "An interpreter's own current bookings; for other roles, the bookings of the hearings they may see. Oldest first.",
			Args:        graphql.FieldConfigArgument{"status": {Type: s.bookingStatusEnum}, "first": firstArg("Query", "bookings")["first"]},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				var f courtside.BookingFilter
				if st, ok := p.Args["status"].(courtside.BookingStatus); ok {
					f.Status = &st
				}
				bs, err := s.cfg.Bookings.FindBookings(p.Context, f)
				if err != nil {
					return nil, err
				}
				if bs == nil {
					bs = []*courtside.InterpreterBooking{}
				}
				s.loaders(p.Context).primeBookings(bs)
				return bs, nil
			}),
		},
	}
}

// bookingMutations returns Mutation.requestInterpreter and Mutation.respondToBooking.
func (s *server) bookingMutations() graphql.Fields {
	return graphql.Fields{
		"requestInterpreter": {
			Type: nonNull(s.bookingType),
			Description: "Offers the hearing to the best available interpreter at or above minimumTier. CONFLICT when nobody is " +
				"available (nothing is written; see interpreterCandidates) or the language is already offered or booked.",
			Args: graphql.FieldConfigArgument{
				"hearingId":   {Type: nonNull(graphql.ID)},
				"language":    {Type: nonNull(graphql.String), Description: "A BCP 47 tag such as es, es-MX or zh-Hans."},
				"minimumTier": {Type: s.tierEnum, Description: "The lowest acceptable tier; any when absent."},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				hearingID, err := a.id("hearingId")
				if err != nil {
					return nil, err
				}
				var minimum *courtside.Tier
				if t, ok := p.Args["minimumTier"].(courtside.Tier); ok {
					minimum = &t
				}
				b, err := s.cfg.Bookings.RequestInterpreter(p.Context, hearingID, a.str("language"), minimum)
				if err != nil {
					return nil, err
				}
				s.loaders(p.Context).primeBookings([]*courtside.InterpreterBooking{b})
				return b, nil
			}),
		},
		"respondToBooking": {
			Type: nonNull(s.bookingType),
			Description: "The offered interpreter accepts or declines. A decline offers the hearing to the next ranked interpreter; " +
				"the answer is the declined booking.",
			Args: graphql.FieldConfigArgument{
				"bookingId": {Type: nonNull(graphql.ID)},
				"accept":    {Type: nonNull(graphql.Boolean)},
				"reason":    {Type: graphql.String, Description: "Why the interpreter declines; at most 500 characters."},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				bookingID, err := a.id("bookingId")
				if err != nil {
					return nil, err
				}
				accept, _ := p.Args["accept"].(bool)
				// The answer shows the hearing as the interpreter saw it when answering: after a
				// decline the interpreter may no longer read it.
				l := s.loaders(p.Context)
				if mine, err := s.cfg.Bookings.FindBookings(p.Context, courtside.BookingFilter{IDs: []int64{bookingID}}); err != nil {
					return nil, err
				} else if len(mine) == 1 {
					if _, _, err := l.hearings.load(p.Context, mine[0].HearingID); err != nil {
						return nil, err
					}
				}
				b, err := s.cfg.Bookings.RespondToBooking(p.Context, bookingID, accept, a.str("reason"))
				if err != nil {
					return nil, err
				}
				if b.InterpreterID != 0 {
					l.users.prime(b.InterpreterID)
				}
				return b, nil
			}),
		},
	}
}
