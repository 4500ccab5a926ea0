package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var (
	templateKeyRE = regexp.MustCompile(`\.T "((?:[^"\\]|\\.)*)"`)
	goKeyRE       = regexp.MustCompile(`\bT\(\s*"((?:[^"\\]|\\.)*)"`)
	navKeyRE      = regexp.MustCompile(`\{"/[^"]*", "([^"]+)"\}`)
	verbRE        = regexp.MustCompile(`%[sdv]`)
)

// TestCatalog_EveryMessageHasSpanish: every message the templates and the Go code translate,
// and every label of the domain's enumerations, has its Spanish, with the same formatting
// verbs in the same order; the catalog has no entry nothing uses.
func TestCatalog_EveryMessageHasSpanish(t *testing.T) {
	used := map[string]bool{}
	pages, _ := filepath.Glob("pages/*.html")
	for _, f := range pages {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKeyRE.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	sources, _ := filepath.Glob("*.go")
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") || f == "spanish.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range []*regexp.Regexp{goKeyRE, navKeyRE} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				used[m[1]] = true
			}
		}
	}
	for _, l := range enumLabels() {
		used[l] = true
	}
	if len(used) < 300 {
		t.Fatalf("found only %d messages: the extraction is broken", len(used))
	}
	for key := range used {
		es, ok := spanish[key]
		if !ok {
			t.Errorf("no Spanish for %q", key)
			continue
		}
		if got, want := strings.Join(verbRE.FindAllString(es, -1), ""), strings.Join(verbRE.FindAllString(key, -1), ""); got != want {
			t.Errorf("%q: Spanish %q has verbs %q, English %q", key, es, got, want)
		}
	}
	for key := range spanish {
		if !used[key] {
			t.Errorf("catalog entry %q is used nowhere", key)
		}
	}
	p := message.NewPrinter(language.Spanish, message.Catalog(messages))
	if got := p.Sprintf("%d hearings; %d need attention.", 3, 1); got != "3 audiencias; 1 requieren atención." {
		t.Fatalf("catalog lookup: %q", got)
	}
}

// TestDates_InTheLanguageAndTheZone: dates and times are written in the page's language and
// in the zone given (a hearing's court's), with the zone's abbreviation.
func TestDates_InTheLanguageAndTheZone(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at := time.Date(2026, 12, 10, 14, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang language.Tag
		want string
	}{
		{language.English, "Thu 10 Dec 2026, 09:30 EST"},
		{language.Spanish, "jue 10 dic 2026, 09:30 EST"},
	} {
		rq := &request{Lang: tc.lang, printer: message.NewPrinter(tc.lang, message.Catalog(messages))}
		if got := rq.DateTime(at, ny); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.lang, got, tc.want)
		}
	}
	rq := &request{Lang: language.Spanish, printer: message.NewPrinter(language.Spanish, message.Catalog(messages))}
	if got := rq.Label("NEEDS_RECONFIRMATION"); got != "Requiere reconfirmación" {
		t.Errorf("label: %q", got)
	}
}
