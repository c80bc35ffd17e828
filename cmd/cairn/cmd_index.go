package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "index", summary: "index (or resume indexing) locations in the foreground", run: runIndex,
		usage: []string{"index [PATH] [--mode shallow|content|deep] [--pipeline NAME] [--no-pipeline] [--json]"},
		about: "Without PATH, every location of the library is indexed. A PATH that is not a location yet is added first; " +
			"the very first `cairn index PATH` in a home with no library creates the library \"default\". After indexing, " +
			"each location's pipeline runs. Ctrl-C pauses; run the same command again to resume.",
		examples: []string{"cairn index ~/Pictures", "cairn --library photos index --no-pipeline", "cairn index . --mode deep --json"}})
}

type indexFlags struct {
	json, noProgress, allowEmpty bool
	noPipeline                   bool
	strict                       bool // exit 1 when a stage failed on a file
	pipeline                     string
	mode                         string
	cfg                          store.LocationConfig // for a location index adds
}

func runIndex(ctx context.Context, a *app, args []string) error {
	fs := newFlags("index", a)
	var f indexFlags
	fs.BoolVar(&f.json, "json", false, "print the summary as JSON")
	fs.BoolVar(&f.noProgress, "no-progress", false, "do not draw a progress bar")
	fs.BoolVar(&f.allowEmpty, "allow-empty-root", false, "let an empty location root delete its index (off: an empty root is taken for an unmounted drive)")
	fs.StringVar(&f.mode, "mode", "", "index mode for a new location, or override for this run: shallow, content or deep")
	fs.BoolVar(&f.cfg.IgnoreHidden, "ignore-hidden", false, "for a new location: skip hidden files and folders")
	fs.BoolVar(&f.cfg.NoIgnore, "no-ignore", false, "for a new location: index everything (no system, VCS, dev, NAS or .gitignore rules)")
	fs.StringVar(&f.pipeline, "pipeline", "", "for a new location: the pipeline to run after indexing (default: $CAIRN_DEFAULT_PIPELINE or \"default\"; \"none\")")
	fs.BoolVar(&f.noPipeline, "no-pipeline", false, "do not run the locations' pipelines after indexing")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when a pipeline stage failed on a file (broken or unsupported; a missing tool is not a failure)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("index takes at most one PATH")
	}
	if f.mode != "" && !store.ValidMode(f.mode) {
		return usagef("unknown mode %q: shallow, content or deep", f.mode)
	}
	if len(pos) == 1 { // fail on a bad path before creating anything
		if _, err := absPath(pos[0]); err != nil {
			return err
		}
	}
	f.cfg.Pipeline = f.pipeline
	if f.cfg.Pipeline == "" {
		f.cfg.Pipeline = defaultPipelineName()
	}
	if f.pipeline != "" {
		if err := checkPipelineName(a, f.pipeline); err != nil {
			return err
		}
	}
	lib, err := a.open(ctx, true, len(pos) == 1)
	if err != nil {
		return err
	}
	defer lib.Close()

	var locs []store.Location
	if len(pos) == 1 {
		loc, err := locationForIndex(ctx, a, lib, pos[0], f.mode, f.cfg)
		if err != nil {
			return err
		}
		locs = append(locs, *loc)
	} else if locs, err = lib.Store.Locations(ctx); err != nil {
		return err
	}
	if len(locs) == 0 {
		return fmt.Errorf("library %s has no locations: `cairn index PATH` or `cairn location add PATH`", lib.Name)
	}
	var firstErr error
	var lh *libHost
	defer func() {
		if lh != nil {
			lh.Close()
		}
	}()
	var sums []PipelineSummary
	for i := range locs {
		err := indexLocation(ctx, a, lib, &locs[i], f)
		if err == nil && !f.noPipeline && ctx.Err() == nil {
			var sum *PipelineSummary
			sum, err = indexPipeline(ctx, a, lib, &lh, &locs[i], f)
			if sum != nil {
				sums = append(sums, *sum)
			}
		}
		if err != nil {
			fmt.Fprintf(a.stderr, "cairn index: %s: %v\n", locs[i].Path, err)
			if firstErr == nil {
				firstErr = err
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if !f.json {
		printToolNotes(a, sums) // once, after every location: not one line per file
	}
	if firstErr != nil {
		return errors.New("indexing failed (details above; the index keeps everything committed before the failure)")
	}
	// Files a stage could not process are failures, listed above and counted here (with
	// --strict, in the exit status too); contents that wait for a missing tool are only the
	// note above.
	return reportFailures(a, f.strict, f.json, filesFailed(sums))
}

// locationForIndex finds the location for PATH, adding it when PATH is not inside one.
func locationForIndex(ctx context.Context, a *app, lib *library.Library, path, mode string, cfg store.LocationConfig) (*store.Location, error) {
	p, err := absPath(path)
	if err != nil {
		return nil, err
	}
	if loc, _, err := lib.Store.LocationFor(ctx, p); err == nil {
		return loc, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if mode == "" {
		mode = store.ModeContent
	}
	loc, err := addLocation(ctx, lib, p, mode, cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.stderr, "added location %s (mode %s)\n", loc.Path, loc.IndexMode)
	return loc, nil
}

func indexLocation(ctx context.Context, a *app, lib *library.Library, loc *store.Location, f indexFlags) error {
	rules, err := index.RulesFor(loc.Config)
	if err != nil {
		return err
	}
	bar := newProgressBar(a.stderr, !f.noProgress && !f.json)
	stopBar := bar.follow(lib.Bus)
	ix := &index.Indexer{Store: lib.Store, Jobs: lib.Jobs}
	job, resumed, err := ix.Job(ctx, loc)
	if err != nil {
		return err
	}
	if resumed && !f.json {
		fmt.Fprintf(a.stderr, "resuming job %d (%s, phase %s)\n", job.ID, job.State, orDash(job.Phase))
	}
	opts := index.Options{Mode: f.mode, Rules: rules, AllowEmptyRoot: f.allowEmpty}
	mode := loc.IndexMode
	if f.mode != "" {
		mode = f.mode
	}
	if mode == store.ModeDeep {
		opts.Stages = []pipeline.Stage{pipeline.Integrity{}}
	}
	sum, err := ix.Run(ctx, loc, job, opts)
	stopBar()
	if f.json {
		if jerr := a.jsonLine(sum); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		printSummary(a, sum)
	}
	return err
}

// indexPipeline runs the location's pipeline after it was indexed (contents identified), starting
// the extension host on first use. It returns the run's summary (nil when no pipeline ran).
func indexPipeline(ctx context.Context, a *app, lib *library.Library, lh **libHost, loc *store.Location, f indexFlags) (*PipelineSummary, error) {
	name := locationPipeline(loc)
	if name == "" {
		return nil, nil
	}
	if mode := loc.IndexMode; (f.mode == "" && mode == store.ModeShallow) || f.mode == store.ModeShallow {
		return nil, nil // no content identities: nothing for stages to work on
	}
	ps, lerr := loadPipelines(a)
	p, err := pickPipeline(ps, lerr, name)
	if err != nil {
		return nil, fmt.Errorf("the location's pipeline: %w (change it with `cairn location pipeline PATH NAME`)", err)
	}
	if *lh == nil {
		h, err := startHost(ctx, a, lib)
		if err != nil {
			return nil, err
		}
		*lh = h
	}
	sum, err := runPipelineOn(ctx, a, lib, *lh, p, loc, "", pipelineFlags{json: f.json, noProgress: f.noProgress})
	if f.json {
		if jerr := a.jsonLine(sum); jerr != nil && err == nil {
			err = jerr
		}
	} else {
		printPipelineSummary(a, sum)
	}
	return &sum, err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printSummary(a *app, s index.Summary) {
	w := a.stdout
	d := time.Duration(s.DurationMs) * time.Millisecond
	fmt.Fprintf(w, "%s: %s in %s (job %d, %s", s.Location, s.State, d, s.JobID, s.Mode)
	if s.Runs > 1 {
		fmt.Fprintf(w, ", run %d", s.Runs)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "  on disk: %s, %s, %s, %s (%s ignored)\n", plural(s.Files, "file"), plural(s.Dirs, "dir"),
		plural(s.Symlinks, "symlink"), humanBytes(s.Bytes), strconv.FormatInt(s.Ignored, 10))
	fmt.Fprintf(w, "  changes: %d new, %d modified, %d moved, %d deleted\n", s.New, s.Modified, s.Moved, s.Deleted)
	if s.Hashed > 0 || s.Mode != store.ModeShallow {
		fmt.Fprintf(w, "  content: %d files identified (%d in this run), %s read\n", s.Hashed, s.RunHashed, humanBytes(s.HashedBytes))
	}
	for id, n := range s.Stages {
		fmt.Fprintf(w, "  stage %s: %d contents\n", id, n)
	}
	if s.Skipped > 0 || s.Notes > 0 {
		fmt.Fprintf(w, "  skipped: %d, notes: %d (listed by `cairn jobs show %d`)\n", s.Skipped, s.Notes, s.JobID)
	}
	if s.State == string(jobs.Paused) {
		fmt.Fprintf(w, "  paused: run `cairn index` or `cairn jobs resume %d` to continue\n", s.JobID)
	}
	if s.Runs > 1 {
		fmt.Fprintf(w, "  this run wrote %d entries and hashed %d files\n", s.RunWritten, s.RunHashed)
	}
}
