package calendar

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"courtside"

	ics "github.com/arran4/golang-ical"
)

// FeedsRoot is where the webcal feeds live: /feeds/{secret}.ics.
const FeedsRoot = "/feeds/"

// FeedName is the X-WR-CALNAME of every feed.
const FeedName = "Courtside hearings"

// Defaults of FeedConfig.
const (
	DefaultFeedWindowBack    = 30 * 24 * time.Hour
	DefaultFeedWindowAhead   = 365 * 24 * time.Hour
	DefaultRefreshInterval   = time.Hour
	DefaultCancelledFeedKeep = 30 * 24 * time.Hour
)

// maxFeedSecret caps the secret taken from a path; issued secrets are 51 characters long.
const maxFeedSecret = 128

// FeedPath returns the path of the feed whose secret is secret.
func FeedPath(secret string) string { return FeedsRoot + secret + ".ics" }

// FeedConfig is what NewFeedHandler needs.
type FeedConfig struct {
	// Tokens checks feed secrets. Required.
	Tokens courtside.TokenService
	// Calendars answers what each user's hearings calendar holds. Required.
	Calendars courtside.CalendarService
	// Logger receives internal errors and recovered panics, never secrets or victim data.
	// Nil discards.
	Logger *slog.Logger
	// Now returns the current time. Nil means the wall clock.
	Now func() time.Time
	// WindowBack and WindowAhead bound the feed: hearings that end more than WindowBack ago or
	// start more than WindowAhead from now are left out. Zero means 30 days back, one year ahead.
	WindowBack, WindowAhead time.Duration
	// RefreshInterval is the polling interval the feed asks for (REFRESH-INTERVAL and
	// X-PUBLISHED-TTL). Zero means one hour.
	RefreshInterval time.Duration
}

// feedHandler serves /feeds/{secret}.ics.
type feedHandler struct {
	cfg FeedConfig
}

// NewFeedHandler returns the handler of the webcal feeds: mount it at /feeds/. GET or HEAD of
// /feeds/{secret}.ics, where secret is a live feed token, answers the token owner's hearings
// calendar as one iCalendar object (METHOD:PUBLISH), with the same events, UIDs and SEQUENCE as
// the CalDAV calendar but without victims' pseudonyms: a feed URL is a bearer secret that is
// easily forwarded or leaked, so it carries the docket number and nothing about a victim.
// Hearings within the window are in it; a cancelled one stays, STATUS:CANCELLED, until 30 days
// after its cancellation. An unknown, revoked or other kind of secret gets the same 404 as any
// other path, other methods 405. Responses carry a strong ETag over the body and answer a
// matching If-None-Match with 304. It panics when Tokens or Calendars is nil: that is a wiring
// mistake.
func NewFeedHandler(cfg FeedConfig) http.Handler {
	if cfg.Tokens == nil || cfg.Calendars == nil {
		panic("calendar: NewFeedHandler: FeedConfig.Tokens and FeedConfig.Calendars are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = courtside.SystemClock
	}
	if cfg.WindowBack <= 0 {
		cfg.WindowBack = DefaultFeedWindowBack
	}
	if cfg.WindowAhead <= 0 {
		cfg.WindowAhead = DefaultFeedWindowAhead
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	return &feedHandler{cfg: cfg}
}

// ServeHTTP implements http.Handler.
func (h *feedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.cfg.Logger.Error("calendar: feed panic", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			writeError(w, http.StatusInternalServerError, "")
		}
	}()
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")

	secret, ok := feedSecret(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "")
		return
	}

	ctx := r.Context()
	user, err := h.cfg.Tokens.Authenticate(ctx, courtside.TokenFeed, secret)
	if err != nil {
		if courtside.ErrorCode(err) == courtside.EUNAUTHORIZED {
			// Unknown, revoked and other kinds of secret all look like a path that is not there.
			writeError(w, http.StatusNotFound, "")
			return
		}
		h.fail(w, err, "authenticate")
		return
	}
	ctx = courtside.NewContextWithUser(ctx, user)
	// Only the window's hearings are read; render decides on each at its own now, so the range
	// read here is a minute wider on both sides.
	now := h.cfg.Now()
	hearings, err := h.cfg.Calendars.FindCalendarHearingsInRange(ctx, user.ID,
		now.Add(-h.cfg.WindowBack-time.Minute), now.Add(h.cfg.WindowAhead+time.Minute))
	if err != nil {
		h.fail(w, err, "find hearings")
		return
	}
	body, err := h.render(hearings)
	if err != nil {
		h.fail(w, err, "render")
		return
	}

	etag := `"` + ETag(body) + `"`
	hdr := w.Header()
	hdr.Set("ETag", etag)
	if noneMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", "text/calendar; charset=utf-8")
	hdr.Set("Content-Disposition", `inline; filename="courtside-hearings.ics"`)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// fail logs an internal error (never the secret: it is not in err, nor in what is logged) and
// answers 500.
func (h *feedHandler) fail(w http.ResponseWriter, err error, op string) {
	status := http.StatusInternalServerError
	if courtside.ErrorCode(err) == courtside.ENOTFOUND {
		status = http.StatusNotFound // the token's user is gone
	} else {
		h.cfg.Logger.Error("calendar: feed", slog.String("op", op), slog.Any("err", err))
	}
	writeError(w, status, "")
}

// feedSecret returns the secret of a feed path, /feeds/{secret}.ics.
func feedSecret(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, FeedsRoot)
	if !ok {
		return "", false
	}
	secret, ok := strings.CutSuffix(rest, ".ics")
	if !ok || secret == "" || len(secret) > maxFeedSecret || strings.ContainsAny(secret, "/.") {
		return "", false
	}
	return secret, true
}

// render renders the feed of hearings: the VCALENDAR with every hearing in the window, cancelled
// ones only while recently cancelled, in the order given, without pseudonyms.
func (h *feedHandler) render(hearings []*courtside.CalendarHearing) ([]byte, error) {
	now := h.cfg.Now()
	from, until := now.Add(-h.cfg.WindowBack), now.Add(h.cfg.WindowAhead)
	ttl := isoDuration(h.cfg.RefreshInterval)

	cal := newCalendar(DefaultProdID)
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(FeedName)
	cal.SetRefreshInterval(ttl) // golang-ical adds VALUE=DURATION
	cal.SetXPublishedTTL(ttl)
	for _, ch := range hearings {
		if !inFeed(ch, now, from, until) {
			continue
		}
		c := *ch
		c.Pseudonyms = nil // see NewFeedHandler: a feed names no victim, not even by pseudonym
		if err := addHearingEvent(cal, &c); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar: render feed: %w", err)
	}
	return b.Bytes(), nil
}

// inFeed reports whether a hearing belongs in a feed rendered at now: it overlaps [from, until)
// and, when cancelled, was cancelled (last updated) less than DefaultCancelledFeedKeep ago.
func inFeed(ch *courtside.CalendarHearing, now, from, until time.Time) bool {
	h := &ch.Hearing
	// An open offer is answered in the calendar app, by the offer's link or over GraphQL; a
	// feed, which cannot answer, lists only hearings the interpreter has taken.
	if ch.Attendee != nil && ch.Attendee.Status == courtside.BookingOffered {
		return false
	}
	if !h.EndsAt.After(from) || !h.StartsAt.Before(until) {
		return false
	}
	if h.Status == courtside.HearingCancelled {
		at := h.UpdatedAt
		if at.IsZero() {
			at = h.CreatedAt
		}
		return now.Sub(at) < DefaultCancelledFeedKeep
	}
	return true
}

// isoDuration formats d, rounded down to whole seconds (at least one), as an RFC 5545
// duration: PT1H, PT90M, PT45S, and so on.
func isoDuration(d time.Duration) string {
	s := int64(d / time.Second)
	if s < 1 {
		s = 1
	}
	switch {
	case s%3600 == 0:
		return "PT" + strconv.FormatInt(s/3600, 10) + "H"
	case s%60 == 0:
		return "PT" + strconv.FormatInt(s/60, 10) + "M"
	}
	return "PT" + strconv.FormatInt(s, 10) + "S"
}
