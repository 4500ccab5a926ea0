package calendar

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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
	// CacheBytes bounds the feed bodies kept in memory, each for one version of its user's
	// calendar while the window's moving does not change it. Zero means
	// DefaultFeedCacheBytes; a negative value keeps none.
	CacheBytes int64
}

// DefaultFeedCacheBytes is FeedConfig.CacheBytes unless it says otherwise.
const DefaultFeedCacheBytes = 64 << 20

// feedHandler serves /feeds/{secret}.ics.
type feedHandler struct {
	cfg FeedConfig
	// head and tail are the VCALENDAR around the events: every feed's body is head, the
	// stored VEVENTs in the window, tail.
	head, tail []byte
	cache      *feedCache
}

// NewFeedHandler returns the handler of the webcal feeds: mount it at /feeds/. GET or HEAD of
// /feeds/{secret}.ics, where secret is a live feed token, answers the token owner's hearings
// calendar as one iCalendar object (METHOD:PUBLISH), with the same events, UIDs and SEQUENCE as
// the CalDAV calendar but without victims' pseudonyms: a feed URL is a bearer secret that is
// easily forwarded or leaked, so it carries the docket number and nothing about a victim.
// Hearings within the window are in it; a cancelled one stays, STATUS:CANCELLED, until 30 days
// after its cancellation. An unknown, revoked or other kind of secret gets the same 404 as any
// other path, other methods 405. Responses carry a strong ETag over the body and answer a
// matching If-None-Match with 304. Nothing is rendered on a request: the body is assembled from
// the VEVENTs the calendar projection stored (FindFeedEvents), and kept, with its ETag, for
// that version of the user's calendar until the moving window would change it. It panics when
// Tokens or Calendars is nil: that is a wiring mistake.
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
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultFeedCacheBytes
	}
	head, tail := feedFrame(cfg.RefreshInterval)
	return &feedHandler{cfg: cfg, head: head, tail: tail, cache: &feedCache{max: cfg.CacheBytes, entries: map[int64]*feedEntry{}}}
}

// feedFrame returns the VCALENDAR of a feed without its events, cut where they go: the
// calendar's properties before, END:VCALENDAR after. golang-ical writes a calendar's
// properties, then its components, then END:VCALENDAR.
func feedFrame(refresh time.Duration) (head, tail []byte) {
	ttl := isoDuration(refresh)
	cal := newCalendar(DefaultProdID)
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(FeedName)
	cal.SetRefreshInterval(ttl) // golang-ical adds VALUE=DURATION
	cal.SetXPublishedTTL(ttl)
	var b bytes.Buffer
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		panic("calendar: feed frame: " + err.Error()) // fixed input: a bug, not a condition
	}
	const end = "END:VCALENDAR\r\n"
	whole := b.Bytes()
	if !bytes.HasSuffix(whole, []byte(end)) {
		panic("calendar: feed frame: no END:VCALENDAR")
	}
	return whole[:len(whole)-len(end)], []byte(end)
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
	body, etag, err := h.body(ctx, user.ID, h.cfg.Now())
	if err != nil {
		h.fail(w, err, "feed events")
		return
	}

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

// body returns the feed of the user's hearings calendar at now and its quoted ETag: the one
// kept for the calendar's version while it is still right at now, else one assembled from the
// stored feed events of the window, in calendar order.
func (h *feedHandler) body(ctx context.Context, userID int64, now time.Time) ([]byte, string, error) {
	version, _, err := h.cfg.Calendars.CalendarVersion(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	if e := h.cache.get(userID, version, now); e != nil {
		return e.body, e.etag, nil
	}
	// The window is decided in SQL on the stored times: every event that overlaps it,
	// cancelled ones only while recently cancelled.
	fe, err := h.cfg.Calendars.FindFeedEvents(ctx, userID, courtside.FeedWindow{From: now.Add(-h.cfg.WindowBack),
		Until: now.Add(h.cfg.WindowAhead), CancelledAfter: now.Add(-DefaultCancelledFeedKeep)})
	if err != nil {
		return nil, "", err
	}
	size := len(h.head) + len(h.tail)
	for _, e := range fe.Events {
		size += len(e)
	}
	body := make([]byte, 0, size)
	body = append(body, h.head...)
	for _, e := range fe.Events {
		body = append(body, e...)
	}
	body = append(body, h.tail...)
	etag := `"` + ETag(body) + `"`
	// The body stays right until an event leaves the window (its end WindowBack ago) or the
	// days kept after its cancellation, or another enters (its start WindowAhead away).
	var valid time.Time
	for _, t := range []struct {
		at time.Time
		d  time.Duration
	}{{fe.FirstEnd, h.cfg.WindowBack}, {fe.FirstCancelled, DefaultCancelledFeedKeep}, {fe.NextStart, -h.cfg.WindowAhead}} {
		if !t.at.IsZero() && (valid.IsZero() || t.at.Add(t.d).Before(valid)) {
			valid = t.at.Add(t.d)
		}
	}
	h.cache.put(userID, &feedEntry{version: fe.Version, from: now, until: valid, body: body, etag: etag})
	return body, etag, nil
}

// feedCache keeps assembled feed bodies, one per user, up to max bytes in all, the least
// recently used going first.
type feedCache struct {
	mu      sync.Mutex
	max     int64
	size    int64
	clock   uint64
	entries map[int64]*feedEntry
}

// feedEntry is a feed body, right for one version of the user's calendar from from until
// until (a zero until: for as long as the version holds).
type feedEntry struct {
	version     int64
	from, until time.Time
	body        []byte
	etag        string
	used        uint64
}

// get returns the user's kept feed when it is right for version at now.
func (c *feedCache) get(userID, version int64, now time.Time) *feedEntry {
	if c.max < 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[userID]
	if e == nil || e.version != version || now.Before(e.from) || (!e.until.IsZero() && !now.Before(e.until)) {
		return nil
	}
	c.clock++
	e.used = c.clock
	return e
}

// put keeps e as the user's feed, dropping the least recently used others while the cache is
// over its size. A body larger than the whole cache is not kept.
func (c *feedCache) put(userID int64, e *feedEntry) {
	if c.max < 0 || int64(len(e.body)) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[userID]; old != nil {
		c.size -= int64(len(old.body))
	}
	c.clock++
	e.used = c.clock
	c.entries[userID] = e
	c.size += int64(len(e.body))
	for c.size > c.max {
		var oldest int64
		var lru *feedEntry
		for id, x := range c.entries {
			if lru == nil || x.used < lru.used {
				oldest, lru = id, x
			}
		}
		delete(c.entries, oldest)
		c.size -= int64(len(lru.body))
	}
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
