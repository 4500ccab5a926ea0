package courtside_test

import (
	"testing"
	"time"

	"courtside"
)

func TestConsent(t *testing.T) {
	c := &courtside.Consent{Purpose: "shelter referral", Recipient: "Shelter", GrantedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour)}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		purpose string
		at      time.Time
		want    bool
	}{
		{"shelter referral", t0, true},
		{"Shelter Referral", t0.Add(29 * 24 * time.Hour), true},
		{"shelter referral", t0.Add(-time.Second), false},
		{"shelter referral", t0.Add(30 * 24 * time.Hour), false},
		{"press", t0.Add(time.Hour), false},
	} {
		if got := c.ActiveAt(tt.purpose, tt.at); got != tt.want {
			t.Errorf("%q at %v: %v, want %v", tt.purpose, tt.at, got, tt.want)
		}
	}
	c.Revoke(t0.Add(time.Hour))
	c.Revoke(t0.Add(2 * time.Hour))
	if c.ActiveAt("shelter referral", t0.Add(time.Hour)) || !c.ActiveAt("shelter referral", t0.Add(time.Minute)) || !c.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatal("revocation")
	}
	for _, bad := range []courtside.Consent{
		{Purpose: "", Recipient: "x", GrantedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		{Purpose: "x", Recipient: "x", GrantedAt: t0, ExpiresAt: t0},
		{Purpose: "x", Recipient: "x", GrantedAt: t0, ExpiresAt: t0.Add(400 * 24 * time.Hour)},
	} {
		if courtside.ErrorCode(bad.Validate()) != courtside.EINVALID {
			t.Errorf("%+v accepted", bad)
		}
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
