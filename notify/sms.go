package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"courtside"
)

// MaxGatewaySMSLength is the longest SMS body, in characters, that a gateway of the Messages API
// shape accepts.
const MaxGatewaySMSLength = 1600

// SMS sends text messages through an HTTP gateway of the Messages API shape: a form POST of
// To, From and Body to {base}/Accounts/{sid}/Messages.json with HTTP Basic auth (the
// account SID and its auth token).
type SMS struct {
	// Client sends the requests; nil means a client with a 10 s timeout. Whatever the
	// client, redirects to another host are refused, and a client without a timeout of
	// its own gets 10 s.
	Client *http.Client

	// StatusCallback, when set, is sent with each message as the URL the gateway posts its
	// delivery receipts to (Courtside's /hooks/sms/status).
	StatusCallback string

	endpoint string // {base}/Accounts/{sid}/Messages.json, without credentials
	sid      string
	token    string
	from     string
}

var smsSID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// NewSMS returns a sender for rawURL, the gateway's base URL with the account SID as user
// and the auth token as password: https://SID:TOKEN@gateway.example/2010-04-01. Plain http
// is accepted only for a loopback host. from is the sending number or sender ID. Errors
// never contain the token.
func NewSMS(rawURL, from string) (*SMS, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, courtside.Invalidf("url", "not a valid URL (the value is not shown because it may hold a token)")
	}
	if err := checkHTTPURL(u); err != nil {
		return nil, courtside.Invalidf("url", "%v", err)
	}
	if u.User == nil {
		return nil, courtside.Invalidf("url", "%s has no credentials; the form is https://SID:TOKEN@host/base", hostOnly(u))
	}
	sid := u.User.Username()
	token, _ := u.User.Password()
	if !smsSID.MatchString(sid) || token == "" {
		return nil, courtside.Invalidf("url", "%s must carry the account SID (letters and digits) as user and the auth token as password", hostOnly(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, courtside.Invalidf("url", "%s must not have a query or fragment", hostOnly(u))
	}
	from = strings.TrimSpace(from)
	if from == "" || strings.ContainsFunc(from, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, courtside.Invalidf("from", "the sending number or sender ID is empty or has control characters")
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	return &SMS{
		endpoint: base.String() + "/Accounts/" + sid + "/Messages.json",
		sid:      sid,
		token:    token,
		from:     from,
	}, nil
}

// Channel reports SMS.
func (s *SMS) Channel() courtside.Channel { return courtside.ChannelSMS }

// String describes the sender without its token.
func (s *SMS) String() string { return s.endpoint }

// From returns the sending number or sender ID.
func (s *SMS) From() string { return s.from }

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// messageSID is the form of a gateway's message SID: letters and digits.
var messageSID = regexp.MustCompile(`^[A-Za-z0-9]{2,64}$`)

// Send posts m to the gateway with m.IdempotencyKey in the Idempotency-Key header. A 4xx
// answer other than 408 and 429, a recipient that is not an E.164 number and a body over
// MaxGatewaySMSLength characters are Permanent; 5xx, 408, 429 and network failures are temporary.
func (s *SMS) Send(ctx context.Context, m Message) error {
	_, err := s.SendForID(ctx, m)
	return err
}

// SendForID sends m as Send does and returns the message SID the gateway answered with (""
// when its answer has none), which its delivery receipts quote.
func (s *SMS) SendForID(ctx context.Context, m Message) (string, error) {
	if !e164.MatchString(m.To) {
		return "", Permanent(courtside.Invalidf("to", "The recipient is not an E.164 phone number."))
	}
	if !utf8.ValidString(m.Body) || strings.TrimSpace(m.Body) == "" {
		return "", Permanent(courtside.Invalidf("body", "The message body is empty or not valid UTF-8."))
	}
	if n := utf8.RuneCountInString(m.Body); n > MaxGatewaySMSLength {
		return "", Permanent(courtside.Invalidf("body", "The message has %d characters; an SMS takes at most %d.", n, MaxGatewaySMSLength))
	}
	if !validHeaderToken(m.IdempotencyKey) {
		return "", Permanent(courtside.Invalidf("idempotencyKey", "The idempotency key is empty or has characters a header cannot carry."))
	}
	form := url.Values{"To": {m.To}, "From": {s.from}, "Body": {m.Body}}
	if s.StatusCallback != "" {
		form.Set("StatusCallback", s.StatusCallback)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("sms: %w", err)
	}
	req.SetBasicAuth(s.sid, s.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", m.IdempotencyKey)
	req.Header.Set("User-Agent", "Courtside-Notify")

	resp, err := doHTTP(s.Client, req, true)
	if err != nil {
		return "", classifyHTTPError("sms", err)
	}
	defer drain(resp)
	// The gateway's answer may repeat the number; keep only its SID or numeric code.
	var answer struct {
		SID  string `json:"sid"`
		Code int    `json:"code"`
	}
	decoded := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&answer) == nil
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if !decoded || !messageSID.MatchString(answer.SID) {
			return "", nil
		}
		return answer.SID, nil
	}
	detail := ""
	if decoded && answer.Code != 0 {
		detail = fmt.Sprintf(" (gateway code %d)", answer.Code)
	}
	return "", statusError("sms: gateway", resp.StatusCode, detail)
}

// checkHTTPURL accepts an absolute https URL, or http for a loopback host: the rule of every
// address Courtside sends to (courtside.CheckSendURL).
func checkHTTPURL(u *url.URL) error {
	if err := courtside.CheckSendURL(u); err != nil {
		return fmt.Errorf("%s", courtside.ErrorMessage(err))
	}
	return nil
}

// hostOnly describes u for an error message: scheme and host, never user information or
// a path (a malformed URL can carry a secret there).
func hostOnly(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}

// validHeaderToken reports whether key is a non-empty run of visible ASCII.
func validHeaderToken(key string) bool {
	if key == "" || len(key) > 255 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] >= 0x7f {
			return false
		}
	}
	return true
}

// errRedirect is returned by the redirect policies.
var errRedirect = errors.New("redirect refused")

// doHTTP sends req with a copy of client (or a default one) whose redirect policy follows
// redirects to the same host when sameHost is true and none otherwise, bounded by 10 s when
// the client has no timeout of its own (a shorter deadline on ctx still wins).
func doHTTP(client *http.Client, req *http.Request, sameHost bool) (*http.Response, error) {
	var c http.Client
	if client != nil {
		c = *client
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if !sameHost {
			return fmt.Errorf("%w: the endpoint answered with a redirect", errRedirect)
		}
		if len(via) >= 3 {
			return fmt.Errorf("%w: more than 3 redirects", errRedirect)
		}
		if r.URL.Host != via[0].URL.Host || r.URL.Scheme != via[0].URL.Scheme {
			return fmt.Errorf("%w: redirect to another host", errRedirect)
		}
		return nil
	}
	return c.Do(req)
}

// classifyHTTPError makes a refused redirect Permanent (the same request gets the same
// answer) and any other transport failure temporary.
func classifyHTTPError(prefix string, err error) error {
	if errors.Is(err, errRedirect) {
		return Permanent(fmt.Errorf("%s: %w", prefix, errRedirect))
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// statusError classifies a non-2xx status: 4xx other than 408 and 429 is Permanent.
func statusError(prefix string, status int, detail string) error {
	err := &HTTPStatusError{Prefix: prefix, StatusCode: status, Detail: detail}
	if status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests {
		return Permanent(err)
	}
	return err
}

// HTTPStatusError is a receiver's non-2xx answer.
type HTTPStatusError struct {
	Prefix     string
	StatusCode int
	Detail     string
}

// Error names the status code.
func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("%s answered %d %s%s", e.Prefix, e.StatusCode, http.StatusText(e.StatusCode), e.Detail)
}

// drain reads a little of the body, so that the connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
