package main_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"courtside/calendar"
	"courtside/storage/pgtest"
)

// front is one address before several instances, as a load balancer: each request goes to
// the next instance in turn, and to the one after when an instance does not answer.
type front struct {
	backends []string
	next     atomic.Int64
}

// ServeHTTP forwards r to an instance that answers.
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	start := int(f.next.Add(1))
	for i := range f.backends {
		base := f.backends[(start+i)%len(f.backends)]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			continue // that instance is gone: the next one
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
		return
	}
	http.Error(w, "no instance answers", http.StatusBadGateway)
}

// TestEndToEnd_PostgresTwoInstances runs two `courtside serve` on one PostgreSQL database
// behind one address. A hearing posted through one shows in the advocate's CalDAV calendar
// through the other, and its change reaches a GraphQL subscription on the other. Then a
// hearing of a case with 40 victims is posted through the address and one instance is
// SIGKILLed as its notices start to go out: the other delivers every notice (every victim
// gets hers), each under one idempotency key, and no message goes out under a key the
// database does not hold.
func TestEndToEnd_PostgresTwoInstances(t *testing.T) {
	t.Setenv("COURTSIDE_KEY", strings.Repeat("5a", 32))
	s := newSinks(t)
	w := noticeWorldAt(t, s, pgtest.URL(t))
	app := strings.TrimSpace(cli(t, "", "token", "create", "--db", w.db, "--username", "adv", "--kind", "app", "--label", "calendar"))
	a := startServerEnv(t, w.db, s.env)
	b := startServerEnv(t, w.db, s.env)
	f := &front{backends: []string{a.url, b.url}}
	addr := httptest.NewServer(f)
	t.Cleanup(addr.Close)

	// Posted through A, shown through B.
	starts := time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Hour)
	first := setUpHearing(t, a.url, w, starts)
	got := caldavProbe(t, b.url, "adv", app, "hearing-"+first+"@courtside", starts.Add(-24*time.Hour), starts.Add(24*time.Hour))
	if got["found"] != true || got["dtstart"] != starts.Format(time.RFC3339) {
		t.Fatalf("the hearing posted through one instance, in CalDAV through the other: %v", got)
	}
	// The calendar's ctag and sync token are the database's: both instances answer the same.
	ctag, token := calendarState(t, a.url, app)
	if c, tk := calendarState(t, b.url, app); c != ctag || tk != token {
		t.Fatalf("instance A answers ctag %q and sync token %q, instance B %q and %q", ctag, token, c, tk)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changes := subscribe(ctx, t, b.url, w.advocate, first)
	var change map[string]any
	for day := 1; change == nil; day++ {
		if day > 30 {
			t.Fatal("a change made through one instance never reached a subscription on the other")
		}
		moved := starts.Add(time.Duration(day) * 24 * time.Hour)
		mustGQL(t, a.url, w.prosecutor, reschedule, map[string]any{"id": first, "s": moved.Format(time.RFC3339), "e": moved.Add(time.Hour).Format(time.RFC3339)})
		change = nextChange(changes, 2*time.Second)
	}
	if dig(change, "hearing", "id") != first || dig(change, "change", "by") != "pros" {
		t.Fatalf("the change on the other instance: %v", change)
	}
	// After the change, made through A: both instances answer a new ctag and sync token, the
	// same, and B's sync from the token A gave before names the hearing that changed.
	newCtag, newToken := calendarState(t, a.url, app)
	if newCtag == ctag || newToken == token {
		t.Fatalf("the change left the ctag %q and sync token %q as they were", newCtag, newToken)
	}
	waitUntil(t, "instance B's ctag and sync token after the change", func() bool {
		c, tk := calendarState(t, b.url, app)
		return c == newCtag && tk == newToken
	})
	id, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	resp, synced := davAs(t, b.url, "adv", app, "REPORT", calendar.HearingsPath("adv"), "", "application/xml",
		`<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>`+token+
			`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`, nil)
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(synced, calendar.HearingPath("adv", id)) ||
		!strings.Contains(synced, newToken) {
		t.Fatalf("B's sync from A's token: %d\n%s", resp.StatusCode, synced)
	}

	// A case with 40 victims, each reachable by SMS, set up through the one address.
	court := mustGQL(t, addr.URL, w.admin, `mutation { createCourt(input: {name: "Eastern Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, addr.URL, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-04040", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	shareCase(t, addr.URL, w.prosecutor, caseID, "Harbor Advocacy")
	const victims = 40
	phones := map[string]bool{}
	for i := range victims {
		phone := fmt.Sprintf("+1202555%04d", 3000+i)
		phones[phone] = true
		v := mustGQL(t, addr.URL, w.coordinator, `mutation($in: RegisterVictimInput!) { registerVictim(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"pseudonym": fmt.Sprintf("V-4040-%02d", i), "preferredLanguage": "es",
			"contacts": []any{map[string]any{"channel": "SMS", "address": phone}}}})
		id := dig(v, "registerVictim", "id").(string)
		mustGQL(t, addr.URL, w.coordinator, `mutation($id: ID!, $in: ContactPolicyInput!) { setContactPolicy(victimId: $id, input: $in) { id } }`, map[string]any{
			"id": id, "in": map[string]any{"neutralSender": "Harbor Office", "channels": []any{
				map[string]any{"channel": "SMS", "allowed": true, "detail": "CONTENT_FREE", "confirmedSafe": true}}}})
		mustGQL(t, addr.URL, w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`,
			map[string]any{"c": caseID, "v": id})
	}

	// The hearing, through the address; A dies as the first notice of it arrives.
	before := len(s.sms.Messages())
	at := starts.Add(3 * 24 * time.Hour)
	h := mustGQL(t, addr.URL, w.prosecutor, postHearing, map[string]any{"in": map[string]any{"caseId": caseID, "kind": "MOTION",
		"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(time.Hour).Format(time.RFC3339), "courtroom": "2A", "externalId": "TWO-1"}})
	hearingID := dig(h, "postHearing", "id").(string)
	for deadline := time.Now().Add(60 * time.Second); len(s.sms.Messages()) == before; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no notice went out")
		}
	}
	a.cmd.Process.Kill()
	a.cmd.Wait()
	sentBeforeKill := len(s.sms.Messages()) - before

	// B delivers the rest: nothing pending, every victim told, through the address.
	db, err := openRaw(t, w.db, "")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var pending, told int
		if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT COUNT(DISTINCT victim_id) FROM deliveries WHERE hearing_id = ? AND kind = 'HEARING_SCHEDULED' AND status = 'SENT'`, hearingID).Scan(&told); err != nil {
			t.Fatal(err)
		}
		if pending == 0 && told == victims {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the kill: %d deliveries pending, %d of %d victims told", pending, told, victims)
		}
	}

	// What the database holds, by key, and what arrived.
	byKey := deliveriesByKey(t, db, "hearing_id = ?", hearingID)
	received := map[string]int{}
	phoneOf := map[string]string{}
	for _, m := range s.sms.Messages()[before:] {
		received[m.IdempotencyKey]++
		phoneOf[m.IdempotencyKey] = m.To
	}
	repeats := onceByKey(t, received, byKey)
	toldPhones := map[string]bool{}
	for k := range received {
		if r := byKey[k]; r.kind == "HEARING_SCHEDULED" && r.victim != 0 {
			toldPhones[phoneOf[k]] = true
		}
	}
	for phone := range phones {
		if !toldPhones[phone] {
			t.Errorf("the victim at %s never got the notice", phone)
		}
	}
	t.Logf("%d SMS before the kill, %d keys received, %d repeated under the same key", sentBeforeKill, len(received), repeats)

	// The address still answers, through B alone.
	mustGQL(t, addr.URL, w.prosecutor, reschedule, map[string]any{"id": hearingID, "s": at.Add(24 * time.Hour).Format(time.RFC3339),
		"e": at.Add(25 * time.Hour).Format(time.RFC3339)})
}

// calendarState returns the advocate's hearings calendar's CS:getctag and DAV:sync-token as the
// instance at base answers a PROPFIND for them.
func calendarState(t *testing.T, base, app string) (ctag, token string) {
	t.Helper()
	resp, body := davAs(t, base, "adv", app, "PROPFIND", calendar.HearingsPath("adv"), "0", "application/xml",
		`<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/">`+
			`<d:prop><cs:getctag/><d:sync-token/></d:prop></d:propfind>`, nil)
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("PROPFIND of the calendar's state: %d\n%s", resp.StatusCode, body)
	}
	text := func(name string) string {
		m := regexp.MustCompile(`<(?:\w+:)?` + name + `(?:\s[^>]*)?>([^<]+)</`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in:\n%s", name, body)
		}
		return m[1]
	}
	return text("getctag"), text("sync-token")
}
