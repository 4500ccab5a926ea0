package courtside_test

import (
	"strings"
	"testing"
	"time"

	"courtside"
)

var t0 = time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC)

func newHearing(status courtside.HearingStatus) *courtside.Hearing {
	return &courtside.Hearing{ID: 7, CaseID: 1, Kind: courtside.KindSentencing, StartsAt: t0, EndsAt: t0.Add(time.Hour),
		Courtroom: "4B", Status: status, Sequence: 2}
}

func TestHearing_Reschedule(t *testing.T) {
	now := t0.Add(-48 * time.Hour)
	room := "5C"
	tests := []struct {
		name       string
		status     courtside.HearingStatus
		start, end time.Time
		room       *string
		reason     string
		wantCode   string
		wantChange bool
		wantStatus courtside.HearingStatus
		wantSeq    int
	}{
		{"moved time is a continuance", courtside.HearingScheduled, t0.Add(24 * time.Hour), t0.Add(25 * time.Hour), nil, "defence request", "", true, courtside.HearingContinued, 3},
		{"courtroom only keeps status", courtside.HearingScheduled, t0, t0.Add(time.Hour), &room, "room change", "", true, courtside.HearingScheduled, 3},
		{"same time and room is no change", courtside.HearingContinued, t0, t0.Add(time.Hour), nil, "noop", "", false, courtside.HearingContinued, 2},
		{"cancelled cannot move", courtside.HearingCancelled, t0.Add(time.Hour), t0.Add(2 * time.Hour), nil, "x", courtside.ECONFLICT, false, courtside.HearingCancelled, 2},
		{"held cannot move", courtside.HearingHeld, t0.Add(time.Hour), t0.Add(2 * time.Hour), nil, "x", courtside.ECONFLICT, false, courtside.HearingHeld, 2},
		{"end before start", courtside.HearingScheduled, t0, t0.Add(-time.Hour), nil, "x", courtside.EINVALID, false, courtside.HearingScheduled, 2},
		{"missing reason", courtside.HearingScheduled, t0.Add(time.Hour), t0.Add(2 * time.Hour), nil, " ", courtside.EINVALID, false, courtside.HearingScheduled, 2},
		{"too long", courtside.HearingScheduled, t0, t0.Add(15 * 24 * time.Hour), nil, "x", courtside.EINVALID, false, courtside.HearingScheduled, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHearing(tt.status)
			change, changed, err := h.Reschedule(tt.start, tt.end, tt.room, tt.reason, now)
			if got := courtside.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if changed != tt.wantChange || h.Status != tt.wantStatus || h.Sequence != tt.wantSeq {
				t.Fatalf("changed=%v status=%s seq=%d, want %v %s %d", changed, h.Status, h.Sequence, tt.wantChange, tt.wantStatus, tt.wantSeq)
			}
			if !changed {
				if change != nil {
					t.Fatalf("change = %+v, want nil", change)
				}
				return
			}
			if !change.FromStartsAt.Equal(t0) || !change.ToStartsAt.Equal(tt.start) || change.Sequence != h.Sequence || change.Reason != tt.reason {
				t.Fatalf("change = %+v", change)
			}
			if change.FromCourtroom != "4B" || (tt.room != nil && change.ToCourtroom != *tt.room) {
				t.Fatalf("courtroom change = %q -> %q", change.FromCourtroom, change.ToCourtroom)
			}
		})
	}
}

func TestHearing_Cancel(t *testing.T) {
	for _, tt := range []struct {
		status   courtside.HearingStatus
		reason   string
		wantCode string
	}{
		{courtside.HearingScheduled, "plea agreement", ""},
		{courtside.HearingContinued, "dismissed", ""},
		{courtside.HearingCancelled, "again", courtside.ECONFLICT},
		{courtside.HearingHeld, "late", courtside.ECONFLICT},
		{courtside.HearingScheduled, "", courtside.EINVALID},
	} {
		h := newHearing(tt.status)
		change, err := h.Cancel(tt.reason, t0)
		if got := courtside.ErrorCode(err); got != tt.wantCode {
			t.Fatalf("%s/%q: code %q, want %q", tt.status, tt.reason, got, tt.wantCode)
		}
		if err == nil && (h.Status != courtside.HearingCancelled || h.Sequence != 3 || change.Status != courtside.HearingCancelled || change.Sequence != 3) {
			t.Fatalf("after cancel: %+v %+v", h, change)
		}
		if err != nil && h.Sequence != 2 {
			t.Fatalf("failed cancel changed sequence to %d", h.Sequence)
		}
	}
}

func TestHearing_MarkHeld(t *testing.T) {
	h := newHearing(courtside.HearingContinued)
	if _, err := h.MarkHeld(t0); err != nil || h.Status != courtside.HearingHeld || h.Sequence != 3 {
		t.Fatalf("MarkHeld: %v, %+v", err, h)
	}
	if _, err := h.MarkHeld(t0); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("second MarkHeld: %v", err)
	}
}

func TestHearing_CheckSequence(t *testing.T) {
	h := newHearing(courtside.HearingScheduled)
	two, one := 2, 1
	if err := h.CheckSequence(nil); err != nil {
		t.Fatal(err)
	}
	if err := h.CheckSequence(&two); err != nil {
		t.Fatal(err)
	}
	if err := h.CheckSequence(&one); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("stale sequence: %v", err)
	}
}

func TestHearing_Validate(t *testing.T) {
	for _, tt := range []struct {
		name, field string
		mutate      func(h *courtside.Hearing)
	}{
		{"ok", "", func(h *courtside.Hearing) {}},
		{"no case", "caseId", func(h *courtside.Hearing) { h.CaseID = 0 }},
		{"bad kind", "kind", func(h *courtside.Hearing) { h.Kind = "PICNIC" }},
		{"no start", "startsAt", func(h *courtside.Hearing) { h.StartsAt = time.Time{} }},
		{"end first", "endsAt", func(h *courtside.Hearing) { h.EndsAt = h.StartsAt }},
		{"long courtroom", "courtroom", func(h *courtside.Hearing) { h.Courtroom = string(make([]byte, 101)) }},
	} {
		h := newHearing(courtside.HearingScheduled)
		tt.mutate(h)
		err := h.Validate()
		if courtside.ErrorField(err) != tt.field || (tt.field != "" && courtside.ErrorCode(err) != courtside.EINVALID) {
			t.Errorf("%s: err %v, want field %q", tt.name, err, tt.field)
		}
	}
}

// TestHearing_ChangesKeepCreationLimits: a reschedule or a cancellation holds the courtroom and
// the reason to the same bounds as postHearing, so no update path stores what creation refuses.
func TestHearing_ChangesKeepCreationLimits(t *testing.T) {
	long := strings.Repeat("x", 100000)
	room := long
	h := newHearing(courtside.HearingScheduled)
	if _, _, err := h.Reschedule(t0.Add(time.Hour), t0.Add(2*time.Hour), &room, "moved", t0); courtside.ErrorField(err) != "courtroom" {
		t.Fatalf("100,000-character courtroom: %v", err)
	}
	if _, _, err := h.Reschedule(t0.Add(time.Hour), t0.Add(2*time.Hour), nil, long, t0); courtside.ErrorField(err) != "reason" {
		t.Fatalf("100,000-character reason: %v", err)
	}
	if _, err := h.Cancel(long, t0); courtside.ErrorField(err) != "reason" {
		t.Fatalf("cancel with a 100,000-character reason: %v", err)
	}
	if h.Status != courtside.HearingScheduled || h.Sequence != 2 || h.Courtroom != "4B" {
		t.Fatalf("refused changes changed the hearing: %+v", h)
	}
	ok := strings.Repeat("r", courtside.MaxCourtroom)
	if _, changed, err := h.Reschedule(t0, t0.Add(time.Hour), &ok, strings.Repeat("y", courtside.MaxChangeReason), t0); err != nil || !changed {
		t.Fatalf("limits themselves: %v %v", changed, err)
	}
	posted := newHearing(courtside.HearingScheduled)
	posted.Courtroom = long
	if courtside.ErrorField(posted.Validate()) != "courtroom" {
		t.Fatal("postHearing's own limit")
	}
}
