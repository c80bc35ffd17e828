package pipeline

import (
	"context"
	"database/sql"
	"errors"
)

// Item is one content handed to a stage, with one local copy to read it from.
type Item struct {
	ContentID   int64
	ContentUUID string
	CasID       string
	Size        int64
	Path        string // absolute path of a local copy
	Name        string // the copy's base name
	Kind        string // content kind ("" or "unknown" before a file-type stage ran)
	Mime        string // MIME type ("" before a file-type stage ran)
}

// Outcome is a stage's result for one item. Err records a per-file failure (the ledger keeps it
// and the batch goes on). Apply, if set, writes the stage's output inside the same transaction
// as the ledger row, so output and ledger commit together.
type Outcome struct {
	Err   error
	Apply func(ctx context.Context, tx *sql.Tx) error
}

// Stage is a pipeline stage.
type Stage interface {
	// ID is the stage's namespaced module id, e.g. "stage.integrity".
	ID() string
	// Version is bumped when the stage's output changes; it re-runs the stage for every content.
	Version() int
	// Process handles a batch (hundreds of items) and returns exactly one outcome per item.
	// An error return fails the whole batch (it is retried on the next run).
	Process(ctx context.Context, items []Item) ([]Outcome, error)
}

// ErrStageDeadline is wrapped by a Process error when the stage's call ran past its deadline
// and was stopped. The runner then isolates the failing item with one call per item, so a file
// that hangs a stage costs one more deadline, not one per halving of its batch.
var ErrStageDeadline = errors.New("the stage call ran past its deadline")

// Ledger statuses.
const (
	StatusDone   = "done"
	StatusFailed = "failed"
)
