package notify

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"courtside"
)

// The SMS gateway posts back to Courtside in the Messages API shape: a form POST per inbound
// text message (POST /hooks/sms: MessageSid, From, To, Body, ...) and per delivery receipt of
// a message Courtside sent with a StatusCallback (POST /hooks/sms/status: MessageSid,
// MessageStatus, ErrorCode, ...). Each is signed in the SMSSignatureHeader: the base64 of
// HMAC-SHA1, keyed with the shared secret (the gateway's auth token), over the full URL the
// gateway posted to followed by every form field's name and value, sorted by name.

// SMSSignatureHeader is the header a gateway of the Messages API shape signs its callbacks in.
const SMSSignatureHeader = "X-Twilio-Signature"

// MaxInboundBytes caps the body of a gateway's callback.
const MaxInboundBytes = 16 << 10

// SMSSignature returns the signature of a callback to rawURL with form fields form under
// secret: base64(HMAC-SHA1(secret, rawURL + name1 + value1 + name2 + value2 ...)), the names
// sorted, and the values of a repeated name sorted too.
func SMSSignature(secret, rawURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(rawURL))
	for _, k := range names {
		values := append([]string(nil), form[k]...)
		sort.Strings(values)
		for _, v := range values {
			m.Write([]byte(k))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySMSSignature reports whether signature is the callback's signature under secret, in
// constant time. An empty secret or signature never verifies.
func VerifySMSSignature(secret, rawURL string, form url.Values, signature string) bool {
	if secret == "" || signature == "" {
		return false
	}
	return hmac.Equal([]byte(SMSSignature(secret, rawURL, form)), []byte(signature))
}

// InboundConfig is what NewInboundHandler needs.
type InboundConfig struct {
	// Service acts on the messages and receipts.
	Service courtside.InboundSMSService
	// Templates read the keywords and word the replies; nil means the built-in ones.
	Templates *Templates
	// Secret is the key the gateway signs with (COURTSIDE_SMS_INBOUND_SECRET); "" refuses
	// every callback with 503.
	Secret string
	// BaseURL is Courtside's public URL as the gateway is configured with it: the signature
	// covers BaseURL + the request's path and query.
	BaseURL string
	// Logger receives errors (never a number, a body or a secret). Nil discards them.
	Logger *slog.Logger
}

type inboundHandler struct {
	cfg InboundConfig
}

// NewInboundHandler returns the handler of the gateway's callbacks: POST /hooks/sms (an
// inbound text message, answered with the reply to text back, as the Messages API's XML
// response) and POST /hooks/sms/status (a delivery receipt). A callback without a valid
// signature answers 403 and changes nothing; a replayed one (the same MessageSid) changes
// nothing and gets the same answer. The answer never carries victim data: a reply is one of
// the neutral texts of the templates' "== reply" sections.
func NewInboundHandler(cfg InboundConfig) http.Handler {
	if cfg.Templates == nil {
		cfg.Templates = DefaultTemplates()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return &inboundHandler{cfg: cfg}
}

func (h *inboundHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.cfg.Logger.Error("sms callback: panic", "panic", v)
			plainText(w, http.StatusInternalServerError, "Internal error.")
		}
	}()
	status := r.URL.Path == "/hooks/sms/status"
	if r.URL.Path != "/hooks/sms" && !status {
		plainText(w, http.StatusNotFound, "Not found.")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plainText(w, http.StatusMethodNotAllowed, "Method not allowed.")
		return
	}
	if h.cfg.Secret == "" {
		plainText(w, http.StatusServiceUnavailable, "Inbound text messages are not configured (COURTSIDE_SMS_INBOUND_SECRET).")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		plainText(w, http.StatusUnsupportedMediaType, "Send the callback as application/x-www-form-urlencoded.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxInboundBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			plainText(w, http.StatusRequestEntityTooLarge, "Request too large.")
			return
		}
		plainText(w, http.StatusBadRequest, "Malformed form.")
		return
	}
	signature := r.Header.Get(SMSSignatureHeader)
	if signature == "" {
		plainText(w, http.StatusForbidden, "A signature is required.")
		return
	}
	if !VerifySMSSignature(h.cfg.Secret, h.cfg.BaseURL+r.URL.RequestURI(), r.PostForm, signature) {
		plainText(w, http.StatusForbidden, "The signature does not match.")
		return
	}
	if status {
		h.receipt(w, r)
		return
	}
	h.inbound(w, r)
}

// inbound reads an inbound message, acts on it and answers with the reply.
func (h *inboundHandler) inbound(w http.ResponseWriter, r *http.Request) {
	action, answer, lang := h.cfg.Templates.ReadReply(r.PostForm.Get("Body"))
	m := courtside.InboundSMS{MessageID: r.PostForm.Get("MessageSid"), From: r.PostForm.Get("From"), Action: action, Answer: answer, Language: lang}
	res, err := h.cfg.Service.HandleInboundSMS(r.Context(), m)
	if err != nil {
		h.fail(w, err)
		return
	}
	text, err := h.cfg.Templates.Reply(res.Language, res.Reply, res.Help)
	if err != nil {
		h.cfg.Logger.Error("sms reply", "reply", res.Reply, "err", err)
		text = ""
	}
	h.cfg.Logger.Info("sms inbound", "action", action, "reply", res.Reply, "replayed", res.Replayed)
	var b strings.Builder
	b.WriteString(xml.Header)
	if text == "" {
		b.WriteString("<Response/>\n")
	} else {
		b.WriteString("<Response><Message>")
		_ = xml.EscapeText(&b, []byte(text))
		b.WriteString("</Message></Response>\n")
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

// receipt records a delivery receipt. Statuses on the way (queued, sending, sent, ...) are
// acknowledged and change nothing.
func (h *inboundHandler) receipt(w http.ResponseWriter, r *http.Request) {
	var status courtside.DeliveryStatus
	switch r.PostForm.Get("MessageStatus") {
	case "delivered", "read":
		status = courtside.DeliveryDelivered
	case "failed", "undelivered":
		status = courtside.DeliveryFailed
	case "accepted", "scheduled", "queued", "sending", "sent", "receiving", "received", "canceled":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		plainText(w, http.StatusBadRequest, "MessageStatus is not one the Messages API sends.")
		return
	}
	err := h.cfg.Service.RecordSMSReceipt(r.Context(), courtside.SMSReceipt{MessageID: r.PostForm.Get("MessageSid"), Status: status,
		ErrorCode: r.PostForm.Get("ErrorCode")})
	if err != nil {
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fail answers 400 for a bad field and 500 otherwise (the gateway may try again).
func (h *inboundHandler) fail(w http.ResponseWriter, err error) {
	if courtside.ErrorCode(err) == courtside.EINVALID {
		plainText(w, http.StatusBadRequest, courtside.ErrorMessage(err))
		return
	}
	h.cfg.Logger.Error("sms callback", "err", err)
	plainText(w, http.StatusInternalServerError, "Internal error.")
}

func plainText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
