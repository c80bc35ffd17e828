package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cairnfs/cairn/core/pipeline"
	"github.com/cairnfs/cairn/core/store"
	"github.com/cairnfs/cairn/schemas/manifest"
	pipedef "github.com/cairnfs/cairn/schemas/pipeline"
)

// noPipeline is the pipeline name that runs nothing after indexing.
const noPipeline = "none"

// pipelineDir holds the user's pipeline files: every *.toml in it is read.
func (a *app) pipelineDir() string { return filepath.Join(a.home.Dir, "pipelines") }

// loadPipelines reads the built-in default and every user pipeline file (plus extra files),
// keyed by name. A user pipeline may replace the built-in default by defining "default".
func loadPipelines(a *app, extra ...string) (map[string]*pipedef.Pipeline, error) {
	out := map[string]*pipedef.Pipeline{}
	for _, p := range pipedef.Default().Pipelines {
		out[p.Name] = p
	}
	files, _ := filepath.Glob(filepath.Join(a.pipelineDir(), "*.toml"))
	sort.Strings(files)
	files = append(files, extra...)
	var errs []error
	seen := map[string]string{}
	for _, f := range files {
		pf, err := loadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range pf.Pipelines {
			if prev, dup := seen[p.Name]; dup {
				errs = append(errs, fmt.Errorf("%s:%d: pipeline %q is also defined in %s", f, p.Line, p.Name, prev))
				continue
			}
			seen[p.Name] = f
			out[p.Name] = p
		}
	}
	return out, errors.Join(errs...)
}

// pickPipeline returns the pipeline called name from what loadPipelines returned; when there is
// none, the error says why: the load error (a broken file may be the one defining it), or the
// names that are known.
func pickPipeline(ps map[string]*pipedef.Pipeline, loadErr error, name string) (*pipedef.Pipeline, error) {
	if p, ok := ps[name]; ok {
		return p, nil
	}
	if loadErr != nil {
		return nil, loadErr
	}
	return nil, fmt.Errorf("unknown pipeline %q (known: %s; see `cairn pipeline list`)", name, strings.Join(pipelineNames(ps), ", "))
}

// pipelineNames lists the names, sorted.
func pipelineNames(ps map[string]*pipedef.Pipeline) []string {
	var names []string
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// buildSteps resolves p against the host's stages into runnable steps, in dependency order.
// subtree, if not "", limits every step to that folder of the location.
func buildSteps(lh *libHost, p *pipedef.Pipeline, subtree string) ([]pipeline.Step, []pipedef.Step, error) {
	for _, st := range p.Stages {
		if _, ok := lh.stages[st.Stage]; !ok {
			return nil, nil, fmt.Errorf("%s:%d: pipeline %q, stage %s: %s", p.Source, st.Line, p.Name, st.Stage, lh.why(st.Stage))
		}
	}
	resolved, err := p.Resolve(lh)
	if err != nil {
		return nil, nil, err
	}
	steps := make([]pipeline.Step, 0, len(resolved))
	for _, st := range resolved {
		es, err := lh.stages[st.Stage].WithConfig(st.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %w", p.Source, st.Line, err)
		}
		mf := es.Manifest().Filter
		steps = append(steps, pipeline.Step{Stage: es, Types: typeFilter(st.Filter, mf), Accept: accept(st.Filter, mf, subtree),
			CallSize: es.Manifest().Batch, Record: sidecarRecorder(es.Extension(), es.Manifest().Produces)})
	}
	return steps, resolved, nil
}

// typeFilter is the type and size part of a step's selection: the step's filter and its stage's
// manifest filter must both pass (either may name no types: it then passes every type), and the
// size is within both ranges. The database evaluates all of it, for runs and statuses alike.
func typeFilter(f pipedef.Filter, m manifest.Filter) store.TypeFilter {
	t := store.TypeFilter{MinSize: max(f.MinSize, m.MinSize), MaxSize: f.MaxSize,
		Types: []store.TypeSet{{Kinds: f.Kinds, Mimes: f.Mimes}, {Kinds: m.Kinds, Mimes: m.Mimes}}}
	if m.MaxSize > 0 && (t.MaxSize == 0 || m.MaxSize < t.MaxSize) {
		t.MaxSize = m.MaxSize
	}
	return t
}

// accept is the path part of a step's selection (the step's globs, the manifest's globs, the
// subtree a run is limited to), or nil when there is none.
func accept(f pipedef.Filter, m manifest.Filter, subtree string) func(rel string) bool {
	if subtree == "" && len(f.Globs) == 0 && len(f.ExcludeGlobs) == 0 && len(m.Globs) == 0 {
		return nil
	}
	mf := pipedef.Filter{Globs: m.Globs}
	return func(rel string) bool {
		if subtree != "" && rel != subtree && !strings.HasPrefix(rel, subtree+"/") {
			return false
		}
		return f.MatchPath(rel) && mf.MatchPath(rel)
	}
}

// locationPipeline is the pipeline a location runs after indexing ("" when none).
func locationPipeline(loc *store.Location) string {
	if p := loc.Config.Pipeline; p != "" && p != noPipeline {
		return p
	}
	return ""
}

// defaultPipelineName is the pipeline new locations get: $CAIRN_DEFAULT_PIPELINE, else "default".
func defaultPipelineName() string {
	if p := os.Getenv("CAIRN_DEFAULT_PIPELINE"); p != "" {
		return p
	}
	return "default"
}

// checkPipelineName fails unless name is "none" or a known pipeline.
func checkPipelineName(a *app, name string) error {
	if name == noPipeline {
		return nil
	}
	ps, err := loadPipelines(a)
	if _, err := pickPipeline(ps, err, name); err != nil {
		return fmt.Errorf("%w (or %q for no pipeline)", err, noPipeline)
	}
	return nil
}

// sidecarRecorder keeps the sidecar table in step with a stage that produces sidecars
// ("sidecar:<kind>"): a failure is recorded as a failed sidecar of that kind, with the error.
func sidecarRecorder(ext string, produces []string) func(context.Context, *sql.Tx, pipeline.Item, error) error {
	var kinds []string
	for _, p := range produces {
		if k, ok := strings.CutPrefix(p, "sidecar:"); ok {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	return func(ctx context.Context, tx *sql.Tx, it pipeline.Item, err error) error {
		for _, k := range kinds {
			if e := store.SidecarFailed(ctx, tx, it.ContentID, k, ext, err); e != nil {
				return e
			}
		}
		return nil
	}
}
