package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"courtside"
)

// ReminderService is the database's service for reminders: reading them and firing those due.
type ReminderService struct {
	db *DB
}

// NewReminderService returns the reminder service of db.
func NewReminderService(db *DB) *ReminderService { return &ReminderService{db: db} }

// ReminderPlanner is the reminder planner, an event handler: it keeps a hearing's reminder
// rows in step with the hearing and the people working on it. It writes only through the
// event's transaction.
type ReminderPlanner struct {
	DB   *DB
	Plan courtside.ReminderPlan
}

// Handle plans, supersedes and cancels the reminders an event touches.
func (p *ReminderPlanner) Handle(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	switch ev.Type {
	case courtside.EventHearingScheduled, courtside.EventHearingChanged, courtside.EventHearingCancelled,
		courtside.EventAccompanimentAssigned, courtside.EventAccompanimentCancelled, courtside.EventAccompanimentNeedsReconfirmation,
		courtside.EventBookingAccepted, courtside.EventBookingCancelled, courtside.EventBookingNeedsReconfirmation:
		if ev.HearingID == 0 {
			return nil
		}
		return p.reconcile(ctx, tx, ev.HearingID)
	case courtside.EventVictimLinked, courtside.EventVictimUnlinked:
		rows, err := tx.QueryContext(ctx, `SELECT id FROM hearings WHERE case_id = ? AND status <> 'CANCELLED' AND starts_at > ?`,
			ev.CaseID, FormatTime(p.DB.Now()))
		if err != nil {
			return fmt.Errorf("storage: hearings of case: %w", err)
		}
		ids, err := collectIDs(rows)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := p.reconcile(ctx, tx, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// reconcile makes a hearing's planned reminders what the plan says for its current sequence
// and the people now on it: older sequences are superseded, people no longer on the hearing
// lose theirs, and missing ones are planned unless already due.
func (p *ReminderPlanner) reconcile(ctx context.Context, tx *sql.Tx, hearingID int64) error {
	var startsAt, status, zone string
	var sequence int
	var caseID int64
	err := tx.QueryRowContext(ctx, `SELECT h.starts_at, h.status, h.sequence, h.case_id, c.time_zone
		FROM hearings h JOIN courts c ON c.id = h.court_id WHERE h.id = ?`, hearingID).Scan(&startsAt, &status, &sequence, &caseID, &zone)
	if err != nil {
		return fmt.Errorf("storage: reminder hearing: %w", err)
	}
	if status == string(courtside.HearingCancelled) {
		_, err := tx.ExecContext(ctx, `UPDATE reminders SET status = 'CANCELLED' WHERE hearing_id = ? AND status = 'PLANNED'`, hearingID)
		return wrapErr("cancel reminders", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reminders SET status = 'SUPERSEDED' WHERE hearing_id = ? AND status = 'PLANNED' AND sequence < ?`,
		hearingID, sequence); err != nil {
		return wrapErr("supersede reminders", err)
	}
	start, err := ParseTime(startsAt)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fmt.Errorf("storage: court zone %q: %w", zone, err)
	}
	people, err := hearingPeople(ctx, tx, hearingID, caseID, false)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	now := p.DB.Now()
	for _, person := range people {
		for _, lead := range p.Plan[person.audience] {
			due := lead.DueAt(start, loc)
			key := person.key() + "|" + lead.String()
			want[key] = true
			if !due.After(now) {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reminders (hearing_id, victim_id, user_id, recipient, lead, due_at, sequence, status, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'PLANNED', ?) ON CONFLICT DO NOTHING`, hearingID, nullID(person.victimID), nullID(person.userID), person.key(), lead.String(),
				FormatTime(due), sequence, FormatTime(now)); err != nil {
				return wrapErr("plan reminder", err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, recipient, lead FROM reminders WHERE hearing_id = ? AND status = 'PLANNED'`, hearingID)
	if err != nil {
		return wrapErr("planned reminders", err)
	}
	var drop []int64
	for rows.Next() {
		var id int64
		var recipient, lead string
		if err := rows.Scan(&id, &recipient, &lead); err != nil {
			rows.Close()
			return wrapErr("scan reminder", err)
		}
		if !want[recipient+"|"+lead] {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrapErr("planned reminders", err)
	}
	for _, id := range drop {
		if _, err := tx.ExecContext(ctx, `UPDATE reminders SET status = 'CANCELLED' WHERE id = ?`, id); err != nil {
			return wrapErr("cancel reminder", err)
		}
	}
	return nil
}

// FireDueReminders is the reminder scheduler's step: in one transaction it marks up to limit
// due reminders FIRED and publishes a reminder.due event for each. It returns how many fired.
func (s *ReminderService) FireDueReminders(ctx context.Context, limit int) (int, error) {
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT id, hearing_id, COALESCE(victim_id, 0), COALESCE(user_id, 0), sequence FROM reminders
		WHERE status = 'PLANNED' AND due_at <= ? ORDER BY due_at, id LIMIT ?`, FormatTime(tx.now), limit)
	if err != nil {
		return 0, wrapErr("due reminders", err)
	}
	var due []courtside.Event
	for rows.Next() {
		var ev courtside.Event
		if err := rows.Scan(&ev.ReminderID, &ev.HearingID, &ev.VictimID, &ev.UserID, &ev.Sequence); err != nil {
			rows.Close()
			return 0, wrapErr("scan reminder", err)
		}
		ev.Type = courtside.EventReminderDue
		ev.At = tx.now
		due = append(due, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, wrapErr("due reminders", err)
	}
	if len(due) == 0 {
		return 0, nil
	}
	for _, ev := range due {
		if _, err := tx.ExecContext(ctx, `UPDATE reminders SET status = 'FIRED', fired_at = ? WHERE id = ?`, FormatTime(tx.now), ev.ReminderID); err != nil {
			return 0, wrapErr("fire reminder", err)
		}
		tx.Event(ev)
	}
	return len(due), tx.Commit(ctx)
}

// FindReminders returns a hearing's reminders, oldest first, for tests and operators; it
// takes no caller and checks no scope, so it is not exposed through the API.
func (svc *ReminderService) FindReminders(ctx context.Context, hearingID int64) ([]*courtside.Reminder, error) {
	rows, err := svc.db.Reader.QueryContext(ctx, `SELECT id, hearing_id, COALESCE(victim_id, 0), COALESCE(user_id, 0), lead, due_at, sequence, status
		FROM reminders WHERE hearing_id = ? ORDER BY id`, hearingID)
	if err != nil {
		return nil, wrapErr("find reminders", err)
	}
	return collect(rows, "reminder", func(s scanner) (*courtside.Reminder, error) {
		var r courtside.Reminder
		var lead string
		if err := s.Scan(&r.ID, &r.HearingID, &r.VictimID, &r.UserID, &lead, scanTime{&r.DueAt}, &r.Sequence, &r.Status); err != nil {
			return nil, err
		}
		l, err := courtside.ParseLead(lead)
		if err != nil {
			return nil, err
		}
		r.Lead = l
		return &r, nil
	})
}

// person is someone a hearing's messages and reminders go to.
type person struct {
	audience courtside.Audience
	victimID int64
	userID   int64
}

// key is the person's recipient key: v<victim id> or u<user id>.
func (p person) key() string {
	if p.victimID != 0 {
		return fmt.Sprintf("v%d", p.victimID)
	}
	return fmt.Sprintf("u%d", p.userID)
}

// hearingPeople returns the victims linked to the hearing's case, the advocates with a live
// accompaniment and the interpreters with an accepted booking. With cancelled set it also
// returns those whose accompaniment or booking was cancelled with the hearing, and those with
// an open offer, who must hear of a change or cancellation too.
func hearingPeople(ctx context.Context, tx *sql.Tx, hearingID, caseID int64, changed bool) ([]person, error) {
	accompaniment := `a.status <> 'CANCELLED'`
	booking := `ib.status IN ('ACCEPTED','NEEDS_RECONFIRMATION')`
	if changed {
		accompaniment = `(a.status <> 'CANCELLED' OR h.status = 'CANCELLED')`
		booking = `(ib.status IN ('ACCEPTED','NEEDS_RECONFIRMATION','OFFERED') OR (ib.status = 'CANCELLED' AND h.status = 'CANCELLED'))`
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT 'VICTIM', victim_id, 0 FROM case_victims WHERE case_id = ?
		UNION SELECT DISTINCT 'ADVOCATE', 0, a.advocate_id FROM accompaniments a JOIN hearings h ON h.id = a.hearing_id
			WHERE a.hearing_id = ? AND `+accompaniment+`
		UNION SELECT DISTINCT 'INTERPRETER', 0, ib.interpreter_id FROM interpreter_bookings ib JOIN hearings h ON h.id = ib.hearing_id
			WHERE ib.hearing_id = ? AND ib.interpreter_id IS NOT NULL AND `+booking+`
		ORDER BY 1, 2, 3`, caseID, hearingID, hearingID)
	if err != nil {
		return nil, wrapErr("hearing people", err)
	}
	defer rows.Close()
	var out []person
	for rows.Next() {
		var p person
		if err := rows.Scan(&p.audience, &p.victimID, &p.userID); err != nil {
			return nil, wrapErr("scan person", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("storage: %s: %w", what, err)
}

func collectIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
