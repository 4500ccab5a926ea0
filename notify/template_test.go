package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"courtside"
)

var update = flag.Bool("update", false, "rewrite notify/testdata/golden and the messages section of docs/notifications.md from the templates")

// templateLangs are the languages the program ships, by template name.
var templateLangs = []string{"en", "es", "ht", "ru", "tl", "vi", "zh-Hans"}

var channels = []courtside.Channel{courtside.ChannelEmail, courtside.ChannelSMS}

func newYork(t testing.TB) *time.Location {
	t.Helper()
	z, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// fixedNotice is the notice every golden file is rendered from. The hearing is on the
// Tuesday after the 2026 change to daylight saving time, and the hearing before the change on
// the Friday before it, both at 9:30 in New York.
func fixedNotice(t testing.TB, a Audience, k courtside.NotificationKind, d courtside.DetailLevel, c courtside.Channel, lang string) Notice {
	start := time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC)
	before := HearingFacts{Kind: "SENTENCING", StartsAt: time.Date(2026, 3, 6, 14, 30, 0, 0, time.UTC),
		EndsAt: time.Date(2026, 3, 6, 15, 30, 0, 0, time.UTC), Court: "Riverside Justice Center",
		Courtroom: "Part 17B", Address: "400 Pine Street, Springfield", Docket: "CR-5521-XQ", Status: "SCHEDULED"}
	return Notice{
		Kind: k, Audience: a, Detail: d, Channel: c, Language: lang, Zone: newYork(t),
		Hearing: HearingFacts{Kind: "SENTENCING", StartsAt: start, EndsAt: start.Add(90 * time.Minute),
			Court: "Riverside Justice Center", Courtroom: "Part 17C", Address: "400 Pine Street, Springfield",
			Docket: "CR-5521-XQ", Status: "CONTINUED"},
		Before:     &before,
		Lead:       7 * 24 * time.Hour,
		RespondURL: "https://courtside.example.org/bookings/41/respond?token=AQAAAABrAYfAtCEHszfD-hBI1tPmbLZlxg",
		RespondBy:  time.Date(2026, 3, 5, 22, 0, 0, 0, time.UTC),
		Language2:  "es",
		Reason:     "policy: SMS not allowed",
		SenderName: "Demo Advocacy Org",
		AckURL:     fixedAckURL,
		Pseudonym:  "V-17-R",
		NoticeKind: courtside.NotifyHearingChanged,
		SentAt:     time.Date(2026, 3, 4, 15, 5, 0, 0, time.UTC),
		Channels:   []courtside.Channel{courtside.ChannelSMS, courtside.ChannelWebhook},
		Request:    courtside.RequestInterpreter,
	}
}

// fixedAckURL is an acknowledgement link of the real shape, under a neutral host name.
const fixedAckURL = "https://m.example.org/m/52?t=AQAAAABrr5NwbOC1f0QnkGd_S2m0J9xaVw"

// everyMessage calls f for every language, audience, kind it receives, detail level and channel.
func everyMessage(f func(lang string, a Audience, k courtside.NotificationKind, d courtside.DetailLevel, c courtside.Channel)) {
	for _, lang := range templateLangs {
		for _, a := range Audiences {
			for _, k := range KindsFor(a) {
				for _, d := range DetailsFor(a) {
					for _, c := range channels {
						f(lang, a, k, d, c)
					}
				}
			}
		}
	}
}

func asFile(r Rendered, c courtside.Channel) string {
	if c == courtside.ChannelSMS {
		return r.Body + "\n"
	}
	return "Subject: " + r.Subject + "\n\n" + r.Body + "\n"
}

func TestGolden_EveryMessage(t *testing.T) {
	tmpl := DefaultTemplates()
	seen := map[string]bool{}
	everyMessage(func(lang string, a Audience, k courtside.NotificationKind, d courtside.DetailLevel, c courtside.Channel) {
		r, err := tmpl.Render(fixedNotice(t, a, k, d, c, lang))
		if err != nil {
			t.Fatalf("%s %s %s %s %s: %v", lang, a, k, d, c, err)
		}
		if r.Language != lang {
			t.Fatalf("%s rendered in %q", lang, r.Language)
		}
		path := filepath.Join("testdata", "golden", lang, strings.Join([]string{string(k), string(a), string(d), string(c)}, "-")+".txt")
		seen[path] = true
		got := asFile(r, c)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./notify/ -run Golden -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from the rendering (go test ./notify/ -run Golden -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
		}
	})
	// No golden file is left over from a message that no longer exists.
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*", "*.txt"))
	for _, f := range files {
		if !seen[f] {
			if *update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s is not a message any more", f)
		}
	}
	// 64 messages a language: victims 4 kinds x 3 levels, advocates 9, interpreters 5,
	// coordinators 6, each on two channels.
	if len(seen) != 64*len(templateLangs) {
		t.Errorf("%d golden files, want %d", len(seen), 64*len(templateLangs))
	}
}

// revealing lists, per language, words that a content-free message must not contain: words
// for court, hearing, trial, case, judge, lawyer, victim, appointment and date. A word starting
// with "=" must match a whole word; "~" a substring (for Chinese); any other the start of a word
// or, with a space in it, a phrase.
var revealing = map[string][]string{
	"en": {"court", "hearing", "trial", "case", "judge", "arraign", "sentenc", "docket", "victim",
		"traffick", "lawyer", "attorney", "prosecut", "legal", "police", "appointment", "date"},
	"es": {"tribunal", "corte", "audiencia", "juicio", "caso", "juez", "sentencia", "expediente",
		"víctima", "abogad", "fiscal", "cita", "fecha", "juzgado", "cargos"},
	"ht": {"tribinal", "odyans", "jij", "pwosè", "=ka", "avoka", "viktim", "randevou", "=dat", "dosye",
		"santans", "akizasyon", "lapolis"},
	"ru": {"суд", "заседан", "слушан", "процесс", "приговор", "=дело", "=дела", "обвин", "адвокат",
		"жертв", "потерпевш", "встреч", "=дата", "прокурор", "полици"},
	"tl": {"korte", "hukuman", "pagdinig", "paglilitis", "kaso", "hukom", "sentensiya", "sakdal",
		"biktima", "abogado", "piskal", "appointment", "petsa", "docket", "pulis"},
	"vi": {"tòa", "phiên", "xét xử", "vụ án", "=án", "luật", "hồ sơ", "nạn nhân", "thẩm phán",
		"cuộc hẹn", "=ngày", "cảnh sát", "cáo trạng"},
	"zh-Hans": {"~法", "~庭", "~审", "~案", "~判", "~听证", "~律", "~受害", "~预约", "~日期", "~检察", "~警"},
}

func revealed(lang, text string) []string {
	lower := strings.ToLower(text)
	words := strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	var found []string
	for _, w := range revealing[lang] {
		switch {
		case strings.HasPrefix(w, "~") || strings.Contains(w, " "):
			if strings.Contains(lower, strings.TrimPrefix(w, "~")) {
				found = append(found, w)
			}
		case strings.HasPrefix(w, "="):
			for _, x := range words {
				if x == w[1:] {
					found = append(found, w)
				}
			}
		default:
			for _, x := range words {
				if strings.HasPrefix(x, w) {
					found = append(found, w)
				}
			}
		}
	}
	return found
}

// The word lists can fail: each catches its words in the language's FULL rendering.
func TestRender_RevealingWordListsCatchFullMessages(t *testing.T) {
	for _, lang := range templateLangs {
		n := fixedNotice(t, AudienceVictim, courtside.NotifyHearingScheduled, courtside.DetailFull, courtside.ChannelEmail, lang)
		r, err := DefaultTemplates().Render(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(revealed(lang, r.Subject+"\n"+r.Body)) == 0 {
			t.Errorf("%s: the word list finds nothing in a FULL message:\n%s", lang, r.Body)
		}
	}
}

func TestRender_ContentFreeRevealsNothing(t *testing.T) {
	tmpl := DefaultTemplates()
	for _, lang := range templateLangs {
		first := map[courtside.Channel]string{}
		for _, k := range KindsFor(AudienceVictim) {
			for _, c := range channels {
				r, err := tmpl.Render(fixedNotice(t, AudienceVictim, k, courtside.DetailContentFree, c, lang))
				if err != nil {
					t.Fatal(err)
				}
				text := r.Subject + "\n" + r.Body
				// The link is there, and is the only thing with digits in it.
				if !strings.Contains(r.Body, fixedAckURL) {
					t.Errorf("%s %s %s: a content-free message lacks its link: %q", lang, k, c, r.Body)
				}
				text = strings.ReplaceAll(text, fixedAckURL, "")
				if strings.IndexFunc(text, unicode.IsDigit) >= 0 {
					t.Errorf("%s %s %s: a content-free message has digits: %q", lang, k, c, text)
				}
				for _, fact := range []string{"Riverside", "17C", "17B", "CR-5521", "Pine", "Demo Advocacy", "SMS not allowed"} {
					if strings.Contains(text, fact) {
						t.Errorf("%s %s %s: a content-free message says %q: %q", lang, k, c, fact, text)
					}
				}
				if w := revealed(lang, text); len(w) > 0 {
					t.Errorf("%s %s %s: a content-free message says %v: %q", lang, k, c, w, text)
				}
				// Every kind reads the same on a channel, so the message cannot tell a
				// cancellation from a reminder.
				if first[c] == "" {
					first[c] = r.Body
				} else if r.Body != first[c] {
					t.Errorf("%s %s %s: content-free bodies differ by kind: %q and %q", lang, k, c, first[c], r.Body)
				}
			}
		}
	}
}

func TestRender_MinimalGivesDateAndTimeOnly(t *testing.T) {
	tmpl := DefaultTemplates()
	for _, lang := range templateLangs {
		for _, k := range KindsFor(AudienceVictim) {
			for _, c := range channels {
				r, err := tmpl.Render(fixedNotice(t, AudienceVictim, k, courtside.DetailMinimal, c, lang))
				if err != nil {
					t.Fatal(err)
				}
				text := r.Subject + "\n" + r.Body
				// 9:30 on March 10, 2026 in New York.
				for _, want := range []string{"2026", "10", "9:30"} {
					if !strings.Contains(r.Body, want) {
						t.Errorf("%s %s %s: a MINIMAL message lacks %q: %q", lang, k, c, want, r.Body)
					}
				}
				for _, fact := range []string{"Riverside", "17C", "17B", "CR-5521", "Pine"} {
					if strings.Contains(text, fact) {
						t.Errorf("%s %s %s: a MINIMAL message says %q: %q", lang, k, c, fact, text)
					}
				}
				if w := revealed(lang, text); len(w) > 0 && !onlyDateWords(w) {
					t.Errorf("%s %s %s: a MINIMAL message says %v: %q", lang, k, c, w, text)
				}
			}
		}
	}
}

// onlyDateWords reports whether every word found is one that a MINIMAL message may use: it
// gives a date and calls it an appointment.
func onlyDateWords(words []string) bool {
	allowed := map[string]bool{"date": true, "appointment": true, "fecha": true, "cita": true, "=dat": true,
		"randevou": true, "=дата": true, "встреч": true, "petsa": true, "=ngày": true, "cuộc hẹn": true,
		"~预约": true, "~日期": true}
	for _, w := range words {
		if !allowed[w] {
			return false
		}
	}
	return true
}

func TestRender_FullGivesCourtAndRoomButNeverTheVictim(t *testing.T) {
	tmpl := DefaultTemplates()
	everyMessage(func(lang string, a Audience, k courtside.NotificationKind, d courtside.DetailLevel, c courtside.Channel) {
		if d != courtside.DetailFull || !AboutAHearing(k) {
			return
		}
		r, err := tmpl.Render(fixedNotice(t, a, k, d, c, lang))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Body, "Riverside Justice Center") {
			t.Errorf("%s %s %s %s: no court: %q", lang, a, k, c, r.Body)
		}
		if a == AudienceVictim && !strings.Contains(r.Body, "17C") {
			t.Errorf("%s %s %s %s: no courtroom for the victim: %q", lang, a, k, c, r.Body)
		}
		if a == AudienceVictim && strings.Contains(r.Body, "CR-5521") {
			t.Errorf("%s %s %s %s: a victim is given the docket: %q", lang, a, k, c, r.Body)
		}
		// A text message offering a booking has room for the court but not the docket.
		smsOffer := k == courtside.NotifyBookingOffer && c == courtside.ChannelSMS
		if a != AudienceVictim && !smsOffer && !strings.Contains(r.Body, "CR-5521-XQ") {
			t.Errorf("%s %s %s %s: staff are not given the docket: %q", lang, a, k, c, r.Body)
		}
	})
}

func TestRender_NoMissingValuesAndTextsFit(t *testing.T) {
	tmpl := DefaultTemplates()
	long := strings.Repeat("Ж", 500)
	everyMessage(func(lang string, a Audience, k courtside.NotificationKind, d courtside.DetailLevel, c courtside.Channel) {
		// A bare notice: no hearing before, no lead, no link, no language, no reason.
		bare := Notice{Kind: k, Audience: a, Detail: d, Channel: c, Language: lang,
			Hearing: HearingFacts{StartsAt: time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC)}}
		// A notice with every text as long as can be.
		full := fixedNotice(t, a, k, d, c, lang)
		full.Hearing.Court, full.Hearing.Courtroom, full.Hearing.Docket, full.Hearing.Address = long, long, long, long
		full.Hearing.Kind = "RESTITUTION"
		full.Reason, full.SenderName, full.Language2, full.Pseudonym = long, long, "x-"+long, long
		full.RespondURL = "https://" + strings.Repeat("a", MaxSMSURL-8)
		full.AckURL = "https://" + strings.Repeat("a", MaxAckURL-8)
		for _, n := range []Notice{bare, full} {
			r, err := tmpl.Render(n)
			if err != nil {
				t.Fatalf("%s %s %s %s %s: %v", lang, a, k, d, c, err)
			}
			for _, bad := range []string{"<no value>", "{{", "}}", "%!", "\r"} {
				if strings.Contains(r.Subject+r.Body, bad) {
					t.Errorf("%s %s %s %s %s: %q in %q", lang, a, k, d, c, bad, r.Subject+"\n"+r.Body)
				}
			}
			if strings.Contains(r.Subject, "\n") {
				t.Errorf("%s %s %s %s: subject has a line break: %q", lang, a, k, d, r.Subject)
			}
			if c == courtside.ChannelSMS {
				limit := MaxSMSLength
				if a == AudienceVictim {
					limit += 2 + MaxAckLineLength
				}
				if r.Subject != "" || utf8.RuneCountInString(r.Body) > limit {
					t.Errorf("%s %s %s %s: SMS subject %q, %d characters", lang, a, k, d, r.Subject, utf8.RuneCountInString(r.Body))
				}
			} else if r.Subject == "" {
				t.Errorf("%s %s %s %s: e-mail without a subject", lang, a, k, d)
			}
		}
	})
}

func TestRender_LineBreaksInFactsCannotAddLines(t *testing.T) {
	n := fixedNotice(t, AudienceAdvocate, courtside.NotifyHearingScheduled, courtside.DetailFull, courtside.ChannelEmail, "en")
	n.Hearing.Docket = "CR-1\r\nBcc: someone@example.org"
	n.Hearing.Court = "Riverside\nJustice Center"
	r, err := DefaultTemplates().Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("subject has a line break: %q", r.Subject)
	}
	for _, line := range strings.Split(r.Body, "\n") {
		if strings.HasPrefix(line, "Bcc:") || line == "Justice Center" {
			t.Errorf("a fact added a line: %q", r.Body)
		}
	}
	if !strings.Contains(r.Subject, "CR-1 Bcc: someone@example.org") || !strings.Contains(r.Body, "Court: Riverside Justice Center") {
		t.Errorf("facts not kept on one line: %q / %q", r.Subject, r.Body)
	}
}

func TestRender_DatesInTheRecipientsZoneAcrossDST(t *testing.T) {
	ny := newYork(t)
	tmpl := DefaultTemplates()
	render := func(lang string, start time.Time, zone *time.Location) string {
		n := Notice{Kind: courtside.NotifyHearingScheduled, Audience: AudienceVictim, Detail: courtside.DetailMinimal,
			Channel: courtside.ChannelSMS, Language: lang, Zone: zone, Hearing: HearingFacts{StartsAt: start}}
		r, err := tmpl.Render(n)
		if err != nil {
			t.Fatal(err)
		}
		return r.Body
	}
	cases := []struct {
		lang  string
		start time.Time
		zone  *time.Location
		want  string
	}{
		// 14:30 UTC is 9:30 EST on the Friday before daylight saving time starts (March 8, 2026)...
		{"en", time.Date(2026, 3, 6, 14, 30, 0, 0, time.UTC), ny, "Friday, March 6, 2026 at 9:30 AM"},
		// ...and 13:30 UTC is 9:30 EDT on the Tuesday after.
		{"en", time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC), ny, "Tuesday, March 10, 2026 at 9:30 AM"},
		// The same instant after daylight saving time ends (November 1, 2026) is 8:30 EST.
		{"en", time.Date(2026, 11, 3, 13, 30, 0, 0, time.UTC), ny, "Tuesday, November 3, 2026 at 8:30 AM"},
		// 02:30 UTC on the 11th is still the evening of the 10th in New York.
		{"en", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), ny, "Tuesday, March 10, 2026 at 10:30 PM"},
		{"en", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), nil, "Wednesday, March 11, 2026 at 2:30 AM"},
		{"es", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), ny, "martes 10 de marzo de 2026, 10:30 p. m."},
		{"ru", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), ny, "вторник, 10 марта 2026 г., 22:30"},
		{"zh", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), ny, "2026年3月10日（星期二） 下午10:30"},
		{"vi", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), ny, "22:30, Thứ Ba, ngày 10 tháng 3 năm 2026"},
		{"tl", time.Date(2026, 3, 11, 2, 30, 0, 0, time.UTC), ny, "Martes, Marso 10, 2026, 10:30 PM"},
		{"ht", time.Date(2026, 3, 11, 4, 5, 0, 0, time.UTC), ny, "mèkredi 11 mas 2026, 12:05 a.m."},
	}
	for _, c := range cases {
		if got := render(c.lang, c.start, c.zone); !strings.Contains(got, c.want) {
			t.Errorf("%s %s: want %q in %q", c.lang, c.start, c.want, got)
		}
	}
}

func TestRender_ReminderLeads(t *testing.T) {
	tmpl := DefaultTemplates()
	cases := []struct {
		lang string
		lead time.Duration
		want string
	}{
		{"en", 7 * 24 * time.Hour, "your appointment is in 7 days"},
		{"en", 24 * time.Hour, "your appointment is tomorrow"},
		{"en", 2 * time.Hour, "your appointment is in 2 hours"},
		{"en", time.Hour + 59*time.Minute, "your appointment is in 1 hour"},
		{"en", 30 * time.Minute, "your appointment is in 30 minutes"},
		{"en", 0, "your appointment is soon"},
		{"ru", 2 * 24 * time.Hour, "через 2 дня"},
		{"ru", 5 * 24 * time.Hour, "через 5 дней"},
		{"ru", 21 * 24 * time.Hour, "через 21 день"},
		{"ru", 2 * time.Hour, "через 2 часа"},
		{"es", 24 * time.Hour, "su cita es mañana"},
		{"es", time.Hour, "su cita es en 1 hora"},
		{"zh-Hans", 7 * 24 * time.Hour, "7天后"},
		{"vi", 2 * time.Hour, "trong 2 giờ nữa"},
		{"tl", 7 * 24 * time.Hour, "sa loob ng 7 araw"},
		{"ht", 24 * time.Hour, "se demen"},
	}
	for _, c := range cases {
		n := Notice{Kind: courtside.NotifyReminder, Audience: AudienceVictim, Detail: courtside.DetailMinimal,
			Channel: courtside.ChannelEmail, Language: c.lang, Zone: time.UTC, Lead: c.lead,
			Hearing: HearingFacts{StartsAt: time.Date(2026, 5, 4, 14, 0, 0, 0, time.UTC)}}
		r, err := tmpl.Render(n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Body, c.want) {
			t.Errorf("%s %s: want %q in %q", c.lang, c.lead, c.want, r.Body)
		}
	}
}

func TestLanguage_Matching(t *testing.T) {
	tmpl := DefaultTemplates()
	cases := map[string]string{
		"": "en", "en": "en", "en-GB": "en", "es": "es", "es-MX": "es", "es-419": "es",
		"zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-Hans": "zh-Hans", "zh-Hans-US": "zh-Hans",
		// A Traditional Chinese reader is closer to Simplified Chinese than to English.
		"zh-TW": "zh-Hans", "zh-Hant": "zh-Hans",
		"vi": "vi", "vi-VN": "vi", "tl": "tl", "fil": "tl", "fil-PH": "tl", "ru": "ru", "ru-UA": "ru",
		"ht": "ht", "hat": "ht",
		// Languages with no templates, and garbage, get English.
		"uk": "en", "fr": "en", "pt-BR": "en", "yue": "en", "xx": "en", "garbage!!": "en", "  ": "en",
		"es-MX\r\nBcc:": "en",
	}
	for pref, want := range cases {
		if got := tmpl.Match(pref); got != want {
			t.Errorf("Match(%q) = %q, want %q", pref, got, want)
		}
		r, err := tmpl.Render(Notice{Kind: courtside.NotifyHearingCancelled, Audience: AudienceVictim,
			Detail: courtside.DetailContentFree, Channel: courtside.ChannelSMS, Language: pref,
			Hearing: HearingFacts{StartsAt: time.Date(2026, 5, 4, 14, 0, 0, 0, time.UTC)}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Language != want {
			t.Errorf("Render in %q used %q, want %q", pref, r.Language, want)
		}
	}
	tags := tmpl.Languages()
	if len(tags) != len(templateLangs) || tags[0] != language.English {
		t.Errorf("Languages() = %v", tags)
	}
	for _, want := range []string{"es", "zh-Hans", "vi", "fil", "ru", "ht"} {
		found := false
		for _, tag := range tags {
			found = found || tag.String() == want
		}
		if !found {
			t.Errorf("Languages() = %v lacks %s", tags, want)
		}
	}
}

func TestRender_RefusesWhatCannotBeSent(t *testing.T) {
	tmpl := DefaultTemplates()
	base := fixedNotice(t, AudienceVictim, courtside.NotifyReminder, courtside.DetailFull, courtside.ChannelSMS, "en")
	cases := map[string]func(n *Notice){
		"victim booking offer":     func(n *Notice) { n.Kind = courtside.NotifyBookingOffer },
		"interpreter scheduled":    func(n *Notice) { n.Audience = AudienceInterpreter; n.Kind = courtside.NotifyHearingScheduled },
		"coordinator reminder":     func(n *Notice) { n.Audience = AudienceCoordinator },
		"unknown audience":         func(n *Notice) { n.Audience = "PROSECUTOR" },
		"unknown kind":             func(n *Notice) { n.Kind = "GOSSIP" },
		"unknown channel":          func(n *Notice) { n.Channel = "FAX" },
		"victim without detail":    func(n *Notice) { n.Detail = "" },
		"victim with a bad detail": func(n *Notice) { n.Detail = "SOME" },
		"no hearing time":          func(n *Notice) { n.Hearing.StartsAt = time.Time{} },
		"javascript link": func(n *Notice) {
			n.Audience, n.Kind, n.RespondURL = AudienceInterpreter, courtside.NotifyBookingOffer, "javascript:alert(1)"
		},
		"link with a space": func(n *Notice) {
			n.Audience, n.Kind, n.RespondURL = AudienceInterpreter, courtside.NotifyBookingOffer, "https://a.example/ x"
		},
		"link too long for SMS": func(n *Notice) {
			n.Audience, n.Kind, n.RespondURL = AudienceInterpreter, courtside.NotifyBookingOffer, "https://a.example/"+strings.Repeat("x", MaxSMSURL)
		},
	}
	for name, change := range cases {
		n := base
		change(&n)
		if _, err := tmpl.Render(n); courtside.ErrorCode(err) != courtside.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
	// The same long link fits in an e-mail.
	n := base
	n.Audience, n.Kind, n.Channel = AudienceInterpreter, courtside.NotifyBookingOffer, courtside.ChannelEmail
	n.RespondURL = "https://a.example/" + strings.Repeat("x", MaxSMSURL)
	if r, err := tmpl.Render(n); err != nil || !strings.Contains(r.Body, n.RespondURL) {
		t.Errorf("long link by e-mail: %v %q", err, r.Body)
	}
	// An offer without a link asks for an answer in Courtside.
	n.RespondURL = ""
	if r, err := tmpl.Render(n); err != nil || !strings.Contains(r.Body, "in Courtside") {
		t.Errorf("offer without a link: %v %q", err, r.Body)
	}
}

func TestRender_StaffAreAlwaysToldEverything(t *testing.T) {
	tmpl := DefaultTemplates()
	for _, d := range []courtside.DetailLevel{courtside.DetailContentFree, courtside.DetailMinimal, "", "NONSENSE"} {
		n := fixedNotice(t, AudienceAdvocate, courtside.NotifyReminder, d, courtside.ChannelEmail, "en")
		r, err := tmpl.Render(n)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Body, "Riverside Justice Center") || !strings.Contains(r.Body, "Part 17C") {
			t.Errorf("advocate at detail %q: %q", d, r.Body)
		}
	}
}

// embeddedFile returns one of the program's template files.
func embeddedFile(t *testing.T, name string) string {
	t.Helper()
	b, err := embedded.ReadFile("templates/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadTemplates_OverrideChangesOnlyThatFile(t *testing.T) {
	dir := t.TempDir()
	es := strings.ReplaceAll(embeddedFile(t, "es.txt"), "Hola. Tiene un mensaje nuevo.", "Buenos días. Tiene un mensaje nuevo.")
	if err := os.WriteFile(filepath.Join(dir, "es.txt"), []byte(es), 0o644); err != nil {
		t.Fatal(err)
	}
	// Files that are not templates are ignored.
	if err := os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("not a template"), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	everyMessage(func(lang string, a Audience, k courtside.NotificationKind, d courtside.DetailLevel, c courtside.Channel) {
		n := fixedNotice(t, a, k, d, c, lang)
		want, err1 := DefaultTemplates().Render(n)
		got, err2 := loaded.Render(n)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		changed := lang == "es" && d == courtside.DetailContentFree
		if changed {
			want.Body = strings.Replace(want.Body, "Hola.", "Buenos días.", 1)
		}
		if got != want {
			t.Errorf("%s %s %s %s %s: got %q, want %q", lang, a, k, d, c, got.Body, want.Body)
		}
	})
}

func TestLoadTemplates_AddsALanguage(t *testing.T) {
	dir := t.TempDir()
	fr := strings.Replace(embeddedFile(t, "en.txt"), "Hello. You have a new message. Please call your advocate.",
		"Bonjour. Vous avez un nouveau message. Appelez votre intervenante.", 1)
	if err := os.WriteFile(filepath.Join(dir, "fr.txt"), []byte(fr), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := loaded.Render(Notice{Kind: courtside.NotifyReminder, Audience: AudienceVictim, Detail: courtside.DetailContentFree,
		Channel: courtside.ChannelSMS, Language: "fr-CA", Hearing: HearingFacts{StartsAt: time.Now()}})
	if err != nil || r.Language != "fr" || !strings.HasPrefix(r.Body, "Bonjour.") {
		t.Errorf("fr-CA: %v %+v", err, r)
	}
	if len(loaded.Languages()) != len(templateLangs)+1 {
		t.Errorf("Languages() = %v", loaded.Languages())
	}
}

func TestLoadTemplates_BrokenOverrideNamesTheFile(t *testing.T) {
	ru := embeddedFile(t, "ru.txt")
	cases := map[string]struct {
		file, text, want string
	}{
		"template syntax":   {"ru.txt", strings.Replace(ru, "{{.Reason}}", "{{.Reason", 1), "ru.txt:"},
		"missing section":   {"ru.txt", strings.Replace(ru, "== coordinator BOOKING_UNFILLED", "== define unused", 1), "missing sections: == coordinator BOOKING_UNFILLED"},
		"unknown field":     {"ru.txt", strings.Replace(ru, "{{.Reason}}", "{{.VictimName}}", 1), "advocate NOTICE_SUPPRESSED"},
		"missing meta":      {"ru.txt", strings.Replace(ru, "kind.TRIAL:", "# kind.TRIAL:", 1), "meta is missing kind.TRIAL"},
		"unknown meta":      {"ru.txt", strings.Replace(ru, "name: Russian", "nmae: Russian", 1), `unknown key "nmae"`},
		"eleven months":     {"ru.txt", strings.Replace(ru, "января, ", "", 1), "months needs 12 names"},
		"duplicate section": {"ru.txt", ru + "\n== victim CONTENT_FREE\nSubject: x\ny\n", "given twice"},
		"no subject":        {"ru.txt", strings.Replace(ru, "Subject: Новое сообщение\n", "", 1), "Subject:"},
		"not a kind":        {"ru.txt", ru + "\n== victim GOSSIP FULL\nSubject: x\ny\n", "no GOSSIP message"},
		"staff with detail": {"ru.txt", ru + "\n== advocate REMINDER MINIMAL\nSubject: x\ny\n", "no detail level"},
		"too long for SMS":  {"ru.txt", strings.Replace(ru, "Здравствуйте. У вас новое сообщение.", strings.Repeat("Очень длинный текст. ", 20), 1), "over the limit"},
		"bad file name":     {"not a tag.txt", "x", "not a tag.txt: the file name must be a BCP 47 language tag"},
		"no meta":           {"ru.txt", strings.Replace(ru, "== meta", "== define meta", 1), "must begin with a == meta section"},
		"not UTF-8":         {"ru.txt", "== meta\n\xff\xfe", "not UTF-8"},
	}
	for name, c := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTemplates(dir)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), filepath.Join(dir, c.file)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name %s and say %q", name, err, filepath.Join(dir, c.file), c.want)
		}
	}
	if _, err := LoadTemplates(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("absent directory: %v", err)
	}
	if _, err := LoadTemplates(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no <language>.txt files") {
		t.Errorf("empty directory: %v", err)
	}
}

func TestDefaultTemplates_BrokenEmbeddedDataPanicsAtInit(t *testing.T) {
	if got := len(DefaultTemplates().Languages()); got != len(templateLangs) {
		t.Fatalf("%d embedded languages", got)
	}
	en := embeddedFile(t, "en.txt")
	for name, fsys := range map[string]fstest.MapFS{
		"no English":  {"templates/es.txt": {Data: []byte(embeddedFile(t, "es.txt"))}},
		"broken":      {"templates/en.txt": {Data: []byte(strings.Replace(en, "{{.Reason}}", "{{.Reason", 1))}},
		"incomplete":  {"templates/en.txt": {Data: []byte(strings.Replace(en, "== victim CONTENT_FREE", "== define x", 1))}},
		"no such dir": {},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "embedded templates are broken") {
					t.Errorf("%s: recovered %v", name, r)
				}
			}()
			mustParse(fsys, "templates")
		}()
	}
	if got := mustParse(fstest.MapFS{"templates/en.txt": {Data: []byte(en)}}, "templates"); len(got.Languages()) != 1 {
		t.Errorf("English only: %v", got.Languages())
	}
}

func TestRender_ConcurrentUse(t *testing.T) {
	tmpl := DefaultTemplates()
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func(i int) {
			lang := templateLangs[i%len(templateLangs)]
			var err error
			for j := 0; j < 50 && err == nil; j++ {
				_, err = tmpl.Render(fixedNotice(t, AudienceInterpreter, courtside.NotifyBookingOffer, courtside.DetailFull, channels[j%2], lang))
			}
			done <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// docsPath is the page whose messages section shows every message in English, written from
// the templates between docsBegin and docsEnd.
const docsPath = "../docs/notifications.md"

const (
	docsBegin = "<!-- messages: written by go test ./notify/ -run Golden -update; do not edit -->\n"
	docsEnd   = "<!-- end of messages -->\n"
)

const docsIntro = `## Messages

This section is written by ` + "`go test ./notify/ -run Golden -update`" + ` from the templates in
` + "`notify/templates/`" + `, and a test fails when it no longer matches them. It shows every message
in English, at every detail level, as an e-mail and as a text message, rendered for a sentencing
hearing on Tuesday, March 10, 2026 at 9:30 in New York that moved from Friday, March 6.

### Language

A message is written in the recipient's preferred language (a BCP 47 tag), matched with
golang.org/x/text/language against the languages there are templates for: English, Spanish,
Simplified Chinese, Vietnamese, Tagalog, Russian and Haitian Creole. A regional or script
variant gets its language ("es-MX" Spanish, "zh", "zh-CN" and "zh-TW" Simplified Chinese,
"fil" Tagalog); any other language, an empty preference or one that does not parse gets
English. Dates and times are written in the recipient's time zone, in that language's words
and order, with its 12- or 24-hour clock.

### Overriding the templates

Each language is one text file, ` + "`notify/templates/<tag>.txt`" + `, built into the program;
` + "`notify/templates/README.txt`" + ` explains the format to translators. To change the wording without
rebuilding, put files of the same layout in a directory and start the server with
` + "`COURTSIDE_TEMPLATES=/that/directory`" + `: each file replaces the built-in file of its language
(or adds a language). The server refuses to start if a file does not parse, lacks a message,
or makes a text message longer than 320 characters; the error names the file.

### Detail levels

A victim's contact policy sets, per channel, how much a message may say: FULL gives the
date, time, court and courtroom; MINIMAL the date and time only, and calls the hearing an
appointment; CONTENT_FREE only asks the victim to call their advocate, in the same words
whatever happened. Staff (advocates, interpreters, coordinators) always get FULL messages
with the docket number. No message names a victim; the messages that ask staff to act for one
(NOTICE_UNACKNOWLEDGED, SMS_STOPPED, SMS_START_REQUESTED, REQUEST_CREATED) name the victim by
pseudonym only, as Courtside shows it to them.

### Acknowledgement

Every message to a victim, at every detail level, ends with how to say "I got this": on SMS,
the reply keyword and the link; by e-mail and webhook, the link. The link's host is
` + "`COURTSIDE_ACK_BASE_URL`" + `, which should have a neutral name (here ` + "`m.example.org`" + `).
`

func TestGolden_DocsShowEveryEnglishMessage(t *testing.T) {
	tmpl := DefaultTemplates()
	var b strings.Builder
	b.WriteString(docsIntro)
	for _, k := range courtside.NotificationKinds {
		b.WriteString("\n### " + string(k) + "\n")
		for _, a := range Audiences {
			if !Receives(a, k) {
				continue
			}
			for _, d := range DetailsFor(a) {
				title := strings.ToLower(string(a))
				if a == AudienceVictim {
					title += ", " + string(d)
				}
				b.WriteString("\n#### To the " + title + "\n")
				for _, c := range channels {
					r, err := tmpl.Render(fixedNotice(t, a, k, d, c, "en"))
					if err != nil {
						t.Fatal(err)
					}
					label := "E-mail"
					if c == courtside.ChannelSMS {
						label = "Text message"
					}
					b.WriteString("\n" + label + ":\n\n```text\n" + asFile(r, c) + "```\n")
				}
			}
		}
	}
	b.WriteString("\n### Replies to text messages\n\nWhat goes back to a victim's phone that texts a keyword " +
		"(STOP and HELP name the organisation's neutral name and how to reach it, here \"Harbor Office\" and \"+1 555 0100\"):\n")
	for _, r := range replyNames() {
		text, err := tmpl.Reply("en", courtside.SMSReply(r), courtside.SMSHelpSettings{NeutralName: "Harbor Office", Reach: "+1 555 0100"})
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n" + r + ":\n\n```text\n" + text + "\n```\n")
	}
	b.WriteString("\n### The acknowledgement page\n\nThe words of the page, besides the message it repeats:\n\n```text\n" +
		pageFile(tmpl.PageWords("en")) + "```\n")
	got := b.String()
	page, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(page), docsBegin)
	current, after, ok2 := strings.Cut(rest, docsEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the markers of the messages section", docsPath)
	}
	if *update {
		if err := os.WriteFile(docsPath, []byte(before+docsBegin+got+docsEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != current {
		t.Errorf("%s does not match the templates; go test ./notify/ -run Golden -update rewrites it", docsPath)
	}
}
