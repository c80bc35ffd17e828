package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
)

// JobKind is the kind of the indexing job in the jobs table; its target is the location id.
const JobKind = "index"

// Phases of an index job, in order.
const (
	PhaseWalk    = "walk"
	PhaseDelete  = "delete"
	PhaseContent = "content"
	PhaseStages  = "stages"
	PhaseDone    = "done"
)

// Options tune a run.
type Options struct {
	// Mode overrides the location's index mode when set.
	Mode string
	// Rules are the root ignore rules (nil: index everything).
	Rules Rules
	// WalkWorkers and HashWorkers size the walk and hashing pools (0: automatic).
	WalkWorkers, HashWorkers int
	// BatchSize is the number of written rows per transaction (default 2000).
	BatchSize int
	// Stages run in deep mode, in order, for every content whose ledger lacks them.
	Stages []pipeline.Stage
	// AllowEmptyRoot lets an empty location root delete a non-empty index (by default an empty
	// root is taken for an unmounted drive and nothing is deleted).
	AllowEmptyRoot bool
	// MaxChanges caps the change list kept in the summary (default 1000).
	MaxChanges int
}

// Change is one top-level change found by the walk.
type Change struct {
	Op   string `json:"op"` // new, modified, moved, deleted
	Path string `json:"path"`
	From string `json:"from,omitempty"`
	Kind string `json:"kind"`
}

// Summary is the outcome of an index job, cumulative over every run of the job (resumes included).
type Summary struct {
	Location string `json:"location"`
	Mode     string `json:"mode"`
	JobID    int64  `json:"job_id"`
	State    string `json:"state"`
	Runs     int    `json:"runs"`
	// What the last walk saw on disk.
	Files    int64 `json:"files"`
	Dirs     int64 `json:"dirs"`
	Symlinks int64 `json:"symlinks"`
	Special  int64 `json:"special"` // FIFOs, devices and sockets: listed, never opened
	Bytes    int64 `json:"bytes"`
	Ignored  int64 `json:"ignored"`
	// Changes applied.
	New      int64 `json:"new"`
	Modified int64 `json:"modified"`
	Moved    int64 `json:"moved"`
	Deleted  int64 `json:"deleted"`
	// Content identity.
	Hashed      int64 `json:"hashed"`
	HashedBytes int64 `json:"hashed_bytes"`
	NewContents int64 `json:"new_contents"`
	// Stages: contents processed (done + failed) per stage id.
	Stages map[string]int64 `json:"stages,omitempty"`
	// Skips, and notes about entries indexed with a caveat (both listed by `cairn jobs show`).
	Skipped int64 `json:"skipped"`
	Notes   int64 `json:"notes"`
	// Work done by this run alone (to show what a resume redid).
	RunWritten int64 `json:"run_written"`
	RunHashed  int64 `json:"run_hashed"`
	// Wall time of this run.
	DurationMs int64    `json:"duration_ms"`
	Changes    []Change `json:"changes,omitempty"`
	Truncated  bool     `json:"changes_truncated,omitempty"`
}

type checkpoint struct {
	Phase         string           `json:"phase"`
	Summary       Summary          `json:"summary"`
	ContentCursor int64            `json:"content_cursor"`
	StageCursors  map[string]int64 `json:"stage_cursors,omitempty"`
}

// ProgressFunc receives progress of the phases.
type ProgressFunc func(phase string, done, total int64)

// Indexer indexes locations of one library.
type Indexer struct {
	Store *store.Store
	Jobs  *jobs.Manager
}

// ErrRootMissing means the location root is not reachable; nothing was changed.
var ErrRootMissing = errors.New("location root is not reachable")

// Job returns the unfinished index job of a location (to resume it), or a new one.
func (ix *Indexer) Job(ctx context.Context, loc *store.Location) (*jobs.Job, bool, error) {
	target := fmt.Sprint(loc.ID)
	j, err := ix.Jobs.Unfinished(ctx, JobKind, target)
	if err != nil {
		return nil, false, err
	}
	if j != nil {
		return j, true, nil
	}
	j, err = ix.Jobs.Create(ctx, JobKind, target)
	return j, false, err
}

// Run runs (or resumes) job over loc in the foreground and returns the summary.
func (ix *Indexer) Run(ctx context.Context, loc *store.Location, job *jobs.Job, opts Options) (Summary, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	if opts.MaxChanges <= 0 {
		opts.MaxChanges = 1000
	}
	mode := loc.IndexMode
	if opts.Mode != "" {
		mode = opts.Mode
	}
	var sum Summary
	start := time.Now()
	state, err := ix.Jobs.Execute(ctx, job, func(ctx context.Context, r *jobs.Run) error {
		cp := checkpoint{Phase: PhaseWalk}
		if _, err := r.Checkpoint(&cp); err != nil {
			return err
		}
		cp.Summary.Runs++
		cp.Summary.RunWritten, cp.Summary.RunHashed = 0, 0
		cp.Summary.Location, cp.Summary.Mode, cp.Summary.JobID = loc.Path, mode, job.ID
		defer func() { sum = cp.Summary }()
		if err := ix.Store.SetLocationState(ctx, loc.ID, "indexing"); err != nil {
			return err
		}
		p := &processor{st: ix.Store, loc: loc, run: r, cp: &cp, opts: opts, jobID: job.ID}
		if cp.Phase == PhaseWalk || cp.Phase == PhaseDelete {
			// The walk is repeated on resume: it only compares, and writes nothing that is already
			// committed. Deletion candidates are recomputed by it.
			if err := p.discover(ctx); err != nil {
				return err
			}
		}
		if cp.Phase == PhaseContent {
			if mode == store.ModeShallow {
				cp.Phase = PhaseDone
			} else if err := p.content(ctx); err != nil {
				return err
			}
		}
		if cp.Phase == PhaseStages {
			if mode != store.ModeDeep {
				cp.Phase = PhaseDone
			} else if err := p.stages(ctx); err != nil {
				return err
			}
		}
		if err := p.finish(ctx); err != nil {
			return err
		}
		return ix.Store.SetLocationState(ctx, loc.ID, "indexed")
	})
	sum = committedSummary(ix.Jobs, job.ID, sum)
	sum.State = string(state)
	sum.DurationMs = time.Since(start).Milliseconds()
	if state != jobs.Completed && err == nil {
		_ = ix.Store.SetLocationState(context.Background(), loc.ID, string(state))
	}
	return sum, err
}

// committedSummary is the summary in the job's last committed checkpoint: a run stopped by
// Ctrl-C (or failed) may have counted a batch that was rolled back, and the summary must say
// what the job row and the index say. run is the summary the run kept in memory; it supplies
// what a run that committed nothing has not saved yet.
func committedSummary(jm *jobs.Manager, id int64, run Summary) Summary {
	j, err := jm.Get(context.Background(), strconv.FormatInt(id, 10))
	if err != nil || len(j.Checkpoint) == 0 {
		return run
	}
	var cp checkpoint
	if json.Unmarshal(j.Checkpoint, &cp) != nil {
		return run
	}
	sum := cp.Summary
	if sum.Runs != run.Runs { // nothing committed in this run
		sum.Runs, sum.RunWritten, sum.RunHashed = run.Runs, 0, 0
	}
	sum.Location, sum.Mode, sum.JobID = run.Location, run.Mode, run.JobID
	return sum
}
