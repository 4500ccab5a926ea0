package courtside

import (
	"context"
	"io"
)

// ImportColumns are the columns of a docket CSV, in order (interfaces.md).
var ImportColumns = []string{"external_id", "docket", "court", "kind", "starts_at", "ends_at", "courtroom", "judge", "status"}

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
	// progress, when not nil, is called as lines are read.
	ImportHearings(ctx context.Context, r io.Reader, progress func(lines int)) (*ImportResult, error)
}
