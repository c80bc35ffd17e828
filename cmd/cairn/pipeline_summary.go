package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
	pipedef "github.com/cairnfs/cairn/schemas/pipeline"
)

// PipelineSummary is what a pipeline run did over one location. Its counts are those of the
// job's committed batches: after Ctrl-C they are what `cairn jobs list` shows.
type PipelineSummary struct {
	Pipeline   string                 `json:"pipeline"`
	Location   string                 `json:"location"`
	Subtree    string                 `json:"subtree,omitempty"`
	JobID      int64                  `json:"job_id"`
	State      string                 `json:"state"`
	Resumed    bool                   `json:"resumed,omitempty"`
	Steps      []pipeline.StepSummary `json:"steps"`
	DurationMs int64                  `json:"duration_ms"`
	Error      string                 `json:"error,omitempty"`
	// Failures are this run's failures on broken files, by path (up to maxListedFailures;
	// steps[].run_failed has the count). Contents that wait for a missing tool are not
	// failures: see steps[].missing_tools.
	Failures []stageFailure `json:"failures,omitempty"`
}

// maxListedFailures is how many of a run's failures a summary lists.
const maxListedFailures = 20

// stageFailure is a failure listed by path: the files holding the content.
type stageFailure struct {
	Paths   []string `json:"paths"`
	Stage   string   `json:"stage"`
	Version int      `json:"version"`
	Error   string   `json:"error"`
	Content string   `json:"content_uuid"`
}

// String is "PATH (and N other files) (STAGE): first line of the error".
func (f stageFailure) String() string {
	more := ""
	if len(f.Paths) > 1 {
		more = fmt.Sprintf(" (and %s)", plural(int64(len(f.Paths)-1), "other file"))
	}
	return fmt.Sprintf("%s%s (%s): %s", f.Paths[0], more, f.Stage, firstLine(f.Error))
}

// failuresByPath lists up to limit failures of stage ("" for all) in loc recorded since (Unix
// ns, 0 for all), with the absolute paths of the files holding each content.
func failuresByPath(ctx context.Context, lib *library.Library, loc *store.Location, stage string, since int64, limit int) ([]stageFailure, error) {
	fs, err := lib.Store.StageFailures(ctx, loc.ID, stage, since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]stageFailure, 0, len(fs))
	for _, fl := range fs {
		paths := make([]string, len(fl.Paths))
		for i, p := range fl.Paths {
			paths[i] = loc.Abs(p)
		}
		out = append(out, stageFailure{Paths: paths, Stage: fl.Stage, Version: fl.Version, Error: fl.Error, Content: fl.UUID})
	}
	return out, nil
}

// runPipelineOn runs (or resumes) p over loc as a durable job.
func runPipelineOn(ctx context.Context, a *app, lib *library.Library, lh *libHost, p *pipedef.Pipeline, loc *store.Location, subtree string, f pipelineFlags) (PipelineSummary, error) {
	sum := PipelineSummary{Pipeline: p.Name, Location: loc.Path, Subtree: subtree}
	start := time.Now()
	steps, _, err := buildSteps(lh, p, subtree)
	if err != nil {
		sum.State, sum.Error = string(jobs.Failed), err.Error()
		return sum, err
	}
	target := fmt.Sprintf("%d:%s", loc.ID, p.Name)
	if subtree != "" {
		target += ":" + subtree
	}
	job, err := lib.Jobs.Unfinished(ctx, pipelineJobKind, target)
	if err != nil {
		return sum, err
	}
	if job != nil {
		sum.Resumed = true
		if !f.json {
			fmt.Fprintf(a.stderr, "resuming pipeline job %d (%s)\n", job.ID, job.State)
		}
	} else if job, err = lib.Jobs.Create(ctx, pipelineJobKind, target); err != nil {
		return sum, err
	}
	sum.JobID = job.ID
	bar := newProgressBar(a.stderr, !f.noProgress && !f.json)
	stopBar := bar.follow(lib.Bus)
	var cp pipeline.Checkpoint
	state, err := lib.Jobs.Execute(ctx, job, func(ctx context.Context, run *jobs.Run) error {
		r := &pipeline.Runner{Store: lib.Store, Location: loc, Pipeline: p.Name, Steps: steps, Run: run, RetryFailed: f.retryFailed}
		var err error
		cp, err = r.Execute(ctx)
		return err
	})
	stopBar()
	sum.State, sum.Steps, sum.DurationMs = string(state), cp.Steps, time.Since(start).Milliseconds()
	if err != nil {
		sum.Error = err.Error()
	}
	var failed int64
	for _, st := range cp.Steps {
		failed += st.RunFailed
	}
	if failed > 0 {
		// A fresh context: after Ctrl-C the failures committed so far are still listed.
		fs, ferr := failuresByPath(context.Background(), lib, loc, "", start.UnixNano(), maxListedFailures)
		if ferr != nil && err == nil {
			err = ferr
		}
		sum.Failures = fs
	}
	return sum, err
}

func printPipelineSummary(a *app, s PipelineSummary) {
	where := s.Location
	if s.Subtree != "" {
		where += "/" + s.Subtree
	}
	fmt.Fprintf(a.stdout, "pipeline %s on %s: %s in %s (job %d)\n", s.Pipeline, where, s.State,
		time.Duration(s.DurationMs)*time.Millisecond, s.JobID)
	var failed int64
	for _, st := range s.Steps {
		fmt.Fprintf(a.stdout, "  %-20s v%-3d %8d done %6d failed", st.Stage, st.Version, st.RunDone, st.RunFailed)
		if st.RunMissingTool > 0 {
			fmt.Fprintf(a.stdout, " %6d waiting for a tool", st.RunMissingTool)
		}
		if st.Done != st.RunDone || st.Failed != st.RunFailed {
			fmt.Fprintf(a.stdout, "  (job total %d done, %d failed)", st.Done, st.Failed)
		}
		fmt.Fprintln(a.stdout)
		failed += st.RunFailed
	}
	for _, fl := range s.Failures {
		fmt.Fprintf(a.stdout, "  failed %s\n", fl)
	}
	if n := failed - int64(len(s.Failures)); n > 0 && len(s.Failures) > 0 {
		fmt.Fprintf(a.stdout, "  … and %d more failures (`cairn pipeline status %s %s --failed %d`)\n", n, s.Pipeline, s.Location, failed)
	}
	if s.Error != "" {
		fmt.Fprintf(a.stdout, "  error: %s\n", s.Error)
	}
}

// toolNotes says, once per stage and missing tool over every summary, how many contents wait
// for the tool, e.g. "2 video files were not processed by stage.mediathumb: ffmpeg is not
// installed (Debian package ffmpeg); the next run does them once it is installed".
func toolNotes(sums []PipelineSummary) []string {
	type key struct{ stage, tool string }
	counts := map[key]*pipeline.ToolCount{}
	var order []key
	for _, s := range sums {
		for _, st := range s.Steps {
			for _, tc := range st.Tools {
				k := key{st.Stage, tc.Tool}
				c, ok := counts[k]
				if !ok {
					c = &pipeline.ToolCount{Tool: tc.Tool, Package: tc.Package, Kinds: map[string]int64{}}
					counts[k] = c
					order = append(order, k)
				}
				c.Count += tc.Count
				for kind, n := range tc.Kinds {
					c.Kinds[kind] += n
				}
			}
		}
	}
	var notes []string
	for _, k := range order {
		c := counts[k]
		kinds := make([]string, 0, len(c.Kinds))
		for kind := range c.Kinds {
			kinds = append(kinds, kind)
		}
		sort.Slice(kinds, func(i, j int) bool {
			if c.Kinds[kinds[i]] != c.Kinds[kinds[j]] {
				return c.Kinds[kinds[i]] > c.Kinds[kinds[j]]
			}
			return kinds[i] < kinds[j]
		})
		parts := make([]string, len(kinds))
		for i, kind := range kinds {
			word := kind + " file"
			if kind == "unknown" {
				word = "file"
			}
			parts[i] = plural(c.Kinds[kind], word)
		}
		what := strings.Join(parts, ", ")
		if i := strings.LastIndex(what, ", "); i >= 0 {
			what = what[:i] + " and " + what[i+2:]
		}
		verb := "were"
		if c.Count == 1 {
			verb = "was"
		}
		pkg := ""
		if c.Package != "" {
			pkg = " (Debian package " + c.Package + ")"
		}
		notes = append(notes, fmt.Sprintf("%s %s not processed by %s: %s is not installed%s; the next run does them once it is installed",
			what, verb, k.stage, c.Tool, pkg))
	}
	return notes
}

// printToolNotes prints the notes of toolNotes to stdout.
func printToolNotes(a *app, sums []PipelineSummary) {
	for _, n := range toolNotes(sums) {
		fmt.Fprintf(a.stdout, "note: %s\n", n)
	}
}

// errFilesFailed says that a pipeline run failed on broken or unsupported files (the summaries
// list them); contents waiting for a missing tool are not failures.
type errFilesFailed struct {
	n     int64
	retry []string
}

func (e errFilesFailed) Error() string {
	return fmt.Sprintf("%s on broken or unsupported files (listed above; retry with %s)", plural(e.n, "stage failure"),
		strings.Join(e.retry, ", "))
}

// filesFailed returns an errFilesFailed when the runs failed on any file, else nil.
func filesFailed(sums []PipelineSummary) error {
	var n int64
	var retry []string
	for _, s := range sums {
		var in int64
		for _, st := range s.Steps {
			in += st.RunFailed
		}
		if in > 0 {
			cmd := "`cairn pipeline run " + s.Pipeline + " " + s.Location + " --retry-failed`"
			if len(retry) == 0 || retry[len(retry)-1] != cmd {
				retry = append(retry, cmd)
			}
		}
		n += in
	}
	if n == 0 {
		return nil
	}
	return errFilesFailed{n: n, retry: retry}
}

// reportFailures returns err (from filesFailed) with strict; otherwise it prints it as the
// summary's last line and the command succeeds: a broken file in a folder is the file's
// problem, not the indexer's.
func reportFailures(a *app, strict, asJSON bool, err error) error {
	if err == nil || strict {
		return err
	}
	if !asJSON {
		fmt.Fprintf(a.stdout, "failures: %v\n", err)
	}
	return nil
}
