package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"courtside"
)

// NoticePlanner is the notification planner, an event handler: for each event that someone
// must hear of, it inserts one delivery per recipient on the first channel that may reach
// them. It writes only through the event's transaction and does no network I/O; the words
// are rendered, and the contact policy applied again, when the delivery worker sends.
type NoticePlanner struct {
	DB *DB
}

// Handle plans the deliveries an event calls for.
func (p *NoticePlanner) Handle(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	var kind courtside.NotificationKind
	switch ev.Type {
	case courtside.EventHearingScheduled:
		kind = courtside.NotifyHearingScheduled
	case courtside.EventHearingChanged:
		if !movedOrMoves(ev.Change) {
			return nil
		}
		kind = courtside.NotifyHearingChanged
	case courtside.EventHearingCancelled:
		kind = courtside.NotifyHearingCancelled
	case courtside.EventReminderDue:
		kind = courtside.NotifyReminder
	case courtside.EventBookingOffered:
		kind = courtside.NotifyBookingOffer
	case courtside.EventAccompanimentAssigned:
		kind = courtside.NotifyAccompanimentAssigned
	case courtside.EventBookingUnfilled:
		kind = courtside.NotifyBookingUnfilled
	case courtside.EventBookingExpired:
		kind = courtside.NotifyBookingExpired
	case courtside.EventVictimLinked:
		return p.linked(ctx, tx, ev)
	case courtside.EventRequestCreated:
		return p.requested(ctx, tx, ev)
	default:
		return nil
	}
	if ev.HearingID == 0 {
		return nil
	}
	facts, caseID, err := hearingFacts(ctx, tx, ev.HearingID)
	if err != nil {
		return err
	}
	n := courtside.NoticeFacts{Hearing: facts.HearingFacts}
	var people []person
	switch kind {
	case courtside.NotifyHearingScheduled, courtside.NotifyHearingChanged, courtside.NotifyHearingCancelled:
		if people, err = hearingPeople(ctx, tx, ev.HearingID, caseID, kind != courtside.NotifyHearingScheduled); err != nil {
			return err
		}
		if kind == courtside.NotifyHearingScheduled {
			// Staff hear of a new hearing when they are put on it: ACCOMPANIMENT_ASSIGNED,
			// BOOKING_OFFER.
			people = victimsOnly(people)
		}
		if kind == courtside.NotifyHearingChanged {
			before := facts.HearingFacts
			if c := ev.Change; c != nil {
				if c.FromStartsAt != nil {
					before.StartsAt = *c.FromStartsAt
				}
				if c.FromEndsAt != nil {
					before.EndsAt = *c.FromEndsAt
				}
				if c.FromCourtroom != "" || c.ToCourtroom != "" {
					before.Courtroom = c.FromCourtroom
				}
				if c.ToStartsAt != nil {
					n.Hearing.StartsAt = *c.ToStartsAt
				}
				if c.ToEndsAt != nil {
					n.Hearing.EndsAt = *c.ToEndsAt
				}
			}
			n.Before = &before
		}
	case courtside.NotifyReminder:
		var lead, status string
		var sequence int
		var pr person
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(victim_id, 0), COALESCE(user_id, 0), lead, sequence, status FROM reminders WHERE id = ?`,
			ev.ReminderID).Scan(&pr.victimID, &pr.userID, &lead, &sequence, &status)
		if err != nil {
			return wrapErr("reminder", err)
		}
		// A reminder fired late (the server was down) for a hearing that has begun, moved or
		// been cancelled since is not sent.
		if facts.Status == courtside.HearingCancelled || !facts.StartsAt.After(p.DB.Now()) {
			return nil
		}
		if pr.audience, err = p.audienceOf(ctx, tx, ev.HearingID, pr); err != nil {
			return err
		}
		n.Lead = lead
		people = []person{pr}
	case courtside.NotifyBookingOffer:
		var respondBy sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT language, respond_by FROM interpreter_bookings WHERE id = ?`, ev.BookingID).Scan(&n.Language, &respondBy); err != nil {
			return wrapErr("offered booking", err)
		}
		if respondBy.Valid {
			t, err := ParseTime(respondBy.String)
			if err != nil {
				return err
			}
			n.RespondBy = &t
		}
		n.BookingID, n.InterpreterID = ev.BookingID, ev.UserID
		people = []person{{audience: courtside.AudienceInterpreter, userID: ev.UserID}}
	case courtside.NotifyBookingExpired:
		// The interpreter who let the offer lapse is told, and by e-mail their calendar's
		// invitation is withdrawn; the next candidate's offer is an event of its own.
		if err := tx.QueryRowContext(ctx, `SELECT language FROM interpreter_bookings WHERE id = ?`, ev.BookingID).Scan(&n.Language); err != nil {
			return wrapErr("expired booking", err)
		}
		n.BookingID, n.InterpreterID = ev.BookingID, ev.UserID
		people = []person{{audience: courtside.AudienceInterpreter, userID: ev.UserID}}
	case courtside.NotifyAccompanimentAssigned:
		people = []person{{audience: courtside.AudienceAdvocate, userID: ev.UserID}}
	case courtside.NotifyBookingUnfilled:
		if err := tx.QueryRowContext(ctx, `SELECT language FROM interpreter_bookings WHERE id = ?`, ev.BookingID).Scan(&n.Language); err != nil {
			return wrapErr("unfilled booking", err)
		}
		n.BookingID = ev.BookingID
		if people, err = bookingCoordinators(ctx, tx, ev.BookingID); err != nil {
			return err
		}
	}
	source := "ev-" + ev.ID
	switch kind {
	case courtside.NotifyReminder:
		source = fmt.Sprintf("rem-%d", ev.ReminderID)
	case courtside.NotifyHearingScheduled:
		source = scheduledSource(ev.HearingID)
	}
	for _, pr := range people {
		pn := n
		if pr.audience == courtside.AudienceInterpreter && (kind == courtside.NotifyHearingChanged || kind == courtside.NotifyHearingCancelled) {
			// The interpreter's message updates or cancels the invitation of their booking.
			if pn.BookingID, pn.Language, err = invitedBooking(ctx, tx, ev.HearingID, pr.userID, kind == courtside.NotifyHearingCancelled); err != nil {
				return err
			}
			if pn.BookingID != 0 {
				pn.InterpreterID = pr.userID
			}
		}
		if err := p.DB.planDelivery(ctx, tx, kind, ev.HearingID, facts.sequence(ev), pr, pn, source); err != nil {
			return err
		}
	}
	return nil
}

// scheduledSource is the source of a HEARING_SCHEDULED notice: the hearing, so that the notice
// planned when the hearing is posted and the one planned when a victim is linked to its case
// are one delivery, not two. A person is told once that a hearing exists; HEARING_CHANGED
// tells them of each move.
func scheduledSource(hearingID int64) string {
	return fmt.Sprintf("sched-h%d", hearingID)
}

// linked tells a victim newly linked to a case of the case's upcoming hearings.
func (p *NoticePlanner) linked(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	if ev.CaseID == 0 || ev.VictimID == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM hearings WHERE case_id = ? AND status <> 'CANCELLED' AND starts_at > ? ORDER BY starts_at`,
		ev.CaseID, FormatTime(p.DB.Now()))
	if err != nil {
		return wrapErr("upcoming hearings", err)
	}
	ids, err := collectIDs(rows)
	if err != nil {
		return wrapErr("upcoming hearings", err)
	}
	for _, id := range ids {
		facts, _, err := hearingFacts(ctx, tx, id)
		if err != nil {
			return err
		}
		pr := person{audience: courtside.AudienceVictim, victimID: ev.VictimID}
		if err := p.DB.planDelivery(ctx, tx, courtside.NotifyHearingScheduled, id, facts.seq, pr,
			courtside.NoticeFacts{Hearing: facts.HearingFacts}, scheduledSource(id)); err != nil {
			return err
		}
	}
	return nil
}

// requested tells the coordinators of a victim's organisation of the victim's new request.
// An SMS_RESTART request is not announced here: the advocates are asked to confirm it when it
// is made.
func (p *NoticePlanner) requested(ctx context.Context, tx *sql.Tx, ev courtside.Event) error {
	var kind courtside.RequestKind
	var victimID, hearingID int64
	err := tx.QueryRowContext(ctx, `SELECT kind, victim_id, COALESCE(hearing_id, 0) FROM requests WHERE id = ?`, ev.RequestID).
		Scan(&kind, &victimID, &hearingID)
	if err != nil {
		return wrapErr("request", err)
	}
	if kind == courtside.RequestSMSRestart {
		return nil
	}
	n := courtside.NoticeFacts{Request: kind}
	if n.Pseudonym, err = victimPseudonym(ctx, tx, victimID); err != nil {
		return err
	}
	sequence := 0
	if hearingID != 0 {
		facts, _, err := hearingFacts(ctx, tx, hearingID)
		if err != nil {
			return err
		}
		n.Hearing, sequence = facts.HearingFacts, facts.seq
	}
	rows, err := tx.QueryContext(ctx, `SELECT u.id FROM users u JOIN victims v ON v.organization_id = u.organization_id
		WHERE v.id = ? AND u.role = 'COORDINATOR' ORDER BY 1`, victimID)
	if err != nil {
		return wrapErr("coordinators", err)
	}
	ids, err := collectIDs(rows)
	if err != nil {
		return wrapErr("coordinators", err)
	}
	for _, id := range ids {
		pr := person{audience: courtside.AudienceCoordinator, userID: id}
		if err := p.DB.planDelivery(ctx, tx, courtside.NotifyRequestCreated, hearingID, sequence, pr, n, fmt.Sprintf("req-r%d", ev.RequestID)); err != nil {
			return err
		}
	}
	return nil
}

// movedOrMoves reports whether a hearing change moved its time or courtroom: only those are
// worth a message.
func movedOrMoves(c *courtside.HearingChange) bool {
	if c == nil {
		return false
	}
	timeMoved := c.FromStartsAt != nil && c.ToStartsAt != nil && !c.FromStartsAt.Equal(*c.ToStartsAt) ||
		c.FromEndsAt != nil && c.ToEndsAt != nil && !c.FromEndsAt.Equal(*c.ToEndsAt)
	return timeMoved || c.FromCourtroom != c.ToCourtroom
}

// audienceOf returns the part a reminder's recipient plays for the hearing.
func (p *NoticePlanner) audienceOf(ctx context.Context, tx *sql.Tx, hearingID int64, pr person) (courtside.Audience, error) {
	if pr.victimID != 0 {
		return courtside.AudienceVictim, nil
	}
	var role string
	if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, pr.userID).Scan(&role); err != nil {
		return "", wrapErr("reminder recipient", err)
	}
	if courtside.Role(role) == courtside.RoleInterpreter {
		return courtside.AudienceInterpreter, nil
	}
	return courtside.AudienceAdvocate, nil
}

// hearingFacts reads what a message may tell about a hearing, and its case.
func hearingFacts(ctx context.Context, tx *sql.Tx, hearingID int64) (f factsWithSequence, caseID int64, err error) {
	var starts, ends string
	err = tx.QueryRowContext(ctx, `SELECT h.kind, h.status, h.starts_at, h.ends_at, c.name, c.address, h.courtroom, k.docket, c.time_zone,
			h.sequence, h.case_id
		FROM hearings h JOIN courts c ON c.id = h.court_id JOIN cases k ON k.id = h.case_id WHERE h.id = ?`, hearingID).Scan(
		&f.Kind, &f.Status, &starts, &ends, &f.Court, &f.Address, &f.Courtroom, &f.Docket, &f.Zone, &f.seq, &caseID)
	if err != nil {
		return f, 0, wrapErr("hearing facts", err)
	}
	if f.StartsAt, err = ParseTime(starts); err != nil {
		return f, 0, err
	}
	if f.EndsAt, err = ParseTime(ends); err != nil {
		return f, 0, err
	}
	return f, caseID, nil
}

// factsWithSequence is a hearing's facts and its current sequence.
type factsWithSequence struct {
	courtside.HearingFacts
	seq int
}

// sequence is the hearing sequence a notice is about: the event's, else the hearing's now.
func (f factsWithSequence) sequence(ev courtside.Event) int {
	if ev.Sequence != 0 {
		return ev.Sequence
	}
	if ev.Change != nil {
		return ev.Change.Sequence
	}
	return f.seq
}

// bookingCoordinators returns the coordinators of the organisation that requested a booking,
// following the chain of re-offers back to the request.
func bookingCoordinators(ctx context.Context, tx *sql.Tx, bookingID int64) ([]person, error) {
	rows, err := tx.QueryContext(ctx, `
		WITH RECURSIVE chain(id, previous, requested_by) AS (
			SELECT id, previous_booking_id, requested_by FROM interpreter_bookings WHERE id = ?
			UNION ALL
			SELECT b.id, b.previous_booking_id, b.requested_by FROM interpreter_bookings b JOIN chain ON b.id = chain.previous
		)
		SELECT DISTINCT u.id FROM chain JOIN users r ON r.id = chain.requested_by
			JOIN users u ON u.organization_id = r.organization_id AND u.role = 'COORDINATOR' ORDER BY u.id`, bookingID)
	if err != nil {
		return nil, wrapErr("booking coordinators", err)
	}
	ids, err := collectIDs(rows)
	if err != nil {
		return nil, wrapErr("booking coordinators", err)
	}
	out := make([]person, len(ids))
	for i, id := range ids {
		out[i] = person{audience: courtside.AudienceCoordinator, userID: id}
	}
	return out, nil
}

// planDelivery inserts one person's delivery of a notice. A victim's goes on the first channel
// their policy allows with an address confirmed safe; with none, it is recorded SUPPRESSED
// and their advocates are told. Staff get e-mail, else SMS. The idempotency key is made of the
// source (the event or reminder), the recipient and the channel, so planning the same notice
// again inserts nothing.
func (db *DB) planDelivery(ctx context.Context, tx *sql.Tx, kind courtside.NotificationKind, hearingID int64, sequence int, pr person,
	n courtside.NoticeFacts, source string) error {
	now := db.Now()
	channel, language, reason, err := firstChannel(ctx, tx, pr, nil)
	if err != nil {
		return err
	}
	status := courtside.DeliveryPending
	if reason != "" {
		status = courtside.DeliverySuppressed
	}
	key := fmt.Sprintf("cs-%s-%s-%s", source, pr.key(), channel)
	id, err := insertDelivery(ctx, tx, deliveryRow{kind: kind, hearingID: hearingID, person: pr, channel: channel, language: language,
		status: status, key: key, notice: n, sequence: sequence, reason: reason, now: now})
	if err != nil || id == 0 || status != courtside.DeliverySuppressed {
		return err
	}
	return db.tellAdvocates(ctx, tx, id, hearingID, sequence, pr, n, reason)
}

// firstChannel returns the channel a person is reached on next, skipping tried, with their
// language; reason is set when there is none.
func firstChannel(ctx context.Context, tx queryer, pr person, tried []courtside.Channel) (courtside.Channel, string, string, error) {
	if pr.victimID == 0 {
		var email, phone string
		if err := tx.QueryRowContext(ctx, `SELECT email, phone FROM users WHERE id = ?`, pr.userID).Scan(&email, &phone); err != nil {
			return "", "", "", wrapErr("recipient", err)
		}
		for _, c := range []struct {
			ch   courtside.Channel
			have bool
		}{{courtside.ChannelEmail, email != ""}, {courtside.ChannelSMS, phone != ""}} {
			if c.have && !triedChannel(tried, c.ch) {
				return c.ch, "en", "", nil
			}
		}
		if len(tried) > 0 {
			return tried[len(tried)-1], "en", "every channel failed", nil
		}
		return courtside.ChannelEmail, "en", "no e-mail address or phone number", nil
	}
	var policyJSON, language string
	if err := tx.QueryRowContext(ctx, `SELECT policy, preferred_language FROM victims WHERE id = ?`, pr.victimID).Scan(&policyJSON, &language); err != nil {
		return "", "", "", wrapErr("victim policy", err)
	}
	var policy courtside.ContactPolicy
	if err := json.Unmarshal([]byte(policyJSON), &policy); err != nil {
		return "", "", "", fmt.Errorf("storage: victim policy: %w", err)
	}
	contacts, err := contactChannels(ctx, tx, pr.victimID)
	if err != nil {
		return "", "", "", err
	}
	if c, ok := courtside.NextChannel(&policy, contacts, tried); ok {
		return c, language, "", nil
	}
	ch := courtside.ChannelEmail
	if len(tried) > 0 {
		return tried[len(tried)-1], language, "every allowed channel failed", nil
	}
	if len(policy.Channels) > 0 {
		ch = policy.Channels[0].Channel
	}
	return ch, language, "policy: no allowed channel with an address confirmed safe", nil
}

func triedChannel(tried []courtside.Channel, c courtside.Channel) bool {
	for _, t := range tried {
		if t == c {
			return true
		}
	}
	return false
}

// contactChannels returns a victim's contact points without their addresses: which channels
// have one, and whether it is confirmed safe. Nothing is decrypted.
func contactChannels(ctx context.Context, tx queryer, victimID int64) ([]courtside.ContactPoint, error) {
	rows, err := tx.QueryContext(ctx, `SELECT channel, confirmed_safe_at FROM victim_contacts WHERE victim_id = ? ORDER BY id`, victimID)
	if err != nil {
		return nil, wrapErr("contact channels", err)
	}
	defer rows.Close()
	var out []courtside.ContactPoint
	for rows.Next() {
		var c courtside.ContactPoint
		if err := rows.Scan(&c.Channel, scanOptTime{&c.ConfirmedSafeAt}); err != nil {
			return nil, wrapErr("scan contact channel", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// tellAdvocates plans a NOTICE_SUPPRESSED message about suppressed delivery id to the advocates
// accompanying the victim at this hearing, else at any hearing, else the coordinators of the
// victim's organisation.
func (db *DB) tellAdvocates(ctx context.Context, tx *sql.Tx, deliveryID, hearingID int64, sequence int, victim person, n courtside.NoticeFacts, reason string) error {
	if victim.victimID == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT advocate_id FROM accompaniments WHERE victim_id = ? AND hearing_id = ? AND status <> 'CANCELLED' ORDER BY 1`,
		victim.victimID, hearingID)
	if err != nil {
		return wrapErr("advocates", err)
	}
	ids, err := collectIDs(rows)
	if err != nil {
		return wrapErr("advocates", err)
	}
	audience := courtside.AudienceAdvocate
	if len(ids) == 0 {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT advocate_id FROM accompaniments WHERE victim_id = ? AND status <> 'CANCELLED' ORDER BY 1`, victim.victimID)
		if err != nil {
			return wrapErr("advocates", err)
		}
		if ids, err = collectIDs(rows); err != nil {
			return wrapErr("advocates", err)
		}
	}
	if len(ids) == 0 {
		audience = courtside.AudienceCoordinator
		rows, err := tx.QueryContext(ctx, `SELECT u.id FROM users u JOIN victims v ON v.organization_id = u.organization_id
			WHERE v.id = ? AND u.role = 'COORDINATOR' ORDER BY 1`, victim.victimID)
		if err != nil {
			return wrapErr("coordinators", err)
		}
		if ids, err = collectIDs(rows); err != nil {
			return wrapErr("coordinators", err)
		}
	}
	n.Reason = reason
	for _, id := range ids {
		pr := person{audience: audience, userID: id}
		channel, _, why, err := firstChannel(ctx, tx, pr, nil)
		if err != nil {
			return err
		}
		status := courtside.DeliveryPending
		if why != "" {
			status = courtside.DeliverySuppressed
		}
		key := fmt.Sprintf("cs-sup-%d-%s-%s", deliveryID, pr.key(), channel)
		if _, err := insertDelivery(ctx, tx, deliveryRow{kind: courtside.NotifyNoticeSuppressed, hearingID: hearingID, person: pr, channel: channel,
			language: "en", status: status, key: key, notice: n, sequence: sequence, reason: why, now: db.Now()}); err != nil {
			return err
		}
	}
	return nil
}

// deliveryRow is a delivery about to be inserted.
type deliveryRow struct {
	kind      courtside.NotificationKind
	hearingID int64
	person    person
	channel   courtside.Channel
	language  string
	status    courtside.DeliveryStatus
	key       string
	notice    courtside.NoticeFacts
	sequence  int
	reason    string
	now       time.Time
}

// insertDelivery inserts a delivery unless one with its idempotency key exists, and returns
// the new row's id, or 0 when it existed.
func insertDelivery(ctx context.Context, tx *sql.Tx, d deliveryRow) (int64, error) {
	notice, err := json.Marshal(d.notice)
	if err != nil {
		return 0, fmt.Errorf("storage: notice: %w", err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO deliveries (kind, hearing_id, victim_id, user_id, channel, language, status, idempotency_key,
			created_at, next_attempt_at, reason, notice, sequence, audience)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id`, d.kind, nullID(d.hearingID), nullID(d.person.victimID), nullID(d.person.userID), d.channel,
		d.language, d.status, d.key, FormatTime(d.now), FormatTime(d.now), d.reason, string(notice), d.sequence, d.person.audience).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrapErr("insert delivery", err)
	}
	return id, nil
}

func victimsOnly(people []person) []person {
	var out []person
	for _, p := range people {
		if p.victimID != 0 {
			out = append(out, p)
		}
	}
	return out
}
