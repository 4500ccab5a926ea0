package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is everything one run measured, rendered as docs/benchmarks.md.
type Report struct {
	Started  time.Time
	Took     time.Duration
	Quick    bool
	Command  string
	Machine  []KV
	Versions []KV
	Sections []*Section
	// Appendix is Markdown printed after the sections as it is.
	Appendix string
}

// KV is one labelled value.
type KV struct{ Key, Value string }

// Section is one numbered part of the report.
type Section struct {
	// Number is the section's place in the report (its place in sectionNames, from 1), so that a
	// section keeps its number when -only runs it alone; zero numbers it by its place in Sections.
	Number int
	Title  string
	// Intro is a paragraph of Markdown printed under the title.
	Intro string
	// NotMeasured, when set, says that the section has no figures and why, as a phrase that
	// starts with "not measured".
	NotMeasured string
	Targets     []Target
	Tables      []Table
	Notes       []string
}

// Target is one figure against its target.
type Target struct {
	Figure string
	Value  string
	Goal   string
	// Measured is false when the figure could not be measured; Pass is then ignored, and the
	// section's NotMeasured says why.
	Measured bool
	Pass     bool
	// Reported marks a figure reported without a target.
	Reported bool
}

// Table is a Markdown table.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// Result returns PASS, MISS or "not measured".
func (t Target) Result() string {
	switch {
	case !t.Measured:
		return "not measured"
	case t.Reported:
		return "reported"
	case t.Pass:
		return "PASS"
	}
	return "MISS"
}

// notMeasured returns a section that says why it has no figures.
func notMeasured(title, reason string) *Section {
	return &Section{Title: title, NotMeasured: "not measured: " + reason}
}

// escapeCell makes s safe inside a Markdown table cell.
func escapeCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// writeTable renders one Markdown table.
func writeTable(w io.Writer, t Table) {
	if t.Caption != "" {
		fmt.Fprintf(w, "%s\n\n", t.Caption)
	}
	cells := make([]string, len(t.Header))
	for i, h := range t.Header {
		cells[i] = escapeCell(h)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(t.Header)))
	for _, r := range t.Rows {
		cells := make([]string, len(t.Header))
		for i := range cells {
			if i < len(r) {
				cells[i] = escapeCell(r[i])
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
}

// WriteMarkdown renders the report.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Courtside benchmarks\n\n")
	fmt.Fprintf(&b, "Written by `%s` (cmd/courtside-bench) from one run started %s UTC, which took %s.",
		r.Command, r.Started.UTC().Format("2006-01-02 15:04"), r.Took.Round(time.Second))
	if r.Quick {
		fmt.Fprintf(&b, " **This was a `-quick` run: scaled-down sizes, figures not comparable to the targets.**")
	}
	fmt.Fprintf(&b, " Every ratio compares figures measured in this same run, so it holds on a noisy,\nshared machine better than the absolute times do. Do not edit by hand: run the command again.\n\n")

	writeTable(&b, Table{Caption: "## Machine", Header: []string{"", ""}, Rows: kvRows(r.Machine)})
	writeTable(&b, Table{Caption: "## Versions", Header: []string{"", ""}, Rows: kvRows(r.Versions)})

	b.WriteString("## Summary\n\n")
	var rows [][]string
	for i, s := range r.Sections {
		if s.NotMeasured != "" && len(s.Targets) == 0 {
			rows = append(rows, []string{fmt.Sprintf("%d. %s", s.number(i), s.Title), "—", "—", s.NotMeasured})
		}
		for _, t := range s.Targets {
			result := t.Result()
			if !t.Measured && s.NotMeasured != "" {
				result = s.NotMeasured
			}
			rows = append(rows, []string{fmt.Sprintf("%d. %s", s.number(i), t.Figure), t.Value, t.Goal, result})
		}
	}
	writeTable(&b, Table{Header: []string{"figure", "this run", "target", "result"}, Rows: rows})

	for i, s := range r.Sections {
		fmt.Fprintf(&b, "## %d. %s\n\n", s.number(i), s.Title)
		if s.Intro != "" {
			fmt.Fprintf(&b, "%s\n\n", s.Intro)
		}
		if s.NotMeasured != "" {
			fmt.Fprintf(&b, "**%s%s**\n\n", strings.ToUpper(s.NotMeasured[:1]), s.NotMeasured[1:])
		}
		if len(s.Targets) > 0 {
			var rows [][]string
			for _, t := range s.Targets {
				rows = append(rows, []string{t.Figure, t.Value, t.Goal, t.Result()})
			}
			writeTable(&b, Table{Header: []string{"figure", "this run", "target", "result"}, Rows: rows})
		}
		for _, t := range s.Tables {
			writeTable(&b, t)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(s.Notes) > 0 {
			b.WriteString("\n")
		}
	}
	if r.Appendix != "" {
		b.WriteString(strings.TrimSpace(r.Appendix) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// number returns the section's number: Number, or i+1 for the i-th section of a report.
func (s *Section) number(i int) int {
	if s.Number > 0 {
		return s.Number
	}
	return i + 1
}

// kvRows turns labelled values into table rows.
func kvRows(kvs []KV) [][]string {
	rows := make([][]string, len(kvs))
	for i, kv := range kvs {
		rows[i] = []string{kv.Key, kv.Value}
	}
	return rows
}
