package graph

import (
	"courtside"

	"github.com/graphql-go/graphql"
)

// defineCourt defines Court and CourtInput.
func (s *server) defineCourt() {
	s.courtType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Court",
		Description: "A courthouse; hearing times are shown in its time zone.",
		Fields: graphql.Fields{
			"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return formatID(p.Source.(*courtside.Court).ID), nil
			}},
			"name": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.Court).Name, nil
			}},
			"timeZone": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.Court).TimeZone, nil
			}},
			"address": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*courtside.Court).Address), nil
			}},
			"opensAt": {Type: graphql.String, Description: "When the court opens, Monday to Friday, as HH:MM in its time zone.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return courtside.FormatClock(p.Source.(*courtside.Court).EffectiveHours().Opens), nil
				}},
			"closesAt": {Type: graphql.String, Description: "When the court closes, as HH:MM in its time zone.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return courtside.FormatClock(p.Source.(*courtside.Court).EffectiveHours().Closes), nil
				}},
		},
	})
	s.courtInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "CourtInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"name":     {Type: nonNull(graphql.String)},
			"timeZone": {Type: nonNull(graphql.String), Description: "An IANA time zone such as America/New_York."},
			"address":  {Type: graphql.String},
			"opensAt":  {Type: graphql.String, Description: "When the court opens, HH:MM in its time zone; 08:00 when absent."},
			"closesAt": {Type: graphql.String, Description: "When the court closes, HH:MM in its time zone; 18:00 when absent."},
		},
	})
}

// court loads the court with the given ID; NOT_FOUND when there is none.
func (s *server) court(p graphql.ResolveParams, id int64) (interface{}, error) {
	c, found, err := s.loaders(p.Context).courts.load(p.Context, id)
	if err != nil {
		return nil, err
	} else if !found {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Court not found.")
	}
	return c, nil
}

// courtQueries returns Query.courts.
func (s *server) courtQueries() graphql.Fields {
	return graphql.Fields{
		"courts": {
			Type:        listOf(s.courtType),
			Description: "Every court, by name.",
			Args:        firstArg("Query", "courts"),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				courts, err := s.cfg.Courts.FindCourts(p.Context)
				if err != nil {
					return nil, err
				}
				l := s.loaders(p.Context)
				for _, c := range courts {
					l.courts.put(c.ID, c)
				}
				return courts, nil
			}),
		},
		"travelTime": {
			Type: nonNull(graphql.Int),
			Description: "The travel time between two courts in minutes, the same both ways: the configured one, " +
				"60 when none is configured, 0 within one court. Ranking and conflicts allow it between hearings.",
			Args: graphql.FieldConfigArgument{"fromCourtId": {Type: nonNull(graphql.ID)}, "toCourtId": {Type: nonNull(graphql.ID)}},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				from, err := a.id("fromCourtId")
				if err != nil {
					return nil, err
				}
				to, err := a.id("toCourtId")
				if err != nil {
					return nil, err
				}
				return s.cfg.Courts.TravelTime(p.Context, from, to)
			}),
		},
	}
}

// courtMutations returns Mutation.createCourt.
func (s *server) courtMutations() graphql.Fields {
	return graphql.Fields{
		"createCourt": {
			Type:        nonNull(s.courtType),
			Description: "Creates a court (admins).",
			Args:        graphql.FieldConfigArgument{"input": {Type: nonNull(s.courtInput)}},
			Resolve: s.mutation("input.", func(p graphql.ResolveParams) (interface{}, error) {
				in := args{m: p.Args}.input("input")
				c := &courtside.Court{Name: in.str("name"), TimeZone: in.str("timeZone"), Address: in.str("address"),
					Hours: courtside.DefaultCourtHours}
				var err error
				if opens := in.optStr("opensAt"); opens != nil {
					if c.Hours.Opens, err = courtside.ParseClock("opensAt", *opens); err != nil {
						return nil, err
					}
				}
				if closes := in.optStr("closesAt"); closes != nil {
					if c.Hours.Closes, err = courtside.ParseClock("closesAt", *closes); err != nil {
						return nil, err
					}
				}
				if err := s.cfg.Courts.CreateCourt(p.Context, c); err != nil {
					return nil, err
				}
				return c, nil
			}),
		},
		"setTravelTime": {
			Type: nonNull(graphql.Int),
			Description: "Sets the travel time between two different courts, both ways, in minutes (0 to 720); " +
				"admins only, since every organisation's ranking and conflicts use it. Returns it.",
			Args: graphql.FieldConfigArgument{"fromCourtId": {Type: nonNull(graphql.ID)}, "toCourtId": {Type: nonNull(graphql.ID)},
				"minutes": {Type: nonNull(graphql.Int)}},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				from, err := a.id("fromCourtId")
				if err != nil {
					return nil, err
				}
				to, err := a.id("toCourtId")
				if err != nil {
					return nil, err
				}
				minutes, _ := p.Args["minutes"].(int)
				return s.cfg.Courts.SetTravelTime(p.Context, from, to, minutes)
			}),
		},
	}
}
