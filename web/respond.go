// Package web serves Courtside's few server-rendered HTML pages: the page of a booking offer's
// signed one-click link (/bookings/{id}/respond?token=...) and the page of a victim's notice's
// acknowledgement link (/m/{id}?t=..., ack.go).
package web

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"courtside"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// MaxFormBytes caps the body of an answer: a token, an answer and a short reason.
const MaxFormBytes = 8 << 10

// ContentSecurityPolicy is the policy of every page of this package: no scripts, inline styles
// only, forms that post back to Courtside, never framed.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// RespondConfig is what NewRespondHandler needs.
type RespondConfig struct {
	// Links checks the tokens and records the answers.
	Links courtside.BookingLinkService
	// Logger receives internal errors (never tokens, never victim data). Nil discards them.
	Logger *slog.Logger
}

// respondHandler serves /bookings/{id}/respond.
type respondHandler struct {
	links  courtside.BookingLinkService
	logger *slog.Logger
}

// NewRespondHandler returns the handler of the one-click link of a booking offer,
// /bookings/{id}/respond?token=...:
//
//   - GET (and HEAD) shows the offer (hearing kind, date and time in the court's zone, court,
//     courtroom, language, answer-by) and an Accept and a Decline button, a POST form carrying
//     the token. GET never acts: mail scanners and link previews fetch links.
//   - POST (token, answer=accept|decline, optional reason) answers and shows the result.
//
// A malformed, forged or foreign token answers 404, a used or expired link or an offer no
// longer open 410, another method 405, a body over MaxFormBytes 413. Every response carries
// the security headers of setHeaders; a panic answers a short 500.
func NewRespondHandler(cfg RespondConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &respondHandler{links: cfg.Links, logger: cfg.Logger}
}

// setHeaders sets the headers every response of the package carries.
func setHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
}

// offerView is the offer as the page shows it, in the court's time zone.
type offerView struct {
	Kind, Date, Time, Court, Courtroom, Language, RespondBy string
}

// pageData is what the page template renders.
type pageData struct {
	Title, Message string
	Offer          *offerView
	// Form shows the Accept and Decline form, posting Token to Action.
	Form          bool
	Action, Token string
}

func (h *respondHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w.Header())
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.logger.Error("booking link: panic", "panic", v)
			plain(w, http.StatusInternalServerError, "Internal error.")
		}
	}()
	id, ok := bookingIDFromPath(r.URL.Path)
	if !ok {
		plain(w, http.StatusNotFound, "Not found.")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.show(w, r, id)
	case http.MethodPost:
		h.answer(w, r, id)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		plain(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

// bookingIDFromPath parses /bookings/{id}/respond.
func bookingIDFromPath(path string) (int64, bool) {
	rest, ok := strings.CutPrefix(path, "/bookings/")
	if !ok {
		return 0, false
	}
	idText, ok := strings.CutSuffix(rest, "/respond")
	if !ok || idText == "" || len(idText) > 19 {
		return 0, false
	}
	for _, r := range idText {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	return id, err == nil && id > 0
}

// show renders the offer with its form. It changes nothing.
func (h *respondHandler) show(w http.ResponseWriter, r *http.Request, id int64) {
	token := r.URL.Query().Get("token")
	offer, err := h.links.FindBookingByLink(r.Context(), id, token)
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, pageData{Title: "Interpreter booking offer", Offer: view(offer), Form: true,
		Action: "/bookings/" + strconv.FormatInt(id, 10) + "/respond", Token: token})
}

// answer records the answer of the form and renders the result.
func (h *respondHandler) answer(w http.ResponseWriter, r *http.Request, id int64) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		plain(w, http.StatusUnsupportedMediaType, "Send the form as application/x-www-form-urlencoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			plain(w, http.StatusRequestEntityTooLarge, "Request too large.")
			return
		}
		plain(w, http.StatusBadRequest, "Malformed form.")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	var accept bool
	switch r.PostForm.Get("answer") {
	case "accept":
		accept = true
	case "decline":
	default:
		plain(w, http.StatusBadRequest, "Answer must be accept or decline.")
		return
	}
	// Read the offer first, so the result page can show what was answered; a bad token stops here.
	offer, err := h.links.FindBookingByLink(r.Context(), id, token)
	if err != nil {
		h.fail(w, err)
		return
	}
	b, err := h.links.RespondByLink(r.Context(), id, token, accept, r.PostForm.Get("reason"))
	if err != nil {
		h.fail(w, err)
		return
	}
	data := pageData{Title: "Booking declined", Offer: view(offer),
		Message: "You declined this hearing. Thank you for letting us know; it will be offered to another interpreter."}
	if b.Status == courtside.BookingAccepted {
		data.Title, data.Message = "Booking accepted", "You accepted this hearing. It is now in your Courtside calendar."
	}
	data.Offer.RespondBy = ""
	h.render(w, http.StatusOK, data)
}

// fail renders the page of an error: 404 for a bad link, 410 for one that can no longer act,
// 400 for a bad field, and a short 500 otherwise.
func (h *respondHandler) fail(w http.ResponseWriter, err error) {
	switch courtside.ErrorCode(err) {
	case courtside.ENOTFOUND:
		h.render(w, http.StatusNotFound, pageData{Title: "Link not valid",
			Message: "This link is not valid. Check that you opened the whole link from the message, or sign in to Courtside to answer."})
	case courtside.ECONFLICT:
		h.render(w, http.StatusGone, pageData{Title: "Link no longer usable", Message: courtside.ErrorMessage(err) +
			" Sign in to Courtside, or contact the coordinator, for the current state of this booking."})
	case courtside.EINVALID:
		plain(w, http.StatusBadRequest, courtside.ErrorMessage(err))
	default:
		h.logger.Error("booking link", "err", err)
		plain(w, http.StatusInternalServerError, "Internal error.")
	}
}

// render writes the page with status.
func (h *respondHandler) render(w http.ResponseWriter, status int, data pageData) {
	writePage(w, h.logger, "booking link", pages, "page", status, data)
}

// writePage executes the template name of t with data and writes the page with status; a
// template that fails is logged under op and answers 500, with nothing of the page written.
func writePage(w http.ResponseWriter, logger *slog.Logger, op string, t *template.Template, name string, status int, data any) {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		logger.Error(op+": render", "err", err)
		plain(w, http.StatusInternalServerError, "Internal error.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// plain writes a short plain-text answer.
func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// view renders an offer for the page, times in the court's zone.
func view(o *courtside.BookingLinkOffer) *offerView {
	loc := o.Court.Location()
	start, end := o.Hearing.StartsAt.In(loc), o.Hearing.EndsAt.In(loc)
	v := &offerView{
		Kind:      kindLabel(o.Hearing.Kind),
		Date:      start.Format("Monday 2 January 2006"),
		Time:      start.Format("15:04") + " to " + end.Format("15:04 MST"),
		Court:     o.Court.Name,
		Courtroom: o.Hearing.Courtroom,
		Language:  o.Booking.Language,
	}
	if o.Booking.RespondBy != nil {
		v.RespondBy = o.Booking.RespondBy.In(loc).Format("Monday 2 January 2006, 15:04 MST")
	}
	return v
}

// kindLabel renders a hearing kind such as SENTENCING as "Sentencing".
func kindLabel(k courtside.HearingKind) string {
	s := strings.ToLower(strings.ReplaceAll(string(k), "_", " "))
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
