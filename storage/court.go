package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"courtside"
)

// CourtService is the database's service for courts and the travel times between them.
type CourtService struct {
	db *DB
}

// NewCourtService returns the court service of db.
func NewCourtService(db *DB) *CourtService { return &CourtService{db: db} }

var _ courtside.CourtService = (*CourtService)(nil)

// CreateCourt creates a court (admins only).
func (s *CourtService) CreateCourt(ctx context.Context, c *courtside.Court) error {
	u, err := requireUser(ctx)
	if err != nil {
		return err
	}
	if !courtside.CanCreateCourt(u) {
		return courtside.Errorf(courtside.EFORBIDDEN, "Only an administrator may create courts.")
	}
	c.Name, c.Address = strings.TrimSpace(c.Name), strings.TrimSpace(c.Address)
	if err := c.Validate(); err != nil {
		return err
	}
	return s.db.update(ctx, func(tx *Tx) error {
		c.CreatedAt = tx.now
		hours := c.EffectiveHours()
		err := tx.QueryRowContext(ctx, `INSERT INTO courts (name, time_zone, address, created_at, opens_at, closes_at) VALUES (?,?,?,?,?,?) RETURNING id`,
			c.Name, c.TimeZone, c.Address, FormatTime(c.CreatedAt), courtside.FormatClock(hours.Opens), courtside.FormatClock(hours.Closes)).Scan(&c.ID)
		if err != nil {
			if courtside.ErrorCode(mapSQLError(err)) == courtside.ECONFLICT {
				return courtside.Errorf(courtside.ECONFLICT, "A court named %q exists.", c.Name)
			}
			return fmt.Errorf("storage: insert court: %w", err)
		}
		tx.Audit("court.create", "court:"+strconv.FormatInt(c.ID, 10), courtside.OutcomeOK)
		return nil
	})
}

const courtColumns = `id, name, time_zone, address, created_at, opens_at, closes_at`

func scanCourt(s scanner) (*courtside.Court, error) {
	var c courtside.Court
	var opens, closes string
	if err := s.Scan(&c.ID, &c.Name, &c.TimeZone, &c.Address, scanTime{&c.CreatedAt}, &opens, &closes); err != nil {
		return nil, err
	}
	var err error
	if c.Hours.Opens, err = courtside.ParseClock("opensAt", opens); err != nil {
		return nil, fmt.Errorf("storage: court %d: %w", c.ID, err)
	}
	if c.Hours.Closes, err = courtside.ParseClock("closesAt", closes); err != nil {
		return nil, fmt.Errorf("storage: court %d: %w", c.ID, err)
	}
	return &c, nil
}

// FindCourtByID returns a court. Courts are public information.
func (s *CourtService) FindCourtByID(ctx context.Context, id int64) (*courtside.Court, error) {
	return s.db.findCourt(ctx, `id = ?`, id)
}

// FindCourtByName returns a court by its exact name.
func (s *CourtService) FindCourtByName(ctx context.Context, name string) (*courtside.Court, error) {
	return s.db.findCourt(ctx, `name = ?`, name)
}

func (db *DB) findCourt(ctx context.Context, where string, arg any) (*courtside.Court, error) {
	c, err := scanCourt(db.Reader.QueryRowContext(ctx, `SELECT `+courtColumns+` FROM courts WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, courtside.Errorf(courtside.ENOTFOUND, "Court not found.")
	} else if err != nil {
		return nil, fmt.Errorf("storage: find court: %w", err)
	}
	return c, nil
}

// FindCourts returns every court, by name.
func (s *CourtService) FindCourts(ctx context.Context) ([]*courtside.Court, error) {
	return s.db.findCourts(ctx, `SELECT `+courtColumns+` FROM courts ORDER BY name`)
}

// FindCourtsByID returns the courts with the given IDs.
func (s *CourtService) FindCourtsByID(ctx context.Context, ids ...int64) ([]*courtside.Court, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return s.db.findCourts(ctx, `SELECT `+courtColumns+` FROM courts WHERE id IN (`+placeholders(len(ids))+`) ORDER BY id`, int64Args(ids)...)
}

func (db *DB) findCourts(ctx context.Context, query string, args ...any) ([]*courtside.Court, error) {
	rows, err := db.Reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: find courts: %w", err)
	}
	return collect(rows, "court", scanCourt)
}
