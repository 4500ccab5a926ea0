package graph

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/graphql-go/graphql"
)

// Page sizes of Query.hearings.
const (
	defaultHearingsPage = 50
	maxHearingsPage     = 200
)

// hearingConnection is one page of Query.hearings.
type hearingConnection struct {
	edges       []*courtside.Hearing
	endCursor   string
	hasNextPage bool
}

// defineHearing defines Hearing, HearingConnection, HearingChange and PostHearingInput.
func (s *server) defineHearing() {
	s.hearingChangeType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "HearingChange",
		Description: "One entry of a hearing's history. A continuance is a change, not a delete and an insert.",
		Fields: graphql.Fields{
			"at": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.HearingChange).At, nil
			}},
			"by": {Type: nonNull(graphql.String), Description: "The username of who made the change.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.HearingChange).By, nil
				}},
			"reason": {Type: nonNull(graphql.String), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.HearingChange).Reason, nil
			}},
			"fromStartsAt": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.HearingChange).FromStartsAt, nil
			}},
			"toStartsAt": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.HearingChange).ToStartsAt, nil
			}},
			"fromEndsAt": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.HearingChange).FromEndsAt, nil
			}},
			"toEndsAt": {Type: s.dateTime, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*courtside.HearingChange).ToEndsAt, nil
			}},
			"fromCourtroom": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*courtside.HearingChange).FromCourtroom), nil
			}},
			"toCourtroom": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*courtside.HearingChange).ToCourtroom), nil
			}},
			"status": {Type: nonNull(s.hearingStatusEnum), Description: "The hearing's status after the change.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.HearingChange).Status, nil
				}},
			"sequence": {Type: nonNull(graphql.Int), Description: "The hearing's sequence after the change.",
				Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.HearingChange).Sequence, nil
				}},
		},
	})
	s.hearingType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "Hearing",
		Description: "One court proceeding of a case.",
		Fields: graphql.FieldsThunk(func() graphql.Fields {
			return graphql.Fields{
				"id": {Type: nonNull(graphql.ID), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return formatID(p.Source.(*courtside.Hearing).ID), nil
				}},
				"case": {Type: nonNull(s.caseType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.loadCase(p, p.Source.(*courtside.Hearing).CaseID)
				})},
				"kind": {Type: nonNull(s.hearingKindEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Hearing).Kind, nil
				}},
				"startsAt": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Hearing).StartsAt, nil
				}},
				"endsAt": {Type: nonNull(s.dateTime), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Hearing).EndsAt, nil
				}},
				"court": {Type: nonNull(s.courtType), Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
					return s.court(p, p.Source.(*courtside.Hearing).CourtID)
				})},
				"courtroom": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.Hearing).Courtroom), nil
				}},
				"judge": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.Hearing).Judge), nil
				}},
				"status": {Type: nonNull(s.hearingStatusEnum), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return p.Source.(*courtside.Hearing).Status, nil
				}},
				"sequence": {Type: nonNull(graphql.Int), Description: "Incremented on every change.",
					Resolve: func(p graphql.ResolveParams) (interface{}, error) {
						return p.Source.(*courtside.Hearing).Sequence, nil
					}},
				"externalId": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
					return optString(p.Source.(*courtside.Hearing).ExternalID), nil
				}},
				"history":        {Type: listOf(s.hearingChangeType), Args: firstArg("Hearing", "history"), Resolve: s.resolve("", s.hearingHistory)},
				"bookings":       {Type: listOf(s.bookingType), Args: firstArg("Hearing", "bookings"), Resolve: s.resolve("", s.hearingBookings)},
				"accompaniments": {Type: listOf(s.accompanimentType), Args: firstArg("Hearing", "accompaniments"), Resolve: s.resolve("", s.hearingAccompaniments)},
			}
		}),
	})
	s.hearingConnectionType = graphql.NewObject(graphql.ObjectConfig{
		Name:        "HearingConnection",
		Description: "A page of hearings in (startsAt, id) order; pass endCursor as after for the next page.",
		Fields: graphql.Fields{
			"edges": {Type: listOf(s.hearingType), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*hearingConnection).edges, nil
			}},
			"endCursor": {Type: graphql.String, Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return optString(p.Source.(*hearingConnection).endCursor), nil
			}},
			"hasNextPage": {Type: nonNull(graphql.Boolean), Resolve: func(p graphql.ResolveParams) (interface{}, error) {
				return p.Source.(*hearingConnection).hasNextPage, nil
			}},
		},
	})
	s.postHearingInput = graphql.NewInputObject(graphql.InputObjectConfig{
		Name: "PostHearingInput",
		Fields: graphql.InputObjectConfigFieldMap{
			"caseId":     {Type: nonNull(graphql.ID)},
			"kind":       {Type: nonNull(s.hearingKindEnum)},
			"startsAt":   {Type: nonNull(s.dateTime)},
			"endsAt":     {Type: nonNull(s.dateTime)},
			"courtroom":  {Type: graphql.String},
			"judge":      {Type: graphql.String},
			"externalId": {Type: graphql.String, Description: "The prosecutor's system's ID; posting it again updates that hearing."},
		},
	})
}

// hearingHistory resolves Hearing.history, oldest first.
func (s *server) hearingHistory(p graphql.ResolveParams) (interface{}, error) {
	cs, _, err := s.loaders(p.Context).changes.load(p.Context, p.Source.(*courtside.Hearing).ID)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = []*courtside.HearingChange{}
	}
	return cs, nil
}

// hearingBookings resolves Hearing.bookings: the hearing's interpreter bookings the caller may
// see (an interpreter only its own), batched across hearings.
func (s *server) hearingBookings(p graphql.ResolveParams) (interface{}, error) {
	bs, _, err := s.loaders(p.Context).bookings.load(p.Context, p.Source.(*courtside.Hearing).ID)
	if err != nil {
		return nil, err
	}
	if bs == nil {
		bs = []*courtside.InterpreterBooking{}
	}
	return bs, nil
}

// hearingAccompaniments resolves Hearing.accompaniments: those the caller may see whose
// victim the caller may see too. Interpreters get none.
func (s *server) hearingAccompaniments(p graphql.ResolveParams) (interface{}, error) {
	if !courtside.CanSeeVictimPseudonym(courtside.UserFromContext(p.Context)) {
		return []*courtside.Accompaniment{}, nil
	}
	l := s.loaders(p.Context)
	as, _, err := l.accompaniments.load(p.Context, p.Source.(*courtside.Hearing).ID)
	if err != nil {
		return nil, err
	}
	out := []*courtside.Accompaniment{}
	for _, a := range as {
		_, found, err := l.victims.load(p.Context, a.VictimID)
		if err != nil {
			return nil, err
		} else if found {
			out = append(out, a)
		}
	}
	return out, nil
}

// loadHearing loads a hearing the caller may see; NOT_FOUND otherwise.
func (s *server) loadHearing(p graphql.ResolveParams, id int64) (*courtside.Hearing, error) {
	l := s.loaders(p.Context)
	h, found, err := l.hearings.load(p.Context, id)
	if err != nil {
		return nil, err
	} else if !found {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Hearing not found.")
	}
	l.primeHearings([]*courtside.Hearing{h})
	return h, nil
}

// encodeCursor makes the opaque cursor of a hearing's place in (startsAt, id) order.
func encodeCursor(h *courtside.Hearing) string {
	return base64.RawURLEncoding.EncodeToString([]byte("h1:" + h.StartsAt.UTC().Format(time.RFC3339Nano) + ":" + formatID(h.ID)))
}

// decodeCursor reads a cursor made by encodeCursor.
func decodeCursor(s string) (*courtside.HearingCursor, error) {
	bad := invalid("after", "after must be an endCursor from a previous page.")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	rest, ok := strings.CutPrefix(string(b), "h1:")
	if !ok {
		return nil, bad
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return nil, bad
	}
	t, err := time.Parse(time.RFC3339Nano, rest[:i])
	if err != nil {
		return nil, bad
	}
	id, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil || id <= 0 {
		return nil, bad
	}
	return &courtside.HearingCursor{StartsAt: t.UTC(), ID: id}, nil
}

// hearingQueries returns Query.hearing and Query.hearings.
func (s *server) hearingQueries() graphql.Fields {
	return graphql.Fields{
		"hearing": {
			Type:        s.hearingType,
			Description: "A hearing the caller may see; null with NOT_FOUND otherwise.",
			Args:        graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				id, err := args{m: p.Args}.id("id")
				if err != nil {
					return nil, err
				}
				return s.loadHearing(p, id)
			}),
		},
		"hearings": {
			Type:        nonNull(s.hearingConnectionType),
			Description: "The hearings the caller may see that overlap [from, to), by start time then ID.",
			Args: graphql.FieldConfigArgument{
				"from":    {Type: nonNull(s.dateTime)},
				"to":      {Type: nonNull(s.dateTime)},
				"courtId": {Type: graphql.ID},
				"caseId":  {Type: graphql.ID},
				"status":  {Type: s.hearingStatusEnum, Description: "Only hearings with this status."},
				"first":   {Type: graphql.Int, Description: "Page size, 1 to 200; 50 when absent."},
				"after":   {Type: graphql.String, Description: "The endCursor of the previous page."},
			},
			Resolve: s.root("", s.hearings),
		},
	}
}

// hearings resolves Query.hearings.
func (s *server) hearings(p graphql.ResolveParams) (interface{}, error) {
	a := args{m: p.Args}
	from, err := a.time("from")
	if err != nil {
		return nil, err
	}
	to, err := a.time("to")
	if err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, invalid("to", "to must be after from.")
	}
	f := courtside.HearingFilter{From: &from, To: &to, Limit: defaultHearingsPage}
	if f.CourtID, err = a.optID("courtId"); err != nil {
		return nil, err
	}
	caseID, err := a.optID("caseId")
	if err != nil {
		return nil, err
	} else if caseID != nil {
		f.CaseIDs = []int64{*caseID}
	}
	if status, ok := a.m["status"].(courtside.HearingStatus); ok {
		f.Status = &status
	}
	if first := a.optInt("first"); first != nil {
		if *first < 1 || *first > maxHearingsPage {
			return nil, invalid("first", "first must be between 1 and %d.", maxHearingsPage)
		}
		f.Limit = *first
	}
	if after := a.optStr("after"); after != nil {
		if f.After, err = decodeCursor(*after); err != nil {
			return nil, err
		}
	}
	page := f.Limit
	f.Limit++ // one more tells whether there is a next page
	hs, err := s.cfg.Hearings.FindHearings(p.Context, f)
	if err != nil {
		return nil, err
	}
	conn := &hearingConnection{edges: hs}
	if len(hs) > page {
		conn.edges, conn.hasNextPage = hs[:page], true
	}
	if conn.edges == nil {
		conn.edges = []*courtside.Hearing{}
	}
	if n := len(conn.edges); n > 0 {
		conn.endCursor = encodeCursor(conn.edges[n-1])
	}
	s.loaders(p.Context).primeHearings(conn.edges)
	return conn, nil
}

// hearingMutations returns Mutation.postHearing, rescheduleHearing and cancelHearing.
func (s *server) hearingMutations() graphql.Fields {
	return graphql.Fields{
		"postHearing": {
			Type:        nonNull(s.hearingType),
			Description: "Posts a hearing in a case of the caller's office; idempotent on externalId.",
			Args:        graphql.FieldConfigArgument{"input": {Type: nonNull(s.postHearingInput)}},
			Resolve: s.mutation("input.", func(p graphql.ResolveParams) (interface{}, error) {
				in := args{m: p.Args}.input("input")
				caseID, err := in.id("caseId")
				if err != nil {
					return nil, err
				}
				h := &courtside.Hearing{CaseID: caseID, Courtroom: in.str("courtroom"), Judge: in.str("judge"),
					ExternalID: in.str("externalId")}
				h.Kind, _ = in.m["kind"].(courtside.HearingKind)
				if h.StartsAt, err = in.time("startsAt"); err != nil {
					return nil, err
				}
				if h.EndsAt, err = in.time("endsAt"); err != nil {
					return nil, err
				}
				if _, err := s.cfg.Hearings.PostHearing(p.Context, h); err != nil {
					return nil, err
				}
				s.loaders(p.Context).primeHearings([]*courtside.Hearing{h})
				return h, nil
			}),
		},
		"rescheduleHearing": {
			Type:        nonNull(s.hearingType),
			Description: "Moves a hearing (a continuance). A stale expectedSequence answers CONFLICT.",
			Args: graphql.FieldConfigArgument{
				"id":               {Type: nonNull(graphql.ID)},
				"startsAt":         {Type: nonNull(s.dateTime)},
				"endsAt":           {Type: nonNull(s.dateTime)},
				"courtroom":        {Type: graphql.String, Description: "The new courtroom; unchanged when absent."},
				"reason":           {Type: nonNull(graphql.String)},
				"expectedSequence": {Type: graphql.Int, Description: "The sequence the caller last read."},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				id, err := a.id("id")
				if err != nil {
					return nil, err
				}
				upd := courtside.HearingUpdate{Courtroom: a.optStr("courtroom"), Reason: a.str("reason"),
					ExpectedSequence: a.optInt("expectedSequence")}
				if upd.StartsAt, err = a.time("startsAt"); err != nil {
					return nil, err
				}
				if upd.EndsAt, err = a.time("endsAt"); err != nil {
					return nil, err
				}
				h, err := s.cfg.Hearings.RescheduleHearing(p.Context, id, upd)
				if err != nil {
					return nil, err
				}
				s.loaders(p.Context).primeHearings([]*courtside.Hearing{h})
				return h, nil
			}),
		},
		"cancelHearing": {
			Type:        nonNull(s.hearingType),
			Description: "Cancels a hearing. A stale expectedSequence answers CONFLICT.",
			Args: graphql.FieldConfigArgument{
				"id":               {Type: nonNull(graphql.ID)},
				"reason":           {Type: nonNull(graphql.String)},
				"expectedSequence": {Type: graphql.Int},
			},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				id, err := a.id("id")
				if err != nil {
					return nil, err
				}
				h, err := s.cfg.Hearings.CancelHearing(p.Context, id, a.str("reason"), a.optInt("expectedSequence"))
				if err != nil {
					return nil, err
				}
				s.loaders(p.Context).primeHearings([]*courtside.Hearing{h})
				return h, nil
			}),
		},
	}
}
