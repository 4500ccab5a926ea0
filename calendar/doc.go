// Package calendar publishes each user's hearings as a calendar: it renders hearings as
// iCalendar (github.com/arran4/golang-ical) and serves them over CalDAV
// (github.com/emersion/go-webdav), read-only and behind HTTP Basic auth with app passwords.
//
// The CalDAV namespace, under /dav/:
//
//	/dav/principals/<username>/                         the user's principal
//	/dav/calendars/<username>/                          the user's calendar home set
//	/dav/calendars/<username>/hearings/                 the hearings the user works on
//	/dav/calendars/<username>/hearings/hearing-<id>.ics one hearing
//
// Another user's paths answer 404 whatever the method, so that they reveal nothing.
//
// The hearings calendar supports sync-collection (RFC 6578) and CS:getctag. Its sync token,
// also its ctag, is "https://courtside/sync/<userID>/<version>" (SyncToken), version being
// the user's calendar version, which the event-log projection moves after each change.
package calendar
