package graph_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const linkVictim = `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`

// TestShare_CoordinatorNeedsTheOfficesShare: through GraphQL, a coordinator cannot attach its
// organisation to a case it has not been given: linkVictim answers NOT_FOUND with the same
// message as for a case that does not exist, and writes nothing. The office shares the case
// by its organisation's name; then the organisation lists it, sees it and links to it. The
// office sees the share, an advocacy organisation only its own.
func TestShare_CoordinatorNeedsTheOfficesShare(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-SH-1", preferredLanguage: "es"}) { id } }`, nil).ok(&v)
	victim := v.RegisterVictim.ID

	unshared := e.gql("coord", linkVictim, map[string]any{"c": f.caseID, "v": victim}).fails("NOT_FOUND")
	missing := e.gql("coord", linkVictim, map[string]any{"c": "999", "v": victim}).fails("NOT_FOUND")
	if unshared.Errors[0].Message != missing.Errors[0].Message || string(unshared.Data) != string(missing.Data) {
		t.Fatalf("an unshared case answers differently from a missing one: %+v vs %+v", unshared.Errors, missing.Errors)
	}
	var links int
	e.db.Writer.QueryRow(`SELECT COUNT(*) FROM case_victims`).Scan(&links)
	if links != 0 {
		t.Fatalf("%d links written", links)
	}
	e.gql("coord", `query($id: ID!) { case(id: $id) { docket } }`, map[string]any{"id": f.caseID}).fails("NOT_FOUND")
	e.gql("coord", `query($id: ID!) { hearing(id: $id) { startsAt courtroom judge } }`, map[string]any{"id": f.hearingID}).fails("NOT_FOUND")

	const share = `mutation($c: ID!, $o: String!) { shareCase(caseId: $c, organisation: $o) {
  sharedAt sharedBy organization { name kind } case { docket } } }`
	e.gql("coord", share, map[string]any{"c": f.caseID, "o": "Safe Harbor"}).fails("FORBIDDEN")
	e.gql("pros2", share, map[string]any{"c": f.caseID, "o": "Safe Harbor"}).fails("NOT_FOUND")
	e.gql("pros", share, map[string]any{"c": f.caseID, "o": "Other County Prosecutor"}).fails("INVALID", "organisation")
	e.gql("pros", share, map[string]any{"c": f.caseID, "o": "safe harbour"}).fails("INVALID", "organisation")
	var shared struct {
		ShareCase struct {
			SharedAt, SharedBy string
			Organization       struct{ Name, Kind string }
			Case               struct{ Docket string }
		}
	}
	e.gql("pros", share, map[string]any{"c": f.caseID, "o": "Safe Harbor"}).ok(&shared)
	if s := shared.ShareCase; s.SharedBy != "pros" || s.Organization.Name != "Safe Harbor" || s.Organization.Kind != "ADVOCACY" ||
		s.Case.Docket != "CR-2030-0042" || s.SharedAt == "" {
		t.Fatalf("share: %+v", s)
	}

	var list struct {
		SharedCases []struct {
			Case         struct{ ID, Docket string }
			Organization struct{ Name string }
		}
	}
	e.gql("coord", `{ sharedCases { case { id docket } organization { name } } }`, nil).ok(&list)
	if len(list.SharedCases) != 1 || list.SharedCases[0].Case.ID != f.caseID || list.SharedCases[0].Organization.Name != "Safe Harbor" {
		t.Fatalf("the coordinator's shared cases: %+v", list)
	}
	e.gql("pros2", `{ sharedCases { case { id } } }`, nil).ok(&list)
	if len(list.SharedCases) != 0 {
		t.Fatalf("another office lists %+v", list)
	}
	e.gql("coord", linkVictim, map[string]any{"c": f.caseID, "v": victim}).ok(nil)
	var read struct {
		Hearing struct {
			Courtroom string
			Case      struct {
				Shares []struct{ Organization struct{ Name string } }
			}
		}
	}
	e.gql("coord", `query($id: ID!) { hearing(id: $id) { courtroom case { shares { organization { name } } } } }`,
		map[string]any{"id": f.hearingID}).ok(&read)
	if read.Hearing.Courtroom != "4B" || len(read.Hearing.Case.Shares) != 1 {
		t.Fatalf("the coordinator's view after the share: %+v", read)
	}
	var me struct {
		Me struct{ Organization struct{ Name, Kind string } }
	}
	e.gql("pros", `{ me { organization { name kind } } }`, nil).ok(&me)
	if me.Me.Organization.Kind != "PROSECUTION" {
		t.Fatalf("Organization.kind: %+v", me)
	}
}

// TestShare_OfficeSeesCountWithoutRelease: the office counts the victims linked to its case,
// and sees who they are, whether they attend and whether they are accompanied only under an
// active release to it; revoking it ends that at once. Releases are the victim's
// coordinators' to record, list and revoke.
func TestShare_OfficeSeesCountWithoutRelease(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	var v struct{ RegisterVictim struct{ ID string } }
	e.gql("coord", `mutation { registerVictim(input: {pseudonym: "V-SH-2", preferredLanguage: "es"}) { id } }`, nil).ok(&v)
	e.share("pros", f.caseID, "Safe Harbor")
	e.gql("coord", linkVictim, map[string]any{"c": f.caseID, "v": v.RegisterVictim.ID}).ok(nil)
	e.gql("coord", `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { id } }`,
		map[string]any{"h": f.hearingID, "v": v.RegisterVictim.ID, "a": strconv.FormatInt(e.users["adv"].ID, 10)}).ok(nil)

	const office = `query($id: ID!) { case(id: $id) { victimCount victims { attends accompanied victim { pseudonym } } hearings { accompaniments { id } } } }`
	type view struct {
		Case struct {
			VictimCount int
			Victims     []struct {
				Attends, Accompanied bool
				Victim               struct{ Pseudonym string }
			}
			Hearings []struct{ Accompaniments []struct{ ID string } }
		}
	}
	var out view
	e.gql("pros", office, map[string]any{"id": f.caseID}).ok(&out)
	if out.Case.VictimCount != 1 || len(out.Case.Victims) != 0 || len(out.Case.Hearings[0].Accompaniments) != 0 {
		t.Fatalf("without a release the office sees %+v", out)
	}
	e.gql("pros", `query($id: ID!) { victim(id: $id) { pseudonym } }`, map[string]any{"id": v.RegisterVictim.ID}).fails("NOT_FOUND")

	const record = `mutation($in: RecordReleaseInput!) { recordRelease(input: $in) { id active purpose reference recipient { name kind } recordedBy } }`
	in := func(change map[string]any) map[string]any {
		m := map[string]any{"victimId": v.RegisterVictim.ID, "recipient": "County Prosecutor", "purpose": "CASE_COORDINATION",
			"reference": "form R-7, signed", "expiresAt": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
		for k, x := range change {
			m[k] = x
		}
		return map[string]any{"in": m}
	}
	e.gql("pros", record, in(nil)).fails("FORBIDDEN")
	e.gql("adv", record, in(nil)).fails("FORBIDDEN")
	e.gql("coord", record, in(map[string]any{"recipient": "Safe Harbor"})).fails("INVALID", "input.recipient")
	e.gql("coord", record, in(map[string]any{"reference": ""})).fails("INVALID", "input.reference")
	e.gql("coord", record, in(map[string]any{"expiresAt": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})).fails("INVALID", "input.expiresAt")
	e.gql("coord", record, in(map[string]any{"grantedAt": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)})).fails("INVALID", "input.grantedAt")
	e.gql("coord", record, in(map[string]any{"victimId": "999"})).fails("NOT_FOUND")
	var rec struct {
		RecordRelease struct {
			ID, Purpose, Reference, RecordedBy string
			Active                             bool
			Recipient                          struct{ Name, Kind string }
		}
	}
	e.gql("coord", record, in(nil)).ok(&rec)
	if r := rec.RecordRelease; !r.Active || r.Purpose != "CASE_COORDINATION" || r.Recipient.Kind != "PROSECUTION" || r.RecordedBy != "coord" {
		t.Fatalf("recorded: %+v", r)
	}
	e.gql("pros", office, map[string]any{"id": f.caseID}).ok(&out)
	if out.Case.VictimCount != 1 || len(out.Case.Victims) != 1 || out.Case.Victims[0].Victim.Pseudonym != "V-SH-2" ||
		!out.Case.Victims[0].Attends || !out.Case.Victims[0].Accompanied || len(out.Case.Hearings[0].Accompaniments) != 1 {
		t.Fatalf("with a release the office sees %+v", out)
	}

	const releases = `query($v: ID!) { releases(victimId: $v) { id active revokedAt reference } }`
	var rs struct {
		Releases []struct {
			ID, Reference string
			Active        bool
			RevokedAt     *string
		}
	}
	e.gql("coord", releases, map[string]any{"v": v.RegisterVictim.ID}).ok(&rs)
	if len(rs.Releases) != 1 || !rs.Releases[0].Active || rs.Releases[0].Reference != "form R-7, signed" {
		t.Fatalf("releases: %+v", rs)
	}
	for _, user := range []string{"pros", "adv", "admin", "interp"} {
		e.gql(user, releases, map[string]any{"v": v.RegisterVictim.ID}).fails("FORBIDDEN")
		e.gql(user, `mutation($id: ID!) { revokeRelease(id: $id) { id } }`, map[string]any{"id": rec.RecordRelease.ID}).fails("FORBIDDEN")
	}
	var revoked struct {
		RevokeRelease struct {
			Active    bool
			RevokedAt *string
		}
	}
	e.gql("coord", `mutation($id: ID!) { revokeRelease(id: $id) { active revokedAt } }`, map[string]any{"id": rec.RecordRelease.ID}).ok(&revoked)
	if revoked.RevokeRelease.Active || revoked.RevokeRelease.RevokedAt == nil {
		t.Fatalf("revoked: %+v", revoked)
	}
	e.gql("pros", office, map[string]any{"id": f.caseID}).ok(&out)
	if out.Case.VictimCount != 1 || len(out.Case.Victims) != 0 || len(out.Case.Hearings[0].Accompaniments) != 0 {
		t.Fatalf("after revocation the office sees %+v", out)
	}
	var audited int
	e.db.Writer.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action IN ('release.record', 'release.read', 'release.revoke')`).Scan(&audited)
	if audited != 3 {
		t.Fatalf("%d release audit rows, want 3", audited)
	}
}

// TestShare_UnshareAndRequests: the office withdraws a share and the organisation loses the
// docket (case, hearings, links, accompaniments); a coordinator asks for a docket by court
// and number and the office grants or refuses it; unlinkVictim takes a victim off a case.
func TestShare_UnshareAndRequests(t *testing.T) {
	e := newEnv(t)
	f := e.setUpVictim() // shared with Safe Harbor; V-17-R linked; adv accompanies

	e.gql("coord", `mutation($c: ID!, $v: ID!) { unlinkVictim(caseId: $c, victimId: $v) { victimCount } }`,
		map[string]any{"c": f.caseID, "v": "999"}).fails("NOT_FOUND")
	e.gql("pros", `mutation($c: ID!, $o: String!) { unshareCase(caseId: $c, organisation: $o) { id } }`,
		map[string]any{"c": f.caseID, "o": "Nobody"}).fails("NOT_FOUND")
	e.gql("coord", `mutation($c: ID!, $o: String!) { unshareCase(caseId: $c, organisation: $o) { id } }`,
		map[string]any{"c": f.caseID, "o": "Safe Harbor"}).fails("FORBIDDEN")
	var after struct {
		UnshareCase struct {
			VictimCount int
			Shares      []struct{ SharedAt string }
			Hearings    []struct {
				Accompaniments []struct{ ID string }
			}
		}
	}
	e.gql("pros", `mutation($c: ID!, $o: String!) { unshareCase(caseId: $c, organisation: $o) { victimCount shares { sharedAt } hearings { accompaniments { id } } } }`,
		map[string]any{"c": f.caseID, "o": "Safe Harbor"}).ok(&after)
	if a := after.UnshareCase; a.VictimCount != 0 || len(a.Shares) != 0 {
		t.Fatalf("the office's case after the withdrawal: %+v", a)
	}
	for _, user := range []string{"coord", "adv"} {
		e.gql(user, `query($id: ID!) { hearing(id: $id) { startsAt } }`, map[string]any{"id": f.hearingID}).fails("NOT_FOUND")
		e.gql(user, `query($id: ID!) { case(id: $id) { docket } }`, map[string]any{"id": f.caseID}).fails("NOT_FOUND")
	}
	e.gql("coord", linkVictim, map[string]any{"c": f.caseID, "v": f.victimID}).fails("NOT_FOUND")
	e.gql("coord", `query($h: ID!) { interpreterCandidates(hearingId: $h, language: "es") { available } }`,
		map[string]any{"h": f.hearingID}).fails("NOT_FOUND")
	e.requestInterpreter("coord", f.hearingID, "es", nil).fails("NOT_FOUND")

	// The coordinator asks again; the office sees it and grants it.
	const ask = `mutation($d: String!, $c: ID!) { requestCaseAccess(docket: $d, courtId: $c, note: "We support a victim.") { id status case { id } } }`
	var asked, imaginary struct {
		RequestCaseAccess struct {
			ID, Status string
			Case       *struct{ ID string }
		}
	}
	e.gql("coord", ask, map[string]any{"d": "CR-2030-0042", "c": f.courtID}).ok(&asked)
	e.gql("coord", ask, map[string]any{"d": "CR-2099-0001", "c": f.courtID}).ok(&imaginary)
	if asked.RequestCaseAccess.Status != "PENDING" || imaginary.RequestCaseAccess.Status != "PENDING" ||
		asked.RequestCaseAccess.Case != nil || imaginary.RequestCaseAccess.Case != nil {
		t.Fatalf("a real and an imaginary docket answer differently: %+v %+v", asked, imaginary)
	}
	e.gql("coord", ask, map[string]any{"d": "cr-2030-0042", "c": f.courtID}).fails("CONFLICT")
	e.gql("coord", ask, map[string]any{"d": "X", "c": "999"}).fails("INVALID", "courtId")
	e.gql("pros", ask, map[string]any{"d": "X", "c": f.courtID}).fails("FORBIDDEN")
	const requests = `query($s: AccessRequestStatus) { caseAccessRequests(status: $s) { id docket note status organization { name } court { name } case { id } } }`
	var seen struct {
		CaseAccessRequests []struct {
			ID, Docket, Status string
			Note               *string
			Organization       struct{ Name string }
			Case               *struct{ ID string }
		}
	}
	e.gql("pros", requests, map[string]any{"s": "PENDING"}).ok(&seen)
	if r := seen.CaseAccessRequests; len(r) != 1 || r[0].ID != asked.RequestCaseAccess.ID || r[0].Organization.Name != "Safe Harbor" ||
		r[0].Case == nil || r[0].Case.ID != f.caseID || r[0].Note == nil {
		t.Fatalf("the office's requests: %+v", r)
	}
	e.gql("pros2", requests, nil).ok(&seen)
	if len(seen.CaseAccessRequests) != 0 {
		t.Fatalf("another office sees %+v", seen)
	}
	e.gql("adv", requests, nil).fails("FORBIDDEN")
	e.gql("coord", `mutation($id: ID!) { grantCaseAccess(requestId: $id) { status } }`, map[string]any{"id": asked.RequestCaseAccess.ID}).fails("FORBIDDEN")
	e.gql("pros", `mutation($id: ID!) { grantCaseAccess(requestId: $id) { status } }`, map[string]any{"id": imaginary.RequestCaseAccess.ID}).fails("NOT_FOUND")
	var granted struct{ GrantCaseAccess struct{ Status string } }
	e.gql("pros", `mutation($id: ID!) { grantCaseAccess(requestId: $id) { status } }`, map[string]any{"id": asked.RequestCaseAccess.ID}).ok(&granted)
	if granted.GrantCaseAccess.Status != "GRANTED" {
		t.Fatalf("grant: %+v", granted)
	}
	e.gql("pros", `mutation($id: ID!) { refuseCaseAccess(requestId: $id) { status } }`, map[string]any{"id": asked.RequestCaseAccess.ID}).fails("CONFLICT")
	e.gql("coord", requests, nil).ok(&seen)
	if r := seen.CaseAccessRequests; len(r) != 2 || r[1].Status != "GRANTED" || r[1].Case == nil || r[1].Case.ID != f.caseID || r[0].Case != nil {
		t.Fatalf("the coordinator's requests after the grant: %+v", r)
	}
	e.gql("coord", linkVictim, map[string]any{"c": f.caseID, "v": f.victimID}).ok(nil)
	var unlinked struct{ UnlinkVictim struct{ VictimCount int } }
	e.gql("coord", `mutation($c: ID!, $v: ID!) { unlinkVictim(caseId: $c, victimId: $v) { victimCount } }`,
		map[string]any{"c": f.caseID, "v": f.victimID}).ok(&unlinked)
	if unlinked.UnlinkVictim.VictimCount != 0 {
		t.Fatalf("unlink: %+v", unlinked)
	}
}

// TestShare_SubscriptionFollowsTheShare: a coordinator's scheduleChanged delivers a shared
// case's changes, and none after the office withdraws the share.
func TestShare_SubscriptionFollowsTheShare(t *testing.T) {
	le := newLiveEnv(t)
	f := le.setUpVictim()
	// A second case of the office, shared too, as the marker that delivery goes on.
	var c2 struct{ OpenCase struct{ ID string } }
	le.gql("pros", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "CR-2030-0043", "courtId": f.courtID}}).ok(&c2)
	var h2 struct{ PostHearing struct{ ID string } }
	le.gql("pros", postHearing, map[string]any{"in": hearingInput(c2.OpenCase.ID, "EXT-2", start2, end2)}).ok(&h2)
	le.share("pros", c2.OpenCase.ID, "Safe Harbor")
	le.caughtUp()
	c := le.connect("coord")
	c.subscribe("1", scheduleChanged, nil)
	le.subscribers(1)
	le.move("pros", f.hearingID, 10)
	if _, ch := c.change(); ch.Hearing.ID != f.hearingID {
		t.Fatalf("before the withdrawal: %+v", ch)
	}
	le.gql("pros", `mutation($c: ID!, $o: String!) { unshareCase(caseId: $c, organisation: $o) { id } }`,
		map[string]any{"c": f.caseID, "o": "Safe Harbor"}).ok(nil)
	le.move("pros", f.hearingID, 11)
	le.move("pros", h2.PostHearing.ID, 12)
	if _, ch := c.change(); ch.Hearing.ID != h2.PostHearing.ID {
		t.Fatalf("after the withdrawal the coordinator received a change of hearing %s: %+v", ch.Hearing.ID, ch)
	}
}

// TestRescheduleKeepsPostLimits: rescheduleHearing and cancelHearing hold their text to
// postHearing's bounds; a refused change writes nothing.
func TestRescheduleKeepsPostLimits(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	long := strings.Repeat("x", 100000)
	const reschedule = `mutation($id: ID!, $r: String, $why: String!) { rescheduleHearing(id: $id, startsAt: "2030-03-05T09:30:00-05:00",
  endsAt: "2030-03-05T11:00:00-05:00", courtroom: $r, reason: $why) { sequence } }`
	e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "r": long, "why": "moved"}).fails("INVALID", "courtroom")
	e.gql("pros", reschedule, map[string]any{"id": f.hearingID, "r": "5C", "why": long}).fails("INVALID", "reason")
	e.gql("pros", `mutation($id: ID!, $why: String!) { cancelHearing(id: $id, reason: $why) { sequence } }`,
		map[string]any{"id": f.hearingID, "why": long}).fails("INVALID", "reason")
	var h struct {
		Hearing struct {
			Sequence  int
			Courtroom string
			Status    string
		}
	}
	e.gql("pros", `query($id: ID!) { hearing(id: $id) { sequence courtroom status } }`, map[string]any{"id": f.hearingID}).ok(&h)
	if h.Hearing.Sequence != 0 || h.Hearing.Courtroom != "4B" || h.Hearing.Status != "SCHEDULED" {
		t.Fatalf("refused changes changed the hearing: %+v", h.Hearing)
	}
	var changes int
	e.db.Writer.QueryRow(`SELECT COUNT(*) FROM hearing_changes WHERE length(to_courtroom) > 100 OR length(reason) > 500`).Scan(&changes)
	if changes != 0 {
		t.Fatalf("%d oversized history rows", changes)
	}
}

// TestCandidates_ReasonsNameNoOtherHearing: a coordinator ranking interpreters for its hearing
// learns that an interpreter is unavailable, never the time, day or court of the other
// organisation's hearing that holds the interpreter.
func TestCandidates_ReasonsNameNoOtherHearing(t *testing.T) {
	e := newEnv(t)
	f := e.setUp()
	e.share("pros", f.caseID, "Safe Harbor")
	// Another office's hearing at the same time, 09:30 to 11:00 in New York on Monday 4 March
	// 2030; the only interpreter accepts it.
	var c3 struct{ OpenCase struct{ ID string } }
	e.gql("pros2", `mutation($in: OpenCaseInput!) { openCase(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"docket": "CR-2030-0077", "courtId": f.courtID}}).ok(&c3)
	var h3 struct{ PostHearing struct{ ID string } }
	e.gql("pros2", postHearing, map[string]any{"in": hearingInput(c3.OpenCase.ID, "EXT-3", start1, end1)}).ok(&h3)
	var b struct{ RequestInterpreter struct{ ID string } }
	e.requestInterpreter("pros2", h3.PostHearing.ID, "es", nil).ok(&b)
	e.respond("interp", b.RequestInterpreter.ID, true, nil).ok(nil)

	var out struct {
		InterpreterCandidates []struct {
			Interpreter struct{ Name string }
			Available   bool
			Reason      *string
		}
	}
	e.gql("coord", `query($h: ID!) { interpreterCandidates(hearingId: $h, language: "es") { interpreter { name } available reason } }`,
		map[string]any{"h": f.hearingID}).ok(&out)
	if len(out.InterpreterCandidates) != 1 {
		t.Fatalf("candidates: %+v", out)
	}
	c := out.InterpreterCandidates[0]
	if c.Available || c.Reason == nil || *c.Reason != "Unavailable at that time." {
		t.Fatalf("candidate: %+v", c)
	}
	for _, leak := range []string{"09:30", "11:00", "Mar", "Mon", "EST", "County Courthouse", "booked", "Booked", "offered"} {
		if strings.Contains(*c.Reason, leak) {
			t.Errorf("the reason %q gives away %q of another office's hearing", *c.Reason, leak)
		}
	}
}
