package calendar_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// nodeTsdavDir holds the npm tsdav client's package.json, its lockfile and sync.mjs.
var nodeTsdavDir = filepath.Join("testdata", "node-tsdav")

// tsdavObject is one calendar object as sync.mjs prints it: the path, ETag and data.
type tsdavObject struct {
	URL  string `json:"url"`
	ETag string `json:"etag"`
	Data string `json:"data"`
}

// tsdavRequest is one HTTP request tsdav sent, as sync.mjs recorded it.
type tsdavRequest struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Report    string `json:"report"`
	SyncToken string `json:"syncToken"`
}

// tsdavCalendar is one calendar as tsdav's fetchCalendars saw it.
type tsdavCalendar struct {
	URL        string   `json:"url"`
	CTag       string   `json:"ctag"`
	SyncToken  string   `json:"syncToken"`
	Reports    []string `json:"reports"`
	Components []string `json:"components"`
}

// tsdavStep is one JSON line of sync.mjs.
type tsdavStep struct {
	Step          string          `json:"step"`
	Error         string          `json:"error"`
	Calendars     []tsdavCalendar `json:"calendars"`
	PreviousToken string          `json:"previousToken"`
	SyncToken     string          `json:"syncToken"`
	Objects       []tsdavObject   `json:"objects"`
	Created       []tsdavObject   `json:"created"`
	Updated       []tsdavObject   `json:"updated"`
	Deleted       []tsdavObject   `json:"deleted"`
	Requests      []tsdavRequest  `json:"requests"`
}

// tsdavPeer is a running sync.mjs.
type tsdavPeer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr *bytes.Buffer
}

// startTsdav starts sync.mjs against the world's server as user and returns it once it has
// printed its first step.
func startTsdav(t *testing.T, w *world, node string, u *courtside.User) (*tsdavPeer, tsdavStep) {
	t.Helper()
	p := &tsdavPeer{t: t, stderr: &bytes.Buffer{}}
	p.cmd = exec.Command(node, "sync.mjs", w.srv.URL+"/", u.Username, w.secrets[u.Username])
	p.cmd.Dir = nodeTsdavDir
	p.cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stdin.Close()
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(make([]byte, 0, 64<<10), 4<<20)
	return p, p.next("listed")
}

// next reads the next step and fails unless it is want.
func (p *tsdavPeer) next(want string) tsdavStep {
	p.t.Helper()
	if !p.out.Scan() {
		p.t.Fatalf("tsdav ended before %q (%v): %s", want, p.out.Err(), p.stderr)
	}
	var s tsdavStep
	if err := json.Unmarshal(p.out.Bytes(), &s); err != nil {
		p.t.Fatalf("%v: %s", err, p.out.Bytes())
	}
	if s.Step != want {
		p.t.Fatalf("tsdav step %q, want %q: %s\n%s", s.Step, want, s.Error, p.stderr)
	}
	return s
}

// sync asks tsdav for one smartCollectionSync and returns what it reported.
func (p *tsdavPeer) sync() tsdavStep {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, "sync\n"); err != nil {
		p.t.Fatalf("%v: %s", err, p.stderr)
	}
	return p.next("synced")
}

// close ends the script and fails unless it exits cleanly.
func (p *tsdavPeer) close() {
	p.t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("tsdav: %v: %s", err, p.stderr)
	}
}

// syncReports returns the sync tokens of the sync-collection REPORTs of a step.
func syncReports(reqs []tsdavRequest, path string) []string {
	var tokens []string
	for _, r := range reqs {
		if r.Method == "REPORT" && r.Report == "sync-collection" && r.Path == path {
			tokens = append(tokens, r.SyncToken)
		}
	}
	return tokens
}

// objectURLs returns the URLs of objects, sorted.
func objectURLs(objs []tsdavObject) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.URL)
	}
	slices.Sort(out)
	return out
}

// TestTsdav drives the npm tsdav client, as a JavaScript calendar app uses it: it logs in with
// an app password through /.well-known/caldav, finds the hearings calendar, loads its objects,
// and then, after a reschedule and after a cancellation, runs smartCollectionSync from its
// sync token: each time exactly the hearing that changed comes back as updated, with the ETag
// GET serves. It fails, never skips, when Node or the npm packages are missing.
func TestTsdav(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: it runs the npm tsdav client. Install Node.js 20 or later, then run `make deps`.")
	}
	if _, err := os.Stat(filepath.Join(nodeTsdavDir, "node_modules", "tsdav", "package.json")); err != nil {
		t.Fatalf("calendar/testdata/node-tsdav/node_modules is missing: run `make deps`, which runs `npm ci --prefix calendar/testdata/node-tsdav` (%v)", err)
	}
	t.Parallel()
	w := newWorld(t)
	w.runProjection(t)
	hearings := calendar.HearingsPath("adv")
	h1Path, h2Path := calendar.HearingPath("adv", w.h1.ID), calendar.HearingPath("adv", w.h2.ID)

	p, listed := startTsdav(t, w, node, w.advocate)

	// Discovery went through the well-known URL, which redirected.
	discovered := false
	for _, r := range listed.Requests {
		if r.Path == calendar.WellKnownPath && r.Status >= 300 && r.Status < 400 {
			discovered = true
		}
		if r.Status == 401 || r.Status >= 500 {
			t.Errorf("tsdav got %d for %s %s", r.Status, r.Method, r.Path)
		}
	}
	if !discovered {
		t.Errorf("tsdav did not follow /.well-known/caldav: %+v", listed.Requests)
	}
	i := slices.IndexFunc(listed.Calendars, func(c tsdavCalendar) bool { return c.URL == hearings })
	if i < 0 {
		t.Fatalf("tsdav did not find %s among %+v", hearings, listed.Calendars)
	}
	if c := listed.Calendars[i]; c.SyncToken == "" || c.CTag == "" || !slices.Contains(c.Reports, "syncCollection") ||
		!slices.Contains(c.Components, "VEVENT") {
		t.Errorf("hearings calendar as tsdav sees it: %+v", c)
	}
	token := listed.Calendars[i].SyncToken
	if got := objectURLs(listed.Objects); !slices.Equal(got, []string{h1Path, h2Path}) {
		t.Fatalf("objects = %q, want %q and %q", got, h1Path, h2Path)
	}
	etags := map[string]string{}
	for _, o := range listed.Objects {
		etags[o.URL] = o.ETag
		if !strings.Contains(o.Data, "BEGIN:VEVENT") || strings.Contains(o.Data, legalName) {
			t.Errorf("object %s:\n%s", o.URL, o.Data)
		}
	}
	if etags[h1Path] != w.getETag(w.advocate, w.h1.ID) || etags[h2Path] != w.getETag(w.advocate, w.h2.ID) {
		t.Errorf("ETags = %q, GET serves %q and %q", etags, w.getETag(w.advocate, w.h1.ID), w.getETag(w.advocate, w.h2.ID))
	}

	// checkSync checks that a sync from token used sync-collection with that token, reported
	// exactly want as updated (nothing created or deleted), and moved the token on when something
	// changed.
	checkSync := func(name string, s tsdavStep, want []string) {
		t.Helper()
		if got := syncReports(s.Requests, hearings); len(got) != 1 || got[0] != token {
			t.Errorf("%s: sync-collection REPORTs with tokens %q, want one with %q: %+v", name, got, token, s.Requests)
		}
		if len(s.Created) > 0 || len(s.Deleted) > 0 {
			t.Errorf("%s: created %+v, deleted %+v", name, s.Created, s.Deleted)
		}
		if got := objectURLs(s.Updated); !slices.Equal(got, want) {
			t.Errorf("%s: updated %q, want %q", name, got, want)
		}
		if got := objectURLs(s.Objects); !slices.Equal(got, []string{h1Path, h2Path}) {
			t.Errorf("%s: local objects %q", name, got)
		}
		if s.SyncToken == "" || (len(want) > 0) == (s.SyncToken == token) {
			t.Errorf("%s: sync token %q after %q", name, s.SyncToken, token)
		}
		token = s.SyncToken
	}

	// Nothing changed: nothing comes back.
	checkSync("no change", p.sync(), nil)

	// A reschedule: exactly that hearing, with its new time and the ETag GET serves.
	newStart := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	if _, err := storage.NewHearingService(w.db).RescheduleHearing(w.as(w.prosecutor), w.h1.ID, courtside.HearingUpdate{StartsAt: newStart,
		EndsAt: newStart.Add(time.Hour), Reason: "courtroom unavailable"}); err != nil {
		t.Fatal(err)
	}
	w.projected(t)
	s := p.sync()
	checkSync("reschedule", s, []string{h1Path})
	if len(s.Updated) == 1 {
		u := s.Updated[0]
		if u.ETag != w.getETag(w.advocate, w.h1.ID) || u.ETag == etags[h1Path] || !strings.Contains(u.Data, "DTSTART:20261203T150000Z") ||
			!strings.Contains(u.Data, "SEQUENCE:1") {
			t.Errorf("rescheduled object (ETag was %q):\n%+v", etags[h1Path], u)
		}
	}

	// A cancellation: exactly that hearing, still there, STATUS:CANCELLED.
	if _, err := storage.NewHearingService(w.db).CancelHearing(w.as(w.prosecutor), w.h2.ID, "Defendant pleaded.", nil); err != nil {
		t.Fatal(err)
	}
	w.projected(t)
	s = p.sync()
	checkSync("cancellation", s, []string{h2Path})
	if len(s.Updated) == 1 {
		u := s.Updated[0]
		if u.ETag != w.getETag(w.advocate, w.h2.ID) || u.ETag == etags[h2Path] || !strings.Contains(u.Data, "STATUS:CANCELLED") ||
			!strings.Contains(u.Data, "UID:"+calendar.UID(w.h2.ID)) {
			t.Errorf("cancelled object (ETag was %q):\n%+v", etags[h2Path], u)
		}
	}
	p.close()
}
