package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnfs/cairn/core/cas"
	"github.com/cairnfs/cairn/core/jobs"
	"github.com/cairnfs/cairn/core/store"
)

func init() {
	register(command{name: "verify", summary: "check files against their full-file BLAKE3 (computed and stored on first run)", run: runVerify,
		usage: []string{"verify [PATH] [--json] [--all]"},
		about: "Hashes every identified file under PATH (default: all locations) in full with BLAKE3. The first run records " +
			"the hash; later runs report files whose bytes changed (mismatch), and files changed since they were indexed " +
			"(changed). Exits 1 when a check fails.",
		examples: []string{"cairn verify ~/Pictures", "cairn verify --json --all"}})
}

type verifyJSON struct {
	Path     string `json:"path"`
	CasID    string `json:"cas_id"`
	Status   string `json:"status"` // ok, recorded, mismatch, changed, error
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	Error    string `json:"error,omitempty"`
}

var errMismatch = errors.New("integrity check failed")

func runVerify(ctx context.Context, a *app, args []string) error {
	fs := newFlags("verify", a)
	asJSON := fs.Bool("json", false, "print one JSON line per problem (and per file with --all), then a summary line")
	all := fs.Bool("all", false, "report every file, not only problems")
	noProgress := fs.Bool("no-progress", false, "do not draw a progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("verify takes at most one PATH")
	}
	lib, err := a.open(ctx, true, false)
	if err != nil {
		return err
	}
	defer lib.Close()
	type target struct {
		loc *store.Location
		rel string
		top *store.Listed
	}
	var targets []target
	if len(pos) == 1 {
		loc, top, err := find(ctx, lib, pos[0])
		if err != nil {
			return err
		}
		targets = append(targets, target{loc, top.Rel, top})
	} else {
		locs, err := lib.Store.Locations(ctx)
		if err != nil {
			return err
		}
		for i := range locs {
			targets = append(targets, target{loc: &locs[i]})
		}
	}
	bar := newProgressBar(a.stderr, !*noProgress && !*asJSON)
	sm := cas.NewSampler()
	var n, ok, recorded, problems int64
	start := time.Now()
	check := func(loc *store.Location, l *store.Listed) error {
		if l.Kind != store.KindFile || l.ContentID == 0 {
			return nil
		}
		n++
		bar.update(jobs.Progress{Phase: "verify", Done: n})
		p := loc.Abs(l.Rel)
		c, err := lib.Store.ContentByID(ctx, l.ContentID)
		if err != nil {
			return err
		}
		r := verifyJSON{Path: p, CasID: c.CasID}
		casNow, _, err := sm.SumFile(p)
		var sum string
		if err == nil {
			sum, _, err = cas.FullHashFile(ctx, p)
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			r.Status, r.Error = "error", err.Error()
		case casNow != c.CasID:
			r.Status, r.Expected, r.Actual = "changed", c.CasID, casNow
		case c.IntegrityHash == "":
			if err := lib.Store.SetIntegrity(ctx, c.ID, cas.AlgoFull, sum); err != nil {
				return err
			}
			r.Status, r.Actual = "recorded", sum
		case c.IntegrityHash != sum:
			r.Status, r.Expected, r.Actual = "mismatch", c.IntegrityHash, sum
		default:
			r.Status = "ok"
		}
		switch r.Status {
		case "ok":
			ok++
		case "recorded":
			recorded++
		default:
			problems++
		}
		if r.Status != "ok" && r.Status != "recorded" || *all {
			bar.done()
			if *asJSON {
				return a.jsonLine(r)
			}
			detail := r.Error
			if r.Expected != "" {
				detail = fmt.Sprintf("expected %s, found %s", r.Expected, r.Actual)
			}
			fmt.Fprintf(a.stdout, "%-8s %s %s\n", r.Status, p, detail)
		}
		return nil
	}
	for _, t := range targets {
		if t.top != nil && t.top.Kind != store.KindDir {
			if err := check(t.loc, t.top); err != nil {
				return err
			}
			continue
		}
		for l, err := range lib.Store.Subtree(ctx, t.loc, t.rel) {
			if err != nil {
				return err
			}
			if err := check(t.loc, &l); err != nil {
				return err
			}
		}
	}
	bar.done()
	if *asJSON {
		if err := a.jsonLine(map[string]any{"summary": true, "files": n, "ok": ok, "recorded": recorded, "problems": problems,
			"duration_ms": time.Since(start).Milliseconds()}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.stdout, "verified %d files: %d ok, %d recorded for the first time, %d problems\n", n, ok, recorded, problems)
	}
	if problems > 0 {
		return fmt.Errorf("%w: %d of %d files", errMismatch, problems, n)
	}
	return nil
}
