package main_test

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEndToEnd_Feed subscribes to the advocate's webcal feed through the real server: the URL
// createFeedToken returns serves the hearing without naming the victim, revoking it answers 404
// at once, and the server log never carries the secret.
func TestEndToEnd_Feed(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	starts := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Hour)
	hearingID := setUpHearing(t, s.url, w, starts)

	r := mustGQL(t, s.url, w.advocate, `mutation { createFeedToken(label: "Google") { id secret url } }`, nil)
	id, _ := dig(r, "createFeedToken", "id").(string)
	secret, _ := dig(r, "createFeedToken", "secret").(string)
	url, _ := dig(r, "createFeedToken", "url").(string)
	if url != s.url+"/feeds/"+secret+".ics" || secret == "" {
		t.Fatalf("createFeedToken: %v", r)
	}
	get := func() (*http.Response, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		!strings.Contains(body, "\r\nUID:hearing-"+hearingID+"@courtside\r\n") || !strings.Contains(body, "\r\nMETHOD:PUBLISH\r\n") ||
		!strings.Contains(body, "26-CR-01042") || strings.Contains(body, "V-1042-A") || strings.Contains(body, "Sentinel") {
		t.Fatalf("GET feed: %s\n%s", resp.Status, body)
	}

	if v := mustGQL(t, s.url, w.advocate, `mutation($id: ID!) { revokeSecret(id: $id) }`, map[string]any{"id": id}); dig(v, "revokeSecret") != true {
		t.Fatalf("revokeSecret: %v", v)
	}
	if resp, body := get(); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "VCALENDAR") {
		t.Fatalf("GET revoked feed: %s\n%s", resp.Status, body)
	}
	// Stop the server before reading its log (its stderr is written as it runs).
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v", err)
	}
	if logs := s.logs.String(); strings.Contains(logs, secret) || !strings.Contains(logs, "/feeds/[redacted]") {
		t.Fatalf("server log: %s", logs)
	}
}
