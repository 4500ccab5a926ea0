package courtside_test

import (
	"testing"
	"time"

	"courtside"
)

func TestDecideSend(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	safe := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	contacts := []courtside.ContactPoint{
		{Channel: courtside.ChannelSMS, Address: "+15550100", ConfirmedSafeAt: &safe},
		{Channel: courtside.ChannelEmail, Address: "a@example.org"},
	}
	policy := &courtside.ContactPolicy{
		Channels: []courtside.ChannelRule{
			{Channel: courtside.ChannelEmail, Allowed: true, Detail: courtside.DetailFull},
			{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailContentFree},
			{Channel: courtside.ChannelWebhook, Allowed: false, Detail: courtside.DetailFull},
		},
		QuietHoursStart: "21:00", QuietHoursEnd: "08:00",
	}
	// 23:30 in New York on 7 March 2026, the night before daylight saving time begins: quiet
	// hours end at 08:00 EDT, 12:00 UTC.
	night := time.Date(2026, 3, 8, 4, 30, 0, 0, time.UTC)
	noon := time.Date(2026, 3, 9, 16, 0, 0, 0, time.UTC)
	quietEnd := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		req     courtside.SendRequest
		send    bool
		detail  courtside.DetailLevel
		deferTo time.Time
		reason  string
	}{
		{"allowed and safe, daytime", courtside.SendRequest{Channel: courtside.ChannelSMS, Kind: courtside.NotifyReminder, Now: noon, HearingStart: noon.Add(72 * time.Hour)},
			true, courtside.DetailContentFree, time.Time{}, ""},
		{"allowed but not confirmed safe", courtside.SendRequest{Channel: courtside.ChannelEmail, Kind: courtside.NotifyReminder, Now: noon, HearingStart: noon.Add(72 * time.Hour)},
			false, "", time.Time{}, "policy: no EMAIL address confirmed safe"},
		{"not allowed", courtside.SendRequest{Channel: courtside.ChannelWebhook, Kind: courtside.NotifyHearingChanged, Now: noon, HearingStart: noon.Add(72 * time.Hour)},
			false, "", time.Time{}, "policy: WEBHOOK not allowed"},
		{"quiet hours defer a change far ahead", courtside.SendRequest{Channel: courtside.ChannelSMS, Kind: courtside.NotifyHearingChanged, Now: night, HearingStart: night.Add(72 * time.Hour)},
			false, courtside.DetailContentFree, quietEnd, "quiet hours"},
		{"an urgent change breaks quiet hours", courtside.SendRequest{Channel: courtside.ChannelSMS, Kind: courtside.NotifyHearingChanged, Now: night, HearingStart: night.Add(10 * time.Hour)},
			true, courtside.DetailContentFree, time.Time{}, ""},
		{"a reminder waits for the morning", courtside.SendRequest{Channel: courtside.ChannelSMS, Kind: courtside.NotifyReminder, Now: night, HearingStart: night.Add(20 * time.Hour)},
			false, courtside.DetailContentFree, quietEnd, "quiet hours"},
		{"a reminder is not held past its hearing", courtside.SendRequest{Channel: courtside.ChannelSMS, Kind: courtside.NotifyReminder, Now: night, HearingStart: night.Add(3 * time.Hour)},
			true, courtside.DetailContentFree, time.Time{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Policy, tc.req.Contacts, tc.req.Zone = policy, contacts, ny
			got := courtside.DecideSend(tc.req)
			if got.Send != tc.send || got.Detail != tc.detail && tc.detail != "" || !got.DeferUntil.Equal(tc.deferTo) || got.Reason != tc.reason {
				t.Errorf("DecideSend = %+v, want send=%v detail=%s defer=%v reason=%q", got, tc.send, tc.detail, tc.deferTo, tc.reason)
			}
		})
	}
	if got := courtside.DecideSend(courtside.SendRequest{Channel: courtside.ChannelSMS, Now: noon}); got.Send || got.Reason == "" {
		t.Errorf("no policy: %+v, want suppressed with a reason", got)
	}
}

func TestNextChannel(t *testing.T) {
	safe := time.Now()
	policy := &courtside.ContactPolicy{Channels: []courtside.ChannelRule{
		{Channel: courtside.ChannelWebhook, Allowed: true, Detail: courtside.DetailFull},
		{Channel: courtside.ChannelEmail, Allowed: false, Detail: courtside.DetailFull},
		{Channel: courtside.ChannelSMS, Allowed: true, Detail: courtside.DetailMinimal},
	}}
	contacts := []courtside.ContactPoint{{Channel: courtside.ChannelWebhook, ConfirmedSafeAt: &safe}, {Channel: courtside.ChannelEmail, ConfirmedSafeAt: &safe}, {Channel: courtside.ChannelSMS, ConfirmedSafeAt: &safe}}
	if c, ok := courtside.NextChannel(policy, contacts, nil); !ok || c != courtside.ChannelWebhook {
		t.Errorf("first = %s %v, want WEBHOOK", c, ok)
	}
	if c, ok := courtside.NextChannel(policy, contacts, []courtside.Channel{courtside.ChannelWebhook}); !ok || c != courtside.ChannelSMS {
		t.Errorf("after WEBHOOK = %s %v, want SMS (EMAIL is not allowed)", c, ok)
	}
	if c, ok := courtside.NextChannel(policy, contacts, []courtside.Channel{courtside.ChannelWebhook, courtside.ChannelSMS}); ok {
		t.Errorf("after all = %s, want none", c)
	}
}

func TestLeadDueAt(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// A 09:30 hearing on the Monday after daylight saving time began (8 March 2026).
	start := time.Date(2026, 3, 9, 13, 30, 0, 0, time.UTC)
	at7, err := courtside.ParseLead("@07:00")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := at7.DueAt(start, ny), time.Date(2026, 3, 9, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("@07:00 due %v, want %v (07:00 EDT)", got, want)
	}
	week, _ := courtside.ParseLead("168h")
	if got, want := week.DueAt(start, ny), start.Add(-168*time.Hour); !got.Equal(want) {
		t.Errorf("168h due %v, want %v", got, want)
	}
	early := time.Date(2026, 3, 9, 10, 30, 0, 0, time.UTC) // 06:30 EDT: before 07:00
	if got, want := at7.DueAt(early, ny), time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("@07:00 for a 06:30 hearing due %v, want the day before %v", got, want)
	}
	for _, bad := range []string{"", "7d", "@7:00", "-2h", "@25:00", "2400h"} {
		if _, err := courtside.ParseLead(bad); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("ParseLead(%q) = %v, want EINVALID", bad, err)
		}
	}
	plan, err := courtside.ParseReminderPlan("victim=72h; advocate=")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan[courtside.AudienceVictim]) != 1 || len(plan[courtside.AudienceAdvocate]) != 0 || len(plan[courtside.AudienceInterpreter]) != 2 {
		t.Errorf("plan = %v", plan)
	}
	if _, err := courtside.ParseReminderPlan("judge=2h"); err == nil {
		t.Error("an unknown audience was accepted")
	}
}
