package storage_test

import (
	"bytes"
	"courtside/storage"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"courtside"
)

// TestRelease_ProsecutorSeesCountOnlyWithoutARelease: what an office learns of a victim linked
// to its case — the pseudonym, whether the victim attends, whether an advocate accompanies the
// victim, and the notices sent to either — it learns only while the victim's release to that
// office is active. Without one it can count the links, nothing more. Expiry and revocation
// stop disclosure by themselves, checked against the clock at every read.
func TestRelease_ProsecutorSeesCountOnlyWithoutARelease(t *testing.T) {
	f := newBookingFixture(t)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return now }
	h := f.hearing
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), h.ID, f.victim.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	// A second hearing the victim attends without an advocate: a coverage gap, for those who
	// may know that the victim attends.
	f.postHearingAt(t, f.kase.ID, h.StartsAt.Add(48*time.Hour), time.Hour)
	for _, q := range []string{
		`INSERT INTO deliveries (kind, hearing_id, victim_id, channel, language, status, idempotency_key, created_at, reason)
			VALUES ('HEARING_CHANGED', %d, %d, 'SMS', 'es', 'SENT', 'k-victim', '2026-11-20T12:00:00.000Z', '')`,
		`INSERT INTO deliveries (kind, hearing_id, user_id, channel, language, status, idempotency_key, created_at, reason)
			VALUES ('HEARING_CHANGED', %d, %d, 'EMAIL', 'en', 'SENT', 'k-advocate', '2026-11-20T12:00:00.000Z', '')`,
	} {
		id := f.victim.ID
		if strings.Contains(q, "user_id") {
			id = f.advocate.ID
		}
		if _, err := f.db.Writer.Exec(fmt.Sprintf(q, h.ID, id)); err != nil {
			t.Fatal(err)
		}
	}
	pros := f.as(f.prosecutor)
	sees := func() string {
		t.Helper()
		var parts []string
		if v, err := storage.NewVictimService(f.db).FindVictimByID(pros, f.victim.ID); err == nil {
			parts = append(parts, "pseudonym "+v.Pseudonym)
		} else if courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Fatal(err)
		}
		as, err := storage.NewAccompanimentService(f.db).FindAccompaniments(pros, courtside.AccompanimentFilter{HearingIDs: []int64{h.ID}})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%d accompaniments", len(as)))
		ds, err := storage.NewDeliveryService(f.db).FindDeliveries(pros, courtside.DeliveryFilter{HearingID: &h.ID})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%d deliveries", len(ds)))
		gaps, err := storage.NewCoordinationService(f.db).FindCoverage(pros, decFrom, decTo)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fmt.Sprintf("%d gaps", len(gaps)))
		return strings.Join(parts, ", ")
	}
	// Links are counted all the same.
	if cvs, err := storage.NewCaseService(f.db).FindCaseVictims(pros, f.kase.ID); err != nil || len(cvs) != 1 {
		t.Fatalf("the office's count: %v %d", err, len(cvs))
	}
	const nothing, everything = "0 accompaniments, 0 deliveries, 0 gaps", "pseudonym V-3, 1 accompaniments, 2 deliveries, 1 gaps"
	if got := sees(); got != nothing {
		t.Fatalf("without a release the office sees %q", got)
	}
	// A release to another office discloses nothing to this one.
	f.release(t, f.victim, f.coordinator, f.otherProsecutor)
	if got := sees(); got != nothing {
		t.Fatalf("with a release to another office: %q", got)
	}
	r := &courtside.Release{VictimID: f.victim.ID, Purpose: courtside.PurposeCaseCoordination, Reference: "form R-7",
		GrantedAt: now.Add(-24 * time.Hour), ExpiresAt: now.Add(7 * 24 * time.Hour)}
	if err := storage.NewVictimService(f.db).RecordRelease(f.as(f.coordinator), r, "DA Office"); err != nil {
		t.Fatal(err)
	}
	if got := sees(); got != everything {
		t.Fatalf("with an active release: %q", got)
	}
	now = r.ExpiresAt.Add(-time.Second)
	if got := sees(); got != everything {
		t.Fatalf("a second before expiry: %q", got)
	}
	now = r.ExpiresAt
	if got := sees(); got != nothing {
		t.Fatalf("at expiry, with nothing run: %q", got)
	}
	now = r.ExpiresAt.Add(-time.Hour)
	if _, err := storage.NewVictimService(f.db).RevokeRelease(f.as(f.coordinator), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := sees(); got != nothing {
		t.Fatalf("after revocation: %q", got)
	}
	// The coordinator sees all of it throughout.
	if v, err := storage.NewVictimService(f.db).FindVictimByID(f.as(f.coordinator), f.victim.ID); err != nil || v.Pseudonym != "V-3" {
		t.Fatalf("coordinator: %v", err)
	}
}

// TestRelease_Ledger: the victim's own coordinators record, list and revoke releases, each
// audited by victim; anyone else gets NOT_FOUND or FORBIDDEN. A release goes to a
// prosecutor's office by its exact name, for a known purpose, signed no later than now,
// expiring within a year; its reference to the paper is sealed at rest.
func TestRelease_Ledger(t *testing.T) {
	f := newBookingFixture(t)
	now := f.db.Now()
	good := func() *courtside.Release {
		return &courtside.Release{VictimID: f.victim.ID, Purpose: courtside.PurposeCaseCoordination,
			Reference: "Sentinel-Form-4471 in the locked cabinet", ExpiresAt: now.Add(180 * 24 * time.Hour)}
	}
	before := f.counts(t)
	for _, tt := range []struct {
		name      string
		u         *courtside.User
		change    func(r *courtside.Release)
		recipient string
		code      string
		field     string
	}{
		{"another organisation's coordinator", f.otherCoordin, nil, "DA Office", courtside.ENOTFOUND, ""},
		{"an advocate", f.advocate, nil, "DA Office", courtside.EFORBIDDEN, ""},
		{"the office itself", f.prosecutor, nil, "DA Office", courtside.EFORBIDDEN, ""},
		{"a victim that does not exist", f.coordinator, func(r *courtside.Release) { r.VictimID = 999 }, "DA Office", courtside.ENOTFOUND, ""},
		{"to an advocacy organisation", f.coordinator, nil, "Other Advocacy Org", courtside.EINVALID, "recipient"},
		{"to nobody", f.coordinator, nil, "Nobody", courtside.EINVALID, "recipient"},
		{"no purpose", f.coordinator, func(r *courtside.Release) { r.Purpose = "" }, "DA Office", courtside.EINVALID, "purpose"},
		{"no reference", f.coordinator, func(r *courtside.Release) { r.Reference = " " }, "DA Office", courtside.EINVALID, "reference"},
		{"signed tomorrow", f.coordinator, func(r *courtside.Release) { r.GrantedAt = now.Add(24 * time.Hour) }, "DA Office", courtside.EINVALID, "grantedAt"},
		{"expired already", f.coordinator, func(r *courtside.Release) {
			r.GrantedAt, r.ExpiresAt = now.Add(-48*time.Hour), now.Add(-time.Hour)
		}, "DA Office", courtside.EINVALID, "expiresAt"},
		{"over a year", f.coordinator, func(r *courtside.Release) { r.ExpiresAt = now.Add(400 * 24 * time.Hour) }, "DA Office", courtside.EINVALID, "expiresAt"},
	} {
		r := good()
		if tt.change != nil {
			tt.change(r)
		}
		err := storage.NewVictimService(f.db).RecordRelease(f.as(tt.u), r, tt.recipient)
		if courtside.ErrorCode(err) != tt.code || courtside.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want %s %s", tt.name, err, tt.code, tt.field)
		}
	}
	sameCounts(t, "refused releases", before, f.counts(t))
	if f.count(t, "releases") != 0 {
		t.Fatal("a refused release was stored")
	}

	r := good()
	if err := storage.NewVictimService(f.db).RecordRelease(f.as(f.coordinator), r, "DA Office"); err != nil {
		t.Fatal(err)
	}
	if !r.Active || !r.GrantedAt.Equal(now) || r.RecordedBy != "coord" || r.Recipient.Kind != courtside.KindProsecution {
		t.Fatalf("recorded: %+v", r)
	}
	list, err := storage.NewVictimService(f.db).FindReleases(f.as(f.coordinator), f.victim.ID)
	if err != nil || len(list) != 1 || list[0].Reference != r.Reference || !list[0].Active || list[0].Recipient.Name != "DA Office" {
		t.Fatalf("list: %v %+v", err, list)
	}
	for _, u := range []*courtside.User{f.otherCoordin, f.prosecutor, f.advocate} {
		if _, err := storage.NewVictimService(f.db).FindReleases(f.as(u), f.victim.ID); err == nil {
			t.Errorf("%s reads the victim's releases", u.Username)
		}
		if _, err := storage.NewVictimService(f.db).RevokeRelease(f.as(u), r.ID); err == nil {
			t.Errorf("%s revokes the victim's release", u.Username)
		}
	}
	revoked, err := storage.NewVictimService(f.db).RevokeRelease(f.as(f.coordinator), r.ID)
	if err != nil || revoked.Active || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(now) {
		t.Fatalf("revoke: %v %+v", err, revoked)
	}
	later := now.Add(time.Hour)
	f.db.Now = func() time.Time { return later }
	again, err := storage.NewVictimService(f.db).RevokeRelease(f.as(f.coordinator), r.ID)
	if err != nil || !again.RevokedAt.Equal(now) {
		t.Fatalf("revoking again moved the time: %v %+v", err, again)
	}
	if _, err := storage.NewVictimService(f.db).RevokeRelease(f.as(f.coordinator), 999); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("an unknown release: %v", err)
	}
	for action, want := range map[string]int{"release.record": 1, "release.read": 1, "release.revoke": 2} {
		var n int
		var object string
		f.db.Writer.QueryRow(`SELECT COUNT(*), MAX(object) FROM audit_log WHERE action = ?`, action).Scan(&n, &object)
		if n != want || !strings.HasPrefix(object, fmt.Sprintf("victim:%d", f.victim.ID)) {
			t.Errorf("%s: %d rows (%q), want %d naming the victim", action, n, object, want)
		}
	}
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{f.db.Path, f.db.Path + "-wal"} {
		raw, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("Sentinel-Form-4471")) {
			t.Errorf("%s holds the release's reference in plaintext", path)
		}
	}
}
