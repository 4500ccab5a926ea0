package courtside_test

import (
	"strings"
	"testing"
	"time"

	"courtside"
)

func TestAckDeadline_WindowOrHalfwayToTheHearing(t *testing.T) {
	sent := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		kind    courtside.NotificationKind
		hearing time.Time
		window  time.Duration
		want    time.Time
		ok      bool
	}{
		{"ten days out: the window", courtside.NotifyHearingScheduled, sent.Add(10 * 24 * time.Hour), 24 * time.Hour, sent.Add(24 * time.Hour), true},
		{"thirty hours out: halfway", courtside.NotifyHearingChanged, sent.Add(30 * time.Hour), 24 * time.Hour, sent.Add(15 * time.Hour), true},
		{"two hours out: an hour", courtside.NotifyHearingChanged, sent.Add(2 * time.Hour), 24 * time.Hour, sent.Add(time.Hour), true},
		{"exactly twice the window: the window", courtside.NotifyHearingCancelled, sent.Add(48 * time.Hour), 24 * time.Hour, sent.Add(24 * time.Hour), true},
		{"a short window", courtside.NotifyHearingScheduled, sent.Add(10 * 24 * time.Hour), time.Hour, sent.Add(time.Hour), true},
		{"a reminder never escalates", courtside.NotifyReminder, sent.Add(10 * 24 * time.Hour), 24 * time.Hour, time.Time{}, false},
		{"staff messages never escalate", courtside.NotifyAccompanimentAssigned, sent.Add(10 * 24 * time.Hour), 24 * time.Hour, time.Time{}, false},
		{"the hearing has begun", courtside.NotifyHearingChanged, sent.Add(-time.Minute), 24 * time.Hour, time.Time{}, false},
		{"the hearing starts now", courtside.NotifyHearingChanged, sent, 24 * time.Hour, time.Time{}, false},
		{"no hearing time", courtside.NotifyHearingChanged, time.Time{}, 24 * time.Hour, time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := courtside.AckDeadline(c.kind, sent, c.hearing, c.window)
		if ok != c.ok || !got.Equal(c.want) {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
		if ok && !got.Before(c.hearing) {
			t.Errorf("%s: escalates at %v, not before the hearing at %v", c.name, got, c.hearing)
		}
	}
}

func TestAnswersOffered_NothingMoreThanTheMessage(t *testing.T) {
	if got := courtside.AnswersOffered(courtside.NotifyHearingChanged, courtside.DetailContentFree); len(got) != 0 {
		t.Errorf("content-free: %v", got)
	}
	if got := courtside.AnswersOffered(courtside.NotifyHearingCancelled, courtside.DetailFull); len(got) != 0 {
		t.Errorf("cancelled: %v", got)
	}
	if got := courtside.AnswersOffered(courtside.NotifyReminder, courtside.DetailMinimal); len(got) != 4 {
		t.Errorf("minimal reminder: %v", got)
	}
	if _, err := courtside.ParseAnswer("SMS_RESTART"); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("SMS_RESTART is not an answer: %v", err)
	}
	h := courtside.SMSHelpSettings{NeutralName: " Harbor Office ", Reach: "+1 555 0100"}
	if err := h.Validate(); err != nil || h.NeutralName != "Harbor Office" {
		t.Errorf("valid settings: %v %q", err, h.NeutralName)
	}
	for _, bad := range []courtside.SMSHelpSettings{{NeutralName: "", Reach: "x"}, {NeutralName: "x", Reach: ""},
		{NeutralName: "a\nb", Reach: "x"}, {NeutralName: strings.Repeat("x", 41), Reach: "x"}, {NeutralName: "x", Reach: "<b>"}} {
		if err := bad.Validate(); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
