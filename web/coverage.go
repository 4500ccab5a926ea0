package web

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// The coverage board: each hearing of a range with who is on it and what is missing, built
// from the same service calls GraphQL's coverage, conflicts, bookings and accompaniments
// answer, as the signed-in user. One call per kind of thing, whatever the number of hearings.

// hearingRow is one hearing of the board.
type hearingRow struct {
	ID        int64
	Kind      courtside.HearingKind
	Status    courtside.HearingStatus
	StartsAt  time.Time
	EndsAt    time.Time
	Loc       *time.Location
	Court     string
	Courtroom string
	Docket    string
	CaseID    int64
	Sequence  int
	Open      bool
	// Advocates are the usernames of the live accompaniments; NeedsAdvocate is the coverage
	// gap of an attending victim without one.
	Advocates     []string
	NeedsAdvocate bool
	Interpreters  []interpreterCover
	Conflicts     []conflictNote
}

// interpreterCover is the state of one requested language of a hearing.
type interpreterCover struct {
	Language string
	// State is "booked" (accepted), "offered" (offered or awaiting reconfirmation: not yet
	// sure) or "unfilled" (requested, nobody left holding it).
	State string
	Who   string
}

// conflictNote is one conflict a hearing is part of.
type conflictNote struct {
	Kind courtside.ConflictKind
	Who  string
}

// Moved reports whether the hearing is no longer simply scheduled: continued, cancelled or
// held.
func (h *hearingRow) Moved() bool { return h.Status != courtside.HearingScheduled }

// Flagged reports whether the hearing needs the coordinator's attention.
func (h *hearingRow) Flagged() bool {
	if !h.Open {
		return false
	}
	if h.NeedsAdvocate || len(h.Conflicts) > 0 {
		return true
	}
	for _, ic := range h.Interpreters {
		if ic.State != "booked" {
			return true
		}
	}
	return false
}

// board builds the rows of hearings, with coverage and conflicts over [from, to) when
// withCoordination (coordinators and admins may ask for them).
func (a *App) board(ctx context.Context, hearings []*courtside.Hearing, from, to time.Time, withCoordination bool) ([]*hearingRow, error) {
	if len(hearings) == 0 {
		return nil, nil
	}
	courts, err := a.courtMap(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(hearings))
	caseSet := map[int64]bool{}
	var caseIDs []int64
	for i, h := range hearings {
		ids[i] = h.ID
		if !caseSet[h.CaseID] {
			caseSet[h.CaseID] = true
			caseIDs = append(caseIDs, h.CaseID)
		}
	}
	cases, err := a.cfg.Cases.FindCases(ctx, caseIDs...)
	if err != nil {
		return nil, err
	}
	dockets := map[int64]string{}
	for _, c := range cases {
		dockets[c.ID] = c.Docket
	}
	bookings, err := a.cfg.Bookings.FindBookings(ctx, courtside.BookingFilter{HearingIDs: ids})
	if err != nil && courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		return nil, err
	}
	accs, err := a.cfg.Accompaniments.FindAccompaniments(ctx, courtside.AccompanimentFilter{HearingIDs: ids})
	if err != nil && courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		return nil, err
	}
	names, err := a.staffNames(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]*hearingRow, len(hearings))
	byID := map[int64]*hearingRow{}
	for i, h := range hearings {
		c := courts[h.CourtID]
		row := &hearingRow{ID: h.ID, Kind: h.Kind, Status: h.Status, StartsAt: h.StartsAt, EndsAt: h.EndsAt,
			Courtroom: h.Courtroom, Docket: dockets[h.CaseID], CaseID: h.CaseID, Sequence: h.Sequence, Open: h.Open()}
		if c != nil {
			row.Court, row.Loc = c.Name, c.loc
		}
		rows[i], byID[h.ID] = row, row
	}
	for _, acc := range accs {
		if row := byID[acc.HearingID]; row != nil && acc.Live() {
			row.Advocates = appendOnce(row.Advocates, names[acc.AdvocateID])
		}
	}
	type key struct {
		hearing  int64
		language string
	}
	langs := map[key]*interpreterCover{}
	var order []key
	for _, b := range bookings {
		row := byID[b.HearingID]
		if row == nil || b.Status == courtside.BookingCancelled {
			continue
		}
		k := key{b.HearingID, b.Language}
		ic := langs[k]
		if ic == nil {
			ic = &interpreterCover{Language: b.Language, State: "unfilled"}
			langs[k] = ic
			order = append(order, k)
		}
		switch {
		case b.Status == courtside.BookingAccepted:
			ic.State, ic.Who = "booked", names[b.InterpreterID]
		case (b.Status == courtside.BookingOffered || b.Status == courtside.BookingNeedsReconfirmation) && ic.State != "booked":
			ic.State, ic.Who = "offered", names[b.InterpreterID]
		}
	}
	for _, k := range order {
		byID[k.hearing].Interpreters = append(byID[k.hearing].Interpreters, *langs[k])
	}
	if withCoordination {
		gaps, err := a.cfg.Coordination.FindCoverage(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for _, g := range gaps {
			if row := byID[g.Hearing.ID]; row != nil && g.Missing == courtside.MissingAdvocate {
				row.NeedsAdvocate = true
			}
		}
		conflicts, err := a.cfg.Coordination.FindConflicts(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for _, c := range conflicts {
			for _, h := range c.Hearings {
				if row := byID[h.ID]; row != nil {
					row.Conflicts = append(row.Conflicts, conflictNote{Kind: c.Kind, Who: c.Who})
				}
			}
		}
	}
	return rows, nil
}

// courtInfo is a court with its zone loaded once.
type courtInfo struct {
	*courtside.Court
	loc *time.Location
}

// courtMap returns every court by ID, each with its zone.
func (a *App) courtMap(ctx context.Context) (map[int64]*courtInfo, error) {
	courts, err := a.cfg.Courts.FindCourts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*courtInfo, len(courts))
	for _, c := range courts {
		out[c.ID] = &courtInfo{Court: c, loc: c.Location()}
	}
	return out, nil
}

// staffNames returns the usernames of advocates and interpreters by ID: the names a board
// shows beside a booking or an accompaniment, as GraphQL's Booking.interpreter and
// Accompaniment.advocate show them.
func (a *App) staffNames(ctx context.Context) (map[int64]string, error) {
	out := map[int64]string{}
	for _, r := range []courtside.Role{courtside.RoleAdvocate, courtside.RoleInterpreter} {
		role := r
		users, err := a.cfg.Users.FindUsers(ctx, courtside.UserFilter{Role: &role})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out[u.ID] = u.Username
		}
	}
	return out, nil
}

// homeZone returns the zone a week is counted in: the zone of the first court (the lowest ID),
// else UTC. Each hearing is still shown in its own court's zone.
func homeZone(courts map[int64]*courtInfo) *time.Location {
	var ids []int64
	for id := range courts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) == 0 {
		return time.UTC
	}
	return courts[ids[0]].loc
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// pathID parses the {id} of the path; ok is false for anything but a positive integer.
func pathID(rq *request) (int64, bool) {
	s := rq.r.PathValue("id")
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// formID parses a positive ID from the form field name.
func formID(rq *request, name string) (int64, bool) {
	s := strings.TrimSpace(rq.r.PostForm.Get(name))
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
