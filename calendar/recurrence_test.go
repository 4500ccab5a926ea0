package calendar

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// ruleWalk expands value from dtstart under budget steps and returns the first max
// occurrences, the steps left and the error.
func ruleWalk(t *testing.T, value string, dtstart time.Time, budget, max int) ([]time.Time, int, error) {
	t.Helper()
	opt, err := parseRule(value)
	if err != nil {
		t.Fatalf("%s: %v", value, err)
	}
	r, err := newRecurrence(opt, dtstart)
	if err != nil {
		t.Fatalf("%s: %v", value, err)
	}
	e := r.expand(budget, time.Time{})
	var out []time.Time
	for len(out) < max {
		next, ok, err := e.next()
		if err != nil {
			return out, e.steps, err
		}
		if !ok {
			break
		}
		out = append(out, next)
	}
	return out, e.steps, nil
}

// TestRecurrence_MatchesRRuleGo expands 4,000 random rules of every frequency, with every
// BYxxx part in the combinations RFC 5545 allows, each ending by COUNT, and compares the
// occurrences with rrule-go's (python-dateutil's semantics). Only rules that reach their COUNT
// within the budget are compared, so rrule-go stops where ours does.
func TestRecurrence_MatchesRRuleGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 2026))
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	pick := func(n, lo, hi int, signed bool) string { // up to n distinct values
		var vals []string
		for range 1 + rng.IntN(n) {
			v := lo + rng.IntN(hi-lo+1)
			if signed && rng.IntN(3) == 0 {
				v = -v
			}
			if !slices.Contains(vals, fmt.Sprint(v)) {
				vals = append(vals, fmt.Sprint(v))
			}
		}
		return strings.Join(vals, ",")
	}
	days := []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
	freqs := []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"}
	compared := 0
	for i := range 4000 {
		freq := freqs[rng.IntN(len(freqs))]
		parts := []string{"FREQ=" + freq, fmt.Sprintf("COUNT=%d", 1+rng.IntN(40))}
		if rng.IntN(2) == 0 {
			parts = append(parts, fmt.Sprintf("INTERVAL=%d", 1+rng.IntN(4)))
		}
		if rng.IntN(3) == 0 {
			parts = append(parts, "WKST="+days[rng.IntN(7)])
		}
		if rng.IntN(3) == 0 {
			parts = append(parts, "BYMONTH="+pick(3, 1, 12, false))
		}
		if freq != "WEEKLY" && rng.IntN(3) == 0 {
			parts = append(parts, "BYMONTHDAY="+pick(3, 1, 31, true))
		}
		if (freq == "YEARLY" || freq == "HOURLY") && rng.IntN(4) == 0 {
			parts = append(parts, "BYYEARDAY="+pick(3, 1, 366, true))
		}
		weekno := freq == "YEARLY" && rng.IntN(4) == 0
		if weekno {
			// Weeks 1 to 51: dateutil counts the weeks of the year before from the current
			// year's length, and can call the last days of a 52-week year week 53.
			parts = append(parts, "BYWEEKNO="+pick(3, 1, 51, false))
		}
		if rng.IntN(2) == 0 {
			// Plain days, or (MONTHLY and YEARLY without BYWEEKNO) numbered ones; not both,
			// where dateutil and RFC 5545 differ.
			var ds []string
			numbered := (freq == "MONTHLY" || freq == "YEARLY") && !weekno && rng.IntN(2) == 0
			for _, k := range rng.Perm(7)[:1+rng.IntN(3)] {
				d := days[k]
				if numbered {
					n := 1 + rng.IntN(5)
					if freq == "YEARLY" && !strings.Contains(strings.Join(parts, ";"), "BYMONTH=") {
						n = 1 + rng.IntN(53)
					}
					if rng.IntN(3) == 0 {
						n = -n
					}
					d = fmt.Sprint(n) + d
				}
				ds = append(ds, d)
			}
			parts = append(parts, "BYDAY="+strings.Join(ds, ","))
		}
		if freq != "HOURLY" && rng.IntN(4) == 0 {
			parts = append(parts, "BYHOUR="+pick(3, 0, 23, false))
		}
		if rng.IntN(4) == 0 {
			parts = append(parts, "BYMINUTE="+pick(2, 0, 59, false))
		}
		if rng.IntN(5) == 0 {
			parts = append(parts, "BYSETPOS="+pick(2, 1, 6, true))
		}
		rule := strings.Join(parts, ";")
		loc := time.UTC
		if i%3 == 0 {
			loc = ny
		}
		dtstart := time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(4)*15, 0, 0, loc)

		opt, err := parseRule(rule)
		if err != nil {
			t.Fatalf("%s: %v", rule, err)
		}
		mine, _, err := ruleWalk(t, rule, dtstart, 20_000, 1000)
		if errors.Is(err, errExpansionBudget) || len(mine) < opt.Count {
			continue // sparse or empty: rrule-go would walk on to the year 9999
		}
		if err != nil {
			t.Fatalf("%s from %v: %v", rule, dtstart, err)
		}
		opt.Dtstart = dtstart
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			t.Fatalf("%s: rrule-go: %v", rule, err)
		}
		theirs := r.All()
		// rrule-go stops a rule without UNTIL about 290 years after DTSTART: compare the
		// first 250 years.
		horizon := dtstart.AddDate(250, 0, 0)
		mine = slices.DeleteFunc(mine, func(t time.Time) bool { return t.After(horizon) })
		theirs = slices.DeleteFunc(theirs, func(t time.Time) bool { return t.After(horizon) })
		if !slices.EqualFunc(mine, theirs, func(a, b time.Time) bool { return a.Equal(b) }) {
			t.Errorf("%s from %v:\n ours   %v\n rrule-go %v", rule, dtstart, mine, theirs)
		}
		compared++
	}
	t.Logf("compared %d rules", compared)
	if compared < 1500 {
		t.Fatalf("only %d of 4,000 random rules were compared", compared)
	}
}

// TestRecurrence_BudgetIsSpentInsideTheIteration expands rules that rrule-go cannot finish:
// one that never matches (it walks to the year 9999 without yielding), one whose BYSETPOS
// never picks, and one whose hours never meet BYHOUR (rrule-go loops forever). Each ends with
// errExpansionBudget, having found nothing, once exactly its steps are spent.
func TestRecurrence_BudgetIsSpentInsideTheIteration(t *testing.T) {
	dtstart := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for _, rule := range []string{
		"FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31",
		"FREQ=HOURLY;BYSETPOS=2",
		"FREQ=HOURLY;INTERVAL=24;BYHOUR=5",
		"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=MINUTELY",
	} {
		if strings.Contains(rule, "MINUTELY") {
			if _, err := parseRule(rule); err == nil {
				t.Errorf("%s: accepted", rule)
			}
			continue
		}
		got, left, err := ruleWalk(t, rule, dtstart, 10_000, 1)
		if !errors.Is(err, errExpansionBudget) || len(got) != 0 || left >= 0 {
			t.Errorf("%s: %v, %d steps left, %v; want the budget spent, nothing found", rule, got, left, err)
		}
	}
	// A rule that ends without matching anything ends without spending its budget.
	got, left, err := ruleWalk(t, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", dtstart, 100_000, 1)
	if err != nil || len(got) != 0 || left <= 0 {
		t.Errorf("yearly on 30 February: %v, %d left, %v; want none, ended", got, left, err)
	}
}

// TestRecurrence_RFCRestrictions refuses the combinations RFC 5545 forbids, and BYEASTER.
func TestRecurrence_RFCRestrictions(t *testing.T) {
	dtstart := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for _, rule := range []string{
		"FREQ=MONTHLY;BYWEEKNO=3", "FREQ=DAILY;BYYEARDAY=100", "FREQ=WEEKLY;BYMONTHDAY=3",
		"FREQ=WEEKLY;BYDAY=2MO", "FREQ=YEARLY;BYWEEKNO=3;BYDAY=1MO", "FREQ=YEARLY;BYEASTER=0",
		"FREQ=YEARLY;BYMONTH=13", "FREQ=MONTHLY;BYMONTHDAY=0", "FREQ=DAILY;BYHOUR=24", "FREQ=MONTHLY;BYDAY=60MO",
	} {
		opt, err := parseRule(rule)
		if err == nil {
			_, err = newRecurrence(opt, dtstart)
		}
		var oe *objectError
		if !errors.As(err, &oe) || oe.status != 400 {
			t.Errorf("%s: %v, want 400", rule, err)
		}
	}
}

// referenceOccurrences expands an object's VEVENTs with rrule-go's recurrence set (RRULE,
// RDATE, EXDATE) and the overrides, independently of recurrence.go and parsedObject.
// occurrences, for rules rrule-go can expand: the oracle of the tests below. until bounds
// endless rules.
func referenceOccurrences(t testing.TB, po *parsedObject, until time.Time) []instance {
	t.Helper()
	var out []instance
	overridden := map[int64]bool{}
	for _, o := range po.overrides {
		rid, _ := po.time(o.Props.Get(ical.PropRecurrenceID))
		overridden[rid.Unix()] = true
		s, d, _ := po.span(o)
		out = append(out, instance{comp: o, start: s, end: s.Add(d)})
	}
	m := po.master
	if m == nil {
		return out
	}
	start, d, _ := po.span(m)
	set := &rrule.Set{}
	set.DTStart(start)
	if rp := m.Props.Get(ical.PropRecurrenceRule); rp != nil {
		opt, err := parseRule(rp.Value)
		if err != nil {
			t.Fatal(err)
		}
		opt.Dtstart = start
		if !opt.Until.IsZero() && isDate(m.Props.Get(ical.PropDateTimeStart)) {
			opt.Until = time.Date(opt.Until.Year(), opt.Until.Month(), opt.Until.Day(), 23, 59, 59, 0, po.loc)
		}
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			t.Fatal(err)
		}
		set.RRule(r)
	} else {
		set.RDate(start)
	}
	for i := range m.Props.Values(ical.PropRecurrenceDates) {
		ts, _ := po.times(&m.Props.Values(ical.PropRecurrenceDates)[i])
		for _, t := range ts {
			set.RDate(t)
		}
	}
	for i := range m.Props.Values(ical.PropExceptionDates) {
		ts, _ := po.times(&m.Props.Values(ical.PropExceptionDates)[i])
		for _, t := range ts {
			set.ExDate(t)
		}
	}
	for _, t := range set.Between(time.Time{}, until, true) {
		if !overridden[t.Unix()] {
			out = append(out, instance{comp: m, start: t, end: t.Add(d)})
		}
	}
	return out
}

// matchesReference decides a time range by RFC 4791 section 9.9 over occurrences: one that
// overlaps it, or a zero-length one that starts in it.
func matchesReference(insts []instance, tr timeRange) bool {
	for _, in := range insts {
		if !in.end.After(in.start) {
			if (tr.start.IsZero() || !in.start.Before(tr.start)) && (tr.end.IsZero() || in.start.Before(tr.end)) {
				return true
			}
			continue
		}
		if tr.overlaps(in.start, in.end) {
			return true
		}
	}
	return false
}

// ReferenceMatch reports whether the calendar object data matches the time range [from, to)
// (zero bounds open) by RFC 4791 section 9.9, from rrule-go's expansion (referenceOccurrences):
// the oracle of the HTTP tests of package calendar_test.
func ReferenceMatch(t testing.TB, data string, from, to time.Time) bool {
	t.Helper()
	po, err := parseObject([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return matchesReference(referenceOccurrences(t, po, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)), timeRange{from, to})
}
