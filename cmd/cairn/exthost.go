package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/host"
	"github.com/cairnfs/cairn/host/capability"
	"github.com/cairnfs/cairn/host/ext"
	"github.com/cairnfs/cairn/host/modules"
	"github.com/cairnfs/cairn/host/wasm"
	"github.com/cairnfs/cairn/internal/firstparty"
	"github.com/cairnfs/cairn/schemas/manifest"
	pipedef "github.com/cairnfs/cairn/schemas/pipeline"
)

// libHost is a library's extension host with the first-party extensions (embedded in the
// binary) and the installed ones loaded. It is the catalog pipelines resolve against.
type libHost struct {
	h       *host.Host
	stages  map[string]*modules.ExtStage
	missing map[string]string // extension or stage id → why it is not available
	sources map[string]string // extension id → "first-party" or "installed"
}

// firstPartyLimits are the limits of first-party extensions: decoding a large photo or PDF in
// WASM needs more memory and time than the defaults.
var firstPartyLimits = host.Limits{
	Call: ext.Limits{Timeout: 2 * time.Minute},
	WASM: wasm.Limits{MemoryLimitPages: 16384}, // 1 GiB
}

// startHost loads every extension the library can run. Problems with one extension (a failed
// build, a bad install) are recorded in missing and reported by the pipeline that needs it.
func startHost(ctx context.Context, a *app, lib *library.Library) (*libHost, error) {
	logLevel := slog.LevelWarn
	if os.Getenv("CAIRN_DEBUG") != "" {
		logLevel = slog.LevelDebug
	}
	h, err := host.New(host.Config{Store: lib.Store, LibraryDir: lib.Dir, DeviceID: lib.DeviceID, Bus: lib.Bus,
		CacheDir: filepath.Join(a.home.Dir, "cache", "wasm"), Trampoline: selfExecutable(),
		Logger: slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: logLevel}))})
	if err != nil {
		return nil, err
	}
	lh := &libHost{h: h, stages: map[string]*modules.ExtStage{}, missing: map[string]string{}, sources: map[string]string{}}
	installed := map[string]bool{}
	if env, err := a.extEnv(); err == nil {
		list, err := env.store.List()
		if err != nil {
			lh.missing["installed extensions"] = err.Error()
		}
		for _, x := range list {
			installed[x.ID] = true
			spec := host.Spec{Manifest: x.Manifest, Dir: x.Path, Grant: grantOf(x.Grants), Config: extConfig(a, lib, x.ID)}
			if _, err := h.Load(ctx, spec); err != nil {
				lh.missing[x.ID] = err.Error()
				continue
			}
			lh.sources[x.ID] = "installed"
		}
	}
	if os.Getenv("CAIRN_NO_FIRST_PARTY") == "" {
		mods, fails := firstPartyModules(ctx, a)
		for _, f := range fails {
			lh.missing[f.Dir] = f.Err.Error()
		}
		for _, b := range mods {
			if installed[b.Manifest.ID] {
				continue // an installed version wins over the built-in one
			}
			spec := host.Spec{Manifest: b.Manifest, Wasm: b.Wasm, Grant: grantAll(b.Manifest),
				Config: extConfig(a, lib, b.Manifest.ID), Limits: firstPartyLimits}
			if b.Manifest.Kind == manifest.KindProcess {
				if b.Path != "" { // built from source
					spec.Dir = filepath.Dir(b.Path)
				} else if path, args, err := firstparty.NativeExec(b.ID); err != nil {
					lh.missing[b.ID] = err.Error()
					continue
				} else {
					spec.Exec = &host.Exec{Path: path, Args: args}
				}
			}
			if _, err := h.Load(ctx, spec); err != nil {
				lh.missing[b.Manifest.ID] = err.Error()
				continue
			}
			lh.sources[b.Manifest.ID] = "first-party"
		}
	}
	for _, info := range h.Registry().List("stage.") {
		st, err := h.Registry().Stage(info.ID)
		if err != nil {
			continue
		}
		if es, ok := st.(*modules.ExtStage); ok {
			lh.stages[info.ID] = es
		}
	}
	return lh, nil
}

// selfExecutable is this binary, the sandbox trampoline of native extensions (main runs
// sandbox.Main); "" when it cannot be found, and native extensions then run unsandboxed, which
// the host logs.
func selfExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	return exe
}

// firstPartyModules are the first-party extensions: those embedded in this binary, or with
// CAIRN_FIRSTPARTY=source (for developers) built from the source tree ($CAIRN_SOURCE or the
// tree this binary was built from) into a cache, once per source change.
func firstPartyModules(ctx context.Context, a *app) ([]firstparty.Module, []firstparty.Failure) {
	switch mode := os.Getenv("CAIRN_FIRSTPARTY"); mode {
	case "", "embedded":
		mods, err := firstparty.Embedded()
		if err != nil {
			return nil, []firstparty.Failure{{Dir: "first-party extensions", Err: err}}
		}
		return mods, nil
	case "source":
		root, err := firstparty.SourceRoot()
		if err != nil {
			return nil, []firstparty.Failure{{Dir: "first-party extensions", Err: err}}
		}
		cache := os.Getenv("CAIRN_FIRSTPARTY_CACHE") // shared between homes (tests)
		if cache == "" {
			cache = filepath.Join(a.home.Dir, "cache", "firstparty")
		}
		return firstparty.FromSource(ctx, root, cache, a.stderr)
	default:
		return nil, []firstparty.Failure{{Dir: "first-party extensions", Err: fmt.Errorf("CAIRN_FIRSTPARTY=%s: want embedded or source", mode)}}
	}
}

// Close unloads every extension.
func (lh *libHost) Close() { lh.h.Close(context.Background()) }

// Stage implements pipedef.Catalog.
func (lh *libHost) Stage(id string) (pipedef.StageInfo, bool) {
	s, ok := lh.stages[id]
	if !ok {
		return pipedef.StageInfo{}, false
	}
	m := s.Manifest()
	return pipedef.StageInfo{ID: id, Extension: s.Extension(), Version: m.Version, Consumes: m.Consumes,
		Produces: m.Produces, ConfigSchema: s.ConfigSchema()}, true
}

// why says why a stage is not available, naming what failed to load.
func (lh *libHost) why(stage string) string {
	if len(lh.missing) == 0 {
		return "no loaded extension contributes it"
	}
	var parts []string
	for k, v := range lh.missing {
		parts = append(parts, k+": "+firstLine(v))
	}
	sort.Strings(parts)
	return "no loaded extension contributes it (not loaded: " + strings.Join(parts, "; ") + ")"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// grantAll grants a first-party extension everything it requests, over every location.
func grantAll(m *manifest.Manifest) capability.Grant {
	g := capability.Grant{}
	for c, sc := range m.Capabilities {
		if c == capability.ContentRead || c == capability.EntriesRead {
			sc.Locations = []string{capability.AllLocations}
		}
		g[c] = sc
	}
	return g
}

// grantOf turns an installed extension's granted capability names into a grant over every
// location (scopes narrower than the manifest's are not recorded by the install store yet).
func grantOf(names []string) capability.Grant {
	g := capability.Grant{}
	for _, c := range names {
		sc := manifest.Scope{}
		if c == capability.ContentRead || c == capability.EntriesRead {
			sc.Locations = []string{capability.AllLocations}
		}
		g[c] = sc
	}
	return g
}

// extConfig is an extension's configuration. For the file-type extension it carries the
// user's own type definitions: every *.toml in $CAIRN_HOME/filetypes and <library>/filetypes.
func extConfig(a *app, lib *library.Library, id string) json.RawMessage {
	if id != "dev.cairn.filetype" {
		return nil
	}
	var defs []string
	for _, dir := range []string{filepath.Join(a.home.Dir, "filetypes"), filepath.Join(lib.Dir, "filetypes")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.toml"))
		sort.Strings(files)
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				defs = append(defs, string(b))
			} else {
				fmt.Fprintf(a.stderr, "cairn: skipping file-type definitions %s: %v\n", f, err)
			}
		}
	}
	if len(defs) == 0 {
		return nil
	}
	b, _ := json.Marshal(map[string]any{"definitions": defs})
	return b
}
