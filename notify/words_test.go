package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"courtside"
)

// pageFile writes a page's words one per line, as the golden files and the docs show them.
func pageFile(p *courtside.NoticePage) string {
	var b strings.Builder
	line := func(k, v string) { b.WriteString(k + ": " + v + "\n") }
	line("title", p.Title)
	line("got_it", p.GotIt)
	line("answers", p.AnswersLegend)
	for _, k := range courtside.AnswerKinds {
		line("answer."+string(k), p.Answers[k])
	}
	line("thanks", p.Thanks)
	line("thanks.asked", p.ThanksAsked)
	line("done", p.Done)
	line("bad_link", p.BadLink)
	line("used_link", p.UsedLink)
	line("expired_link", p.ExpiredLink)
	return b.String()
}

// linkedNotice is a notice as the acknowledgement page finds it: the fixed hearing, sent by
// SMS at detail d to a victim who reads lang.
func linkedNotice(k courtside.NotificationKind, d courtside.DetailLevel, lang string) *courtside.LinkedNotice {
	start := time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC)
	return &courtside.LinkedNotice{
		Delivery: &courtside.PendingDelivery{Delivery: courtside.Delivery{ID: 52, Kind: k, VictimID: 7, Channel: courtside.ChannelSMS},
			Audience: AudienceVictim, Notice: courtside.NoticeFacts{Hearing: courtside.HearingFacts{Kind: courtside.KindSentencing,
				StartsAt: start, EndsAt: start.Add(90 * time.Minute), Court: "Riverside Justice Center", Courtroom: "Part 17C",
				Address: "400 Pine Street, Springfield", Docket: "CR-5521-XQ", Zone: "America/New_York"}}},
		Detail: d, Language: lang, Zone: "America/New_York", Answers: courtside.AnswersOffered(k, d),
	}
}

// TestGolden_RepliesAndPages keeps every reply to a text message and the words of the
// acknowledgement page, in every language, in testdata/golden-replies.
func TestGolden_RepliesAndPages(t *testing.T) {
	tmpl := DefaultTemplates()
	help := courtside.SMSHelpSettings{NeutralName: "Harbor Office", Reach: "+1 555 0100"}
	for _, lang := range templateLangs {
		files := map[string]string{}
		for _, r := range replyNames() {
			text, err := tmpl.Reply(lang, courtside.SMSReply(r), help)
			if err != nil {
				t.Fatal(err)
			}
			files["REPLY-"+r] = text + "\n"
		}
		page, err := tmpl.NoticePage(linkedNotice(courtside.NotifyHearingChanged, courtside.DetailMinimal, lang))
		if err != nil {
			t.Fatal(err)
		}
		files["PAGE"] = pageFile(page) + "\n" + page.Message + "\n"
		for name, got := range files {
			path := filepath.Join("testdata", "golden-replies", lang, name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./notify/ -run Golden -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the rendering (go test ./notify/ -run Golden -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
			}
		}
	}
}

// The replies are as neutral as a content-free message: no word for court or victim, no
// digits but those of the number to call, one text message long.
func TestReplies_RevealNothing(t *testing.T) {
	tmpl := DefaultTemplates()
	for _, lang := range templateLangs {
		for _, r := range replyNames() {
			for _, help := range []courtside.SMSHelpSettings{{}, {NeutralName: "Harbor Office", Reach: "+1 555 0100"}} {
				text, err := tmpl.Reply(lang, courtside.SMSReply(r), help)
				if err != nil {
					t.Fatal(err)
				}
				if text == "" || utf8.RuneCountInString(text) > MaxReplyLength {
					t.Errorf("%s %s: %d characters: %q", lang, r, utf8.RuneCountInString(text), text)
				}
				if w := revealed(lang, text); len(w) > 0 {
					t.Errorf("%s %s: the reply says %v: %q", lang, r, w, text)
				}
				if strings.IndexFunc(strings.ReplaceAll(text, help.Reach, ""), unicode.IsDigit) >= 0 {
					t.Errorf("%s %s: a reply has digits: %q", lang, r, text)
				}
				if (r == "HELP" || r == "STOP") && help.NeutralName != "" && !strings.Contains(text, help.NeutralName) {
					t.Errorf("%s %s: the reply does not name the organisation: %q", lang, r, text)
				}
				if r == "HELP" && help.Reach != "" && !strings.Contains(text, help.Reach) {
					t.Errorf("%s HELP: the reply does not say how to reach the organisation: %q", lang, text)
				}
			}
		}
	}
	if text, err := tmpl.Reply("en", courtside.ReplyNone, courtside.SMSHelpSettings{}); err != nil || text != "" {
		t.Errorf("no reply: %q, %v", text, err)
	}
	if _, err := tmpl.Reply("en", "GOSSIP", courtside.SMSHelpSettings{}); courtside.ErrorCode(err) != courtside.EINVALID {
		t.Errorf("unknown reply: %v", err)
	}
}

// The page of a content-free notice says nothing the message did not: neutral words, the
// content-free message, no answers to offer. At FULL it repeats the message's facts.
func TestNoticePage_SaysNoMoreThanTheMessage(t *testing.T) {
	tmpl := DefaultTemplates()
	for _, lang := range templateLangs {
		n := linkedNotice(courtside.NotifyHearingChanged, courtside.DetailContentFree, lang)
		p, err := tmpl.NoticePage(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Answers) != 0 {
			t.Errorf("%s: a content-free page offers %v", lang, n.Answers)
		}
		shown := strings.Join([]string{p.Title, p.Message, p.GotIt, p.Thanks, p.Done, p.BadLink, p.UsedLink, p.ExpiredLink}, "\n")
		if w := revealed(lang, shown); len(w) > 0 {
			t.Errorf("%s: the content-free page says %v:\n%s", lang, w, shown)
		}
		for _, fact := range []string{"Riverside", "17C", "CR-5521", "Courtside", "2026"} {
			if strings.Contains(shown, fact) {
				t.Errorf("%s: the content-free page says %q", lang, fact)
			}
		}
		message, err := tmpl.Render(NoticeOf(n.Delivery, lang, newYork(t), courtside.DetailContentFree, ""))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(message.Body, p.Message+"\n\n") || strings.Contains(p.Message, "http") || strings.Count(message.Body, "\n\n") != strings.Count(p.Message, "\n\n")+1 {
			t.Errorf("%s: the page shows %q, the message was %q", lang, p.Message, message.Body)
		}
		full, err := tmpl.NoticePage(linkedNotice(courtside.NotifyHearingChanged, courtside.DetailFull, lang))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(full.Message, "Riverside Justice Center") || strings.Contains(full.Message, "CR-5521") {
			t.Errorf("%s: the FULL page shows %q", lang, full.Message)
		}
		for _, k := range courtside.AnswerKinds {
			if p.Answers[k] == "" {
				t.Errorf("%s: no words for %s", lang, k)
			}
		}
	}
	if p := tmpl.PageWords("es-MX,es;q=0.9,en;q=0.5"); p.Language != "es" {
		t.Errorf("Accept-Language es-MX: %s", p.Language)
	}
	for _, bad := range []string{"", "garbage;;;q=x", "fr", strings.Repeat("x", 300)} {
		if p := tmpl.PageWords(bad); p.Language != "en" {
			t.Errorf("Accept-Language %q: %s", bad, p.Language)
		}
	}
}

func TestReadReply_EveryLanguagesKeywords(t *testing.T) {
	tmpl := DefaultTemplates()
	cases := []struct {
		body   string
		action courtside.SMSAction
		answer courtside.RequestKind
		lang   string
	}{
		{"yes", courtside.SMSAck, "", "en"},
		{" Yes! ", courtside.SMSAck, "", "en"},
		{"1", courtside.SMSAck, "", ""},
		{"Sí", courtside.SMSAck, "", "es"},
		{"si, gracias", courtside.SMSAck, "", "es"},
		{"ok", courtside.SMSAck, "", ""},
		{"Да", courtside.SMSAck, "", "ru"},
		{"是", courtside.SMSAck, "", "zh-Hans"},
		{"có", courtside.SMSAck, "", "vi"},
		{"wi", courtside.SMSAck, "", "ht"},
		{"oo", courtside.SMSAck, "", "tl"},
		{"got it", courtside.SMSAck, "", "en"},
		{"4", courtside.SMSAnswer, courtside.RequestInterpreter, ""},
		{"intérprete", courtside.SMSAnswer, courtside.RequestInterpreter, "es"},
		{"5", courtside.SMSAnswer, courtside.RequestTransport, ""},
		{"STOP", courtside.SMSStop, "", "en"},
		{"stop texting me", courtside.SMSStop, "", "en"},
		{"parar", courtside.SMSStop, "", "es"},
		{"СТОП", courtside.SMSStop, "", "ru"},
		{"停止", courtside.SMSStop, "", "zh-Hans"},
		{"dừng", courtside.SMSStop, "", "vi"},
		{"tigil", courtside.SMSStop, "", "tl"},
		{"sispann", courtside.SMSStop, "", "ht"},
		{"unsubscribe", courtside.SMSStop, "", "en"},
		{"START", courtside.SMSStart, "", "en"},
		{"help", courtside.SMSHelp, "", "en"},
		{"ayuda", courtside.SMSHelp, "", "es"},
		{"Èd", courtside.SMSHelp, "", "ht"},
		{"who is this?", courtside.SMSNone, "", ""},
		{"", courtside.SMSNone, "", ""},
		{"yesterday", courtside.SMSNone, "", ""},
	}
	for _, c := range cases {
		action, answer, lang := tmpl.ReadReply(c.body)
		if action != c.action || answer != c.answer || lang != c.lang {
			t.Errorf("ReadReply(%q) = %s %s %q, want %s %s %q", c.body, action, answer, lang, c.action, c.answer, c.lang)
		}
	}
}

func TestLoadTemplates_KeywordsThatDisagreeNameTheFile(t *testing.T) {
	dir := t.TempDir()
	// A Russian file that makes the English STOP an acknowledgement.
	ru := strings.Replace(embeddedFile(t, "ru.txt"), "ack: 1, ДА,", "ack: 1, STOP, ДА,", 1)
	if err := os.WriteFile(filepath.Join(dir, "ru.txt"), []byte(ru), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTemplates(dir)
	if err == nil || !strings.Contains(err.Error(), `keyword "STOP"`) || !strings.Contains(err.Error(), "ru.txt") {
		t.Errorf("err = %v, want the conflicting keyword and file", err)
	}
	for name, text := range map[string]string{
		"missing keywords": strings.Replace(embeddedFile(t, "ru.txt"), "help: ПОМОЩЬ", "", 1),
		"missing page":     strings.Replace(embeddedFile(t, "ru.txt"), "title: Ваше сообщение", "", 1),
		"missing reply":    strings.Replace(embeddedFile(t, "ru.txt"), "== reply HELP", "== define x", 1),
		"missing ack":      strings.Replace(embeddedFile(t, "ru.txt"), "== define ack", "== define x", 1),
		"unknown reply":    embeddedFile(t, "ru.txt") + "\n== reply GOSSIP\nx\n",
		"markup in page":   strings.Replace(embeddedFile(t, "ru.txt"), "title: Ваше сообщение", "title: <b>Ваше</b>", 1),
	} {
		if err := os.WriteFile(filepath.Join(dir, "ru.txt"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "ru.txt") {
			t.Errorf("%s: err = %v, want one naming ru.txt", name, err)
		}
	}
}
