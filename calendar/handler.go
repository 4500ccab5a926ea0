package calendar

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"courtside"

	"github.com/emersion/go-webdav/caldav"
)

// DefaultMaxBodyBytes caps CalDAV request bodies unless Config says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// WellKnownPath is where CalDAV clients start looking (RFC 6764).
const WellKnownPath = "/.well-known/caldav"

// Config is what NewHandler needs.
type Config struct {
	// Users is the user service. The handler needs none of it today (the app password
	// check returns the user); it is here so that wiring stays stable as the calendar grows.
	Users courtside.UserService
	// Tokens checks app passwords. Required.
	Tokens courtside.TokenService
	// Calendars answers what each user's hearings calendar holds. Required.
	Calendars courtside.CalendarService
	// Availability stores the personal calendars (availability and those made with
	// MKCALENDAR). Nil leaves only the hearings calendar.
	Availability courtside.AvailabilityService
	// Bookings answers interpreters who accept or decline in their calendar app (PARTSTAT).
	// Nil refuses every change to the hearings calendar.
	Bookings courtside.BookingService
	// Scheduling serves CalDAV scheduling (RFC 6638, scheduling.go): interpreters' inboxes of
	// booking invitations and their replies. It is on when Scheduling, InvitationUID and
	// Organizer are all set.
	Scheduling courtside.SchedulingService
	// InvitationUID signs the invitations' UIDs (courtside.InvitationService.InvitationUID).
	InvitationUID func(bookingID, interpreterID int64, domain string) string
	// Organizer is the e-mail address of Courtside's ORGANIZER in the invitations (the iMIP
	// reply address when there is one).
	Organizer string
	// Logger receives internal errors and recovered panics, never victim data or secrets.
	// Nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies; larger ones get 413. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxResponseBytes caps answers (bounds.go). Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64
}

// handler serves /.well-known/caldav and /dav/.
type handler struct {
	tokens    courtside.TokenService
	calendars courtside.CalendarService
	avail     courtside.AvailabilityService
	bookings  courtside.BookingService
	backend   *backend

	scheduling    courtside.SchedulingService
	invitationUID func(bookingID, interpreterID int64, domain string) string
	organizer     string
	logger        *slog.Logger
	maxBody       int64
	maxAnswer     int64

	// go-webdav tells principals, home sets, calendars and objects apart by the number of path
	// segments after its Prefix, expecting /<user>/, /<user>/<home>/, ... Our principals
	// (/dav/principals/<user>/) and home sets (/dav/calendars/<user>/) have the same depth, so
	// principals go to a handler whose Prefix is /dav/principals. Hrefs are whatever the
	// backend returns, so they stay /dav/... either way.
	dav        *caldav.Handler
	principals *caldav.Handler
}

// NewHandler returns the CalDAV handler: mount it at /.well-known/caldav and /dav/. It wraps
// go-webdav's caldav.Handler with HTTP Basic auth (username and app password), 404 for other
// users' paths, 403 for changes and for PROPFIND with an infinite depth on a collection, a
// body cap (413), 304 on a matching If-None-Match, short plain-text errors and panic recovery,
// and adds what go-webdav lacks for the hearings calendar: the sync-collection REPORT (sync.go),
// and CS:getctag, DAV:sync-token, DAV:current-user-privilege-set and DAV:supported-report-set
// in PROPFIND (props.go). With Config.Availability it serves the read-write personal calendars
// too (availability.go: PUT with 201/204 and 412, DELETE, MKCALENDAR, their own sync), the
// free-busy-query REPORT (freebusy.go), and, with Config.Bookings, interpreters' PARTSTAT
// answers in the hearings calendar (partstat.go).
// It panics when Tokens or Calendars is nil: that is a wiring mistake.
func NewHandler(cfg Config) http.Handler {
	if cfg.Tokens == nil || cfg.Calendars == nil {
		panic("calendar: NewHandler: Config.Tokens and Config.Calendars are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	b := &backend{calendars: cfg.Calendars, avail: cfg.Availability, prodID: DefaultProdID, logger: cfg.Logger}
	return &handler{
		tokens:    cfg.Tokens,
		calendars: cfg.Calendars,
		avail:     cfg.Availability,
		bookings:  cfg.Bookings,
		backend:   b,

		scheduling:    cfg.Scheduling,
		invitationUID: cfg.InvitationUID,
		organizer:     strings.TrimSpace(cfg.Organizer),
		logger:        cfg.Logger,
		maxBody:       cfg.MaxBodyBytes,
		maxAnswer:     cfg.MaxResponseBytes,
		dav:           &caldav.Handler{Backend: b, Prefix: strings.TrimSuffix(davRoot, "/")},
		principals:    &caldav.Handler{Backend: b, Prefix: strings.TrimSuffix(principalsRoot, "/")},
	}
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &responseWriter{ResponseWriter: w, req: r, max: h.maxAnswer}
	defer h.recover(rw, r)

	rw.Header().Set("Cache-Control", "private, no-cache")
	if strings.TrimSuffix(r.URL.Path, "/") == WellKnownPath {
		// Clients follow this with their credentials and ask /dav/ for current-user-principal
		// (RFC 6764 section 6). Answering here without authentication counts no failed login.
		http.Redirect(rw, r, davRoot, http.StatusPermanentRedirect)
		return
	}
	// A client given the server's address (http://host/) asks that URL, or any other, for
	// current-user-principal (RFC 5397, RFC 6764 section 6): a PROPFIND outside /dav/ is
	// answered as one on /dav/ is, for that path.
	discovery := r.Method == "PROPFIND" && r.URL.Path != "/dav" && !strings.HasPrefix(r.URL.Path, davRoot)
	if !discovery && r.URL.Path != "/dav" && !strings.HasPrefix(r.URL.Path, davRoot) {
		rw.fail(http.StatusNotFound, "")
		return
	}

	user := authenticate(rw, r, h.tokens, h.logger)
	if user == nil {
		return
	}
	r = r.WithContext(courtside.NewContextWithUser(r.Context(), user))
	if discovery {
		if r.ContentLength > h.maxBody {
			rw.fail(http.StatusRequestEntityTooLarge, "")
			return
		}
		rw.body = newLimitedBody(w, r, h.maxBody)
		r.Body = rw.body
		body, ok := readBody(rw, r)
		if !ok {
			return
		}
		if msg := checkRequestBody(body); msg != "" {
			rw.fail(http.StatusBadRequest, msg)
			return
		}
		serveRootPropFind(rw, r, user, r.URL.Path)
		rw.finish()
		return
	}

	p := parsePath(r.URL.Path)
	if p.kind != resourceRoot && p.username != user.Username {
		rw.fail(http.StatusNotFound, "")
		return
	}
	if status, msg := check(r, p); status != 0 {
		rw.fail(status, msg)
		return
	}
	if r.Method == "PROPFIND" && p.collection() && infiniteDepth(r.Header.Get("Depth")) {
		rw.raw(http.StatusForbidden, func() { writeFiniteDepthError(w) })
		return
	}

	if r.ContentLength > h.maxBody {
		rw.fail(http.StatusRequestEntityTooLarge, "")
		return
	}
	rw.body = newLimitedBody(w, r, h.maxBody)
	r.Body = rw.body

	// The backend compares paths exactly: hand it the canonical spelling.
	r.URL.Path, r.URL.RawPath = p.canonical(), ""
	if bodyMethods[r.Method] {
		// Counted before anything is built from it (bounds.go).
		body, ok := readBody(rw, r)
		if !ok {
			return
		}
		if msg := checkRequestBody(body); msg != "" {
			rw.fail(http.StatusBadRequest, msg)
			return
		}
	}
	if h.serveScheduling(rw, r, user, p) {
		rw.finish()
		return
	}
	if r.Method == "REPORT" {
		body, ok := readBody(rw, r)
		if !ok {
			return
		}
		switch reportName(body) {
		case syncCollectionName:
			if p.kind == resourcePersonal {
				h.servePersonalSync(rw, r, user, p, body)
			} else {
				h.serveSyncCollection(rw, r, user, p, body)
			}
			rw.finish()
			return
		case calendarQueryName:
			if (p.kind == resourcePersonal && h.servePersonalQuery(rw, r, user, p, body)) ||
				(p.kind == resourceHearings && (h.serveHearingsQuery(rw, r, user, body) || h.serveHearingsFilteredQuery(rw, r, user, body))) {
				rw.finish()
				return
			}
			if p.kind == resourcePersonal && expandingFilter(body) {
				// go-webdav would expand recurrences for this filter, per object and query.
				rw.raw(http.StatusForbidden, func() {
					writeCalDAVErrorMessage(rw.ResponseWriter, http.StatusForbidden, "supported-filter",
						"Time ranges are supported on the VCALENDAR, VEVENT and VTODO components only.")
				})
				return
			}
		case calendarMultigetName:
			if (p.kind == resourcePersonal && h.servePersonalMultiget(rw, r, user, p, body)) ||
				(p.kind == resourceHearings && h.serveHearingsMultiget(rw, r, user, body)) {
				rw.finish()
				return
			}
		case freeBusyQueryName:
			h.serveFreeBusy(rw, r, user, p, body)
			rw.finish()
			return
		}
	}
	switch {
	case r.Method == http.MethodPut && p.kind == resourcePersonalObject:
		h.servePut(rw, r, user, p)
	case r.Method == http.MethodDelete && p.kind == resourcePersonalObject:
		h.serveDelete(rw, r, p)
	case r.Method == http.MethodDelete && p.kind == resourcePersonal:
		h.serveDeleteCalendar(rw, r, p)
	case r.Method == http.MethodPut && p.kind == resourceHearing:
		h.servePartstat(rw, r, user, p)
	case r.Method == http.MethodDelete && p.kind == resourceHearing:
		rw.raw(http.StatusForbidden, func() { writeCalDAVError(rw.ResponseWriter, http.StatusForbidden, "valid-calendar-object-resource") })
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && (p.kind == resourceHearings || p.kind == resourcePersonal):
		h.serveExport(rw, r, user, p)
	case r.Method == "MKCALENDAR":
		h.serveMkcalendar(rw, r, p)
	case r.Method == http.MethodOptions:
		serveOptions(rw, p, h.schedulingOn())
	case r.Method == "PROPPATCH":
		h.servePropPatch(rw, r, p)
	case r.Method == "PROPFIND" && p.kind == resourceRoot:
		serveRootPropFind(rw, r, user, davRoot)
	case r.Method == "PROPFIND" && (p.kind == resourceHomeSet || p.kind == resourceHearings || p.kind == resourcePersonal):
		h.servePropFindWithExtras(rw, r, user)
	case r.Method == "PROPFIND" && p.kind == resourcePrincipal:
		h.servePrincipalPropFind(rw, r, user)
	case p.kind == resourcePrincipal:
		h.principals.ServeHTTP(rw, r)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && p.kind == resourcePersonalObject:
		h.setScheduleTag(rw, r, p)
		h.dav.ServeHTTP(rw, r)
	default:
		h.dav.ServeHTTP(rw, r)
	}
	rw.finish()
}

// writeMethods change resources. The hearings calendar is server-generated, so they are
// refused everywhere in the caller's space except PUT and DELETE of objects (personal
// calendars; PARTSTAT answers in the hearings calendar) and MKCALENDAR (personal calendars).
var writeMethods = map[string]bool{
	http.MethodPut: true, http.MethodDelete: true, http.MethodPost: true, http.MethodPatch: true,
	"MKCOL": true, "MKCALENDAR": true, "COPY": true, "MOVE": true, "ACL": true,
	"LOCK": true, "UNLOCK": true,
}

// check applies the rules that need no backend, for a path in the caller's own space: changes
// are forbidden, unknown paths are not found, GET of a collection is not allowed. It returns
// status 0 when the request may go on.
func check(r *http.Request, p davPath) (status int, msg string) {
	switch {
	case (r.Method == http.MethodPut || r.Method == http.MethodDelete) &&
		(p.kind == resourcePersonalObject || p.kind == resourceHearing):
		return 0, ""
	case r.Method == http.MethodDelete && p.kind == resourcePersonal:
		return 0, ""
	case p.kind == resourceInbox || p.kind == resourceInboxItem || p.kind == resourceOutbox:
		return 0, "" // serveScheduling answers every method there (405 for the others)
	case r.Method == "MKCALENDAR" && p.username != "":
		return 0, ""
	case writeMethods[r.Method]:
		return http.StatusForbidden, "Forbidden: the hearings calendar is read-only."
	case p.kind == resourceUnknown:
		return http.StatusNotFound, ""
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && p.collection() &&
		p.kind != resourceHearings && p.kind != resourcePersonal:
		return http.StatusMethodNotAllowed, ""
	}
	return 0, ""
}

// infiniteDepth reports whether a PROPFIND Depth header asks for infinity: explicitly, or by
// its absence (RFC 4918 section 9.1).
func infiniteDepth(depth string) bool {
	depth = strings.TrimSpace(depth)
	return depth == "" || strings.EqualFold(depth, "infinity")
}

// finiteDepthError is the body of the 403 that refuses an infinite-depth PROPFIND (RFC 4918
// section 9.1).
const finiteDepthError = `<?xml version="1.0" encoding="utf-8"?>
<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>
`

// writeFiniteDepthError writes the 403 propfind-finite-depth response.
func writeFiniteDepthError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", `application/xml; charset="utf-8"`)
	w.WriteHeader(http.StatusForbidden)
	w.Write([]byte(finiteDepthError))
}

// recover turns a panic into a 500 with a short body, or, when the response has begun, aborts
// it. The panic is logged with its stack; request bodies and credentials are not.
func (h *handler) recover(rw *responseWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	if v == errAnswerTooLarge {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "calendar: answer cut off at its cap",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int64("max_bytes", rw.max))
		panic(http.ErrAbortHandler)
	}
	h.logger.LogAttrs(r.Context(), slog.LevelError, "calendar: panic",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
	if rw.wroteHeader {
		panic(http.ErrAbortHandler)
	}
	rw.fail(http.StatusInternalServerError, "")
}
