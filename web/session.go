package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"courtside"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Sign-in, sessions and forms.
//
// The session cookie holds the session token of SessionService.Login (the same sessions as
// GraphQL's login: 30 idle minutes, 12 hours at most, the lockout and the throttles). It is
// HttpOnly, SameSite=Strict, Path=/, and Secure with the __Host- prefix when the service is
// reached over https. Every form carries a synchronizer token bound to the session (a hash of
// the session token, which the page never shows), or before sign-in to a random pre-session
// cookie; a POST is refused unless the token matches, its Origin (when sent) is Courtside's
// own and its Sec-Fetch-Site (when sent) is same-origin.

// csrfField is the name of every form's token field.
const csrfField = "csrf"

// request is one request to a page: the signed-in user, the language, the form token.
type request struct {
	r       *http.Request
	w       http.ResponseWriter
	app     *App
	User    *courtside.User
	session string // the session token, "" when signed out
	pre     string // the pre-session cookie, "" when none
	Lang    language.Tag
	printer *message.Printer
	// Flash is a short notice from the previous step (a redirect after a POST).
	Flash string
}

// newRequest reads the language and the flash notice of r.
func (a *App) newRequest(w http.ResponseWriter, r *http.Request) *request {
	rq := &request{r: r, w: w, app: a}
	rq.Lang = chooseLanguage(r)
	rq.printer = message.NewPrinter(rq.Lang, message.Catalog(messages))
	if c, err := r.Cookie(a.cookieName("flash")); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil && len(v) <= 300 {
			rq.Flash = v
		}
		http.SetCookie(w, a.cookie("flash", "", -1))
	}
	if c, err := r.Cookie(a.cookieName("pre")); err == nil && len(c.Value) == 43 {
		rq.pre = c.Value
	}
	return rq
}

// ctx returns the request's context (with the user once signed in).
func (rq *request) ctx() context.Context { return rq.r.Context() }

// loadSession authenticates the session cookie, if any, and puts its user in the context.
func (a *App) loadSession(rq *request) {
	c, err := rq.r.Cookie(a.cookieName("session"))
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return
	}
	user, _, err := a.cfg.Sessions.AuthenticateSession(rq.ctx(), c.Value)
	if err != nil {
		if courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
			a.cfg.Logger.Error("web: session", "err", err)
		}
		http.SetCookie(rq.w, a.cookie("session", "", -1))
		return
	}
	rq.User, rq.session = user, c.Value
	rq.r = rq.r.WithContext(courtside.NewContextWithUser(rq.r.Context(), user))
}

// cookieName returns the name of one of the app's cookies: __Host-cs_NAME over https (the
// browser then insists on Secure, Path=/ and no Domain), cs_NAME otherwise.
func (a *App) cookieName(name string) string {
	if a.secure {
		return "__Host-cs_" + name
	}
	return "cs_" + name
}

// cookie returns one of the app's cookies: HttpOnly, SameSite=Strict, Path=/, Secure over
// https; a session cookie (no Max-Age) when maxAge is 0, deleted when it is negative.
func (a *App) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: a.cookieName(name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode}
}

// setFlash sets the notice the next page shows once.
func setFlash(w http.ResponseWriter, rq *request, notice string) {
	http.SetCookie(w, rq.app.cookie("flash", url.QueryEscape(notice), 60))
}

// CSRF returns the form token of this request: bound to the session when signed in, else to
// the pre-session cookie (set now when missing).
func (rq *request) CSRF() string {
	if rq.session != "" {
		return formToken(rq.session)
	}
	if rq.pre == "" {
		rq.pre = randomToken()
		http.SetCookie(rq.w, rq.app.cookie("pre", rq.pre, 0))
	}
	return formToken(rq.pre)
}

// formToken derives a form token from a secret the browser holds only in an HttpOnly cookie:
// knowing the token tells nothing of the secret, and another site can learn neither.
func formToken(secret string) string {
	sum := sha256.Sum256([]byte("courtside form token\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomToken returns 256 random bits, base64url (43 characters).
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newNonce returns a CSP nonce: 128 random bits.
func newNonce() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Nonce returns the request's CSP nonce, for the script tag.
func (rq *request) Nonce() string {
	n, _ := rq.r.Context().Value(nonceKey{}).(string)
	return n
}

// checkForm checks a POST before its handler runs: the Origin and Sec-Fetch-Site headers
// browsers send, the body's type and size, and the form token. It answers the refusal itself
// (403, 413, 415, 400) and returns false.
func (a *App) checkForm(w http.ResponseWriter, rq *request, limit int64) bool {
	r := rq.r
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		a.refuse(w, rq, http.StatusForbidden, rq.T("This form was sent from another site and was refused."))
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" && !a.sameOrigin(r, origin) {
		a.refuse(w, rq, http.StatusForbidden, rq.T("This form was sent from another site and was refused."))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch mediaType {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(limit)
	default:
		plain(w, http.StatusUnsupportedMediaType, "Send the form as application/x-www-form-urlencoded or multipart/form-data.")
		return false
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.refuse(w, rq, http.StatusRequestEntityTooLarge, rq.T("What you sent is too large."))
			return false
		}
		plain(w, http.StatusBadRequest, "Malformed form.")
		return false
	}
	want := ""
	switch {
	case rq.session != "":
		want = formToken(rq.session)
	case rq.pre != "":
		want = formToken(rq.pre)
	}
	got := r.PostForm.Get(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		a.refuse(w, rq, http.StatusForbidden, rq.T("This form has expired or did not come from Courtside. Go back, reload the page and try again."))
		return false
	}
	return true
}

// sameOrigin reports whether origin is Courtside's own: BaseURL's, or, when that is not known,
// the request's own host.
func (a *App) sameOrigin(r *http.Request, origin string) bool {
	if a.origin != "" {
		return origin == a.origin
	}
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host
}

// home is "/": the sign-in page, or the signed-in user's first page.
func (a *App) home(w http.ResponseWriter, rq *request) {
	if rq.User == nil {
		a.signInPage(w, rq, http.StatusOK, "", "")
		return
	}
	http.Redirect(w, rq.r, homeOf(rq.User.Role), http.StatusSeeOther)
}

// homeOf returns the first page of a role.
func homeOf(r courtside.Role) string {
	switch r {
	case courtside.RoleCoordinator:
		return "/week"
	case courtside.RoleAdvocate:
		return "/my"
	case courtside.RoleInterpreter:
		return "/offers"
	case courtside.RoleProsecutor:
		return "/docket"
	case courtside.RoleAdmin:
		return "/admin"
	}
	return "/calendar"
}

// signInView is what the sign-in page shows.
type signInView struct {
	Error    string
	Username string
}

// signInPage renders the sign-in form with status and an error.
func (a *App) signInPage(w http.ResponseWriter, rq *request, status int, errMsg, username string) {
	a.renderStatus(w, rq, status, "signin", &signInView{Error: errMsg, Username: username})
}

// signIn checks the credentials through SessionService.Login: throttled per client address
// and account (429 with when to retry), the lockout, every attempt audited.
func (a *App) signIn(w http.ResponseWriter, rq *request) {
	username := strings.TrimSpace(rq.r.PostForm.Get("username"))
	password := rq.r.PostForm.Get("password")
	if username == "" || password == "" || len(username) > 200 || len(password) > 1024 {
		a.signInPage(w, rq, http.StatusBadRequest, rq.T("Enter your username and your password."), username)
		return
	}
	_, token, err := a.cfg.Sessions.Login(rq.ctx(), username, password)
	if err != nil {
		switch courtside.ErrorCode(err) {
		case courtside.ERATELIMITED:
			wait := courtside.ErrorRetryAfter(err)
			w.Header().Set("Retry-After", formatInt(int64(roundUpSeconds(wait))))
			a.signInPage(w, rq, http.StatusTooManyRequests, rq.retryMessage(wait), username)
		case courtside.EUNAUTHORIZED:
			a.signInPage(w, rq, http.StatusUnauthorized,
				rq.T("Wrong username or password, or the account is locked for a while. Check them and try again; after five failures the account is locked for 15 minutes."), username)
		default:
			a.fail(w, rq, err)
		}
		return
	}
	http.SetCookie(w, a.cookie("session", token, 0))
	http.SetCookie(w, a.cookie("pre", "", -1))
	http.Redirect(w, rq.r, "/", http.StatusSeeOther)
}

// retryMessage is the calm message of a throttled attempt.
func (rq *request) retryMessage(wait time.Duration) string {
	return rq.T("Too many sign-in attempts for now. Nothing is wrong with your account: please wait %d seconds, then try again.", int(roundUpSeconds(wait)))
}

// signOut ends the session at once and clears the cookie.
func (a *App) signOut(w http.ResponseWriter, rq *request) {
	if err := a.cfg.Sessions.Logout(rq.ctx(), rq.session); err != nil && courtside.ErrorCode(err) != courtside.EUNAUTHORIZED {
		a.fail(w, rq, err)
		return
	}
	http.SetCookie(w, a.cookie("session", "", -1))
	rq.session = ""
	a.redirect(w, rq, "/", rq.T("You are signed out."))
}

// setLanguage switches the language (a cookie) and goes back to the page.
func (a *App) setLanguage(w http.ResponseWriter, rq *request) {
	lang := rq.r.PostForm.Get("lang")
	if _, ok := languageByCode[lang]; !ok {
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Unknown language."))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: a.cookieName("lang"), Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode})
	back := rq.r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = "/"
	}
	http.Redirect(w, rq.r, back, http.StatusSeeOther)
}
