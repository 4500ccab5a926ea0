package storage

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"courtside"
)

// The web app's docket preview: what an import of a docket CSV would do, and every line it
// would refuse, found with the import's own parser and without writing anything.

// DocketPreviewLine is one line of a docket CSV that parses.
type DocketPreviewLine struct {
	Line   int
	Docket string
	Court  *courtside.Court
	// Status is the line's status column ("" when empty).
	Status  courtside.HearingStatus
	Hearing courtside.Hearing
}

// DocketProblem is one line the import would refuse: its line number and what is wrong,
// naming the column.
type DocketProblem struct {
	Line    int
	Message string
}

// MaxDocketProblems caps the problems one preview lists.
const MaxDocketProblems = 50

// PreviewDocket parses a docket CSV as ImportHearings would for the caller's office (a
// prosecutor), and writes nothing. When the whole file parses it returns its lines; when it
// does not, it parses each line on its own to list every line that would be refused (at most
// MaxDocketProblems; more is true when it stopped looking), and the problems that concern the
// file as a whole (a duplicate external_id). A header that cannot be read is an EINVALID error.
// Returns EFORBIDDEN for other roles.
func (s *ImportService) PreviewDocket(ctx context.Context, r io.Reader) (lines []DocketPreviewLine, problems []DocketProblem, more bool, err error) {
	u, err := requireUser(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	if u.Role != courtside.RoleProsecutor || u.OrganizationID == 0 {
		return nil, nil, false, courtside.Errorf(courtside.EFORBIDDEN, "Only a prosecutor's office may import its docket.")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, false, err
	}
	parsed, whole := s.db.parseDocket(ctx, bytes.NewReader(data), nil)
	if whole == nil {
		return previewLines(parsed), nil, false, nil
	}
	if courtside.ErrorCode(whole) != courtside.EINVALID {
		return nil, nil, false, whole
	}
	// Line by line: the header with one record at a time.
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, false, whole
	}
	if _, err := docketColumns(header); err != nil {
		return nil, nil, false, err
	}
	var head bytes.Buffer
	hw := csv.NewWriter(&head)
	_ = hw.Write(header)
	hw.Flush()
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				problems = append(problems, DocketProblem{Line: pe.Line, Message: strings.TrimPrefix(courtside.ErrorMessage(csvErr(err)), lineLabel(pe.Line))})
			} else {
				return nil, nil, false, err
			}
			break
		}
		line, _ := cr.FieldPos(0)
		if len(problems) >= MaxDocketProblems {
			more = true
			break
		}
		var one bytes.Buffer
		one.Write(head.Bytes())
		w := csv.NewWriter(&one)
		_ = w.Write(rec)
		w.Flush()
		got, err := s.db.parseDocket(ctx, &one, nil)
		if err != nil {
			if courtside.ErrorCode(err) != courtside.EINVALID {
				return nil, nil, false, err
			}
			problems = append(problems, DocketProblem{Line: line, Message: strings.TrimPrefix(courtside.ErrorMessage(err), lineLabel(2))})
			continue
		}
		for _, l := range got {
			l.line = line
		}
		lines = append(lines, previewLines(got)...)
	}
	if len(problems) == 0 {
		// Every line parses alone: the problem is the file's (a duplicate external_id).
		msg := courtside.ErrorMessage(whole)
		problems = append(problems, DocketProblem{Line: lineOf(msg), Message: strings.TrimPrefix(msg, lineLabel(lineOf(msg)))})
	}
	return lines, problems, more, nil
}

// lineLabel is the prefix the parser's messages start with for line n.
func lineLabel(n int) string { return "line " + strconv.Itoa(n) + ", " }

// lineOf reads the line number of a parser message "line N, ...", 0 when it has none.
func lineOf(msg string) int {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0
	}
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// previewLines turns parsed lines into preview lines.
func previewLines(parsed []*importLine) []DocketPreviewLine {
	out := make([]DocketPreviewLine, len(parsed))
	for i, l := range parsed {
		h := l.hearing
		h.CaseID = 0
		h.StartsAt, h.EndsAt = h.StartsAt.UTC().Truncate(time.Second), h.EndsAt.UTC().Truncate(time.Second)
		out[i] = DocketPreviewLine{Line: l.line, Docket: l.docket, Court: l.court, Status: l.status, Hearing: h}
	}
	return out
}
