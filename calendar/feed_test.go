package calendar_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// feedWorld is the calendar world with a feed server in front of the same database, and a feed
// token for the prosecutor and one for the advocate.
type feedWorld struct {
	*world
	url  string        // the feed server's base URL
	logs *bytes.Buffer // everything the feed handler logged

	prosFeed, advFeed     string // secrets
	prosFeedID, advFeedID int64
}

func newFeedWorld(t *testing.T) *feedWorld {
	t.Helper()
	w := newWorld(t)
	f := &feedWorld{world: w, logs: &bytes.Buffer{}}
	f.url = httpServer(t, calendar.NewFeedHandler(calendar.FeedConfig{Tokens: storage.NewTokenService(w.db), Calendars: storage.NewCalendarService(w.db), Now: w.now.Now,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}))
	tok, secret, err := storage.NewTokenService(w.db).CreateToken(w.as(w.prosecutor), w.prosecutor.ID, courtside.TokenFeed, "google")
	w.must(err)
	f.prosFeed, f.prosFeedID = secret, tok.ID
	tok, secret, err = storage.NewTokenService(w.db).CreateToken(w.as(w.advocate), w.advocate.ID, courtside.TokenFeed, "outlook")
	w.must(err)
	f.advFeed, f.advFeedID = secret, tok.ID
	return f
}

// get sends method to the feed path of secret with the given headers.
func (f *feedWorld) get(method, path string, header ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, string(b)
}

// feed GETs the feed of secret and fails unless it is 200.
func (f *feedWorld) feed(secret string) (*http.Response, string) {
	f.t.Helper()
	resp, body := f.get(http.MethodGet, calendar.FeedPath(secret))
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("GET feed: %s: %s", resp.Status, body)
	}
	return resp, body
}

var uidRE = regexp.MustCompile(`(?m)^UID:(\S+)\r$`)

// feedUIDs returns the UIDs of a feed's events, in order.
func feedUIDs(body string) []string {
	var out []string
	for _, m := range uidRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// vevents returns the VEVENT blocks of an iCalendar text, keyed by UID.
func vevents(t *testing.T, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, part := range strings.Split(body, "BEGIN:VEVENT\r\n")[1:] {
		block, _, ok := strings.Cut(part, "END:VEVENT\r\n")
		if !ok {
			t.Fatalf("unterminated VEVENT in %q", body)
		}
		m := uidRE.FindStringSubmatch(block)
		if m == nil {
			t.Fatalf("VEVENT without UID: %q", block)
		}
		out[m[1]] = block
	}
	return out
}

func TestFeed_ContentAndHeaders(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	resp, body := f.feed(f.prosFeed)

	for k, want := range map[string]string{
		"Content-Type":  "text/calendar; charset=utf-8",
		"Cache-Control": "private, no-cache",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if etag := resp.Header.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Errorf("ETag = %q, want a strong entity tag", etag)
	}
	if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\r") {
		t.Errorf("body has bare LF or CR line endings:\n%q", body)
	}
	if !strings.HasPrefix(body, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(body, "END:VCALENDAR\r\n") ||
		strings.Count(body, "BEGIN:VCALENDAR") != 1 {
		t.Errorf("not one VCALENDAR:\n%s", body)
	}
	for _, line := range []string{"VERSION:2.0", "PRODID:" + calendar.DefaultProdID, "METHOD:PUBLISH",
		"X-WR-CALNAME:Courtside hearings", "REFRESH-INTERVAL;VALUE=DURATION:PT1H", "X-PUBLISHED-TTL:PT1H", "CALSCALE:GREGORIAN"} {
		if !strings.Contains(body, "\r\n"+line+"\r\n") {
			t.Errorf("body lacks %q:\n%s", line, body)
		}
	}
	want := []string{calendar.UID(f.h1.ID), calendar.UID(f.h2.ID), calendar.UID(f.h3.ID)}
	if got := feedUIDs(body); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("UIDs = %q, want %q", got, want)
	}

	// Each event is exactly the VEVENT of the hearing's CalDAV object.
	events := vevents(t, body)
	for _, h := range []*courtside.Hearing{f.h1, f.h2, f.h3} {
		ch, err := storage.NewCalendarService(f.db).FindCalendarHearing(f.as(f.prosecutor), f.prosecutor.ID, h.ID)
		f.must(err)
		obj, err := calendar.RenderHearing(ch, calendar.DefaultProdID)
		f.must(err)
		if got, want := events[calendar.UID(h.ID)], vevents(t, string(obj))[calendar.UID(h.ID)]; got != want {
			t.Errorf("hearing %d: feed VEVENT\n%s\nCalDAV VEVENT\n%s", h.ID, got, want)
		}
	}

	// The advocate's feed holds the hearings they accompany: by docket number, without the
	// pseudonym that their CalDAV calendar shows.
	resp, adv := f.feed(f.advFeed)
	want = []string{calendar.UID(f.h1.ID), calendar.UID(f.h2.ID)}
	if got := feedUIDs(adv); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("advocate's UIDs = %q, want %q", got, want)
	}
	if !strings.Contains(adv, docketNumber) {
		t.Errorf("advocate's feed lacks the docket number:\n%s", adv)
	}
	_, dav := f.do(request{method: "GET", path: calendar.HearingPath("adv", f.h1.ID), user: f.advocate})
	if !strings.Contains(dav, pseudonym) {
		t.Fatalf("the CalDAV object should name the pseudonym (or this test checks nothing):\n%s", dav)
	}

	// HEAD answers the same headers without a body.
	head, hb := f.get(http.MethodHead, calendar.FeedPath(f.advFeed))
	if head.StatusCode != http.StatusOK || hb != "" || head.Header.Get("ETag") != resp.Header.Get("ETag") ||
		head.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
		t.Errorf("HEAD: %s %q, headers %v", head.Status, hb, head.Header)
	}
	// The same data renders the same bytes.
	if _, again := f.feed(f.advFeed); again != adv {
		t.Error("the feed is not deterministic")
	}
	if strings.Contains(f.logs.String(), f.prosFeed) || strings.Contains(f.logs.String(), f.advFeed) {
		t.Errorf("the handler logged a secret: %s", f.logs)
	}
}

// TestFeed_NoVictimData checks security.md item 6 on every feed: no legal name, contact point or
// pseudonym.
func TestFeed_NoVictimData(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	for _, secret := range []string{f.prosFeed, f.advFeed} {
		_, body := f.feed(secret)
		for _, s := range []string{legalName, "Legalname", victimEmail, victimPhone, "5555550123", pseudonym, accountPass} {
			if strings.Contains(body, s) {
				t.Errorf("feed contains %q:\n%s", s, body)
			}
		}
	}
}

func TestFeed_NotModified(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	resp, _ := f.feed(f.prosFeed)
	etag := resp.Header.Get("ETag")

	for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
		resp, body := f.get(http.MethodGet, calendar.FeedPath(f.prosFeed), "If-None-Match", inm)
		if resp.StatusCode != http.StatusNotModified || body != "" || resp.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %s %q ETag %q", inm, resp.Status, body, resp.Header.Get("ETag"))
		}
	}
	if resp, _ := f.get(http.MethodGet, calendar.FeedPath(f.prosFeed), "If-None-Match", `"stale"`); resp.StatusCode != http.StatusOK {
		t.Errorf("stale If-None-Match: %s", resp.Status)
	}

	// A change makes a new body, a new ETag and a higher SEQUENCE under the same UID.
	room := "7A"
	moved, err := storage.NewHearingService(f.db).RescheduleHearing(f.as(f.prosecutor), f.h1.ID, courtside.HearingUpdate{StartsAt: f.h1.StartsAt.Add(time.Hour),
		EndsAt: f.h1.EndsAt.Add(time.Hour), Courtroom: &room, Reason: "judge's calendar"})
	f.must(err)
	if moved.Sequence <= f.h1.Sequence {
		t.Fatalf("sequence %d after %d", moved.Sequence, f.h1.Sequence)
	}
	resp, body := f.get(http.MethodGet, calendar.FeedPath(f.prosFeed), "If-None-Match", etag)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Fatalf("after a change: %s, ETag %q (was %q)", resp.Status, resp.Header.Get("ETag"), etag)
	}
	ev := vevents(t, body)[calendar.UID(f.h1.ID)]
	if !strings.Contains(ev, "\r\nSEQUENCE:"+strconv.Itoa(moved.Sequence)+"\r\n") || !strings.Contains(ev, "Courtroom 7A") {
		t.Errorf("changed event:\n%s", ev)
	}
}

// TestFeed_NotFound checks that every secret that is not a live feed token, and every other
// path, gets the same 404, and that revocation takes effect at once.
func TestFeed_NotFound(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	_, unknownBody := f.get(http.MethodGet, calendar.FeedPath("cs_feed_"+strings.Repeat("A", 43)))

	_, apiSecret, err := storage.NewTokenService(f.db).CreateToken(f.as(f.prosecutor), f.prosecutor.ID, courtside.TokenAPI, "script")
	f.must(err)
	f.feed(f.advFeed) // live before revocation
	f.must(storage.NewTokenService(f.db).RevokeToken(f.as(f.advocate), f.advFeedID))

	for _, tc := range []struct{ name, path string }{
		{"unknown", calendar.FeedPath("cs_feed_" + strings.Repeat("A", 43))},
		{"revoked", calendar.FeedPath(f.advFeed)},
		{"api token", calendar.FeedPath(apiSecret)},
		{"app password", calendar.FeedPath(f.secrets["pros"])},
		{"account password", calendar.FeedPath(accountPass)},
		{"no suffix", "/feeds/" + f.prosFeed},
		{"other suffix", "/feeds/" + f.prosFeed + ".ics.txt"},
		{"empty", "/feeds/.ics"},
		{"nested", "/feeds/x/" + f.prosFeed + ".ics"},
		{"root", "/feeds/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.get(http.MethodGet, tc.path)
			if resp.StatusCode != http.StatusNotFound || body != unknownBody || resp.Header.Get("ETag") != "" ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || len(body) > 100 {
				t.Errorf("%s: %s %q %v", tc.path, resp.Status, body, resp.Header)
			}
		})
	}
	if strings.Contains(f.logs.String(), f.advFeed) || strings.Contains(f.logs.String(), apiSecret) {
		t.Errorf("the handler logged a secret: %s", f.logs)
	}
}

func TestFeed_Methods(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, "PROPFIND", "REPORT", http.MethodOptions} {
		resp, body := f.get(m, calendar.FeedPath(f.prosFeed))
		if resp.StatusCode != http.StatusMethodNotAllowed || strings.Contains(body, "VCALENDAR") {
			t.Errorf("%s: %s %q", m, resp.Status, body)
		}
	}
}

// TestFeed_Cancelled checks that a cancelled hearing stays in the feed, STATUS:CANCELLED with
// a higher SEQUENCE, for 30 days after its cancellation, and is then dropped.
func TestFeed_Cancelled(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	cancelledAt := f.now.Now()
	c, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.h2.ID, "Defendant pleaded.", nil)
	f.must(err)

	for _, tc := range []struct {
		name    string
		after   time.Duration
		present bool
	}{
		{"at once", 0, true},
		{"29 days", 29 * 24 * time.Hour, true},
		{"just under 30 days", 30*24*time.Hour - time.Second, true},
		{"30 days", 30 * 24 * time.Hour, false},
		{"31 days", 31 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.now.Set(cancelledAt.Add(tc.after))
			_, body := f.feed(f.prosFeed)
			ev, ok := vevents(t, body)[calendar.UID(f.h2.ID)]
			if ok != tc.present {
				t.Fatalf("present = %v, want %v:\n%s", ok, tc.present, body)
			}
			if ok && (!strings.Contains(ev, "\r\nSTATUS:CANCELLED\r\n") || !strings.Contains(ev, "\r\nSEQUENCE:"+strconv.Itoa(c.Sequence)+"\r\n") ||
				c.Sequence <= f.h2.Sequence) {
				t.Errorf("cancelled event (sequence %d, was %d):\n%s", c.Sequence, f.h2.Sequence, ev)
			}
			// The other hearings are not affected.
			if _, ok := vevents(t, body)[calendar.UID(f.h3.ID)]; !ok {
				t.Errorf("hearing 3 missing:\n%s", body)
			}
		})
	}
}

// TestFeed_Window checks the default window: hearings that ended more than 30 days ago, or that
// start more than a year ahead, are not in the feed.
func TestFeed_Window(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	back, ahead := 30*24*time.Hour, 365*24*time.Hour
	for _, tc := range []struct {
		name string
		now  time.Time
		want []*courtside.Hearing
	}{
		{"all", f.now.Now(), []*courtside.Hearing{f.h1, f.h2, f.h3}},
		{"first ended just under 30 days ago", f.h1.EndsAt.Add(back - time.Second), []*courtside.Hearing{f.h1, f.h2, f.h3}},
		{"first ended 30 days ago", f.h1.EndsAt.Add(back), []*courtside.Hearing{f.h2, f.h3}},
		{"all ended long ago", f.h3.EndsAt.Add(back), nil},
		{"last starts just under a year ahead", f.h3.StartsAt.Add(-ahead + time.Second), []*courtside.Hearing{f.h1, f.h2, f.h3}},
		{"last starts a year ahead", f.h3.StartsAt.Add(-ahead), []*courtside.Hearing{f.h1, f.h2}},
		{"all more than a year ahead", f.h1.StartsAt.Add(-ahead), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.now.Set(tc.now)
			_, body := f.feed(f.prosFeed)
			var want []string
			for _, h := range tc.want {
				want = append(want, calendar.UID(h.ID))
			}
			if got := feedUIDs(body); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("UIDs = %q, want %q", got, want)
			}
			if !strings.Contains(body, "METHOD:PUBLISH") {
				t.Errorf("an empty feed is still a calendar:\n%s", body)
			}
		})
	}
}

// parsedFeed is what the parser scripts under testdata/ print.
type parsedFeed struct {
	Name    string   `json:"name"`
	Method  string   `json:"method"`
	Calname string   `json:"calname"`
	Refresh string   `json:"refresh"`
	TTL     string   `json:"ttl"`
	Errors  []string `json:"errors"`
	Events  []struct {
		UID      string `json:"uid"`
		Sequence int    `json:"sequence"`
		Status   string `json:"status"`
		Summary  string `json:"summary"`
		Start    string `json:"start"`
		End      string `json:"end"`
	} `json:"events"`
}

// checkParsed compares what a real iCalendar parser read with the prosecutor's feed after h2
// was cancelled.
func (f *feedWorld) checkParsed(t *testing.T, out []byte, refresh string, times func(time.Time) string) {
	t.Helper()
	var got parsedFeed
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.EqualFold(got.Name, "VCALENDAR") || got.Method != "PUBLISH" || got.Calname != "Courtside hearings" ||
		got.Refresh != refresh || got.TTL != "PT1H" || len(got.Errors) > 0 {
		t.Errorf("calendar = %+v", got)
	}
	if len(got.Events) != 3 {
		t.Fatalf("events = %+v", got.Events)
	}
	for i, h := range []*courtside.Hearing{f.h1, f.h2, f.h3} {
		cur, err := storage.NewCalendarService(f.db).FindCalendarHearing(f.as(f.prosecutor), f.prosecutor.ID, h.ID)
		f.must(err)
		ev, status := got.Events[i], "CONFIRMED"
		if h == f.h2 {
			status = "CANCELLED"
		}
		if ev.UID != calendar.UID(h.ID) || ev.Sequence != cur.Hearing.Sequence || ev.Status != status ||
			ev.Start != times(h.StartsAt) || ev.End != times(h.EndsAt) || !strings.Contains(ev.Summary, docketNumber) {
			t.Errorf("event %d = %+v, hearing %+v", i, ev, cur.Hearing)
		}
	}
}

// cancelledFeed cancels h2 and returns the prosecutor's feed.
func (f *feedWorld) cancelledFeed() string {
	f.t.Helper()
	_, err := storage.NewHearingService(f.db).CancelHearing(f.as(f.prosecutor), f.h2.ID, "Defendant pleaded.", nil)
	f.must(err)
	_, body := f.feed(f.prosFeed)
	return body
}

// TestFeed_PythonIcalendar parses the feed with Debian's python3-icalendar.
func TestFeed_PythonIcalendar(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import icalendar").Run(); err != nil {
		t.Fatalf("python3-icalendar is not installed (%v): run `make test`, which installs it", err)
	}
	t.Parallel()
	f := newFeedWorld(t)
	cmd := exec.Command(py, filepath.Join("testdata", "python_icalendar.py"))
	cmd.Stdin = strings.NewReader(f.cancelledFeed())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	f.checkParsed(t, out, "PT1H", func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") })
}

// nodeICalDir holds the npm ical.js parser's package.json, its lockfile and parse.mjs.
var nodeICalDir = filepath.Join("testdata", "node-ical")

// TestFeed_ICalJS parses the feed with the npm ical.js parser (Mozilla's, as in Thunderbird).
// It fails, never skips, when Node or the npm packages are missing: `make test` installs them.
func TestFeed_ICalJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: it runs the npm ical.js parser. Install Node.js 20 or later, then run `make test`.")
	}
	if _, err := os.Stat(filepath.Join(nodeICalDir, "node_modules", "ical.js", "package.json")); err != nil {
		t.Fatalf("calendar/testdata/node-ical/node_modules is missing: run `make test`, whose deps target runs `npm ci --prefix calendar/testdata/node-ical` (%v)", err)
	}
	t.Parallel()
	f := newFeedWorld(t)
	cmd := exec.Command(node, "parse.mjs")
	cmd.Dir = nodeICalDir
	cmd.Stdin = strings.NewReader(f.cancelledFeed())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	f.checkParsed(t, out, "PT1H", func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") })
}
