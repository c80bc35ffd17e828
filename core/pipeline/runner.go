package pipeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

// Step is one stage of a resolved pipeline with the selection of its contents. Status and run
// select with the same two parts (see Pending), so a status never shows work a run would not do.
type Step struct {
	Stage Stage
	// Types is evaluated by the database (content kinds or MIME types, size range).
	Types store.TypeFilter
	// Record, if set, is called for every outcome inside the batch's transaction (err is the
	// item's failure or nil), e.g. to keep sidecar records in step with the ledger.
	Record func(ctx context.Context, tx *sql.Tx, it Item, err error) error
	// Accept, if set, must accept the content at one of its paths in the location (paths are
	// slash-separated, relative to the location root); that path is the one the stage gets.
	// It is for what the database cannot evaluate (path globs, a subtree): the types and sizes
	// belong in Types, or a status would count contents Accept turns away.
	Accept func(rel string) bool
	// CallSize is how many items the stage gets per call (its manifest's batch size; 0: the
	// whole batch). The runner says which file a call is on (jobs.Run.Working).
	CallSize int
}

// StepSummary counts what a step did in a run.
type StepSummary struct {
	Stage   string `json:"stage"`
	Version int    `json:"version"`
	Done    int64  `json:"done"`   // over every run of the job
	Failed  int64  `json:"failed"` // over every run of the job: the file could not be processed
	// MissingTool counts outcomes that failed because an external program the stage needs is
	// not installed (the ledger status StatusMissingTool; retried by every run), over every run.
	MissingTool int64 `json:"missing_tool,omitempty"`
	// RunDone, RunFailed and RunMissingTool count this run only (a resumed job's earlier runs
	// are in Done).
	RunDone        int64 `json:"run_done"`
	RunFailed      int64 `json:"run_failed"`
	RunMissingTool int64 `json:"run_missing_tool,omitempty"`
	// Tools are the missing tools of this run's outcomes, with how many contents each held up.
	Tools   []ToolCount `json:"missing_tools,omitempty"`
	Batches int64       `json:"batches"`
	// Millis is the time spent in this step (reading, the stage, writing), over every run of
	// the job.
	Millis int64 `json:"ms"`
}

// Handled is how many contents the step recorded an outcome for, over every run of the job.
func (s StepSummary) Handled() int64 { return s.Done + s.Failed + s.MissingTool }

// ToolCount is a missing tool and how many contents (by kind) waited for it in a run.
type ToolCount struct {
	Tool    string           `json:"tool"`
	Package string           `json:"package,omitempty"` // the Debian package that installs it
	Count   int64            `json:"count"`
	Kinds   map[string]int64 `json:"kinds,omitempty"` // content kind → count
}

// addTool counts one content of kind held up by tool.
func (s *StepSummary) addTool(mt *MissingToolError, kind string) {
	i := 0
	for i < len(s.Tools) && s.Tools[i].Tool != mt.Tool {
		i++
	}
	if i == len(s.Tools) {
		s.Tools = append(s.Tools, ToolCount{Tool: mt.Tool, Package: mt.Package, Kinds: map[string]int64{}})
	}
	s.Tools[i].Count++
	if kind == "" {
		kind = "unknown"
	}
	s.Tools[i].Kinds[kind]++
}

// clone returns a deep copy (the runner counts a batch on a copy, kept only once it commits).
func (s StepSummary) clone() StepSummary {
	c := s
	c.Tools = make([]ToolCount, len(s.Tools))
	for i, t := range s.Tools {
		c.Tools[i] = t
		c.Tools[i].Kinds = make(map[string]int64, len(t.Kinds))
		for k, v := range t.Kinds {
			c.Tools[i].Kinds[k] = v
		}
	}
	return c
}

// Checkpoint is a pipeline run's durable state, saved in the transaction of every batch: the
// step running and the last content id it handled. Work already in the ledger is never redone
// on resume; the cursor only spares rescanning what a path filter rejected or what failed.
// The counts in Steps are of committed batches only: they are what the job row says.
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
		cp.Steps[i].RunDone, cp.Steps[i].RunFailed, cp.Steps[i].RunMissingTool, cp.Steps[i].Tools = 0, 0, 0, nil
	}
	size := r.BatchSize
	if size <= 0 {
		size = 256
	}
	for cp.Step < len(r.Steps) {
		if err := r.step(ctx, &cp, r.Steps[cp.Step], size); err != nil {
			return cp, err
		}
	}
	return cp, nil
}

// step runs one step to its end and saves the checkpoint that moves to the next step.
func (r *Runner) step(ctx context.Context, cp *Checkpoint, s Step, size int) error {
	id, ver := s.Stage.ID(), s.Stage.Version()
	phase := "stage:" + id
	sum := &cp.Steps[cp.Step]
	left, err := Pending(ctx, r.Store, r.Location, s, r.RetryFailed, cp.After)
	if err != nil {
		return err
	}
	total := sum.Handled() + left
	r.Run.Progress(phase, sum.Handled(), total)
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
			break
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
		outs, err := r.process(ctx, s, items)
		if err != nil {
			return err
		}
		// Count on a copy: the summary moves only when the batch commits, so it always says
		// what the job row and the ledger say (a Ctrl-C that rolls a batch back loses it from both).
		next := sum.clone()
		b, err := r.Store.Begin(ctx)
		if err != nil {
			return err
		}
		for i, o := range outs {
			status, msg := StatusDone, ""
			if o.Err == nil && o.Apply != nil {
				o.Err = o.Apply(ctx, b.Tx())
			}
			switch mt := MissingTool(o.Err); {
			case o.Err == nil:
				next.Done++
				next.RunDone++
			case mt != nil:
				status, msg = StatusMissingTool, o.Err.Error()
				next.MissingTool++
				next.RunMissingTool++
				next.addTool(mt, items[i].Kind)
			default:
				status, msg = StatusFailed, o.Err.Error()
				next.Failed++
				next.RunFailed++
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
		next.Batches++
		next.Millis += time.Since(start).Milliseconds()
		saved := cp.with(next, pending[len(pending)-1].ContentID)
		r.Run.Progress(phase, next.Handled(), max(total, next.Handled()))
		if err := r.Run.Save(ctx, b.Tx(), saved); err != nil {
			b.Rollback()
			return err
		}
		if err := b.Commit(); err != nil {
			return fmt.Errorf("committing a batch of %s: %w", id, err)
		}
		*cp = saved
		sum = &cp.Steps[cp.Step]
	}
	// The step is over: what it handled is its total (contents a path filter turned away were
	// counted as pending), and the checkpoint moves to the next step.
	r.Run.Working("")
	r.Run.Progress(phase, sum.Handled(), sum.Handled())
	saved := *cp
	saved.Step, saved.After = cp.Step+1, 0
	b, err := r.Store.Begin(ctx)
	if err != nil {
		return err
	}
	if err := r.Run.Save(ctx, b.Tx(), saved); err != nil {
		b.Rollback()
		return err
	}
	if err := b.Commit(); err != nil {
		return fmt.Errorf("finishing %s: %w", id, err)
	}
	*cp = saved
	return nil
}

// with returns a copy of cp (its own Steps) whose current step's summary is sum and cursor after.
func (cp Checkpoint) with(sum StepSummary, after int64) Checkpoint {
	steps := make([]StepSummary, len(cp.Steps))
	copy(steps, cp.Steps)
	steps[cp.Step] = sum
	cp.Steps, cp.After = steps, after
	return cp
}

// process hands items to the stage, CallSize at a time, saying which file each call starts at.
func (r *Runner) process(ctx context.Context, s Step, items []Item) ([]Outcome, error) {
	n := s.CallSize
	if n <= 0 || n > len(items) {
		n = len(items)
	}
	outs := make([]Outcome, 0, len(items))
	for i := 0; i < len(items); i += n {
		part := items[i:min(i+n, len(items))]
		r.Run.Working(part[0].Path)
		// one outcome per item: process checks every call's count
		o, err := processIsolating(ctx, s.Stage, part)
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", s.Stage.ID(), err)
		}
		outs = append(outs, o...)
	}
	return outs, nil
}

// Pending counts the contents of loc, after the content id after, that a run of s would hand to
// the stage: the database's count when the step has no Accept, else the contents Accept takes,
// read page by page as a run reads them. `pipeline status` and the runner's progress total both
// count with it.
func Pending(ctx context.Context, st *store.Store, loc *store.Location, s Step, retryFailed bool, after int64) (int64, error) {
	id, ver := s.Stage.ID(), s.Stage.Version()
	if s.Accept == nil {
		return st.CountPendingStep(ctx, loc.ID, id, ver, retryFailed, s.Types, after)
	}
	var n int64
	for {
		page, err := st.PendingStep(ctx, loc.ID, id, ver, retryFailed, s.Types, after, 1024)
		if err != nil || len(page) == 0 {
			return n, err
		}
		for _, p := range page {
			if acceptIndex(p, s.Accept) >= 0 {
				n++
			}
		}
		after = page[len(page)-1].ContentID
	}
}

// acceptIndex returns the index of the first path of it that ok accepts (0 when ok is nil),
// or -1.
func acceptIndex(it store.StepItem, ok func(rel string) bool) int {
	if ok == nil {
		return 0
	}
	for i, p := range it.Paths {
		if ok(p) {
			return i
		}
	}
	return -1
}

// processIsolating processes items; when a call fails as a whole (a crash, a malformed
// answer), it retries the halves, so that one bad file fails alone with the call's error and the
// others still get their outcomes. A call that ran past its deadline (ErrStageDeadline) is
// retried one item per call instead: halving would spend a full deadline at every level (a
// DOCX bomb in a batch took four 2-minute deadlines), one call per item spends exactly one more
// on the file that hangs. Only cancellation fails the batch.
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
	if errors.Is(err, ErrStageDeadline) {
		outs := make([]Outcome, 0, len(items))
		for i := range items {
			o, err := process(ctx, s, items[i:i+1])
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if err != nil {
				o = []Outcome{{Err: err}}
			}
			outs = append(outs, o...)
		}
		return outs, nil
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
