package notify

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"courtside"
)

// Besides messages, each language's file has the words of the two-way notices:
//
//	== keywords   what a text reply may say, per action: "ack: 1, YES, OK"
//	== page       the words of the acknowledgement page: "title: Your message"
//	== reply KIND the text sent back to a reply (ACK, ANSWER, STOP, START, HELP, UNKNOWN)
//
// Keywords of every language are understood from every phone: STOP in any language stops.

// keywordKeys are the keys of "== keywords", with what each asks for.
var keywordKeys = map[string]keyword{
	"ack":           {action: courtside.SMSAck},
	"attend":        {action: courtside.SMSAnswer, answer: courtside.RequestAttend},
	"accompaniment": {action: courtside.SMSAnswer, answer: courtside.RequestAccompaniment},
	"interpreter":   {action: courtside.SMSAnswer, answer: courtside.RequestInterpreter},
	"transport":     {action: courtside.SMSAnswer, answer: courtside.RequestTransport},
	"stop":          {action: courtside.SMSStop},
	"start":         {action: courtside.SMSStart},
	"help":          {action: courtside.SMSHelp},
}

// pageKeys are the keys "== page" must give.
var pageKeys = []string{"title", "got_it", "answers", "thanks", "thanks.asked", "done", "bad_link", "used_link", "expired_link",
	"answer.ATTEND", "answer.ACCOMPANIMENT", "answer.INTERPRETER", "answer.TRANSPORT"}

// keyword is what a reply keyword asks for, and the languages that have it.
type keyword struct {
	action courtside.SMSAction
	answer courtside.RequestKind
	langs  []string
}

// replyNames lists the replies every language must have, in the order the docs show them.
func replyNames() []string {
	return []string{string(courtside.ReplyAck), string(courtside.ReplyAnswer), string(courtside.ReplyStop),
		string(courtside.ReplyStart), string(courtside.ReplyHelp), string(courtside.ReplyUnknown)}
}

func containsReply(s string) bool {
	for _, r := range replyNames() {
		if r == s {
			return true
		}
	}
	return false
}

func containsRequest(list []courtside.RequestKind, k courtside.RequestKind) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

// parseWords parses a "== keywords" or "== page" section: key: value lines.
func (l *lang) parseWords(s *section, which string) error {
	for i, line := range s.text {
		if strings.TrimSpace(line) == "" {
			continue
		}
		at := fmt.Sprintf("%s:%d", l.file, s.line+1+i)
		k, v, ok := strings.Cut(line, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%s: write key: value", at)
		}
		switch which {
		case "keywords":
			if _, known := keywordKeys[k]; !known {
				return fmt.Errorf("%s: unknown keyword key %q", at, k)
			}
			if _, dup := l.keywords[k]; dup {
				return fmt.Errorf("%s: %s is given twice", at, k)
			}
			for _, w := range strings.Split(v, ",") {
				w = normalizeReply(w)
				if w == "" {
					return fmt.Errorf("%s: %s has an empty keyword", at, k)
				}
				l.keywords[k] = append(l.keywords[k], w)
			}
		case "page":
			if !contains(pageKeys, k) {
				return fmt.Errorf("%s: unknown page key %q", at, k)
			}
			if _, dup := l.page[k]; dup {
				return fmt.Errorf("%s: %s is given twice", at, k)
			}
			if strings.ContainsAny(v, "{}<>") {
				return fmt.Errorf("%s: page words are plain text, without braces or angle brackets", at)
			}
			l.page[k] = v
		}
	}
	return nil
}

// checkWords makes sure the language has every keyword and page word.
func (l *lang) checkWords() error {
	var missing []string
	keys := make([]string, 0, len(keywordKeys))
	for k := range keywordKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(l.keywords[k]) == 0 {
			missing = append(missing, "keywords "+k)
		}
	}
	for _, k := range pageKeys {
		if l.page[k] == "" {
			missing = append(missing, "page "+k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing words: %s", strings.Join(missing, ", "))
	}
	return nil
}

// buildKeywords merges every language's keywords. A keyword that asks for different things in
// two languages is an error naming both files.
func (t *Templates) buildKeywords() error {
	t.keywords = map[string]keyword{}
	owner := map[string]string{}
	for _, l := range t.langs {
		keys := make([]string, 0, len(l.keywords))
		for k := range l.keywords {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			want := keywordKeys[k]
			for _, w := range l.keywords[k] {
				got, seen := t.keywords[w]
				if seen && (got.action != want.action || got.answer != want.answer) {
					return fmt.Errorf("notify: %s: keyword %q asks for %s %s, but %s means %s %s by it", l.file, w, want.action, want.answer,
						owner[w], got.action, got.answer)
				}
				if !seen {
					got = want
					owner[w] = l.file
				}
				if !contains(got.langs, l.name) {
					got.langs = append(got.langs, l.name)
				}
				t.keywords[w] = got
			}
		}
	}
	return nil
}

// normalizeReply puts a reply (or a keyword) in the form keywords are compared in: letters
// and digits only, upper case, accents taken off, single spaces.
func normalizeReply(s string) string {
	s = norm.NFD.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteString(strings.ToUpper(string(r)))
		default:
			space = true
		}
	}
	return norm.NFC.String(b.String())
}

// ReadReply reads an inbound text message: the action asked for by the whole message, else
// by its first word, in any language (STOP in any language stops), and the language whose
// keyword matched when only one has it. An empty or unknown message is SMSNone.
func (t *Templates) ReadReply(body string) (courtside.SMSAction, courtside.RequestKind, string) {
	if utf8.RuneCountInString(body) > 1600 {
		body = string([]rune(body)[:1600])
	}
	s := normalizeReply(body)
	candidates := []string{s}
	if first, _, ok := strings.Cut(s, " "); ok {
		candidates = append(candidates, first)
	}
	for _, c := range candidates {
		if k, ok := t.keywords[c]; ok {
			lang := ""
			if len(k.langs) == 1 {
				lang = k.langs[0]
			}
			return k.action, k.answer, lang
		}
	}
	return courtside.SMSNone, "", ""
}

// replyView is what a reply template sees.
type replyView struct {
	// Name and Reach are the organisation's neutral name and how to reach it (HELP, STOP).
	Name, Reach string
}

// Reply puts a reply to an inbound text message into words in the language lang matches
// (English when it matches none). ReplyNone is "".
func (t *Templates) Reply(lang string, r courtside.SMSReply, help courtside.SMSHelpSettings) (string, error) {
	if r == courtside.ReplyNone {
		return "", nil
	}
	if !containsReply(string(r)) {
		return "", courtside.Errorf(courtside.EINVALID, "Unknown reply %q.", r)
	}
	return t.match(lang).reply(r, help)
}

func (l *lang) reply(r courtside.SMSReply, help courtside.SMSHelpSettings) (string, error) {
	var b bytes.Buffer
	v := replyView{Name: clean(help.NeutralName, 40), Reach: clean(help.Reach, 60)}
	if err := l.tmpl.ExecuteTemplate(&b, "reply/"+string(r), v); err != nil {
		return "", fmt.Errorf("notify: %s: reply %s: %w", l.file, r, err)
	}
	text := tidy(b.String())
	if strings.Contains(text, "<no value>") {
		return "", fmt.Errorf("notify: %s: reply %s renders a missing value", l.file, r)
	}
	if n := utf8.RuneCountInString(text); n > MaxReplyLength {
		return "", fmt.Errorf("notify: %s: reply %s is %d characters, over the limit of %d", l.file, r, n, MaxReplyLength)
	}
	return text, nil
}

// MaxReplyLength is the most characters a reply to a text message may have: one message.
const MaxReplyLength = 160

// NoticePage returns the words of a notice's acknowledgement page in the victim's language,
// with the message as the victim was sent it: at its detail level, on its channel, without the
// link. The page thereby never says more than the message did.
func (t *Templates) NoticePage(n *courtside.LinkedNotice) (*courtside.NoticePage, error) {
	l := t.match(n.Language)
	zone := time.UTC
	if n.Zone != "" {
		if loc, err := time.LoadLocation(n.Zone); err == nil {
			zone = loc
		}
	}
	notice := NoticeOf(n.Delivery, l.name, zone, n.Detail, n.SenderName)
	r, err := l.renderMessage(notice, notice.Detail, false)
	if err != nil {
		return nil, err
	}
	p := l.pageWords()
	p.Message = r.Body
	return p, nil
}

// PageWords returns the page's words in the language that best matches an Accept-Language
// header, for the pages that show no notice (a bad, used or expired link).
func (t *Templates) PageWords(acceptLanguage string) *courtside.NoticePage {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 || len(acceptLanguage) > 200 {
		return t.langs[0].pageWords()
	}
	_, i, conf := t.matcher.Match(tags...)
	if conf == language.No {
		return t.langs[0].pageWords()
	}
	return t.langs[i].pageWords()
}

func (l *lang) pageWords() *courtside.NoticePage {
	p := &courtside.NoticePage{Language: l.tag.String(), Title: l.page["title"], GotIt: l.page["got_it"], AnswersLegend: l.page["answers"],
		Thanks: l.page["thanks"], ThanksAsked: l.page["thanks.asked"], Done: l.page["done"], BadLink: l.page["bad_link"],
		UsedLink: l.page["used_link"], ExpiredLink: l.page["expired_link"], Answers: map[courtside.RequestKind]string{}}
	for _, k := range courtside.AnswerKinds {
		p.Answers[k] = l.page["answer."+string(k)]
	}
	return p
}

// NoticeOf turns a delivery's stored facts into what the templates render, for a recipient in
// language and zone, at detail, from sender. Links are the caller's to add.
func NoticeOf(d *courtside.PendingDelivery, language string, zone *time.Location, detail courtside.DetailLevel, sender string) Notice {
	n := Notice{Kind: d.Kind, Audience: d.Audience, Detail: detail, Language: language, Zone: zone, Channel: d.Channel,
		Hearing: FactsFrom(d.Notice.Hearing), Language2: d.Notice.Language, Reason: d.Notice.Reason, SenderName: sender,
		Pseudonym: d.Notice.Pseudonym, NoticeKind: d.Notice.NoticeKind, Channels: d.Notice.Channels, Request: d.Notice.Request}
	if d.Notice.Before != nil {
		b := FactsFrom(*d.Notice.Before)
		n.Before = &b
	}
	if d.Notice.SentAt != nil {
		n.SentAt = *d.Notice.SentAt
	}
	if d.Notice.Lead != "" {
		if lead, err := courtside.ParseLead(d.Notice.Lead); err == nil {
			if lead.At != "" {
				n.Lead = d.Notice.Hearing.StartsAt.Sub(lead.DueAt(d.Notice.Hearing.StartsAt, zone))
			} else {
				n.Lead = lead.Before
			}
		}
	}
	if d.Notice.RespondBy != nil {
		n.RespondBy = *d.Notice.RespondBy
	}
	return n
}

// longestNotice and longestRequest return the kind whose name is longest in l, for the sample
// notices that check every message fits.
func longestNotice(l *lang) courtside.NotificationKind {
	best := courtside.NotifyHearingScheduled
	for k, s := range l.notices {
		if utf8.RuneCountInString(s) > utf8.RuneCountInString(l.notices[string(best)]) {
			best = courtside.NotificationKind(k)
		}
	}
	return best
}

func longestRequest(l *lang) courtside.RequestKind {
	best := courtside.RequestAttend
	for k, s := range l.requests {
		if utf8.RuneCountInString(s) > utf8.RuneCountInString(l.requests[string(best)]) {
			best = courtside.RequestKind(k)
		}
	}
	return best
}
