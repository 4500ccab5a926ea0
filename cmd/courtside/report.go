package main

import (
	"context"
	"courtside/storage"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// reportHeader is the first line of the caseload CSV.
var reportHeader = []string{"court_id", "court", "kind", "hearings", "victims_accompanied", "with_interpreter",
	"notices_pending", "notices_sent", "notices_delivered", "notices_failed", "notices_suppressed"}

// suppressedCell is what the CSV shows for a suppressed count.
const suppressedCell = "suppressed"

// runReport writes an organisation's caseload report as CSV: `courtside report`. It runs as a
// coordinator of the organisation, so the read is scoped and audited like the GraphQL query,
// and it writes the same aggregates, small cells suppressed, never a row about a victim.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("report", &cfg, stderr)
	org := fs.String("org", "", "the advocacy organisation the report is about (required)")
	fromFlag := fs.String("from", "", "first day of the period, YYYY-MM-DD (UTC), or an RFC 3339 time (required)")
	toFlag := fs.String("to", "", "day after the period, YYYY-MM-DD (UTC), or an RFC 3339 time (required)")
	as := fs.String("as", "", "username of the coordinator the read is recorded as; default: the organisation's first coordinator")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if strings.TrimSpace(*org) == "" {
		return usagef("--org is required")
	}
	from, err := parseReportDate("--from", *fromFlag)
	if err != nil {
		return err
	}
	to, err := parseReportDate("--to", *toFlag)
	if err != nil {
		return err
	}
	if err := courtside.ValidateReportPeriod(from, to); err != nil {
		return err
	}
	db, err := openExistingDB(cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	actor, err := actorIn(ctx, storage.NewUserService(db), courtside.RoleCoordinator, *org, *as,
		fmt.Sprintf("no advocacy organisation named %q with a coordinator", *org))
	if err != nil {
		return err
	}
	rep, err := storage.NewReportService(db).CaseloadReport(courtside.NewContextWithUser(ctx, actor), from, to)
	if err != nil {
		return err
	}
	w := csv.NewWriter(stdout)
	w.Write(reportHeader)
	for _, r := range rep.Rows {
		line := []string{strconv.FormatInt(r.CourtID, 10), spreadsheetSafe(r.CourtName), spreadsheetSafe(string(r.Kind)),
			csvCell(r.Hearings), csvCell(r.VictimsAccompanied), csvCell(r.WithInterpreter)}
		for _, c := range r.Notices {
			line = append(line, csvCell(c))
		}
		w.Write(line)
	}
	w.Flush()
	return w.Error()
}

// spreadsheetSafe neutralises a text cell for spreadsheets: a cell that starts with =, +, -,
// @, a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets (CSV
// injection), so it gets a leading apostrophe, which they show as text and do not evaluate.
// Counts are written by csvCell and never need it.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvCell renders a count, or "suppressed".
func csvCell(c courtside.ReportCell) string {
	if c.Suppressed || c.Value == nil {
		return suppressedCell
	}
	return strconv.Itoa(*c.Value)
}

// parseReportDate parses a date flag: YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
func parseReportDate(flag, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, usagef("%s is required", flag)
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, usagef("%s: %q is not a date such as 2026-01-31", flag, v)
}
