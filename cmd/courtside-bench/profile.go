package main

// profileFixes is the record of the profile-driven fixes: what a CPU profile of the worst
// figures showed, what was changed and the figures before and after. It is history, not a
// measurement of this run, so the harness prints it as it is. `-profile DIR` writes the
// profiles again: import.pprof and graphql.pprof in-process, caldav-<operation>.pprof against
// calendar's handler in-process over the measured server's database.
const profileFixes = `
## Profile-driven fixes

Recorded by hand on 2026-11-28 from runs of this harness on the machine above (2 cores shared
with other work, so the absolute times moved between runs; the ratios less so). Not re-measured
by each run: run ` + "`go run ./cmd/courtside-bench -only import -profile /tmp/prof`" + ` and
` + "`go tool pprof -top -cum /tmp/prof/import.pprof`" + ` to see the profile again.

### Import: 10% of raw SQLite before, 15–16% after

The worst figure this harness measured first was the import at 10% of the raw SQLite rate
(5,416 against 51,943 rows/s). A CPU profile of the in-process import showed:

| where | share of CPU | fix |
|---|---|---|
| ` + "`time.LoadLocation`" + ` under ` + "`Court.Location`" + `, called twice per CSV line by the parser | 17% | storage/import.go: each court's zone is loaded once per import (` + "`zones`" + ` in ` + "`parseDocket`" + `) |
| ` + "`sqlite3_prepare_v2`" + `: every statement was prepared anew, about six per hearing | 19% | storage/db.go: ` + "`_stmt_cache_size=64`" + ` in the data source name, go-sqlite3's per-connection cache of prepared statements (both pools) |

After both, ` + "`courtside import hearings`" + ` of the same 50,000 lines ran at 9,426 against 58,932 rows/s
(16%), 6,919 against 44,821 rows/s (15%) and 7,916 against 51,257 rows/s (15%) in three runs
(section 3 above has this run's figure); the storage tests pass with the cache
(` + "`go test -race ./storage`" + `). What the profile shows now is SQLite doing the inserts: the
import writes about four rows per hearing (the hearing, its history row, its event, its audit
row) where the raw reference writes one, so 25% would need the event and audit rows of an import
batched (one event and one audit row per import rather than per hearing), which is a design
change for the event log's consumers, not a local fix.

### CalDAV: found, not fixed here (calendar/ was being changed by another helper)

CPU profiles of the four operations against calendar's handler over 5,000 objects:

- calendar-query over one month (122 ms against a 2.6 ms floor): ` + "`backend.queryPersonal`" + ` reads all
  5,000 objects (` + "`storage.DB.FindAvailabilityObjects`" + `, 17%) and decodes every one with go-ical
  (` + "`parseObject`" + `, 49%) to apply the time range. The busy intervals are already computed when an
  object is written: filtering on them in SQL and decoding only the matches would leave the
  one month's ~420 objects.
- PROPFIND Depth 1 (212 ms, target 50 ms): ` + "`ListCalendarObjects`" + ` goes through the same
  ` + "`queryPersonal`" + ` and decodes all 5,000 objects (` + "`DecodeICal`" + `, 28%) though a PROPFIND of
  getetag, getcontenttype and resourcetype needs none of their content; go-webdav's multistatus
  encoding is another 21%.
- sync-collection after one change (43 ms for a 456-byte answer, 137× the floor):
  ` + "`servePersonalSync`" + ` calls ` + "`FindAvailabilityObjects`" + ` (63% of the request), reading every object to
  answer for the one that changed.
- Memory (section 5): a one-month calendar-query of a hearings calendar reads the whole calendar
  (` + "`storage.DB.FindCalendarHearings`" + ` has no time range; the feed, free-busy and sync paths call it
  too), which is what takes the server from about 30 MB to about 130 MB at 100,000 hearings.
  A time range pushed into its SQL (` + "`hearings_starts`" + ` is an index on ` + "`starts_at`" + `) would bound it.

### Go benchmarks: found, not fixed here

- ` + "`courtside.RankCandidates`" + ` (about 1.2 ms for 50 interpreters): ` + "`MatchLanguage`" + ` under ` + "`bestLanguage`" + `
  is three quarters of the time: it parses both BCP 47 tags and runs ` + "`language.Comprehends`" + ` (map
  look-ups, most of it) for every language of every interpreter; parsing the requested tag once
  per ranking and remembering each (have, want) answer would leave the loop over commitments.
- ` + "`storage.DB.CalendarChanges`" + ` after one change (about 0.3 ms at 5,000 hearings, against 2.5 ms for all
  of them): ` + "`calendar_changes`" + ` has no index on ` + "`(user_id, calendar, version)`" + `, so ` + "`version > ?`" + ` walks
  every row of the user's calendar; an index would make the one-change diff independent of the
  calendar's size.
- ` + "`Court.Location`" + ` loads the zone file on every call (` + "`time.LoadLocation`" + `); the import now loads it
  once per court, but other paths that call it per hearing would gain from a cache beside it.
`
