package notify

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"courtside"
)

// The message templates are data: one file per language in templates/, named by its BCP 47
// tag (en.txt, zh-Hans.txt). A file is a "== meta" section of date words, hearing-kind names
// and reminder phrases, then one section per message ("== victim REMINDER FULL",
// "== advocate NOTICE_SUPPRESSED", "== victim CONTENT_FREE"), each a "Subject:" line and a
// text/template body, and optional "== define NAME" sections shared by the others. Lines
// that begin with # are comments. templates/README.txt is written for translators.
//
//go:embed templates/*.txt
var embedded embed.FS

// EnvTemplates is the environment variable that names a directory of template files which
// override the embedded ones, file by file.
const EnvTemplates = "COURTSIDE_TEMPLATES"

// Templates is a validated set of message templates in several languages. It is immutable
// once loaded and safe for concurrent use.
type Templates struct {
	langs   []*lang // English first
	matcher language.Matcher
	// keywords maps each normalised reply keyword of every language to what it asks for.
	keywords map[string]keyword
}

// lang is one language's templates and the words its functions need.
type lang struct {
	name     string // the file's stem: "en", "zh-Hans"
	tag      language.Tag
	file     string // where it was loaded from, for errors
	months   [12]string
	weekdays [7]string
	date     string // layout: {weekday} {day} {month} {monthnum} {year}
	clock    string // layout: {h12} {h24} {hh24} {mm} {ampm}
	am, pm   string
	leads    map[string]string // "tomorrow", "days.one", "hours.other", ...
	kinds    map[string]string // hearing kind -> name
	names    map[string]string // language tag -> name, overriding x/text's display names
	notices  map[string]string // notification kind -> what a notice of it told ("the new hearing")
	chans    map[string]string // channel -> name ("text message")
	requests map[string]string // request kind -> name ("an interpreter")
	keywords map[string][]string
	page     map[string]string
	tmpl     *template.Template
}

var defaultTemplates = mustParse(embedded, "templates")

// mustParse parses the template files in dir of fsys, and panics if they are broken: the
// embedded files are part of the program.
func mustParse(fsys fs.FS, dir string) *Templates {
	files, err := readFiles(fsys, dir, "embedded ")
	if err == nil {
		var t *Templates
		if t, err = build(files); err == nil {
			return t
		}
	}
	panic("notify: embedded templates are broken: " + err.Error())
}

// DefaultTemplates returns the templates built into the program.
func DefaultTemplates() *Templates { return defaultTemplates }

// LoadTemplates returns the embedded templates with every file in dir that has the same
// layout (a language's "<tag>.txt") put in place of the embedded file for that language, or
// added as a new language. Every template must parse and render, and every language must have
// a message for every kind, audience and detail level it is needed for; the error names the
// file at fault.
func LoadTemplates(dir string) (*Templates, error) {
	files, err := readFiles(embedded, "templates", "embedded ")
	if err != nil {
		return nil, err
	}
	over, err := readFiles(os.DirFS(dir), ".", "")
	if err != nil {
		return nil, fmt.Errorf("notify: templates directory %s: %w", dir, err)
	}
	if len(over) == 0 {
		return nil, fmt.Errorf("notify: templates directory %s has no <language>.txt files", dir)
	}
	for name, f := range over {
		f.label = filepath.Join(dir, name+".txt")
		files[name] = f
	}
	return build(files)
}

type source struct {
	label string
	data  []byte
}

// readFiles reads every *.txt file in dir of fsys, by language name.
func readFiles(fsys fs.FS, dir, labelPrefix string) (map[string]source, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	files := map[string]source{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok || e.IsDir() || strings.EqualFold(name, "README") {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		files[name] = source{label: labelPrefix + p, data: data}
	}
	return files, nil
}

// build parses and checks every file. English is required: it is the fallback.
func build(files map[string]source) (*Templates, error) {
	if _, ok := files["en"]; !ok {
		return nil, fmt.Errorf("notify: no English templates (en.txt)")
	}
	names := make([]string, 0, len(files))
	for name := range files {
		if name != "en" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	names = append([]string{"en"}, names...)
	t := &Templates{}
	var tags []language.Tag
	for _, name := range names {
		l, err := parseLang(name, files[name])
		if err != nil {
			return nil, err
		}
		if err := l.check(); err != nil {
			return nil, fmt.Errorf("%s: %w", l.file, err)
		}
		for _, other := range t.langs {
			if other.tag == l.tag {
				return nil, fmt.Errorf("%s: the same language as %s", l.file, other.file)
			}
		}
		t.langs = append(t.langs, l)
		tags = append(tags, l.tag)
	}
	t.matcher = language.NewMatcher(tags)
	if err := t.buildKeywords(); err != nil {
		return nil, err
	}
	return t, nil
}

// Languages returns the languages there are templates for, English first.
func (t *Templates) Languages() []language.Tag {
	tags := make([]language.Tag, len(t.langs))
	for i, l := range t.langs {
		tags[i] = l.tag
	}
	return tags
}

// Match returns the name of the template language used for a recipient who prefers pref:
// the best match among the languages there are templates for (a Chinese speaker gets
// Simplified Chinese, a Spanish speaker in Mexico Spanish), or English.
func (t *Templates) Match(pref string) string { return t.match(pref).name }

func (t *Templates) match(pref string) *lang {
	tag, err := language.Parse(strings.TrimSpace(pref))
	if err != nil || tag == language.Und {
		return t.langs[0]
	}
	_, i, conf := t.matcher.Match(tag)
	if conf == language.No {
		return t.langs[0]
	}
	return t.langs[i]
}

// key is the template name of a message.
func key(a Audience, k courtside.NotificationKind, d courtside.DetailLevel) string {
	switch {
	case a == AudienceVictim && d == courtside.DetailContentFree:
		return "VICTIM/CONTENT_FREE"
	case a == AudienceVictim:
		return string(a) + "/" + string(k) + "/" + string(d)
	}
	return string(a) + "/" + string(k)
}

// header is a section header as written in a file for key.
func header(a Audience, k courtside.NotificationKind, d courtside.DetailLevel) string {
	s := strings.ToLower(string(a))
	if a == AudienceVictim && d == courtside.DetailContentFree {
		return s + " CONTENT_FREE"
	}
	s += " " + string(k)
	if a == AudienceVictim {
		s += " " + string(d)
	}
	return s
}

// Render puts n into words in the recipient's language. The template is handed only what n's
// audience and detail level may be told: a MINIMAL message gets no court, courtroom, address,
// docket or hearing kind, and a CONTENT_FREE one nothing about the hearing at all.
func (t *Templates) Render(n Notice) (Rendered, error) {
	if !Receives(n.Audience, n.Kind) {
		return Rendered{}, courtside.Errorf(courtside.EINVALID, "No %s message is sent to audience %q.", n.Kind, n.Audience)
	}
	switch n.Channel {
	case courtside.ChannelEmail, courtside.ChannelSMS, courtside.ChannelWebhook:
	default:
		return Rendered{}, courtside.Errorf(courtside.EINVALID, "Channel %q is not one of EMAIL, SMS, WEBHOOK.", n.Channel)
	}
	detail := courtside.DetailFull
	if n.Audience == AudienceVictim {
		switch n.Detail {
		case courtside.DetailFull, courtside.DetailMinimal, courtside.DetailContentFree:
			detail = n.Detail
		default:
			return Rendered{}, courtside.Errorf(courtside.EINVALID, "Detail level %q is not one of FULL, MINIMAL, CONTENT_FREE.", n.Detail)
		}
	}
	if n.Hearing.StartsAt.IsZero() && AboutAHearing(n.Kind) {
		return Rendered{}, courtside.Errorf(courtside.EINVALID, "A %s message needs the hearing's start time.", n.Kind)
	}
	for _, u := range []string{n.RespondURL, n.AckURL} {
		if u != "" {
			if err := checkURL(u, n.Channel); err != nil {
				return Rendered{}, err
			}
		}
	}
	if n.Channel == courtside.ChannelSMS && len(n.AckURL) > MaxAckURL {
		return Rendered{}, courtside.Errorf(courtside.EINVALID, "The acknowledgement link is %d characters; a text message allows %d.", len(n.AckURL), MaxAckURL)
	}
	l := t.match(n.Language)
	return l.render(n, detail)
}

// MaxSMSURL is the longest link (to respond to an offer, or acknowledge a notice) a text
// message may carry; an e-mail may carry links of up to 2000 characters.
const MaxSMSURL = 120

// MaxAckURL is the longest acknowledgement link a text message to a victim may carry: with it,
// its acknowledgement line fits in MaxAckLineLength characters in every language.
const MaxAckURL = 80

// checkURL accepts an http or https link with no spaces or control characters, short enough
// for the channel.
func checkURL(u string, c courtside.Channel) error {
	limit := 2000
	if c == courtside.ChannelSMS {
		limit = MaxSMSURL
	}
	if !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) ||
		strings.IndexFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f || r > 0x7e }) >= 0 {
		return courtside.Errorf(courtside.EINVALID, "A link must be an http(s) URL without spaces.")
	}
	if len(u) > limit {
		return courtside.Errorf(courtside.EINVALID, "The link is %d characters; a %s message allows %d.", len(u), c, limit)
	}
	return nil
}

// view is what a template sees.
type view struct {
	// Email is true for e-mail and webhook messages, which have room for more lines; SMS is
	// true for text messages.
	Email, SMS bool
	// Hearing is nil in a CONTENT_FREE message.
	Hearing *facts
	// Before is the hearing before a change, or nil.
	Before *facts
	// Lead is how long before the hearing a reminder goes out; zero when unknown.
	Lead       time.Duration
	RespondURL string
	RespondBy  time.Time
	// Language2 is the name of the interpreting language needed, in the recipient's language.
	Language2 string
	Reason    string
	Sender    string
	// AckURL is the link a victim acknowledges the notice with, at every detail level.
	AckURL string
	// Pseudonym, NoticeKind, SentAt, Channels and Request are for staff: the victim a message
	// is about, the unacknowledged notice, what the victim asked for.
	Pseudonym  string
	NoticeKind string
	SentAt     time.Time
	Channels   []string
	Request    string
}

// facts are a hearing's facts as a template sees them: times in the recipient's zone, text
// cleaned of line breaks and capped.
type facts struct {
	Kind                              string
	StartsAt, EndsAt                  time.Time
	Court, Courtroom, Address, Docket string
	Status                            string
}

// lengths caps the free-text fields, by channel: an SMS has no room for a long court name.
type lengths struct{ court, room, address, docket, reason, sender, language, pseudonym int }

var (
	emailLengths = lengths{court: 200, room: 100, address: 300, docket: 100, reason: 200, sender: 100, language: 60, pseudonym: 100}
	smsLengths   = lengths{court: 36, room: 12, address: 0, docket: 24, reason: 40, sender: 30, language: 24, pseudonym: 20}
)

func (l *lang) view(n Notice, detail courtside.DetailLevel) *view {
	zone := n.Zone
	if zone == nil {
		zone = time.UTC
	}
	sms := n.Channel == courtside.ChannelSMS
	max := emailLengths
	if sms {
		max = smsLengths
	}
	v := &view{Email: !sms, SMS: sms, AckURL: n.AckURL}
	if n.Audience != AudienceVictim {
		v.Pseudonym = clean(n.Pseudonym, max.pseudonym)
		v.NoticeKind = string(n.NoticeKind)
		v.SentAt = local(n.SentAt, zone)
		for _, c := range n.Channels {
			v.Channels = append(v.Channels, string(c))
		}
		v.Request = string(n.Request)
	}
	if detail == courtside.DetailContentFree {
		return v
	}
	conv := func(h HearingFacts) *facts {
		f := &facts{StartsAt: local(h.StartsAt, zone), EndsAt: local(h.EndsAt, zone), Status: clean(h.Status, 40)}
		if detail == courtside.DetailFull {
			f.Kind = clean(h.Kind, 40)
			f.Court = clean(h.Court, max.court)
			f.Courtroom = clean(h.Courtroom, max.room)
			f.Address = clean(h.Address, max.address)
			f.Docket = clean(h.Docket, max.docket)
		}
		return f
	}
	v.Hearing = conv(n.Hearing)
	if n.Before != nil {
		v.Before = conv(*n.Before)
	}
	v.Lead = n.Lead
	if detail != courtside.DetailFull {
		return v
	}
	v.RespondURL = n.RespondURL
	v.RespondBy = local(n.RespondBy, zone)
	if n.Language2 != "" {
		v.Language2 = clean(l.languageName(n.Language2), max.language)
	}
	v.Reason = clean(n.Reason, max.reason)
	v.Sender = clean(n.SenderName, max.sender)
	return v
}

func local(t time.Time, zone *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(zone)
}

// clean turns control characters (line breaks above all) into spaces, squeezes spaces, and
// cuts s to at most max characters, ending with an ellipsis when cut.
func clean(s string, max int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	}), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

func (l *lang) render(n Notice, detail courtside.DetailLevel) (Rendered, error) {
	return l.renderMessage(n, detail, true)
}

// renderMessage renders n; withAck adds a victim's acknowledgement line (the acknowledgement
// page shows the message without it).
func (l *lang) renderMessage(n Notice, detail courtside.DetailLevel, withAck bool) (Rendered, error) {
	name := key(n.Audience, n.Kind, detail)
	v := l.view(n, detail)
	var subj, body bytes.Buffer
	if err := l.tmpl.ExecuteTemplate(&subj, name+"/subject", v); err != nil {
		return Rendered{}, fmt.Errorf("notify: %s: %s: %w", l.file, header(n.Audience, n.Kind, detail), err)
	}
	if err := l.tmpl.ExecuteTemplate(&body, name+"/body", v); err != nil {
		return Rendered{}, fmt.Errorf("notify: %s: %s: %w", l.file, header(n.Audience, n.Kind, detail), err)
	}
	r := Rendered{Subject: clean(subj.String(), 200), Body: tidy(body.String()), Language: l.name}
	if n.Channel == courtside.ChannelSMS {
		r.Subject = ""
		if c := utf8.RuneCountInString(r.Body); c > MaxSMSLength {
			return Rendered{}, courtside.Errorf(courtside.EINVALID, "The %s text message is %d characters, over the limit of %d.", n.Kind, c, MaxSMSLength)
		}
	}
	if n.Audience == AudienceVictim && withAck {
		// Every message to a victim ends with how to acknowledge it: a line of its own, with
		// a budget of its own on SMS.
		var ack bytes.Buffer
		if err := l.tmpl.ExecuteTemplate(&ack, "ack", v); err != nil {
			return Rendered{}, fmt.Errorf("notify: %s: define ack: %w", l.file, err)
		}
		line := tidy(ack.String())
		if c := utf8.RuneCountInString(line); n.Channel == courtside.ChannelSMS && c > MaxAckLineLength {
			return Rendered{}, courtside.Errorf(courtside.EINVALID, "The acknowledgement line of a text message is %d characters, over the limit of %d.", c, MaxAckLineLength)
		}
		if line != "" {
			r.Body += "\n\n" + line
		}
	}
	if strings.Contains(r.Subject+r.Body, "<no value>") {
		return Rendered{}, fmt.Errorf("notify: %s: %s renders a missing value", l.file, header(n.Audience, n.Kind, detail))
	}
	return r, nil
}

// tidy trims spaces at the ends of lines, squeezes runs of blank lines into one, and trims
// blank lines at both ends, so that templates may use {{if}} on lines of their own.
func tidy(s string) string {
	var out []string
	blank := true
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r", ""), "\n") {
		line = strings.TrimRightFunc(line, unicode.IsSpace)
		if line == "" {
			if !blank {
				out = append(out, "")
			}
			blank = true
			continue
		}
		out = append(out, line)
		blank = false
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// The template functions. Times reach them already in the recipient's zone.
func (l *lang) funcs() template.FuncMap {
	return template.FuncMap{
		"date": l.formatDate,
		"time": l.formatTime,
		"lead": l.formatLead,
		"kind": l.kindName,
		"cap":  capFirst,
		"notice": func(k string) string {
			return l.notices[k]
		},
		"channels": func(cs []string) string {
			names := make([]string, len(cs))
			for i, c := range cs {
				names[i] = l.chans[c]
			}
			return strings.Join(names, ", ")
		},
		"request": func(k string) string { return l.requests[k] },
	}
}

func (l *lang) formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strings.NewReplacer(
		"{weekday}", l.weekdays[t.Weekday()],
		"{day}", strconv.Itoa(t.Day()),
		"{month}", l.months[t.Month()-1],
		"{monthnum}", strconv.Itoa(int(t.Month())),
		"{year}", strconv.Itoa(t.Year()),
	).Replace(l.date)
}

func (l *lang) formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	h12 := t.Hour() % 12
	if h12 == 0 {
		h12 = 12
	}
	ampm := l.am
	if t.Hour() >= 12 {
		ampm = l.pm
	}
	return strings.NewReplacer(
		"{h12}", strconv.Itoa(h12),
		"{h24}", strconv.Itoa(t.Hour()),
		"{hh24}", fmt.Sprintf("%02d", t.Hour()),
		"{mm}", fmt.Sprintf("%02d", t.Minute()),
		"{ampm}", ampm,
	).Replace(l.clock)
}

// formatLead says how far off the hearing is: "tomorrow" for a lead of about a day, "in 7
// days", "in 2 hours" (whole hours, rounded down), "in 30 minutes"; "" for no lead.
func (l *lang) formatLead(d time.Duration) string {
	var unit string
	var n int
	switch {
	case d <= 0:
		return ""
	case d < time.Hour:
		unit, n = "minutes", max(1, int(d/time.Minute))
	case d < 20*time.Hour:
		unit, n = "hours", int(d/time.Hour)
	default:
		n = int((d + 12*time.Hour) / (24 * time.Hour))
		if n == 1 {
			return l.leads["tomorrow"]
		}
		unit = "days"
	}
	form := "other"
	switch plural.Cardinal.MatchPlural(l.tag, n, 0, 0, 0, 0) {
	case plural.Zero:
		form = "zero"
	case plural.One:
		form = "one"
	case plural.Two:
		form = "two"
	case plural.Few:
		form = "few"
	case plural.Many:
		form = "many"
	}
	s, ok := l.leads[unit+"."+form]
	if !ok {
		s = l.leads[unit+".other"]
	}
	return strings.ReplaceAll(s, "{n}", strconv.Itoa(n))
}

// kindName names a hearing kind; an unknown kind is named as OTHER, and no kind (a MINIMAL
// message) as nothing.
func (l *lang) kindName(k string) string {
	if k == "" {
		return ""
	}
	if s, ok := l.kinds[strings.ToUpper(k)]; ok {
		return s
	}
	return l.kinds[string(courtside.KindOther)]
}

// languageName names the language tagged tag in l's language: the file's own name for it,
// else x/text's, else English's, else the tag as given.
func (l *lang) languageName(tag string) string {
	tag = clean(tag, 35)
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	if s, ok := l.names[t.String()]; ok {
		return s
	}
	if base, _ := t.Base(); l.names[base.String()] != "" {
		return l.names[base.String()]
	}
	for _, namer := range []display.Namer{display.Languages(l.tag), display.English.Languages()} {
		if namer == nil {
			continue
		}
		if s := namer.Name(t); s != "" {
			return s
		}
	}
	return tag
}

func capFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// section is one "== ..." part of a file.
type section struct {
	head string
	line int // of the header
	text []string
}

// parseLang parses one language's file.
func parseLang(name string, src source) (*lang, error) {
	tag, err := language.Parse(name)
	if err != nil || tag == language.Und {
		return nil, fmt.Errorf("%s: the file name must be a BCP 47 language tag such as es.txt or zh-Hans.txt", src.label)
	}
	if !utf8.Valid(src.data) {
		return nil, fmt.Errorf("%s: the file is not UTF-8", src.label)
	}
	l := &lang{name: name, tag: tag, file: src.label, leads: map[string]string{}, kinds: map[string]string{}, names: map[string]string{},
		notices: map[string]string{}, chans: map[string]string{}, requests: map[string]string{}, keywords: map[string][]string{},
		page: map[string]string{}}
	var sections []*section
	sc := bufio.NewScanner(bytes.NewReader(src.data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for i := 1; sc.Scan(); i++ {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "=="):
			sections = append(sections, &section{head: strings.Join(strings.Fields(line[2:]), " "), line: i})
		case len(sections) == 0:
			if strings.TrimSpace(line) != "" {
				return nil, fmt.Errorf("%s:%d: text before the first == section", src.label, i)
			}
		default:
			s := sections[len(sections)-1]
			s.text = append(s.text, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", src.label, err)
	}
	if len(sections) == 0 || sections[0].head != "meta" {
		return nil, fmt.Errorf("%s: the file must begin with a == meta section", src.label)
	}
	if err := l.parseMeta(sections[0]); err != nil {
		return nil, err
	}
	l.tmpl = template.New(name).Funcs(l.funcs()).Option("missingkey=error")
	seen := map[string]int{}
	for _, s := range sections[1:] {
		if err := l.parseSection(s, seen); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *lang) parseMeta(s *section) error {
	seen := map[string]bool{}
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
		if seen[k] {
			return fmt.Errorf("%s: %s is given twice", at, k)
		}
		seen[k] = true
		switch {
		case k == "name":
		case k == "months" || k == "weekdays":
			words := strings.Split(v, ",")
			want := map[string]int{"months": 12, "weekdays": 7}[k]
			if len(words) != want {
				return fmt.Errorf("%s: %s needs %d names separated by commas, not %d", at, k, want, len(words))
			}
			for j, w := range words {
				w = strings.TrimSpace(w)
				if w == "" {
					return fmt.Errorf("%s: %s: name %d is empty", at, k, j+1)
				}
				if k == "months" {
					l.months[j] = w
				} else {
					l.weekdays[j] = w
				}
			}
		case k == "date":
			l.date = v
		case k == "time":
			l.clock = v
		case k == "am":
			l.am = v
		case k == "pm":
			l.pm = v
		case strings.HasPrefix(k, "lead."):
			l.leads[strings.TrimPrefix(k, "lead.")] = v
		case strings.HasPrefix(k, "kind."):
			hk := strings.TrimPrefix(k, "kind.")
			if _, err := courtside.ParseHearingKind(hk); err != nil {
				return fmt.Errorf("%s: %s is not a hearing kind", at, hk)
			}
			l.kinds[hk] = v
		case strings.HasPrefix(k, "notice."):
			nk := courtside.NotificationKind(strings.TrimPrefix(k, "notice."))
			if !Receives(AudienceVictim, nk) {
				return fmt.Errorf("%s: %s is not a notice to a victim", at, nk)
			}
			l.notices[string(nk)] = v
		case strings.HasPrefix(k, "channel."):
			c, err := courtside.ParseChannel(strings.TrimPrefix(k, "channel."))
			if err != nil || string(c) != strings.TrimPrefix(k, "channel.") {
				return fmt.Errorf("%s: %s is not a channel", at, k)
			}
			l.chans[string(c)] = v
		case strings.HasPrefix(k, "request."):
			rk := courtside.RequestKind(strings.TrimPrefix(k, "request."))
			if !containsRequest(courtside.RequestKinds, rk) {
				return fmt.Errorf("%s: %s is not a request", at, rk)
			}
			l.requests[string(rk)] = v
		case strings.HasPrefix(k, "language."):
			t, err := language.Parse(strings.TrimPrefix(k, "language."))
			if err != nil {
				return fmt.Errorf("%s: %s is not a language tag", at, k)
			}
			l.names[t.String()] = v
		default:
			return fmt.Errorf("%s: unknown key %q", at, k)
		}
	}
	var missing []string
	for _, k := range []string{"name", "months", "weekdays", "date", "time", "lead.tomorrow", "lead.days.other", "lead.hours.other", "lead.minutes.other"} {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	if strings.Contains(l.clock, "{ampm}") && (l.am == "" || l.pm == "") {
		missing = append(missing, "am", "pm")
	}
	for _, hk := range courtside.HearingKinds {
		if l.kinds[string(hk)] == "" {
			missing = append(missing, "kind."+string(hk))
		}
	}
	for _, nk := range KindsFor(AudienceVictim) {
		if l.notices[string(nk)] == "" {
			missing = append(missing, "notice."+string(nk))
		}
	}
	for _, c := range courtside.Channels {
		if l.chans[string(c)] == "" {
			missing = append(missing, "channel."+string(c))
		}
	}
	for _, rk := range courtside.RequestKinds {
		if l.requests[string(rk)] == "" {
			missing = append(missing, "request."+string(rk))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s:%d: meta is missing %s", l.file, s.line, strings.Join(missing, ", "))
	}
	return nil
}

// parseSection parses a message section ("victim REMINDER FULL") or a shared one ("define
// where").
func (l *lang) parseSection(s *section, seen map[string]int) error {
	at := fmt.Sprintf("%s:%d", l.file, s.line)
	f := strings.Fields(s.head)
	switch {
	case len(f) == 1 && (f[0] == "keywords" || f[0] == "page"):
		if prev, dup := seen[f[0]]; dup {
			return fmt.Errorf("%s: == %s is given twice (first at line %d)", at, f[0], prev)
		}
		seen[f[0]] = s.line
		return l.parseWords(s, f[0])
	case len(f) == 2 && f[0] == "reply":
		if !containsReply(f[1]) {
			return fmt.Errorf("%s: == reply %s: a reply is one of %s", at, f[1], strings.Join(replyNames(), ", "))
		}
		if prev, dup := seen["reply "+f[1]]; dup {
			return fmt.Errorf("%s: == reply %s is given twice (first at line %d)", at, f[1], prev)
		}
		seen["reply "+f[1]] = s.line
		body := strings.Trim(strings.Join(s.text, "\n"), "\n")
		if strings.TrimSpace(body) == "" {
			return fmt.Errorf("%s: == reply %s: the body is empty", at, f[1])
		}
		if _, err := l.tmpl.New("reply/" + f[1]).Parse(body); err != nil {
			return fmt.Errorf("%s: == reply %s: %w", at, f[1], err)
		}
		return nil
	}
	if len(f) == 2 && f[0] == "define" {
		if prev, dup := seen["define "+f[1]]; dup {
			return fmt.Errorf("%s: define %s is given twice (first at line %d)", at, f[1], prev)
		}
		seen["define "+f[1]] = s.line
		if _, err := l.tmpl.New(f[1]).Parse(strings.Trim(strings.Join(s.text, "\n"), "\n")); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		return nil
	}
	name, err := sectionKey(f)
	if err != nil {
		return fmt.Errorf("%s: == %s: %w", at, s.head, err)
	}
	if prev, dup := seen[name]; dup {
		return fmt.Errorf("%s: == %s is given twice (first at line %d)", at, s.head, prev)
	}
	seen[name] = s.line
	i := 0
	for i < len(s.text) && strings.TrimSpace(s.text[i]) == "" {
		i++
	}
	if i == len(s.text) || !strings.HasPrefix(s.text[i], "Subject:") {
		return fmt.Errorf("%s: == %s: the first line must be Subject: ...", at, s.head)
	}
	subject := strings.TrimSpace(strings.TrimPrefix(s.text[i], "Subject:"))
	body := strings.Trim(strings.Join(s.text[i+1:], "\n"), "\n")
	if strings.TrimSpace(body) == "" {
		return fmt.Errorf("%s: == %s: the body is empty", at, s.head)
	}
	if _, err := l.tmpl.New(name + "/subject").Parse(subject); err != nil {
		return fmt.Errorf("%s: == %s: subject: %w", at, s.head, err)
	}
	if _, err := l.tmpl.New(name + "/body").Parse(body); err != nil {
		return fmt.Errorf("%s: == %s: body: %w", at, s.head, err)
	}
	return nil
}

// sectionKey checks a section header's words and returns the template name.
func sectionKey(f []string) (string, error) {
	if len(f) < 2 {
		return "", fmt.Errorf("write audience KIND [DETAIL], e.g. victim REMINDER FULL")
	}
	a := Audience(strings.ToUpper(f[0]))
	if _, ok := receives[a]; !ok {
		return "", fmt.Errorf("unknown audience %q", f[0])
	}
	if a == AudienceVictim && len(f) == 2 && f[1] == string(courtside.DetailContentFree) {
		return key(a, "", courtside.DetailContentFree), nil
	}
	k := courtside.NotificationKind(f[1])
	if !Receives(a, k) {
		return "", fmt.Errorf("no %s message is sent to %s", f[1], f[0])
	}
	if a != AudienceVictim {
		if len(f) != 2 {
			return "", fmt.Errorf("staff messages have no detail level")
		}
		return key(a, k, courtside.DetailFull), nil
	}
	if len(f) != 3 || (f[2] != string(courtside.DetailFull) && f[2] != string(courtside.DetailMinimal)) {
		return "", fmt.Errorf("a victim message needs FULL or MINIMAL (CONTENT_FREE is one section for every kind)")
	}
	return key(a, k, courtside.DetailLevel(f[2])), nil
}

// check makes sure every message the language needs is there and renders on every channel
// from a sample with the longest words and fields there can be, and that every text message
// fits.
func (l *lang) check() error {
	var missing []string
	for _, a := range Audiences {
		for _, k := range KindsFor(a) {
			for _, d := range DetailsFor(a) {
				if l.tmpl.Lookup(key(a, k, d)+"/body") == nil && !contains(missing, header(a, k, d)) {
					missing = append(missing, header(a, k, d))
				}
			}
		}
	}
	if l.tmpl.Lookup("ack") == nil {
		missing = append(missing, "define ack")
	}
	for _, r := range replyNames() {
		if l.tmpl.Lookup("reply/"+r) == nil {
			missing = append(missing, "reply "+r)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing sections: == %s", strings.Join(missing, ", == "))
	}
	if err := l.checkWords(); err != nil {
		return err
	}
	for _, r := range replyNames() {
		for _, h := range []courtside.SMSHelpSettings{{}, {NeutralName: strings.Repeat("W", 40), Reach: strings.Repeat("W", 60)}} {
			if _, err := l.reply(courtside.SMSReply(r), h); err != nil {
				return err
			}
		}
	}
	for _, n := range sampleNotices(l) {
		if _, err := l.render(n, n.Detail); err != nil {
			return fmt.Errorf("== %s on %s: %w", header(n.Audience, n.Kind, n.Detail), n.Channel, err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sampleNotices returns one notice for every message the language has, on every channel,
// with fields as long as a text message allows and the language's longest weekday and month.
func sampleNotices(l *lang) []Notice {
	longest := func(words []string) int {
		best := 0
		for i, w := range words {
			if utf8.RuneCountInString(w) > utf8.RuneCountInString(words[best]) {
				best = i
			}
		}
		return best
	}
	month, weekday := time.Month(longest(l.months[:])+1), time.Weekday(longest(l.weekdays[:]))
	// A two-digit day late in the evening, in a month and on a weekday with the longest names.
	start := time.Date(2030, month, 20, 22, 58, 0, 0, time.UTC)
	for start.Month() != month || start.Weekday() != weekday || start.Day() < 20 {
		start = start.AddDate(0, 0, 1)
	}
	long := func(n int) string { return strings.Repeat("W", n) }
	kind := string(courtside.KindOther)
	for k, s := range l.kinds {
		if utf8.RuneCountInString(s) > utf8.RuneCountInString(l.kinds[kind]) {
			kind = k
		}
	}
	h := HearingFacts{Kind: kind, StartsAt: start, EndsAt: start.Add(time.Hour), Court: long(200),
		Courtroom: long(100), Address: long(300), Docket: long(100), Status: "SCHEDULED"}
	before := h
	before.StartsAt = start.AddDate(0, 0, -7)
	var out []Notice
	for _, a := range Audiences {
		for _, k := range KindsFor(a) {
			for _, d := range DetailsFor(a) {
				for _, c := range []courtside.Channel{courtside.ChannelEmail, courtside.ChannelSMS} {
					out = append(out, Notice{Kind: k, Audience: a, Detail: d, Channel: c, Zone: time.UTC,
						Hearing: h, Before: &before, Lead: 2 * time.Hour, Language2: long(60),
						RespondURL: "https://" + long(MaxSMSURL-8), RespondBy: start.AddDate(0, 0, -9),
						Reason: long(100), SenderName: long(100), AckURL: "https://" + long(MaxAckURL-8),
						Pseudonym: long(100), NoticeKind: longestNotice(l), SentAt: start.AddDate(0, 0, -8),
						Channels: courtside.Channels, Request: longestRequest(l)})
				}
			}
		}
	}
	return out
}
