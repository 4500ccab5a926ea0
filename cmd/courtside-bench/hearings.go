package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// The hearings calendars at scale: the calendar people subscribe to (an advocate's and a
// prosecutor's office's `hearings` calendar, and the advocate's webcal feed) at three sizes,
// beside the availability calendar of the same size in the same server and Radicale holding the
// same events, measured in interleaved rounds in one run.

// calendarAdvocacy is the advocacy organisation of the section's advocates.
const calendarAdvocacy = "Bench Advocacy"

// calScale is one size of the section: an office whose prosecutor's calendar holds n hearings,
// an advocate accompanying every one of them, who also keeps n events in their availability
// calendar, and a Radicale collection of the same n events.
type calScale struct {
	n                     int
	office, pros, adv     string
	prosApp, advApp       string
	prosAPI               string
	feedPath              string // /feeds/{secret}.ics of the advocate
	prosID, advID         int64
	hearingIDs            []int64
	hearingStarts         []time.Time
	advocate, prosecutor  *davTarget // the hearings calendars
	availability, radical *davTarget
	importTook            time.Duration
	importRSS             int64 // the import command's peak resident memory
	radicalLoad           time.Duration
	availabilityLoad      time.Duration // of the first availabilityPut events, by PUT
	availabilityPut       int
	feedBytes             int
	load                  []float64 // the 1-minute load average at the start of each round
}

// calTargetNames name the four collections measured at each size, in report order.
var calTargetNames = []string{"hearings, advocate", "hearings, prosecutor", "availability", "Radicale"}

// targets returns the scale's collections in calTargetNames order.
func (s *calScale) targets() []*davTarget {
	return []*davTarget{s.advocate, s.prosecutor, s.availability, s.radical}
}

// loadAverage returns the 1-minute load average, or -1.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// fmtLoad renders load averages as their median and range.
func fmtLoad(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	c := append([]float64(nil), l...)
	sort.Float64s(c)
	return fmt.Sprintf("%.2f (%.2f–%.2f)", c[len(c)/2], c[0], c[len(c)-1])
}

// writeCalendarDocket writes a docket of n hearings for one office, five per case, each one
// hour and starting when generated event i starts (eventStartFrom), so that the hearings
// calendar and the availability calendar of a size hold events at the same times.
func writeCalendarDocket(path, prefix string, from time.Time, n, months int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write(courtside.ImportColumns)
	kinds := courtside.HearingKinds
	for i := 0; i < n; i++ {
		start := eventStartFrom(from, i, n, months)
		w.Write([]string{fmt.Sprintf("%s-%07d", prefix, i), fmt.Sprintf("%s-CR-%06d", prefix, i/5), benchCourt, string(kinds[i%len(kinds)]),
			start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339), fmt.Sprintf("%dB", 1+i%9),
			fmt.Sprintf("Judge of Part %d", 1+i%12), "SCHEDULED"})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// accompanyAll writes, with SQL into the real schema, the office's share of each of its cases
// with the advocate's organisation, one victim per case of the office, linked to the case, and an
// accompaniment by the advocate of every hearing of the office, before the
// server starts: the import's events, projected when it starts, then render each hearing for
// the advocate too.
func accompanyAll(ctx context.Context, db *storage.DB, office, adv string, n int) error {
	now := time.Now().UTC().Format(storage.TimeFormat)
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var orgID, advID, advOrg int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM organizations WHERE name = ?`, office).Scan(&orgID); err != nil {
		return fmt.Errorf("office %s: %w", office, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT id, organization_id FROM users WHERE username = ?`, adv).Scan(&advID, &advOrg); err != nil {
		return fmt.Errorf("advocate %s: %w", adv, err)
	}
	for _, s := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO case_shares (case_id, organization_id, shared_at)
			SELECT c.id, ?, ? FROM cases c WHERE c.organization_id = ?`, []any{advOrg, now, orgID}},
		{`INSERT INTO victims (organization_id, pseudonym, preferred_language, created_at)
			SELECT ?, 'V-' || c.id || '-B', 'es', ? FROM cases c WHERE c.organization_id = ? ORDER BY c.id`, []any{advOrg, now, orgID}},
		{`INSERT INTO case_victims (case_id, victim_id, attends)
			SELECT c.id, v.id, 1 FROM cases c JOIN victims v ON v.pseudonym = 'V-' || c.id || '-B' WHERE c.organization_id = ?`, []any{orgID}},
		{`INSERT INTO accompaniments (hearing_id, victim_id, advocate_id, status, created_at, updated_at)
			SELECT h.id, cv.victim_id, ?, 'ASSIGNED', ?, ? FROM hearings h JOIN case_victims cv ON cv.case_id = h.case_id
			WHERE h.organization_id = ?`, []any{advID, now, now, orgID}},
	} {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("accompany: %w", err)
		}
	}
	var got int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accompaniments WHERE advocate_id = ?`, advID).Scan(&got); err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("accompany wrote %d accompaniments for %s, want %d", got, adv, n)
	}
	return tx.Commit()
}

// fillAvailability writes events first to n-1 into the user's availability calendar with SQL,
// exactly as a PUT of each would store them (the bytes go-ical encodes, their ETag and extent,
// the busy block and the change row): a calendar holds at most courtside.MaxCalendarObjects by
// PUT, and the largest size needs more beside its hearings calendar.
func (b *Bench) fillAvailability(ctx context.Context, dbPath string, userID int64, from time.Time, first, n, months int) error {
	db, err := b.openStore(dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := storage.FormatTime(time.Now())
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM personal_calendars WHERE user_id = ? AND name = 'availability'`, userID).Scan(&version); err != nil {
		return fmt.Errorf("availability calendar: %w", err)
	}
	for i := first; i < n; i++ {
		cal, err := calendar.DecodeICal(eventICSFrom(from, i, n, months, 0))
		if err != nil {
			return err
		}
		data, etag, err := calendar.EncodeICal(cal)
		if err != nil {
			return err
		}
		start, end, exact := calendar.ObjectExtent(data)
		name := eventName(i)
		version++
		for _, st := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO availability_objects (user_id, calendar, name, uid, component, etag, data, created_at, updated_at,
				extent_start, extent_end, extent_exact, size) VALUES (?, 'availability', ?, ?, 'VEVENT', ?, ?, ?, ?, ?, ?, ?, ?)`,
				[]any{userID, name, strings.TrimSuffix(name, ".ics"), etag, data, now, now, storage.FormatTime(start), storage.FormatTime(end), exact, len(data)}},
			{`INSERT INTO availability_busy (user_id, calendar, name, starts_at, ends_at) VALUES (?, 'availability', ?, ?, ?)`,
				[]any{userID, name, storage.FormatTime(start), storage.FormatTime(end)}},
			{`INSERT INTO availability_changes (user_id, calendar, name, version, deleted) VALUES (?, 'availability', ?, ?, 0)`,
				[]any{userID, name, version}},
		} {
			if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
				return fmt.Errorf("availability object %d: %w", i, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE personal_calendars SET version = ?, updated_at = ? WHERE user_id = ? AND name = 'availability'`,
		version, now, userID); err != nil {
		return err
	}
	return tx.Commit()
}

// feedPathRE finds the path of a feed URL.
var feedPathRE = regexp.MustCompile(`/feeds/[^/\s]+\.ics`)

// calendarPending returns how many events the calendar projection has yet to handle, read
// through the read-only connection ro.
func calendarPending(ctx context.Context, ro *sql.DB) (int64, error) {
	var pending int64
	err := ro.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(id) FROM events), 0) -
		COALESCE((SELECT MAX(last_id) FROM event_offsets WHERE consumer_group = 'calendar-projection'), 0)`).Scan(&pending)
	return pending, err
}

// calendarVersions returns the hearings-calendar versions of the users.
func calendarVersions(ctx context.Context, ro *sql.DB, users ...int64) ([]int64, error) {
	out := make([]int64, len(users))
	for i, u := range users {
		err := ro.QueryRowContext(ctx, `SELECT COALESCE((SELECT version FROM calendar_versions WHERE user_id = ? AND calendar = 'hearings'), 0)`, u).Scan(&out[i])
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// rescheduleAs moves a hearing through GraphQL as user.
func rescheduleAs(ctx context.Context, g *gqlClient, user string, hearingID int64, start time.Time) error {
	return g.do(ctx, user, `mutation($id: ID!, $s: DateTime!, $e: DateTime!) {
		rescheduleHearing(id: $id, startsAt: $s, endsAt: $e, reason: "judge unavailable") { sequence } }`,
		map[string]any{"id": strconv.FormatInt(hearingID, 10), "s": start.Format(time.RFC3339), "e": start.Add(time.Hour).Format(time.RFC3339)}, nil)
}

// newCalScale returns the scale of n hearings, its office and users named after n.
func newCalScale(n int) *calScale {
	return &calScale{n: n, office: fmt.Sprintf("Bench Office %d", n), pros: fmt.Sprintf("pros-%d", n), adv: fmt.Sprintf("adv-%d", n)}
}

// loadCalendarScales sets the scales up in the database dbPath (a file, or the URL of a
// PostgreSQL database that `courtside init` made) before its server starts: the administrator,
// the court and each scale's prosecutor and advocate in-process, their secrets by the real CLI,
// each office's docket by the real `courtside import hearings` (its CSV in dir), and an advocate
// accompanying every hearing (accompanyAll). It returns how many events the log then holds.
func (b *Bench) loadCalendarScales(ctx context.Context, dir, dbPath string, from time.Time, months int, scales []*calScale) (int64, error) {
	// The office's users and the court, in-process; the secrets by the real CLI.
	db, err := b.openStore(dbPath)
	if err != nil {
		return 0, err
	}
	admin, err := storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: "bench-admin", Role: courtside.RoleAdmin}})
	if err == nil {
		err = storage.NewCourtService(db).CreateCourt(courtside.NewContextWithUser(ctx, admin), &courtside.Court{Name: benchCourt, TimeZone: "America/New_York", Address: "1 Bench Plaza"})
	}
	for _, s := range scales {
		if err != nil {
			break
		}
		var u *courtside.User
		if u, err = storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: s.pros, Role: courtside.RoleProsecutor}, OrganizationName: s.office}); err == nil {
			s.prosID = u.ID
			if u, err = storage.NewUserService(db).CreateUser(ctx, courtside.NewUser{User: courtside.User{Username: s.adv, Role: courtside.RoleAdvocate}, OrganizationName: calendarAdvocacy}); err == nil {
				s.advID = u.ID
			}
		}
	}
	db.Close()
	if err != nil {
		return 0, err
	}
	for _, s := range scales {
		for _, tok := range []struct {
			user, kind string
			out        *string
		}{{s.pros, "app", &s.prosApp}, {s.adv, "app", &s.advApp}, {s.pros, "api", &s.prosAPI}, {s.adv, "feed", &s.feedPath}} {
			out, err := b.cli(ctx, "", "token", "create", "--db", dbPath, "--username", tok.user, "--kind", tok.kind, "--label", "bench")
			if err != nil {
				return 0, err
			}
			*tok.out = strings.TrimSpace(out)
		}
		if s.feedPath = feedPathRE.FindString(s.feedPath); s.feedPath == "" {
			return 0, fmt.Errorf("token create --kind feed printed no feed URL")
		}
	}

	// The dockets, by the real import command, one office after another; the import's peak
	// resident memory from the kernel's accounting of the child.
	for _, s := range scales {
		csvPath := filepath.Join(dir, fmt.Sprintf("docket-%d.csv", s.n))
		if err := writeCalendarDocket(csvPath, fmt.Sprintf("C%d", s.n), from, s.n, months); err != nil {
			return 0, err
		}
		cmd := exec.CommandContext(ctx, b.Courtside, "import", "hearings", "--db", dbPath, "--org", s.office, "--file", csvPath)
		cmd.Env = b.env()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		out, err := cmd.Output()
		if err != nil {
			return 0, fmt.Errorf("import %d hearings: %v: %s", s.n, err, strings.TrimSpace(stderr.String()))
		}
		s.importTook = time.Since(t0)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			s.importRSS = ru.Maxrss << 10
		}
		if !strings.Contains(string(out), fmt.Sprintf("created %d,", s.n)) {
			return 0, fmt.Errorf("import printed %q", strings.TrimSpace(string(out)))
		}
		b.Log("imported %d hearings in %s", s.n, s.importTook)
	}
	db, err = b.openStore(dbPath)
	if err != nil {
		return 0, err
	}
	for _, s := range scales {
		if err := accompanyAll(ctx, db, s.office, s.adv, s.n); err != nil {
			db.Close()
			return 0, err
		}
		rows, err := db.Writer.QueryContext(ctx, `SELECT h.id, h.starts_at FROM hearings h JOIN organizations o ON o.id = h.organization_id
			WHERE o.name = ? ORDER BY h.id`, s.office)
		if err != nil {
			db.Close()
			return 0, err
		}
		for rows.Next() {
			var id int64
			var at string
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				db.Close()
				return 0, err
			}
			t, _ := storage.ParseTime(at)
			s.hearingIDs, s.hearingStarts = append(s.hearingIDs, id), append(s.hearingStarts, t)
		}
		rows.Close()
	}
	var backlog int64
	err = db.Writer.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&backlog)
	db.Close()
	return backlog, err
}

// hearingsCalendars measures the hearings calendars at each size of Sizes.CalendarScales.
func (b *Bench) hearingsCalendars(ctx context.Context) (*Section, error) {
	months, rounds := b.Sizes.CalendarMonths, b.Sizes.CalendarRounds
	dir := filepath.Join(b.Dir, "hearings")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, "courtside.db")
	// The hearings are within the feeds' window: from tomorrow, over the next months.
	from := time.Now().UTC().Truncate(24 * time.Hour).Add(24*time.Hour + 14*time.Hour)
	var scales []*calScale
	for _, n := range b.Sizes.CalendarScales {
		scales = append(scales, newCalScale(n))
	}

	backlog, err := b.loadCalendarScales(ctx, dir, dbPath, from, months, scales)
	if err != nil {
		return nil, err
	}

	// The server starts with the imports' events to handle: its resident memory is sampled
	// until the calendar projection has handled every one.
	srv, err := b.startServer(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	ro, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer ro.Close()
	t0 := time.Now()
	var peakRSS int64
	rssAtStart, _, _ := procMemory(srv.Pid())
	for {
		if rss, _, err := procMemory(srv.Pid()); err == nil && rss > peakRSS {
			peakRSS = rss
		}
		pending, err := calendarPending(ctx, ro)
		if err != nil {
			return nil, err
		}
		if pending == 0 {
			break
		}
		if time.Since(t0) > 30*time.Minute {
			return nil, fmt.Errorf("the calendar projection still has %d events to handle after 30 min", pending)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	drained := time.Since(t0)
	_, hwm, err := procMemory(srv.Pid())
	if err != nil {
		return nil, err
	}
	b.Log("the calendar projection handled %d events in %s; server peak resident %s", backlog, drained, fmtMB(hwm))

	// Radicale, on loopback with fsync on, each collection loaded by one PUT of the whole
	// collection (Radicale's own import through its HTTP interface; no file is written behind
	// its back).
	radBase, stopRadicale, err := b.startRadicale(ctx, filepath.Join(dir))
	if err != nil {
		return nil, err
	}
	defer stopRadicale()
	mk := xmlHead + `<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>availability</D:displayname></D:prop></D:set></C:mkcalendar>`
	for _, s := range scales {
		auth := basicAuth(s.adv, "x")
		s.radical = &davTarget{name: "Radicale", base: radBase, coll: "/" + s.adv + "/availability/", auth: auth, client: newClient(), from: from}
		if r, err := s.radical.do(ctx, "MKCALENDAR", s.radical.coll, map[string]string{"Content-Type": "application/xml"}, []byte(mk)); err != nil {
			return nil, err
		} else if r.status != http.StatusCreated {
			return nil, fmt.Errorf("radicale MKCALENDAR answered %d: %s", r.status, snippet(r.body))
		}
		// Radicale takes minutes to import a large collection (two fsyncs per item): no client
		// timeout for this one request, the run's context only.
		t0 := time.Now()
		load := &davTarget{name: "Radicale", base: radBase, auth: auth, client: &http.Client{Transport: s.radical.client.Transport}}
		r, err := load.do(ctx, http.MethodPut, s.radical.coll, map[string]string{"Content-Type": "text/calendar; charset=utf-8"},
			collectionICS(from, s.n, s.n, months))
		if err != nil {
			return nil, err
		} else if r.status != http.StatusCreated {
			return nil, fmt.Errorf("radicale PUT of the collection answered %d: %s", r.status, snippet(r.body))
		}
		s.radicalLoad = time.Since(t0)
		b.Log("Radicale: %d events by one PUT in %s", s.n, s.radicalLoad)

		s.advocate = &davTarget{name: calTargetNames[0], base: srv.URL, coll: "/dav/calendars/" + s.adv + "/hearings/", auth: basicAuth(s.adv, s.advApp), client: newClient()}
		s.prosecutor = &davTarget{name: calTargetNames[1], base: srv.URL, coll: "/dav/calendars/" + s.pros + "/hearings/", auth: basicAuth(s.pros, s.prosApp), client: newClient()}
		s.availability = &davTarget{name: calTargetNames[2], base: srv.URL, coll: "/dav/calendars/" + s.adv + "/availability/", auth: basicAuth(s.adv, s.advApp),
			client: newClient(), from: from}
		t0 = time.Now()
		s.availabilityPut = min(s.n, courtside.MaxCalendarObjects)
		for i := 0; i < s.availabilityPut; i++ {
			if err := s.availability.put(ctx, i, s.n, months, 0); err != nil {
				return nil, err
			}
		}
		s.availabilityLoad = time.Since(t0)
		b.Log("Courtside availability: %d events by PUT in %s", s.availabilityPut, s.availabilityLoad)
		if s.availabilityPut < s.n {
			if err := b.fillAvailability(ctx, dbPath, s.advID, from, s.availabilityPut, s.n, months); err != nil {
				return nil, err
			}
		}
	}

	g := &gqlClient{url: srv.URL + "/graphql", client: newClient(), tokens: map[string]string{}}
	for _, s := range scales {
		g.tokens[s.pros] = s.prosAPI
	}
	samples := map[int]map[string]map[string]Sample{} // size, operation, target
	puts := map[int]map[string]Sample{}               // size, server: the PUT before each sync
	spent := map[int]map[string]time.Duration{}
	feedStatus := map[int][]int{}
	feedClient := newClient()
	for _, s := range scales {
		samples[s.n], puts[s.n], spent[s.n] = map[string]map[string]Sample{}, map[string]Sample{}, map[string]time.Duration{}
		ops := calOps(from, s.n, months)
		// Warm up: every operation once against every collection, untimed, and the first
		// sync-collection for the tokens.
		for _, t := range s.targets() {
			t.token = ""
			for _, op := range ops {
				if _, _, err := op.send(ctx, t); err != nil {
					return nil, err
				}
			}
		}
		for round := 1; round <= rounds; round++ {
			s.load = append(s.load, loadAverage())
			changed := false // one reschedule per round changes both hearings calendars
			for k, op := range ops {
				ts := s.targets()
				for j := range ts {
					t := ts[(j+round+k)%len(ts)]
					if samples[s.n][op.name] == nil {
						samples[s.n][op.name] = map[string]Sample{}
					}
					if t == s.radical && len(samples[s.n][op.name][t.name]) >= 3 && spent[s.n][op.name] > b.Sizes.RadicaleBudget/time.Duration(len(ops)) {
						continue
					}
					if op.short == "sync" {
						switch t {
						case s.advocate, s.prosecutor:
							if !changed {
								if err := b.rescheduleOne(ctx, g, ro, s, round); err != nil {
									return nil, err
								}
								changed = true
							}
						default:
							t0 := time.Now()
							if err := t.put(ctx, (round*7919)%s.n, s.n, months, round+1); err != nil {
								return nil, err
							}
							puts[s.n][t.name] = append(puts[s.n][t.name], time.Since(t0))
						}
					}
					_, took, err := op.send(ctx, t)
					if err != nil {
						return nil, err
					}
					samples[s.n][op.name][t.name] = append(samples[s.n][op.name][t.name], took)
					if t == s.radical {
						spent[s.n][op.name] += took
					}
				}
			}
			// The advocate's feed, its calendar changed since the last GET by this round's
			// reschedule (the body is assembled anew), then again unchanged (the body kept),
			// then with the ETag it answered (304).
			var etag string
			for _, kind := range []string{"GET", "kept"} {
				tag, took, size, status, err := getFeed(ctx, feedClient, srv.URL+s.feedPath, "")
				if err != nil {
					return nil, err
				}
				if status != http.StatusOK {
					return nil, fmt.Errorf("feed GET answered %d", status)
				}
				s.feedBytes, etag = size, tag
				samples[s.n]["feed"] = appendSample(samples[s.n]["feed"], kind, took)
			}
			_, took, _, status, err := getFeed(ctx, feedClient, srv.URL+s.feedPath, etag)
			if err != nil {
				return nil, err
			}
			feedStatus[s.n] = append(feedStatus[s.n], status)
			samples[s.n]["feed"] = appendSample(samples[s.n]["feed"], "304", took)
		}
		s.load = append(s.load, loadAverage())
		b.Log("hearings calendars at %d: %d rounds, load %s", s.n, rounds, fmtLoad(s.load))
	}
	return calSection(b, scales, samples, puts, feedStatus, backlog, drained, rssAtStart, peakRSS, hwm, rounds), nil
}

// appendSample appends d to the sample named name of m, which it makes when nil.
func appendSample(m map[string]Sample, name string, d time.Duration) map[string]Sample {
	if m == nil {
		m = map[string]Sample{}
	}
	m[name] = append(m[name], d)
	return m
}

// rescheduleOne moves one of the scale's hearings through GraphQL and waits until the calendar
// projection has moved both hearings calendars' versions (the change the next sync reports) and
// every consumer group of the router has handled it, so that no sync of the round is measured
// against the server's own work on the change.
func (b *Bench) rescheduleOne(ctx context.Context, g *gqlClient, ro *sql.DB, s *calScale, round int) error {
	k := (round * 7919) % s.n
	before, err := calendarVersions(ctx, ro, s.advID, s.prosID)
	if err != nil {
		return err
	}
	if err := rescheduleAs(ctx, g, s.pros, s.hearingIDs[k], s.hearingStarts[k].Add(time.Duration(round)*time.Minute)); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		now, err := calendarVersions(ctx, ro, s.advID, s.prosID)
		if err != nil {
			return err
		}
		if now[0] > before[0] && now[1] > before[1] {
			var behind int64
			if err := ro.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(id) FROM events), 0) -
				COALESCE((SELECT MIN(last_id) FROM event_offsets), 0)`).Scan(&behind); err != nil {
				return err
			}
			if behind <= 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the reschedule of hearing %d did not reach the calendars in a minute", s.hearingIDs[k])
		}
		time.Sleep(time.Millisecond)
	}
}

// getFeed GETs a feed through client, with If-None-Match when etag is set, and returns the
// ETag answered, the time the whole request took, the body's size and the status.
func getFeed(ctx context.Context, client *http.Client, url, etag string) (string, time.Duration, int, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, 0, 0, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, 0, 0, err
	}
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	return resp.Header.Get("ETag"), took, body.Len(), resp.StatusCode, err
}

// calOps are the three measured CalDAV operations of the section: PROPFIND Depth 1,
// calendar-query over one month from the middle event's day, sync-collection after one
// change (the change is made by the rounds).
func calOps(from time.Time, n, months int) []*davOp {
	all := davOpsFrom(from, n, months, 1)
	out := []*davOp{all[1], all[0], all[3]}
	out[2].before = nil
	return out
}

// calSection writes the section from what the rounds measured.
func calSection(b *Bench, scales []*calScale, samples map[int]map[string]map[string]Sample, puts map[int]map[string]Sample,
	feedStatus map[int][]int, backlog int64, drained time.Duration, rssAtStart, peakRSS, hwm int64, rounds int) *Section {
	opNames := []string{"PROPFIND Depth 1", "calendar-query, one month", "sync-collection after one change"}
	med := func(n int, op, target string) time.Duration { return samples[n][op][target].Median() }
	sec := &Section{Intro: fmt.Sprintf("The calendars people subscribe to: an advocate's and a prosecutor's office's `hearings` "+
		"calendar, served by the real server (`courtside serve` on 127.0.0.1, HTTP Basic with app passwords), at %s hearings. "+
		"For each size an office imports its docket with the real `courtside import hearings` (one hour each, spread over %d "+
		"months from tomorrow, five per case), a victim per case is linked to it and one advocate accompanies every hearing "+
		"(victims and accompaniments written with SQL into the real schema before the server starts); the server starts with "+
		"the imports' events to handle and its calendar projection renders every hearing for both calendars. Beside them: "+
		"the advocate's `availability` calendar holding the same number of events at the same times (loaded by PUT, one "+
		"after another, up to the %s a calendar may hold; beyond that written with SQL into the real schema exactly as a "+
		"PUT stores them: the same bytes, ETag, extent, busy block and change row), and Radicale (Debian's, filesystem storage, fsync on) holding them too, loaded by one PUT of the "+
		"whole collection through its HTTP interface (its own import: no file is written behind its back). Then %d "+
		"interleaved rounds per size, the order of the collections rotating: PROPFIND Depth 1 (getetag, getcontenttype, "+
		"resourcetype), calendar-query over one month (getetag, calendar-data), sync-collection after one change (a "+
		"reschedule through GraphQL, once every handler of the server's event router has handled it; a PUT of one event in the availability calendar and "+
		"in Radicale, each PUT timed), and the advocate's webcal feed: a GET after the round's change (the body assembled "+
		"anew), a GET again (the body kept for that version), then a GET with the ETag it answered. Every "+
		"collection was asked each operation once before the rounds (untimed), so no figure holds a cold cache; Radicale "+
		"leaves an operation once it has spent its budget on it (after at least three samples). Times are whole requests "+
		"(sent, answered, body read); every figure is a median, and the machine's 1-minute load average is given beside "+
		"each size.", joinInts(b.Sizes.CalendarScales), b.Sizes.CalendarMonths, fmtInt(courtside.MaxCalendarObjects), rounds)}

	// Targets: each as a ratio of figures of this run.
	by := map[int]*calScale{}
	for _, s := range scales {
		by[s.n] = s
	}
	first, last := scales[0], scales[len(scales)-1]
	for _, s := range scales[1:] {
		for _, op := range opNames {
			avail := med(s.n, op, "availability")
			ra := Ratio(float64(med(s.n, op, calTargetNames[0])), float64(avail))
			rp := Ratio(float64(med(s.n, op, calTargetNames[1])), float64(avail))
			sec.Targets = append(sec.Targets, Target{
				Figure: fmt.Sprintf("%s at %s: hearings calendar ÷ availability calendar", op, fmtInt(s.n)),
				Value: fmt.Sprintf("advocate %s (%s), prosecutor %s (%s), availability %s; load %s", fmtRatio(ra), fmtDur(med(s.n, op, calTargetNames[0])),
					fmtRatio(rp), fmtDur(med(s.n, op, calTargetNames[1])), fmtDur(avail), fmtLoad(s.load)),
				Goal: "≤ 2×", Measured: true, Pass: ra <= 2 && rp <= 2})
		}
	}
	growth := func(op, target string) float64 {
		return Ratio(float64(med(last.n, op, target)), float64(med(first.n, op, target)))
	}
	size := float64(last.n) / float64(first.n)
	ga, gp := growth(opNames[0], calTargetNames[0]), growth(opNames[0], calTargetNames[1])
	sec.Targets = append(sec.Targets, Target{
		Figure: fmt.Sprintf("PROPFIND Depth 1 growth from %s to %s hearings (%.0f× the hearings)", fmtInt(first.n), fmtInt(last.n), size),
		Value:  fmt.Sprintf("advocate %s, prosecutor %s; load %s and %s", fmtRatio(ga), fmtRatio(gp), fmtLoad(first.load), fmtLoad(last.load)),
		Goal:   fmt.Sprintf("≤ %.0f× (linear)", size), Measured: true, Pass: ga <= size && gp <= size})
	sa, sp := med(last.n, opNames[2], calTargetNames[0]), med(last.n, opNames[2], calTargetNames[1])
	sec.Targets = append(sec.Targets, Target{
		Figure: fmt.Sprintf("sync-collection after one change at %s hearings (flat: growth from %s)", fmtInt(last.n), fmtInt(first.n)),
		Value: fmt.Sprintf("advocate %s (%s of %s's), prosecutor %s (%s); load %s", fmtDur(sa), fmtRatio(growth(opNames[2], calTargetNames[0])),
			fmtInt(first.n), fmtDur(sp), fmtRatio(growth(opNames[2], calTargetNames[1])), fmtLoad(last.load)),
		Goal: "≤ 5 ms", Measured: true, Pass: sa <= 5*time.Millisecond && sp <= 5*time.Millisecond})
	feedN := 5000
	if by[feedN] == nil {
		feedN = scales[len(scales)/2].n
	}
	fs := by[feedN]
	feedMed := samples[feedN]["feed"]["GET"].Median()
	kept := samples[feedN]["feed"]["kept"].Median()
	sec.Targets = append(sec.Targets, Target{
		Figure: fmt.Sprintf("the advocate's webcal feed at %s hearings, GET after a change to the calendar", fmtInt(feedN)),
		Value: fmt.Sprintf("%s (%s bytes; %s the calendar's PROPFIND Depth 1; unchanged since the last GET %s); load %s", fmtDur(feedMed),
			fmtInt(fs.feedBytes), fmtRatio(Ratio(float64(feedMed), float64(med(feedN, opNames[0], calTargetNames[0])))), fmtDur(kept), fmtLoad(fs.load)),
		Goal: "≤ 30 ms", Measured: true, Pass: feedMed <= 30*time.Millisecond})
	all304, n304 := true, 0
	for _, s := range scales {
		for _, st := range feedStatus[s.n] {
			n304++
			all304 = all304 && st == http.StatusNotModified
		}
	}
	sec.Targets = append(sec.Targets, Target{
		Figure: "the webcal feed asked again with its ETag (If-None-Match)",
		Value: fmt.Sprintf("%d of %d answered 304; median %s at %s (%s the full GET)", count304(feedStatus), n304,
			fmtDur(samples[feedN]["feed"]["304"].Median()), fmtInt(feedN), fmtRatio(Ratio(float64(samples[feedN]["feed"]["304"].Median()), float64(feedMed)))),
		Goal: "304 Not Modified", Measured: true, Pass: all304 && n304 > 0})
	sec.Targets = append(sec.Targets, Target{
		Figure: fmt.Sprintf("server's peak resident memory while its event router handles the imports' backlog (%s events, %s hearings)",
			fmtInt(int(backlog)), fmtInt(sumScales(scales))),
		Value: fmt.Sprintf("%s (%s at start, %s sampled; handled in %s)", fmtMB(hwm), fmtMB(rssAtStart), fmtMB(peakRSS), drained.Round(time.Second)),
		Goal:  "none set", Measured: true, Reported: true})

	// The figures, one table per size.
	for _, s := range scales {
		tab := Table{Caption: fmt.Sprintf("At %s hearings (load average %s over the rounds):", fmtInt(s.n), fmtLoad(s.load)),
			Header: []string{"operation", "hearings, advocate", "hearings, prosecutor", "availability", "Radicale",
				"advocate ÷ availability", "prosecutor ÷ availability", "samples (adv / pros / avail / Radicale)"}}
		for _, op := range opNames {
			avail := med(s.n, op, "availability")
			row := []string{op}
			for _, t := range calTargetNames {
				row = append(row, fmtDur(med(s.n, op, t))+" (p90 "+fmtDur(samples[s.n][op][t].P90())+")")
			}
			row = append(row, fmtRatio(Ratio(float64(med(s.n, op, calTargetNames[0])), float64(avail))),
				fmtRatio(Ratio(float64(med(s.n, op, calTargetNames[1])), float64(avail))))
			var counts []string
			for _, t := range calTargetNames {
				counts = append(counts, fmt.Sprint(len(samples[s.n][op][t])))
			}
			row = append(row, strings.Join(counts, " / "))
			tab.Rows = append(tab.Rows, row)
		}
		f := samples[s.n]["feed"]
		tab.Rows = append(tab.Rows,
			[]string{fmt.Sprintf("webcal feed GET after a change (%s bytes)", fmtInt(s.feedBytes)), fmtDur(f["GET"].Median()) + " (p90 " + fmtDur(f["GET"].P90()) + ")", "", "", "", "", "", fmt.Sprint(len(f["GET"]))},
			[]string{"webcal feed GET, unchanged since the last", fmtDur(f["kept"].Median()) + " (p90 " + fmtDur(f["kept"].P90()) + ")", "", "", "", "", "", fmt.Sprint(len(f["kept"]))},
			[]string{"webcal feed GET, If-None-Match (304)", fmtDur(f["304"].Median()) + " (p90 " + fmtDur(f["304"].P90()) + ")", "", "", "", "", "", fmt.Sprint(len(f["304"]))})
		sec.Tables = append(sec.Tables, tab)
	}
	growthTab := Table{Caption: fmt.Sprintf("Growth of the medians from %s hearings:", fmtInt(first.n)),
		Header: []string{"operation", "collection"}}
	for _, s := range scales[1:] {
		growthTab.Header = append(growthTab.Header, fmt.Sprintf("%s ÷ %s (%.0f× the events)", fmtInt(s.n), fmtInt(first.n), float64(s.n)/float64(first.n)))
	}
	for _, op := range opNames {
		for _, t := range calTargetNames {
			row := []string{op, t}
			for _, s := range scales[1:] {
				row = append(row, fmtRatio(Ratio(float64(med(s.n, op, t)), float64(med(first.n, op, t)))))
			}
			growthTab.Rows = append(growthTab.Rows, row)
		}
	}
	sec.Tables = append(sec.Tables, growthTab)
	loadTab := Table{Caption: "Loading each size:", Header: []string{"hearings", "courtside import hearings", "its peak resident memory",
		"availability calendar by PUT", "PUT median, availability (during the rounds)", "Radicale, one PUT of the collection", "PUT median, Radicale (during the rounds)"}}
	for _, s := range scales {
		avail := fmt.Sprintf("%s (%s/s)", fmtDur(s.availabilityLoad), fmtRate(float64(s.availabilityPut)/s.availabilityLoad.Seconds()))
		if s.availabilityPut < s.n {
			avail = fmt.Sprintf("the first %s: %s", fmtInt(s.availabilityPut), avail)
		}
		loadTab.Rows = append(loadTab.Rows, []string{fmtInt(s.n), fmtDur(s.importTook), fmtMB(s.importRSS), avail,
			fmtDur(puts[s.n]["availability"].Median()), fmtDur(s.radicalLoad), fmtDur(puts[s.n]["Radicale"].Median())})
	}
	sec.Tables = append(sec.Tables, loadTab)
	sec.Notes = append(sec.Notes, fmt.Sprintf("The server started with %s events in its log (the imports' and the users' own); its calendar "+
		"projection had handled them %s later, every group of the router working through them at once. Resident memory was "+
		"sampled every 50 ms in that time (VmRSS) and read at its end (VmHWM, the peak since start).", fmtInt(int(backlog)), drained.Round(time.Second)))
	return sec
}

// count304 counts the 304 answers.
func count304(m map[int][]int) int {
	n := 0
	for _, l := range m {
		for _, s := range l {
			if s == http.StatusNotModified {
				n++
			}
		}
	}
	return n
}

// sumScales adds the scales' sizes.
func sumScales(scales []*calScale) int {
	n := 0
	for _, s := range scales {
		n += s.n
	}
	return n
}

// joinInts renders sizes as "1,000, 5,000 and 20,000".
func joinInts(ns []int) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, fmtInt(n))
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
