package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"courtside"
)

// The web app: the pages coordinators, advocates, interpreters, prosecutors' clerks and
// admins use all day, served by the same binary as GraphQL and CalDAV. Every page acts as the
// signed-in user through the same root services GraphQL calls, so that the storage scopes
// decide what is shown exactly as they decide what the API answers.

// CaseService is courtside.CaseService with the batch and list reads the pages need.
type CaseService interface {
	courtside.CaseService
	// FindCases returns the cases among ids that the caller may see.
	FindCases(ctx context.Context, ids ...int64) ([]*courtside.Case, error)
	// ListCases returns the caller's cases in ID order, a page at a time.
	ListCases(ctx context.Context, first int, after int64) ([]*courtside.Case, bool, error)
}

// VictimService is courtside.VictimService with the list the pages need.
type VictimService interface {
	courtside.VictimService
	// ListVictims returns the victims the caller may see in ID order, a page at a time.
	ListVictims(ctx context.Context, first int, after int64) ([]*courtside.Victim, bool, error)
}

// WebhookService sets an organisation's webhook receiver: an operator's action, offered to
// admins.
type WebhookService interface {
	SetWebhookEndpoint(ctx context.Context, orgName, rawURL, secret string) error
}

// Config is what NewApp needs: the root services (storage has one per noun), the
// optional services of pieces that may be absent (nil: the page says so), and settings.
type Config struct {
	Users          courtside.UserService
	Sessions       courtside.SessionService
	Tokens         courtside.TokenService
	Courts         courtside.CourtService
	Cases          CaseService
	Hearings       courtside.HearingService
	Victims        VictimService
	Accompaniments courtside.AccompanimentService
	Bookings       courtside.BookingService
	Deliveries     courtside.DeliveryService
	Coordination   courtside.CoordinationService
	Reports        courtside.ReportService
	Imports        courtside.ImportService
	// PreviewDocket parses a docket CSV as the caller's office and returns its lines and every
	// problem found, writing nothing. Nil: the import page imports without a preview.
	PreviewDocket func(ctx context.Context, r io.Reader) (*DocketPreview, error)
	// Webhooks sets webhook receivers; NewWebhookSecret makes their signing secrets. Nil:
	// the admin's webhook page says it is not available.
	Webhooks         WebhookService
	NewWebhookSecret func() string
	// Requests lists and closes victims' requests. Nil: the page says they are not available.
	Requests courtside.RequestService
	// FailedEvents lists events that failed and retries them. Nil: the page says so.
	FailedEvents FailedEventService

	// BaseURL is the service's public URL: https makes the cookies Secure, and calendar
	// set-up pages give the addresses under it.
	BaseURL string
	// Logger receives internal errors (never victim PII or secrets). Nil discards them.
	Logger *slog.Logger
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// RequestTimeout is each page's deadline. Zero means 30 s.
	RequestTimeout time.Duration
}

// App is the web app's HTTP handler.
type App struct {
	cfg    Config
	mux    *http.ServeMux
	secure bool   // cookies are Secure: the service is reached over https
	origin string // scheme://host[:port] of BaseURL, for the Origin check; "" when unknown
}

// MaxPageFormBytes caps the body of a form; MaxUploadBytes a docket CSV upload.
const (
	MaxPageFormBytes = 64 << 10
	MaxUploadBytes   = 2 << 20
)

// NewApp returns the web app. It serves "/" (the sign-in page, or the signed-in user's home)
// and the pages of docs/web.md; any other path answers 404 with the same headers.
func NewApp(cfg Config) (*App, error) {
	for name, svc := range map[string]any{"Users": cfg.Users, "Sessions": cfg.Sessions, "Tokens": cfg.Tokens,
		"Courts": cfg.Courts, "Cases": cfg.Cases, "Hearings": cfg.Hearings, "Victims": cfg.Victims,
		"Accompaniments": cfg.Accompaniments, "Bookings": cfg.Bookings, "Deliveries": cfg.Deliveries,
		"Coordination": cfg.Coordination, "Reports": cfg.Reports, "Imports": cfg.Imports} {
		if svc == nil {
			return nil, fmt.Errorf("web: Config.%s is required", name)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	a := &App{cfg: cfg, mux: http.NewServeMux()}
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Host != "" {
		a.secure = u.Scheme == "https"
		a.origin = u.Scheme + "://" + u.Host
	}
	a.routes()
	return a, nil
}

// roles are the roles a page is for; nil means any signed-in user.
type roles []courtside.Role

var (
	coordinatorOnly = roles{courtside.RoleCoordinator}
	advocateOnly    = roles{courtside.RoleAdvocate}
	interpreterOnly = roles{courtside.RoleInterpreter}
	prosecutorOnly  = roles{courtside.RoleProsecutor}
	adminOnly       = roles{courtside.RoleAdmin}
	calendarUsers   = roles{courtside.RoleAdvocate, courtside.RoleInterpreter, courtside.RoleCoordinator, courtside.RoleProsecutor}
	hearingViewers  = roles{courtside.RoleCoordinator, courtside.RoleAdvocate, courtside.RoleProsecutor}
)

// allows reports whether the role may use a page for rs.
func (rs roles) allows(r courtside.Role) bool {
	if rs == nil {
		return true
	}
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// pageFunc is a page handler: it writes the response for the signed-in user in rq.
type pageFunc func(w http.ResponseWriter, rq *request)

// routes registers every page.
func (a *App) routes() {
	m := a.mux
	m.HandleFunc("GET /static/{file}", a.serveStatic)
	m.HandleFunc("GET /{$}", a.public(a.home))
	m.HandleFunc("POST /signin", a.public(a.signIn))
	m.HandleFunc("POST /signout", a.page(nil, a.signOut))
	m.HandleFunc("POST /language", a.public(a.setLanguage))

	// Coordinators.
	m.HandleFunc("GET /week", a.page(coordinatorOnly, a.week))
	m.HandleFunc("GET /hearings/{id}", a.page(hearingViewers, a.hearing))
	m.HandleFunc("POST /hearings/{id}/assign", a.page(coordinatorOnly, a.assignAdvocate))
	m.HandleFunc("POST /hearings/{id}/interpreter", a.page(coordinatorOnly, a.requestInterpreter))
	m.HandleFunc("GET /victims", a.page(roles{courtside.RoleCoordinator, courtside.RoleAdvocate}, a.victims))
	m.HandleFunc("GET /victims/{id}", a.page(roles{courtside.RoleCoordinator, courtside.RoleAdvocate}, a.victim))
	m.HandleFunc("POST /victims/{id}/show", a.page(roles{courtside.RoleCoordinator, courtside.RoleAdvocate}, a.showVictim))
	m.HandleFunc("POST /victims/{id}/policy", a.page(coordinatorOnly, a.setPolicy))
	m.HandleFunc("GET /report", a.page(coordinatorOnly, a.report))
	m.HandleFunc("GET /requests", a.page(coordinatorOnly, a.requests))
	m.HandleFunc("POST /requests/{id}/close", a.page(coordinatorOnly, a.closeRequest))
	m.HandleFunc("POST /requests/{id}/restart-sms", a.page(coordinatorOnly, a.confirmSMSRestart))

	// Advocates and interpreters.
	m.HandleFunc("GET /my", a.page(advocateOnly, a.myHearings))
	m.HandleFunc("GET /offers", a.page(interpreterOnly, a.offers))
	m.HandleFunc("POST /offers/{id}/answer", a.page(interpreterOnly, a.answerOffer))
	m.HandleFunc("GET /calendar", a.page(calendarUsers, a.calendarSetup))
	m.HandleFunc("POST /calendar/secrets", a.page(calendarUsers, a.createSecret))
	m.HandleFunc("POST /calendar/secrets/{id}/revoke", a.page(calendarUsers, a.revokeSecret))

	// Prosecutors' clerks.
	m.HandleFunc("GET /docket", a.page(prosecutorOnly, a.docket))
	m.HandleFunc("POST /docket/hearings", a.page(prosecutorOnly, a.postHearing))
	m.HandleFunc("POST /hearings/{id}/continue", a.page(prosecutorOnly, a.continueHearing))
	m.HandleFunc("POST /hearings/{id}/cancel", a.page(prosecutorOnly, a.cancelHearing))
	m.HandleFunc("GET /cases/{id}", a.page(prosecutorOnly, a.caseShares))
	m.HandleFunc("POST /cases/{id}/share", a.page(prosecutorOnly, a.shareCase))
	m.HandleFunc("GET /import", a.page(prosecutorOnly, a.importForm))
	m.HandleFunc("POST /import/preview", a.page(prosecutorOnly, a.importPreview))
	m.HandleFunc("POST /import", a.page(prosecutorOnly, a.importCommit))

	// Admins.
	m.HandleFunc("GET /admin", a.page(adminOnly, a.adminUsers))
	m.HandleFunc("POST /admin/users", a.page(adminOnly, a.createUser))
	m.HandleFunc("GET /admin/courts", a.page(adminOnly, a.adminCourts))
	m.HandleFunc("POST /admin/courts", a.page(adminOnly, a.createCourt))
	m.HandleFunc("POST /admin/travel", a.page(adminOnly, a.setTravelTime))
	m.HandleFunc("GET /admin/webhooks", a.page(adminOnly, a.adminWebhooks))
	m.HandleFunc("POST /admin/webhooks", a.page(adminOnly, a.setWebhook))
	m.HandleFunc("GET /admin/events", a.page(adminOnly, a.failedEvents))
	m.HandleFunc("POST /admin/events/{id}/retry", a.page(adminOnly, a.retryEvent))
}

// ServeHTTP sets the security headers of every answer, recovers from panics and dispatches.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nonce := newNonce()
	setAppHeaders(w.Header(), nonce)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.cfg.Logger.Error("web: panic", "panic", v, "path", r.URL.Path)
			plain(w, http.StatusInternalServerError, "Internal error.")
		}
	}()
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
	defer cancel()
	if courtside.ClientAddrFromContext(ctx) == "" {
		// The server in front sets the client's address (trusting proxies it knows); without
		// one, the connection's peer is the client, as for GraphQL's sign-in.
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		ctx = courtside.NewContextWithClientAddr(ctx, host)
	}
	r = r.WithContext(context.WithValue(ctx, nonceKey{}, nonce))
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.notFound(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// notFound answers 404 with a small page in the visitor's language.
func (a *App) notFound(w http.ResponseWriter, r *http.Request) {
	rq := a.newRequest(w, r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// A path that exists for another method answers 405 from the mux; others 404.
		plain(w, http.StatusNotFound, "Not found.")
		return
	}
	a.renderStatus(w, rq, http.StatusNotFound, "message", &messageView{Title: rq.T("Page not found"),
		Text: rq.T("There is no page at this address. Use the menu to find your way.")})
}

// nonceKey carries the request's CSP nonce in its context.
type nonceKey struct{}

// ContentSecurityPolicyApp is the policy of the app's pages, with the request's nonce in
// place of %s: scripts only with the nonce (the one script is the app's own, from the same
// origin), styles and images from the same origin, no plugins, never framed, forms only to
// Courtside, and connections only back to Courtside.
const ContentSecurityPolicyApp = "default-src 'none'; script-src 'nonce-%s'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setAppHeaders sets the headers every answer of the app carries.
func setAppHeaders(h http.Header, nonce string) {
	h.Set("Content-Security-Policy", fmt.Sprintf(ContentSecurityPolicyApp, nonce))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with every
	// form, and the Origin check could not tell Courtside's own forms from another site's.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
}

// public wraps a page anyone may open, signed in or not.
func (a *App) public(f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := a.newRequest(w, r)
		a.loadSession(rq)
		if r.Method == http.MethodPost && !a.checkForm(w, rq, MaxPageFormBytes) {
			return
		}
		f(w, rq)
	}
}

// page wraps a page for signed-in users of the roles rs: without a session it shows the
// sign-in page (GET) or answers 401 (POST); another role answers 403; a POST needs a form
// from the same origin carrying the session's CSRF token.
func (a *App) page(rs roles, f pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := a.newRequest(w, r)
		a.loadSession(rq)
		if rq.User == nil {
			if r.Method == http.MethodGet {
				a.signInPage(w, rq, http.StatusUnauthorized, rq.T("Please sign in to see this page."), "")
				return
			}
			a.refuse(w, rq, http.StatusUnauthorized, rq.T("Your session has ended. Sign in again, then repeat what you were doing."))
			return
		}
		if !rs.allows(rq.User.Role) {
			a.refuse(w, rq, http.StatusForbidden, rq.T("This page is not part of your role's work in Courtside."))
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(MaxPageFormBytes)
			if strings.HasPrefix(r.URL.Path, "/import") {
				limit = MaxUploadBytes
			}
			if !a.checkForm(w, rq, limit) {
				return
			}
		}
		f(w, rq)
	}
}

// fail renders the page of a service error: 404 for what the caller may not see or does not
// exist (the same words), 403, 409, 400 with the service's message, 429 with when to retry,
// and a short 500 (logged) for anything else.
func (a *App) fail(w http.ResponseWriter, rq *request, err error) {
	status, msg := http.StatusInternalServerError, rq.T("Something went wrong on our side. Please try again; if it keeps happening, tell your administrator.")
	switch courtside.ErrorCode(err) {
	case courtside.ENOTFOUND:
		status, msg = http.StatusNotFound, rq.T("Not found, or not yours to see.")
	case courtside.EFORBIDDEN:
		status, msg = http.StatusForbidden, rq.T("Your role may not do this.")+" "+courtside.ErrorMessage(err)
	case courtside.ECONFLICT:
		status, msg = http.StatusConflict, rq.T("This could not be done as things stand now:")+" "+courtside.ErrorMessage(err)
	case courtside.EINVALID:
		status, msg = http.StatusBadRequest, rq.T("Please check what you entered:")+" "+courtside.ErrorMessage(err)
	case courtside.EUNAUTHORIZED:
		status, msg = http.StatusUnauthorized, rq.T("Your session has ended. Sign in again, then repeat what you were doing.")
	case courtside.ERATELIMITED:
		status, msg = http.StatusTooManyRequests, rq.retryMessage(courtside.ErrorRetryAfter(err))
		w.Header().Set("Retry-After", fmt.Sprint(int(roundUpSeconds(courtside.ErrorRetryAfter(err)))))
	default:
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			status, msg = http.StatusServiceUnavailable, rq.T("This took too long and was stopped. Please try again.")
		} else {
			a.cfg.Logger.Error("web", "path", rq.r.URL.Path, "err", err)
		}
	}
	a.refuse(w, rq, status, msg)
}

// refuse renders a message page with status.
func (a *App) refuse(w http.ResponseWriter, rq *request, status int, msg string) {
	title := rq.T("Not possible")
	if status >= 500 {
		title = rq.T("Sorry")
	}
	a.renderStatus(w, rq, status, "message", &messageView{Title: title, Text: msg, Back: true})
}

// redirect answers a successful POST with 303 to path, carrying a short notice to show there.
func (a *App) redirect(w http.ResponseWriter, rq *request, path, notice string) {
	if notice != "" {
		setFlash(w, rq, notice)
	}
	http.Redirect(w, rq.r, path, http.StatusSeeOther)
}

// roundUpSeconds rounds d up to whole seconds, at least one.
func roundUpSeconds(d time.Duration) float64 {
	s := (d + time.Second - 1) / time.Second
	if s < 1 {
		s = 1
	}
	return float64(s)
}
