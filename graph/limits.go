package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"

	"courtside"

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

// Cost by what comes back. The field-selection limit above bounds what a document asks for,
// not what the answer holds: `hearings(first: 20) { edges { case { hearings { case { hearings
// { id } } } } } }` is five fields, and over a case of 300 hearings it answered 1.8 million
// objects. Every list field therefore has a cap (listCaps), and before an operation runs its
// worst case is counted, GitHub's node limit the model: each list holds its `first` argument
// (literal or variable), or its cap when `first` is absent, and the counts multiply down the
// nesting, fragments expanded. An operation whose worst case exceeds Config.MaxNodes is
// refused with INVALID, rule "nodes", before anything runs. The resolvers hold to the same
// caps (capLists), so the count is a true bound.

// listCap bounds one list field.
type listCap struct {
	// max is the most items the field returns: the largest `first` accepted, and the size
	// counted when `first` is absent unless def says otherwise.
	max int
	// def is what a paged connection returns when `first` is absent (0: max).
	def int
	// first says the field takes a `first` argument (1 to max).
	first bool
	// edges says the field returns a connection: one object whose `edges` list holds the
	// items (Query.hearings, Query.auditLog); its resolver applies `first` itself.
	edges bool
}

// size is what the field returns when `first` is absent.
func (c listCap) size() int {
	if c.def > 0 {
		return c.def
	}
	return c.max
}

// listCaps are the caps of the schema's list fields, by "Type.field". A list field missing
// here is capped at defaultListCap; TestEveryListFieldHasACap makes sure none is.
var listCaps = map[string]listCap{
	"Query.hearings":              {max: maxHearingsPage, def: defaultHearingsPage, first: true, edges: true},
	"Query.auditLog":              {max: maxAuditPage, def: defaultAuditPage, first: true, edges: true},
	"Query.courts":                {max: 500, first: true},
	"Query.bookings":              {max: 500, first: true},
	"Query.deliveries":            {max: 500, first: true},
	"Query.coverage":              {max: 500, first: true},
	"Query.conflicts":             {max: 500, first: true},
	"Query.interpreterCandidates": {max: 100, first: true},
	"Query.mySecrets":             {max: courtside.MaxTokensListed, first: true},
	"Query.myCases":               {max: maxListPage, def: defaultListPage, first: true, edges: true},
	"Query.myVictims":             {max: maxListPage, def: defaultListPage, first: true, edges: true},
	"Query.sharedCases":           {max: 500, first: true},
	"Query.caseAccessRequests":    {max: 500, first: true},
	"Query.releases":              {max: 100, first: true},
	"Query.requests":              {max: 500, first: true},
	"Case.hearings":               {max: 100, first: true},
	"Case.victims":                {max: 50, first: true},
	"Hearing.history":             {max: 50, first: true},
	"Hearing.bookings":            {max: 50, first: true},
	"Hearing.accompaniments":      {max: 50, first: true},
	// Lists bounded by what they hold: two clashing hearings; one rule per channel; a
	// victim's contact points and an interpreter's languages, which people enter by hand; a
	// report's rows per court and hearing kind.
	"Conflict.hearings":      {max: 2},
	"ContactPolicy.channels": {max: 8},
	"Victim.contacts":        {max: 20},
	"Interpreter.languages":  {max: 20},
	// The advocacy organisations a case is shared with: a handful per case.
	"Case.shares":         {max: 100},
	"CaseloadReport.rows": {max: 1000},
}

// defaultListCap caps a list field that listCaps does not name.
const defaultListCap = 100

// capOf returns the cap of the list field typeName.field.
func capOf(typeName, field string) listCap {
	if c, ok := listCaps[typeName+"."+field]; ok {
		return c
	}
	return listCap{max: defaultListCap}
}

// withFirst returns args with the `first` argument of the list field typeName.field added.
func withFirst(typeName, field string, args graphql.FieldConfigArgument) graphql.FieldConfigArgument {
	for name, a := range firstArg(typeName, field) {
		args[name] = a
	}
	return args
}

// firstArg returns the `first` argument of the list field typeName.field, described with its
// cap.
func firstArg(typeName, field string) graphql.FieldConfigArgument {
	c := capOf(typeName, field)
	return graphql.FieldConfigArgument{"first": {Type: graphql.Int,
		Description: fmt.Sprintf("How many to return at most, 1 to %d; %d when absent.", c.max, c.size())}}
}

// unwrapList returns the named type of t and whether t is a list.
func unwrapList(t graphql.Type) (graphql.Type, bool) {
	if nn, ok := t.(*graphql.NonNull); ok {
		t = nn.OfType
	}
	l, isList := t.(*graphql.List)
	if isList {
		t = l.OfType
		if nn, ok := t.(*graphql.NonNull); ok {
			t = nn.OfType
		}
	}
	return t, isList
}

// capLists wraps the resolvers of schema's fields that return objects or lists. Each wrapped
// resolver first checks the request (live): once the client has gone or the deadline has
// passed, it resolves nothing more (graphql-go resolves synchronously and has no such check of
// its own), so the work stops within one field. A capped list field refuses a `first` outside
// 1 to its cap (INVALID, field "first") and returns at most that many items.
func capLists(schema *graphql.Schema) {
	connections := connectionTypes(schema)
	for name, t := range schema.TypeMap() {
		obj, ok := t.(*graphql.Object)
		if !ok || strings.HasPrefix(name, "__") {
			continue
		}
		for fieldName, fd := range obj.Fields() {
			named, isList := unwrapList(fd.Type)
			_, isObj := named.(*graphql.Object)
			if !isList && !isObj {
				continue
			}
			resolve := fd.Resolve
			if resolve == nil {
				resolve = graphql.DefaultResolveFn
			}
			c := capOf(name, fieldName)
			if !isList || c.edges || (fieldName == "edges" && connections[name]) {
				fd.Resolve = stopWhenGone(resolve)
				continue
			}
			fd.Resolve = stopWhenGone(capList(c, resolve))
		}
	}
}

// connectionTypes returns the names of the types that fields with a connection cap return:
// their edges are sized by that field's first, which its resolver applies.
func connectionTypes(schema *graphql.Schema) map[string]bool {
	out := map[string]bool{}
	for key, c := range listCaps {
		if !c.edges {
			continue
		}
		typeName, field, _ := strings.Cut(key, ".")
		if obj, ok := schema.Type(typeName).(*graphql.Object); ok {
			if fd := obj.Fields()[field]; fd != nil {
				named, _ := unwrapList(fd.Type)
				out[named.Name()] = true
			}
		}
	}
	return out
}

// capList holds a list resolver to c.
func capList(c listCap, resolve graphql.FieldResolveFn) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (interface{}, error) {
		n := c.size()
		if c.first {
			if v, ok := p.Args["first"].(int); ok {
				if v < 1 || v > c.max {
					return nil, invalid("first", "first must be between 1 and %d.", c.max)
				}
				n = v
			}
		}
		res, err := resolve(p)
		if err != nil || res == nil {
			return res, err
		}
		if v := reflect.ValueOf(res); v.Kind() == reflect.Slice && v.Len() > n {
			return v.Slice(0, n).Interface(), nil
		}
		return res, nil
	}
}

// stopWhenGone runs resolve with the request's own context (live), unless that context has
// ended: then it answers stopped.
func stopWhenGone(resolve graphql.FieldResolveFn) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (interface{}, error) {
		ctx := live(p.Context)
		st := statsOf(ctx)
		if err := ctx.Err(); err != nil {
			if st != nil {
				st.skipped.Add(1)
			}
			return nil, stopped(err)
		}
		if st != nil {
			st.resolved.Add(1)
		}
		p.Context = ctx
		return resolve(p)
	}
}

// liveKey carries the request's own context inside the one graphql-go runs with. graphql-go
// v0.8.1's Execute returns as soon as its context ends but leaves its goroutine resolving the
// rest; the handler therefore gives it a context that never ends, so that Execute returns only
// when the work has stopped, and the resolvers look up the request's.
type liveKey struct{}

// withLive returns a context that never ends, with ctx's values, carrying ctx as the live one.
func withLive(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), liveKey{}, ctx)
}

// live returns the request's own context carried by ctx, or ctx itself.
func live(ctx context.Context) context.Context {
	if l, ok := ctx.Value(liveKey{}).(context.Context); ok {
		return l
	}
	return ctx
}

// requestStats counts, for the log, the resolvers of one request that ran and those that were
// refused because the request had ended.
type requestStats struct {
	resolved, skipped atomic.Int64
}

// statsKey is the context key of a request's stats.
type statsKey struct{}

// statsOf returns the request's stats, or nil.
func statsOf(ctx context.Context) *requestStats {
	st, _ := ctx.Value(statsKey{}).(*requestStats)
	return st
}

// stopped is the error of a field left unresolved because the request ended (err is its
// context's error).
func stopped(err error) *Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "The request ran past its deadline and was stopped; ask for less at a time."}
	}
	return &Error{Code: CodeTimeout, Message: "The request was cancelled."}
}

// nodeCounter counts the worst-case objects of an operation: each object in the answer counts
// once, a list counts its cap (listCaps) times.
type nodeCounter struct {
	schema    *graphql.Schema
	fragments map[string]*ast.FragmentDefinition
	vars      map[string]interface{}
	defaults  map[string]ast.Value // the operation's variables' default values
	memo      map[nodeKey]int64
	visiting  map[nodeKey]bool
}

// nodeKey is a fragment counted on a type, inside a connection of edges items or not.
type nodeKey struct {
	fragment, on string
	edges        int64
}

// countNodes returns the worst-case number of objects op returns with vars, saturating at
// saturate.
func countNodes(schema *graphql.Schema, doc *ast.Document, op *ast.OperationDefinition, vars map[string]interface{}) int64 {
	c := &nodeCounter{schema: schema, fragments: map[string]*ast.FragmentDefinition{}, vars: vars,
		defaults: map[string]ast.Value{}, memo: map[nodeKey]int64{}, visiting: map[nodeKey]bool{}}
	for _, def := range doc.Definitions {
		if f, ok := def.(*ast.FragmentDefinition); ok && f.Name != nil {
			c.fragments[f.Name.Value] = f
		}
	}
	for _, v := range op.VariableDefinitions {
		if v != nil && v.Variable != nil && v.Variable.Name != nil && v.DefaultValue != nil {
			c.defaults[v.Variable.Name.Value] = v.DefaultValue
		}
	}
	var root *graphql.Object
	switch op.Operation {
	case ast.OperationTypeMutation:
		root = schema.MutationType()
	case ast.OperationTypeSubscription:
		root = schema.SubscriptionType()
	default:
		root = schema.QueryType()
	}
	if root == nil {
		return 0
	}
	return c.selectionSet(root, op.SelectionSet, 0)
}

// satAdd and satMul add and multiply counts, saturating at saturate.
func satAdd(a, b int64) int64 { return min(a+b, saturate) }

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > saturate/b {
		return saturate
	}
	return a * b
}

// selectionSet counts the objects under one instance of parent; edges is the size of the
// connection parent is, if it is one.
func (c *nodeCounter) selectionSet(parent *graphql.Object, set *ast.SelectionSet, edges int64) int64 {
	var total int64
	if set == nil || parent == nil {
		return 0
	}
	for _, sel := range set.Selections {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == nil || strings.HasPrefix(sel.Name.Value, "__") {
				continue // __typename is a string; introspection has limits of its own
			}
			fd, ok := parent.Fields()[sel.Name.Value]
			if !ok {
				continue
			}
			named, isList := unwrapList(fd.Type)
			obj, isObj := named.(*graphql.Object)
			if !isObj {
				continue // scalars and enums are not objects
			}
			lc := capOf(parent.Name(), sel.Name.Value)
			n, inner := int64(1), int64(0)
			switch {
			case lc.edges:
				inner = c.size(lc, sel.Arguments)
			case isList && edges > 0 && sel.Name.Value == "edges":
				n = edges
			case isList:
				n = c.size(lc, sel.Arguments)
			}
			total = satAdd(total, satAdd(n, satMul(n, c.selectionSet(obj, sel.SelectionSet, inner))))
		case *ast.InlineFragment:
			on := parent
			if sel.TypeCondition != nil && sel.TypeCondition.Name != nil {
				if o, ok := c.schema.Type(sel.TypeCondition.Name.Value).(*graphql.Object); ok {
					on = o
				}
			}
			total = satAdd(total, c.selectionSet(on, sel.SelectionSet, edges))
		case *ast.FragmentSpread:
			if sel.Name != nil {
				total = satAdd(total, c.fragment(parent, sel.Name.Value, edges))
			}
		}
	}
	return total
}

// fragment counts the fragment name spread on parent, once per parent type and edges.
func (c *nodeCounter) fragment(parent *graphql.Object, name string, edges int64) int64 {
	k := nodeKey{fragment: name, on: parent.Name(), edges: edges}
	if n, ok := c.memo[k]; ok {
		return n
	}
	f, ok := c.fragments[name]
	if !ok || c.visiting[k] {
		return 0 // an unknown fragment or a cycle: the validation rules refuse both
	}
	on := parent
	if f.TypeCondition != nil && f.TypeCondition.Name != nil {
		if o, ok := c.schema.Type(f.TypeCondition.Name.Value).(*graphql.Object); ok {
			on = o
		}
	}
	c.visiting[k] = true
	n := c.selectionSet(on, f.SelectionSet, edges)
	delete(c.visiting, k)
	c.memo[k] = n
	return n
}

// size is the number of items a list field with cap lc returns at most, given its arguments:
// its `first` when that is a number from 1 to the cap, else the cap (a `first` out of range is
// refused when the field resolves).
func (c *nodeCounter) size(lc listCap, arguments []*ast.Argument) int64 {
	n := int64(lc.size())
	if !lc.first {
		return n
	}
	for _, a := range arguments {
		if a == nil || a.Name == nil || a.Name.Value != "first" {
			continue
		}
		v, ok := c.intValue(a.Value)
		if !ok {
			return n
		}
		if v < 1 || v > int64(lc.max) {
			return int64(lc.max)
		}
		return v
	}
	return n
}

// intValue resolves an Int argument's value: a literal, or a variable from the request or its
// default.
func (c *nodeCounter) intValue(v ast.Value) (int64, bool) {
	switch v := v.(type) {
	case *ast.IntValue:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		return n, err == nil
	case *ast.Variable:
		if v.Name == nil {
			return 0, false
		}
		if raw, ok := c.vars[v.Name.Value]; ok && raw != nil {
			switch n := raw.(type) {
			case float64:
				if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
					return 0, false
				}
				return int64(n), true
			case int:
				return int64(n), true
			case int64:
				return n, true
			case json.Number:
				i, err := n.Int64()
				return i, err == nil
			}
			return 0, false
		}
		if d, ok := c.defaults[v.Name.Value]; ok {
			return c.intValue(d)
		}
	}
	return 0, false
}

// nodesError refuses an operation whose worst case is n objects, over limit.
func nodesError(n int64, limit int) *Error {
	worst := fmt.Sprint(n)
	if n >= saturate {
		worst = "more than " + fmt.Sprint(saturate)
	}
	return &Error{Code: CodeInvalid, Rule: "nodes", Message: fmt.Sprintf(
		"The operation could return %s objects; the limit is %d. Ask for fewer items with first, or nest fewer lists.", worst, limit)}
}
