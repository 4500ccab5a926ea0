package graph

import (
	"strings"
	"testing"

	"github.com/graphql-go/graphql"
)

// testSchema builds the schema without services: enough to walk its types.
func testSchema(t *testing.T) graphql.Schema {
	t.Helper()
	schema, err := (&server{}).newSchema()
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// TestEveryListFieldHasACap walks the schema: every list field has its cap in listCaps, a cap
// that takes `first` has that argument (an Int), one that does not has none, and every entry
// of listCaps is a field of the schema; a connection's edges are sized by the field that
// returns the connection.
func TestEveryListFieldHasACap(t *testing.T) {
	schema := testSchema(t)
	seen := map[string]bool{}
	connections := connectionTypes(&schema) // types returned by a field with a connection cap
	for key, c := range listCaps {
		if c.edges {
			typeName, field, _ := strings.Cut(key, ".")
			if obj, ok := schema.Type(typeName).(*graphql.Object); !ok || obj.Fields()[field] == nil {
				t.Errorf("listCaps names %s, which is not a field", key)
				continue
			}
			seen[key] = true
		}
	}
	if !connections["HearingConnection"] || !connections["AuditLogConnection"] {
		t.Errorf("connections %v", connections)
	}
	for name, typ := range schema.TypeMap() {
		obj, ok := typ.(*graphql.Object)
		if !ok || strings.HasPrefix(name, "__") {
			continue
		}
		for field, fd := range obj.Fields() {
			key := name + "." + field
			if _, isList := unwrapList(fd.Type); !isList {
				continue
			}
			if field == "edges" && connections[name] {
				continue
			}
			c, ok := listCaps[key]
			if !ok {
				t.Errorf("%s is a list without a cap: add it to listCaps in graph/limits.go (with first when it can grow without bound)", key)
				continue
			}
			seen[key] = true
			var first *graphql.Argument
			for _, a := range fd.Args {
				if a.Name() == "first" {
					first = a
				}
			}
			switch {
			case c.first && (first == nil || first.Type != graphql.Int):
				t.Errorf("%s is capped by first but has no first: Int argument (use firstArg)", key)
			case !c.first && first != nil:
				t.Errorf("%s has a first argument that its cap ignores", key)
			case c.max < 1 || c.def > c.max:
				t.Errorf("%s: cap %+v", key, c)
			}
		}
	}
	for key := range listCaps {
		if !seen[key] {
			t.Errorf("listCaps names %s, which is not a list field of the schema", key)
		}
	}
}

// TestCountNodes checks the worst-case counts of a few operations by hand: every object counts
// once, a list its first or its cap, multiplied down the nesting.
func TestCountNodes(t *testing.T) {
	schema := testSchema(t)
	const page = `from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z"`
	for _, c := range []struct {
		query string
		vars  map[string]interface{}
		want  int64
	}{
		{`{ me { id username } }`, nil, 1},
		{`{ me { __typename organization { name } } }`, nil, 2},
		// The connection, 20 edges, their 20 cases, 100 hearings each, their cases, 100 each.
		{`{ hearings(` + page + `, first: 20) { edges { case { hearings { case { hearings { id } } } } } } }`, nil,
			1 + 20 + 20 + 20*100 + 20*100 + 20*100*100},
		{`query($n: Int) { hearings(` + page + `, first: $n) { edges { id } } }`, map[string]interface{}{"n": 7.0}, 1 + 7},
		{`query($n: Int = 9) { hearings(` + page + `, first: $n) { edges { id } } }`, nil, 1 + 9},
		{`{ hearings(` + page + `) { edges { id } } }`, nil, 1 + defaultHearingsPage},
		{`{ hearings(` + page + `, first: 100000) { edges { id } } }`, nil, 1 + maxHearingsPage}, // refused when it resolves
		{`{ hearings(` + page + `, first: 2) { edges { ...H ... on Hearing { court { name } } } } }
		  fragment H on Hearing { history(first: 3) { reason } case { victims { attends } } }`, nil,
			1 + 2 + 2*(3+1+50+1)},
		// The nested query of the benchmark: every hearing with its court, history, case, the
		// case's court and victims, accompaniments and bookings.
		{`{ hearings(` + page + `, first: 200) { edges { id court { name } history { reason }
			case { docket court { name } victims { attends victim { pseudonym } } }
			accompaniments { status advocate { username } victim { pseudonym } }
			bookings { status interpreter { name } } } } }`, nil,
			1 + 200 + 200*(1+50+1+1+50*2+50*3+50*2)},
		{`mutation { createAppPassword(label: "x") { id } }`, nil, 1},
	} {
		doc, errs := parseDocument(c.query)
		if errs != nil {
			t.Fatalf("%s: %v", c.query, errs)
		}
		op := selectOperation(doc, "")
		if got := countNodes(&schema, doc, op, c.vars); got != c.want {
			t.Errorf("%s: %d objects, want %d", c.query, got, c.want)
		}
	}
}
