package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cairnfs/cairn/core/index"
	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "location", summary: "add, list or remove indexed folders", run: runLocation,
		usage: []string{
			"location add PATH [--mode shallow|content|deep] [--pipeline NAME]\tadd a folder to the library",
			"location list [--json]\tthe locations, with their counts",
			"location remove PATH\tforget a location (not your files)",
			"location pipeline PATH NAME\tset the pipeline a location runs after indexing",
		},
		about: "A location is a folder the library indexes. Its mode says how deep: shallow (names, sizes, times), content " +
			"(plus a content id per file) or deep (plus the pipeline's stages).",
		examples: []string{"cairn location add ~/Pictures --mode content", "cairn location list --json", "cairn location remove ~/Pictures"}})
}

type locationJSON struct {
	ID            int64  `json:"id"`
	UUID          string `json:"uuid"`
	Path          string `json:"path"`
	Mode          string `json:"mode"`
	Pipeline      string `json:"pipeline,omitempty"`
	State         string `json:"state"`
	LastIndexedAt string `json:"last_indexed_at,omitempty"`
	Files         int64  `json:"files"`
	Dirs          int64  `json:"dirs"`
	Symlinks      int64  `json:"symlinks"`
	Bytes         int64  `json:"bytes"`
}

func runLocation(ctx context.Context, a *app, args []string) error {
	fs := newFlags("location", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	mode := fs.String("mode", store.ModeContent, "index mode for add: shallow, content or deep")
	var cfg store.LocationConfig
	fs.BoolVar(&cfg.IgnoreHidden, "ignore-hidden", false, "add: skip hidden files and folders (names starting with '.')")
	fs.BoolVar(&cfg.NoIgnore, "no-ignore", false, "add: index everything (no system, VCS, dev, NAS or .gitignore rules)")
	fs.Func("ignore", "add: an extra ignore pattern in .gitignore syntax (repeatable)", func(v string) error {
		cfg.Ignore = append(cfg.Ignore, v)
		return nil
	})
	pipelineName := fs.String("pipeline", "", "add: the pipeline that cairn index runs after indexing (default: $CAIRN_DEFAULT_PIPELINE or \"default\"; \"none\" for none)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing subcommand: add PATH, list, remove PATH")
	}
	switch pos[0] {
	case "add":
		if len(pos) != 2 {
			return usagef("usage: cairn location add PATH [--mode shallow|content|deep]")
		}
		if !store.ValidMode(*mode) {
			return usagef("unknown mode %q: shallow, content or deep", *mode)
		}
		if _, err := absPath(pos[1]); err != nil {
			return err
		}
		cfg.Pipeline = *pipelineName
		if cfg.Pipeline == "" {
			cfg.Pipeline = defaultPipelineName()
		}
		if err := checkPipelineName(a, cfg.Pipeline); err != nil {
			return err
		}
		lib, err := a.open(ctx, true, false)
		if err != nil {
			return err
		}
		defer lib.Close()
		loc, err := addLocation(ctx, lib, pos[1], *mode, cfg)
		if err != nil {
			return err
		}
		if *asJSON {
			return a.jsonLine(locJSON(ctx, lib, loc))
		}
		fmt.Fprintf(a.stdout, "added location %s (mode %s, pipeline %s); run `cairn index` to index it\n", loc.Path, loc.IndexMode, cfg.Pipeline)
	case "pipeline":
		if len(pos) != 3 {
			return usagef("usage: cairn location pipeline PATH NAME")
		}
		if err := checkPipelineName(a, pos[2]); err != nil {
			return err
		}
		lib, err := a.open(ctx, true, false)
		if err != nil {
			return err
		}
		defer lib.Close()
		p, err := absPath(pos[1])
		if err != nil {
			return err
		}
		loc, err := lib.Store.LocationByPath(ctx, p)
		if err != nil {
			return fmt.Errorf("%s is not a location of library %s: %w", p, lib.Name, err)
		}
		loc.Config.Pipeline = pos[2]
		if err := lib.Store.SetLocationConfig(ctx, loc.ID, loc.Config); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "location %s now runs pipeline %s after indexing\n", loc.Path, pos[2])
	case "list":
		lib, err := a.open(ctx, false, false)
		if err != nil {
			return err
		}
		defer lib.Close()
		locs, err := lib.Store.Locations(ctx)
		if err != nil {
			return err
		}
		for i := range locs {
			j := locJSON(ctx, lib, &locs[i])
			if *asJSON {
				if err := a.jsonLine(j); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(a.stdout, "%-8s %-8s %8d files %10s  %s\n", j.Mode, j.State, j.Files, humanBytes(j.Bytes), j.Path)
		}
	case "remove":
		if len(pos) != 2 {
			return usagef("usage: cairn location remove PATH")
		}
		lib, err := a.open(ctx, true, false)
		if err != nil {
			return err
		}
		defer lib.Close()
		p, err := absPath(pos[1])
		if err != nil {
			p = pos[1] // a location whose folder is gone can still be removed
		}
		loc, err := lib.Store.LocationByPath(ctx, p)
		if err != nil {
			return err
		}
		if err := lib.Store.RemoveLocation(ctx, loc.ID); err != nil {
			return err
		}
		if *asJSON {
			return a.jsonLine(map[string]any{"path": loc.Path, "removed": true})
		}
		fmt.Fprintf(a.stdout, "removed location %s (its files on disk are untouched)\n", loc.Path)
	default:
		return usagef("unknown subcommand %q: add, list, remove, pipeline", pos[0])
	}
	return nil
}

// addLocation validates path and records it as a location.
func addLocation(ctx context.Context, lib *library.Library, path, mode string, cfg store.LocationConfig) (*store.Location, error) {
	if !store.ValidMode(mode) {
		return nil, usagef("unknown mode %q: shallow, content or deep", mode)
	}
	p, err := absPath(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("adding location: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("adding location %s: not a directory", p)
	}
	if _, err := lib.Store.LocationByPath(ctx, p); err == nil {
		return nil, fmt.Errorf("%s is already a location of library %s", p, lib.Name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	locs, err := lib.Store.Locations(ctx)
	if err != nil {
		return nil, err
	}
	for i := range locs {
		if _, inside := locs[i].Rel(p); inside {
			return nil, fmt.Errorf("%s is inside location %s already", p, locs[i].Path)
		}
		probe := locs[i]
		probe.Path = p
		if _, contains := probe.Rel(locs[i].Path); contains {
			return nil, fmt.Errorf("%s contains location %s: remove that one first", p, locs[i].Path)
		}
	}
	if _, err := index.RulesFor(cfg); err != nil {
		return nil, err
	}
	return lib.Store.AddLocation(ctx, lib.DeviceID, p, mode, cfg)
}

func locJSON(ctx context.Context, lib *library.Library, l *store.Location) locationJSON {
	j := locationJSON{ID: l.ID, UUID: l.UUID, Path: l.Path, Mode: l.IndexMode, State: l.ScanState, Pipeline: l.Config.Pipeline}
	if l.LastIndexedAt != 0 {
		j.LastIndexedAt = time.Unix(0, l.LastIndexedAt).UTC().Format(time.RFC3339)
	}
	if c, err := lib.Store.LocationCounts(ctx, l.ID); err == nil {
		j.Files, j.Dirs, j.Symlinks, j.Bytes = c.Files, c.Dirs, c.Symlinks, c.Bytes
	}
	return j
}
