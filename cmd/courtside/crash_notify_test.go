package main_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrash_NoticesExactlyOnceByKey is security.md requirement 18: while hearings are posted
// and rescheduled, the server is killed with SIGKILL at random moments dozens of times and
// restarted on the same database. Afterwards every acknowledged change has reached the victim,
// the advocate and the organisation's webhook under one idempotency key each (a crash between
// send and record may repeat a message, under the same key), no message went out under a key
// the database does not hold, and nothing reached a victim whose policy forbids it.
func TestCrash_NoticesExactlyOnceByKey(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2207))
	s := newSinks(t)
	w := noticeWorld(t, s)

	// Set-up, on a server that is not killed: a court and case, a reachable victim (SMS
	// without content, then the webhook) and an unreachable one (nothing allowed), both linked.
	srv := startServerEnv(t, w.db, s.env)
	court := mustGQL(t, srv.url, w.admin, `mutation { createCourt(input: {name: "Eastern Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, srv.url, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-03300", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	reachable := victimReachable(t, srv.url, w, "+12025550101")
	hidden := dig(mustGQL(t, srv.url, w.coordinator, `mutation { registerVictim(input: {pseudonym: "V-3300-H", preferredLanguage: "ru",
		contacts: [{channel: SMS, address: "+12025550189"}, {channel: EMAIL, address: "hidden.person@mail.test"}]}) { id } }`, nil), "registerVictim", "id").(string)
	shareCase(t, srv.url, w.prosecutor, caseID, "Harbor Advocacy")
	for _, v := range []string{reachable, hidden} {
		mustGQL(t, srv.url, w.coordinator, `mutation($c: ID!, $v: ID!) { linkVictim(caseId: $c, victimId: $v, attends: true) { id } }`, map[string]any{"c": caseID, "v": v})
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	// The load: post a hearing, reschedule one, over and over; each answer is an acknowledged write.
	type ack struct {
		hearing  string
		sequence int
	}
	var acked []ack
	var hearings []string
	base := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	client := &http.Client{Timeout: 5 * time.Second}
	mutate := func(url, query string, vars map[string]any) (map[string]any, bool) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+w.prosecutor)
		resp, err := client.Do(req)
		if err != nil {
			return nil, false
		}
		defer resp.Body.Close()
		var out struct {
			Data   map[string]any `json:"data"`
			Errors []any          `json:"errors"`
		}
		if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Errors) > 0 || out.Data == nil {
			return nil, false
		}
		return out.Data, true
	}
	kills := 0
	for round := 0; round < 25; round++ {
		srv := startServerEnv(t, w.db, s.env)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for n := 0; ; n++ {
				// A steady load, not a flood: the point is the kills, not the backlog.
				select {
				case <-stop:
					return
				case <-time.After(40 * time.Millisecond):
				}
				if n%2 == 0 || len(hearings) == 0 {
					at := base.Add(time.Duration(len(hearings)) * 3 * time.Hour)
					data, ok := mutate(srv.url, postHearing, map[string]any{"in": map[string]any{"caseId": caseID, "kind": "MOTION",
						"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(time.Hour).Format(time.RFC3339), "courtroom": "2A",
						"externalId": fmt.Sprintf("CRASH-%d-%d", round, n)}})
					if !ok {
						return
					}
					id := dig(data, "postHearing", "id").(string)
					hearings = append(hearings, id)
					acked = append(acked, ack{id, 0})
					continue
				}
				id := hearings[len(hearings)-1-n%min(len(hearings), 4)]
				at := base.Add(time.Duration(400+n) * time.Hour)
				data, ok := mutate(srv.url, reschedule, map[string]any{"id": id, "s": at.Format(time.RFC3339), "e": at.Add(time.Hour).Format(time.RFC3339)})
				if !ok {
					return
				}
				acked = append(acked, ack{id, int(dig(data, "rescheduleHearing", "sequence").(float64))})
			}
		}()
		time.Sleep(time.Duration(150+rng.IntN(900)) * time.Millisecond)
		srv.cmd.Process.Signal(syscall.SIGKILL)
		srv.cmd.Wait()
		close(stop)
		<-done
		kills++
	}
	t.Logf("%d kills, %d acknowledged writes, %d hearings", kills, len(acked), len(hearings))

	// Restart once more and let every delivery settle.
	srv = startServerEnv(t, w.db, s.env)
	db, err := openRaw(t, w.db, "file:"+w.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var pending, behind int
		if err := db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE status = 'PENDING'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT (SELECT MAX(id) FROM events) - COALESCE((SELECT last_id FROM event_offsets WHERE consumer_group = 'notice-planner'), 0)`).Scan(&behind); err != nil {
			t.Fatal(err)
		}
		if pending == 0 && behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d deliveries pending and the planner %d events behind", pending, behind)
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	var ok string
	ok = "ok"
	if err := sqliteIntegrity(db, &ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}

	// What the database says was sent, by key.
	byKey := deliveriesByKey(t, db, "1 = 1")

	// What the receivers got, by key.
	received := map[string]int{}
	var forbidden []string
	for _, m := range s.sms.Messages() {
		received[m.IdempotencyKey]++
		if m.To == "+12025550189" {
			forbidden = append(forbidden, "SMS "+m.IdempotencyKey)
		}
	}
	for _, m := range s.smtp.Messages() {
		key := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
		key = key[:strings.LastIndex(key, "@")]
		received[key]++
		if strings.Contains(strings.Join(m.To, ","), "mail.test") {
			forbidden = append(forbidden, "e-mail "+key)
		}
	}
	for _, d := range s.hook.Messages() {
		received[d.ID]++
	}
	if len(forbidden) > 0 {
		t.Errorf("messages reached addresses no policy allows: %v", forbidden)
	}
	repeats := onceByKey(t, received, byKey)
	for k, r := range byKey {
		if r.status == "SENT" && received[k] == 0 {
			t.Errorf("delivery %q (%s to %s) is SENT but never arrived", k, r.kind, r.audience)
		}
	}
	// Every acknowledged write was told to the reachable victim: the posting as
	// HEARING_SCHEDULED, each reschedule as HEARING_CHANGED at its sequence.
	told := map[string]bool{}
	for k := range received {
		r := byKey[k]
		if fmt.Sprint(r.victim) == reachable {
			told[fmt.Sprintf("%s h%d s%d", r.kind, r.hearing, r.sequence)] = true
			if r.kind == "HEARING_SCHEDULED" {
				told[fmt.Sprintf("HEARING_SCHEDULED h%d", r.hearing)] = true
			}
		}
	}
	missing := 0
	for _, a := range acked {
		want := fmt.Sprintf("HEARING_CHANGED h%s s%d", a.hearing, a.sequence)
		if a.sequence == 0 {
			want = "HEARING_SCHEDULED h" + a.hearing
		}
		if !told[want] {
			missing++
			if missing <= 5 {
				t.Errorf("acknowledged write %s never reached the victim", want)
			}
		}
	}
	// The unreachable victim's notices were all suppressed, and the coordinator told.
	var suppressed, toldCoordinator int
	db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE victim_id = ? AND status = 'SUPPRESSED'`, hidden).Scan(&suppressed)
	db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE kind = 'NOTICE_SUPPRESSED' AND status = 'SENT'`).Scan(&toldCoordinator)
	if suppressed == 0 || toldCoordinator == 0 {
		t.Errorf("unreachable victim: %d suppressed, %d NOTICE_SUPPRESSED sent", suppressed, toldCoordinator)
	}
	t.Logf("%d deliveries, %d keys received, %d repeated sends under the same key, %d missing", len(byKey), len(received), repeats, missing)
	if len(acked) < 20 {
		t.Errorf("only %d acknowledged writes: the load did not run", len(acked))
	}
}

// keyedDelivery is a delivery as the exactly-once checks read it.
type keyedDelivery struct {
	kind, channel, status, audience string
	hearing, victim, user           int64
	sequence                        int
}

// deliveriesByKey reads the deliveries that match where (a condition on the deliveries table,
// with args) by idempotency key.
func deliveriesByKey(t *testing.T, db *sql.DB, where string, args ...any) map[string]keyedDelivery {
	t.Helper()
	rows, err := db.Query(`SELECT idempotency_key, kind, channel, status, audience, COALESCE(hearing_id, 0), COALESCE(victim_id, 0),
		COALESCE(user_id, 0), sequence FROM deliveries WHERE `+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byKey := map[string]keyedDelivery{}
	for rows.Next() {
		var k string
		var r keyedDelivery
		if err := rows.Scan(&k, &r.kind, &r.channel, &r.status, &r.audience, &r.hearing, &r.victim, &r.user, &r.sequence); err != nil {
			t.Fatal(err)
		}
		byKey[k] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return byKey
}

// onceByKey checks what the receivers got (how many times each idempotency key arrived)
// against the deliveries: every key that arrived is a SENT delivery's, and each notice (kind,
// hearing, sequence and recipient) arrived under one key. It returns how many sends repeated
// a key, which a crash between send and record may do.
func onceByKey(t *testing.T, received map[string]int, byKey map[string]keyedDelivery) (repeats int) {
	t.Helper()
	perNotice := map[string][]string{}
	for k, n := range received {
		r, known := byKey[k]
		if !known {
			t.Errorf("a message arrived under key %q, which no delivery holds", k)
			continue
		}
		if r.status != "SENT" {
			t.Errorf("key %q arrived but its delivery is %s", k, r.status)
		}
		repeats += n - 1
		notice := fmt.Sprintf("%s h%d s%d v%d u%d", r.kind, r.hearing, r.sequence, r.victim, r.user)
		perNotice[notice] = append(perNotice[notice], k)
	}
	for notice, keys := range perNotice {
		if len(keys) > 1 {
			t.Errorf("notice %s arrived under %d keys: %v", notice, len(keys), keys)
		}
	}
	return repeats
}
