package calendar_test

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside"
	"courtside/calendar"
	"courtside/storage"
)

// TestFeed_RevokedAtOnce checks that revoking a feed token takes effect on the very next
// request, whatever the method and even with the ETag the client cached, and that it revokes
// that one URL only: another feed token of the same user still serves the same calendar.
func TestFeed_RevokedAtOnce(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	_, other, err := storage.NewTokenService(f.db).CreateToken(f.as(f.advocate), f.advocate.ID, courtside.TokenFeed, "tablet")
	f.must(err)
	resp, body := f.feed(f.advFeed)
	etag := resp.Header.Get("ETag")
	if etag == "" || !strings.Contains(body, "BEGIN:VEVENT") {
		t.Fatalf("before revocation: ETag %q:\n%s", etag, body)
	}

	f.must(storage.NewTokenService(f.db).RevokeToken(f.as(f.advocate), f.advFeedID))
	for _, tc := range []struct {
		method string
		header []string
	}{
		{http.MethodGet, nil},
		{http.MethodHead, nil},
		{http.MethodGet, []string{"If-None-Match", etag}},
		{http.MethodHead, []string{"If-None-Match", etag}},
		{http.MethodGet, []string{"If-None-Match", "*"}},
	} {
		resp, body := f.get(tc.method, calendar.FeedPath(f.advFeed), tc.header...)
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("ETag") != "" || strings.Contains(body, "VCALENDAR") {
			t.Errorf("%s %v after revocation: %s, ETag %q, %q", tc.method, tc.header, resp.Status, resp.Header.Get("ETag"), body)
		}
	}

	resp, again := f.feed(other)
	if again != body || resp.Header.Get("ETag") != etag {
		t.Errorf("the other feed token's calendar differs (ETag %q, was %q):\n%s", resp.Header.Get("ETag"), etag, again)
	}
}

// TestFeed_Head checks HEAD: the headers of GET, Content-Length included, without a body; 304
// for a matching If-None-Match; 404 for a secret that is not a feed token.
func TestFeed_Head(t *testing.T) {
	t.Parallel()
	f := newFeedWorld(t)
	get, body := f.feed(f.prosFeed)
	head, hb := f.get(http.MethodHead, calendar.FeedPath(f.prosFeed))
	if head.StatusCode != http.StatusOK || hb != "" {
		t.Fatalf("HEAD: %s %q", head.Status, hb)
	}
	if got := head.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) || len(body) == 0 {
		t.Errorf("HEAD Content-Length = %q, GET body has %d bytes", got, len(body))
	}
	for _, k := range []string{"Content-Type", "Cache-Control", "ETag", "Content-Disposition", "X-Content-Type-Options"} {
		if head.Header.Get(k) == "" || head.Header.Get(k) != get.Header.Get(k) {
			t.Errorf("HEAD %s = %q, GET %q", k, head.Header.Get(k), get.Header.Get(k))
		}
	}
	if got := head.Header.Get("Content-Type"); got != "text/calendar; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}

	resp, rb := f.get(http.MethodHead, calendar.FeedPath(f.prosFeed), "If-None-Match", get.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified || rb != "" || resp.Header.Get("ETag") != get.Header.Get("ETag") {
		t.Errorf("HEAD with If-None-Match: %s %q, ETag %q", resp.Status, rb, resp.Header.Get("ETag"))
	}
	resp, _ = f.get(http.MethodHead, calendar.FeedPath(f.secrets["pros"]))
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("ETag") != "" {
		t.Errorf("HEAD with an app password as the secret: %s, ETag %q", resp.Status, resp.Header.Get("ETag"))
	}
}

// TestFeed_Configured checks that FeedConfig's RefreshInterval sets both REFRESH-INTERVAL
// (RFC 7986, VALUE=DURATION) and X-PUBLISHED-TTL, and that WindowBack and WindowAhead bound
// the feed instead of the defaults.
func TestFeed_Configured(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, secret, err := storage.NewTokenService(w.db).CreateToken(w.as(w.prosecutor), w.prosecutor.ID, courtside.TokenFeed, "google")
	w.must(err)
	for _, tc := range []struct {
		refresh time.Duration
		want    string
	}{
		{15 * time.Minute, "PT15M"},
		{90 * time.Second, "PT90S"},
		{36 * time.Hour, "PT36H"},
		{1500 * time.Millisecond, "PT1S"},
	} {
		f := &feedWorld{world: w}
		f.url = httpServer(t, calendar.NewFeedHandler(calendar.FeedConfig{Tokens: storage.NewTokenService(w.db), Calendars: storage.NewCalendarService(w.db), Now: w.now.Now,
			Logger: slog.New(slog.DiscardHandler), RefreshInterval: tc.refresh,
			WindowBack: 24 * time.Hour, WindowAhead: 10 * 24 * time.Hour}))
		_, body := f.feed(secret)
		for _, line := range []string{"REFRESH-INTERVAL;VALUE=DURATION:" + tc.want, "X-PUBLISHED-TTL:" + tc.want} {
			if !strings.Contains(body, "\r\n"+line+"\r\n") {
				t.Errorf("refresh %v: body lacks %q:\n%s", tc.refresh, line, body)
			}
		}
		// Five days before the first hearing, ten days ahead reach it and not the second (nine
		// days after it).
		w.now.Set(w.h1.StartsAt.Add(-5 * 24 * time.Hour))
		_, body = f.feed(secret)
		if got, want := strings.Join(feedUIDs(body), " "), calendar.UID(w.h1.ID); got != want {
			t.Errorf("10 days ahead: UIDs %q, want %q", got, want)
		}
		// A day after the first hearing ended, with one day back, it is gone.
		w.now.Set(w.h1.EndsAt.Add(24 * time.Hour))
		_, body = f.feed(secret)
		if got, want := strings.Join(feedUIDs(body), " "), calendar.UID(w.h2.ID); got != want {
			t.Errorf("1 day back: UIDs %q, want %q", got, want)
		}
		w.now.Set(time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC))
	}
}

// TestFeed_OpenOffersStayOut: a hearing offered to an interpreter is in their CalDAV calendar
// (to be answered there) but not in their feed until they accept it.
func TestFeed_OpenOffersStayOut(t *testing.T) {
	f := newFeedWorld(t)
	_, secret, err := storage.NewTokenService(f.db).CreateToken(f.as(f.interpreter), f.interpreter.ID, courtside.TokenFeed, "google")
	f.must(err)
	b := f.offered(t)
	uid := "hearing-" + strconv.FormatInt(f.h3.ID, 10) + "@courtside"
	if _, body := f.feed(secret); strings.Contains(body, uid) {
		t.Fatalf("an open offer is in the interpreter's feed:\n%s", body)
	}
	if _, err := storage.NewBookingService(f.db).RespondToBooking(f.as(f.interpreter), b.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, body := f.feed(secret); !strings.Contains(body, uid) {
		t.Fatalf("the accepted hearing is not in the interpreter's feed:\n%s", body)
	}
}
