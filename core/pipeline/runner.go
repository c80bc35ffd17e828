package pipeline

import (
	"context"
	"database/sql"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

// Step is one stage of a resolved pipeline with the filter that selects its contents.
type Step struct {
	Stage Stage
	// Types is evaluated by the database (content kind or MIME type, size range).
	Types store.TypeFilter
	// Record, if set, is called for every outcome inside the batch's transaction (err is the
	// item's failure or nil), e.g. to keep sidecar records in step with the ledger.
	Record func(ctx context.Context, tx *sql.Tx, it Item, err error) error
	// Accept, if set, must accept the content at one of its paths in the location (paths are
	// slash-separated, relative to the location root); that path is the one the stage gets.
	Accept func(rel, kind, mime string, size int64) bool
}

// StepSummary counts what a step did in a run.
type StepSummary struct {
	Stage   string `json:"stage"`
	Version int    `json:"version"`
	Done    int64  `json:"done"`   // over every run of the job
	Failed  int64  `json:"failed"` // over every run of the job
	// RunDone and RunFailed count this run only (a resumed job's earlier runs are in Done).
	RunDone   int64 `json:"run_done"`
	RunFailed int64 `json:"run_failed"`
	Batches   int64 `json:"batches"`
	// Millis is the time spent in this step (reading, the stage, writing), over every run of
	// the job.
	Millis int64 `json:"ms"`
}

// Checkpoint is a pipeline run's durable state, saved in the transaction of every batch: the
// step running and the last content id it handled. Work already in the ledger is never redone
// on resume; the cursor only spares rescanning what a path filter rejected or what failed.
type Checkpoint struct {
	Pipeline string        `json:"pipeline"`
	Step     int           `json:"step"`
	After    int64         `json:"after"`
	Steps    []StepSummary `json:"steps"`
}

// Runner runs the steps of a pipeline, in order, over the contents of one location, as (part
// of) a durable job: each batch's outcomes, ledger rows and the checkpoint commit together.
type Runner struct {
	Store    *store.Store
	Location *store.Location
	Pipeline string
	Steps    []Step
	// Run is the job the runner works in: its checkpoint is resumed and saved, its pause and
	// cancel requests are honoured between batches.
	Run *jobs.Run
	// RetryFailed also re-runs contents whose ledger records a failure at the current version.
	RetryFailed bool
	// BatchSize is how many contents are read per batch (default 256); the stage may split a
	// batch further into calls (its manifest's batch size).
	BatchSize int
}

// Execute runs every step over the contents whose ledger lacks it and returns the summary.
func (r *Runner) Execute(ctx context.Context) (Checkpoint, error) {
	var cp Checkpoint
	if ok, err := r.Run.Checkpoint(&cp); err != nil {
		return cp, err
	} else if !ok || cp.Pipeline != r.Pipeline || len(cp.Steps) != len(r.Steps) {
		cp = Checkpoint{Pipeline: r.Pipeline}
	}
	for i, s := range r.Steps {
		if i >= len(cp.Steps) {
			cp.Steps = append(cp.Steps, StepSummary{})
		}
		if cp.Steps[i].Stage != s.Stage.ID() || cp.Steps[i].Version != s.Stage.Version() {
			cp.Steps[i] = StepSummary{Stage: s.Stage.ID(), Version: s.Stage.Version()}
			if i == cp.Step {
				cp.After = 0
			}
		}
	}
	for i := range cp.Steps {
		cp.Steps[i].RunDone, cp.Steps[i].RunFailed = 0, 0
	}
	size := r.BatchSize
	if size <= 0 {
		size = 256
	}
	for ; cp.Step < len(r.Steps); cp.Step, cp.After = cp.Step+1, 0 {
		if err := r.step(ctx, &cp, r.Steps[cp.Step], size); err != nil {
			return cp, err
		}
	}
	return cp, nil
}

func (r *Runner) step(ctx context.Context, cp *Checkpoint, s Step, size int) error {
	id, ver := s.Stage.ID(), s.Stage.Version()
	sum := &cp.Steps[cp.Step]
	for {
		if err := r.Run.Check(ctx); err != nil {
			return err
		}
		start := time.Now()
		pending, err := r.Store.PendingStep(ctx, r.Location.ID, id, ver, r.RetryFailed, s.Types, cp.After, size)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		items := make([]Item, 0, len(pending))
		for _, p := range pending {
			j := acceptIndex(p, s.Accept)
			if j < 0 {
				continue
			}
			items = append(items, Item{ContentID: p.ContentID, ContentUUID: p.UUID, CasID: p.CasID, Size: p.Size,
				Path: r.Location.Abs(p.Paths[j]), Name: p.Names[j], Kind: p.Kind, Mime: p.Mime})
		}
		var outs []Outcome
		if len(items) > 0 {
			// one outcome per item: process checks every call's count
			if outs, err = processIsolating(ctx, s.Stage, items); err != nil {
				return fmt.Errorf("stage %s: %w", id, err)
			}
		}
		b, err := r.Store.Begin(ctx)
		if err != nil {
			return err
		}
		for i, o := range outs {
			status, msg := StatusDone, ""
			if o.Err == nil && o.Apply != nil {
				o.Err = o.Apply(ctx, b.Tx())
			}
			if o.Err != nil {
				status, msg = StatusFailed, o.Err.Error()
				sum.Failed++
				sum.RunFailed++
			} else {
				sum.Done++
				sum.RunDone++
			}
			if err := b.RecordStage(items[i].ContentID, id, ver, status, msg); err != nil {
				b.Rollback()
				return err
			}
			if s.Record != nil {
				if err := s.Record(ctx, b.Tx(), items[i], o.Err); err != nil {
					b.Rollback()
					return err
				}
			}
		}
		sum.Batches++
		sum.Millis += time.Since(start).Milliseconds()
		cp.After = pending[len(pending)-1].ContentID
		r.Run.Progress("stage:"+id, sum.Done+sum.Failed, 0)
		if err := r.Run.Save(ctx, b.Tx(), cp); err != nil {
			b.Rollback()
			return err
		}
		if err := b.Commit(); err != nil {
			return fmt.Errorf("committing a batch of %s: %w", id, err)
		}
	}
}

// acceptIndex returns the index of the first path of it that ok accepts (0 when ok is nil),
// or -1.
func acceptIndex(it store.StepItem, ok func(rel, kind, mime string, size int64) bool) int {
	if ok == nil {
		return 0
	}
	for i, p := range it.Paths {
		if ok(p, it.Kind, it.Mime, it.Size) {
			return i
		}
	}
	return -1
}

// processIsolating processes items; when a call fails as a whole (a crash, a deadline, a
// malformed answer), it retries the halves, so that one bad file fails alone with the call's
// error and the others still get their outcomes. Only cancellation fails the batch.
func processIsolating(ctx context.Context, s Stage, items []Item) ([]Outcome, error) {
	outs, err := process(ctx, s, items)
	if err == nil {
		return outs, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(items) == 1 {
		return []Outcome{{Err: err}}, nil
	}
	mid := len(items) / 2
	a, err := processIsolating(ctx, s, items[:mid])
	if err != nil {
		return nil, err
	}
	b, err := processIsolating(ctx, s, items[mid:])
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

// process calls the stage, turning a panic of an in-process stage into a batch error.
func process(ctx context.Context, s Stage, items []Item) (outs []Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("stage panicked: %v\n%s", v, debug.Stack())
		}
	}()
	outs, err = s.Process(ctx, items)
	if err == nil && len(outs) != len(items) {
		err = fmt.Errorf("returned %d outcomes for %d items", len(outs), len(items))
	}
	return outs, err
}
