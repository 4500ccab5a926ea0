package graph_test

import (
	"strconv"
	"testing"

	"courtside/graph"
	"courtside/storage"
)

type auditPage struct {
	AuditLog struct {
		Edges []struct {
			ID, At, Action, Object, Outcome string
			Actor                           *string
		}
		EndCursor   *string
		HasNextPage bool
	}
}

const auditLogQuery = `query($first: Int, $after: String) { auditLog(first: $first, after: $after) {
  edges { id at actor action object outcome } endCursor hasNextPage } }`

// TestAuditLog_AdminOnly shows that Query.auditLog pages through the audit log newest first for
// an admin, with each actor's username, and answers FORBIDDEN (audited) to every other role.
func TestAuditLog_AdminOnly(t *testing.T) {
	base := newEnv(t)
	e := newEnvOn(base, func(c *graph.Config) { c.AuditLog = storage.NewAuditService(base.db) })
	e.setUp() // createCourt as admin, openCase and postHearing as pros: audit rows

	for _, user := range []string{"coord", "adv", "pros", "interp"} {
		e.gql(user, auditLogQuery, nil).fails(graph.CodeForbidden)
	}
	e.gql("", auditLogQuery, nil).fails(graph.CodeUnauthenticated)
	e.gql("admin", auditLogQuery, map[string]any{"first": 0}).fails(graph.CodeInvalid, "first")
	e.gql("admin", auditLogQuery, map[string]any{"after": "x"}).fails(graph.CodeInvalid, "after")

	// Page through everything, two at a time.
	var all []string
	seen := map[string]bool{}
	var after any
	actors := map[string]bool{}
	var deniedCoord bool
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("auditLog does not end")
		}
		var p auditPage
		e.gql("admin", auditLogQuery, map[string]any{"first": 2, "after": after}).ok(&p)
		if len(p.AuditLog.Edges) > 2 {
			t.Fatalf("page of %d entries, asked for 2", len(p.AuditLog.Edges))
		}
		for _, ed := range p.AuditLog.Edges {
			if seen[ed.ID] {
				t.Fatalf("entry %s on two pages", ed.ID)
			}
			seen[ed.ID] = true
			if len(all) > 0 {
				prev, _ := strconv.Atoi(all[len(all)-1])
				cur, _ := strconv.Atoi(ed.ID)
				if cur >= prev {
					t.Fatalf("entries not newest first: %s after %s", ed.ID, all[len(all)-1])
				}
			}
			all = append(all, ed.ID)
			if ed.At == "" || ed.Action == "" || ed.Object == "" || ed.Outcome == "" {
				t.Errorf("incomplete entry %+v", ed)
			}
			if ed.Actor != nil {
				actors[*ed.Actor] = true
				if *ed.Actor == "coord" && ed.Action == "audit.read" && ed.Outcome == "denied" {
					deniedCoord = true
				}
			}
		}
		if !p.AuditLog.HasNextPage {
			break
		}
		if p.AuditLog.EndCursor == nil {
			t.Fatal("hasNextPage without endCursor")
		}
		after = *p.AuditLog.EndCursor
	}
	if len(all) < 5 {
		t.Fatalf("only %d audit entries", len(all))
	}
	if all[len(all)-1] != "1" {
		t.Errorf("the oldest entry is %s, want 1", all[len(all)-1])
	}
	for _, want := range []string{"admin", "pros"} {
		if !actors[want] {
			t.Errorf("no entry with actor %s (actors %v)", want, actors)
		}
	}
	if !deniedCoord {
		t.Error("the coordinator's refused auditLog query is not in the audit log")
	}
}
