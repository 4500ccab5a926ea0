package graph_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"courtside/graph"
)

// typeRef is an introspected type reference.
type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

// named unwraps NON_NULL and LIST.
func (t *typeRef) named() *typeRef {
	for t.OfType != nil && (t.Kind == "NON_NULL" || t.Kind == "LIST") {
		t = t.OfType
	}
	return t
}

type introField struct {
	Name string  `json:"name"`
	Type typeRef `json:"type"`
	Args []struct {
		Name string  `json:"name"`
		Type typeRef `json:"type"`
	} `json:"args"`
}

type introType struct {
	Name   string       `json:"name"`
	Kind   string       `json:"kind"`
	Fields []introField `json:"fields"`
}

// victimFieldClass says who may see each field of Victim: "victim" for anyone who may see the
// victim at all (by pseudonym), "pii" only for the victim's own coordinators and accompanying
// advocates. A new Victim field fails the test until it is classified here.
var victimFieldClass = map[string]string{
	"id": "victim", "pseudonym": "victim", "preferredLanguage": "victim",
	"legalName": "pii", "contacts": "pii", "policy": "pii",
}

// TestRedactionMatrix walks the schema by introspection, finds every path from a root query
// field to a Victim, and for every role asks each path for every Victim field: a role that
// may not see the victim gets no Victim object and never the pseudonym; one that may not see
// PII gets null for every PII field; no answer to such a role carries the legal name or a
// contact address anywhere.
func TestRedactionMatrix(t *testing.T) {
	e := newEnv(t, func(c *graph.Config) { c.Introspection = true })
	f := e.setUp()
	const legal, phone, pseudonym = "Matrixlegal Sentinelname", "+12025550177", "V-MATRIX-9"
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"pseudonym": pseudonym, "legalName": legal, "preferredLanguage": "es",
		"contacts": []any{map[string]any{"channel": "SMS", "address": phone}}}}).ok(&v)
	e.share("pros", f.caseID, "Safe Harbor")
	e.gql("coord", `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": f.caseID, "v": v.RegisterVictim.ID}).ok(nil)
	e.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": f.hearingID, "v": v.RegisterVictim.ID, "a": fmt.Sprint(e.users["adv"].ID)}).ok(nil)
	// The victim releases the pseudonym to the office (TestShare_OfficeSeesCountWithoutRelease
	// covers the office without one).
	e.release("coord", v.RegisterVictim.ID, "County Prosecutor")
	var b struct{ RequestInterpreter struct{ ID string } }
	e.requestInterpreter("coord", f.hearingID, "es", nil).ok(&b)
	e.respond("interp", b.RequestInterpreter.ID, true, nil).ok(nil)

	types := introspect(t, e)
	victim := types["Victim"]
	var selection []string
	for _, fld := range victim.Fields {
		class, ok := victimFieldClass[fld.Name]
		if !ok {
			t.Fatalf("Victim.%s is not classified in victimFieldClass: say who may see it", fld.Name)
		}
		_ = class
		selection = append(selection, fld.Name+leafSelection(types, &fld.Type))
	}
	victimSel := "{ __typename " + strings.Join(selection, " ") + " }"

	rootArgs := map[string]string{
		"victim":                `(id: "` + v.RegisterVictim.ID + `")`,
		"releases":              `(victimId: "` + v.RegisterVictim.ID + `")`,
		"case":                  `(id: "` + f.caseID + `")`,
		"hearing":               `(id: "` + f.hearingID + `")`,
		"hearings":              `(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z")`,
		"interpreterCandidates": `(hearingId: "` + f.hearingID + `", language: "es")`,
		"coverage":              `(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z")`,
		"conflicts":             `(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z")`,
		"caseloadReport":        `(from: "2030-01-01T00:00:00Z", to: "2031-01-01T00:00:00Z")`,
	}
	paths := victimPaths(t, types, rootArgs, victimSel)
	if len(paths) < 4 {
		t.Fatalf("found only %d paths to Victim: %v", len(paths), paths)
	}
	t.Logf("%d paths reach a Victim", len(paths))

	seesVictim := map[string]bool{"coord": true, "adv": true, "pros": true}
	seesPII := map[string]bool{"coord": true, "adv": true}
	for _, role := range []string{"admin", "pros", "pros2", "coord", "adv", "adv2", "interp"} {
		found := 0
		for _, q := range paths {
			r := e.gql(role, q, nil)
			raw, _ := json.Marshal(r)
			body := string(raw)
			for _, er := range r.Errors {
				if c, _ := er.Extensions["code"].(string); c != "NOT_FOUND" && c != "FORBIDDEN" {
					t.Fatalf("%s: %s answered %s: %s", role, q, c, er.Message)
				}
			}
			if !seesPII[role] && (strings.Contains(body, legal) || strings.Contains(body, phone) || strings.Contains(body, "Sentinelname")) {
				t.Errorf("%s: PII in the answer to %s: %s", role, q, body)
			}
			if !seesVictim[role] && strings.Contains(body, pseudonym) {
				t.Errorf("%s: the pseudonym in the answer to %s: %s", role, q, body)
			}
			var data any
			json.Unmarshal(r.Data, &data)
			for _, obj := range victimsIn(data) {
				found++
				if !seesVictim[role] {
					t.Errorf("%s: a Victim object through %s", role, q)
					continue
				}
				if obj["pseudonym"] != pseudonym {
					t.Errorf("%s: pseudonym %v through %s", role, obj["pseudonym"], q)
				}
				for name, class := range victimFieldClass {
					if class != "pii" {
						continue
					}
					if seesPII[role] && obj[name] == nil {
						t.Errorf("%s: Victim.%s is null through %s, want a value", role, name, q)
					}
					if !seesPII[role] && obj[name] != nil {
						t.Errorf("%s: Victim.%s = %v through %s, want null", role, name, obj[name], q)
					}
				}
				if seesPII[role] && obj["legalName"] != legal {
					t.Errorf("%s: legalName %v", role, obj["legalName"])
				}
			}
		}
		if seesVictim[role] && found == 0 {
			t.Errorf("%s may see the victim but no path returned it", role)
		}
		t.Logf("%s: %d Victim objects over %d paths", role, found, len(paths))
	}
}

// introspect returns the schema's object types by name.
func introspect(t *testing.T, e *env) map[string]introType {
	t.Helper()
	const ref = `kind name ofType { kind name ofType { kind name ofType { kind name } } }`
	var out struct {
		Schema struct {
			Types []introType `json:"types"`
		} `json:"__schema"`
	}
	e.gql("admin", `{ __schema { types { name kind fields { name type { `+ref+` } args { name type { `+ref+` } } } } } }`, nil).ok(&out)
	types := map[string]introType{}
	for _, ty := range out.Schema.Types {
		types[ty.Name] = ty
	}
	if _, ok := types["Victim"]; !ok {
		t.Fatal("no Victim type in the schema")
	}
	return types
}

// leafSelection returns the sub-selection a field needs: none for scalars and enums,
// __typename plus scalar fields for objects.
func leafSelection(types map[string]introType, ref *typeRef) string {
	n := ref.named()
	if n.Kind != "OBJECT" {
		return ""
	}
	var fields []string
	for _, f := range types[n.Name].Fields {
		if k := f.Type.named().Kind; k == "SCALAR" || k == "ENUM" {
			fields = append(fields, f.Name)
		}
	}
	return " { __typename " + strings.Join(fields, " ") + " }"
}

// victimPaths returns one query per path from a root field to a field of type Victim, at most
// five fields deep, never visiting a type twice on one path.
func victimPaths(t *testing.T, types map[string]introType, rootArgs map[string]string, victimSel string) []string {
	var out []string
	var walk func(typeName string, prefix []string, seen map[string]bool)
	walk = func(typeName string, prefix []string, seen map[string]bool) {
		if len(prefix) > 5 {
			return
		}
		for _, f := range types[typeName].Fields {
			n := f.Type.named()
			if n.Kind != "OBJECT" || seen[n.Name] {
				continue
			}
			step := f.Name
			if len(prefix) == 0 {
				if a, ok := rootArgs[f.Name]; ok {
					step += a
				} else {
					for _, arg := range f.Args {
						if arg.Type.Kind == "NON_NULL" {
							t.Fatalf("root field %s needs argument %s: add it to rootArgs", f.Name, arg.Name)
						}
					}
				}
			}
			for _, arg := range f.Args {
				// A few of each list, within the budget of returned objects (one victim here).
				if arg.Name == "first" {
					if strings.HasSuffix(step, ")") {
						step = strings.TrimSuffix(step, ")") + ", first: 5)"
					} else {
						step += "(first: 5)"
					}
				}
			}
			path := append(append([]string{}, prefix...), step)
			if n.Name == "Victim" {
				q := "{ "
				for _, p := range path {
					q += p + " { "
				}
				q = strings.TrimSuffix(q, "{ ") + victimSel + strings.Repeat(" }", len(path))
				out = append(out, q)
				continue
			}
			next := map[string]bool{n.Name: true}
			for k := range seen {
				next[k] = true
			}
			walk(n.Name, path, next)
		}
	}
	walk("Query", nil, map[string]bool{"Query": true})
	sort.Strings(out)
	return out
}

// victimsIn returns every object with __typename Victim in a decoded answer.
func victimsIn(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case map[string]any:
		if v["__typename"] == "Victim" {
			out = append(out, v)
		}
		for _, x := range v {
			out = append(out, victimsIn(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, victimsIn(x)...)
		}
	}
	return out
}
