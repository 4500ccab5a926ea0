package courtside_test

import (
	"testing"
	"time"

	"courtside"
)

// BenchmarkDecideSend applies a contact policy with quiet hours, in the victim's zone, to one
// reminder inside them: the decision the delivery worker makes before every message.
func BenchmarkDecideSend(b *testing.B) {
	zone, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	safe := time.Date(2031, 1, 2, 12, 0, 0, 0, time.UTC)
	req := courtside.SendRequest{
		Policy: &courtside.ContactPolicy{Channels: []courtside.ChannelRule{
			{Channel: courtside.ChannelSMS, Allowed: false},
			{Channel: courtside.ChannelEmail, Allowed: true, Detail: courtside.DetailMinimal}},
			QuietHoursStart: "21:00", QuietHoursEnd: "07:30"},
		Contacts: []courtside.ContactPoint{{Channel: courtside.ChannelSMS, Address: "+12025550143"},
			{Channel: courtside.ChannelEmail, Address: "person-a@example.org", ConfirmedSafeAt: &safe}},
		Channel: courtside.ChannelEmail, Kind: courtside.NotifyReminder,
		Now:          time.Date(2031, 3, 4, 3, 15, 0, 0, time.UTC), // 22:15 the day before, in New York
		HearingStart: time.Date(2031, 3, 5, 14, 0, 0, 0, time.UTC),
		Zone:         zone,
	}
	if d := courtside.DecideSend(req); d.Send || d.DeferUntil.IsZero() {
		b.Fatalf("a reminder in quiet hours was not deferred: %+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		courtside.DecideSend(req)
	}
}
