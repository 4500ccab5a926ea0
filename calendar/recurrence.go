package calendar

import (
	"errors"
	"slices"
	"time"

	"github.com/teambition/rrule-go"
)

// The expansion of an RRULE (RFC 5545 section 3.3.10) under a budget counted inside the
// iteration. The rule is parsed by rrule-go; the expansion is ours, because rrule-go's
// iterator runs without yielding until it finds the next occurrence or reaches the year 9999:
// a rule that never matches (FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=31) costs seconds, and some
// (FREQ=HOURLY;INTERVAL=24;BYHOUR=5 from 03:00) never return at all.
//
// The expansion walks the rule's periods (years, months, weeks, days or hours, INTERVAL apart)
// from DTSTART. Each period, each candidate day in it and each occurrence it builds costs one
// step; next fails with errExpansionBudget once the steps run out, whether or not an
// occurrence was found, so that no rule costs more than the budget. Filters are table lookups,
// so a step costs the same whatever the rule's lists hold.
//
// The semantics are those of python-dateutil (which rrule-go ports): BYxxx parts limit or
// expand as RFC 5545's table says, BYSETPOS picks among a period's occurrences in order, DTSTART
// is an occurrence only when the rule yields it, and occurrences are wall-clock times in
// DTSTART's zone. Where RFC 5545 forbids a combination (BYWEEKNO outside FREQ=YEARLY, BYYEARDAY
// with FREQ=DAILY, WEEKLY or MONTHLY, BYMONTHDAY with FREQ=WEEKLY, a numbered BYDAY outside
// FREQ=MONTHLY or YEARLY or with BYWEEKNO) the rule is refused when it is parsed. A BYDAY list
// that mixes plain and numbered days matches either (RFC 5545; dateutil requires both).

// errExpansionBudget reports that a rule's expansion ran out of steps (or time).
var errExpansionBudget = errors.New("calendar: recurrence expansion over its budget")

// maxRuleYear is the last year a rule is expanded into.
const maxRuleYear = 9999

// weekdayNum is one BYDAY entry: a weekday and, when n is not 0, its number within the month
// or year (negative from the end).
type weekdayNum struct {
	n   int
	day time.Weekday
}

// recurrence is a parsed RRULE with its DTSTART, ready to expand.
type recurrence struct {
	freq     rrule.Frequency // YEARLY to HOURLY; MINUTELY and SECONDLY are refused when parsed
	interval int
	count    int       // 0: no COUNT
	until    time.Time // zero: no UNTIL
	wkst     time.Weekday
	dtstart  time.Time

	byMonth    [13]bool
	anyMonth   bool
	months     []int // sorted BYMONTH
	byWeekNo   []int
	weekPos    [54]bool
	weekNeg    [54]bool
	yearDays   []int // BYYEARDAY as given
	yearPos    [367]bool
	yearNeg    [367]bool
	monthDays  []int // BYMONTHDAY as given
	mdayPos    [32]bool
	mdayNeg    [32]bool
	plainDays  [7]bool
	anyPlain   bool
	nthDays    []weekdayNum
	byHour     [24]bool
	anyHour    bool
	minutes    []int // sorted BYMINUTE (DTSTART's minute by default)
	seconds    []int // sorted BYSECOND (DTSTART's second by default)
	setPos     []int
	timeset    []clock // the times of a day, sorted, for FREQ above HOURLY
	dtstartDay int     // DTSTART's civil day number

	weekYears map[int][2]int // weekYear's answers by year, for BYWEEKNO
}

// clock is a time of day.
type clock struct{ h, m, s int }

// newRecurrence prepares opt (from parseRule) for expansion from dtstart, applying the defaults
// RFC 5545 takes from DTSTART. Its errors are *objectError.
func newRecurrence(opt *rrule.ROption, dtstart time.Time) (*recurrence, error) {
	r := &recurrence{freq: opt.Freq, interval: max(opt.Interval, 1), count: opt.Count, until: opt.Until,
		wkst: goWeekday(opt.Wkst.Day()), dtstart: dtstart.Truncate(time.Second)}
	if len(opt.Byeaster) > 0 {
		return nil, invalidData("BYEASTER is not part of iCalendar.")
	}
	switch {
	case len(opt.Byweekno) > 0 && r.freq != rrule.YEARLY:
		return nil, invalidData("BYWEEKNO is only allowed with FREQ=YEARLY.")
	case len(opt.Byyearday) > 0 && (r.freq == rrule.MONTHLY || r.freq == rrule.WEEKLY || r.freq == rrule.DAILY):
		return nil, invalidData("BYYEARDAY is not allowed with FREQ=MONTHLY, WEEKLY or DAILY.")
	case len(opt.Bymonthday) > 0 && r.freq == rrule.WEEKLY:
		return nil, invalidData("BYMONTHDAY is not allowed with FREQ=WEEKLY.")
	}
	inRange := func(name string, vals []int, lo, hi int, signed bool) error {
		for _, v := range vals {
			if (v < lo || v > hi) && (!signed || v > -lo || v < -hi) {
				return invalidData("%s holds a value out of range.", name)
			}
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		vals   []int
		lo, hi int
		signed bool
	}{
		{"BYMONTH", opt.Bymonth, 1, 12, false}, {"BYWEEKNO", opt.Byweekno, 1, 53, true},
		{"BYYEARDAY", opt.Byyearday, 1, 366, true}, {"BYMONTHDAY", opt.Bymonthday, 1, 31, true},
		{"BYHOUR", opt.Byhour, 0, 23, false}, {"BYMINUTE", opt.Byminute, 0, 59, false},
		{"BYSECOND", opt.Bysecond, 0, 59, false}, {"BYSETPOS", opt.Bysetpos, 1, 366, true},
	} {
		if err := inRange(c.name, c.vals, c.lo, c.hi, c.signed); err != nil {
			return nil, err
		}
	}
	for _, w := range opt.Byweekday {
		if w.N() < -53 || w.N() > 53 {
			return nil, invalidData("BYDAY holds a number out of range.")
		}
		if w.N() != 0 && (r.freq > rrule.MONTHLY || len(opt.Byweekno) > 0) {
			return nil, invalidData("A numbered BYDAY is only allowed with FREQ=MONTHLY or YEARLY, without BYWEEKNO.")
		}
	}

	bymonth, bymonthday, byweekday := opt.Bymonth, opt.Bymonthday, opt.Byweekday
	if len(opt.Byweekno) == 0 && len(opt.Byyearday) == 0 && len(bymonthday) == 0 && len(byweekday) == 0 {
		switch r.freq {
		case rrule.YEARLY:
			if len(bymonth) == 0 {
				bymonth = []int{int(r.dtstart.Month())}
			}
			bymonthday = []int{r.dtstart.Day()}
		case rrule.MONTHLY:
			bymonthday = []int{r.dtstart.Day()}
		case rrule.WEEKLY:
			byweekday = []rrule.Weekday{pyWeekday(r.dtstart.Weekday())}
		}
	}
	for _, m := range bymonth {
		r.byMonth[m], r.anyMonth = true, true
	}
	r.months = sortedUnique(bymonth)
	r.byWeekNo = opt.Byweekno
	for _, w := range opt.Byweekno {
		if w > 0 {
			r.weekPos[w] = true
		} else {
			r.weekNeg[-w] = true
		}
	}
	r.yearDays = opt.Byyearday
	for _, d := range opt.Byyearday {
		if d > 0 {
			r.yearPos[d] = true
		} else {
			r.yearNeg[-d] = true
		}
	}
	r.monthDays = bymonthday
	for _, d := range bymonthday {
		if d > 0 {
			r.mdayPos[d] = true
		} else {
			r.mdayNeg[-d] = true
		}
	}
	for _, w := range byweekday {
		if w.N() == 0 {
			r.plainDays[goWeekday(w.Day())], r.anyPlain = true, true
		} else {
			r.nthDays = append(r.nthDays, weekdayNum{n: w.N(), day: goWeekday(w.Day())})
		}
	}
	hours := opt.Byhour
	if len(hours) == 0 && r.freq < rrule.HOURLY {
		hours = []int{r.dtstart.Hour()}
	}
	for _, h := range hours {
		r.byHour[h], r.anyHour = true, true
	}
	r.minutes = sortedUnique(opt.Byminute)
	if len(r.minutes) == 0 {
		r.minutes = []int{r.dtstart.Minute()}
	}
	r.seconds = sortedUnique(opt.Bysecond)
	if len(r.seconds) == 0 {
		r.seconds = []int{r.dtstart.Second()}
	}
	r.setPos = opt.Bysetpos
	if r.freq < rrule.HOURLY {
		for _, h := range sortedUnique(hours) {
			for _, m := range r.minutes {
				for _, s := range r.seconds {
					r.timeset = append(r.timeset, clock{h, m, s})
				}
			}
		}
	}
	y, m, d := r.dtstart.Date()
	r.dtstartDay = daysFromCivil(y, int(m), d)
	return r, nil
}

// sortedUnique returns the values sorted, without repeats.
func sortedUnique(v []int) []int {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// goWeekday turns rrule-go's weekday (0 Monday to 6 Sunday) into Go's.
func goWeekday(d int) time.Weekday { return time.Weekday((d + 1) % 7) }

// pyWeekday turns Go's weekday into rrule-go's.
func pyWeekday(d time.Weekday) rrule.Weekday {
	return []rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}[d]
}

// expansion is one walk over a rule's occurrences.
type expansion struct {
	r        *recurrence
	steps    int       // left
	deadline time.Time // zero: none
	period   int       // the next period's index
	emitted  int
	pending  []time.Time // occurrences of the current period not yet returned
	done     bool
}

// expand starts a walk over r's occurrences that may take steps steps and, when deadline is
// not zero, must end by then.
func (r *recurrence) expand(steps int, deadline time.Time) *expansion {
	return &expansion{r: r, steps: steps, deadline: deadline}
}

// spend takes n steps; false when the budget is gone.
func (e *expansion) spend(n int) bool {
	before := e.steps
	e.steps -= n
	if e.steps < 0 {
		return false
	}
	// The clock is read every 4096 steps.
	if !e.deadline.IsZero() && before/4096 != e.steps/4096 && time.Now().After(e.deadline) {
		e.steps = -1
		return false
	}
	return true
}

// next returns the next occurrence, ok false when there is none left, or errExpansionBudget.
func (e *expansion) next() (time.Time, bool, error) {
	for len(e.pending) == 0 {
		if e.done {
			return time.Time{}, false, nil
		}
		if !e.spend(1) {
			return time.Time{}, false, errExpansionBudget
		}
		if err := e.fill(); err != nil {
			return time.Time{}, false, err
		}
	}
	t := e.pending[0]
	e.pending = e.pending[1:]
	return t, true, nil
}

// fill computes the occurrences of the next period into pending.
func (e *expansion) fill() error {
	r := e.r
	k := e.period
	e.period++
	var days []int  // candidate days of the period, ascending
	hourOfDay := -1 // the period's hour, for FREQ=HOURLY
	switch r.freq {
	case rrule.YEARLY:
		y := r.dtstart.Year() + k*r.interval
		if y > maxRuleYear {
			e.done = true
			return nil
		}
		days = r.yearCandidates(y)
	case rrule.MONTHLY:
		mi := r.dtstart.Year()*12 + int(r.dtstart.Month()) - 1 + k*r.interval
		y, m := mi/12, mi%12+1
		if y > maxRuleYear {
			e.done = true
			return nil
		}
		if !r.anyMonth || r.byMonth[m] {
			days = r.monthCandidates(y, m)
		}
	case rrule.WEEKLY:
		weekStart := r.dtstartDay - (int(weekdayOf(r.dtstartDay))-int(r.wkst)+7)%7
		from, to := weekStart+7*r.interval*k, weekStart+7*r.interval*k+7
		if k == 0 {
			from = r.dtstartDay // the first period starts at DTSTART (dateutil)
		}
		if y, _, _ := civilFromDays(from); y > maxRuleYear {
			e.done = true
			return nil
		}
		for d := from; d < to; d++ {
			days = append(days, d)
		}
	case rrule.DAILY:
		d := r.dtstartDay + k*r.interval
		if y, _, _ := civilFromDays(d); y > maxRuleYear {
			e.done = true
			return nil
		}
		days = []int{d}
	case rrule.HOURLY:
		abs := r.dtstartDay*24 + r.dtstart.Hour() + k*r.interval
		d := floorDiv(abs, 24)
		if y, _, _ := civilFromDays(d); y > maxRuleYear {
			e.done = true
			return nil
		}
		if !e.spend(1) {
			return errExpansionBudget
		}
		if !r.dayMatches(d) {
			// Skip the rest of the day: the next period is the first in step on the next day.
			next := (d + 1) * 24
			base := r.dtstartDay*24 + r.dtstart.Hour()
			e.period = max(e.period, (next-base+r.interval-1)/r.interval)
			return nil
		}
		hourOfDay = abs - d*24
		if r.anyHour && !r.byHour[hourOfDay] {
			return nil
		}
		days = []int{d}
	default:
		return invalidData("FREQ=SECONDLY and FREQ=MINUTELY are not supported.")
	}
	// The times of each day: the timeset, or for FREQ=HOURLY the period's hour with each
	// BYMINUTE and BYSECOND.
	times := len(r.timeset)
	timeAt := func(i int) clock { return r.timeset[i] }
	if hourOfDay >= 0 {
		times = len(r.minutes) * len(r.seconds)
		timeAt = func(i int) clock {
			return clock{hourOfDay, r.minutes[i/len(r.seconds)], r.seconds[i%len(r.seconds)]}
		}
	} else {
		if !e.spend(len(days)) {
			return errExpansionBudget
		}
		days = slices.DeleteFunc(days, func(d int) bool { return !r.dayMatches(d) })
	}
	if len(days) == 0 || times == 0 {
		return nil
	}
	loc := r.dtstart.Location()
	at := func(i int) time.Time { // the i-th occurrence of the period, before BYSETPOS
		y, m, d := civilFromDays(days[i/times])
		c := timeAt(i % times)
		return time.Date(y, time.Month(m), d, c.h, c.m, c.s, 0, loc)
	}
	var out []time.Time
	n := len(days) * times
	if len(r.setPos) > 0 {
		if !e.spend(len(r.setPos)) {
			return errExpansionBudget
		}
		for _, p := range r.setPos {
			i := p - 1
			if p < 0 {
				i = n + p
			}
			if i >= 0 && i < n {
				out = append(out, at(i))
			}
		}
		slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
		out = slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
	} else {
		if !e.spend(n) {
			return errExpansionBudget
		}
		for i := range n {
			out = append(out, at(i))
		}
	}
	for _, t := range out {
		if !r.until.IsZero() && t.After(r.until) {
			e.done = true
			return nil
		}
		if t.Before(r.dtstart) {
			continue
		}
		e.pending = append(e.pending, t)
		e.emitted++
		if r.count > 0 && e.emitted >= r.count {
			e.done = true
			return nil
		}
	}
	return nil
}

// yearCandidates returns the days of year y that can match, ascending: those of BYYEARDAY,
// else of BYMONTH (and BYMONTHDAY), else of BYWEEKNO's weeks, else every day.
func (r *recurrence) yearCandidates(y int) []int {
	first := daysFromCivil(y, 1, 1)
	length := yearLength(y)
	var out []int
	switch {
	case len(r.yearDays) > 0:
		for _, d := range r.yearDays {
			if d < 0 {
				d = length + 1 + d
			}
			if d >= 1 && d <= length {
				out = append(out, first+d-1)
			}
		}
	case r.anyMonth || len(r.monthDays) > 0:
		months := r.months
		if !r.anyMonth {
			months = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
		}
		for _, m := range months {
			out = append(out, r.monthCandidates(y, m)...)
		}
		return out
	case len(r.byWeekNo) > 0:
		for wy := y - 1; wy <= y+1; wy++ {
			start, weeks := r.weekYear(wy)
			for _, w := range r.byWeekNo {
				if w < 0 {
					w = weeks + 1 + w
				}
				if w < 1 || w > weeks {
					continue
				}
				for d := start + 7*(w-1); d < start+7*w; d++ {
					if d >= first && d < first+length {
						out = append(out, d)
					}
				}
			}
		}
	default:
		for d := first; d < first+length; d++ {
			out = append(out, d)
		}
		return out
	}
	return sortedUnique(out)
}

// monthCandidates returns the days of month m of year y that can match, ascending: those of
// BYMONTHDAY, else every day.
func (r *recurrence) monthCandidates(y, m int) []int {
	first := daysFromCivil(y, m, 1)
	length := monthLength(y, m)
	var out []int
	switch {
	case len(r.monthDays) > 0:
		for _, d := range r.monthDays {
			if d < 0 {
				d = length + 1 + d
			}
			if d >= 1 && d <= length {
				out = append(out, first+d-1)
			}
		}
		return sortedUnique(out)
	}
	for d := first; d < first+length; d++ {
		out = append(out, d)
	}
	return out
}

// dayMatches applies every BYxxx part that concerns the date to day d.
func (r *recurrence) dayMatches(d int) bool {
	y, m, md := civilFromDays(d)
	if r.anyMonth && !r.byMonth[m] {
		return false
	}
	if len(r.monthDays) > 0 {
		ml := monthLength(y, m)
		if !r.mdayPos[md] && !r.mdayNeg[ml+1-md] {
			return false
		}
	}
	if len(r.yearDays) > 0 {
		yd, yl := d-daysFromCivil(y, 1, 1)+1, yearLength(y)
		if !r.yearPos[yd] && !r.yearNeg[yl+1-yd] {
			return false
		}
	}
	if len(r.byWeekNo) > 0 {
		wy := y
		start, weeks := r.weekYear(wy)
		if d < start {
			wy--
			start, weeks = r.weekYear(wy)
		} else if next, _ := r.weekYear(wy + 1); d >= next {
			wy++
			start, weeks = r.weekYear(wy)
		}
		w := (d-start)/7 + 1
		if !r.weekPos[w] && !r.weekNeg[weeks+1-w] {
			return false
		}
	}
	if r.anyPlain || len(r.nthDays) > 0 {
		wd := weekdayOf(d)
		if !r.plainDays[wd] && !r.nthMatches(d, y, m, wd) {
			return false
		}
	}
	return true
}

// nthMatches reports whether day d (of year y, month m, weekday wd) is one of the numbered
// BYDAY days: within its month for FREQ=MONTHLY or a YEARLY rule with BYMONTH, else within
// its year.
func (r *recurrence) nthMatches(d, y, m int, wd time.Weekday) bool {
	if len(r.nthDays) == 0 {
		return false
	}
	first, last := daysFromCivil(y, 1, 1), daysFromCivil(y, 12, 31)
	if r.freq == rrule.MONTHLY || r.anyMonth {
		first = daysFromCivil(y, m, 1)
		last = first + monthLength(y, m) - 1
	}
	for _, nd := range r.nthDays {
		if nd.day != wd {
			continue
		}
		if nd.n > 0 && (d-first)/7+1 == nd.n {
			return true
		}
		if nd.n < 0 && (last-d)/7+1 == -nd.n {
			return true
		}
	}
	return false
}

// weekYear returns the first day of week 1 of year y with weeks starting on WKST (the week
// that holds 4 January, RFC 5545's rule) and the number of weeks of that year.
func (r *recurrence) weekYear(y int) (start, weeks int) {
	if v, ok := r.weekYears[y]; ok {
		return v[0], v[1]
	}
	week1 := func(y int) int {
		jan4 := daysFromCivil(y, 1, 4)
		return jan4 - (int(weekdayOf(jan4))-int(r.wkst)+7)%7
	}
	start = week1(y)
	weeks = (week1(y+1) - start) / 7
	if r.weekYears == nil || len(r.weekYears) > 16 {
		r.weekYears = map[int][2]int{}
	}
	r.weekYears[y] = [2]int{start, weeks}
	return start, weeks
}

// daysFromCivil returns the number of days from 1970-01-01 to a proleptic Gregorian date.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekdayOf returns the weekday of a day number (1970-01-01 was a Thursday).
func weekdayOf(days int) time.Weekday { return time.Weekday((days%7 + 7 + 4) % 7) }

// floorDiv divides rounding down.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// yearLength returns the number of days of year y.
func yearLength(y int) int {
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 366
	}
	return 365
}

// monthLength returns the number of days of month m of year y.
func monthLength(y, m int) int {
	switch m {
	case 2:
		if yearLength(y) == 366 {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
