package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"courtside"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The app speaks English and Spanish. Messages are golang.org/x/text/message catalog entries
// keyed by their English text (spanish.go holds the Spanish); the language is the cs_lang
// cookie's when set (the switch at the foot of every page), else the best match of the
// browser's Accept-Language, else English. Dates and times are written in the language's
// words and in the zone they belong to: a hearing's in its court's zone.

// languages are the app's languages, English first (the fallback).
var languages = []language.Tag{language.English, language.Spanish}

// languageByCode maps the cookie's values to the languages.
var languageByCode = map[string]language.Tag{"en": language.English, "es": language.Spanish}

var matcher = language.NewMatcher(languages)

// catalog holds every message in both languages.
var messages = func() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for en, es := range spanish {
		if err := b.SetString(language.Spanish, en, es); err != nil {
			panic(fmt.Sprintf("web: catalog entry %q: %v", en, err))
		}
		if err := b.SetString(language.English, en, en); err != nil {
			panic(fmt.Sprintf("web: catalog entry %q: %v", en, err))
		}
	}
	return b
}()

// chooseLanguage returns the language of r: the cookie's, else Accept-Language's best match.
func chooseLanguage(r *http.Request) language.Tag {
	for _, name := range []string{"cs_lang", "__Host-cs_lang"} {
		if c, err := r.Cookie(name); err == nil {
			if tag, ok := languageByCode[c.Value]; ok {
				return tag
			}
		}
	}
	if h := r.Header.Get("Accept-Language"); h != "" && len(h) < 500 {
		if tags, _, err := language.ParseAcceptLanguage(h); err == nil && len(tags) > 0 {
			_, i, conf := matcher.Match(tags...)
			if conf != language.No {
				return languages[i]
			}
		}
	}
	return language.English
}

// T translates an English message into the request's language, formatting args into it.
// A message without arguments is looked up in a table made once per language: a page of 200
// hearings asks for the same few labels thousands of times.
func (rq *request) T(key string, args ...any) string {
	if len(args) == 0 {
		if m := plainMessages[rq.Lang]; m != nil {
			if s, ok := m[key]; ok {
				return s
			}
		}
	}
	return rq.printer.Sprintf(key, args...)
}

// plainMessages holds, per language, every catalog message that takes no argument, as the
// printer renders it.
var plainMessages = func() map[language.Tag]map[string]string {
	out := map[language.Tag]map[string]string{}
	for _, tag := range languages {
		p := message.NewPrinter(tag, message.Catalog(messages))
		m := map[string]string{}
		for en := range spanish {
			if !strings.Contains(en, "%") {
				m[en] = p.Sprintf(en)
			}
		}
		out[tag] = m
	}
	return out
}()

// LangCode is the request's language as an HTML lang attribute.
func (rq *request) LangCode() string {
	if rq.Lang == language.Spanish {
		return "es"
	}
	return "en"
}

var (
	weekdaysEN = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	weekdaysES = [7]string{"dom", "lun", "mar", "mié", "jue", "vie", "sáb"}
	monthsEN   = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	monthsES   = [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"}
	longDaysEN = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	longDaysES = [7]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
)

// Date writes t's day in loc: "Mon 14 Dec 2026" or "lun 14 dic 2026".
func (rq *request) Date(t time.Time, loc *time.Location) string {
	t = t.In(locOrUTC(loc))
	if rq.Lang == language.Spanish {
		return fmt.Sprintf("%s %d %s %d", weekdaysES[t.Weekday()], t.Day(), monthsES[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%s %d %s %d", weekdaysEN[t.Weekday()], t.Day(), monthsEN[t.Month()-1], t.Year())
}

// DayName writes t's weekday and date in loc without the year: "Monday 14 Dec".
func (rq *request) DayName(t time.Time, loc *time.Location) string {
	t = t.In(locOrUTC(loc))
	if rq.Lang == language.Spanish {
		return fmt.Sprintf("%s %d %s", longDaysES[t.Weekday()], t.Day(), monthsES[t.Month()-1])
	}
	return fmt.Sprintf("%s %d %s", longDaysEN[t.Weekday()], t.Day(), monthsEN[t.Month()-1])
}

// Clock writes t's time of day in loc with the zone's abbreviation: "09:30 EST".
func (rq *request) Clock(t time.Time, loc *time.Location) string {
	return t.In(locOrUTC(loc)).Format("15:04 MST")
}

// DateTime writes t in loc: "Mon 14 Dec 2026, 09:30 EST".
func (rq *request) DateTime(t time.Time, loc *time.Location) string {
	return rq.Date(t, loc) + ", " + rq.Clock(t, loc)
}

// When writes an optional time in loc, or a dash.
func (rq *request) When(t *time.Time, loc *time.Location) string {
	if t == nil {
		return "—"
	}
	return rq.DateTime(*t, loc)
}

func locOrUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// Label translates an enumeration value of the domain (a hearing kind, a status, a role, a
// channel): "NEEDS_RECONFIRMATION" is "Needs reconfirmation" in English.
func (rq *request) Label(v any) string {
	s := fmt.Sprint(v)
	if s == "" {
		return ""
	}
	return rq.T(enLabel(s))
}

// enLabel is the English label of an enumeration value.
func enLabel(s string) string {
	switch s {
	case "SMS":
		return s
	case "EMAIL":
		return "E-mail"
	}
	if rest, ok := strings.CutPrefix(s, "SMS_"); ok {
		return "SMS " + strings.ToLower(strings.ReplaceAll(rest, "_", " "))
	}
	en := strings.ToLower(strings.ReplaceAll(s, "_", " "))
	return strings.ToUpper(en[:1]) + en[1:]
}

// enumLabels lists the English labels Label produces for the domain's enumerations, so that
// the catalog test can check each has its Spanish.
func enumLabels() []string {
	var vals []string
	for _, k := range courtside.HearingKinds {
		vals = append(vals, string(k))
	}
	for _, s := range []string{string(courtside.HearingScheduled), string(courtside.HearingContinued), string(courtside.HearingCancelled), string(courtside.HearingHeld),
		string(courtside.BookingOffered), string(courtside.BookingAccepted), string(courtside.BookingDeclined), string(courtside.BookingExpired),
		string(courtside.BookingNeedsReconfirmation), string(courtside.AccompanimentAssigned), string(courtside.AccompanimentConfirmed),
		string(courtside.DeliveryPending), string(courtside.DeliverySent), string(courtside.DeliveryDelivered), string(courtside.DeliveryFailed),
		string(courtside.DeliverySuppressed), string(courtside.TierCertified), string(courtside.TierProfessionallyQualified), string(courtside.TierLanguageSkilled),
		string(courtside.DetailFull), string(courtside.DetailMinimal), string(courtside.DetailContentFree),
		string(courtside.ConflictAdvocateDoubleBooked), string(courtside.ConflictInterpreterDoubleBooked), string(courtside.ConflictVictimOverlap),
		string(courtside.ConflictOutsideCourtHours)} {
		vals = append(vals, s)
	}
	for _, r := range courtside.Roles {
		vals = append(vals, string(r))
	}
	for _, c := range courtside.Channels {
		vals = append(vals, string(c))
	}
	for _, k := range courtside.NotificationKinds {
		vals = append(vals, string(k))
	}
	for _, k := range []courtside.OrganizationKind{courtside.KindProsecution, courtside.KindAdvocacy, courtside.KindInterpreting} {
		vals = append(vals, string(k))
	}
	for _, a := range []courtside.Audience{courtside.AudienceVictim, courtside.AudienceAdvocate, courtside.AudienceInterpreter, courtside.AudienceCoordinator} {
		vals = append(vals, string(a))
	}
	out := make([]string, len(vals))
	for i, s := range vals {
		out[i] = enLabel(s)
	}
	for _, k := range courtside.RequestKinds {
		out = append(out, VictimRequest{Kind: k}.Asks())
	}
	return out
}

// formatInt writes an integer.
func formatInt(n int64) string { return strconv.FormatInt(n, 10) }
