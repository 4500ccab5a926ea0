package main

import (
	"errors"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A run of some sections (-only) merges them into the report it writes over: each section it
// measured replaces the section of the same number, or takes its place among the others, and
// so do its rows of the summary; everything else (the header, the machine, the other sections,
// the appendix) stays as the run that wrote it left it.

var (
	// sectionHeadRE matches the heading of a numbered section, "## 11. Title".
	sectionHeadRE = regexp.MustCompile(`^## (\d+)\. `)
	// summaryRowRE matches a row of the summary table, "| 11. figure | ...".
	summaryRowRE = regexp.MustCompile(`^\| (\d+)\. `)
)

// mdReport is a report split where sections can be replaced.
type mdReport struct {
	head     []string // up to the summary table's first row
	summary  []mdPart // the summary's rows, one line each
	between  []string // after the summary's rows, up to the first numbered section
	sections []mdPart // the numbered sections, heading to the line before the next "## "
	tail     []string // from the first unnumbered "## " after the sections: the appendix
}

// mdPart is a numbered piece of a report.
type mdPart struct {
	num   int
	lines []string
}

// parseReport splits a report written by WriteMarkdown.
func parseReport(text string) (*mdReport, error) {
	lines := strings.Split(text, "\n")
	r := &mdReport{}
	i := 0
	for i < len(lines) && lines[i] != "## Summary" {
		i++
	}
	if i == len(lines) {
		return nil, errors.New("no \"## Summary\": not a report of courtside-bench")
	}
	// The summary table's heading and rule, then its rows.
	for i < len(lines) && !strings.HasPrefix(lines[i], "|---") {
		i++
	}
	if i == len(lines) {
		return nil, errors.New("the summary has no table")
	}
	i++
	r.head = lines[:i]
	for ; i < len(lines) && strings.HasPrefix(lines[i], "| "); i++ {
		m := summaryRowRE.FindStringSubmatch(lines[i])
		if m == nil {
			return nil, errors.New("a summary row without a section number: " + lines[i])
		}
		n, _ := strconv.Atoi(m[1])
		r.summary = append(r.summary, mdPart{num: n, lines: []string{lines[i]}})
	}
	start := i
	for i < len(lines) && !strings.HasPrefix(lines[i], "## ") {
		i++
	}
	r.between = lines[start:i]
	for i < len(lines) {
		m := sectionHeadRE.FindStringSubmatch(lines[i])
		if m == nil {
			break
		}
		n, _ := strconv.Atoi(m[1])
		end := i + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "## ") {
			end++
		}
		r.sections = append(r.sections, mdPart{num: n, lines: lines[i:end]})
		i = end
	}
	r.tail = lines[i:]
	return r, nil
}

// String joins the report's lines again.
func (r *mdReport) String() string {
	var all []string
	all = append(all, r.head...)
	for _, p := range r.summary {
		all = append(all, p.lines...)
	}
	all = append(all, r.between...)
	for _, p := range r.sections {
		all = append(all, p.lines...)
	}
	all = append(all, r.tail...)
	return strings.Join(all, "\n")
}

// replaceParts drops the parts of old whose numbers are in ran, adds fresh's, and orders them
// by number, keeping the order of the parts of one number.
func replaceParts(old, fresh []mdPart, ran map[int]bool) []mdPart {
	var out []mdPart
	for _, p := range old {
		if !ran[p.num] {
			out = append(out, p)
		}
	}
	out = append(out, fresh...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].num < out[j].num })
	return out
}

// mergeReport puts the sections of fresh, a report of some sections, into old, a report of
// the harness, with their summary rows, and returns the result. The old rows of a section that
// ran go, even when it has none now (a section that could not be measured).
func mergeReport(old, fresh string) (string, error) {
	o, err := parseReport(old)
	if err != nil {
		return "", err
	}
	f, err := parseReport(fresh)
	if err != nil {
		return "", err
	}
	ran := map[int]bool{}
	for _, s := range f.sections {
		ran[s.num] = true
	}
	o.sections = replaceParts(o.sections, f.sections, ran)
	o.summary = replaceParts(o.summary, f.summary, ran)
	return o.String(), nil
}
