package storage_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/events"
	"courtside/storage"
	"courtside/storage/migrations"

	"github.com/pressly/goose/v3"
)

// TestShare_LinkNeedsTheOfficesShare: a coordinator cannot attach its organisation to a case
// by linking a victim: an unshared case answers NOT_FOUND exactly as a case that does not
// exist, and nothing is written. Once the office shares the case, the link works, and the
// organisation sees the case and its hearings; another organisation still does not.
func TestShare_LinkNeedsTheOfficesShare(t *testing.T) {
	f := newFixture(t)
	h := f.postHearing(t, "")
	v := &courtside.Victim{Pseudonym: "V-S1", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), v); err != nil {
		t.Fatal(err)
	}
	before := f.counts(t)
	unshared := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true)
	missing := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), 999, v.ID, true)
	if courtside.ErrorCode(unshared) != courtside.ENOTFOUND || unshared.Error() != missing.Error() {
		t.Fatalf("unshared case: %v; a case that does not exist: %v", unshared, missing)
	}
	sameCounts(t, "link to an unshared case", before, f.counts(t))
	for _, u := range []*courtside.User{f.coordinator, f.advocate, f.otherCoordin} {
		if _, err := storage.NewCaseService(f.db).FindCaseByID(f.as(u), f.kase.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s sees the unshared case: %v", u.Username, err)
		}
		if _, err := storage.NewHearingService(f.db).FindHearingByID(f.as(u), h.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s sees the unshared case's hearing: %v", u.Username, err)
		}
	}
	if _, err := storage.NewBookingService(f.db).InterpreterCandidates(f.as(f.coordinator), h.ID, "es"); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("candidates for an unshared case's hearing: %v", err)
	}
	if _, err := storage.NewBookingService(f.db).RequestInterpreter(f.as(f.coordinator), h.ID, "es", nil); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("interpreter for an unshared case's hearing: %v", err)
	}

	// Who may share what, with whom.
	for _, tt := range []struct {
		name  string
		u     *courtside.User
		org   string
		code  string
		field string
	}{
		{"a coordinator", f.coordinator, "Advocacy Org", courtside.EFORBIDDEN, ""},
		{"another office", f.otherProsecutor, "Advocacy Org", courtside.ENOTFOUND, ""},
		{"to a prosecutor's office", f.prosecutor, "Other DA Office", courtside.EINVALID, "organisation"},
		{"to nobody", f.prosecutor, "Nobody At All", courtside.EINVALID, "organisation"},
		{"to a near miss", f.prosecutor, "advocacy org.", courtside.EINVALID, "organisation"},
	} {
		_, err := storage.NewCaseService(f.db).ShareCase(f.as(tt.u), f.kase.ID, tt.org)
		if courtside.ErrorCode(err) != tt.code || courtside.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want %s %s", tt.name, err, tt.code, tt.field)
		}
	}
	if _, err := storage.NewCaseService(f.db).ShareCase(f.as(f.prosecutor), f.kase.ID, "advocacy org."); !strings.Contains(courtside.ErrorMessage(err), `did you mean "Advocacy Org"`) {
		t.Errorf("a near miss does not name the organisation meant: %v", err)
	}
	sameCounts(t, "refused shares", before, f.counts(t))

	share, err := storage.NewCaseService(f.db).ShareCase(f.as(f.prosecutor), f.kase.ID, "Advocacy Org")
	if err != nil || share.OrganizationID != f.coordinator.OrganizationID || share.SharedBy != "pros" || !share.SharedAt.Equal(f.db.Now()) {
		t.Fatalf("share: %v %+v", err, share)
	}
	audits := f.count(t, "audit_log")
	if _, err := storage.NewCaseService(f.db).ShareCase(f.as(f.prosecutor), f.kase.ID, "Advocacy Org"); err != nil || f.count(t, "audit_log") != audits {
		t.Fatalf("sharing again: %v, %d audit rows", err, f.count(t, "audit_log")-audits)
	}
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, v.ID, true); err != nil {
		t.Fatalf("link after the share: %v", err)
	}
	if _, err := storage.NewCaseService(f.db).FindCaseByID(f.as(f.coordinator), f.kase.ID); err != nil {
		t.Fatalf("coordinator after the share: %v", err)
	}
	if _, err := storage.NewHearingService(f.db).FindHearingByID(f.as(f.coordinator), h.ID); err != nil {
		t.Fatalf("coordinator's hearing after the share: %v", err)
	}
	if _, err := storage.NewHearingService(f.db).FindHearingByID(f.as(f.otherCoordin), h.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("another organisation sees a case shared with the first: %v", err)
	}
	// The share is listed for the office and for the organisation, not for anyone else.
	for _, tt := range []struct {
		u    *courtside.User
		want int
	}{{f.prosecutor, 1}, {f.coordinator, 1}, {f.advocate, 1}, {f.otherCoordin, 0}, {f.otherProsecutor, 0}, {f.interpreter, 0}} {
		if ss, err := storage.NewCaseService(f.db).FindSharedCases(f.as(tt.u)); err != nil || len(ss) != tt.want {
			t.Errorf("%s lists %d shares, want %d (%v)", tt.u.Username, len(ss), tt.want, err)
		}
		if ss, err := storage.NewCaseService(f.db).FindCaseShares(f.as(tt.u), f.kase.ID); err != nil || len(ss) != tt.want {
			t.Errorf("%s lists %d shares of the case, want %d (%v)", tt.u.Username, len(ss), tt.want, err)
		}
	}
	var object string
	f.db.Writer.QueryRow(`SELECT object FROM audit_log WHERE action = 'case.share'`).Scan(&object)
	if object != "case:1 organization:3" {
		t.Errorf("share audited as %q", object)
	}
}

// TestShare_UnshareEndsTheOrganisationsAccess: withdrawing a share takes the docket away from
// the organisation at once: its coordinators and advocates no longer see the case, its
// hearings or their bookings; its victims' links are removed and its advocates'
// accompaniments cancelled, so reminders stop and no notice of later changes reaches them;
// nothing can be attached again until the office shares anew.
func TestShare_UnshareEndsTheOrganisationsAccess(t *testing.T) {
	w := newNoticeWorld(t)
	w.drain(t)
	h := w.hearing
	planned := func(recipient string) int {
		t.Helper()
		var n int
		w.db.Writer.QueryRow(`SELECT COUNT(*) FROM reminders WHERE hearing_id = ? AND recipient = ? AND status = 'PLANNED'`, h.ID, recipient).Scan(&n)
		return n
	}
	victimKey, advocateKey := "v"+strconv.FormatInt(w.victim.ID, 10), "u"+strconv.FormatInt(w.advocate.ID, 10)
	if planned(victimKey) == 0 || planned(advocateKey) == 0 {
		t.Fatalf("the fixture plans reminders for the victim (%d) and the advocate (%d)", planned(victimKey), planned(advocateKey))
	}

	for _, tt := range []struct {
		name string
		u    *courtside.User
		org  string
		code string
	}{
		{"a coordinator", w.coordinator, "Advocacy Org", courtside.EFORBIDDEN},
		{"another office", w.otherProsecutor, "Advocacy Org", courtside.ENOTFOUND},
		{"an organisation it is not shared with", w.prosecutor, "Other Advocacy Org", courtside.ENOTFOUND},
		{"no organisation", w.prosecutor, "Nobody At All", courtside.ENOTFOUND},
	} {
		if err := storage.NewCaseService(w.db).UnshareCase(w.as(tt.u), w.kase.ID, tt.org); courtside.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	events := w.count(t, "events")
	if err := storage.NewCaseService(w.db).UnshareCase(w.as(w.prosecutor), w.kase.ID, "Advocacy Org"); err != nil {
		t.Fatal(err)
	}
	var types []string
	rows, err := w.db.Writer.Query(`SELECT payload FROM events WHERE id > ? ORDER BY id`, events)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var payload []byte
		var ev courtside.Event
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		types = append(types, string(ev.Type))
	}
	rows.Close()
	if strings.Join(types, " ") != "accompaniment.cancelled victim.unlinked case.unshared" {
		t.Fatalf("events of the withdrawal: %v", types)
	}

	for _, u := range []*courtside.User{w.coordinator, w.advocate} {
		if _, err := storage.NewCaseService(w.db).FindCaseByID(w.as(u), w.kase.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s still sees the case: %v", u.Username, err)
		}
		if _, err := storage.NewHearingService(w.db).FindHearingByID(w.as(u), h.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
			t.Errorf("%s still sees the hearing: %v", u.Username, err)
		}
		if bs, err := storage.NewBookingService(w.db).FindBookings(w.as(u), courtside.BookingFilter{HearingIDs: []int64{h.ID}}); err != nil || len(bs) != 0 {
			t.Errorf("%s still sees the hearing's interpreter: %v %d", u.Username, err, len(bs))
		}
		if as, err := storage.NewAccompanimentService(w.db).FindAccompaniments(w.as(u), courtside.AccompanimentFilter{HearingIDs: []int64{h.ID}}); err != nil || len(as) != 0 {
			t.Errorf("%s still sees the accompaniment: %v %d", u.Username, err, len(as))
		}
		if ss, err := storage.NewCaseService(w.db).FindSharedCases(w.as(u)); err != nil || len(ss) != 0 {
			t.Errorf("%s still lists the share: %v %d", u.Username, err, len(ss))
		}
	}
	var status string
	w.db.Writer.QueryRow(`SELECT status FROM accompaniments WHERE hearing_id = ?`, h.ID).Scan(&status)
	if status != string(courtside.AccompanimentCancelled) || w.count(t, "case_victims") != 0 {
		t.Fatalf("accompaniment %s, %d links left", status, w.count(t, "case_victims"))
	}
	if _, err := storage.NewBookingService(w.db).RequestInterpreter(w.as(w.coordinator), h.ID, "fr", nil); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("interpreter request after the withdrawal: %v", err)
	}
	if err := storage.NewCaseService(w.db).LinkVictim(w.as(w.coordinator), w.kase.ID, w.victim.ID, true); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("relinking after the withdrawal: %v", err)
	}
	if _, err := storage.NewAccompanimentService(w.db).AssignAdvocate(w.as(w.coordinator), h.ID, w.victim.ID, w.advocate.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("assigning after the withdrawal: %v", err)
	}
	// The office keeps its case, and what it did is on the record.
	if _, err := storage.NewHearingService(w.db).FindHearingByID(w.as(w.prosecutor), h.ID); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"case.unshare", "case.unlink_victim", "accompaniment.cancel"} {
		var n int
		w.db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n)
		if n != 1 {
			t.Errorf("%d %s audit rows", n, action)
		}
	}

	// The planners follow: the victim's and the advocate's reminders are cancelled, and a
	// later move tells neither of them.
	w.drain(t)
	if planned(victimKey) != 0 || planned(advocateKey) != 0 {
		t.Fatalf("reminders left: victim %d, advocate %d", planned(victimKey), planned(advocateKey))
	}
	// The last id, not the count: PostgreSQL's identities skip the numbers of rolled back and
	// ignored inserts.
	var deliveries int64
	if err := w.db.Writer.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM deliveries`).Scan(&deliveries); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), h.ID, courtside.HearingUpdate{StartsAt: h.StartsAt.Add(24 * time.Hour),
		EndsAt: h.EndsAt.Add(24 * time.Hour), Reason: "judge ill"}); err != nil {
		t.Fatal(err)
	}
	w.drain(t)
	var toThem int
	w.db.Writer.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE id > ? AND (victim_id = ? OR user_id = ?)`, deliveries, w.victim.ID, w.advocate.ID).Scan(&toThem)
	if toThem != 0 {
		t.Fatalf("%d notices of the move went to the withdrawn organisation's victim or advocate", toThem)
	}
}

// TestShare_UnlinkVictim: a coordinator takes its own victim off a case; the victim's live
// accompaniments to the case's hearings are cancelled. Another organisation's coordinator, a
// victim not linked and an unshared case answer NOT_FOUND.
func TestShare_UnlinkVictim(t *testing.T) {
	f := newBookingFixture(t)
	if _, err := storage.NewAccompanimentService(f.db).AssignAdvocate(f.as(f.coordinator), f.hearing.ID, f.victim.ID, f.advocate.ID); err != nil {
		t.Fatal(err)
	}
	stranger := &courtside.Victim{Pseudonym: "V-S2", PreferredLanguage: "es"}
	if err := storage.NewVictimService(f.db).RegisterVictim(f.as(f.coordinator), stranger); err != nil {
		t.Fatal(err)
	}
	before := f.counts(t)
	for _, tt := range []struct {
		name           string
		u              *courtside.User
		caseID, victim int64
		code           string
	}{
		{"another organisation", f.otherCoordin, f.kase.ID, f.victim.ID, courtside.ENOTFOUND},
		{"an advocate", f.advocate, f.kase.ID, f.victim.ID, courtside.EFORBIDDEN},
		{"a prosecutor", f.prosecutor, f.kase.ID, f.victim.ID, courtside.EFORBIDDEN},
		{"a victim not linked", f.coordinator, f.kase.ID, stranger.ID, courtside.ENOTFOUND},
		{"a case that does not exist", f.coordinator, 999, f.victim.ID, courtside.ENOTFOUND},
	} {
		if err := storage.NewCaseService(f.db).UnlinkVictim(f.as(tt.u), tt.caseID, tt.victim); courtside.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	sameCounts(t, "refused unlinks", before, f.counts(t))
	if err := storage.NewCaseService(f.db).UnlinkVictim(f.as(f.coordinator), f.kase.ID, f.victim.ID); err != nil {
		t.Fatal(err)
	}
	cvs, err := storage.NewCaseService(f.db).FindCaseVictims(f.as(f.coordinator), f.kase.ID)
	if err != nil || len(cvs) != 0 {
		t.Fatalf("links after unlinking: %v %+v", err, cvs)
	}
	as, err := storage.NewAccompanimentService(f.db).FindAccompaniments(f.as(f.coordinator), courtside.AccompanimentFilter{HearingIDs: []int64{f.hearing.ID}})
	if err != nil || len(as) != 1 || as[0].Status != courtside.AccompanimentCancelled {
		t.Fatalf("accompaniment after unlinking: %v %+v", err, as)
	}
	// The case stays shared: the coordinator still sees it and may link again.
	if err := storage.NewCaseService(f.db).LinkVictim(f.as(f.coordinator), f.kase.ID, f.victim.ID, false); err != nil {
		t.Fatal(err)
	}
}

// TestShare_AccessRequests: a coordinator asks for a docket by court and number; the answer is
// the same whether or not the docket exists. Only the office owning the docket sees the
// request; granting shares the case, refusing does not, and a request is decided once.
func TestShare_AccessRequests(t *testing.T) {
	f := newFixture(t)
	ask := func(u *courtside.User, docket string) (*courtside.CaseAccessRequest, error) {
		r := &courtside.CaseAccessRequest{Docket: docket, CourtID: f.court.ID, Note: "We support a victim in this case."}
		return r, storage.NewCaseService(f.db).RequestCaseAccess(f.as(u), r)
	}
	real, err := ask(f.coordinator, " 26-cr-1 ") // the fixture's docket, typed in lower case
	if err != nil {
		t.Fatal(err)
	}
	imaginary, err := ask(f.coordinator, "99-CR-404")
	if err != nil {
		t.Fatal(err)
	}
	if real.Status != courtside.AccessPending || imaginary.Status != courtside.AccessPending || real.CaseID != 0 || imaginary.CaseID != 0 {
		t.Fatalf("the answers differ: %+v %+v", real, imaginary)
	}
	if _, err := ask(f.coordinator, "26-CR-1"); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("a second pending request: %v", err)
	}
	for _, tt := range []struct {
		name  string
		r     courtside.CaseAccessRequest
		u     *courtside.User
		code  string
		field string
	}{
		{"a prosecutor", courtside.CaseAccessRequest{Docket: "X", CourtID: f.court.ID}, f.otherProsecutor, courtside.EFORBIDDEN, ""},
		{"an advocate", courtside.CaseAccessRequest{Docket: "X", CourtID: f.court.ID}, f.advocate, courtside.EFORBIDDEN, ""},
		{"no docket", courtside.CaseAccessRequest{Docket: " ", CourtID: f.court.ID}, f.coordinator, courtside.EINVALID, "docket"},
		{"no court", courtside.CaseAccessRequest{Docket: "X", CourtID: 999}, f.coordinator, courtside.EINVALID, "courtId"},
		{"a long note", courtside.CaseAccessRequest{Docket: "X", CourtID: f.court.ID, Note: strings.Repeat("n", 501)}, f.coordinator, courtside.EINVALID, "note"},
	} {
		r := tt.r
		if err := storage.NewCaseService(f.db).RequestCaseAccess(f.as(tt.u), &r); courtside.ErrorCode(err) != tt.code || courtside.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want %s %s", tt.name, err, tt.code, tt.field)
		}
	}
	other, err := ask(f.otherCoordin, "26-CR-1")
	if err != nil {
		t.Fatal(err)
	}
	list := func(u *courtside.User) []*courtside.CaseAccessRequest {
		t.Helper()
		rs, err := storage.NewCaseService(f.db).FindCaseAccessRequests(f.as(u), nil)
		if err != nil {
			t.Fatalf("%s: %v", u.Username, err)
		}
		return rs
	}
	if rs := list(f.prosecutor); len(rs) != 2 || rs[0].ID != other.ID || rs[1].ID != real.ID || rs[1].CaseID != f.kase.ID ||
		rs[1].Organization.Name != "Advocacy Org" || rs[1].Note == "" {
		t.Fatalf("the office sees %+v", rs)
	}
	if rs := list(f.otherProsecutor); len(rs) != 0 {
		t.Fatalf("another office sees %+v", rs)
	}
	if rs := list(f.coordinator); len(rs) != 2 || rs[0].ID != imaginary.ID || rs[0].CaseID != 0 || rs[1].CaseID != 0 {
		t.Fatalf("the coordinator sees %+v", rs)
	}
	if _, err := storage.NewCaseService(f.db).FindCaseAccessRequests(f.as(f.advocate), nil); courtside.ErrorCode(err) != courtside.EFORBIDDEN {
		t.Fatalf("an advocate: %v", err)
	}
	for _, tt := range []struct {
		name string
		u    *courtside.User
		id   int64
		code string
	}{
		{"the requester", f.coordinator, real.ID, courtside.EFORBIDDEN},
		{"another office", f.otherProsecutor, real.ID, courtside.ENOTFOUND},
		{"a request for no case", f.prosecutor, imaginary.ID, courtside.ENOTFOUND},
	} {
		if _, err := storage.NewCaseService(f.db).DecideCaseAccess(f.as(tt.u), tt.id, true); courtside.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}

	granted, err := storage.NewCaseService(f.db).DecideCaseAccess(f.as(f.prosecutor), real.ID, true)
	if err != nil || granted.Status != courtside.AccessGranted || granted.DecidedAt == nil {
		t.Fatalf("grant: %v %+v", err, granted)
	}
	if _, err := storage.NewCaseService(f.db).FindCaseByID(f.as(f.coordinator), f.kase.ID); err != nil {
		t.Fatalf("the case after the grant: %v", err)
	}
	if rs := list(f.coordinator); rs[1].Status != courtside.AccessGranted || rs[1].CaseID != f.kase.ID {
		t.Fatalf("the requester after the grant: %+v", rs[1])
	}
	if _, err := storage.NewCaseService(f.db).DecideCaseAccess(f.as(f.prosecutor), real.ID, false); courtside.ErrorCode(err) != courtside.ECONFLICT {
		t.Fatalf("deciding twice: %v", err)
	}
	refused, err := storage.NewCaseService(f.db).DecideCaseAccess(f.as(f.prosecutor), other.ID, false)
	if err != nil || refused.Status != courtside.AccessRefused {
		t.Fatalf("refuse: %v %+v", err, refused)
	}
	if _, err := storage.NewCaseService(f.db).FindCaseByID(f.as(f.otherCoordin), f.kase.ID); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("a refused organisation sees the case: %v", err)
	}
	pending := courtside.AccessPending
	if rs, err := storage.NewCaseService(f.db).FindCaseAccessRequests(f.as(f.prosecutor), &pending); err != nil || len(rs) != 0 {
		t.Fatalf("pending after deciding: %v %+v", err, rs)
	}
	// Asking for a case already shared with the organisation is granted at once.
	again, err := ask(f.coordinator, "26-CR-1")
	if err != nil || again.Status != courtside.AccessGranted || again.CaseID != f.kase.ID {
		t.Fatalf("asking again: %v %+v", err, again)
	}
	for _, action := range []string{"case.request_access", "case.grant_access", "case.refuse_access", "case.share"} {
		var n int
		f.db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = ?`, action).Scan(&n)
		if n == 0 {
			t.Errorf("no %s audit row", action)
		}
	}
}

// TestMigration_KindsAndLinksMadeBeforeSharing upgrades a database written before
// organisations had kinds and cases were shared: each organisation takes its kind from what it
// holds; a link made without the office's decision becomes a pending request for the office
// to decide, and gives the organisation no access until it is granted.
func TestMigration_KindsAndLinksMadeBeforeSharing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrations.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, raw, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	const at = "2026-01-01T00:00:00.000Z"
	for _, q := range []string{
		`INSERT INTO organizations (id, name, created_at) VALUES (1, 'County DA', '` + at + `'), (2, 'Harbor Advocacy', '` + at + `'),
			(3, 'Language Agency', '` + at + `'), (4, 'Empty', '` + at + `')`,
		`INSERT INTO users (id, username, role, organization_id, created_at) VALUES (1, 'pros', 'PROSECUTOR', 1, '` + at + `'),
			(2, 'coord', 'COORDINATOR', 2, '` + at + `'), (3, 'interp', 'INTERPRETER', 3, '` + at + `'),
			(4, 'misplaced', 'COORDINATOR', 1, '` + at + `')`,
		`INSERT INTO courts (id, name, time_zone, created_at) VALUES (1, 'Main Courthouse', 'America/New_York', '` + at + `')`,
		`INSERT INTO cases (id, docket, court_id, organization_id, created_at) VALUES (1, '26-CR-1', 1, 1, '` + at + `')`,
		`INSERT INTO victims (id, organization_id, pseudonym, preferred_language, created_at) VALUES (1, 2, 'V-1', 'es', '` + at + `')`,
		`INSERT INTO case_victims (case_id, victim_id, attends) VALUES (1, 1, 1)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db := storage.NewDB(path)
	db.Publish = events.PublishTx
	if db.Sealer, err = storage.NewSealer(testKey); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kinds := map[string]string{}
	rows, err := db.Reader.Query(`SELECT name, kind FROM organizations`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, kind string
		rows.Scan(&name, &kind)
		kinds[name] = kind
	}
	rows.Close()
	if kinds["County DA"] != "PROSECUTION" || kinds["Harbor Advocacy"] != "ADVOCACY" || kinds["Language Agency"] != "INTERPRETING" || kinds["Empty"] != "" {
		t.Fatalf("kinds: %v", kinds)
	}
	as := func(name string) context.Context {
		u, err := storage.NewUserService(db).FindUserByUsername(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		return courtside.NewContextWithUser(context.Background(), u)
	}
	if _, err := storage.NewCaseService(db).FindCaseByID(as("coord"), 1); courtside.ErrorCode(err) != courtside.ENOTFOUND {
		t.Fatalf("a link made before sharing still opens the case: %v", err)
	}
	rs, err := storage.NewCaseService(db).FindCaseAccessRequests(as("pros"), nil)
	if err != nil || len(rs) != 1 || rs[0].Status != courtside.AccessPending || rs[0].OrganizationID != 2 || rs[0].CaseID != 1 {
		t.Fatalf("the office's requests: %v %+v", err, rs)
	}
	if _, err := storage.NewCaseService(db).DecideCaseAccess(as("pros"), rs[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := storage.NewCaseService(db).FindCaseByID(as("coord"), 1); err != nil {
		t.Fatalf("after the grant: %v", err)
	}
	if cvs, err := storage.NewCaseService(db).FindCaseVictims(as("coord"), 1); err != nil || len(cvs) != 1 {
		t.Fatalf("the link carried over: %v %+v", err, cvs)
	}
	// A kind-less organisation takes its first new member's kind.
	u, err := storage.NewUserService(db).CreateUser(context.Background(), courtside.NewUser{User: courtside.User{Username: "adv", Role: courtside.RoleAdvocate}, OrganizationName: "Empty"})
	if err != nil || u.Organization.Kind != courtside.KindAdvocacy || u.Organization.Created {
		t.Fatalf("join a kind-less organisation: %v %+v", err, u)
	}
}
