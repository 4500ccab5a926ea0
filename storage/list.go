package storage

import (
	"context"
	"fmt"

	"courtside"
)

// MaxListPage bounds a page of ListCases and ListVictims.
const MaxListPage = 500

// ListCases returns a page of the cases the caller may see: up to first of them with IDs above
// after, in ID order, and whether more follow. The scope is FindCases' own (caseScope), so a
// case listed here is one `case(id:)` answers.
func (s *CaseService) ListCases(ctx context.Context, first int, after int64) ([]*courtside.Case, bool, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, false, err
	}
	scope, args := caseScope(u)
	ids, more, err := s.db.listIDs(ctx, `SELECT c.id FROM cases c WHERE c.id > ? AND `+scope, after, args, first)
	if err != nil || len(ids) == 0 {
		return []*courtside.Case{}, false, err
	}
	cases, err := s.FindCases(ctx, ids...)
	return cases, more, err
}

// ListVictims returns a page of the victims the caller may see, without PII, as FindVictims
// returns them (PIIVisible says whether OpenVictimPII would open one): up to first of them with
// IDs above after, in ID order, and whether more follow. Admins and interpreters see none.
func (s *VictimService) ListVictims(ctx context.Context, first int, after int64) ([]*courtside.Victim, bool, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, false, err
	}
	if !courtside.CanSeeVictimPseudonym(u) {
		return []*courtside.Victim{}, false, nil
	}
	scope, args := victimScope(u, s.db.Now().UTC())
	ids, more, err := s.db.listIDs(ctx, `SELECT v.id FROM victims v WHERE v.id > ? AND `+scope, after, args, first)
	if err != nil || len(ids) == 0 {
		return []*courtside.Victim{}, false, err
	}
	vs, err := s.FindVictims(ctx, ids...)
	return vs, more, err
}

// listIDs runs query (selecting IDs above after, with the scope's args) for one page of first
// IDs in order, and says whether more follow.
func (db *DB) listIDs(ctx context.Context, query string, after int64, scopeArgs []any, first int) ([]int64, bool, error) {
	if first < 1 || first > MaxListPage {
		return nil, false, courtside.Invalidf("first", "first must be between 1 and %d.", MaxListPage)
	}
	rows, err := db.Reader.QueryContext(ctx, query+` ORDER BY 1 LIMIT ?`, append(append([]any{after}, scopeArgs...), first+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("storage: list: %w", err)
	}
	ids, err := collect(rows, "id", func(s scanner) (int64, error) {
		var id int64
		return id, s.Scan(&id)
	})
	if err != nil {
		return nil, false, err
	}
	if len(ids) > first {
		return ids[:first], true, nil
	}
	return ids, false, nil
}
