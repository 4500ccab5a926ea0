package courtside

import (
	"context"
	"strings"
	"time"
)

// HearingKind is the kind of court proceeding.
type HearingKind string

// The hearing kinds of the schema.
const (
	KindArraignment HearingKind = "ARRAIGNMENT"
	KindDetention   HearingKind = "DETENTION"
	KindPreliminary HearingKind = "PRELIMINARY"
	KindMotion      HearingKind = "MOTION"
	KindPlea        HearingKind = "PLEA"
	KindTrial       HearingKind = "TRIAL"
	KindSentencing  HearingKind = "SENTENCING"
	KindRestitution HearingKind = "RESTITUTION"
	KindStatus      HearingKind = "STATUS"
	KindOther       HearingKind = "OTHER"
)

// HearingKinds lists every kind, in the order of the schema's enum.
var HearingKinds = []HearingKind{KindArraignment, KindDetention, KindPreliminary, KindMotion, KindPlea,
	KindTrial, KindSentencing, KindRestitution, KindStatus, KindOther}

// ParseHearingKind parses a kind name in any letter case.
func ParseHearingKind(s string) (HearingKind, error) {
	k := HearingKind(strings.ToUpper(strings.TrimSpace(s)))
	for _, known := range HearingKinds {
		if k == known {
			return k, nil
		}
	}
	return "", Invalidf("kind", "Unknown hearing kind %q.", s)
}

// HearingStatus is where a hearing stands.
type HearingStatus string

// The hearing statuses. CONTINUED is a hearing whose time has been moved at least once.
const (
	HearingScheduled HearingStatus = "SCHEDULED"
	HearingContinued HearingStatus = "CONTINUED"
	HearingCancelled HearingStatus = "CANCELLED"
	HearingHeld      HearingStatus = "HELD"
)

// MaxHearingLength bounds a hearing's duration; longer ones are almost certainly input errors.
const MaxHearingLength = 14 * 24 * time.Hour

// The bounds of a hearing's text fields, the same for every path that writes them: posting,
// importing, rescheduling and cancelling.
const (
	MaxCourtroom    = 100
	MaxJudge        = 200
	MaxExternalID   = 200
	MaxChangeReason = 500
)

// Hearing is one court proceeding of a case. Times are UTC; they are shown in the court's zone.
type Hearing struct {
	ID         int64         `json:"id"`
	CaseID     int64         `json:"caseId"`
	CourtID    int64         `json:"courtId"`
	Kind       HearingKind   `json:"kind"`
	StartsAt   time.Time     `json:"startsAt"`
	EndsAt     time.Time     `json:"endsAt"`
	Courtroom  string        `json:"courtroom,omitempty"`
	Judge      string        `json:"judge,omitempty"`
	Status     HearingStatus `json:"status"`
	Sequence   int           `json:"sequence"`
	ExternalID string        `json:"externalId,omitempty"`
	CreatedAt  time.Time     `json:"createdAt"`
	UpdatedAt  time.Time     `json:"updatedAt"`
}

// HearingChange is one entry of a hearing's history. A continuance is a change, not a delete
// and an insert.
type HearingChange struct {
	ID            int64         `json:"id"`
	HearingID     int64         `json:"hearingId"`
	At            time.Time     `json:"at"`
	ByUserID      int64         `json:"byUserId"`
	By            string        `json:"by"`
	Reason        string        `json:"reason"`
	Status        HearingStatus `json:"status"`
	Sequence      int           `json:"sequence"`
	FromStartsAt  *time.Time    `json:"fromStartsAt,omitempty"`
	ToStartsAt    *time.Time    `json:"toStartsAt,omitempty"`
	FromEndsAt    *time.Time    `json:"fromEndsAt,omitempty"`
	ToEndsAt      *time.Time    `json:"toEndsAt,omitempty"`
	FromCourtroom string        `json:"fromCourtroom,omitempty"`
	ToCourtroom   string        `json:"toCourtroom,omitempty"`
}

// Validate reports the first problem with h's fields as an EINVALID error.
func (h *Hearing) Validate() error {
	if h.CaseID <= 0 {
		return Invalidf("caseId", "Case is required.")
	}
	if _, err := ParseHearingKind(string(h.Kind)); err != nil {
		return err
	}
	if err := validateTimes(h.StartsAt, h.EndsAt); err != nil {
		return err
	}
	if err := validateCourtroom(h.Courtroom); err != nil {
		return err
	}
	if len(h.Judge) > MaxJudge {
		return Invalidf("judge", "Judge must be at most %d characters.", MaxJudge)
	}
	if len(h.ExternalID) > MaxExternalID {
		return Invalidf("externalId", "External ID must be at most %d characters.", MaxExternalID)
	}
	return nil
}

func validateCourtroom(room string) error {
	if len(room) > MaxCourtroom {
		return Invalidf("courtroom", "Courtroom must be at most %d characters.", MaxCourtroom)
	}
	return nil
}

// validateReason checks the reason of a change: required, at most MaxChangeReason bytes.
func validateReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return Invalidf("reason", "Reason is required.")
	}
	if len(reason) > MaxChangeReason {
		return Invalidf("reason", "Reason must be at most %d characters.", MaxChangeReason)
	}
	return nil
}

func validateTimes(start, end time.Time) error {
	if start.IsZero() {
		return Invalidf("startsAt", "Start time is required.")
	}
	if end.IsZero() {
		return Invalidf("endsAt", "End time is required.")
	}
	if !end.After(start) {
		return Invalidf("endsAt", "End time must be after the start time.")
	}
	if end.Sub(start) > MaxHearingLength {
		return Invalidf("endsAt", "A hearing may last at most 14 days.")
	}
	return nil
}

// Open reports whether the hearing can still change: it is neither cancelled nor held.
func (h *Hearing) Open() bool {
	return h.Status == HearingScheduled || h.Status == HearingContinued
}

// CheckSequence returns ECONFLICT when the caller expected another sequence than the
// hearing's: somebody changed it since the caller last read it.
func (h *Hearing) CheckSequence(expected *int) error {
	if expected != nil && *expected != h.Sequence {
		return Errorf(ECONFLICT, "Hearing has changed since sequence %d; it is now at %d.", *expected, h.Sequence)
	}
	return nil
}

// Reschedule moves an open hearing and returns the change to record. A move of the time is a
// continuance (status CONTINUED); a change of courtroom alone keeps the status. It returns
// changed=false, and leaves h alone, when nothing differs. The new times, courtroom and the
// reason are held to the same bounds as a posted hearing's.
func (h *Hearing) Reschedule(startsAt, endsAt time.Time, courtroom *string, reason string, at time.Time) (change *HearingChange, changed bool, err error) {
	if !h.Open() {
		return nil, false, Errorf(ECONFLICT, "Hearing is %s and can no longer be rescheduled.", h.Status)
	}
	if err := validateReason(reason); err != nil {
		return nil, false, err
	}
	if err := validateTimes(startsAt, endsAt); err != nil {
		return nil, false, err
	}
	startsAt, endsAt = startsAt.UTC(), endsAt.UTC()
	newRoom := h.Courtroom
	if courtroom != nil {
		newRoom = strings.TrimSpace(*courtroom)
		if err := validateCourtroom(newRoom); err != nil {
			return nil, false, err
		}
	}
	timeMoved := !startsAt.Equal(h.StartsAt) || !endsAt.Equal(h.EndsAt)
	if !timeMoved && newRoom == h.Courtroom {
		return nil, false, nil
	}
	fromStart, fromEnd := h.StartsAt, h.EndsAt
	change = &HearingChange{
		HearingID: h.ID, At: at.UTC(), Reason: reason,
		FromStartsAt: &fromStart, ToStartsAt: &startsAt, FromEndsAt: &fromEnd, ToEndsAt: &endsAt,
		FromCourtroom: h.Courtroom, ToCourtroom: newRoom,
	}
	if timeMoved {
		h.Status = HearingContinued
	}
	h.StartsAt, h.EndsAt, h.Courtroom = startsAt, endsAt, newRoom
	h.Sequence++
	h.UpdatedAt = at.UTC()
	change.Status, change.Sequence = h.Status, h.Sequence
	return change, true, nil
}

// Cancel cancels an open hearing and returns the change to record.
func (h *Hearing) Cancel(reason string, at time.Time) (*HearingChange, error) {
	if !h.Open() {
		return nil, Errorf(ECONFLICT, "Hearing is already %s.", h.Status)
	}
	if err := validateReason(reason); err != nil {
		return nil, err
	}
	h.Status = HearingCancelled
	h.Sequence++
	h.UpdatedAt = at.UTC()
	return &HearingChange{HearingID: h.ID, At: at.UTC(), Reason: reason, Status: h.Status, Sequence: h.Sequence}, nil
}

// MarkHeld records that an open hearing took place, and returns the change to record.
func (h *Hearing) MarkHeld(at time.Time) (*HearingChange, error) {
	if !h.Open() {
		return nil, Errorf(ECONFLICT, "Hearing is %s and cannot be marked held.", h.Status)
	}
	h.Status = HearingHeld
	h.Sequence++
	h.UpdatedAt = at.UTC()
	return &HearingChange{HearingID: h.ID, At: at.UTC(), Reason: "held", Status: h.Status, Sequence: h.Sequence}, nil
}

// HearingFilter selects hearings. The caller's visibility always applies on top of it.
type HearingFilter struct {
	IDs     []int64
	CaseIDs []int64
	CourtID *int64
	Status  *HearingStatus
	From    *time.Time // hearings ending after From
	To      *time.Time // hearings starting before To
	After   *HearingCursor
	Limit   int
	// PerCase, when positive, keeps at most that many hearings of each case, the earliest
	// first (Case.hearings reads a page per case, not whole cases).
	PerCase int
}

// HearingCursor is a position in the (startsAt, id) order of hearings.
type HearingCursor struct {
	StartsAt time.Time
	ID       int64
}

// HearingUpdate is a reschedule request.
type HearingUpdate struct {
	StartsAt         time.Time
	EndsAt           time.Time
	Courtroom        *string
	Reason           string
	ExpectedSequence *int
}

// HearingService manages hearings. Every method that changes a hearing writes its history,
// its audit row and its events in one transaction.
type HearingService interface {
	// PostHearing creates a hearing in a case of the caller's office. When ExternalID names a
	// hearing the office has already posted, it is an upsert: unchanged input changes nothing, a
	// changed time is a continuance. It returns whether a hearing was created. Returns
	// EINVALID, EFORBIDDEN, ENOTFOUND (case) or ECONFLICT (external ID of another case).
	PostHearing(ctx context.Context, h *Hearing) (created bool, err error)

	// RescheduleHearing moves a hearing. Returns EINVALID, EFORBIDDEN, ENOTFOUND or ECONFLICT
	// (stale expected sequence, or a hearing no longer open).
	RescheduleHearing(ctx context.Context, id int64, upd HearingUpdate) (*Hearing, error)

	// CancelHearing cancels a hearing. Returns EINVALID, EFORBIDDEN, ENOTFOUND or ECONFLICT.
	CancelHearing(ctx context.Context, id int64, reason string, expectedSequence *int) (*Hearing, error)

	// FindHearingByID returns a hearing the caller may see. Returns ENOTFOUND.
	FindHearingByID(ctx context.Context, id int64) (*Hearing, error)

	// FindHearings returns the hearings the caller may see that match filter, ordered by start
	// time then ID.
	FindHearings(ctx context.Context, filter HearingFilter) ([]*Hearing, error)

	// FindHearingChanges returns the history of the hearings, oldest first.
	FindHearingChanges(ctx context.Context, hearingIDs ...int64) ([]*HearingChange, error)
}
