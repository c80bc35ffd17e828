package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/cairnfs/cairn/internal/firstparty"
	"github.com/cairnfs/cairn/registry/extstore"
	"github.com/cairnfs/cairn/schemas/manifest"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
	pipedef "github.com/cairnfs/cairn/schemas/pipeline"
)

func init() {
	register(command{name: "pipeline", summary: "list, show, validate, run pipelines and show their status", run: runPipeline,
		usage: []string{
			"pipeline list\tthe pipelines, with their stages",
			"pipeline show NAME\ta pipeline's stages in run order, their filters and versions",
			"pipeline validate [FILE...]\tcheck pipeline files (default: every user file); errors give file:line",
			"pipeline run NAME [PATH]\trun NAME over every location, or the location (or folder) PATH; resumable",
			"pipeline status [NAME] [PATH]\tdone, failed and pending contents per stage",
		},
		about: "Pipelines are the stages that run over a location's contents after indexing (file types, media metadata, " +
			"text, thumbnails, …). \"default\" is built in; your own pipelines are TOML files in $CAIRN_HOME/pipelines/*.toml " +
			"(or --file FILE). `cairn location add --pipeline NAME` picks a location's pipeline; `cairn index` runs it. " +
			"Runs are incremental: only contents whose ledger lacks a stage run.",
		examples: []string{"cairn pipeline list", "cairn pipeline run default ~/Pictures", "cairn pipeline status --failed 10"}})
}

// pipelineJobKind is the kind of pipeline jobs; their target is "<location id>:<name>[:<subtree>]".
const pipelineJobKind = "pipeline"

type pipelineFlags struct {
	json, noProgress, retryFailed bool
	strict                        bool // run: exit 1 when a stage failed on a file
	files                         stringList
	failed                        int
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runPipeline(ctx context.Context, a *app, args []string) error {
	fs := newFlags("pipeline", a)
	var f pipelineFlags
	fs.BoolVar(&f.json, "json", false, "print JSON lines")
	fs.BoolVar(&f.noProgress, "no-progress", false, "run: do not draw a progress bar")
	fs.BoolVar(&f.retryFailed, "retry-failed", false, "run: also retry contents a stage failed on")
	fs.BoolVar(&f.strict, "strict", false, "run: exit 1 when a stage failed on a file (a missing tool is not a failure)")
	fs.Var(&f.files, "file", "also read pipelines from this TOML file (repeatable)")
	fs.IntVar(&f.failed, "failed", 0, "status: list up to this many failures per stage")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		pos = []string{"list"}
	}
	switch pos[0] {
	case "list":
		return pipelineList(a, f)
	case "validate":
		return pipelineValidate(ctx, a, f, pos[1:])
	case "show":
		if len(pos) != 2 {
			return usagef("usage: cairn pipeline show NAME")
		}
		return pipelineShow(ctx, a, f, pos[1])
	case "run":
		if len(pos) < 2 || len(pos) > 3 {
			return usagef("usage: cairn pipeline run NAME [PATH]")
		}
		return pipelineRunCmd(ctx, a, f, pos[1], pos[2:])
	case "status":
		return pipelineStatus(ctx, a, f, pos[1:])
	}
	return usagef("unknown pipeline command %q", pos[0])
}

func pipelineList(a *app, f pipelineFlags) error {
	ps, err := loadPipelines(a, f.files...)
	if err != nil {
		fmt.Fprintf(a.stderr, "cairn pipeline: %v\n", err)
	}
	for _, n := range pipelineNames(ps) {
		p := ps[n]
		var ids []string
		for _, s := range p.Stages {
			ids = append(ids, s.Stage)
		}
		if f.json {
			if err := a.jsonLine(map[string]any{"name": p.Name, "description": p.Description, "source": p.Source,
				"locations": p.Locations, "stages": ids}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(a.stdout, "%-16s %s\n  %s (%s)\n", p.Name, p.Description, strings.Join(ids, " → "), p.Source)
	}
	if err != nil {
		return errors.New("some pipeline files are invalid (above)")
	}
	return nil
}

// withHost opens the library read-only and starts its extension host.
func withHost(ctx context.Context, a *app, write bool, fn func(lib *library.Library, lh *libHost) error) error {
	lib, err := a.open(ctx, write, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	lh, err := startHost(ctx, a, lib)
	if err != nil {
		return err
	}
	defer lh.Close()
	return fn(lib, lh)
}

// pipelineValidate checks pipeline files against the stages of the first-party extensions and
// of the extensions installed in the home, from their manifests: no library is opened and no
// extension is loaded. Every problem of every file is reported.
func pipelineValidate(ctx context.Context, a *app, f pipelineFlags, files []string) error {
	files = append(files, f.files...)
	if len(files) == 0 {
		files, _ = filepath.Glob(filepath.Join(a.pipelineDir(), "*.toml"))
		sort.Strings(files)
		if len(files) == 0 {
			fmt.Fprintf(a.stderr, "no pipeline files in %s (the built-in default is always valid)\n", a.pipelineDir())
			return nil
		}
	}
	cat, err := stageCatalog(a)
	if err != nil {
		return err
	}
	var errs []error
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading pipelines: %w", err))
			continue
		}
		pf, err := pipedef.Validate(file, b, cat)
		if err != nil {
			for _, e := range pipedef.Errors(err) {
				errs = append(errs, e)
			}
			if f.json {
				for _, e := range pipedef.Errors(err) {
					a.jsonLine(map[string]any{"file": e.File, "line": e.Line, "pipeline": e.Pipeline, "stage": e.Stage, "error": e.Reason})
				}
			}
			continue
		}
		for _, p := range pf.Pipelines {
			if f.json {
				a.jsonLine(map[string]any{"name": p.Name, "source": p.Source, "valid": true})
			} else {
				fmt.Fprintf(a.stdout, "%s: ok (%s)\n", p.Name, p.Source)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	if !f.json {
		for _, e := range errs {
			fmt.Fprintln(a.stderr, e)
		}
	}
	return fmt.Errorf("%s found", plural(int64(len(errs)), "problem"))
}

// stageCatalog is every stage a pipeline may name, from manifests: the first-party extensions
// embedded in this binary, then the extensions installed in the home (an installed one wins).
func stageCatalog(a *app) (pipedef.ManifestCatalog, error) {
	var ms []*manifest.Manifest
	if os.Getenv("CAIRN_NO_FIRST_PARTY") == "" {
		fp, err := firstparty.Manifests()
		if err != nil {
			return nil, fmt.Errorf("reading the first-party manifests: %w", err)
		}
		ms = append(ms, fp...)
	}
	installed, err := (&extstore.Store{Dir: filepath.Join(a.home.Dir, "extensions")}).List()
	if err != nil {
		return nil, fmt.Errorf("reading the installed extensions: %w", err)
	}
	for _, x := range installed {
		ms = append(ms, x.Manifest)
	}
	return pipedef.CatalogOf(ms)
}

func pipelineShow(ctx context.Context, a *app, f pipelineFlags, name string) error {
	ps, lerr := loadPipelines(a, f.files...)
	p, err := pickPipeline(ps, lerr, name)
	if err != nil {
		return err
	}
	return withHost(ctx, a, false, func(lib *library.Library, lh *libHost) error {
		_, resolved, err := buildSteps(lh, p, "")
		if err != nil {
			return err
		}
		if !f.json {
			fmt.Fprintf(a.stdout, "%s: %s (%s)\n", p.Name, p.Description, p.Source)
		}
		for i, st := range resolved {
			info, _ := lh.Stage(st.Stage)
			if f.json {
				if err := a.jsonLine(map[string]any{"order": i + 1, "stage": st.Stage, "extension": info.Extension,
					"source": lh.sources[info.Extension], "version": info.Version, "consumes": info.Consumes,
					"produces": info.Produces, "filter": st.Filter, "config": st.Config}); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(a.stdout, "%d. %s v%d (%s, %s)\n", i+1, st.Stage, info.Version, info.Extension, lh.sources[info.Extension])
			if d := describeFilter(st.Filter); d != "" {
				fmt.Fprintf(a.stdout, "   only: %s\n", d)
			}
			if len(st.Config) > 0 {
				fmt.Fprintf(a.stdout, "   config: %s\n", st.Config)
			}
		}
		return nil
	})
}

func describeFilter(f pipedef.Filter) string {
	var parts []string
	if len(f.Kinds) > 0 {
		parts = append(parts, "kinds "+strings.Join(f.Kinds, ","))
	}
	if len(f.Mimes) > 0 {
		parts = append(parts, "types "+strings.Join(f.Mimes, ","))
	}
	if len(f.Globs) > 0 {
		parts = append(parts, "paths "+strings.Join(f.Globs, ","))
	}
	if len(f.ExcludeGlobs) > 0 {
		parts = append(parts, "not "+strings.Join(f.ExcludeGlobs, ","))
	}
	if f.MinSize > 0 {
		parts = append(parts, "≥ "+pipedef.FormatSize(f.MinSize))
	}
	if f.MaxSize > 0 {
		parts = append(parts, "≤ "+pipedef.FormatSize(f.MaxSize))
	}
	return strings.Join(parts, "; ")
}

func pipelineRunCmd(ctx context.Context, a *app, f pipelineFlags, name string, path []string) error {
	ps, lerr := loadPipelines(a, f.files...)
	p, err := pickPipeline(ps, lerr, name)
	if err != nil {
		return err
	}
	return withHost(ctx, a, true, func(lib *library.Library, lh *libHost) error {
		targets, err := runTargets(ctx, lib, path)
		if err != nil {
			return err
		}
		var errs []error
		var sums []PipelineSummary
		for _, t := range targets {
			sum, err := runPipelineOn(ctx, a, lib, lh, p, t.loc, t.subtree, f)
			sums = append(sums, sum)
			if f.json {
				a.jsonLine(sum)
			} else {
				printPipelineSummary(a, sum)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", t.loc.Path, err))
			}
			if ctx.Err() != nil {
				break
			}
		}
		if !f.json {
			printToolNotes(a, sums)
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		return reportFailures(a, f.strict, f.json, filesFailed(sums))
	})
}

type runTarget struct {
	loc     *store.Location
	subtree string
}

// runTargets is the location (and folder in it) PATH names, or every location.
func runTargets(ctx context.Context, lib *library.Library, path []string) ([]runTarget, error) {
	if len(path) == 1 {
		abs, err := absPath(path[0])
		if err != nil {
			return nil, err
		}
		loc, rel, err := lib.Store.LocationFor(ctx, abs)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("%s is not in a location of library %s (`cairn location add` it first)", abs, lib.Name)
			}
			return nil, err
		}
		return []runTarget{{loc: loc, subtree: rel}}, nil
	}
	locs, err := lib.Store.Locations(ctx)
	if err != nil {
		return nil, err
	}
	if len(locs) == 0 {
		return nil, fmt.Errorf("library %s has no locations", lib.Name)
	}
	out := make([]runTarget, len(locs))
	for i := range locs {
		out[i] = runTarget{loc: &locs[i]}
	}
	return out, nil
}

// StageStatus is the ledger of one stage of a location's pipeline.
type StageStatus struct {
	Location string `json:"location"`
	Pipeline string `json:"pipeline"`
	store.StageCounts
	Version int `json:"version"`
	// Pending is what `pipeline run` would hand to the stage now: counted with the run's own
	// selection (types, sizes and paths).
	Pending  int64          `json:"pending"`
	Failures []stageFailure `json:"failures,omitempty"`
	// Tools are the missing tools the contents counted in missing_tool wait for.
	Tools []pipeline.ToolCount `json:"missing_tools,omitempty"`
}

func pipelineStatus(ctx context.Context, a *app, f pipelineFlags, pos []string) error {
	if len(pos) > 2 {
		return usagef("usage: cairn pipeline status [NAME] [PATH]")
	}
	ps, lerr := loadPipelines(a, f.files...)
	name := ""
	if len(pos) > 0 {
		if _, ok := ps[pos[0]]; ok || len(pos) == 2 {
			name, pos = pos[0], pos[1:]
		}
	}
	return withHost(ctx, a, false, func(lib *library.Library, lh *libHost) error {
		targets, err := runTargets(ctx, lib, pos)
		if err != nil {
			return err
		}
		for _, t := range targets {
			pn := name
			if pn == "" {
				pn = locationPipeline(t.loc)
			}
			if pn == "" {
				if !f.json {
					fmt.Fprintf(a.stdout, "%s: no pipeline (cairn location add --pipeline NAME)\n", t.loc.Path)
				}
				continue
			}
			p, err := pickPipeline(ps, lerr, pn)
			if err != nil {
				return fmt.Errorf("%s: %w", t.loc.Path, err)
			}
			steps, _, err := buildSteps(lh, p, "")
			if err != nil {
				return err
			}
			if !f.json {
				fmt.Fprintf(a.stdout, "%s: pipeline %s\n  %-20s %-4s %9s %9s %9s\n", t.loc.Path, pn, "stage", "ver", "done", "failed", "pending")
			}
			var notes []string
			for _, st := range steps {
				c, err := lib.Store.CountStage(ctx, t.loc.ID, st.Stage.ID(), st.Stage.Version(), st.Types)
				if err != nil {
					return err
				}
				s := StageStatus{Location: t.loc.Path, Pipeline: pn, StageCounts: c, Version: st.Stage.Version()}
				if s.Pending, err = pipeline.Pending(ctx, lib.Store, t.loc, st, false, 0); err != nil {
					return err
				}
				// Contents waiting for a missing tool are offered again by every run, but they
				// are their own column (missing_tool), not pending work.
				s.Pending = max(0, s.Pending-c.MissingTool)
				if c.MissingTool > 0 {
					if s.Tools, err = missingTools(ctx, lib, t.loc, st); err != nil {
						return err
					}
				}
				if f.failed > 0 && c.Failed > 0 {
					if s.Failures, err = failuresByPath(ctx, lib, t.loc, st.Stage.ID(), 0, f.failed); err != nil {
						return err
					}
				}
				if f.json {
					if err := a.jsonLine(s); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintf(a.stdout, "  %-20s v%-3d %9d %9d %9d\n", c.Stage, s.Version, c.Done, c.Failed, s.Pending)
				for _, fl := range s.Failures {
					fmt.Fprintf(a.stdout, "      failed %s\n", fl)
				}
				for _, tc := range s.Tools {
					pkg := ""
					if tc.Package != "" {
						pkg = " (Debian package " + tc.Package + ")"
					}
					notes = append(notes, fmt.Sprintf("%s: %s %s for %s, which is not installed%s; every run offers them again",
						c.Stage, plural(tc.Count, "content"), map[bool]string{true: "waits", false: "wait"}[tc.Count == 1], tc.Tool, pkg))
				}
			}
			for _, n := range notes {
				fmt.Fprintf(a.stdout, "  note: %s\n", n)
			}
		}
		return nil
	})
}

// loadFile parses one pipeline file.
func loadFile(path string) (*pipedef.File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading pipelines: %w", err)
	}
	return pipedef.Parse(path, b)
}

// missingTools are the tools a step's contents wait for, from the ledger's error texts.
func missingTools(ctx context.Context, lib *library.Library, loc *store.Location, st pipeline.Step) ([]pipeline.ToolCount, error) {
	errs, err := lib.Store.StageErrors(ctx, loc.ID, st.Stage.ID(), st.Stage.Version(), pipeline.StatusMissingTool)
	if err != nil {
		return nil, err
	}
	var out []pipeline.ToolCount
	for _, e := range errs {
		mt := pipeline.ParseMissingTool(e.Error)
		if mt == nil {
			mt = &pipeline.MissingToolError{Tool: "an unnamed tool"}
		}
		i := 0
		for i < len(out) && out[i].Tool != mt.Tool {
			i++
		}
		if i == len(out) {
			out = append(out, pipeline.ToolCount{Tool: mt.Tool, Package: mt.Package})
		}
		out[i].Count += e.Count
	}
	return out, nil
}
