package courtside_test

import (
	"testing"
	"time"

	"courtside"
)

func TestRelease(t *testing.T) {
	c := &courtside.Release{Purpose: courtside.PurposeCaseCoordination, Reference: "form R-7", GrantedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour)}
	if err := c.Validate(t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	coord := courtside.PurposeCaseCoordination
	for _, tt := range []struct {
		purpose courtside.ReleasePurpose
		at      time.Time
		want    bool
	}{
		{coord, t0, true},
		{coord, t0.Add(29 * 24 * time.Hour), true},
		{coord, t0.Add(-time.Second), false},
		{coord, t0.Add(30 * 24 * time.Hour), false},
		{"PRESS", t0.Add(time.Hour), false},
	} {
		if got := c.ActiveAt(tt.purpose, tt.at); got != tt.want {
			t.Errorf("%q at %v: %v, want %v", tt.purpose, tt.at, got, tt.want)
		}
	}
	c.Revoke(t0.Add(time.Hour))
	c.Revoke(t0.Add(2 * time.Hour))
	if c.ActiveAt(coord, t0.Add(time.Hour)) || !c.ActiveAt(coord, t0.Add(time.Minute)) || !c.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatal("revocation")
	}
	now := t0.Add(time.Hour)
	for _, bad := range []struct {
		r     courtside.Release
		field string
	}{
		{courtside.Release{Purpose: "", Reference: "x", GrantedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, "purpose"},
		{courtside.Release{Purpose: "PRESS", Reference: "x", GrantedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, "purpose"},
		{courtside.Release{Purpose: coord, Reference: " ", GrantedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, "reference"},
		{courtside.Release{Purpose: coord, Reference: string(make([]byte, 201)), GrantedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, "reference"},
		{courtside.Release{Purpose: coord, Reference: "x", ExpiresAt: t0.Add(2 * time.Hour)}, "grantedAt"},
		{courtside.Release{Purpose: coord, Reference: "x", GrantedAt: now.Add(time.Minute), ExpiresAt: t0.Add(2 * time.Hour)}, "grantedAt"},
		{courtside.Release{Purpose: coord, Reference: "x", GrantedAt: t0, ExpiresAt: t0}, "expiresAt"},
		{courtside.Release{Purpose: coord, Reference: "x", GrantedAt: t0, ExpiresAt: now}, "expiresAt"}, // already expired
		{courtside.Release{Purpose: coord, Reference: "x", GrantedAt: t0, ExpiresAt: t0.Add(400 * 24 * time.Hour)}, "expiresAt"},
	} {
		if err := bad.r.Validate(now); courtside.ErrorCode(err) != courtside.EINVALID || courtside.ErrorField(err) != bad.field {
			t.Errorf("%+v: %v, want INVALID %s", bad.r, err, bad.field)
		}
	}
	if p, err := courtside.ParseReleasePurpose(" case_coordination "); err != nil || p != coord {
		t.Errorf("ParseReleasePurpose: %v %v", p, err)
	}
}

func TestReminder(t *testing.T) {
	r := &courtside.Reminder{DueAt: t0, Sequence: 1, Status: courtside.ReminderPlanned}
	if r.Due(t0.Add(-time.Second)) || !r.Due(t0) {
		t.Fatal("due")
	}
	if r.HearingMoved(1) || r.Status != courtside.ReminderPlanned {
		t.Fatal("same sequence superseded")
	}
	if !r.HearingMoved(2) || r.Status != courtside.ReminderSuperseded || r.Due(t0) {
		t.Fatal("move")
	}
	if r.HearingCancelled() {
		t.Fatal("superseded reminder cancelled")
	}
	r2 := &courtside.Reminder{Status: courtside.ReminderPlanned}
	if !r2.HearingCancelled() || r2.Status != courtside.ReminderCancelled {
		t.Fatal("cancel")
	}
}
