package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"courtside/graph"
	"courtside/storage"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t)

	t.Run("no token answers UNAUTHENTICATED", func(t *testing.T) {
		e := e.with(t)
		r := e.gql("", `{ me { id } }`, nil).fails("UNAUTHENTICATED")
		if r.Status != http.StatusOK {
			t.Fatalf("status %d", r.Status)
		}
		e.gql("", `mutation { createCourt(input: {name: "C", timeZone: "UTC"}) { id } }`, nil).fails("UNAUTHENTICATED")
		e.gql("", `{ courts { id } }`, nil).fails("UNAUTHENTICATED")
		// Nothing was written.
		var out struct{ Courts []struct{ ID string } }
		e.gql("admin", `{ courts { id } }`, nil).ok(&out)
		if len(out.Courts) != 0 {
			t.Fatalf("courts: %+v", out.Courts)
		}
	})
	t.Run("an unknown token answers 401", func(t *testing.T) {
		e := e.with(t)
		for _, header := range []string{"Bearer nope", "Basic YWRtaW46eA==", "Bearer "} {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(`{"query":"{ me { id } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", header)
			r := e.send(req)
			if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" || r.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("%q: status %d, %+v", header, r.Status, r.Errors)
			}
		}
	})
	t.Run("a token of another kind is refused", func(t *testing.T) {
		e := e.with(t)
		_, secret, err := storage.NewTokenService(e.db).CreateToken(t.Context(), e.users["pros"].ID, "app", "phone")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL, strings.NewReader(`{"query":"{ me { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		if r := e.send(req); r.Status != http.StatusUnauthorized {
			t.Fatalf("app password as API token: status %d", r.Status)
		}
	})
}

func TestHTTP(t *testing.T) {
	e := newEnv(t)

	t.Run("GET serves the page with security headers", func(t *testing.T) {
		e := e.with(t)
		res, err := http.Get(e.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!bytes.Contains(body, []byte("<title>Courtside GraphQL</title>")) {
			t.Fatalf("status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'nonce-") ||
			res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" ||
			res.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("headers: %v", res.Header)
		}
		nonce := csp[strings.Index(csp, "'nonce-")+7:]
		nonce = nonce[:strings.IndexByte(nonce, '\'')]
		if !bytes.Contains(body, []byte(`<script nonce="`+nonce+`">`)) || bytes.Contains(body, []byte("{{NONCE}}")) {
			t.Fatal("the page's script does not carry the CSP nonce")
		}
		if bytes.Contains(body, []byte("http://")) || bytes.Contains(body, []byte("https://")) {
			t.Fatal("the page loads something from elsewhere")
		}
	})
	t.Run("GET with a query does not run it", func(t *testing.T) {
		e := e.with(t)
		res, err := http.Get(e.srv.URL + "?query=" + "mutation%7BcreateCourt(input:%7Bname:%22X%22,timeZone:%22UTC%22%7D)%7Bid%7D%7D")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var out struct{ Courts []struct{ ID string } }
		e.gql("admin", `{ courts { id } }`, nil).ok(&out)
		if len(out.Courts) != 0 {
			t.Fatal("a GET ran a mutation")
		}
	})
	t.Run("wrong content type answers 415", func(t *testing.T) {
		e := e.with(t)
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/graphql", "", "application/json; charset=latin1"} {
			r := e.post("admin", ct, []byte(`{"query":"{ me { id } }"}`))
			if r.Status != http.StatusUnsupportedMediaType || r.code() != "INVALID" {
				t.Fatalf("%q: status %d", ct, r.Status)
			}
		}
		e.post("admin", "application/json; charset=utf-8", []byte(`{"query":"{ me { id } }"}`)).ok(nil)
	})
	t.Run("other methods answer 405", func(t *testing.T) {
		e := e.with(t)
		for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			req, _ := http.NewRequest(m, e.srv.URL, strings.NewReader(`{"query":"{ me { id } }"}`))
			req.Header.Set("Content-Type", "application/json")
			r := e.send(req)
			if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") == "" {
				t.Fatalf("%s: status %d", m, r.Status)
			}
		}
	})
	t.Run("a body over the limit answers 413", func(t *testing.T) {
		e := e.with(t)
		query := `{ me { id } }` + strings.Repeat(" ", graph.DefaultMaxBodyBytes)
		body, _ := json.Marshal(map[string]any{"query": query})
		if r := e.post("admin", "application/json", body); r.Status != http.StatusRequestEntityTooLarge || r.code() != "INVALID" {
			t.Fatalf("status %d", r.Status)
		}
		// Without a Content-Length, the limit holds while reading.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL, io.MultiReader(bytes.NewReader(body)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		if r := e.send(req); r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("chunked: status %d", r.Status)
		}
	})
	t.Run("malformed bodies answer 400", func(t *testing.T) {
		e := e.with(t)
		for _, body := range []string{`{`, `[{"query":"{ me { id } }"}]`, `{"query":""}`, `{"query":"{ me { id } }"} {}`, `{"query": 5}`} {
			if r := e.post("admin", "application/json", []byte(body)); r.Status != http.StatusBadRequest || r.code() != "INVALID" {
				t.Fatalf("%s: status %d, %+v", body, r.Status, r.Errors)
			}
		}
	})
	t.Run("parse and validation errors are INVALID", func(t *testing.T) {
		e := e.with(t)
		for _, q := range []string{`{ me { id }`, `{ me { nope } }`, `{ hearing { id } }`, `query($x: Int) { me { id } }`, `subscription { me { id } }`} {
			r := e.gql("admin", q, nil).fails("INVALID")
			if r.Data != nil {
				t.Fatalf("%s: data %s", q, r.Data)
			}
		}
	})
	t.Run("bad variables are INVALID naming the variable", func(t *testing.T) {
		e := e.with(t)
		e.gql("admin", `query($id: ID!) { hearing(id: $id) { id } }`, nil).fails("INVALID", "id")
		e.gql("pros", `mutation($in: PostHearingInput!) { postHearing(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"caseId": "1", "kind": "PICNIC", "startsAt": start1, "endsAt": end1}}).
			fails("INVALID", "in.kind")
		e.gql("admin", `query A { me { id } } query B { me { id } }`, nil).fails("INVALID")
	})
	t.Run("JSON answers are not cached", func(t *testing.T) {
		e := e.with(t)
		r := e.gql("admin", `{ me { id } }`, nil).ok(nil)
		if r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("headers: %v", r.Header)
		}
	})
}

func TestLimits(t *testing.T) {
	e := newEnv(t)

	t.Run("too deep", func(t *testing.T) {
		e := e.with(t)
		// hearing(1) case(2) hearings(3) case(4) ... id: depth 14 > 12.
		q := `{ hearing(id: "1") { case { hearings { case { hearings { case { hearings { case { hearings { case { hearings { case { hearings { id } } } } } } } } } } } } } }`
		r := e.gql("pros", q, nil).fails("INVALID")
		if r.Errors[0].Extensions["rule"] != "depth" {
			t.Fatalf("%+v", r.Errors)
		}
		// The same depth hidden in fragments.
		q = `{ hearing(id: "1") { ...A } }
fragment A on Hearing { case { hearings { ...B } } }
fragment B on Hearing { case { hearings { ...C } } }
fragment C on Hearing { case { hearings { ...D } } }
fragment D on Hearing { case { hearings { ...E } } }
fragment E on Hearing { case { hearings { ...F } } }
fragment F on Hearing { case { hearings { id } } }`
		if r := e.gql("pros", q, nil).fails("INVALID"); r.Errors[0].Extensions["rule"] != "depth" {
			t.Fatalf("%+v", r.Errors)
		}
		// Brackets nested far beyond any limit are refused before parsing.
		q = "{" + strings.Repeat("a {", 100000) + strings.Repeat("}", 100001)
		if r := e.gql("pros", q, nil).fails("INVALID"); r.Errors[0].Extensions["rule"] != "depth" {
			t.Fatalf("%+v", r.Errors)
		}
		// Twelve levels are fine (each list of one, for the budget of returned objects).
		e.gql("pros", `{ hearing(id: "1") { case { hearings(first: 1) { case { hearings(first: 1) { case { hearings(first: 1) { case { hearings(first: 1) { case { hearings(first: 1) { id } } } } } } } } } } } }`, nil).
			fails("NOT_FOUND")
	})
	t.Run("too many aliases", func(t *testing.T) {
		e := e.with(t)
		var b strings.Builder
		b.WriteString("{ ")
		for i := 0; i < 31; i++ {
			b.WriteString("a")
			b.WriteString(strings.Repeat("x", i))
			b.WriteString(": me { id } ")
		}
		b.WriteString("}")
		r := e.gql("pros", b.String(), nil).fails("INVALID")
		if r.Errors[0].Extensions["rule"] != "aliases" {
			t.Fatalf("%+v", r.Errors)
		}
		// Aliases multiplied through fragments count as expanded.
		q := `{ a: me { ...U } b: me { ...U } c: me { ...U } d: me { ...U } }
fragment U on User { a: id b: id c: id d: id e: id f: id g: id h: id }`
		if r := e.gql("pros", q, nil).fails("INVALID"); r.Errors[0].Extensions["rule"] != "aliases" {
			t.Fatalf("%+v", r.Errors)
		}
		e.gql("pros", `{ a: me { id } b: me { id } }`, nil).ok(nil)
	})
	t.Run("fragment cycles are refused before graphql-go's rules see them", func(t *testing.T) {
		e := e.with(t)
		for _, q := range []string{
			`{ a: me { ...F } } fragment F on User { ...F }`,
			`{ me { ...F } } fragment F on User { id ...G } fragment G on User { ...F }`,
			`{ me { id } } fragment F on User { organization { ... on Organization { name } } ...G } fragment G on User { ...F }`,
		} {
			if r := e.gql("pros", q, nil).fails("INVALID"); r.Errors[0].Extensions["rule"] != "fragments" {
				t.Fatalf("%s: %+v", q, r.Errors)
			}
		}
	})
	t.Run("fragments that fan out are refused by cost", func(t *testing.T) {
		e := e.with(t)
		var b strings.Builder
		b.WriteString("{ me { ...F0 } }\n")
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, "fragment F%d on User { ...F%d ...G%d }\nfragment G%d on User { ...F%d }\n", i, i+1, i+1, i+1, i+1)
		}
		b.WriteString("fragment F20 on User { id }\n")
		if r := e.gql("pros", b.String(), nil).fails("INVALID"); r.Errors[0].Extensions["rule"] != "cost" {
			t.Fatalf("%+v", r.Errors)
		}
	})
	t.Run("introspection is off by default", func(t *testing.T) {
		e := e.with(t)
		r := e.gql("pros", `{ __schema { types { name } } }`, nil).fails("INVALID")
		if r.Errors[0].Extensions["rule"] != "introspection" {
			t.Fatalf("%+v", r.Errors)
		}
		e.gql("pros", `{ __type(name: "Hearing") { name } }`, nil).fails("INVALID")
		e.gql("pros", `{ me { __typename } }`, nil).ok(nil)
	})
	t.Run("introspection when switched on, within the limits", func(t *testing.T) {
		e := newEnv(t, func(c *graph.Config) { c.Introspection = true })
		var out struct {
			Schema struct {
				Types []struct{ Name string }
			} `json:"__schema"`
		}
		e.gql("", introspectionQuery, nil).ok(&out)
		names := map[string]bool{}
		for _, ty := range out.Schema.Types {
			names[ty.Name] = true
		}
		for _, want := range []string{"Query", "Mutation", "Hearing", "HearingConnection", "Victim", "DateTime", "HearingKind", "PostHearingInput"} {
			if !names[want] {
				t.Errorf("introspection lacks %s", want)
			}
		}
		// Lists of __Type nested three deep multiply the answer: refused.
		r := e.gql("", `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`, nil).fails("INVALID")
		if r.Errors[0].Extensions["rule"] != "depth" {
			t.Fatalf("%+v", r.Errors)
		}
		e.gql("", `{ __schema { types { fields { type { fields { name } } } } } }`, nil).ok(nil)
	})
}

// introspectionQuery is GraphiQL's introspection query.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

func TestInternalErrors(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, func(c *graph.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	// Tokens are checked on a second connection to the same file; the first one's readers are
	// closed, so that every read a resolver makes fails inside storage.
	db2 := storage.NewDB(e.db.Path)
	db2.Sealer = e.db.Sealer
	if err := db2.Open(); err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	e2 := newEnvOn(e, func(c *graph.Config) {
		c.Tokens = storage.NewTokenService(db2)
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	e.db.Reader.Close()

	r := e2.gql("admin", `{ courts { id } }`, nil).fails("INTERNAL")
	if r.Errors[0].Message != "Internal error." || strings.Contains(r.Errors[0].Message, "sql") {
		t.Fatalf("message: %q", r.Errors[0].Message)
	}
	if !strings.Contains(logs.String(), "database is closed") {
		t.Fatalf("the real error was not logged: %s", logs.String())
	}
	// Authentication failing inside storage is a 500, not a 401.
	r = e.gql("admin", `{ me { id } }`, nil)
	if r.Status != http.StatusInternalServerError || r.code() != "INTERNAL" || r.Errors[0].Message != "Internal error." {
		t.Fatalf("status %d, %+v", r.Status, r.Errors)
	}
}

// TestWebSocketUpgradeWithoutHub: with no live feed configured, an upgrade answers 501.
func TestWebSocketUpgradeWithoutHub(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL, nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotImplemented {
		t.Fatalf("status %d", res.StatusCode)
	}
}

// FuzzOperation posts arbitrary documents and variables: the answer is always JSON with a
// known status, and every error carries one of the documented codes and is never INTERNAL.
func FuzzOperation(f *testing.F) {
	f.Add(`{ me { id username } }`, `{}`)
	f.Add(`query($id: ID!) { hearing(id: $id) { id case { docket victims { victim { legalName } } } history { at } } }`, `{"id":"1"}`)
	f.Add(`mutation($in: PostHearingInput!) { postHearing(input: $in) { id } }`, `{"in":{"caseId":"1","kind":"TRIAL","startsAt":"x","endsAt":5}}`)
	f.Add(`{ hearings(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z", first: 3, after: "aDE6") { endCursor } }`, `null`)
	f.Add(`{ a: me { ...F } } fragment F on User { ...F }`, `{}`)
	f.Add(`{ __schema { types { name } } }`, `{}`)
	f.Add(`"""block "" string""" { me { id } } # comment {{{`, `{}`)
	f.Add(`subscription { me { id } }`, `[]`)
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, query, variables string) {
		e := e.with(t)
		body, _ := json.Marshal(map[string]any{"query": query, "variables": json.RawMessage(variables)})
		if !json.Valid([]byte(variables)) {
			body, _ = json.Marshal(map[string]any{"query": query})
		}
		started := time.Now()
		r := e.post("admin", "application/json", body)
		if d := time.Since(started); d > 2*time.Second {
			t.Fatalf("%v for %q", d, query)
		}
		switch r.Status {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q", r.Status, query)
		}
		for _, ge := range r.Errors {
			switch code := ge.Extensions["code"]; code {
			case "INVALID", "NOT_FOUND", "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN":
			default:
				t.Fatalf("code %v (%q) for %q", code, ge.Message, query)
			}
		}
	})
}
