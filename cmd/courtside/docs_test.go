package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// TestDocsExamplesAreValid sends every GraphQL body of docs/api.md to a demo server and fails
// on any parse or validation error, so the documentation cannot drift from the schema. Errors
// from resolvers (an ID that does not exist in the demo data, a role that may not) are fine:
// they carry a path.
func TestDocsExamplesAreValid(t *testing.T) {
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, block := range strings.Split(string(doc), "<<'JSON'\n")[1:] {
		body, _, ok := strings.Cut(block, "\nJSON\n")
		if !ok {
			t.Fatalf("unterminated JSON block: %.80s", block)
		}
		bodies = append(bodies, body)
	}
	if len(bodies) < 15 {
		t.Fatalf("found %d examples in docs/api.md", len(bodies))
	}

	base, logins := startDemo(t)
	admin := logins["admin"][0]
	for i, body := range bodies {
		if !json.Valid([]byte(body)) {
			t.Errorf("example %d is not JSON:\n%s", i+1, body)
			continue
		}
		req, _ := http.NewRequest(http.MethodPost, base+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var out struct {
			Errors []struct {
				Message string `json:"message"`
				Path    []any  `json:"path"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Errorf("example %d: answer %d %q", i+1, resp.StatusCode, raw)
			continue
		}
		for _, e := range out.Errors {
			if len(e.Path) == 0 {
				t.Errorf("example %d does not validate: %s\n%s", i+1, e.Message, body)
			}
		}
	}
}
