package graph

import (
	"context"
	"strings"

	"courtside"

	"github.com/graphql-go/graphql"
)

// sessionPrefix marks session tokens; other bearer secrets are API tokens.
const sessionPrefix = "cs_ses_"

// sessionTokenKey carries the request's session token, for logout.
type sessionTokenKey struct{}

// authenticateSecret returns the user of a bearer secret: a session token (cs_ses_...) or an
// API token. It is the one check of HTTP requests and WebSocket connections alike. Returns
// EUNAUTHORIZED.
func (s *server) authenticateSecret(ctx context.Context, secret string) (*courtside.User, error) {
	if strings.HasPrefix(secret, sessionPrefix) {
		user, _, err := s.cfg.Sessions.AuthenticateSession(ctx, secret)
		return user, err
	}
	return s.cfg.Tokens.Authenticate(ctx, courtside.TokenAPI, secret)
}

// defineSession defines Session and SecretIssued, and returns the mutations that sign people
// in and out and issue and revoke their secrets.
func (s *server) sessionMutations() graphql.Fields {
	sessionType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Session",
		Description: "A signed-in session. Send the token as Authorization: Bearer; it dies after 30 idle minutes and 12 hours at most.",
		Fields: graphql.Fields{
			"token":     {Type: nonNull(graphql.String)},
			"expiresAt": {Type: nonNull(s.dateTime)},
			"user":      {Type: nonNull(s.userType)},
		},
	})
	secretType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "SecretIssued",
		Description: "A secret, shown this once: only its hash is stored.",
		Fields: graphql.Fields{
			"id":     {Type: nonNull(graphql.ID)},
			"secret": {Type: nonNull(graphql.String)},
			"url":    {Type: graphql.String, Description: "For a feed token: the secret webcal URL."},
		},
	})
	issue := func(kind courtside.TokenKind) graphql.FieldResolveFn {
		return s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
			u := courtside.UserFromContext(p.Context)
			if err := s.reauthenticate(p); err != nil {
				return nil, err
			}
			t, secret, err := s.cfg.Tokens.CreateToken(p.Context, u.ID, kind, args{m: p.Args}.str("label"))
			if err != nil {
				return nil, err
			}
			out := map[string]interface{}{"id": formatID(t.ID), "secret": secret}
			if kind == courtside.TokenFeed {
				out["url"] = strings.TrimRight(s.cfg.BaseURL, "/") + "/feeds/" + secret + ".ics"
			}
			return out, nil
		})
	}
	return graphql.Fields{
		"login": {
			Type:        nonNull(sessionType),
			Description: "Signs a person in. Five failures in 15 minutes lock the account for 15 minutes.",
			Args: graphql.FieldConfigArgument{
				"username": {Type: nonNull(graphql.String)},
				"password": {Type: nonNull(graphql.String)},
			},
			Resolve: s.resolve("", func(p graphql.ResolveParams) (interface{}, error) {
				a := args{m: p.Args}
				sess, token, err := s.cfg.Sessions.Login(p.Context, a.str("username"), a.str("password"))
				if err != nil {
					return nil, err
				}
				u, err := s.cfg.Users.FindUserByID(p.Context, sess.UserID)
				if err != nil {
					return nil, err
				}
				return map[string]interface{}{"token": token, "expiresAt": sess.ExpiresAt, "user": u}, nil
			}),
		},
		"logout": {
			Type:        nonNull(graphql.Boolean),
			Description: "Ends the session whose token authorised this request.",
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				token, _ := p.Context.Value(sessionTokenKey{}).(string)
				if token == "" {
					return nil, invalid("", "logout ends a session; this request was made with an API token. Use revokeSecret for tokens.")
				}
				if err := s.cfg.Sessions.Logout(p.Context, token); err != nil {
					return nil, err
				}
				return true, nil
			}),
		},
		"createAppPassword": {
			Type:        nonNull(secretType),
			Description: "Issues an app password for a calendar app (CalDAV). Shown once." + reauthNote,
			Args:        issueArgs(),
			Resolve:     issue(courtside.TokenApp),
		},
		"createFeedToken": {
			Type:        nonNull(secretType),
			Description: "Issues a secret webcal feed URL. Shown once." + reauthNote,
			Args:        issueArgs(),
			Resolve:     issue(courtside.TokenFeed),
		},
		"createApiToken": {
			Type:        nonNull(secretType),
			Description: "Issues an API token for a system acting as the caller. Shown once." + reauthNote,
			Args:        issueArgs(),
			Resolve:     issue(courtside.TokenAPI),
		},
		"revokeSecret": {
			Type:        nonNull(graphql.Boolean),
			Description: "Revokes one of the caller's secrets (any, for an admin) with immediate effect: an id from mySecrets or from a create mutation.",
			Args:        graphql.FieldConfigArgument{"id": {Type: nonNull(graphql.ID)}},
			Resolve: s.mutation("", func(p graphql.ResolveParams) (interface{}, error) {
				id, err := args{m: p.Args}.id("id")
				if err != nil {
					return nil, err
				}
				if err := s.cfg.Tokens.RevokeToken(p.Context, id); err != nil {
					return nil, err
				}
				return true, nil
			}),
		},
	}
}

// reauthNote tells what the secret-issuing mutations ask of a session.
const reauthNote = " A secret outlives the session that issues it: a request signed in with a session token " +
	"must give the account password again (password); one with an API token need not."

// issueArgs are the arguments of the secret-issuing mutations.
func issueArgs() graphql.FieldConfigArgument {
	return graphql.FieldConfigArgument{
		"label": {Type: nonNull(graphql.String)},
		"password": {Type: graphql.String, Description: "The caller's account password; required when the request is signed in " +
			"with a session token, checked (and throttled, and counted towards the lockout) like a login."},
	}
}

// reauthenticate asks a caller signed in with a session token for the account password again,
// before a long-lived secret is issued: a stolen session must not turn into a credential that
// outlives it. A caller with an API token already holds such a credential.
func (s *server) reauthenticate(p graphql.ResolveParams) error {
	if token, _ := p.Context.Value(sessionTokenKey{}).(string); token == "" {
		return nil
	}
	password, ok := p.Args["password"].(string)
	if !ok || password == "" {
		return invalid("password", "Signed in with a session, give your password again to issue a secret that outlives it.")
	}
	return s.cfg.Sessions.VerifyPassword(p.Context, courtside.UserIDFromContext(p.Context), password)
}

// sessionQueries returns Query.mySecrets, and defines Secret and SecretKind.
func (s *server) sessionQueries() graphql.Fields {
	kindEnum := graphql.NewEnum(graphql.EnumConfig{Name: "SecretKind", Description: "What a secret is for.",
		Values: graphql.EnumValueConfigMap{
			"API":  {Value: courtside.TokenAPI, Description: "A GraphQL bearer token."},
			"APP":  {Value: courtside.TokenApp, Description: "An app password for CalDAV."},
			"FEED": {Value: courtside.TokenFeed, Description: "A secret webcal feed URL."},
		}})
	field := func(get func(t *courtside.Token) interface{}) graphql.FieldResolveFn {
		return func(p graphql.ResolveParams) (interface{}, error) { return get(p.Source.(*courtside.Token)), nil }
	}
	secretType := graphql.NewObject(graphql.ObjectConfig{
		Name:        "Secret",
		Description: "One of the caller's live secrets, described; the secret itself is never shown again.",
		Fields: graphql.Fields{
			"id":        {Type: nonNull(graphql.ID), Description: "What revokeSecret takes.", Resolve: field(func(t *courtside.Token) interface{} { return formatID(t.ID) })},
			"kind":      {Type: nonNull(kindEnum), Resolve: field(func(t *courtside.Token) interface{} { return t.Kind })},
			"label":     {Type: nonNull(graphql.String), Resolve: field(func(t *courtside.Token) interface{} { return t.Label })},
			"createdAt": {Type: nonNull(s.dateTime), Resolve: field(func(t *courtside.Token) interface{} { return t.CreatedAt })},
			"lastUsedAt": {Type: s.dateTime, Description: "When it last signed a request in, to the minute; null when never.",
				Resolve: field(func(t *courtside.Token) interface{} { return t.LastUsedAt })},
		},
	})
	return graphql.Fields{
		"mySecrets": {
			Type:        listOf(secretType),
			Description: "The caller's live API tokens, app passwords and feed tokens, oldest first; never the secrets. Revoked ones are not listed.",
			Args:        firstArg("Query", "mySecrets"),
			Resolve: s.root("", func(p graphql.ResolveParams) (interface{}, error) {
				n := courtside.MaxTokensListed
				if v := (args{m: p.Args}).optInt("first"); v != nil {
					n = *v
				}
				return s.cfg.Tokens.ListTokens(p.Context, courtside.UserIDFromContext(p.Context), n)
			}),
		},
	}
}
