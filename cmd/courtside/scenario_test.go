package main_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestScenario_CoordinationThroughPublicAPI drives a whole day's coordination through the
// public HTTP API of the real binary: people log in, a prosecutor posts a hearing, a
// coordinator registers and links a victim, assigns an advocate and requests an interpreter,
// the interpreter accepts, the prosecutor reschedules, and a subscriber receives the change.
// Only the accounts themselves come from the operator's CLI.
func TestScenario_CoordinationThroughPublicAPI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "courtside.db")
	const pw = "tidal basin lantern 42\n"
	cli(t, "", "init", "--db", db)
	cli(t, pw, "user", "add", "--db", db, "--username", "admin", "--role", "admin", "--password-stdin")
	cli(t, pw, "user", "add", "--db", db, "--username", "pros", "--role", "prosecutor", "--org", "County DA", "--password-stdin")
	cli(t, pw, "user", "add", "--db", db, "--username", "coord", "--role", "coordinator", "--org", "Harbor Advocacy", "--password-stdin")
	cli(t, pw, "user", "add", "--db", db, "--username", "adv", "--role", "advocate", "--org", "Harbor Advocacy", "--password-stdin")
	cli(t, pw, "user", "add", "--db", db, "--username", "interp", "--role", "interpreter", "--interpreter-languages", "es:CERTIFIED", "--password-stdin")
	s := startServer(t, db)

	login := func(user string) string {
		data := mustGQL(t, s.url, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token user { role } } }`,
			map[string]any{"u": user, "p": strings.TrimSpace(pw)})
		return dig(data, "login", "token").(string)
	}
	admin, pros, coord, adv, interp := login("admin"), login("pros"), login("coord"), login("adv"), login("interp")

	// The prosecutor's office posts a hearing.
	court := mustGQL(t, s.url, admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, s.url, pros, `mutation($c: ID!) { openCase(input: {docket: "26-CR-00517", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	starts := time.Now().UTC().Add(21 * 24 * time.Hour).Truncate(time.Hour)
	h := mustGQL(t, s.url, pros, postHearing, map[string]any{"in": map[string]any{"caseId": caseID, "kind": "TRIAL",
		"startsAt": starts.Format(time.RFC3339), "endsAt": starts.Add(3 * time.Hour).Format(time.RFC3339), "externalId": "DA-517-1"}})
	hearingID := dig(h, "postHearing", "id").(string)

	// The office shares the case with the advocacy organisation; the coordinator registers and
	// links the victim, who attends.
	shareCase(t, s.url, pros, caseID, "Harbor Advocacy")
	v := mustGQL(t, s.url, coord, `mutation { registerVictim(input: {pseudonym: "V-517", legalName: "Scenario Legalname", preferredLanguage: "es"}) { id } }`, nil)
	victimID := dig(v, "registerVictim", "id").(string)
	mustGQL(t, s.url, coord, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
		map[string]any{"c": caseID, "v": victimID})

	// The coordinator subscribes to the hearing's schedule changes.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changes := subscribe(ctx, t, s.url, coord, hearingID)

	// ... assigns the advocate and requests an interpreter.
	advID := dig(mustGQL(t, s.url, adv, `{ me { id } }`, nil), "me", "id")
	a := mustGQL(t, s.url, coord, `mutation($h: ID!, $v: ID!, $a: ID!) { assignAdvocate(hearingId: $h, victimId: $v, advocateId: $a) { status advocate { username } } }`,
		map[string]any{"h": hearingID, "v": victimID, "a": advID})
	if dig(a, "assignAdvocate", "advocate", "username") != "adv" {
		t.Fatalf("assign: %v", a)
	}
	b := mustGQL(t, s.url, coord, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "es", minimumTier: CERTIFIED) { id status interpreter { name } } }`,
		map[string]any{"h": hearingID})
	if dig(b, "requestInterpreter", "status") != "OFFERED" || dig(b, "requestInterpreter", "interpreter", "name") != "interp" {
		t.Fatalf("request interpreter: %v", b)
	}

	// The interpreter finds the offer, sees what it needs and no victim, and accepts.
	offers := mustGQL(t, s.url, interp, `{ bookings(status: OFFERED) { id language hearing { startsAt kind case { docket victims { attends } } } } }`, nil)
	list := dig(offers, "bookings").([]any)
	if len(list) != 1 || dig(list[0], "hearing", "case", "docket") != "26-CR-00517" || len(dig(list[0], "hearing", "case", "victims").([]any)) != 0 {
		t.Fatalf("interpreter's offers: %v", offers)
	}
	if raw, _ := json.Marshal(offers); strings.Contains(string(raw), "V-517") || strings.Contains(string(raw), "Legalname") {
		t.Fatalf("the interpreter sees the victim: %s", raw)
	}
	accepted := mustGQL(t, s.url, interp, `mutation($b: ID!) { respondToBooking(bookingId: $b, accept: true) { status } }`,
		map[string]any{"b": dig(list[0], "id")})
	if dig(accepted, "respondToBooking", "status") != "ACCEPTED" {
		t.Fatalf("accept: %v", accepted)
	}

	// The prosecutor continues the hearing; the subscriber receives the change.
	moved := starts.Add(7 * 24 * time.Hour)
	var got map[string]any
	for seq := 1; got == nil; seq++ {
		if seq > 20 {
			t.Fatal("the subscriber received no change")
		}
		at := moved.Add(time.Duration(seq) * time.Hour)
		mustGQL(t, s.url, pros, reschedule, map[string]any{"id": hearingID, "s": at.Format(time.RFC3339), "e": at.Add(3 * time.Hour).Format(time.RFC3339)})
		got = nextChange(changes, 2*time.Second)
	}
	if dig(got, "hearing", "id") != hearingID || dig(got, "change", "by") != "pros" || dig(got, "change", "reason") != "judge unavailable" ||
		dig(got, "hearing", "status") != "CONTINUED" || dig(got, "change", "toStartsAt") != dig(got, "hearing", "startsAt") {
		t.Fatalf("change received: %v", got)
	}
	// Afterwards the coordinator's view shows the whole picture: the continuance asks the
	// interpreter to reconfirm the accepted booking (docs/coordination.md).
	view := mustGQL(t, s.url, coord, `query($h: ID!) { hearing(id: $h) { status sequence bookings { status interpreter { name } }
		accompaniments { status advocate { username } victim { pseudonym legalName } } history { reason } } }`, map[string]any{"h": hearingID})
	if dig(view, "hearing", "status") != "CONTINUED" || dig(view, "hearing", "bookings").([]any)[0].(map[string]any)["status"] != "NEEDS_RECONFIRMATION" ||
		dig(view, "hearing", "accompaniments").([]any)[0].(map[string]any)["victim"].(map[string]any)["legalName"] != "Scenario Legalname" {
		t.Fatalf("coordinator's view: %v", view)
	}
	mustGQL(t, s.url, coord, `mutation { logout }`, nil)
	if _, errs := gql(t, s.url, coord, `{ me { id } }`, nil); len(errs) == 0 || dig(errs[0], "extensions", "code") != "UNAUTHENTICATED" {
		t.Fatalf("after logout: %v", errs)
	}
}

// subscribe opens a graphql-transport-ws connection and subscribes to a hearing's schedule
// changes; each received ScheduleChange arrives on the returned channel.
func subscribe(ctx context.Context, t *testing.T, base, token, hearingID string) <-chan map[string]any {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}})
	var ack struct{ Type string }
	if _, b, err := c.Read(ctx); err != nil || json.Unmarshal(b, &ack) != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %v %s", err, b)
	}
	send(map[string]any{"id": "s1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription($h: ID) { scheduleChanged(hearingId: $h) {
			hearing { id status sequence startsAt } change { by reason sequence toStartsAt } } }`,
		"variables": map[string]any{"h": hearingID}}})
	out := make(chan map[string]any, 16)
	go func() {
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			var m struct {
				Type    string
				Payload struct {
					Data struct{ ScheduleChanged map[string]any }
				}
			}
			if json.Unmarshal(b, &m) == nil && m.Type == "next" {
				out <- m.Payload.Data.ScheduleChanged
			}
		}
	}()
	return out
}

// nextChange returns the next change that is not the hearing's posting (the live feed may
// deliver that after the subscription began), or nil after wait.
func nextChange(changes <-chan map[string]any, wait time.Duration) map[string]any {
	timeout := time.After(wait)
	for {
		select {
		case c := <-changes:
			if dig(c, "change", "reason") != "scheduled" {
				return c
			}
		case <-timeout:
			return nil
		}
	}
}
