package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cairnfs/cairn/core/library"
	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "sidecar", summary: "list, locate or regenerate sidecars (thumbnails, extracted text, …)", run: runSidecar,
		usage: []string{
			"sidecar ls PATH [--kind K]\tthe sidecars of a file, or of every file below a folder",
			"sidecar path PATH --kind K [--variant V]\tthe file of one sidecar (the largest variant unless --variant)",
			"sidecar regenerate PATH [--kind K]\tmake the sidecars of a file or folder again now",
		},
		about: "Sidecars are files derived from a content (thumbnails, extracted text, …), stored once per content under the " +
			"library's sidecars/ folder, whatever the number of copies. A content that needs no derived copy is its own " +
			"sidecar (storage \"content\": a plain UTF-8 text file is its own text, a small image its own thumbnail); its " +
			"path is then the file itself. regenerate forgets them and runs the stages of the " +
			"location's pipeline that produce them.",
		examples: []string{"cairn sidecar ls ~/Pictures/cat.jpg", "cairn sidecar path ~/Pictures/cat.jpg --kind thumb"}})
}

func runSidecar(ctx context.Context, a *app, args []string) error {
	fs := newFlags("sidecar", a)
	asJSON := fs.Bool("json", false, "print JSON lines")
	kind := fs.String("kind", "", "sidecar kind, e.g. thumb or text")
	variant := fs.String("variant", "", "path: the variant, e.g. 256")
	noProgress := fs.Bool("no-progress", false, "regenerate: do not draw a progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("sidecar takes a command (ls, path or regenerate) and a PATH")
	}
	switch pos[0] {
	case "ls":
		lib, err := a.open(ctx, false, false)
		if err != nil {
			return err
		}
		defer lib.Close()
		n := 0
		err = eachContent(ctx, lib, pos[1], func(path string, contentID int64) error {
			scs, err := lib.Store.SidecarsOf(ctx, contentID, *kind)
			if err != nil {
				return err
			}
			for _, sc := range scs {
				n++
				if err := printSidecar(a, lib, path, sc, *asJSON); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil && n == 0 && !*asJSON {
			fmt.Fprintln(a.stderr, "no sidecars (a location's pipeline makes them: `cairn pipeline status`)")
		}
		return err
	case "path":
		if *kind == "" {
			return usagef("sidecar path needs --kind (e.g. --kind thumb)")
		}
		lib, err := a.open(ctx, false, false)
		if err != nil {
			return err
		}
		defer lib.Close()
		loc, l, err := find(ctx, lib, pos[1])
		if err != nil {
			return err
		}
		if l.ContentID == 0 {
			return fmt.Errorf("%s has no content identity yet, so no sidecars", loc.Abs(l.Rel))
		}
		scs, err := lib.Store.SidecarsOf(ctx, l.ContentID, *kind)
		if err != nil {
			return err
		}
		var best *store.Sidecar
		for i := range scs {
			sc := &scs[i]
			if sc.Status != "ready" || (*variant != "" && sc.Variant != *variant) {
				continue
			}
			best = sc // ordered by variant length then text: the last is the largest
		}
		if best == nil {
			return fmt.Errorf("%s has no ready %s sidecar%s (`cairn sidecar ls %s`)", loc.Abs(l.Rel), *kind, variantText(*variant), pos[1])
		}
		fmt.Fprintln(a.stdout, best.File(lib.Dir, loc.Abs(l.Rel))) // a sidecar stored as the content: the file itself
		return nil
	case "regenerate":
		return sidecarRegenerate(ctx, a, pos[1], *kind, *asJSON, *noProgress)
	}
	return usagef("unknown sidecar command %q", pos[0])
}

func variantText(v string) string {
	if v == "" {
		return ""
	}
	return " variant " + v
}

func printSidecar(a *app, lib *library.Library, path string, sc store.Sidecar, asJSON bool) error {
	sj := toSidecarJSON(lib, sc, path)
	if asJSON {
		return a.jsonLine(struct {
			File        string `json:"file"`
			ContentUUID string `json:"content_uuid"`
			sidecarJSON
			Devices []string `json:"devices,omitempty"`
		}{path, sc.ContentUUID, sj, sc.Devices})
	}
	line := fmt.Sprintf("%s\t%s/%s\t%s\t%s", shown(path), sc.Kind, sc.Variant, sc.Status, humanBytes(sc.Size))
	if sj.Path != "" {
		line += "\t" + sj.Path
	}
	if sc.Error != "" {
		line += "\t" + firstLine(sc.Error)
	}
	fmt.Fprintln(a.stdout, line)
	return nil
}

// eachContent calls fn for the file at path, or for every file with a content below the folder
// at path.
func eachContent(ctx context.Context, lib *library.Library, path string, fn func(path string, contentID int64) error) error {
	loc, l, err := find(ctx, lib, path)
	if err != nil {
		return err
	}
	if l.Kind != store.KindDir {
		if l.ContentID == 0 {
			return fmt.Errorf("%s has no content identity yet, so no sidecars", loc.Abs(l.Rel))
		}
		return fn(loc.Abs(l.Rel), l.ContentID)
	}
	for e, err := range lib.Store.Subtree(ctx, loc, l.Rel) {
		if err != nil {
			return err
		}
		if e.ContentID != 0 {
			if err := fn(loc.Abs(e.Rel), e.ContentID); err != nil {
				return err
			}
		}
	}
	return nil
}

// sidecarRegenerate forgets the ledger of the stages that make the sidecars (of kind, or of
// every sidecar kind) for the contents at path, marks the sidecars pending, then runs the
// location's pipeline over path, which redoes exactly that work.
func sidecarRegenerate(ctx context.Context, a *app, path, kind string, asJSON, noProgress bool) error {
	return withHost(ctx, a, true, func(lib *library.Library, lh *libHost) error {
		loc, l, err := find(ctx, lib, path)
		if err != nil {
			return err
		}
		name := locationPipeline(loc)
		if name == "" {
			name = "default"
		}
		ps, lerr := loadPipelines(a)
		p, err := pickPipeline(ps, lerr, name)
		if err != nil {
			return fmt.Errorf("the location's pipeline: %w", err)
		}
		_, resolved, err := buildSteps(lh, p, "")
		if err != nil {
			return err
		}
		var ids []int64
		if err := eachContent(ctx, lib, path, func(_ string, id int64) error { ids = append(ids, id); return nil }); err != nil {
			return err
		}
		forgot := 0
		for _, st := range resolved {
			info, _ := lh.Stage(st.Stage)
			for _, pr := range info.Produces {
				k, isSidecar := strings.CutPrefix(pr, "sidecar:")
				if !isSidecar || (kind != "" && k != kind) {
					continue
				}
				if _, err := lib.Store.ForgetStage(ctx, loc.ID, st.Stage, ids); err != nil {
					return err
				}
				if _, err := lib.Store.MarkSidecarsPending(ctx, k, ids); err != nil {
					return err
				}
				forgot++
			}
		}
		if forgot == 0 {
			return fmt.Errorf("no stage of pipeline %s makes %s sidecars", name, orDash(kind))
		}
		sum, err := runPipelineOn(ctx, a, lib, lh, p, loc, l.Rel, pipelineFlags{json: asJSON, noProgress: noProgress})
		if asJSON {
			a.jsonLine(sum)
		} else {
			printPipelineSummary(a, sum)
		}
		return err
	})
}
