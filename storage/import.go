package storage

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"courtside"
)

// ImportService is the database's service for docket imports and their previews.
type ImportService struct {
	db *DB
}

// NewImportService returns the import service of db.
func NewImportService(db *DB) *ImportService { return &ImportService{db: db} }

var _ courtside.ImportService = (*ImportService)(nil)

// importReason is the change reason of a continuance found by a docket import.
const importReason = "import"

// maxImportLines bounds one import file.
const maxImportLines = 200_000

// progressEvery is how many lines an import reads or writes between two progress calls.
const progressEvery = 1000

// importLine is one parsed line of a docket CSV.
type importLine struct {
	line    int
	docket  string
	court   *courtside.Court
	status  courtside.HearingStatus
	hearing courtside.Hearing
}

// importErr returns the EINVALID error of an import: it names the line and the column.
func importErr(line int, column, format string, args ...any) error {
	return courtside.Invalidf("csv", "line %d, column %s: %s", line, column, fmt.Sprintf(format, args...))
}

// ImportHearings reads a docket CSV and upserts it in one transaction.
func (s *ImportService) ImportHearings(ctx context.Context, r io.Reader, progress func(courtside.ImportProgress)) (*courtside.ImportResult, error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if u.Role != courtside.RoleProsecutor || u.OrganizationID == 0 {
		return nil, courtside.Errorf(courtside.EFORBIDDEN, "Only a prosecutor's office may import its docket.")
	}
	lines, err := s.db.parseDocket(ctx, r, progress)
	if err != nil {
		return nil, err
	}
	res := &courtside.ImportResult{}
	// The statements run under a context without cancellation: with one, go-sqlite3 runs each
	// statement on a goroutine of its own so that it can interrupt it, which was a tenth of an
	// import's time at hundreds of thousands of statements. ctx still ends the import: it is
	// checked before each line and before the commit, and database/sql rolls the transaction
	// (begun with ctx) back when ctx is cancelled.
	sctx := context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.db.importLines(ctx, sctx, tx, u, lines, res, progress); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(sctx); err != nil {
		return nil, err
	}
	return res, nil
}

// importLines writes the parsed lines in tx, with their audit rows and events queued on it.
// Statements run under sctx; ctx is checked before each line.
func (db *DB) importLines(ctx, sctx context.Context, tx *Tx, u *courtside.User, lines []*importLine, res *courtside.ImportResult,
	progress func(courtside.ImportProgress)) error {
	// At least one event and one audit row per line: room for them up front rather than
	// copying the queues at each growth.
	tx.events = slices.Grow(tx.events, len(lines))
	tx.audits = slices.Grow(tx.audits, len(lines)+1)
	cases := map[string]int64{}
	for i := range lines {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := lines[i]
		key := fmt.Sprintf("%d\x00%s", l.court.ID, l.docket)
		caseID, ok := cases[key]
		if !ok {
			var err error
			if caseID, err = importCase(sctx, tx, u, l); err != nil {
				return err
			}
			cases[key] = caseID
		}
		l.hearing.CaseID = caseID
		if err := db.importHearing(sctx, tx, u, l, res); err != nil {
			var e *courtside.Error
			if errors.As(err, &e) {
				return importErr(l.line, "external_id", "%s", e.Message)
			}
			return err
		}
		if progress != nil && ((i+1)%progressEvery == 0 || i+1 == len(lines)) {
			progress(courtside.ImportProgress{Phase: courtside.ImportWriting, Done: i + 1, Total: len(lines)})
		}
	}
	tx.Audit("hearing.import", fmt.Sprintf("import:%d-lines", len(lines)), courtside.OutcomeOK)
	return nil
}

// importHearing applies one line: an upsert, then the status it names.
func (db *DB) importHearing(ctx context.Context, tx *Tx, u *courtside.User, l *importLine, res *courtside.ImportResult) error {
	h := &l.hearing
	outcome, err := db.upsertHearing(ctx, tx, u, h, importReason)
	if err != nil {
		return err
	}
	var change *courtside.HearingChange
	var action string
	var evType courtside.EventType
	switch {
	case l.status == courtside.HearingCancelled && h.Open():
		change, err = h.Cancel(importReason, tx.now)
		action, evType = "hearing.cancel", courtside.EventHearingCancelled
	case l.status == courtside.HearingHeld && h.Open():
		change, err = h.MarkHeld(tx.now)
		action, evType = "hearing.held", courtside.EventHearingChanged
	}
	if err != nil {
		return err
	}
	if change != nil {
		if err := db.saveHearingChange(ctx, tx, h, change, action, evType); err != nil {
			return err
		}
		if outcome == upsertUnchanged {
			outcome = upsertUpdated
		}
	}
	switch outcome {
	case upsertCreated:
		res.Created++
	case upsertUpdated:
		res.Updated++
	default:
		res.Unchanged++
	}
	return nil
}

// importCase returns the office's case with the docket in the court, opening it when new.
func importCase(ctx context.Context, tx *Tx, u *courtside.User, l *importLine) (int64, error) {
	var id, org int64
	err := tx.QueryRowContext(ctx, `SELECT id, organization_id FROM cases WHERE court_id = ? AND docket = ?`, l.court.ID, l.docket).Scan(&id, &org)
	if err == nil && org != u.OrganizationID {
		return 0, importErr(l.line, "docket", "docket %s in that court belongs to another office", l.docket)
	} else if err == nil {
		return id, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("storage: import case: %w", err)
	}
	c := &courtside.Case{Docket: l.docket, CourtID: l.court.ID, OrganizationID: u.OrganizationID, CreatedAt: tx.now}
	err = tx.QueryRowContext(ctx, `INSERT INTO cases (docket, court_id, organization_id, created_at) VALUES (?,?,?,?) RETURNING id`,
		c.Docket, c.CourtID, c.OrganizationID, FormatTime(c.CreatedAt)).Scan(&c.ID)
	if err != nil {
		return 0, fmt.Errorf("storage: import case: %w", err)
	}
	tx.Audit("case.open", fmt.Sprintf("case:%d", c.ID), courtside.OutcomeOK)
	tx.Event(courtside.Event{Type: courtside.EventCaseOpened, CaseID: c.ID})
	return c.ID, nil
}

// parseDocket reads and validates every line before anything is written.
func (db *DB) parseDocket(ctx context.Context, r io.Reader, progress func(courtside.ImportProgress)) ([]*importLine, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err == io.EOF {
		return nil, courtside.Invalidf("csv", "line 1: the file is empty; it needs the header %s", strings.Join(courtside.ImportColumns, ","))
	} else if err != nil {
		return nil, csvErr(err)
	}
	col, err := docketColumns(header)
	if err != nil {
		return nil, err
	}
	courts := map[string]*courtside.Court{}
	// zones holds each court's zone, loaded once: Court.Location reads the zone file on every
	// call, which was a sixth of an import's time (docs/benchmarks.md, profile-driven fixes).
	zones := map[int64]*time.Location{}
	seen := map[string]int{}
	// Pointers: a slice of the lines themselves (a few hundred bytes each) was copied again at
	// each growth, a tenth of a 50,000-line import.
	var lines []*importLine
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, csvErr(err)
		}
		line, _ := cr.FieldPos(0)
		if len(lines) >= maxImportLines {
			return nil, importErr(line, "external_id", "a file may hold at most %d hearings; split it", maxImportLines)
		}
		if len(rec) != len(header) {
			return nil, importErr(line, header[min(len(rec), len(header)-1)], "has %d fields, the header %d", len(rec), len(header))
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		l := importLine{line: line, docket: get("docket")}
		for _, name := range courtside.ImportColumns[:courtside.ImportRequiredColumns] {
			if get(name) == "" {
				return nil, importErr(line, name, "is empty")
			}
		}
		ext := get("external_id")
		if first, dup := seen[ext]; dup {
			return nil, importErr(line, "external_id", "%q already appears on line %d", ext, first)
		}
		seen[ext] = line
		courtName := get("court")
		court, ok := courts[courtName]
		if !ok {
			if court, err = NewCourtService(db).FindCourtByName(ctx, courtName); err != nil {
				if courtside.ErrorCode(err) == courtside.ENOTFOUND {
					return nil, importErr(line, "court", "unknown court %q", courtName)
				}
				return nil, err
			}
			courts[courtName] = court
			zones[court.ID] = court.Location()
		}
		l.court = court
		loc := zones[court.ID]
		kind, err := courtside.ParseHearingKind(get("kind"))
		if err != nil {
			return nil, importErr(line, "kind", "unknown hearing kind %q; the kinds are %s", get("kind"), hearingKindList())
		}
		start, err := parseDocketTime(get("starts_at"), loc)
		if err != nil {
			return nil, importErr(line, "starts_at", "%v", err)
		}
		end, err := parseDocketTime(get("ends_at"), loc)
		if err != nil {
			return nil, importErr(line, "ends_at", "%v", err)
		}
		switch s := courtside.HearingStatus(strings.ToUpper(get("status"))); s {
		case "", courtside.HearingScheduled, courtside.HearingContinued, courtside.HearingCancelled, courtside.HearingHeld:
			l.status = s
		default:
			return nil, importErr(line, "status", "must be SCHEDULED, CONTINUED, CANCELLED or HELD")
		}
		l.hearing = courtside.Hearing{CaseID: 1, Kind: kind, StartsAt: start, EndsAt: end, Courtroom: get("courtroom"),
			Judge: get("judge"), ExternalID: ext}
		if len(l.docket) > 100 {
			return nil, importErr(line, "docket", "must be at most 100 characters")
		}
		if err := l.hearing.Validate(); err != nil {
			return nil, importErr(line, columnOf(courtside.ErrorField(err)), "%s", courtside.ErrorMessage(err))
		}
		lines = append(lines, &l)
		if progress != nil && len(lines)%progressEvery == 0 {
			progress(courtside.ImportProgress{Phase: courtside.ImportParsing, Done: len(lines)})
		}
	}
	if progress != nil {
		progress(courtside.ImportProgress{Phase: courtside.ImportParsing, Done: len(lines)})
	}
	return lines, nil
}

// parseDocketTime parses RFC 3339, or "2006-01-02 15:04" in the court's zone.
func parseDocketTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC().Truncate(time.Second), nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD HH:MM", s)
	}
	return t.UTC(), nil
}

// columnOf names the CSV column of a hearing field.
func columnOf(field string) string {
	switch field {
	case "startsAt":
		return "starts_at"
	case "endsAt":
		return "ends_at"
	case "externalId":
		return "external_id"
	}
	return field
}

// csvErr turns a CSV syntax error into an EINVALID error naming the line and column.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return courtside.Invalidf("csv", "line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("storage: read csv: %w", err)
}

// docketColumns maps each column name of a docket CSV's header to its index. It refuses a
// first line that is no header (a hearing's values, an empty line), a column without a name,
// a name given twice, an unknown name (suggesting the known one it is closest to: a
// misspelt optional column would otherwise lose its values without a word) and a missing
// required column.
func docketColumns(header []string) (map[string]int, error) {
	header = append([]string(nil), header...)
	known := map[string]bool{}
	for _, c := range courtside.ImportColumns {
		known[c] = true
	}
	recognised := 0
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
		if known[header[i]] {
			recognised++
		}
	}
	if recognised == 0 {
		return nil, courtside.Invalidf("csv", "line 1: the first line must be the header naming the columns, such as %s; "+
			"it names none of them (is the header missing?)", strings.Join(courtside.ImportColumns, ","))
	}
	col := map[string]int{}
	for i, name := range header {
		if name == "" {
			return nil, importErr(1, fmt.Sprint(i+1), "the header leaves this column without a name")
		}
		if !known[name] {
			return nil, importErr(1, name, "unknown column%s; the columns are %s", suggestColumn(name), strings.Join(courtside.ImportColumns, ", "))
		}
		if _, dup := col[name]; dup {
			return nil, importErr(1, name, "column appears twice")
		}
		col[name] = i
	}
	for _, name := range courtside.ImportColumns[:courtside.ImportRequiredColumns] {
		if _, ok := col[name]; !ok {
			return nil, importErr(1, name, "required column missing; the header is %s", strings.Join(courtside.ImportColumns, ","))
		}
	}
	return col, nil
}

// suggestColumn returns "; did you mean X?" for the known column closest to name, when it is
// close enough to be a slip (at most a third of its letters differ), else "".
func suggestColumn(name string) string {
	best, bestDist := "", len(name)
	for _, c := range courtside.ImportColumns {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > max(1, len(best)/3) {
		return ""
	}
	return fmt.Sprintf("; did you mean %s?", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// hearingKindList renders the hearing kinds for an error message.
func hearingKindList() string {
	names := make([]string, len(courtside.HearingKinds))
	for i, k := range courtside.HearingKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
