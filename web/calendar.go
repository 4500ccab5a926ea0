package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"courtside"

	qrcode "github.com/skip2/go-qrcode"
)

// "Add to my calendar": an app password (CalDAV: Apple Calendar, Thunderbird, DAVx5) or a
// secret feed URL (Google Calendar, Outlook) created on the spot, shown once, with the steps
// for each app. A secret outlives the session that creates it, so the account password is
// asked again (SessionService.VerifyPassword: throttled, counted towards the lockout and
// audited), as GraphQL asks it of a session.

// calendarView is the calendar set-up page.
type calendarView struct {
	Secrets    []*courtside.Token
	Username   string
	ServerURL  string // the CalDAV account URL
	Host       string // the server's host, for Apple Calendar
	QR         template.HTML
	NewKind    courtside.TokenKind
	NewSecret  string
	NewFeedURL string
	Error      string
}

// calendarSetup shows the steps for each calendar app, the QR code of the account URL and the
// user's live secrets.
func (a *App) calendarSetup(w http.ResponseWriter, rq *request) {
	a.renderCalendar(w, rq, http.StatusOK, &calendarView{})
}

// renderCalendar fills in the common parts of the calendar page and renders it.
func (a *App) renderCalendar(w http.ResponseWriter, rq *request, status int, v *calendarView) {
	secrets, err := a.cfg.Tokens.ListTokens(rq.ctx(), rq.User.ID, 0)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	for _, t := range secrets {
		if t.Kind != courtside.TokenAPI {
			v.Secrets = append(v.Secrets, t)
		}
	}
	base := a.baseURL(rq)
	v.Username = rq.User.Username
	v.ServerURL = base + "/.well-known/caldav"
	v.Host = strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	v.QR = qrSVG(v.ServerURL, rq.T("QR code of the account URL %s", v.ServerURL))
	a.renderStatus(w, rq, status, "calendar", v)
}

// baseURL is the service's public URL: BaseURL, or the request's own origin.
func (a *App) baseURL(rq *request) string {
	if a.cfg.BaseURL != "" {
		return strings.TrimRight(a.cfg.BaseURL, "/")
	}
	scheme := "http"
	if rq.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + rq.r.Host
}

// createSecret issues an app password or a feed URL after checking the password again.
func (a *App) createSecret(w http.ResponseWriter, rq *request) {
	f := rq.r.PostForm
	kind := courtside.TokenKind(f.Get("kind"))
	if kind != courtside.TokenApp && kind != courtside.TokenFeed {
		a.refuse(w, rq, http.StatusBadRequest, rq.T("Choose an app password or a feed."))
		return
	}
	label := strings.TrimSpace(f.Get("label"))
	if label == "" {
		label = map[courtside.TokenKind]string{courtside.TokenApp: "calendar app", courtside.TokenFeed: "calendar feed"}[kind]
	}
	password := f.Get("password")
	if password == "" {
		a.renderCalendar(w, rq, http.StatusBadRequest, &calendarView{Error: rq.T("Give your password again: a calendar secret outlives this session.")})
		return
	}
	if err := a.cfg.Sessions.VerifyPassword(rq.ctx(), rq.User.ID, password); err != nil {
		switch courtside.ErrorCode(err) {
		case courtside.EFORBIDDEN:
			a.renderCalendar(w, rq, http.StatusForbidden, &calendarView{Error: rq.T("That is not your password. Nothing was created.")})
		default:
			a.fail(w, rq, err)
		}
		return
	}
	_, secret, err := a.cfg.Tokens.CreateToken(rq.ctx(), rq.User.ID, kind, label)
	if err != nil {
		a.fail(w, rq, err)
		return
	}
	v := &calendarView{NewKind: kind, NewSecret: secret}
	if kind == courtside.TokenFeed {
		v.NewFeedURL = a.baseURL(rq) + "/feeds/" + secret + ".ics"
	}
	a.renderCalendar(w, rq, http.StatusOK, v)
}

// revokeSecret revokes one of the user's calendar secrets at once.
func (a *App) revokeSecret(w http.ResponseWriter, rq *request) {
	id, ok := pathID(rq)
	if !ok {
		a.notFound(w, rq.r)
		return
	}
	if err := a.cfg.Tokens.RevokeToken(rq.ctx(), id); err != nil {
		a.fail(w, rq, err)
		return
	}
	a.redirect(w, rq, "/calendar", rq.T("Revoked. Calendar apps using it stop syncing now."))
}

// qrSVG draws the QR code of text as an inline SVG, made here: no image service is asked.
// The modules are one path of black squares on white, with the quiet zone around them.
func qrSVG(text, title string) template.HTML {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return ""
	}
	bits := q.Bitmap()
	n := len(bits)
	var path strings.Builder
	for y, row := range bits {
		for x, dark := range row {
			if dark {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	return template.HTML(fmt.Sprintf(`<svg class="qr" role="img" aria-label="%s" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#ffffff"/><path d="%s" fill="#000000"/></svg>`,
		template.HTMLEscapeString(title), n, n, n, n, path.String()))
}
