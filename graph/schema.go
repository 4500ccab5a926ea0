package graph

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtside"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// server holds the configuration and the schema's types; its methods are the resolvers.
type server struct {
	cfg Config

	dateTime *graphql.Scalar

	roleEnum                *graphql.Enum
	hearingKindEnum         *graphql.Enum
	hearingStatusEnum       *graphql.Enum
	tierEnum                *graphql.Enum
	bookingStatusEnum       *graphql.Enum
	accompanimentStatusEnum *graphql.Enum
	channelEnum             *graphql.Enum
	detailLevelEnum         *graphql.Enum
	ackMethodEnum           *graphql.Enum

	userType                *graphql.Object
	organizationType        *graphql.Object
	courtType               *graphql.Object
	caseType                *graphql.Object
	caseVictimType          *graphql.Object
	hearingType             *graphql.Object
	hearingConnectionType   *graphql.Object
	hearingChangeType       *graphql.Object
	victimType              *graphql.Object
	contactPointType        *graphql.Object
	contactPolicyType       *graphql.Object
	channelRuleType         *graphql.Object
	accompanimentType       *graphql.Object
	bookingType             *graphql.Object
	interpreterType         *graphql.Object
	interpreterLanguageType *graphql.Object

	courtInput          *graphql.InputObject
	openCaseInput       *graphql.InputObject
	postHearingInput    *graphql.InputObject
	registerVictimInput *graphql.InputObject
	contactInput        *graphql.InputObject
	policyInput         *graphql.InputObject

	// sharing holds the types of case sharing and of the consent ledger (case.go, victim.go).
	sharing sharingTypes
}

// newSchema builds the schema, with s's resolvers. docs/schema.graphql is its text, kept
// current by TestSchemaFile.
func (s *server) newSchema() (graphql.Schema, error) {
	s.defineScalars()
	s.defineEnums()
	s.defineUser()
	s.defineCourt()
	s.defineCase()
	s.defineHearing()
	s.defineVictim()
	s.defineAccompaniment()
	s.defineBooking()

	query := graphql.Fields{}
	mutation := graphql.Fields{}
	requestQueries, requestMutations := s.requestFields()
	for _, f := range []graphql.Fields{s.userQueries(), s.deliveryQueries(), s.courtQueries(), s.caseQueries(), s.hearingQueries(), s.victimQueries(), s.bookingQueries(),
		s.coordinationQueries(), s.auditQueries(), s.reportQueries(), s.listQueries(), s.sessionQueries(), requestQueries} {
		for name, field := range f {
			query[name] = field
		}
	}
	for _, f := range []graphql.Fields{s.courtMutations(), s.caseMutations(), s.hearingMutations(), s.victimMutations(), s.accompanimentMutations(),
		s.sessionMutations(), s.importMutations(), s.bookingMutations(), requestMutations} {
		for name, field := range f {
			mutation[name] = field
		}
	}
	return graphql.NewSchema(graphql.SchemaConfig{
		Query:        graphql.NewObject(graphql.ObjectConfig{Name: "Query", Fields: query}),
		Mutation:     graphql.NewObject(graphql.ObjectConfig{Name: "Mutation", Fields: mutation}),
		Subscription: s.subscriptionType(),
	})
}

// badDateTime is what the DateTime scalar yields for a value that is not an RFC 3339 string.
// Coercion does not fail on it, so that the resolver can answer INVALID naming the field
// (graphql-go's own coercion errors name neither argument nor input field reliably).
type badDateTime struct{ raw string }

// parseDateTime parses an RFC 3339 time with any offset.
func parseDateTime(v interface{}) interface{} {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case *string:
		if v == nil {
			return nil
		}
		s = *v
	default:
		return badDateTime{raw: fmt.Sprint(v)}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return badDateTime{raw: s}
	}
	return t.UTC()
}

// defineScalars defines DateTime: RFC 3339 in, UTC with Z out.
func (s *server) defineScalars() {
	s.dateTime = graphql.NewScalar(graphql.ScalarConfig{
		Name:        "DateTime",
		Description: "An RFC 3339 time such as 2026-12-01T09:30:00-05:00; answers are in UTC, with Z.",
		Serialize: func(v interface{}) interface{} {
			switch v := v.(type) {
			case time.Time:
				if v.IsZero() {
					return nil
				}
				return v.UTC().Format(time.RFC3339Nano)
			case *time.Time:
				if v == nil || v.IsZero() {
					return nil
				}
				return v.UTC().Format(time.RFC3339Nano)
			}
			return nil
		},
		ParseValue: parseDateTime,
		ParseLiteral: func(v ast.Value) interface{} {
			if sv, ok := v.(*ast.StringValue); ok {
				return parseDateTime(sv.Value)
			}
			if v == nil {
				return nil
			}
			return badDateTime{raw: fmt.Sprint(v.GetValue())}
		},
	})
}

// enum builds an enum whose GraphQL names are the values' own strings.
func enum[T ~string](name, description string, values []T) *graphql.Enum {
	m := graphql.EnumValueConfigMap{}
	for _, v := range values {
		m[string(v)] = &graphql.EnumValueConfig{Value: v}
	}
	return graphql.NewEnum(graphql.EnumConfig{Name: name, Description: description, Values: m})
}

// defineEnums defines the schema's enums over the root package's typed strings.
func (s *server) defineEnums() {
	s.roleEnum = enum("Role", "What a user does in Courtside.", courtside.Roles)
	s.hearingKindEnum = enum("HearingKind", "The kind of court proceeding.", courtside.HearingKinds)
	s.hearingStatusEnum = enum("HearingStatus", "Where a hearing stands.", []courtside.HearingStatus{
		courtside.HearingScheduled, courtside.HearingContinued, courtside.HearingCancelled, courtside.HearingHeld})
	s.tierEnum = enum("Tier", "An interpreter's qualification in a language.", courtside.Tiers)
	s.bookingStatusEnum = enum("BookingStatus", "Where an interpreter booking stands.", []courtside.BookingStatus{
		courtside.BookingOffered, courtside.BookingAccepted, courtside.BookingDeclined, courtside.BookingExpired,
		courtside.BookingCancelled, courtside.BookingNeedsReconfirmation})
	s.accompanimentStatusEnum = enum("AccompanimentStatus", "Where an accompaniment stands.", []courtside.AccompanimentStatus{
		courtside.AccompanimentAssigned, courtside.AccompanimentConfirmed, courtside.AccompanimentCancelled,
		courtside.AccompanimentNeedsReconfirmation})
	s.channelEnum = enum("Channel", "A way to reach a person.", courtside.Channels)
	s.detailLevelEnum = enum("DetailLevel", "How much a message to a victim may say.", []courtside.DetailLevel{
		courtside.DetailFull, courtside.DetailMinimal, courtside.DetailContentFree})
	s.ackMethodEnum = enum("AckMethod", "How a victim answered a notice: its link, or a reply to a text message.", []courtside.AckMethod{courtside.AckByLink, courtside.AckBySMSReply})
}

// nonNull and listOf shorten type expressions.
func nonNull(t graphql.Type) *graphql.NonNull { return graphql.NewNonNull(t) }

// listOf returns [T!]!.
func listOf(t graphql.Type) *graphql.NonNull { return nonNull(graphql.NewList(nonNull(t))) }

// resolve wraps a resolver: a panic becomes INTERNAL, and any error becomes an *Error whose
// INVALID field path starts with prefix.
func (s *server) resolve(prefix string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (res interface{}, err error) {
		p.Context = live(p.Context) // the request's own context, which ends (limits.go)
		defer func() {
			if r := recover(); r != nil {
				res, err = nil, recoverError(p.Context, s.cfg.Logger, r)
			}
		}()
		res, err = fn(p)
		if err != nil {
			return nil, toError(p.Context, s.cfg.Logger, err, prefix)
		}
		return res, nil
	}
}

// root wraps a root field's resolver: it needs an authenticated user.
func (s *server) root(prefix string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
	return s.resolve(prefix, func(p graphql.ResolveParams) (interface{}, error) {
		if courtside.UserFromContext(p.Context) == nil {
			return nil, unauthenticated()
		}
		return fn(p)
	})
}

// mutation wraps a mutation's resolver: it needs a user, and it starts with fresh loaders so
// that nothing a previous mutation of the same request read is served stale.
func (s *server) mutation(prefix string, fn graphql.FieldResolveFn) graphql.FieldResolveFn {
	return s.root(prefix, func(p graphql.ResolveParams) (interface{}, error) {
		s.loaders(p.Context).reset()
		return fn(p)
	})
}

// formatID renders an ID as the schema shows it: a decimal string.
func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// parseID parses a decimal ID; field names the argument for the INVALID error.
func parseID(v interface{}, field string) (int64, error) {
	s, _ := v.(string)
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid(field, "%s must be the decimal ID of an object.", field)
	}
	return id, nil
}

// optString returns nil for "", for nullable string fields.
func optString(s string) interface{} {
	if s == "" {
		return nil
	}
	return s
}

// args reads the arguments of a field or the fields of an input object, naming the input
// field path in INVALID errors.
type args struct {
	m      map[string]interface{}
	prefix string
}

// input returns the input object in argument name.
func (a args) input(name string) args {
	m, _ := a.m[name].(map[string]interface{})
	return args{m: m, prefix: a.prefix + name + "."}
}

// id returns a required ID.
func (a args) id(name string) (int64, error) { return parseID(a.m[name], a.prefix+name) }

// optID returns an optional ID, nil when absent.
func (a args) optID(name string) (*int64, error) {
	if a.m[name] == nil {
		return nil, nil
	}
	id, err := a.id(name)
	return &id, err
}

// str returns a string, "" when absent.
func (a args) str(name string) string {
	s, _ := a.m[name].(string)
	return s
}

// optStr returns a string, nil when absent.
func (a args) optStr(name string) *string {
	if s, ok := a.m[name].(string); ok {
		return &s
	}
	return nil
}

// optInt returns an Int, nil when absent.
func (a args) optInt(name string) *int {
	if n, ok := a.m[name].(int); ok {
		return &n
	}
	return nil
}

// time returns a required DateTime.
func (a args) time(name string) (time.Time, error) {
	switch v := a.m[name].(type) {
	case time.Time:
		return v, nil
	case badDateTime:
		return time.Time{}, invalid(a.prefix+name, "%s must be an RFC 3339 time such as 2026-12-01T09:30:00-05:00.", name)
	}
	return time.Time{}, invalid(a.prefix+name, "%s is required.", name)
}
