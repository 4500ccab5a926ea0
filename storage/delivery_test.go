package storage_test

import (
	"courtside/storage"
	"fmt"
	"testing"

	"courtside"
)

func TestDelivery_EvidenceVisibility(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	v := &courtside.Victim{Pseudonym: "V-1", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	f.share(t, f.kase, f.prosecutor, f.coordinator)
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, v.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	// The victim released to the office that notice was given (TestShare_ProsecutorSeesCountOnly
	// covers the office without a release).
	f.release(t, v, f.coordinator, f.prosecutor)
	// The notification pipeline writes these rows; here the test writes them as it would.
	insert := func(key, recipient string, id int64, status courtside.DeliveryStatus, lead any) {
		_, err := f.db.Writer.Exec(fmt.Sprintf(`INSERT INTO deliveries (kind, hearing_id, %s, channel, language, status, idempotency_key,
			created_at, sent_at, lead_time_minutes, reason) VALUES ('HEARING_CHANGED', ?, ?, 'SMS', 'es', ?, ?, '2026-11-20T12:00:00.000Z',
			'2026-11-20T12:00:05.000Z', ?, '')`, recipient), h.ID, id, status, key, lead)
		if err != nil {
			t.Fatal(err)
		}
	}
	insert("k-victim", "victim_id", v.ID, courtside.DeliverySent, 15270)
	insert("k-advocate", "user_id", f.advocate.ID, courtside.DeliverySent, 15270)
	insert("k-interpreter", "user_id", f.interpreter.ID, courtside.DeliveryFailed, nil)

	for _, tt := range []struct {
		u    *courtside.User
		want []string
	}{
		{f.coordinator, []string{"k-victim", "k-advocate"}},
		{f.advocate, []string{"k-victim", "k-advocate"}},
		{f.prosecutor, []string{"k-victim", "k-advocate", "k-interpreter"}},
		{f.interpreter, []string{"k-interpreter"}},
		{f.otherAdvocate, nil},
		{f.otherProsecutor, nil},
		{f.admin, nil},
	} {
		ds, err := storage.NewDeliveryService(f.db).FindDeliveries(f.as(tt.u), courtside.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.IdempotencyKey)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s sees %v, want %v", tt.u.Username, got, tt.want)
		}
	}
	// Was this victim told of this change, when, how, how long before the hearing?
	ds, err := storage.NewDeliveryService(f.db).FindDeliveries(f.as(f.coordinator), courtside.DeliveryFilter{VictimID: &v.ID, HearingID: &h.ID})
	if err != nil || len(ds) != 1 || ds[0].Status != courtside.DeliverySent || ds[0].Channel != courtside.ChannelSMS ||
		ds[0].SentAt == nil || ds[0].LeadTimeMinutes == nil || *ds[0].LeadTimeMinutes != 15270 {
		t.Fatalf("evidence: %v %+v", err, ds)
	}
	// Filters on objects the caller may not see answer not found.
	if _, err := storage.NewDeliveryService(f.db).FindDeliveries(f.as(f.otherCoordin), courtside.DeliveryFilter{VictimID: &v.ID}); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("other organisation's victim: %v", err)
	}
	if _, err := storage.NewDeliveryService(f.db).FindDeliveries(f.as(f.otherProsecutor), courtside.DeliveryFilter{HearingID: &h.ID}); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("other office's hearing: %v", err)
	}
}
