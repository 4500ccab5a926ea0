package main

// calendarFixes is the record of the change that serves the hearings calendars from stored
// objects: what the harness measured before, what the profiles and query plans showed, what
// changed. Like profileFixes it is history, printed as it is; the figures after are those of
// the hearings calendars' section of this run.
const calendarFixes = `
### Hearings calendars: rendered on every read before, served from stored objects after

Measured first with the hearings calendars' section of this harness against the binary of before
(recorded by hand on 2026-12-07; 5 rounds per size instead of 15, Radicale left out; load
average 4.7 to 15.8 on the 2 cores), medians:

| operation | 1,000: advocate | 5,000: advocate | 5,000: prosecutor | 5,000: availability | 20,000: advocate | 20,000: prosecutor | 20,000: availability |
|---|---|---|---|---|---|---|---|
| PROPFIND Depth 1 | 3.29 s | 14.2 s | 553 ms | 33.3 ms | 56.2 s | 3.43 s | 234 ms |
| calendar-query, one month | 233 ms | 961 ms | 55 ms | 15.8 ms | 2.87 s | 258 ms | 46.9 ms |
| sync-collection after one change | 2.62 s | 9.87 s | 86.4 ms | 1.49 ms | 32.5 s | 216 ms | 5.97 ms |
| the advocate's webcal feed, GET | 3.11 s | 11.7 s | | | 42.9 s | | |
| the same feed with its ETag (304) | 2.84 s | 11.5 s | | | 34.7 s | | |

What CPU profiles of the calendar handler and the query plans showed:

- Every read rendered every object it answered with, three times over (golang-ical, go-ical's
  decoder, go-ical's encoder and SHA-256 for the ETag), also when only ETags were asked for.
- An advocate's calendar was a correlated EXISTS over accompaniments for every hearing of the
  database, with no index on (hearing_id, advocate_id): the advocate's figures above are those
  of a scan of every hearing times their accompaniments.
- sync-collection after one change read and rendered the whole calendar to answer for the one
  hearing that changed.
- A feed rendered its whole window on every request; a 304 still rendered the body, its ETag
  being the body's hash.
- The projection's leavers (calendar_changes by hearing) and the planners' accompaniment lookups
  (by hearing whatever the status, by victim) read whole tables, once per event.

What changed:

- storage/calendarobject.go, migration 00019: the calendar projection renders a hearing, in the
  event's transaction, for every calendar that holds it (one object for a prosecutor's office,
  one per advocate and interpreter) and keeps the bytes CalDAV serves, their ETag and the times,
  and the hearing's feed VEVENT once, writing only what changed; a hearing that leaves a calendar
  leaves its object and syncs as 404. Reads never render: PROPFIND Depth 1 (from an index
  alone), calendar-query (its time range in SQL on the stored times), calendar-multiget and
  sync-collection write the stored bytes as they are, GET decodes them for go-webdav. serve
  renders at start-up the hearings of an older database, and every hearing again when another
  version of the renderer stored them (migration 00021; BackfillCalendarObjects).
- One membership rule (storage/calendar.go, calendarRules), read for a user and for a hearing;
  the held booking statuses written once.
- sync-collection reads the change rows after its token and the objects of those hearings only.
- A feed is assembled from the stored VEVENTs of its window, decided in SQL on the stored times
  (byte for byte what rendering the window whole gave), and kept with its ETag per version of
  the user's calendar until the moving window would change it: a 304, or a GET of an unchanged
  feed, reads the version and nothing else.
- Migration 00020: indexes on accompaniments (hearing_id, advocate_id) and (victim_id,
  advocate_id) for live accompaniments, calendar_changes (hearing_id, ...) and users
  (organization_id, role); ` + "`storage.TestHotQueriesUseIndexes`" + ` checks the plan of every hot query.
- A read waits, up to two seconds, for the projection to handle what was committed before it, so
  that a change reads back at once.

The figures after are in the hearings calendars' section above. The work moved to the writes:
the projection renders each hearing it is told of for each calendar that holds it, once per
event (the server of before handled the 31,200 events of that section in 4 min 19 s; the
section above says how long this run's took).
`
