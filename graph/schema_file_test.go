package graph

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/parser"
)

// updateSchema rewrites docs/schema.graphql from the code: go test ./graph -run TestSchemaFile -update
var updateSchema = flag.Bool("update", false, "rewrite docs/schema.graphql from the schema the code builds")

// schemaFile is the schema's text in the documentation.
const schemaFile = "../docs/schema.graphql"

// TestSchemaFile: docs/schema.graphql is the schema the service serves, in the GraphQL schema
// language; the test fails when they drift, and says how to regenerate the file.
func TestSchemaFile(t *testing.T) {
	schema, err := (&server{}).newSchema()
	if err != nil {
		t.Fatal(err)
	}
	want := printSchema(schema)
	if *updateSchema {
		if err := os.WriteFile(schemaFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil || string(got) != want {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(want, "\n")
		line := 0
		for line < len(gotLines) && line < len(wantLines) && gotLines[line] == wantLines[line] {
			line++
		}
		t.Fatalf("docs/schema.graphql differs from the schema the code builds (first at line %d: file %q, code %q); "+
			"regenerate it with:\n  go test ./graph -run TestSchemaFile -update", line+1, at(gotLines, line), at(wantLines, line))
	}
}

// at returns lines[i], or "" past the end.
func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}

// TestPrintSchema: the printer renders each kind of type, and every type of the schema
// appears in the text.
func TestPrintSchema(t *testing.T) {
	schema, err := (&server{}).newSchema()
	if err != nil {
		t.Fatal(err)
	}
	text := printSchema(schema)
	if _, err := parser.Parse(parser.ParseParams{Source: text}); err != nil {
		t.Fatalf("the printed schema does not parse: %v", err)
	}
	for name, typ := range schema.TypeMap() {
		if builtinType(name) {
			continue
		}
		kind := "type"
		switch typ.(type) {
		case *graphql.Enum:
			kind = "enum"
		case *graphql.InputObject:
			kind = "input"
		case *graphql.Scalar:
			kind = "scalar"
		case *graphql.Interface:
			kind = "interface"
		case *graphql.Union:
			kind = "union"
		}
		if !strings.Contains(text, "\n"+kind+" "+name+" ") && !strings.Contains(text, "\n"+kind+" "+name+"\n") {
			t.Errorf("%s %s is missing from the printed schema", kind, name)
		}
	}
	for _, want := range []string{"schema {\n  query: Query\n  mutation: Mutation\n  subscription: Subscription\n}",
		"  hearings(", "enum HearingKind {\n", "  ARRAIGNMENT\n", "scalar DateTime"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed schema lacks %q", want)
		}
	}
}

// builtinType reports the types every GraphQL schema has.
func builtinType(name string) bool {
	switch name {
	case "String", "Int", "Float", "Boolean", "ID":
		return true
	}
	return strings.HasPrefix(name, "__")
}

// printSchema renders schema in the GraphQL schema language: the root operation types, then
// every type by name, fields and values in name order, descriptions as block strings.
func printSchema(schema graphql.Schema) string {
	var b strings.Builder
	b.WriteString("# The Courtside GraphQL schema, generated from the code by\n")
	b.WriteString("#   go test ./graph -run TestSchemaFile -update\n")
	b.WriteString("# Do not edit: graph.TestSchemaFile fails when this file and the code differ.\n\n")
	b.WriteString("schema {\n")
	fmt.Fprintf(&b, "  query: %s\n", schema.QueryType().Name())
	if m := schema.MutationType(); m != nil {
		fmt.Fprintf(&b, "  mutation: %s\n", m.Name())
	}
	if s := schema.SubscriptionType(); s != nil {
		fmt.Fprintf(&b, "  subscription: %s\n", s.Name())
	}
	b.WriteString("}\n")
	var names []string
	for name := range schema.TypeMap() {
		if !builtinType(name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		b.WriteString("\n")
		switch t := schema.TypeMap()[name].(type) {
		case *graphql.Scalar:
			description(&b, "", t.Description())
			fmt.Fprintf(&b, "scalar %s\n", name)
		case *graphql.Enum:
			description(&b, "", t.Description())
			fmt.Fprintf(&b, "enum %s {\n", name)
			values := append([]*graphql.EnumValueDefinition(nil), t.Values()...)
			sort.Slice(values, func(i, j int) bool { return values[i].Name < values[j].Name })
			for _, v := range values {
				description(&b, "  ", v.Description)
				fmt.Fprintf(&b, "  %s%s\n", v.Name, deprecated(v.DeprecationReason))
			}
			b.WriteString("}\n")
		case *graphql.InputObject:
			description(&b, "", t.Description())
			fmt.Fprintf(&b, "input %s {\n", name)
			fields := t.Fields()
			for _, fname := range sortedKeys(fields) {
				f := fields[fname]
				description(&b, "  ", f.Description())
				fmt.Fprintf(&b, "  %s: %s%s\n", fname, f.Type, defaultValue(f.DefaultValue))
			}
			b.WriteString("}\n")
		case *graphql.Object:
			description(&b, "", t.Description())
			fmt.Fprintf(&b, "type %s%s {\n", name, implements(t.Interfaces()))
			printFields(&b, t.Fields())
			b.WriteString("}\n")
		case *graphql.Interface:
			description(&b, "", t.Description())
			fmt.Fprintf(&b, "interface %s {\n", name)
			printFields(&b, t.Fields())
			b.WriteString("}\n")
		case *graphql.Union:
			description(&b, "", t.Description())
			var members []string
			for _, o := range t.Types() {
				members = append(members, o.Name())
			}
			fmt.Fprintf(&b, "union %s = %s\n", name, strings.Join(members, " | "))
		}
	}
	return b.String()
}

// printFields renders the fields of an object or interface, with their arguments.
func printFields(b *strings.Builder, fields graphql.FieldDefinitionMap) {
	for _, name := range sortedKeys(fields) {
		f := fields[name]
		description(b, "  ", f.Description)
		args := ""
		if len(f.Args) > 0 {
			var parts []string
			sorted := append([]*graphql.Argument(nil), f.Args...)
			sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name() < sorted[j].Name() })
			for _, a := range sorted {
				part := a.Name() + ": " + a.Type.String() + defaultValue(a.DefaultValue)
				if d := a.Description(); d != "" {
					part = fmt.Sprintf("%q ", d) + part
				}
				parts = append(parts, part)
			}
			args = "(" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintf(b, "  %s%s: %s%s\n", name, args, f.Type, deprecated(f.DeprecationReason))
	}
}

// description writes a description as a block string at indent.
func description(b *strings.Builder, indent, d string) {
	d = strings.TrimSpace(d)
	if d == "" {
		return
	}
	d = strings.ReplaceAll(d, `"""`, `\"""`)
	if !strings.Contains(d, "\n") {
		fmt.Fprintf(b, "%s\"\"\"%s\"\"\"\n", indent, d)
		return
	}
	fmt.Fprintf(b, "%s\"\"\"\n", indent)
	for _, line := range strings.Split(d, "\n") {
		fmt.Fprintf(b, "%s%s\n", indent, line)
	}
	fmt.Fprintf(b, "%s\"\"\"\n", indent)
}

// deprecated renders a deprecation directive.
func deprecated(reason string) string {
	if reason == "" {
		return ""
	}
	return fmt.Sprintf(" @deprecated(reason: %q)", reason)
}

// defaultValue renders " = value", or "" for none.
func defaultValue(v interface{}) string {
	if v == nil {
		return ""
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(" = %v", v)
	}
	return " = " + string(raw)
}

// implements renders an object's interfaces.
func implements(ifaces []*graphql.Interface) string {
	if len(ifaces) == 0 {
		return ""
	}
	var names []string
	for _, i := range ifaces {
		names = append(names, i.Name())
	}
	return " implements " + strings.Join(names, " & ")
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
