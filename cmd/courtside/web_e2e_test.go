package main_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// browserDir holds the browser test's package.json, its lockfile and walk.mjs.
var browserDir = filepath.Join("..", "..", "web", "testdata", "browser")

// TestBrowser_EveryRoleEndToEnd drives Debian's Chromium with playwright-core against the real
// binary running the demo (web/testdata/browser/walk.mjs): each role signs in and does its main
// task (the coordinator by keyboard only, the interpreter in Spanish); on every page axe-core
// finds no serious or critical violation, the page fits 390 px without sideways scroll, the
// console shows no CSP refusal and no request leaves the origin. COURTSIDE_SCREENSHOTS=1
// writes each role's main page to docs/screenshots/. The test fails, never skips, when
// Chromium, Node or the npm packages are missing: `make test` installs them.
func TestBrowser_EveryRoleEndToEnd(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: it runs playwright-core. Install Node.js 20 or later, then run `make test`.")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatal("/usr/bin/chromium is missing: `make test` installs Debian's chromium (apt-get install chromium)")
	}
	for _, pkg := range []string{"playwright-core", "axe-core"} {
		if _, err := os.Stat(filepath.Join(browserDir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("web/testdata/browser/node_modules lacks %s: run `make test`, whose deps target runs `npm ci --prefix web/testdata/browser` (%v)", pkg, err)
		}
	}
	base, _ := startDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "walk.mjs", base, "courtside-demo-2026")
	cmd.Dir = browserDir
	cmd.Env = os.Environ()
	if os.Getenv("COURTSIDE_SCREENSHOTS") != "" {
		dir, _ := filepath.Abs(filepath.Join("..", "..", "docs", "screenshots"))
		cmd.Env = append(cmd.Env, "SCREENSHOTS="+dir)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("walk.mjs:\n%s", out.String())
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	m := regexp.MustCompile(`browser: (\d+) pages checked, 0 failures`).FindStringSubmatch(out.String())
	if m == nil || len(m[1]) < 2 {
		t.Fatalf("the browser test checked too few pages or reported failures")
	}
}

// TestWeb_OnTheBinary: on the real binary the web app answers / with its sign-in page while
// GraphQL keeps /graphql; a form without the session's token and a form of another role are
// refused with 403 and change nothing.
func TestWeb_OnTheBinary(t *testing.T) {
	base, logins := startDemo(t)
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), ">Username</label>") || !strings.Contains(string(body), ">Sign in</button>") {
		t.Fatalf("GET /: %d %s", res.StatusCode, body)
	}
	if me := mustGQL(t, base, logins["coordinator"][0], `{ me { username } }`, nil); dig(me, "me", "username") != "coordinator" {
		t.Fatalf("GraphQL beside the app: %v", me)
	}
	signIn := func(user string) (*http.Client, string) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		token := func(path string) string {
			res, err := c.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
			if m == nil {
				t.Fatalf("no form on %s: %s", path, b)
			}
			return m[1]
		}
		res, err := c.PostForm(base+"/signin", url.Values{"csrf": {token("/")}, "username": {user}, "password": {"courtside-demo-2026"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in as %s: %d", user, res.StatusCode)
		}
		return c, token("/calendar")
	}
	post := func(c *http.Client, path string, form url.Values) int {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	coord, coordToken := signIn("coordinator")
	adv, advToken := signIn("advocate")
	request := url.Values{"language": {"es"}}
	if code := post(coord, "/hearings/1/interpreter", request); code != http.StatusForbidden {
		t.Fatalf("a form without its token: %d", code)
	}
	request.Set("csrf", advToken)
	if code := post(coord, "/hearings/1/interpreter", request); code != http.StatusForbidden {
		t.Fatalf("a form with another session's token: %d", code)
	}
	if code := post(adv, "/hearings/1/interpreter", request); code != http.StatusForbidden {
		t.Fatalf("an advocate's post of a coordinator's form: %d", code)
	}
	if data := mustGQL(t, base, logins["coordinator"][0], `{ hearing(id: "1") { bookings { id } } }`, nil); len(dig(data, "hearing", "bookings").([]any)) != 0 {
		t.Fatalf("refused forms wrote bookings: %v", data)
	}
	request.Set("csrf", coordToken)
	if code := post(coord, "/hearings/1/interpreter", request); code != http.StatusSeeOther {
		t.Fatalf("the coordinator's own form: %d", code)
	}
	if data := mustGQL(t, base, logins["coordinator"][0], `{ hearing(id: "1") { bookings { status } } }`, nil); len(dig(data, "hearing", "bookings").([]any)) != 1 {
		t.Fatalf("the accepted form's booking: %v", data)
	}
}
