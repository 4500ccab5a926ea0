package courtside

import (
	"context"
	"io"
)

// ImportColumns are the columns of a docket CSV, in the order of docs/import.md; the first six
// are required, the others optional. A header may order them freely.
var ImportColumns = []string{"external_id", "docket", "court", "kind", "starts_at", "ends_at", "courtroom", "judge", "status"}

// ImportRequiredColumns is how many of ImportColumns, from the first, every docket CSV has.
const ImportRequiredColumns = 6

// ImportPhase is the stage a docket import is in.
type ImportPhase string

// The phases of an import, in order.
const (
	// ImportParsing reads and checks every line; nothing is written yet.
	ImportParsing ImportPhase = "parsing"
	// ImportWriting writes the hearings, in one transaction.
	ImportWriting ImportPhase = "writing"
)

// ImportProgress is where an import stands: Done lines of Total in Phase (Total is 0 while
// parsing, when the number of lines is not known yet).
type ImportProgress struct {
	Phase ImportPhase
	Done  int
	Total int
}

// ImportResult counts what a docket import did.
type ImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// ImportError locates a problem in an import file.
type ImportError struct {
	Line    int
	Column  string
	Message string
}

// ImportService imports a prosecutor's docket.
type ImportService interface {
	// ImportHearings reads a docket CSV and upserts every line as a hearing of the caller's
	// office, in one transaction: re-importing changes nothing, a changed time is a continuance
	// with reason "import", status CANCELLED cancels. Cases are opened when their docket is new.
	// A bad line fails the whole import with an EINVALID error naming the line and column.
	// progress, when not nil, is called as lines are read and as they are written.
	ImportHearings(ctx context.Context, r io.Reader, progress func(ImportProgress)) (*ImportResult, error)
}
