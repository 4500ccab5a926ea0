package main_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// webClient is a browser's session with the web app of a running binary: its cookies and the
// form token of its session.
type webClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// webSignIn signs user in to the web app at base through the sign-in form.
func webSignIn(t *testing.T, base, user, password string) *webClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	w := &webClient{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	page, _ := w.get("/")
	if code := w.post("/signin", url.Values{"csrf": {formToken(t, page)}, "username": {user}, "password": {password}}); code != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", user, code)
	}
	w.csrf = formToken(t, w.home())
	return w
}

// home returns the page the signed-in user lands on: "/" redirects to the role's own.
func (w *webClient) home() string {
	w.t.Helper()
	res, err := w.c.Get(w.base + "/")
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		w.t.Fatalf("GET / after signing in: %d", res.StatusCode)
	}
	page, status := w.get(res.Header.Get("Location"))
	if status != http.StatusOK {
		w.t.Fatalf("GET %s: %d", res.Header.Get("Location"), status)
	}
	return page
}

// formToken returns the form token of the first form on page.
func formToken(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the page: %s", page)
	}
	return m[1]
}

// get fetches path and returns its body and status.
func (w *webClient) get(path string) (string, int) {
	w.t.Helper()
	res, err := w.c.Get(w.base + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b), res.StatusCode
}

// post submits form to path from the app's own origin, with the session's form token unless
// form has one, and returns the status.
func (w *webClient) post(path string, form url.Values) int {
	w.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" && w.csrf != "" {
		form.Set("csrf", w.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, w.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.base)
	res, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
