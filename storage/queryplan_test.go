package storage

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// spaces matches runs of white space, for comparing SQL text.
var spaces = regexp.MustCompile(`\s+`)

// oneLine returns s with every run of white space made one space.
func oneLine(s string) string { return strings.TrimSpace(spaces.ReplaceAllString(s, " ")) }

// scanLine matches a plan step that reads a whole table or index: "SCAN t" or "SCAN t USING
// [COVERING] INDEX i", never a SEARCH.
var scanLine = regexp.MustCompile(`^SCAN (\S+)`)

// TestHotQueriesUseIndexes runs EXPLAIN QUERY PLAN on every query of the hot paths (the
// calendar projection, run for each event; the hearings calendars' reads, run for each CalDAV
// or feed request; the notice planner's lookups, run for each event) and fails when one reads
// a whole table or index it does not list as allowed, or does not use the index it is meant
// to: a full scan cannot come back unnoticed. Queries written in other files are copied here
// and checked against their source, so that the copy cannot drift from the code.
func TestHotQueriesUseIndexes(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "plan.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	listing := `SELECT ` + objectColumns(false) + calendarObjectsInView + ` ORDER BY starts_at, hearing_id`
	monthWithData := `SELECT ` + objectColumns(true) + calendarObjectsInView + ` AND starts_at < ? AND ends_at > ? ORDER BY starts_at, hearing_id`
	byID := `SELECT ` + objectColumns(true) + calendarObjectsInView + ` AND hearing_id IN (?, ?)`
	memberOne := func(role string) string {
		for _, r := range calendarRules {
			if string(r.role) == role {
				return `SELECT ` + calendarHearingColumns + calendarHearingFrom + ` WHERE EXISTS (SELECT 1 FROM (` + r.members +
					`) m WHERE m.user_id = ? AND m.hearing_id = h.id) AND h.id = ?`
			}
		}
		t.Fatalf("no rule for %s", role)
		return ""
	}
	tests := []struct {
		name string
		sql  string
		args []any
		// want are steps the plan must have (the index meant for the query).
		want []string
		// scans are the tables or subqueries the plan may read whole.
		scans []string
		// source and sourceParts: the file a copied query comes from, and the pieces of it
		// (split where the code splices in a variant) that must appear there as they are here.
		source      string
		sourceParts []string
	}{
		// The calendar projection, for each event of a hearing.
		{name: "projection: the hearing, its docket, court and office", sql: calendarAudienceHearings + "(?)", args: []any{1},
			want: []string{"SEARCH h USING INTEGER PRIMARY KEY (rowid=?)"}},
		{name: "projection: the members of a hearing's calendars", sql: calendarMembersOf + "(?) ORDER BY m.hearing_id, u.id", args: []any{1},
			want: []string{"users_organization_role (organization_id=? AND role=?)", "accompaniments_hearing (hearing_id=?)",
				"interpreter_bookings_hearing (hearing_id=?)"}, scans: []string{"m"}},
		{name: "backfill: the members of a batch of hearings", sql: calendarMembersOf + "(?, ?, ?) ORDER BY m.hearing_id, u.id", args: []any{1, 2, 3},
			want: []string{"users_organization_role", "accompaniments_hearing", "interpreter_bookings_hearing"}, scans: []string{"m"}},
		{name: "projection: the pseudonyms at a hearing", sql: calendarPseudonyms + "(?) AND a.status <> 'CANCELLED' ORDER BY a.hearing_id, a.advocate_id, v.pseudonym",
			args: []any{1}, want: []string{"accompaniments_hearing (hearing_id=?)"}},
		{name: "projection: the interpreters' bookings of a hearing", sql: calendarAttendees + "(?) AND status IN (" + heldBookingStatuses + ") ORDER BY id",
			args: []any{1}, want: []string{"interpreter_bookings_hearing (hearing_id=? AND status=?)"}},
		{name: "projection: a hearing's stored objects", sql: calendarObjectsOfHearing, args: []any{1},
			want: []string{"calendar_objects_hearing (hearing_id=?)"}},
		{name: "projection: the calendars a hearing was in", sql: calendarLeavers, args: []any{1, HearingsCalendar},
			want: []string{"calendar_changes_hearing (hearing_id=? AND calendar=? AND deleted=?)"}},
		{name: "backfill: the next hearings of the queue", sql: calendarBackfillNext, args: []any{500},
			scans: []string{"calendar_backfill"}}, // in key order, LIMIT 500: the queue's head

		// The hearings calendars' reads, for each CalDAV or feed request.
		{name: "read: how far the projection is behind", sql: calendarProgress, args: []any{"calendar-projection"},
			want: []string{"SEARCH events", "SEARCH event_offsets USING INDEX sqlite_autoindex_event_offsets_1 (consumer_group=?)"}},
		{name: "read: a user's calendar view", sql: calendarUser, args: []any{1}, want: []string{"INTEGER PRIMARY KEY (rowid=?)"}},
		{name: "read: a user's calendar version", sql: calendarVersionOf, args: []any{1, HearingsCalendar},
			want: []string{"(user_id=? AND calendar=?)"}},
		{name: "read: PROPFIND Depth 1, the calendar without data", sql: listing, args: []any{viewUser, 1},
			want: []string{"SEARCH calendar_objects USING COVERING INDEX calendar_objects_time (view=? AND owner_id=?)"}},
		{name: "read: calendar-query over a month", sql: monthWithData, args: []any{viewOffice, 1, "2031-02-01T00:00:00.000Z", "2031-01-01T00:00:00.000Z"},
			want: []string{"calendar_objects_time (view=? AND owner_id=? AND starts_at<?)"}},
		{name: "read: GET and multiget, objects by hearing", sql: byID, args: []any{viewUser, 1, 2, 3},
			want: []string{"calendar_objects_key (view=? AND owner_id=? AND hearing_id=?)"}},
		{name: "read: sync-collection, the changes after a token", sql: calendarChangesAfter, args: []any{1, HearingsCalendar, 10},
			want: []string{"calendar_changes_version (user_id=? AND calendar=? AND version>?)"}},
		{name: "read: a feed's window", sql: calendarFeedEvents, args: []any{viewUser, 1, "b", "a", "c"},
			want: []string{"SEARCH o USING COVERING INDEX calendar_objects_feed (view=? AND owner_id=? AND starts_at<?)",
				"SEARCH f USING INTEGER PRIMARY KEY (rowid=?)"}},
		{name: "read: a feed's window, its bounds", sql: calendarFeedBounds, args: []any{viewUser, 1, "b", "a", "c"},
			want: []string{"SEARCH o USING COVERING INDEX calendar_objects_feed (view=? AND owner_id=? AND starts_at<?)"}},
		{name: "read: a feed's next event", sql: calendarNextFeedStart, args: []any{viewUser, 1, "a"},
			want: []string{"calendar_objects_feed (view=? AND owner_id=? AND starts_at>?)"}},
		{name: "read: PROPFIND Depth 1 and a first sync, the heads", sql: calendarObjectHeads, args: []any{viewOffice, 1},
			want: []string{"SEARCH calendar_objects USING COVERING INDEX calendar_objects_time (view=? AND owner_id=?)"}},
		{name: "read: a PARTSTAT answer's hearing, interpreter", sql: memberOne("INTERPRETER"), args: []any{1, 2},
			want: []string{"interpreter_bookings_hearing (hearing_id=?)"}},
		{name: "read: one hearing of an advocate's calendar", sql: memberOne("ADVOCATE"), args: []any{1, 2},
			want: []string{"accompaniments_hearing (hearing_id=? AND advocate_id=?)"}},
		{name: "read: one hearing of a prosecutor's calendar", sql: memberOne("PROSECUTOR"), args: []any{1, 2},
			want: []string{"SEARCH h USING INTEGER PRIMARY KEY (rowid=?)"}},

		// The notice planner's lookups, for each event (notice.go, reminder.go).
		{name: "notice planner: the advocates of a victim at a hearing",
			sql:  `SELECT DISTINCT advocate_id FROM accompaniments WHERE victim_id = ? AND hearing_id = ? AND status <> 'CANCELLED' ORDER BY 1`,
			args: []any{1, 2}, want: []string{"accompaniments_live (hearing_id=? AND victim_id=?)"}, source: "notice.go"},
		{name: "notice planner: the advocates of a victim at any hearing",
			sql:  `SELECT DISTINCT advocate_id FROM accompaniments WHERE victim_id = ? AND status <> 'CANCELLED' ORDER BY 1`,
			args: []any{1}, want: []string{"accompaniments_victim (victim_id=?)"}, source: "notice.go"},
		{name: "planners: the people of a hearing",
			sql: `SELECT 'VICTIM', victim_id, 0 FROM case_victims WHERE case_id = ?
		UNION SELECT DISTINCT 'ADVOCATE', 0, a.advocate_id FROM accompaniments a JOIN hearings h ON h.id = a.hearing_id
			WHERE a.hearing_id = ? AND a.status <> 'CANCELLED'
		UNION SELECT DISTINCT 'INTERPRETER', 0, ib.interpreter_id FROM interpreter_bookings ib JOIN hearings h ON h.id = ib.hearing_id
			WHERE ib.hearing_id = ? AND ib.interpreter_id IS NOT NULL AND ib.status IN ('ACCEPTED','NEEDS_RECONFIRMATION')
		ORDER BY 1, 2, 3`, args: []any{1, 2, 2},
			want:   []string{"case_victims", "SEARCH a USING INDEX accompaniments_", "interpreter_bookings_hearing (hearing_id=?"},
			source: "reminder.go", sourceParts: []string{
				`SELECT 'VICTIM', victim_id, 0 FROM case_victims WHERE case_id = ? UNION SELECT DISTINCT 'ADVOCATE', 0, a.advocate_id FROM accompaniments a JOIN hearings h ON h.id = a.hearing_id WHERE a.hearing_id = ? AND `,
				"accompaniment := `a.status <> 'CANCELLED'`",
				` UNION SELECT DISTINCT 'INTERPRETER', 0, ib.interpreter_id FROM interpreter_bookings ib JOIN hearings h ON h.id = ib.hearing_id WHERE ib.hearing_id = ? AND ib.interpreter_id IS NOT NULL AND `,
				"booking := `ib.status IN ('ACCEPTED','NEEDS_RECONFIRMATION')`",
				` ORDER BY 1, 2, 3`}},
		{name: "planners: the people of a changed hearing",
			sql: `SELECT 'VICTIM', victim_id, 0 FROM case_victims WHERE case_id = ?
		UNION SELECT DISTINCT 'ADVOCATE', 0, a.advocate_id FROM accompaniments a JOIN hearings h ON h.id = a.hearing_id
			WHERE a.hearing_id = ? AND (a.status <> 'CANCELLED' OR h.status = 'CANCELLED')
		UNION SELECT DISTINCT 'INTERPRETER', 0, ib.interpreter_id FROM interpreter_bookings ib JOIN hearings h ON h.id = ib.hearing_id
			WHERE ib.hearing_id = ? AND ib.interpreter_id IS NOT NULL AND (ib.status IN ('ACCEPTED','NEEDS_RECONFIRMATION','OFFERED') OR (ib.status = 'CANCELLED' AND h.status = 'CANCELLED'))
		ORDER BY 1, 2, 3`, args: []any{1, 2, 2},
			want:   []string{"accompaniments_hearing (hearing_id=?)", "interpreter_bookings_hearing (hearing_id=?)"},
			source: "reminder.go", sourceParts: []string{
				"accompaniment = `(a.status <> 'CANCELLED' OR h.status = 'CANCELLED')`",
				"booking = `(ib.status IN ('ACCEPTED','NEEDS_RECONFIRMATION','OFFERED') OR (ib.status = 'CANCELLED' AND h.status = 'CANCELLED'))`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.source != "" {
				src, err := os.ReadFile(tt.source)
				if err != nil {
					t.Fatal(err)
				}
				parts := tt.sourceParts
				if parts == nil {
					parts = []string{tt.sql}
				}
				for _, p := range parts {
					if !strings.Contains(oneLine(string(src)), oneLine(p)) {
						t.Fatalf("%s no longer holds %q: update this test with the query as it is now", tt.source, oneLine(p))
					}
				}
			}
			rows, err := db.Reader.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.sql, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			all := strings.Join(plan, "\n")
			for _, step := range plan {
				if m := scanLine.FindStringSubmatch(step); m != nil && step != "SCAN CONSTANT ROW" && !contains(tt.scans, m[1]) {
					t.Errorf("a full scan: %q\nplan:\n%s", step, all)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("the plan does not use %q:\n%s", w, all)
				}
			}
		})
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
