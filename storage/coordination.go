package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"courtside"
)

// CoordinationService is the database's service for coverage gaps and conflicts.
type CoordinationService struct {
	db *DB
}

// NewCoordinationService returns the coordination service of db.
func NewCoordinationService(db *DB) *CoordinationService { return &CoordinationService{db: db} }

var _ courtside.CoordinationService = (*CoordinationService)(nil)

// The coordinator's overview questions. Each loads what the caller may see in a fixed number of
// queries (the hearings' condition is repeated as a subquery rather than sent as a list of
// IDs), inside one read transaction so that the answer is one consistent snapshot, and leaves
// the judgement to the pure rules of the root package.

// conflictMargin is how far beyond the asked range FindConflicts loads hearings, so that a
// clash across an edge of the range is found. It exceeds any travel buffer (at most
// courtside.MaxTravelMinutes).
const conflictMargin = 24 * time.Hour

// openHearingsIn returns the condition, on alias h, of the open hearings the caller may see
// that overlap [from, to).
func openHearingsIn(u *courtside.User, from, to time.Time) (string, []any) {
	scope, args := hearingScope(u)
	return scope + ` AND h.status IN ('SCHEDULED','CONTINUED') AND h.ends_at > ? AND h.starts_at < ?`,
		append(args, FormatTime(from), FormatTime(to))
}

// readSnapshot runs fn in a read transaction of the reader pool.
func (db *DB) readSnapshot(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.Reader.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// FindCoverage returns the coverage gaps of the open hearings the caller may see in [from, to).
func (s *CoordinationService) FindCoverage(ctx context.Context, from, to time.Time) ([]courtside.CoverageGap, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !courtside.CanSeeCoverage(u) {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only coordinators, prosecutors' offices and administrators may see coverage.")
	}
	if err := courtside.ValidateCoordinationRange(from, to); err != nil {
		return nil, err
	}
	cond, args := openHearingsIn(u, from.UTC(), to.UTC())
	var (
		hearings       []*courtside.Hearing
		caseVictims    []*courtside.CaseVictim
		accompaniments []*courtside.Accompaniment
		bookings       []*courtside.InterpreterBooking
	)
	err = s.db.readSnapshot(ctx, func(tx *sql.Tx) error {
		var err error
		if hearings, err = queryHearings(ctx, tx, cond, args); err != nil || len(hearings) == 0 {
			return err
		}
		// A coordinator answers for the victims of its own organisation: it can neither see nor
		// assign the advocates of another organisation's victims.
		// A prosecutor's office answers for the victims who released that to it (consent.go):
		// whether a victim attends and is accompanied is the victim's to release.
		victims, victimArgs := "1 = 1", []any(nil)
		switch u.Role {
		case courtside.RoleCoordinator:
			victims, victimArgs = "EXISTS (SELECT 1 FROM victims vo WHERE vo.id = cl.victim_id AND vo.organization_id = ?)", []any{u.OrganizationID}
		case courtside.RoleProsecutor:
			victims, victimArgs = releasedTo("cl.victim_id", u.OrganizationID, s.db.Now())
		}
		if caseVictims, _, err = queryAttending(ctx, tx, `SELECT cl.case_id, cl.victim_id, '' FROM case_victims cl
			WHERE cl.attends = 1 AND cl.case_id IN (SELECT h.case_id FROM hearings h WHERE `+cond+`) AND `+victims,
			append(append([]any{}, args...), victimArgs...)); err != nil {
			return err
		}
		accScope, accArgs := accompanimentScope(u, s.db.Now())
		if accompaniments, _, err = queryAccompaniments(ctx, tx, `SELECT `+accompanimentColumns+`, '' FROM accompaniments a
			WHERE a.status <> 'CANCELLED' AND a.hearing_id IN (SELECT h.id FROM hearings h WHERE `+cond+`) AND `+accScope,
			append(append([]any{}, args...), accArgs...)); err != nil {
			return err
		}
		// Every booking of a hearing the caller may see is one the caller may see (bookingScope).
		bookings, _, err = queryBookings(ctx, tx, `SELECT `+bookingColumns+`, '' FROM interpreter_bookings b
			WHERE b.hearing_id IN (SELECT h.id FROM hearings h WHERE `+cond+`)`, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	return courtside.FindCoverageGaps(hearings, caseVictims, accompaniments, bookings), nil
}

// FindConflicts returns the conflicts among the open hearings the caller may see, with at least
// one hearing in [from, to).
func (s *CoordinationService) FindConflicts(ctx context.Context, from, to time.Time) ([]courtside.Conflict, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if !courtside.CanSeeConflicts(u) {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only coordinators and administrators may see conflicts.")
	}
	if err := courtside.ValidateCoordinationRange(from, to); err != nil {
		return nil, err
	}
	from, to = from.UTC(), to.UTC()
	cond, args := openHearingsIn(u, from.Add(-conflictMargin), to.Add(conflictMargin))
	req := courtside.ConflictRequest{From: from, To: to, Hours: courtside.DefaultCourtHours}
	err = s.db.readSnapshot(ctx, func(tx *sql.Tx) error {
		var err error
		if req.Hearings, err = queryHearings(ctx, tx, cond, args); err != nil || len(req.Hearings) == 0 {
			return err
		}
		if req.Courts, err = queryCourts(ctx, tx, `SELECT `+courtColumns+` FROM courts
			WHERE id IN (SELECT h.court_id FROM hearings h WHERE `+cond+`) ORDER BY id`, args...); err != nil {
			return err
		}
		// The travel times configured between the hearings' courts (travel.go); each court's
		// own hours come with req.Courts.
		travel, err := queryTravelTimes(ctx, tx, `SELECT court_a, court_b, minutes FROM travel_times
			WHERE court_a IN (SELECT h.court_id FROM hearings h WHERE `+cond+`)
			AND court_b IN (SELECT h.court_id FROM hearings h WHERE `+cond+`)`, append(append([]any{}, args...), args...)...)
		if err != nil {
			return err
		}
		req.TravelBuffer = travel.buffer
		// The victims the caller may see at all, with their pseudonyms: a coordinator its own
		// organisation's, an admin none (victimScope).
		vScope, vArgs := victimScope(u, s.db.Now())
		if req.CaseVictims, req.Victims, err = queryAttending(ctx, tx, `SELECT cl.case_id, cl.victim_id, v.pseudonym
			FROM case_victims cl JOIN victims v ON v.id = cl.victim_id
			WHERE cl.attends = 1 AND cl.case_id IN (SELECT h.case_id FROM hearings h WHERE `+cond+`) AND `+vScope,
			append(append([]any{}, args...), vArgs...)); err != nil {
			return err
		}
		accScope, accArgs := accompanimentScope(u, s.db.Now())
		var advocates, interpreters []*courtside.User
		if req.Accompaniments, advocates, err = queryAccompaniments(ctx, tx, `SELECT `+accompanimentColumns+`, usr.username
			FROM accompaniments a JOIN users usr ON usr.id = a.advocate_id
			WHERE a.status <> 'CANCELLED' AND a.hearing_id IN (SELECT h.id FROM hearings h WHERE `+cond+`) AND `+accScope,
			append(append([]any{}, args...), accArgs...)); err != nil {
			return err
		}
		if req.Bookings, interpreters, err = queryBookings(ctx, tx, `SELECT `+bookingColumns+`, usr.username
			FROM interpreter_bookings b JOIN users usr ON usr.id = b.interpreter_id
			WHERE b.status IN ('ACCEPTED','NEEDS_RECONFIRMATION') AND b.hearing_id IN (SELECT h.id FROM hearings h WHERE `+cond+`)`,
			args); err != nil {
			return err
		}
		req.Users = append(advocates, interpreters...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return courtside.FindConflicts(req), nil
}

// queryHearings returns the hearings matching cond, on alias h, by start time then ID.
func queryHearings(ctx context.Context, q queryer, cond string, args []any) ([]*courtside.Hearing, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+hearingColumns+` FROM hearings h WHERE `+cond+` ORDER BY h.starts_at, h.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find hearings: %w", err)
	}
	return collect(rows, "hearing", scanHearing)
}

// queryCourts returns the courts of query, which selects courtColumns.
func queryCourts(ctx context.Context, q queryer, query string, args ...any) ([]*courtside.Court, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find courts: %w", err)
	}
	defer rows.Close()
	var courts []*courtside.Court
	for rows.Next() {
		c, err := scanCourt(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: scan court: %w", err)
		}
		courts = append(courts, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: find courts: %w", err)
	}
	return courts, nil
}

// queryAttending returns the case links of query, which selects case ID, victim ID and
// pseudonym, and the victims by pseudonym; no other victim field is read.
func queryAttending(ctx context.Context, q queryer, query string, args []any) ([]*courtside.CaseVictim, []*courtside.Victim, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: attending victims: %w", err)
	}
	defer rows.Close()
	var links []*courtside.CaseVictim
	var victims []*courtside.Victim
	seen := map[int64]bool{}
	for rows.Next() {
		cv := courtside.CaseVictim{Attends: true}
		var pseudonym string
		if err := rows.Scan(&cv.CaseID, &cv.VictimID, &pseudonym); err != nil {
			return nil, nil, fmt.Errorf("storage: scan attending victim: %w", err)
		}
		links = append(links, &cv)
		if !seen[cv.VictimID] {
			seen[cv.VictimID] = true
			victims = append(victims, &courtside.Victim{ID: cv.VictimID, Pseudonym: pseudonym})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("storage: attending victims: %w", err)
	}
	return links, victims, nil
}

// queryAccompaniments returns the accompaniments of query, which selects accompanimentColumns
// and the advocate's username, and the advocates by username.
func queryAccompaniments(ctx context.Context, q queryer, query string, args []any) ([]*courtside.Accompaniment, []*courtside.User, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: find accompaniments: %w", err)
	}
	defer rows.Close()
	var out []*courtside.Accompaniment
	users := usernames{}
	for rows.Next() {
		var a courtside.Accompaniment
		var username string
		if err := rows.Scan(&a.ID, &a.HearingID, &a.VictimID, &a.AdvocateID, &a.Status, &a.MeetingPoint, scanTime{&a.CreatedAt},
			scanTime{&a.UpdatedAt}, &username); err != nil {
			return nil, nil, fmt.Errorf("storage: scan accompaniment: %w", err)
		}
		out = append(out, &a)
		users.add(a.AdvocateID, username)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("storage: find accompaniments: %w", err)
	}
	return out, users.list, nil
}

// queryBookings returns the bookings of query, which selects bookingColumns and the
// interpreter's username, and the interpreters by username.
func queryBookings(ctx context.Context, q queryer, query string, args []any) ([]*courtside.InterpreterBooking, []*courtside.User, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("storage: find bookings: %w", err)
	}
	defer rows.Close()
	var out []*courtside.InterpreterBooking
	users := usernames{}
	for rows.Next() {
		var b courtside.InterpreterBooking
		var username string
		if err := rows.Scan(append(bookingFields(&b), &username)...); err != nil {
			return nil, nil, fmt.Errorf("storage: scan booking: %w", err)
		}
		out = append(out, &b)
		users.add(b.InterpreterID, username)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("storage: find bookings: %w", err)
	}
	return out, users.list, nil
}

// usernames collects users by ID and username, once each.
type usernames struct {
	list []*courtside.User
	seen map[int64]bool
}

func (u *usernames) add(id int64, username string) {
	if id == 0 || username == "" || u.seen[id] {
		return
	}
	if u.seen == nil {
		u.seen = map[int64]bool{}
	}
	u.seen[id] = true
	u.list = append(u.list, &courtside.User{ID: id, Username: username})
}
