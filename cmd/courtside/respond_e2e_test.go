package main_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"courtside/storage"
)

// TestEndToEnd_OneClickRespondLink: the real binary serves the signed one-click link of an
// offer. The token is made by the exported signer with the database's key (as the offer
// message does); opening the page changes nothing, posting Accept accepts, GraphQL shows the
// booking ACCEPTED, and the link then answers 410.
func TestEndToEnd_OneClickRespondLink(t *testing.T) {
	w := newWorld(t)
	s := startServer(t, w.db)
	hearingID := setUpHearing(t, s.url, w, time.Now().UTC().Add(14*24*time.Hour).Truncate(time.Hour))
	b := mustGQL(t, s.url, w.coordinator, `mutation($h: ID!) { requestInterpreter(hearingId: $h, language: "es") { id status respondBy } }`,
		map[string]any{"h": hearingID})
	bookingID := dig(b, "requestInterpreter", "id").(string)
	respondBy, err := time.Parse(time.RFC3339, dig(b, "requestInterpreter", "respondBy").(string))
	if err != nil {
		t.Fatal(err)
	}
	interpreterID, _ := strconv.ParseInt(dig(mustGQL(t, s.url, w.interpreter, `{ me { id } }`, nil), "me", "id").(string), 10, 64)
	id, _ := strconv.ParseInt(bookingID, 10, 64)

	// The signer, with the key the server uses (the database path + ".key", or COURTSIDE_KEY).
	key, err := worldKey(w)
	if err != nil {
		t.Fatal(err)
	}
	signer := storage.NewDB(w.db)
	if signer.Sealer, err = storage.NewSealer(key); err != nil {
		t.Fatal(err)
	}
	token := storage.NewBookingLinkService(signer).BookingLinkToken(id, interpreterID, respondBy)
	link := s.url + "/bookings/" + bookingID + "/respond?token=" + url.QueryEscape(token)

	get := func() (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	status := func() string {
		t.Helper()
		data := mustGQL(t, s.url, w.coordinator, `query($h: ID!) { hearing(id: $h) { bookings { id status } } }`, map[string]any{"h": hearingID})
		for _, bk := range dig(data, "hearing", "bookings").([]any) {
			if dig(bk, "id") == bookingID {
				return dig(bk, "status").(string)
			}
		}
		t.Fatalf("booking %s not on the hearing: %v", bookingID, data)
		return ""
	}

	code, body, header := get()
	if code != http.StatusOK || !strings.Contains(body, "Main Courthouse") || !strings.Contains(body, "4B") ||
		!strings.Contains(body, `value="accept"`) || strings.Contains(body, "V-1042-A") || strings.Contains(body, "Sentinel") {
		t.Fatalf("the page: %d\n%s", code, body)
	}
	if header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(header.Get("Content-Security-Policy"), "form-action 'self'") {
		t.Fatalf("headers %v", header)
	}
	if st := status(); st != "OFFERED" {
		t.Fatalf("after GET the booking is %s", st)
	}

	resp, err := http.PostForm(s.url+"/bookings/"+bookingID+"/respond", url.Values{"token": {token}, "answer": {"accept"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(raw), "Booking accepted") {
		t.Fatalf("accept: %d %s", resp.StatusCode, raw)
	}
	if st := status(); st != "ACCEPTED" {
		t.Fatalf("after accepting the booking is %s", st)
	}
	if code, _, _ := get(); code != http.StatusGone {
		t.Fatalf("the used link answers %d", code)
	}
	// The token never reaches the log (read once the server has stopped writing it).
	s.cmd.Process.Kill()
	s.cmd.Wait()
	if !strings.Contains(s.logs.String(), "path=/bookings/"+bookingID+"/respond status=410") {
		t.Fatalf("the request log lacks the link's requests:\n%s", s.logs.String())
	}
	if strings.Contains(s.logs.String(), token) {
		t.Fatal("the server logged the token")
	}
}
