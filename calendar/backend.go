package calendar

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"courtside"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
)

// backend is the caldav.Backend over the root services. The user comes from the request
// context; every path outside the user's own space is "not found", and the one calendar,
// hearings, is server-generated and read-only.
type backend struct {
	calendars courtside.CalendarService
	avail     courtside.AvailabilityService // nil: no personal calendars
	prodID    string
	logger    *slog.Logger
}

var _ caldav.Backend = (*backend)(nil)

// user returns the authenticated user of the request.
func (b *backend) user(ctx context.Context) (*courtside.User, error) {
	u := courtside.UserFromContext(ctx)
	if u == nil || u.ID == 0 {
		return nil, webdav.NewHTTPError(http.StatusUnauthorized, safeError("Unauthorized."))
	}
	return u, nil
}

// own parses p and returns it when it names a resource of the wanted kind in the user's own
// space; anything else is not found.
func (b *backend) own(ctx context.Context, p string, want resourceKind) (*courtside.User, davPath, error) {
	u, err := b.user(ctx)
	if err != nil {
		return nil, davPath{}, err
	}
	dp := parsePath(p)
	if dp.kind != want || dp.username != u.Username {
		return nil, davPath{}, errNotFound
	}
	return u, dp, nil
}

// CurrentUserPrincipal returns the path of the user's principal.
func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	u, err := b.user(ctx)
	if err != nil {
		return "", err
	}
	return PrincipalPath(u.Username), nil
}

// CalendarHomeSetPath returns the path of the user's calendar home set.
func (b *backend) CalendarHomeSetPath(ctx context.Context) (string, error) {
	u, err := b.user(ctx)
	if err != nil {
		return "", err
	}
	return HomeSetPath(u.Username), nil
}

// hearingsCalendar describes the user's hearings calendar.
func hearingsCalendar(u *courtside.User) caldav.Calendar {
	return caldav.Calendar{
		Path:                  HearingsPath(u.Username),
		Name:                  "Hearings",
		Description:           "Court hearings you work on. Read-only: changes come from Courtside.",
		SupportedComponentSet: []string{ical.CompEvent},
	}
}

// CreateCalendar refuses: the user's calendars are the server's.
func (b *backend) CreateCalendar(ctx context.Context, cal *caldav.Calendar) error {
	if _, err := b.user(ctx); err != nil {
		return err
	}
	return webdav.NewHTTPError(http.StatusForbidden, safeError("Calendars cannot be created here."))
}

// ListCalendars returns the user's one calendar.
func (b *backend) ListCalendars(ctx context.Context) ([]caldav.Calendar, error) {
	u, err := b.user(ctx)
	if err != nil {
		return nil, err
	}
	cals := []caldav.Calendar{hearingsCalendar(u)}
	personal, err := b.personalCalendars(ctx, u)
	if err != nil {
		return nil, err
	}
	return b.withSettings(ctx, append(cals, personal...))
}

// GetCalendar returns the user's hearings calendar; any other path is not found.
func (b *backend) GetCalendar(ctx context.Context, p string) (*caldav.Calendar, error) {
	if parsePath(p).kind == resourcePersonal {
		return b.getPersonalCalendar(ctx, p)
	}
	u, _, err := b.own(ctx, p, resourceHearings)
	if err != nil {
		return nil, err
	}
	cals, err := b.withSettings(ctx, []caldav.Calendar{hearingsCalendar(u)})
	if err != nil {
		return nil, err
	}
	return &cals[0], nil
}

// GetCalendarObject returns one hearing of the user's calendar, as the calendar projection
// stored it. A hearing the user does not work on is not found, like a path outside the user's
// space.
func (b *backend) GetCalendarObject(ctx context.Context, p string, req *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	if parsePath(p).kind == resourcePersonalObject {
		return b.getPersonalObject(ctx, p)
	}
	u, dp, err := b.own(ctx, p, resourceHearing)
	if err != nil {
		return nil, err
	}
	objs, err := b.calendars.FindCalendarObjectsByID(ctx, u.ID, []int64{dp.hearingID}, true)
	if err != nil {
		return nil, davError(ctx, b.logger, "find calendar object", err)
	}
	if len(objs) == 0 {
		return nil, errNotFound
	}
	co, err := storedObject(u, objs[0])
	if err != nil {
		return nil, davError(ctx, b.logger, "decode calendar object", err)
	}
	return co, nil
}

// ListCalendarObjects returns every hearing of the user's calendar, cancelled ones included,
// as stored; a listing for a PROPFIND that asks for no calendar-data (withoutData) reads no
// object's bytes.
func (b *backend) ListCalendarObjects(ctx context.Context, p string, req *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	if parsePath(p).kind == resourcePersonal {
		return b.queryPersonal(ctx, p, nil)
	}
	u, _, err := b.own(ctx, p, resourceHearings)
	if err != nil {
		return nil, err
	}
	var objs []*courtside.CalendarObject
	if dataNotNeeded(ctx) {
		objs, err = b.calendars.FindCalendarObjectHeads(ctx, u.ID)
	} else {
		objs, err = b.calendars.FindCalendarObjects(ctx, u.ID, time.Time{}, time.Time{}, true)
	}
	if err != nil {
		return nil, davError(ctx, b.logger, "find calendar objects", err)
	}
	return b.storedObjects(ctx, u, objs)
}

// QueryCalendarObjects returns the hearings of the user's calendar that match a
// calendar-query. The time range is applied to the stored objects' extents (the hearings' own
// times) with the overlap rule of RFC 4791 section 9.9, in SQL first, before any object is
// decoded; the rest of the filter goes to caldav.Filter, unless every hearing object meets it.
func (b *backend) QueryCalendarObjects(ctx context.Context, p string, query *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	if parsePath(p).kind == resourcePersonal {
		return b.queryPersonal(ctx, p, query)
	}
	u, _, err := b.own(ctx, p, resourceHearings)
	if err != nil {
		return nil, err
	}
	rest := caldav.CalendarQuery{}
	var tr timeRange
	if query != nil {
		rest, tr = splitTimeRange(*query)
	}
	// The range goes into the SQL: a month of a large calendar reads a month.
	objs, err := b.calendars.FindCalendarObjects(ctx, u.ID, tr.start, tr.end, true)
	if err != nil {
		return nil, davError(ctx, b.logger, "find calendar objects", err)
	}
	objs = tr.filterObjects(objs)
	cos, err := b.storedObjects(ctx, u, objs)
	if err != nil {
		return nil, err
	}
	if everyHearingMatches(&rest) {
		return cos, nil
	}
	return filterObjects(&rest, cos)
}

// PutCalendarObject refuses: hearings change through Courtside, not through calendar apps.
func (b *backend) PutCalendarObject(ctx context.Context, p string, cal *ical.Calendar, opts *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	return nil, b.refuseChange(ctx, p)
}

// DeleteCalendarObject refuses, like PutCalendarObject.
func (b *backend) DeleteCalendarObject(ctx context.Context, p string) error {
	return b.refuseChange(ctx, p)
}

// refuseChange answers a change to p: not found outside the user's own space, forbidden
// inside it.
func (b *backend) refuseChange(ctx context.Context, p string) error {
	u, err := b.user(ctx)
	if err != nil {
		return err
	}
	if parsePath(p).username != u.Username {
		return errNotFound
	}
	return errReadOnly
}

// object renders one hearing as the calendar object go-webdav serves: what the calendar
// projection stores (RenderStored) and a PARTSTAT answer compares with (partstat.go).
func (b *backend) object(u *courtside.User, ch *courtside.CalendarHearing) (*caldav.CalendarObject, error) {
	rendered, err := RenderHearing(ch, b.prodID)
	if err != nil {
		return nil, err
	}
	cal, encoded, etag, err := Convert(rendered)
	if err != nil {
		return nil, err
	}
	modTime := ch.Hearing.UpdatedAt
	if modTime.IsZero() {
		modTime = ch.Hearing.CreatedAt
	}
	return &caldav.CalendarObject{
		Path:          HearingPath(u.Username, ch.Hearing.ID),
		ModTime:       modTime,
		ContentLength: int64(len(encoded)),
		ETag:          etag,
		Data:          cal,
	}, nil
}

// storedObject turns a stored hearing object into the calendar object go-webdav serves: its
// bytes decoded, when they were read (go-webdav encodes them again on the way out, to the
// same bytes: they are go-ical's encoding already), with the stored ETag.
func storedObject(u *courtside.User, o *courtside.CalendarObject) (*caldav.CalendarObject, error) {
	co := &caldav.CalendarObject{Path: HearingPath(u.Username, o.HearingID), ModTime: o.ModifiedAt,
		ContentLength: o.Size, ETag: o.ETag}
	if o.Data != nil {
		cal, err := DecodeICal(o.Data)
		if err != nil {
			return nil, err
		}
		co.Data = cal
	}
	return co, nil
}

// storedObjects turns stored hearing objects into calendar objects. One that cannot be
// decoded fails the whole answer, so that a calendar app keeps what it has rather than
// dropping that hearing.
func (b *backend) storedObjects(ctx context.Context, u *courtside.User, objs []*courtside.CalendarObject) ([]caldav.CalendarObject, error) {
	cos := make([]caldav.CalendarObject, 0, len(objs))
	for _, o := range objs {
		co, err := storedObject(u, o)
		if err != nil {
			return nil, davError(ctx, b.logger, "decode calendar object", err)
		}
		cos = append(cos, *co)
	}
	return cos, nil
}

// hearingListing returns the stored objects of the user's hearings calendar in the shape the
// stored-object listings write (writeStoredObject): named hearing-<id>.ics, with their bytes
// when withData.
func (b *backend) hearingListing(ctx context.Context, u *courtside.User, withData bool) ([]*courtside.AvailabilityObject, error) {
	var objs []*courtside.CalendarObject
	var err error
	if withData {
		objs, err = b.calendars.FindCalendarObjects(ctx, u.ID, time.Time{}, time.Time{}, true)
	} else {
		objs, err = b.calendars.FindCalendarObjectHeads(ctx, u.ID)
	}
	if err != nil {
		return nil, err
	}
	vals := make([]courtside.AvailabilityObject, len(objs))
	out := make([]*courtside.AvailabilityObject, len(objs))
	for i, o := range objs {
		vals[i] = *listed(o)
		out[i] = &vals[i]
	}
	return out, nil
}
