package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"courtside"
)

// Travel times between courts are data (migrations/00008_booking_links.sql): one row per pair
// of courts, the lower ID first, so the time is the same both ways. A pair without a row takes
// courtside.DefaultTravelTime; within one court there is none.

// courtPair returns the pair's key: the lower ID first.
func courtPair(a, b int64) [2]int64 {
	if a > b {
		a, b = b, a
	}
	return [2]int64{a, b}
}

// travelTimes are the configured travel times of some pairs of courts.
type travelTimes map[[2]int64]time.Duration

// buffer is the courtside travel-buffer function of the configured times: the configured time
// of the pair, DefaultTravelTime when none is configured, nothing within one court.
func (t travelTimes) buffer(a, b int64) time.Duration {
	if a == b {
		return 0
	}
	if d, ok := t[courtPair(a, b)]; ok {
		return d
	}
	return courtside.DefaultTravelTime
}

// longestFrom returns the longest travel time between court and any other court: the
// configured times, and DefaultTravelTime for the pairs not configured.
func (t travelTimes) longestFrom(court int64) time.Duration {
	longest := courtside.DefaultTravelTime
	for pair, d := range t {
		if (pair[0] == court || pair[1] == court) && d > longest {
			longest = d
		}
	}
	return longest
}

// queryTravelTimes reads the travel times of query, which selects court_a, court_b, minutes.
func queryTravelTimes(ctx context.Context, q queryer, query string, args ...any) (travelTimes, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: travel times: %w", err)
	}
	defer rows.Close()
	out := travelTimes{}
	for rows.Next() {
		var a, b int64
		var minutes int
		if err := rows.Scan(&a, &b, &minutes); err != nil {
			return nil, fmt.Errorf("storage: scan travel time: %w", err)
		}
		out[courtPair(a, b)] = time.Duration(minutes) * time.Minute
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: travel times: %w", err)
	}
	return out, nil
}

// travelTimesFrom reads, through q, the travel times configured between court and the others.
func travelTimesFrom(ctx context.Context, q queryer, court int64) (travelTimes, error) {
	return queryTravelTimes(ctx, q, `SELECT court_a, court_b, minutes FROM travel_times WHERE court_a = ? OR court_b = ?`, court, court)
}

// SetTravelTime sets the travel time between two courts, both ways (admins only).
func (s *CourtService) SetTravelTime(ctx context.Context, fromCourtID, toCourtID int64, minutes int) (int, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return 0, err
	}
	if !courtside.CanSetTravelTimes(u) {
		return 0, courtside.Errorf(courtside.EFORBIDDEN, "Only administrators may set travel times: every organisation plans with them.")
	}
	if err := courtside.ValidateTravelTime(fromCourtID, toCourtID, minutes); err != nil {
		return 0, err
	}
	pair := courtPair(fromCourtID, toCourtID)
	err = s.db.update(ctx, func(tx *Tx) error {
		if err := courtsExist(ctx, tx, fromCourtID, toCourtID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO travel_times (court_a, court_b, minutes, updated_at) VALUES (?,?,?,?)
			ON CONFLICT (court_a, court_b) DO UPDATE SET minutes = excluded.minutes, updated_at = excluded.updated_at`,
			pair[0], pair[1], minutes, FormatTime(tx.now)); err != nil {
			return fmt.Errorf("storage: set travel time: %w", err)
		}
		tx.Audit("court.travel_time", "court:"+strconv.FormatInt(pair[0], 10)+"-"+strconv.FormatInt(pair[1], 10), courtside.OutcomeOK)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return minutes, nil
}

// TravelTime returns the travel time between two courts in minutes.
func (s *CourtService) TravelTime(ctx context.Context, fromCourtID, toCourtID int64) (int, error) {
	if _, err := requireUser(ctx); err != nil {
		return 0, err
	}
	if err := courtsExist(ctx, s.db.Reader, fromCourtID, toCourtID); err != nil {
		return 0, err
	}
	if fromCourtID == toCourtID {
		return 0, nil
	}
	pair := courtPair(fromCourtID, toCourtID)
	var minutes int
	err := s.db.Reader.QueryRowContext(ctx, `SELECT minutes FROM travel_times WHERE court_a = ? AND court_b = ?`, pair[0], pair[1]).Scan(&minutes)
	if errors.Is(err, sql.ErrNoRows) {
		return int(courtside.DefaultTravelTime / time.Minute), nil
	} else if err != nil {
		return 0, fmt.Errorf("storage: travel time: %w", err)
	}
	return minutes, nil
}

// courtsExist returns ENOTFOUND unless every one of the courts exists.
func courtsExist(ctx context.Context, q queryer, ids ...int64) error {
	for _, id := range ids {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM courts WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return courtside.Errorf(courtside.ENOTFOUND, "Court %d not found.", id)
		} else if err != nil {
			return fmt.Errorf("storage: find court: %w", err)
		}
	}
	return nil
}
