package main_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"courtside/storage/storagetest"
)

// TestEndToEnd_SecurityHeadersAndFileModes shows, on the real binary, that every page that can
// answer HTML (the explorer page at /graphql, the web app's sign-in page at / and the 404 of unknown paths) carries
// Content-Security-Policy, X-Content-Type-Options, X-Frame-Options and Referrer-Policy (no-referrer,
// or same-origin for the web app's pages), and that
// the database file and its WAL are mode 0600.
func TestEndToEnd_SecurityHeadersAndFileModes(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/graphql", "/", "/no-such-page"} {
		res, err := client.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		h := res.Header
		if path == "/graphql" && !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("GET /graphql: Content-Type %q, want the explorer page", h.Get("Content-Type"))
		}
		csp := h.Get("Content-Security-Policy")
		// The web app's pages (/ and the 404) send same-origin: under no-referrer browsers send
		// "Origin: null" with a form, and the app checks the Origin of its forms.
		referrer := "same-origin"
		if path == "/graphql" {
			referrer = "no-referrer"
		}
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != referrer {
			t.Errorf("GET %s (%d): security headers missing: %v", path, res.StatusCode, h)
		}
	}
	if storagetest.Postgres() {
		return // the file modes below are a SQLite file's
	}
	for _, p := range []string{w.db, w.db + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
}
