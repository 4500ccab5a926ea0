package web

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"courtside"
)

// NoticePages words the acknowledgement page (notify.Templates does).
type NoticePages interface {
	// NoticePage returns the page's words in the victim's language and the message as the
	// victim was sent it, at its detail level, without its link.
	NoticePage(n *courtside.LinkedNotice) (*courtside.NoticePage, error)
	// PageWords returns the words in the language that best matches an Accept-Language
	// header, for the pages of a bad, used or expired link.
	PageWords(acceptLanguage string) *courtside.NoticePage
}

// AckConfig is what NewAckHandler needs.
type AckConfig struct {
	// Notices checks the links and records the acknowledgements.
	Notices courtside.NoticeLinkService
	// Pages words the page.
	Pages NoticePages
	// Logger receives internal errors (never tokens, never victim data). Nil discards them.
	Logger *slog.Logger
}

// ackHandler serves /m/{delivery id}.
type ackHandler struct {
	notices courtside.NoticeLinkService
	pages   NoticePages
	logger  *slog.Logger
}

// NewAckHandler returns the handler of a notice's acknowledgement link, /m/{id}?t=...:
//
//   - GET (and HEAD) shows the message as the victim was sent it (at its detail level: no
//     more than the message said), the answers the victim may give (none at CONTENT_FREE),
//     and one button, "I got this message", of a POST form carrying the token. GET never
//     acts: mail scanners and link previews fetch links.
//   - POST (t, answer=... any number of times) acknowledges, once, and thanks.
//
// The page is in the victim's language and neutral in title and look: no product name, no
// word for court or victim beyond what the message itself said. A malformed, forged or foreign
// token answers 404, a used or expired link 410 (in the language of Accept-Language), another
// method 405, a body over MaxFormBytes 413. Every response carries the security headers of
// setHeaders (no script, no referrer, no framing, no caching); a panic answers a short 500.
func NewAckHandler(cfg AckConfig) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &ackHandler{notices: cfg.Notices, pages: cfg.Pages, logger: cfg.Logger}
}

// ackAnswer is one answer the page offers.
type ackAnswer struct{ Value, Label string }

// ackData is what the page template renders.
type ackData struct {
	Lang, Title, Message string
	Notes                []string
	// Form shows the form, posting Token to Action.
	Form          bool
	Action, Token string
	Legend, GotIt string
	Answers       []ackAnswer
}

func (h *ackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setHeaders(w.Header())
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.logger.Error("notice link: panic", "panic", v)
			plain(w, http.StatusInternalServerError, "Internal error.")
		}
	}()
	id, ok := deliveryIDFromPath(r.URL.Path)
	if !ok {
		h.fail(w, r, courtside.Errorf(courtside.ENOTFOUND, "Not found."))
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.show(w, r, id)
	case http.MethodPost:
		h.acknowledge(w, r, id)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		plain(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

// deliveryIDFromPath parses /m/{id}.
func deliveryIDFromPath(path string) (int64, bool) {
	idText, ok := strings.CutPrefix(path, "/m/")
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

// show renders the notice with its form. It changes nothing.
func (h *ackHandler) show(w http.ResponseWriter, r *http.Request, id int64) {
	token := r.URL.Query().Get("t")
	n, err := h.notices.FindNoticeByLink(r.Context(), id, token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.pages.NoticePage(n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := ackData{Lang: p.Language, Title: p.Title, Message: p.Message, Form: true, Action: "/m/" + strconv.FormatInt(id, 10),
		Token: token, Legend: p.AnswersLegend, GotIt: p.GotIt}
	if n.Acknowledged {
		data.Notes = append(data.Notes, p.Done)
	}
	for _, k := range n.Answers {
		data.Answers = append(data.Answers, ackAnswer{Value: string(k), Label: p.Answers[k]})
	}
	h.render(w, http.StatusOK, data)
}

// acknowledge records the acknowledgement and the answers of the form, and thanks.
func (h *ackHandler) acknowledge(w http.ResponseWriter, r *http.Request, id int64) {
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
	token := r.PostForm.Get("t")
	if token == "" {
		token = r.URL.Query().Get("t")
	}
	if len(r.PostForm["answer"]) > len(courtside.AnswerKinds) {
		plain(w, http.StatusBadRequest, "Too many answers.")
		return
	}
	var answers []courtside.RequestKind
	for _, a := range r.PostForm["answer"] {
		k, err := courtside.ParseAnswer(a)
		if err != nil {
			plain(w, http.StatusBadRequest, courtside.ErrorMessage(err))
			return
		}
		answers = append(answers, k)
	}
	n, err := h.notices.AcknowledgeByLink(r.Context(), id, token, answers)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.pages.NoticePage(n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data := ackData{Lang: p.Language, Title: p.Title, Notes: []string{p.Thanks}}
	if len(answers) > 0 {
		data.Notes = append(data.Notes, p.ThanksAsked)
	}
	h.render(w, http.StatusOK, data)
}

// fail renders the page of an error, in the language the browser asks for: 404 for a bad
// link, 410 for a used or expired one, 400 for a bad field, and a short 500 otherwise.
func (h *ackHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := h.pages.PageWords(r.Header.Get("Accept-Language"))
	data := ackData{Lang: p.Language, Title: p.Title}
	switch courtside.ErrorCode(err) {
	case courtside.ENOTFOUND:
		data.Notes = []string{p.BadLink}
		h.render(w, http.StatusNotFound, data)
	case courtside.ECONFLICT:
		data.Notes = []string{p.UsedLink}
		if courtside.ErrorField(err) == "expired" {
			data.Notes = []string{p.ExpiredLink}
		}
		h.render(w, http.StatusGone, data)
	case courtside.EINVALID:
		plain(w, http.StatusBadRequest, courtside.ErrorMessage(err))
	default:
		h.logger.Error("notice link", "err", err)
		plain(w, http.StatusInternalServerError, "Internal error.")
	}
}

// render writes the page with status.
func (h *ackHandler) render(w http.ResponseWriter, status int, data ackData) {
	writePage(w, h.logger, "notice link", ackPage, "ack", status, data)
}

var ackPage = template.Must(template.ParseFS(templateFS, "templates/ack.html"))
