package graph

import (
	"fmt"

	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
	"github.com/graphql-go/graphql/language/kinds"
	"github.com/graphql-go/graphql/language/parser"
	"github.com/graphql-go/graphql/language/source"
	"github.com/graphql-go/graphql/language/visitor"
)

// graphql-go has no depth, alias or cost limits of its own. These validation rules run on the
// operation as executed: fragments are expanded, with their results memoised. They run in a
// pass of their own BEFORE the specification's rules, because in v0.8.1 those are not safe on
// every document: OverlappingFieldsCanBeMergedRule recurses without end on a fragment that
// spreads itself (a stack overflow kills the process; NoFragmentCyclesRule reports the cycle
// only beside it), and walks every path through nested fragment spreads.

// limitError reports a refused document; its code is INVALID and rule names the limit.
func limitError(ctx *graphql.ValidationContext, rule string, node ast.Node, format string, args ...interface{}) {
	var nodes []ast.Node
	if node != nil {
		nodes = []ast.Node{node}
	}
	e := &Error{Code: CodeInvalid, Rule: rule, Message: fmt.Sprintf(format, args...)}
	ctx.ReportError(gqlerrors.NewError(e.Message, nodes, "", nil, []int{}, e))
}

// measure is what the limits look at in one operation, with fragments expanded.
type measure struct {
	depth   int // the longest path of nested fields; a root field is at depth 1
	aliases int // aliased fields
	fields  int // field selections
	// typeLists is the most list fields of __Type (fields, interfaces, possibleTypes,
	// inputFields) on one path inside __schema or __type. Introspection is not held to
	// depth, whose ofType chains are long but single, but to this, as graphql-js's
	// MaxIntrospectionDepthRule does: each such list multiplies the answer.
	typeLists int
}

// maxTypeLists is the refused number of nested __Type lists, as in graphql-js.
const maxTypeLists = 3

// typeListFields are the list fields of __Type that lead back to __Type.
var typeListFields = map[string]bool{"fields": true, "interfaces": true, "possibleTypes": true, "inputFields": true}

// saturate bounds counts so that pathological fragment reuse cannot overflow them.
const saturate = 1 << 40

func (m *measure) add(o measure) {
	m.aliases = min(m.aliases+o.aliases, saturate)
	m.fields = min(m.fields+o.fields, saturate)
	m.depth = max(m.depth, o.depth)
	m.typeLists = max(m.typeLists, o.typeLists)
}

// measurer measures selection sets of one document, memoising fragments.
type measurer struct {
	fragments map[string]*ast.FragmentDefinition
	memo      map[fragmentKey]measure
	visiting  map[fragmentKey]bool
	// cycle names a fragment that spreads itself, directly or not.
	cycle string
}

// fragmentKey is a fragment measured inside introspection or outside it.
type fragmentKey struct {
	name          string
	introspection bool
}

// newMeasurer returns a measurer for the fragments of doc.
func newMeasurer(doc *ast.Document) *measurer {
	m := &measurer{fragments: map[string]*ast.FragmentDefinition{}, memo: map[fragmentKey]measure{}, visiting: map[fragmentKey]bool{}}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok && f.Name != nil {
			m.fragments[f.Name.Value] = f
		}
	}
	return m
}

// selectionSet measures set; introspection is true inside __schema and __type.
func (m *measurer) selectionSet(set *ast.SelectionSet, introspection bool) measure {
	var total measure
	if set == nil {
		return total
	}
	for _, sel := range set.Selections {
		switch sel := sel.(type) {
		case *ast.Field:
			name := ""
			if sel.Name != nil {
				name = sel.Name.Value
			}
			inner := introspection || name == "__schema" || name == "__type"
			sub := m.selectionSet(sel.SelectionSet, inner)
			if inner {
				sub.depth = 0
				if introspection && typeListFields[name] {
					sub.typeLists++
				}
			}
			sub.depth++
			sub.fields = min(sub.fields+1, saturate)
			if sel.Alias != nil && sel.Alias.Value != "" {
				sub.aliases = min(sub.aliases+1, saturate)
			}
			total.add(sub)
		case *ast.InlineFragment:
			total.add(m.selectionSet(sel.SelectionSet, introspection))
		case *ast.FragmentSpread:
			if sel.Name != nil {
				sub := m.fragment(fragmentKey{sel.Name.Value, introspection})
				sub.fields = min(sub.fields+1, saturate) // a spread costs like a field
				total.add(sub)
			}
		}
	}
	return total
}

// fragment measures the fragment k once, and notes a fragment that spreads itself.
func (m *measurer) fragment(k fragmentKey) measure {
	if r, ok := m.memo[k]; ok {
		return r
	}
	f, ok := m.fragments[k.name]
	if !ok {
		return measure{}
	}
	if m.visiting[k] {
		m.cycle = k.name
		return measure{}
	}
	m.visiting[k] = true
	r := m.selectionSet(f.SelectionSet, k.introspection)
	delete(m.visiting, k)
	m.memo[k] = r
	return r
}

// limitsRule refuses operations nested deeper than maxDepth (introspection aside: see
// measure.typeLists), with more than maxAliases aliased fields, or with more than maxFields
// field selections (a simple cost bound), counted with fragments expanded.
func limitsRule(maxDepth, maxAliases, maxFields int) graphql.ValidationRuleFn {
	return func(ctx *graphql.ValidationContext) *graphql.ValidationRuleInstance {
		return &graphql.ValidationRuleInstance{VisitorOpts: &visitor.VisitorOptions{
			KindFuncMap: map[string]visitor.NamedVisitFuncs{
				kinds.Document: {Kind: func(p visitor.VisitFuncParams) (string, interface{}) {
					doc, ok := p.Node.(*ast.Document)
					if !ok {
						return visitor.ActionNoChange, nil
					}
					m := newMeasurer(doc)
					for _, def := range doc.Definitions {
						if f, ok := def.(*ast.FragmentDefinition); ok && f.Name != nil {
							if m.fragment(fragmentKey{f.Name.Value, false}); m.cycle != "" {
								limitError(ctx, "fragments", f, "Fragment %q spreads itself.", m.cycle)
								return visitor.ActionBreak, nil
							}
						}
					}
					for _, def := range doc.Definitions {
						op, ok := def.(*ast.OperationDefinition)
						if !ok {
							continue
						}
						r := m.selectionSet(op.SelectionSet, false)
						switch {
						case r.depth > maxDepth:
							limitError(ctx, "depth", op, "The operation is nested %d levels deep; the limit is %d.", r.depth, maxDepth)
						case r.aliases > maxAliases:
							limitError(ctx, "aliases", op, "The operation uses %d aliases; the limit is %d.", r.aliases, maxAliases)
						case r.typeLists >= maxTypeLists:
							limitError(ctx, "depth", op, "The operation nests the lists of __Type %d deep; the limit is %d.", r.typeLists, maxTypeLists-1)
						case r.fields > maxFields:
							limitError(ctx, "cost", op, "The operation selects %d fields; the limit is %d.", r.fields, maxFields)
						}
					}
					return visitor.ActionNoChange, nil
				}},
			},
		}}
	}
}

// parseDocument parses a GraphQL document, and refuses what graphql-go's parser lets through
// but its validator cannot walk: a variable definition without a type (`query($id:) {...}`),
// on which ValidateDocument dereferences nil.
func parseDocument(query string) (*ast.Document, []gqlerrors.FormattedError) {
	doc, err := parser.Parse(parser.ParseParams{Source: source.NewSource(&source.Source{
		Body: []byte(query), Name: "GraphQL request",
	})})
	if err != nil {
		fe := gqlerrors.FormatError(err)
		fe.Extensions = map[string]interface{}{"code": CodeInvalid}
		return nil, []gqlerrors.FormattedError{fe}
	}
	for _, def := range doc.Definitions {
		op, ok := def.(*ast.OperationDefinition)
		if !ok {
			continue
		}
		for _, v := range op.VariableDefinitions {
			if v == nil || v.Variable == nil || v.Variable.Name == nil || !typeComplete(v.Type) {
				return nil, []gqlerrors.FormattedError{formatted(&Error{Code: CodeInvalid, Rule: "variables",
					Message: "Every variable needs a type, such as $id: ID!."})}
			}
		}
	}
	return doc, nil
}

// typeComplete reports whether a variable's type names a type at every level: graphql-go's
// parser accepts `$a: !` and `$a: [ ]`, leaving a nil inside.
func typeComplete(t ast.Type) bool {
	switch t := t.(type) {
	case *ast.Named:
		return t != nil && t.Name != nil
	case *ast.NonNull:
		return t != nil && typeComplete(t.Type)
	case *ast.List:
		return t != nil && typeComplete(t.Type)
	}
	return false
}

// validate runs our limits, then the specification's rules (only on documents the limits
// passed). Every error carries extensions.code. graphql-go's parser lets through malformed
// documents on which its validator dereferences nil; a panic while validating is therefore the
// document's fault, and answers INVALID rather than INTERNAL.
func (h *handler) validate(doc *ast.Document) (errs []gqlerrors.FormattedError) {
	defer func() {
		if r := recover(); r != nil {
			errs = []gqlerrors.FormattedError{formatted(&Error{Code: CodeInvalid, Rule: "document",
				Message: "The document is malformed."})}
		}
	}()
	for _, rules := range [][]graphql.ValidationRuleFn{h.limits, graphql.SpecifiedRules} {
		if vr := graphql.ValidateDocument(&h.schema, doc, rules); !vr.IsValid {
			for i, fe := range vr.Errors {
				if _, ok := fe.Extensions["code"]; !ok {
					fe.Extensions = map[string]interface{}{"code": CodeInvalid}
				}
				vr.Errors[i] = fe
			}
			return vr.Errors
		}
	}
	return nil
}

// noIntrospectionRule refuses __schema and __type when introspection is switched off.
// __typename stays allowed.
func noIntrospectionRule(ctx *graphql.ValidationContext) *graphql.ValidationRuleInstance {
	return &graphql.ValidationRuleInstance{VisitorOpts: &visitor.VisitorOptions{
		KindFuncMap: map[string]visitor.NamedVisitFuncs{
			kinds.Field: {Kind: func(p visitor.VisitFuncParams) (string, interface{}) {
				if f, ok := p.Node.(*ast.Field); ok && f.Name != nil && (f.Name.Value == "__schema" || f.Name.Value == "__type") {
					limitError(ctx, "introspection", f, "Introspection is switched off on this server.")
				}
				return visitor.ActionNoChange, nil
			}},
		},
	}}
}

// nestingOK reports whether the brackets of a GraphQL document nest at most limit deep,
// outside strings and comments. It runs before the recursive-descent parser, so that a
// document of a million "{" cannot exhaust the stack.
func nestingOK(doc string, limit int) bool {
	depth := 0
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; c {
		case '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
		case '"':
			if i+2 < len(doc) && doc[i+1] == '"' && doc[i+2] == '"' { // block string
				i += 3
				for i < len(doc) {
					if doc[i] == '\\' && i+3 < len(doc) && doc[i+1:i+4] == `"""` {
						i += 4
						continue
					}
					if i+2 < len(doc) && doc[i:i+3] == `"""` {
						i += 2
						break
					}
					i++
				}
				continue
			}
			for i++; i < len(doc) && doc[i] != '"' && doc[i] != '\n'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
		case '{', '[', '(':
			depth++
			if depth > limit {
				return false
			}
		case '}', ']', ')':
			depth--
		}
	}
	return true
}
