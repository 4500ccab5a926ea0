package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"courtside/storage/storagetest"
)

// killRounds is how many times TestKillPoints_AcknowledgedWritesSurvive kills the server.
const killRounds = 15

// ackedHearing is what the clients were told about one hearing.
type ackedHearing struct {
	id       string
	sequence int       // the last acknowledged sequence
	startsAt time.Time // the last acknowledged start
	// pending is true when the last request about the hearing got no answer: it may have
	// committed (one more change) or not.
	pending bool
}

// loadClient is one client of the write load: it posts hearings and reschedules its own ones,
// one request at a time, and records every acknowledged answer.
type loadClient struct {
	name     string
	caseID   string
	token    string
	rng      *rand.Rand
	http     *http.Client
	n        int
	hearings []*ackedHearing
	acked    int
}

// try posts an operation and returns its data, or ok false when no answer (or an error) came.
func (c *loadClient) try(base, query string, vars map[string]any) (map[string]any, bool) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any   `json:"data"`
		Errors []map[string]any `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Errors) > 0 || resp.StatusCode != http.StatusOK {
		return nil, false
	}
	return out.Data, true
}

// step sends one write: a new hearing, or a move of one of its hearings by an hour.
func (c *loadClient) step(base string) {
	if len(c.hearings) < 3 || c.rng.IntN(3) == 0 {
		c.n++
		ext := fmt.Sprintf("KILL-%s-%04d", c.name, c.n)
		at := time.Date(2031, 3, 3, 9, 0, 0, 0, time.UTC).Add(time.Duration(c.n) * 24 * time.Hour)
		data, ok := c.try(base, postHearing, map[string]any{"in": map[string]any{"caseId": c.caseID, "kind": "STATUS",
			"startsAt": at.Format(time.RFC3339), "endsAt": at.Add(time.Hour).Format(time.RFC3339), "externalId": ext}})
		if !ok {
			return // it may or may not exist: the final check covers every stored hearing
		}
		seq, _ := dig(data, "postHearing", "sequence").(float64)
		c.hearings = append(c.hearings, &ackedHearing{id: dig(data, "postHearing", "id").(string), sequence: int(seq), startsAt: at})
		c.acked++
		return
	}
	h := c.hearings[c.rng.IntN(len(c.hearings))]
	if h.pending {
		return // the next round's first move of it tells whether the lost one committed
	}
	at := h.startsAt.Add(time.Hour)
	data, ok := c.try(base, reschedule, map[string]any{"id": h.id, "s": at.Format(time.RFC3339), "e": at.Add(time.Hour).Format(time.RFC3339)})
	if !ok {
		h.pending = true
		return
	}
	seq, _ := dig(data, "rescheduleHearing", "sequence").(float64)
	started, _ := time.Parse(time.RFC3339, dig(data, "rescheduleHearing", "startsAt").(string))
	h.sequence, h.startsAt, h.pending = int(seq), started, false
	c.acked++
}

// resolve reads back the hearings whose last request got no answer, through the API, so that
// the next moves start from what is stored.
func (c *loadClient) resolve(base string) error {
	for _, h := range c.hearings {
		if !h.pending {
			continue
		}
		data, ok := c.try(base, `query($id: ID!) { hearing(id: $id) { sequence startsAt } }`, map[string]any{"id": h.id})
		if !ok {
			return fmt.Errorf("hearing %s: no answer from the restarted server", h.id)
		}
		seq, _ := dig(data, "hearing", "sequence").(float64)
		started, _ := time.Parse(time.RFC3339, dig(data, "hearing", "startsAt").(string))
		if int(seq) != h.sequence && int(seq) != h.sequence+1 {
			return fmt.Errorf("hearing %s: sequence %d after acknowledged %d and one lost request", h.id, int(seq), h.sequence)
		}
		h.sequence, h.startsAt, h.pending = int(seq), started, false
	}
	return nil
}

// TestKillPoints_AcknowledgedWritesSurvive runs a write load (posting and rescheduling hearings
// over GraphQL, two clients) and SIGKILLs the server at seeded random moments, 15 times,
// restarting it on the same database each time. Afterwards: integrity_check is ok,
// foreign_key_check is empty, every acknowledged write is there with its acknowledged sequence
// and start, `courtside audit verify` passes, and every hearing has exactly one change row,
// audit row and event per sequence number. COURTSIDE_KILL_SEED replays a seed.
func TestKillPoints_AcknowledgedWritesSurvive(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("COURTSIDE_KILL_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("COURTSIDE_KILL_SEED: %v", err)
		}
	}
	t.Logf("kill seed %d (COURTSIDE_KILL_SEED=%d replays the kill moments)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	w := newWorld(t)
	s := startServer(t, w.db)
	court := mustGQL(t, s.url, w.admin, `mutation { createCourt(input: {name: "Main Courthouse", timeZone: "America/New_York"}) { id } }`, nil)
	kase := mustGQL(t, s.url, w.prosecutor, `mutation($c: ID!) { openCase(input: {docket: "26-CR-07777", courtId: $c}) { id } }`,
		map[string]any{"c": dig(court, "createCourt", "id")})
	caseID := dig(kase, "openCase", "id").(string)
	clients := []*loadClient{}
	for i, name := range []string{"a", "b"} {
		clients = append(clients, &loadClient{name: name, caseID: caseID, token: w.prosecutor,
			rng: rand.New(rand.NewPCG(seed, uint64(i+2))), http: &http.Client{Timeout: 20 * time.Second}})
	}

	for round := 0; round < killRounds; round++ {
		if round > 0 {
			s = startServer(t, w.db)
		}
		for _, c := range clients {
			if err := c.resolve(s.url); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		delay := time.Duration(50+rng.IntN(1100)) * time.Millisecond
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						c.step(s.url)
					}
				}
			}()
		}
		time.Sleep(delay)
		if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.cmd.Wait()
		close(stop)
		wg.Wait()
		t.Logf("round %d: killed after %v; acknowledged so far: %d + %d writes", round, delay, clients[0].acked, clients[1].acked)
	}

	db, err := openRaw(t, w.db, "file:"+w.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	ok = "ok"
	if err := sqliteIntegrity(db, &ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	// PostgreSQL checks foreign keys at every write; SQLite's are checked here too.
	if !storagetest.Postgres() {
		rows, err := db.Query(`PRAGMA foreign_key_check`)
		if err != nil {
			t.Fatal(err)
		}
		if rows.Next() {
			t.Fatal("foreign_key_check found violations")
		}
		rows.Close()
	}

	acked := 0
	for _, c := range clients {
		for _, h := range c.hearings {
			var seq int
			var starts string
			if err := db.QueryRow(`SELECT sequence, starts_at FROM hearings WHERE id = ?`, h.id).Scan(&seq, &starts); err != nil {
				t.Fatalf("acknowledged hearing %s: %v", h.id, err)
			}
			if h.pending && seq == h.sequence+1 {
				continue // the last, unanswered move committed
			}
			if seq != h.sequence || starts != h.startsAt.UTC().Format("2006-01-02T15:04:05.000Z") {
				t.Fatalf("hearing %s: stored sequence %d at %s, acknowledged %d at %s", h.id, seq, starts, h.sequence, h.startsAt)
			}
			acked++
		}
	}
	if acked < 10 {
		t.Fatalf("only %d hearings acknowledged: the load did not run", acked)
	}
	// Every hearing, acknowledged or not, has one change row, one audit row and one event per
	// version: no change without its events, no event without its change.
	var broken int
	if err := db.QueryRow(`SELECT COUNT(*) FROM hearings h WHERE
		(SELECT COUNT(*) FROM hearing_changes c WHERE c.hearing_id = h.id) <> h.sequence + 1
		OR (SELECT COUNT(*) FROM audit_log a WHERE a.object = 'hearing:' || h.id AND a.action IN ('hearing.post', 'hearing.reschedule')) <> h.sequence + 1
		OR (SELECT COUNT(*) FROM events e WHERE ` + jsonField("e.payload", "hearingId") + ` = CAST(h.id AS TEXT)
			AND ` + jsonField("e.payload", "type") + ` IN ('hearing.scheduled', 'hearing.changed')) <> h.sequence + 1`).Scan(&broken); err != nil {
		t.Fatal(err)
	}
	if broken != 0 {
		t.Fatalf("%d hearings whose change rows, audit rows or events do not match their sequence", broken)
	}
	out := cli(t, "", "audit", "verify", "--db", w.db)
	t.Logf("%s", out)
}
